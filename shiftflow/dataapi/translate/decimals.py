"""DECIMAL division as Redshift types it (r_numeric_computations201.md, "Precision and scale of computed DECIMAL
results").

DECIMAL(p1, s1) / DECIMAL(p2, s2) is DECIMAL(p1 - s1 + s2 + s, s) with s = max(4, s1 + p2 - s2 + 1); a precision
beyond 38 is cut to 38 and the scale becomes max(38 - (p1 - s1 + s2), 4) (the integer digits are kept). An integer
operand counts as DECIMAL(5, 0) (SMALLINT), DECIMAL(10, 0) (INTEGER) or DECIMAL(19, 0) (BIGINT). Examples:
`pricepaid / qtysold` (DECIMAL(8,2) / SMALLINT) prints 1706.00000000 (r_WHERE_clause.md), two DECIMAL(19,0) give
DECIMAL(38,19). The quotient is cut (not rounded) to its scale, as Redshift's AVG of DECIMAL is (the PIVOT examples);
the reference shows no division whose digits would tell.

PostgreSQL keeps no precision with a computed numeric, and a function's argument loses its type's: each division
(but a visibly integer or float one) becomes shiftflow_divide(a, b, pa, pb, sa, sb), one overload per pair of operand types
(set-up below: integers and floats divide as PostgreSQL does), with the operands' precisions as the translator sees them (pa, pb: a column's from the
catalog, a literal's digits, a cast's, 38 for SUM and AVG, the rules above for a product, sum or quotient, through
subqueries and CTEs by the column's name); the scales likewise, or the values' where the translator cannot tell
(PostgreSQL's numeric values carry the scales these rules give), which costs some numeric arithmetic a row. A DECIMAL operand whose precision the translator cannot tell (a CASE, a function's value,
a view's column) fails with "not supported locally" rather than take another scale.

+, - and * already follow Redshift's scale rules on both engines (max(s1, s2); s1 + s2).

DuckDB still divides decimals as DOUBLEs (not emulated). DuckDB knows the operands' types only when it binds
(typeof() is a constant there), and a quotient typed from them there was tried: macros that compute the scale from
typeof() strings bind in 0.2 to 6 s a division (their arguments are copied at each use), too slow. The way left is
to ask DuckDB the operands' types once per statement before it runs (a probe), then write the quotient's type.
"""

from __future__ import annotations

from sqlglot import exp

from shiftflow.dataapi.translate.char_columns import named_tables

_FLOAT_TYPES = {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}
_INTEGER_TYPES = {exp.DataType.Type.SMALLINT, exp.DataType.Type.INT, exp.DataType.Type.BIGINT,
                  exp.DataType.Type.TINYINT}


def _visibly(node: exp.Expression, types: set[exp.DataType.Type]) -> bool:
    return isinstance(node, exp.Cast) and node.to.this in types


def _visibly_integer(node: exp.Expression) -> bool:
    literal = isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit()
    return literal or _visibly(node, _INTEGER_TYPES)


def _native(division: exp.Div) -> bool:
    """A division whose operands show it is no DECIMAL one (a float, two integers, a bound string), or whose
    quotient is floored."""
    operands = (division.this, division.expression)
    if any(isinstance(o, (exp.Placeholder, exp.Interval)) or _visibly(o, _FLOAT_TYPES) for o in operands):
        return True
    if any(isinstance(o, exp.Literal) and not o.is_string and "e" in o.this.lower() for o in operands):
        return True  # 1e3 is a float
    parent = division.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    if isinstance(parent, (exp.Floor, exp.Ceil)):
        return True  # the scale does not show (the translator floors its own, extract(ms) among them)
    return all(_visibly_integer(o) for o in operands)


def _call(name: str, *arguments: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(arguments))


def postgres_decimal_divisions(tree: exp.Expression) -> exp.Expression:
    """Every division, innermost first, as shiftflow_divide(a, b, pa, pb) (module docstring)."""
    for division in reversed(list(tree.find_all(exp.Div))):
        operands = (division.this, division.expression)
        if _native(division) or division.find_ancestor(exp.ColumnDef) is not None or any(
                isinstance(o, exp.Literal) and o.is_string for o in operands):
            continue
        # Typed: an integer operand's precision from its type, so that an enclosing quotient reads it here too.
        hints = [_typed_precision(o) for o in operands]
        call = _call("shiftflow_divide", *(o.copy() for o in operands), *hints, *(_typed_scale(o) for o in operands))
        if division is tree:
            return call
        division.replace(call)
    return tree


def _typed_precision(node: exp.Expression) -> exp.Expression:
    """The precision of `node` at run time: an integer's from its type (shiftflow_precision's overloads), a
    numeric's the translator's hint (NULL: unknown)."""
    hint = _precision(node) or exp.cast(exp.null(), exp.DataType.Type.INT)
    return _call("shiftflow_precision", node.copy(), hint)


def _typed_scale(node: exp.Expression) -> exp.Expression:
    """The scale of `node`: the translator's when it can tell (PostgreSQL then folds the quotient's scale into a
    constant), else its value's at run time."""
    known, value = _scale(node), _call("shiftflow_scale", node.copy())
    return _call("coalesce", known, value) if known is not None else value


def _scale(node: exp.Expression) -> exp.Expression | None:
    """What the translator knows of an expression's scale, as SQL that reads no row (NULL when the catalog does not
    know the column's: _typed_scale then reads the value's)."""
    node = node.unnest()
    if isinstance(node, exp.Neg):
        return _scale(node.this)
    if isinstance(node, exp.Literal) and not node.is_string and "e" not in node.this.lower():
        return exp.Literal.number(len(node.this.split(".")[1]) if "." in node.this else 0)
    if isinstance(node, exp.Cast) and node.to.this in (_INTEGER_TYPES | {exp.DataType.Type.DECIMAL}):
        sizes = node.to.expressions
        return exp.Literal.number(sizes[1].this.this if len(sizes) == 2 else 0)
    if isinstance(node, (exp.Window, exp.Sum, exp.Avg, exp.Min, exp.Max, exp.Abs, exp.Nullif)):
        return _scale(node.this)
    if isinstance(node, exp.Anonymous) and node.name.lower() in ("shiftflow_sum", "shiftflow_avg"):
        return _scale(node.expressions[0])
    if isinstance(node, exp.Column):
        return _column_precision(node, "shiftflow_column_scale")
    if isinstance(node, (exp.Mul, exp.Add, exp.Sub)):
        sides = [_scale(node.this), _scale(node.expression)]
        if None in sides:
            return None
        return exp.Add(this=sides[0], expression=sides[1]) if isinstance(node, exp.Mul) else _call("greatest", *sides)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "shiftflow_divide":
        pa, pb, sa, sb = (e.copy() for e in node.expressions[2:6])
        return _call("shiftflow_quotient_scale", pa, sa, pb, sb)
    return None


def _precision(node: exp.Expression) -> exp.Expression | None:
    """What the translator knows of a DECIMAL expression's precision, as SQL; None when it cannot tell (or when
    the expression is no DECIMAL: an integer's comes from its type)."""
    node = node.unnest()
    if isinstance(node, exp.Neg):
        return _precision(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        digits = node.this.replace(".", "").lstrip("0") or "0"
        return exp.Literal.number(len(digits)) if "." in node.this or len(digits) > 18 else None
    if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DECIMAL:
        sizes = node.to.expressions
        return exp.Literal.number(sizes[0].this.this) if sizes else exp.Literal.number(18)
    if isinstance(node, exp.Window):
        return _precision(node.this)
    if isinstance(node, (exp.Sum, exp.Avg)) or (isinstance(node, exp.Anonymous) and node.name.lower() in (
            "shiftflow_sum", "shiftflow_avg")):
        return exp.Literal.number(38)  # SUM and AVG of DECIMAL(p, s) are DECIMAL(38, s)
    if isinstance(node, (exp.Min, exp.Max, exp.Abs, exp.Round, exp.Floor, exp.Ceil, exp.Nullif)) or (
            isinstance(node, exp.Anonymous) and node.name.lower() == "trunc"):
        return _precision(node.this if not isinstance(node, exp.Anonymous) else node.expressions[0])
    if isinstance(node, exp.Column):
        return _column_precision(node, "shiftflow_column_precision")
    if isinstance(node, exp.Mul):
        total = exp.Add(this=exp.Add(this=_typed_precision(node.this), expression=_typed_precision(node.expression)),
                        expression=exp.Literal.number(1))
        return _call("least", exp.Literal.number(38), total)
    if isinstance(node, (exp.Add, exp.Sub)):
        left, right = node.this, node.expression
        scales = [_typed_scale(side) for side in (left, right)]
        digits = _call("greatest", exp.Sub(this=_typed_precision(left), expression=scales[0]),
                       exp.Sub(this=_typed_precision(right), expression=scales[1]))
        total = exp.Add(this=exp.Add(this=digits, expression=exp.Literal.number(1)),
                        expression=_call("greatest", *(scale.copy() for scale in scales)))
        return _call("least", exp.Literal.number(38), total)
    if isinstance(node, (exp.Coalesce, exp.Case)):
        return _choice_precision(node)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "shiftflow_divide":
        pa, pb, sa, sb = (e.copy() for e in node.expressions[2:6])
        return _call("shiftflow_quotient_precision", pa, sa, pb, sb)
    return None


def _choice_precision(node: exp.Coalesce | exp.Case) -> exp.Expression | None:
    """COALESCE and CASE: min(max(p - s) + max(s), 19) over their values (r_numeric_computations201.md, the rule
    for COALESCE, DECODE and set operations); NULLs and untyped values aside."""
    if isinstance(node, exp.Coalesce):
        values = [node.this, *node.expressions]
    else:
        values = [branch.args["true"] for branch in node.args.get("ifs") or []] + [node.args.get("default")]
    values = [v for v in values if v is not None and not isinstance(v, exp.Null)]
    scales = [_typed_scale(v) for v in values]
    digits = _call("greatest", *(exp.Sub(this=_typed_precision(v), expression=s) for v, s in zip(values, scales)))
    total = exp.Add(this=digits, expression=_call("greatest", *(s.copy() for s in scales)))
    return _call("least", exp.Literal.number(19), total) if values else None


def _column_precision(column: exp.Column, lookup: str) -> exp.Expression | None:
    """A table's column: its precision from the catalog when the query is planned; a subquery's or CTE's: its
    projection's, when that does not depend on the row."""
    scope = column.find_ancestor(exp.Select, exp.Update, exp.Delete)
    if scope is None or column.args.get("db"):
        return None
    tables, every = named_tables(scope)
    candidates = [column.table.lower()] if column.table else list(tables)
    hints = []
    for name in candidates:
        if name not in tables:
            return None
        table = tables[name]
        hint = _catalog_lookup(table, column.name, lookup) if table is not None else _projection_precision(
            scope, name, column.name, lookup)
        if hint is None:
            if column.table or table is not None:
                return None
            continue
        hints.append(hint)
    if not hints or (not column.table and len(hints) != len(candidates) and not every):
        return None
    return hints[0] if len(hints) == 1 else _call("coalesce", *hints)


def _catalog_lookup(table: exp.Table, column: str, lookup: str) -> exp.Expression:
    name = f"{table.db}.{table.name}" if table.db else table.name
    return _call(lookup, exp.Literal.string(name), exp.Literal.string(column))


def _projection_precision(scope: exp.Expression, source: str, column: str, lookup: str) -> exp.Expression | None:
    """The precision of `column` of the subquery or CTE named `source` in scope's FROM list, when it is constant."""
    select = None
    for item in [scope.args.get("from_"), *(scope.args.get("joins") or [])]:
        if item is not None and isinstance(item.this, exp.Subquery) and item.this.alias_or_name.lower() == source:
            select = item.this.this
    node: exp.Expression | None = scope
    while select is None and node is not None:
        with_ = node.args.get("with_")
        for cte in with_.expressions if isinstance(with_, exp.With) else []:
            if cte.alias_or_name.lower() == source:
                select = cte.this
        node = node.parent
    if not isinstance(select, exp.Select):
        return None
    for projection in select.expressions:
        if projection.alias_or_name.lower() == column.lower():
            value = projection.this if isinstance(projection, exp.Alias) else projection
            hint = _precision(value) if lookup == "shiftflow_column_precision" else _scale(value)
            return hint if hint is not None and not any(hint.find_all(exp.Column)) else None  # not the row's
    return None


_POSTGRES_NUMBERS = ("smallint", "integer", "bigint", "numeric", "real", "double precision")
_POSTGRES_INTEGER_DIGITS = {"smallint": 5, "integer": 10, "bigint": 19}


def _postgres_divide(left: str, right: str) -> str:
    """The overload of shiftflow_divide for one pair of types: Redshift's DECIMAL quotient when one is numeric and
    the other numeric or an integer, PostgreSQL's own division otherwise (its result type asked of PostgreSQL)."""
    if "numeric" in (left, right) and not {left, right} & {"real", "double precision"}:
        pa = _POSTGRES_INTEGER_DIGITS.get(left, "pa")
        pb = _POSTGRES_INTEGER_DIGITS.get(right, "pb")
        return (f"CREATE OR REPLACE FUNCTION public.shiftflow_divide(a {left}, b {right}, pa integer, pb integer,"
                " sa integer, sb integer) RETURNS numeric LANGUAGE sql IMMUTABLE AS"
                f" $f$ SELECT public.shiftflow_decimal_divide(a, b, {pa}, {pb}, sa, sb) $f$")
    return ("DO $d$ DECLARE r text; BEGIN"
            f" SELECT pg_typeof(NULL::{left} / NULL::{right})::text INTO r;"
            f" EXECUTE format('CREATE OR REPLACE FUNCTION public.shiftflow_divide(a {left}, b {right}, pa integer,"
            " pb integer, sa integer, sb integer) RETURNS %s LANGUAGE sql IMMUTABLE AS $g$ SELECT a / b $g$', r);"
            " END $d$")


POSTGRES_SETUP = (
    # Redshift's scale of a quotient (module docstring), from the operands' precisions and their values' scales.
    "CREATE OR REPLACE FUNCTION public.shiftflow_quotient_scale(pa integer, sa integer, pb integer, sb integer)"
    " RETURNS integer LANGUAGE sql IMMUTABLE AS $f$ SELECT CASE WHEN pa - sa + sb + greatest(4, sa + pb - sb + 1)"
    " > 38 THEN greatest(38 - (pa - sa + sb), 4) ELSE greatest(4, sa + pb - sb + 1) END $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_quotient_precision(pa integer, sa integer, pb integer, sb integer)"
    " RETURNS integer LANGUAGE sql IMMUTABLE AS $f$ SELECT least(38, pa - sa + sb"
    " + public.shiftflow_quotient_scale(pa, sa, pb, sb)) $f$",
    # The quotient cut toward zero (div() is exact) to that scale; an operand of unknown precision is refused.
    # SQL functions, which PostgreSQL inlines into the query (a PL/pgSQL one would be a call per row); the refusal
    # takes the value so that it is not evaluated when the query is planned.
    "CREATE OR REPLACE FUNCTION public.shiftflow_unknown_precision(operand text, value numeric) RETURNS numeric"
    " LANGUAGE plpgsql IMMUTABLE AS $f$ BEGIN RAISE EXCEPTION 'not supported locally: a DECIMAL division whose %''s"
    " precision the PostgreSQL engine cannot tell (a view''s column, a function''s value): cast it, e.g."
    " ::decimal(18,2)', operand; END $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_decimal_divide(a numeric, b numeric, pa integer, pb integer,"
    " sa integer, sb integer)"
    " RETURNS numeric LANGUAGE sql IMMUTABLE AS $f$ SELECT CASE"
    " WHEN pa IS NULL AND a IS NOT NULL THEN public.shiftflow_unknown_precision('dividend', a)"
    " WHEN pb IS NULL AND b IS NOT NULL THEN public.shiftflow_unknown_precision('divisor', b)"
    " ELSE trunc(div(a * power(10::numeric, public.shiftflow_quotient_scale(pa, sa, pb, sb)), b)"
    " * power(10::numeric, -public.shiftflow_quotient_scale(pa, sa, pb, sb)),"
    " public.shiftflow_quotient_scale(pa, sa, pb, sb)) END $f$",
    *(_postgres_divide(left, right) for left in _POSTGRES_NUMBERS for right in _POSTGRES_NUMBERS),
    _postgres_divide("interval", "double precision"),
    # An operand's precision: an integer's from its type, a numeric's the translator's hint; a float has none.
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_precision(x {t}, hint integer) RETURNS integer LANGUAGE sql"
      f" IMMUTABLE AS $f$ SELECT {_POSTGRES_INTEGER_DIGITS.get(t, 'hint' if t == 'numeric' else 'NULL::integer')} $f$"
      for t in _POSTGRES_NUMBERS),
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_scale(x {t}) RETURNS integer LANGUAGE sql IMMUTABLE"
      f" AS $f$ SELECT {'scale(x)' if t == 'numeric' else '0'} $f$" for t in _POSTGRES_NUMBERS),
    # Any other type (a date, an interval) has neither: its quotient is no DECIMAL one.
    "CREATE OR REPLACE FUNCTION public.shiftflow_precision(x anyelement, hint integer) RETURNS integer"
    " LANGUAGE sql IMMUTABLE AS $f$ SELECT NULL::integer $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_scale(x anyelement) RETURNS integer LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT 0 $f$",
    # A table column's precision and scale (found as a name is: the search path, temporary tables first; an
    # integer's scale is 0); NULL otherwise.
    # Declared IMMUTABLE so that PostgreSQL computes it once, when it plans the query (a plan it keeps is planned
    # anew when the table changes), and inlines the quotient's functions (an argument holding a subquery or a
    # per-row call would stop that: the load benchmark took 5 times as long).
    "CREATE OR REPLACE FUNCTION public.shiftflow_column_precision(relation text, column_name text) RETURNS integer"
    " LANGUAGE sql IMMUTABLE AS $f$ SELECT CASE WHEN atttypid = 'numeric'::regtype AND atttypmod >= 4"
    " THEN ((atttypmod - 4) >> 16) & 65535 END FROM pg_attribute WHERE attrelid = to_regclass(relation)"
    " AND attname = column_name AND NOT attisdropped $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_column_scale(relation text, column_name text) RETURNS integer"
    " LANGUAGE sql IMMUTABLE AS $f$ SELECT CASE WHEN atttypid = 'numeric'::regtype AND atttypmod >= 4"
    " THEN (atttypmod - 4) & 65535 WHEN atttypid IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)"
    " THEN 0 END FROM pg_attribute WHERE attrelid = to_regclass(relation) AND attname = column_name"
    " AND NOT attisdropped $f$",
)
