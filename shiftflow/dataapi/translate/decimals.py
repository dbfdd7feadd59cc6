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

DuckDB divides decimals as DOUBLEs, and knows the operands' types only when it binds the statement (typeof() is a
constant there; macros computing the scale from typeof() strings bound in 0.2 to 6 s a division). So each division
that may be a DECIMAL one is written shiftflow_divide(a, b) (a macro: DuckDB's own a / b, what text run without
EngineSql.execute() gets, e.g. a cursor's query), and when the statement runs, DuckDB is asked the operands' types
once per statement and catalog (cached): an EXPLAIN of the statement with each division next to
shiftflow_operand_types(token, typeof(a), typeof(b)), a Python function DuckDB calls when it folds constants while it
plans. A quotient of DECIMAL (or DECIMAL and integer) operands is then computed exactly on their unscaled HUGEINT
values (BIGINT when they fit in 18 digits; HUGEINT otherwise, which DuckDB computes at about 2 us a row), cut toward
zero and typed DECIMAL(p, s) by the rule above; others stay DuckDB's. The operands' types are Redshift's, worked
out from DuckDB's types of their parts (DuckDB types a product p1 + p2 digits, Redshift p1 + p2 + 1). A division inside another
is typed first. Only queries, INSERT, UPDATE, DELETE, CREATE TABLE AS and CREATE VIEW are asked (EXPLAIN plans
them without side effects); a division whose operands DuckDB did not report (a part of the plan it dropped) stays
a DOUBLE one.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from shiftflow.dataapi.engines.base import EngineError, EngineSession
from shiftflow.dataapi.translate.char_columns import named_tables

_FLOAT_TYPES = {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}
_INTEGER_TYPES = {exp.DataType.Type.SMALLINT, exp.DataType.Type.INT, exp.DataType.Type.BIGINT,
                  exp.DataType.Type.TINYINT}


@dataclass(frozen=True)
class _Arithmetic:
    """The operations the quotient rule uses, on numbers (DuckDB: the types are known) or on SQL (PostgreSQL's
    set-up functions), so that the rule is written once."""

    add: Callable[[Any, Any], Any]
    sub: Callable[[Any, Any], Any]
    greatest: Callable[[Any, Any], Any]
    least: Callable[[Any, Any], Any]
    when: Callable[[Any, Any, Any], Any]  # condition: the first operand greater than the second


_NUMBERS = _Arithmetic(add=lambda a, b: a + b, sub=lambda a, b: a - b, greatest=max, least=min,
                       when=lambda over, then, otherwise: then if over[0] > over[1] else otherwise)


def _sql_value(value: Any) -> exp.Expression:
    return value if isinstance(value, exp.Expression) else exp.Literal.number(value)


_SQL = _Arithmetic(
    add=lambda a, b: exp.Paren(this=exp.Add(this=_sql_value(a), expression=_sql_value(b))),
    sub=lambda a, b: exp.Paren(this=exp.Sub(this=_sql_value(a), expression=_sql_value(b))),
    greatest=lambda a, b: exp.Anonymous(this="greatest", expressions=[_sql_value(a), _sql_value(b)]),
    least=lambda a, b: exp.Anonymous(this="least", expressions=[_sql_value(a), _sql_value(b)]),
    when=lambda over, then, otherwise: exp.Case(ifs=[exp.If(this=exp.GT(this=_sql_value(over[0]),
                                                                         expression=_sql_value(over[1])),
                                                             true=_sql_value(then))], default=_sql_value(otherwise)))


def _quotient_scale(pa: Any, sa: Any, pb: Any, sb: Any, do: _Arithmetic) -> Any:
    """Redshift's scale of DECIMAL(pa, sa) / DECIMAL(pb, sb) (module docstring)."""
    integer_digits = do.add(do.sub(pa, sa), sb)
    scale = do.greatest(4, do.add(do.sub(do.add(sa, pb), sb), 1))
    return do.when((do.add(integer_digits, scale), 38), do.greatest(do.sub(38, integer_digits), 4), scale)


def _quotient_precision(pa: Any, sa: Any, pb: Any, sb: Any, do: _Arithmetic) -> Any:
    return do.least(38, do.add(do.add(do.sub(pa, sa), sb), _quotient_scale(pa, sa, pb, sb, do)))


def quotient_type(pa: int, sa: int, pb: int, sb: int) -> tuple[int, int]:
    """(precision, scale) of DECIMAL(pa, sa) / DECIMAL(pb, sb) on Redshift."""
    return _quotient_precision(pa, sa, pb, sb, _NUMBERS), _quotient_scale(pa, sa, pb, sb, _NUMBERS)


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
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_quotient_{name}(pa integer, sa integer, pb integer, sb integer)"
      f" RETURNS integer LANGUAGE sql IMMUTABLE AS $f$ SELECT {rule(*map(exp.column, ('pa', 'sa', 'pb', 'sb')), _SQL).sql('postgres')} $f$"
      for name, rule in (("scale", _quotient_scale), ("precision", _quotient_precision))),
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


# DuckDB (module docstring): divisions marked at translation, typed when the statement runs.
_DIVIDE = "shiftflow_divide"
_PROBE = "shiftflow_operand_types"
_PROBED_STATEMENTS = (exp.Query, exp.Insert, exp.Update, exp.Delete)


def duckdb_decimal_divisions(tree: exp.Expression) -> exp.Expression:
    """Every division that may be a DECIMAL one as shiftflow_divide(a, b), in the statements DuckDB is asked about."""
    if not (isinstance(tree, _PROBED_STATEMENTS) or _probed_query(tree) is not None):
        return tree
    for division in reversed(list(tree.find_all(exp.Div))):
        operands = (division.this, division.expression)
        if _native(division) or division.find_ancestor(exp.ColumnDef) is not None or any(
                isinstance(o, exp.Literal) and o.is_string for o in operands):
            continue
        call = _call(_DIVIDE, *(o.copy() for o in operands))
        if division is tree:
            return call
        division.replace(call)
    return tree


def _probed_query(tree: exp.Expression) -> exp.Expression | None:
    """What EXPLAIN is asked about for a CREATE TABLE AS (itself) or a CREATE VIEW (its query); None otherwise."""
    if not isinstance(tree, exp.Create) or not isinstance(tree.expression, exp.Query):
        return None
    kind = str(tree.args.get("kind") or "").upper()
    return tree if kind == "TABLE" else tree.expression if kind == "VIEW" else None


def marks_divisions(tree: exp.Expression) -> bool:
    return any(call.name == _DIVIDE for call in tree.find_all(exp.Anonymous))


# What each probe's EXPLAIN reported, by its token: (operand types) per division.
_REPORTED: dict[str, dict[int, tuple[str, str]]] = {}
_REPORTED_LOCK = threading.Lock()


def _report(token: str, left: str, right: str) -> float:
    probe, _, index = token.rpartition(":")
    with _REPORTED_LOCK:
        _REPORTED.setdefault(probe, {})[int(index)] = (left, right)
    return 0.0


DUCKDB_FUNCTIONS: dict[str, tuple[Callable[..., object], tuple[str, ...], str]] = {
    _PROBE: (_report, ("VARCHAR", "VARCHAR", "VARCHAR"), "DOUBLE")}
DUCKDB_SETUP = (f"CREATE OR REPLACE TEMP MACRO {_DIVIDE}(a, b) AS a / b",)

_DECIMAL = re.compile(r"DECIMAL\((\d+),(\d+)\)")
# DuckDB's integer types as Redshift's (SUM of integers is a HUGEINT there, a BIGINT on Redshift).
_INTEGER_DIGITS = {"TINYINT": 5, "SMALLINT": 5, "UTINYINT": 5, "INTEGER": 10, "USMALLINT": 10, "BIGINT": 19,
                   "UINTEGER": 19, "HUGEINT": 19}


def _redshift_decimal(duckdb_type: str) -> tuple[int, int, bool] | None:
    """(precision, scale, is an integer) of an operand's DuckDB type; None: no DECIMAL or integer."""
    found = _DECIMAL.fullmatch(duckdb_type)
    if found:
        return int(found.group(1)), int(found.group(2)), False
    digits = _INTEGER_DIGITS.get(duckdb_type)
    return (digits, 0, True) if digits else None


def _unscaled(value: exp.Expression, precision: int, scale: int, wide: bool) -> exp.Expression:
    """A DECIMAL(precision, scale) value's digits as a BIGINT, or a HUGEINT when `wide` (exact: the product has no
    fraction; DuckDB computes it at the value's scale, so precision + scale digits must fit the narrow type)."""
    kind = "HUGEINT" if wide else "BIGINT"
    if not scale:
        return exp.cast(value, kind)
    widened = exp.cast(value, exp.DataType.build(f"DECIMAL({38 if wide else 18}, {scale})"))
    return exp.cast(exp.Mul(this=widened, expression=exp.cast(exp.Literal.string(str(10 ** scale)), kind)), kind)


Decimal = tuple[int, int, bool]  # Redshift precision, scale, and whether it is an integer type


def _leaves(node: exp.Expression) -> list[exp.Expression]:
    """The parts of an operand whose type DuckDB is asked: what is no +, - or * of other parts (DuckDB types a
    product one digit narrower than Redshift, p1 + p2, and a SUM of integers as a HUGEINT: the rules are applied
    here instead, on the parts' types)."""
    node = node.unnest()
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul)):
        return [*_leaves(node.this), *_leaves(node.expression)]
    if isinstance(node, exp.Neg):
        return _leaves(node.this)
    return [node]


def _redshift_type(node: exp.Expression, leaves: dict[int, Decimal | None]) -> Decimal | None:
    """Redshift's type of an operand from its leaves' (r_numeric_computations201.md); None: no DECIMAL or integer."""
    node = node.unnest()
    if isinstance(node, exp.Neg):
        return _redshift_type(node.this, leaves)
    if not isinstance(node, (exp.Add, exp.Sub, exp.Mul)):
        return leaves.get(id(node))
    left, right = _redshift_type(node.this, leaves), _redshift_type(node.expression, leaves)
    if left is None or right is None:
        return None
    (pa, sa, ia), (pb, sb, ib) = left, right
    if ia and ib:
        return max(pa, pb), 0, True
    if isinstance(node, exp.Mul):
        return min(38, pa + pb + 1), sa + sb, False
    scale = max(sa, sb)
    return min(38, max(pa - sa, pb - sb) + scale + 1), scale, False


def _typed_quotient(left: exp.Expression, right: exp.Expression, sides: tuple[Decimal | None, Decimal | None]
                    ) -> exp.Expression:
    """a / b as Redshift computes it for these operand types: DECIMAL(p, s) cut toward zero, or DuckDB's."""
    if sides[0] is None or sides[1] is None or (sides[0][2] and sides[1][2]):
        return exp.Div(this=exp.Paren(this=left), expression=exp.Paren(this=right))
    (pa, sa, _), (pb, sb, _) = sides
    precision, scale = quotient_type(pa, sa, pb, sb)
    shift = scale + sb - sa  # the dividend's digits moved left so that the integer quotient has `scale` decimals
    # 64-bit digits when they fit (DuckDB's HUGEINT arithmetic costs about 2 us a row, its BIGINT's 0.02).
    wide = max(pa + sa, pa + shift, pb + sb) > 18
    kind = "HUGEINT" if wide else "BIGINT"
    dividend = exp.Mul(this=_unscaled(left, pa, sa, wide), expression=exp.cast(exp.Literal.string(str(10 ** shift)), kind))
    digits = exp.IntDiv(this=exp.Paren(this=dividend), expression=_unscaled(right, pb, sb, wide))
    unit = exp.cast(exp.Literal.string(f"0.{'0' * (scale - 1)}1"), exp.DataType.build(f"DECIMAL({scale}, {scale})"))
    value = exp.Mul(this=exp.cast(digits, exp.DataType.build(f"DECIMAL({38 if wide else 18}, 0)")), expression=unit)
    return exp.cast(value, exp.DataType.build(f"DECIMAL({precision}, {scale})"))


def typed_divisions(session: EngineSession, tree: exp.Expression, text: str, parameters: Mapping[str, str],
                    generate: Callable[[exp.Expression], str]) -> str:
    """The statement's text with each shiftflow_divide(a, b) typed from the operand types DuckDB binds (cached
    until the catalog changes: the types depend on the text and the catalog only)."""
    cached = getattr(session, "catalog_cached", None)
    compute = lambda: _typed_text(session, tree, parameters, generate) or text  # noqa: E731
    return cached(("typed_divisions", text), compute) if cached else compute()


def _divisions(tree: exp.Expression) -> list[exp.Expression]:
    return [call for call in tree.find_all(exp.Anonymous) if call.name == _DIVIDE]


def _typed_text(session: EngineSession, tree: exp.Expression, parameters: Mapping[str, str],
                generate: Callable[[exp.Expression], str]) -> str | None:
    tree = tree.copy()
    while True:
        ready = [call for call in _divisions(tree) if not any(_divisions(operand) for operand in call.expressions)]
        if not ready:
            return generate(tree)
        types = _leaf_types(session, tree, ready, parameters, generate)
        if types is None:
            return None  # the probe itself did not bind: the divisions stay DuckDB's
        for call in ready:
            left, right = call.expressions
            sides = (_redshift_type(left, types), _redshift_type(right, types))
            call.replace(_typed_quotient(left.copy(), right.copy(), sides))


def _leaf_types(session: EngineSession, tree: exp.Expression, ready: list[exp.Expression],
                parameters: Mapping[str, str], generate: Callable[[exp.Expression], str]
                ) -> dict[int, Decimal | None] | None:
    """Redshift's type of each leaf (by id) of the operands of `ready`'s divisions, from one EXPLAIN in which each
    division is added shiftflow_operand_types(token:n, typeof(leaf), '') for its leaves."""
    token = uuid.uuid4().hex
    probe = tree.copy()
    chosen = {id(call) for call in ready}
    leaves: list[exp.Expression] = []
    for original, copy in zip(_divisions(tree), _divisions(probe)):
        if id(original) not in chosen:
            continue
        left, right = copy.expressions
        reports: exp.Expression = exp.Div(this=exp.Paren(this=left.copy()), expression=exp.Paren(this=right.copy()))
        for leaf in [leaf for operand in original.expressions for leaf in _leaves(operand)]:
            reports = exp.Add(this=reports, expression=_call(_PROBE, exp.Literal.string(f"{token}:{len(leaves)}"),
                                                             _call("typeof", leaf.copy()), exp.Literal.string("")))
            leaves.append(leaf)
        copy.replace(exp.Paren(this=reports))
    explained = _probed_query(probe) if isinstance(probe, exp.Create) else probe
    text = generate(explained)
    try:
        session.execute(f"EXPLAIN {text}", {name: value for name, value in parameters.items() if f"${name}" in text})
    except EngineError as error:
        # The statement's own error (it does not bind), without the probe's text: inside a transaction the failed
        # EXPLAIN has already ended it, as the statement would.
        message = str(error).split("\n\nLINE ", 1)[0]
        if _PROBE in message:
            return None
        raise EngineError(message, code=error.code) from None
    finally:
        with _REPORTED_LOCK:
            reported = _REPORTED.pop(token, {})
    return {id(leaf): _redshift_decimal(reported[index][0]) if index in reported else None
            for index, leaf in enumerate(leaves)}
