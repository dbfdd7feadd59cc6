"""Redshift aggregate functions (SQL reference: "Aggregate functions", "Window functions").

- AVG: of an integer type a BIGINT, the fraction dropped; of DECIMAL(p, s) the average truncated to scale s
  (the PIVOT examples: AVG of 2.50, 3.75, 1.90 is 2.71), typed DECIMAL(38, s). PostgreSQL reports it as numeric
  with the value cut to scale s; DuckDB computes it from sum and count in the sum's type (cast_to_type), and
  refuses an average beyond 15 significant digits (its decimal division is a DOUBLE). A PIVOT's AVG is one of
  these (pivots.py rewrites PIVOT to plain aggregates first).
- SUM: of SMALLINT, INTEGER or BIGINT a BIGINT (PostgreSQL's sum(bigint) is numeric: `sum(x) / 60` would not be
  an integer division), of REAL a DOUBLE PRECISION.
- LISTAGG: no delimiter means none (DuckDB's default is a comma), values of any type, DISTINCT, WITHIN GROUP
  (ORDER BY ...) and the window form LISTAGG(...) WITHIN GROUP (...) OVER (PARTITION BY ...) on both engines.
- PERCENTILE_CONT / PERCENTILE_DISC (p) WITHIN GROUP (ORDER BY x DESC): the percentile of the descending order
  (r_PERCENTILE_CONT.md, r_WF_PERCENTILE_DISC.md). Both engines honour DESC in the aggregate; DuckDB's window form
  ignores it, so there CONT over DESC is CONT (1 - p) ascending (row RN = 1 + p(N - 1) from the top is row
  1 + (1 - p)(N - 1) from the bottom, the same interpolation) and DISC over DESC picks its row from the partition's
  values sorted descending (row max(1, ceil(p * N)): the first whose cumulative distribution reaches p).
  PostgreSQL has no window form of either, nor of MEDIAN: there the partition's values are gathered with
  array_agg(x) OVER (PARTITION BY ...) and a helper runs the aggregate over them (exact: Redshift's OVER for these
  takes a partition only, no order or frame, so each row's set is its whole partition). APPROXIMATE
  PERCENTILE_DISC is the exact PERCENTILE_DISC (an element of the set, within the approximation's error; the
  parser in translate/__init__.py keeps its order).
- IGNORE NULLS in FIRST_VALUE / LAST_VALUE / NTH_VALUE / LAG / LEAD on PostgreSQL, which has none: an element of
  array_agg(x) FILTER (WHERE x IS NOT NULL) over the same frame (LAG / LEAD: the rows before / after this one).
  RESPECT NULLS is the default. DuckDB has both.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlglot import exp

from shiftflow.dataapi.translate.model import NotSupportedLocally, SuperuserSetup


def _listagg_parts(concat: exp.GroupConcat) -> tuple[exp.Expression, bool, exp.Expression]:
    """(value, distinct, delimiter) of a LISTAGG; sqlglot reads LISTAGG(DISTINCT x, ',') as DISTINCT (x, ',')."""
    value, distinct = concat.this, False
    delimiter = concat.args.get("separator")
    if isinstance(value, exp.Distinct):
        distinct = True
        values = value.expressions
        value = values[0]
        if len(values) == 2 and delimiter is None:
            delimiter = values[1]
        elif len(values) != 1:
            raise NotSupportedLocally("LISTAGG(DISTINCT ...) of more than one expression")
    return value, distinct, delimiter if delimiter is not None else exp.Literal.string("")


def _listagg(concat: exp.GroupConcat, order: exp.Order | None, window: exp.Window | None) -> exp.Expression:
    """array_to_string(array_agg(x [ORDER BY ...]) FILTER (WHERE x IS NOT NULL), delimiter): any value type, NULLs
    skipped, NULL for no value. DISTINCT keeps each value's first place in the order (Redshift's examples order
    distinct dates by other columns, which an engine's DISTINCT aggregate refuses). In a window the order goes to
    the window, over the whole partition (PostgreSQL has no ORDER BY inside a window aggregate; Redshift's OVER has
    no order or frame of its own)."""
    value, distinct, delimiter = _listagg_parts(concat)
    argument: exp.Expression = value.copy()
    if order is not None and window is None:
        argument = exp.Order(this=argument, expressions=[o.copy() for o in order.expressions])
    values: exp.Expression = exp.Filter(
        this=exp.Anonymous(this="array_agg", expressions=[argument]),
        expression=exp.Where(this=exp.Not(this=exp.Is(this=value.copy(), expression=exp.null()))))
    if window is not None:
        frame = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="UNBOUNDED",
                               end_side="FOLLOWING")
        values = exp.Window(this=values, partition_by=[p.copy() for p in window.args.get("partition_by") or []],
                            order=order.copy() if order is not None else None,
                            spec=frame if order is not None else None)
    if distinct:
        values = exp.Anonymous(this="shiftflow_distinct_in_order", expressions=[values])
    return exp.Anonymous(this="array_to_string", expressions=[values, delimiter.copy()])


def _group_concat(node: exp.GroupConcat, engine: str) -> exp.Expression:
    if isinstance(node.parent, (exp.WithinGroup, exp.Window)):
        return node  # rewritten with its order or window
    return _listagg(node, None, None)


def _within_group(node: exp.WithinGroup, engine: str) -> exp.Expression:
    if not isinstance(node.this, exp.GroupConcat) or isinstance(node.parent, exp.Window):
        return node
    return _listagg(node.this, node.expression, None)


_DUCKDB_DECIMAL_AVG_RANGE = ("not supported locally: AVG of DECIMAL beyond 15 significant digits on the DuckDB"
                             " engine (its decimal division is a DOUBLE): use the PostgreSQL engine")


def _avg(avg: exp.Avg, engine: str, window: exp.Window | None = None) -> exp.Expression:
    """DuckDB: shiftflow_avg_of_sum (set-up below) from sum and count. PostgreSQL: shiftflow_avg (set-up below) picks the rule by the
    argument's type, which min(x) has."""
    def over(call: exp.Expression) -> exp.Expression:
        if window is None:
            return call
        windowed = window.copy()
        windowed.set("this", call)
        return windowed

    if engine == "duckdb":
        return exp.Anonymous(this="shiftflow_avg_of_sum", expressions=[
            over(exp.Sum(this=avg.this.copy())), over(exp.Count(this=avg.this.copy()))])
    plain = avg.this.expressions[0] if isinstance(avg.this, exp.Distinct) else avg.this
    return exp.Anonymous(this="shiftflow_avg", expressions=[over(exp.Avg(this=avg.this.copy())),
                                                            over(exp.Min(this=plain.copy()))])


def _plain_avg(node: exp.Avg, engine: str) -> exp.Expression:
    return node if isinstance(node.parent, exp.Window) else _avg(node, engine)


def _window(node: exp.Window, engine: str) -> exp.Expression:
    inner = node.this
    if engine == "duckdb":
        descending = _descending_percentile_window(node)
        if descending is not None:
            return descending
    if engine == "postgres":
        percentile = _postgres_percentile_window(node)
        if percentile is not None:
            return percentile
        if isinstance(inner, exp.RespectNulls):  # the default
            node.set("this", inner.this)
            inner = node.this
        if isinstance(inner, exp.IgnoreNulls):
            return _postgres_ignore_nulls(node)
    if isinstance(inner, exp.Avg):
        return _avg(inner, engine, window=node)
    if isinstance(inner, exp.WithinGroup) and isinstance(inner.this, exp.GroupConcat):
        return _listagg(inner.this, inner.expression, node)
    if isinstance(inner, exp.GroupConcat):
        return _listagg(inner, None, node)
    if isinstance(inner, exp.Anonymous) and inner.name.lower() == "ratio_to_report" and len(inner.expressions) == 1:
        return _ratio_to_report(inner.expressions[0], node)
    return node


def _postgres_ignore_nulls(window: exp.Window) -> exp.Expression:
    """PostgreSQL: FIRST_VALUE / LAST_VALUE / NTH_VALUE / LAG / LEAD (...) IGNORE NULLS OVER (...) as an element of
    the window's non-NULL values, array_agg(x) FILTER (WHERE x IS NOT NULL) over the same frame (LAG: the rows
    before this one, LEAD: the rows after it). Out of range is NULL (LAG / LEAD: their default)."""
    call = window.this.this
    value = call.this

    def values(spec: exp.WindowSpec | None) -> exp.Expression:
        return exp.Window(this=exp.Filter(this=exp.Anonymous(this="array_agg", expressions=[value.copy()]),
                                          expression=exp.Where(this=exp.Is(this=value.copy(),
                                                                           expression=exp.null()).not_())),
                          partition_by=[p.copy() for p in window.args.get("partition_by") or []],
                          order=window.args["order"].copy() if window.args.get("order") else None,
                          spec=spec.copy() if spec is not None else None)

    def element(array: exp.Expression, index: exp.Expression) -> exp.Expression:
        return exp.Bracket(this=exp.Paren(this=array), expressions=[index], offset=1)  # 1-based as written

    def count(array: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="cardinality", expressions=[array])

    spec = window.args.get("spec")
    if isinstance(call, exp.FirstValue):
        return element(values(spec), exp.Literal.number(1))
    if isinstance(call, exp.LastValue):
        return element(values(spec), count(values(spec)))
    if isinstance(call, exp.NthValue):
        return element(values(spec), call.args["offset"].copy())
    if isinstance(call, (exp.Lag, exp.Lead)):
        offset = call.args.get("offset") or exp.Literal.number(1)
        if isinstance(offset, exp.Literal) and offset.this == "0":
            return value.copy()  # "An offset of 0 indicates the current row" (r_WF_LAG.md)
        if isinstance(call, exp.Lag):
            before = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="1",
                                    end_side="PRECEDING")
            found = element(values(before), exp.Sub(this=exp.Add(this=count(values(before)),
                                                                 expression=exp.Literal.number(1)),
                                                    expression=exp.Paren(this=offset.copy())))
        else:
            after = exp.WindowSpec(kind="ROWS", start="1", start_side="FOLLOWING", end="UNBOUNDED",
                                   end_side="FOLLOWING")
            found = element(values(after), offset.copy())
        default = call.args.get("default")
        return exp.Coalesce(this=found, expressions=[default.copy()]) if default is not None else found
    raise NotSupportedLocally(f"IGNORE NULLS in {call.sql('redshift')} on the PostgreSQL engine")


def _descending_percentile_window(window: exp.Window) -> exp.Expression | None:
    """DuckDB: PERCENTILE_CONT / _DISC (p) WITHIN GROUP (ORDER BY x DESC) OVER (...), which DuckDB would compute
    ascending, as the descending one (module docstring); None for any other window."""
    within = window.this
    if not (isinstance(within, exp.WithinGroup) and isinstance(within.this, (exp.PercentileCont, exp.PercentileDisc))):
        return None
    ordered = within.expression.expressions[0] if isinstance(within.expression, exp.Order) else None
    if not (isinstance(ordered, exp.Ordered) and ordered.args.get("desc")):
        return None
    percentile = within.this.this
    if isinstance(within.this, exp.PercentileCont):
        ascending = within.copy()
        ascending.expression.expressions[0].set("desc", False)
        ascending.this.set("this", _one_minus(percentile))
        windowed = window.copy()
        windowed.set("this", ascending)
        return windowed
    value = ordered.this
    values = exp.Window(this=exp.Filter(this=exp.Anonymous(this="list", expressions=[value.copy()]),
                                        expression=exp.Where(this=exp.Not(this=exp.Is(this=value.copy(),
                                                                                      expression=exp.null())))),
                        partition_by=[p.copy() for p in window.args.get("partition_by") or []])
    return exp.Anonymous(this="shiftflow_percentile_disc_desc", expressions=[values, percentile.copy()])


def _postgres_percentile_window(window: exp.Window) -> exp.Expression | None:
    """PostgreSQL: PERCENTILE_CONT / _DISC (p) WITHIN GROUP (ORDER BY x [DESC]) OVER (PARTITION BY ...) and
    MEDIAN(x) OVER (...) as shiftflow_percentile_cont / _disc(array_agg(x) OVER (...), p, descending); None for any
    other window, and for one with an order or frame (not Redshift's syntax: PostgreSQL's error stands)."""
    if window.args.get("order") or window.args.get("spec"):
        return None
    within = window.this
    if isinstance(within, exp.Median):
        kind, percentile, value, descending = "cont", exp.Literal.number("0.5"), within.this, False
    elif isinstance(within, exp.WithinGroup) and isinstance(within.this, (exp.PercentileCont, exp.PercentileDisc)):
        ordered = within.expression.expressions if isinstance(within.expression, exp.Order) else []
        if len(ordered) != 1:
            return None
        kind = "cont" if isinstance(within.this, exp.PercentileCont) else "disc"
        percentile, value = within.this.this, ordered[0].this
        descending = bool(ordered[0].args.get("desc"))
    else:
        return None
    if kind == "cont":  # PostgreSQL's percentile_cont interpolates DOUBLE PRECISION values, as its aggregate does
        value = exp.cast(value.copy(), exp.DataType.Type.DOUBLE)
    values = exp.Window(this=exp.Anonymous(this="array_agg", expressions=[value.copy()]),
                        partition_by=[p.copy() for p in window.args.get("partition_by") or []])
    return exp.Anonymous(this=f"shiftflow_percentile_{kind}",
                         expressions=[values, percentile.copy(), exp.Boolean(this=descending)])


def _one_minus(percentile: exp.Expression) -> exp.Expression:
    """1 - p, exact for a literal (1 - 0.1 is 0.9, not a DOUBLE near it)."""
    if isinstance(percentile, exp.Literal) and not percentile.is_string:
        try:
            return exp.Literal.number(str(Decimal(1) - Decimal(percentile.this)))
        except InvalidOperation:
            pass
    return exp.Sub(this=exp.Literal.number(1), expression=exp.Paren(this=percentile.copy()))


def _ratio_to_report(value: exp.Expression, window: exp.Window) -> exp.Expression:
    """RATIO_TO_REPORT(x) OVER (PARTITION BY p): x over the sum of x in its partition, a FLOAT8
    (r_WF_RATIO_TO_REPORT.md). Its OVER clause takes no ordering or frame: such a call is left for rewrite.py to
    refuse."""
    if window.args.get("order") or window.args.get("spec"):
        return window
    number = exp.cast(value, exp.DataType.Type.DOUBLE)
    total = exp.Window(this=exp.Sum(this=number.copy()), partition_by=[p.copy() for p in window.args.get(
        "partition_by") or []])
    return exp.Paren(this=exp.Div(this=number, expression=total))


# The aggregates the rewrite writes as plain calls (PostgreSQL's shiftflow_sum, LISTAGG's array_agg): grouping.py
# must know them for aggregates.
AGGREGATE_CALLS = frozenset({"shiftflow_sum", "array_agg"})


def _sum(node: exp.Sum, engine: str) -> exp.Expression:
    if engine != "postgres":
        return node  # DuckDB's integer sums are HUGEINT (reported as int8) and divide as integers
    return exp.Anonymous(this="shiftflow_sum", expressions=[node.this])


HANDLERS = {exp.GroupConcat: _group_concat, exp.WithinGroup: _within_group, exp.Avg: _plain_avg,
            exp.Window: _window, exp.Sum: _sum}
PARSER_FUNCTIONS: dict = {}
COLUMN_NAMES = {exp.GroupConcat: "listagg", exp.Sum: "sum", "ratio_to_report": "ratio_to_report",
                exp.PercentileCont: "percentile_cont", exp.PercentileDisc: "percentile_disc"}

DUCKDB_SETUP = (
    # Redshift's AVG from DuckDB's sum and count, typed as the sum: integers a truncated integer (integer_division),
    # DECIMAL(p, s) a DECIMAL(38, s) truncated to s decimals, floats the plain quotient. DuckDB divides decimals
    # as DOUBLEs and a macro cannot name a scale, but cast_to_type(value, total) takes the sum's type:
    # (total - total % (n * ulp)) / n is a multiple of the ulp (10^-s), which the DOUBLE quotient reaches exactly
    # while it has at most 15 significant digits (beyond, refused rather than rounded).
    "CREATE OR REPLACE TEMP MACRO shiftflow_decimal_ulp(total) AS cast_to_type(power(10.0, -coalesce(try_cast("
    r"regexp_extract(typeof(total), ',(\d+)\)$', 1) AS INTEGER), 0)), total)",
    "CREATE OR REPLACE TEMP MACRO shiftflow_avg_of_sum(total, n) AS CASE"
    " WHEN typeof(total) LIKE 'DECIMAL%' AND abs(total) >= 4e15 * shiftflow_decimal_ulp(total)"
    f" THEN error('{_DUCKDB_DECIMAL_AVG_RANGE}')"
    " ELSE cast_to_type((total - CASE WHEN typeof(total) LIKE 'DECIMAL%' OR typeof(total) IN ('HUGEINT', 'BIGINT')"
    " THEN total % (n * shiftflow_decimal_ulp(total)) ELSE 0 END) / nullif(n, 0), total) END",
    # LISTAGG(DISTINCT ...): each value once, where it first comes in the list.
    "CREATE OR REPLACE TEMP MACRO shiftflow_distinct_in_order(l) AS"
    " list_filter(l, lambda x, i: list_position(l, x) = i)",
    # PERCENTILE_DISC (p) over the descending order of a window's non-null values (module docstring).
    "CREATE OR REPLACE TEMP MACRO shiftflow_percentile_disc_desc(l, p) AS"
    " list_sort(l, 'DESC')[greatest(1, ceil(p * len(l)))::BIGINT]",
)
POSTGRES_SETUP = (
    # The window forms of PERCENTILE_CONT / _DISC and MEDIAN over a partition's values (module docstring).
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_percentile_{kind}(a {array}, p double precision, d boolean)"
      f" RETURNS {result} LANGUAGE sql IMMUTABLE AS $f$ SELECT CASE WHEN d THEN (SELECT percentile_{kind}(p)"
      f" WITHIN GROUP (ORDER BY v DESC) FROM unnest(a) AS v) ELSE (SELECT percentile_{kind}(p) WITHIN GROUP"
      f" (ORDER BY v) FROM unnest(a) AS v) END $f$"
      for kind, array, result in (("cont", "double precision[]", "double precision"),
                                  ("disc", "anycompatiblearray", "anycompatible"))),
    "CREATE OR REPLACE FUNCTION public.shiftflow_distinct_in_order(a anyarray) RETURNS anyarray LANGUAGE sql"
    " IMMUTABLE AS $f$ SELECT array_agg(v ORDER BY i) FROM (SELECT v, min(i) AS i FROM unnest(a) WITH ORDINALITY"
    " AS u(v, i) GROUP BY v) AS firsts $f$",
    # shiftflow_avg(avg(x), min(x)): Redshift's AVG of integers is a truncated BIGINT; others keep avg's value.
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_avg(a numeric, v {t}) RETURNS bigint LANGUAGE sql IMMUTABLE"
      " AS $f$ SELECT trunc(a)::bigint $f$" for t in ("smallint", "integer", "bigint")),
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_avg(a {r}, v {t}) RETURNS {r} LANGUAGE sql IMMUTABLE"
      " AS $f$ SELECT a $f$" for r, t in (("double precision", "double precision"), ("double precision", "real"),
                                          ("interval", "interval"))),
    # AVG of DECIMAL(p, s): truncated to scale s (min(x) has it).
    "CREATE OR REPLACE FUNCTION public.shiftflow_avg(a numeric, v numeric) RETURNS numeric LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT trunc(a, scale(v)) $f$",
    # shiftflow_sum: PostgreSQL's sum for each type (its own state functions), except BIGINT, which stays a
    # BIGINT (overflow raises as on Redshift); REAL is summed by the DOUBLE PRECISION one (an implicit cast).
    "DROP AGGREGATE IF EXISTS public.shiftflow_sum(smallint)",
    "CREATE AGGREGATE public.shiftflow_sum(smallint) (SFUNC = int2_sum, STYPE = bigint, COMBINEFUNC = int8pl,"
    " MSFUNC = int2_avg_accum, MINVFUNC = int2_avg_accum_inv, MSTYPE = bigint[], MFINALFUNC = int2int4_sum,"
    " MINITCOND = '{0,0}', PARALLEL = SAFE)",
    "DROP AGGREGATE IF EXISTS public.shiftflow_sum(integer)",
    "CREATE AGGREGATE public.shiftflow_sum(integer) (SFUNC = int4_sum, STYPE = bigint, COMBINEFUNC = int8pl,"
    " MSFUNC = int4_avg_accum, MINVFUNC = int4_avg_accum_inv, MSTYPE = bigint[], MFINALFUNC = int2int4_sum,"
    " MINITCOND = '{0,0}', PARALLEL = SAFE)",
    "DROP AGGREGATE IF EXISTS public.shiftflow_sum(bigint)",
    "CREATE AGGREGATE public.shiftflow_sum(bigint) (SFUNC = int8pl, STYPE = bigint, COMBINEFUNC = int8pl,"
    " MSFUNC = int8pl, MINVFUNC = int8mi, MSTYPE = bigint, PARALLEL = SAFE)",
    SuperuserSetup("DROP AGGREGATE IF EXISTS public.shiftflow_sum(numeric)"),
    SuperuserSetup("CREATE AGGREGATE public.shiftflow_sum(numeric) (SFUNC = numeric_avg_accum, STYPE = internal,"
                   " FINALFUNC = numeric_sum, COMBINEFUNC = numeric_avg_combine, SERIALFUNC = numeric_avg_serialize,"
                   " DESERIALFUNC = numeric_avg_deserialize, MSFUNC = numeric_avg_accum,"
                   " MINVFUNC = numeric_accum_inv, MSTYPE = internal, MFINALFUNC = numeric_sum, PARALLEL = SAFE)"),
    "DROP AGGREGATE IF EXISTS public.shiftflow_sum(double precision)",
    "CREATE AGGREGATE public.shiftflow_sum(double precision) (SFUNC = float8pl, STYPE = double precision,"
    " COMBINEFUNC = float8pl, PARALLEL = SAFE)",
    "DROP AGGREGATE IF EXISTS public.shiftflow_sum(interval)",
    "CREATE AGGREGATE public.shiftflow_sum(interval) (SFUNC = interval_pl, STYPE = interval,"
    " COMBINEFUNC = interval_pl, MSFUNC = interval_pl, MINVFUNC = interval_mi, MSTYPE = interval, PARALLEL = SAFE)",
)
