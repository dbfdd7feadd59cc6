"""DECIMAL division as Redshift types it (r_numeric_computations201.md, "Precision and scale of computed DECIMAL
results").

DECIMAL(p1, s1) / DECIMAL(p2, s2) is DECIMAL(p1 - s1 + s2 + s, s) with s = max(4, s1 + p2 - s2 + 1); a precision
beyond 38 is cut to 38 and the scale becomes max(38 - (p1 - s1 + s2), 4) (the integer digits are kept). An integer
operand counts as DECIMAL(5, 0) (SMALLINT), DECIMAL(10, 0) (INTEGER) or DECIMAL(19, 0) (BIGINT). Examples:
`pricepaid / qtysold` (DECIMAL(8,2) / SMALLINT) prints 1706.00000000 (r_WHERE_clause.md), two DECIMAL(19,0) give
DECIMAL(38,19). The quotient is cut (not rounded) to its scale, as Redshift's AVG of DECIMAL is (the PIVOT examples);
the reference shows no division whose digits would tell.

DuckDB divides decimals as DOUBLEs. Here the translator does not know the operands' types, DuckDB does when it binds:
typeof() is a constant there, so shiftflow_quotient_spec() (set-up below) computes the quotient's scale from the
operands' type names, and the quotient is exact 128-bit integer arithmetic on the unscaled values, typed
DECIMAL(p, s) (round() of a DECIMAL(p, p) to a constant scale names the type; DuckDB cannot cast to a computed
type). Any other pair of
types (integers, floats, intervals) divides as before: shiftflow_quotient() picks one of the two forms by a constant
key, so the other costs nothing when the query runs. A quotient beyond 38 digits fails with DuckDB's overflow error.
DuckDB's product of decimals has precision p1 + p2 (Redshift's p1 + p2 + 1): it only shows in the reported
precision, and in a later quotient's scale when that one reaches 38 digits.

+, - and * already follow Redshift's scale rules on both engines (max(s1, s2); s1 + s2), and PostgreSQL's numeric
values carry those scales; PostgreSQL's division keeps its own scale (at least 16 significant digits): not emulated.
"""

from __future__ import annotations

from sqlglot import exp

_FLOAT_TYPES = {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}
_INTEGER_TYPES = {exp.DataType.Type.SMALLINT, exp.DataType.Type.INT, exp.DataType.Type.BIGINT,
                  exp.DataType.Type.TINYINT}


def _visibly(node: exp.Expression, types: set[exp.DataType.Type]) -> bool:
    return isinstance(node, exp.Cast) and node.to.this in types


def _visibly_integer(node: exp.Expression) -> bool:
    literal = isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit()
    return literal or _visibly(node, _INTEGER_TYPES)


def _native(division: exp.Div) -> bool:
    """A division whose operands show it is no DECIMAL one (a float, two integers, a bound string)."""
    operands = (division.this, division.expression)
    if any(isinstance(o, (exp.Placeholder, exp.Interval)) or _visibly(o, _FLOAT_TYPES) for o in operands):
        return True
    if any(isinstance(o, exp.Literal) and not o.is_string and "e" in o.this.lower() for o in operands):
        return True  # 1e3 is a float
    return all(_visibly_integer(o) for o in operands)


def _call(name: str, *arguments: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(arguments))


def _field(spec: exp.Expression, index: int) -> exp.Expression:
    return _call("list_extract", spec.copy(), exp.Literal.number(index))


def duckdb_decimal_divisions(tree: exp.Expression) -> exp.Expression:
    """Every division, innermost first, as Redshift's DECIMAL quotient when DuckDB finds a DECIMAL operand (run
    after the rewrite pass: the divisor already fails on zero)."""
    specs: dict[int, exp.Expression] = {}  # id of a rewritten division -> its spec (it names the quotient's type)

    def type_name(operand: exp.Expression) -> exp.Expression:
        inner = operand.unnest()
        if id(inner) in specs:  # a quotient's type from its spec, not typeof() of the whole rewritten division
            return _field(specs[id(inner)], 4)
        return _call("typeof", operand.copy())

    for division in reversed(list(tree.find_all(exp.Div))):
        if _native(division) or division.find_ancestor(exp.ColumnDef) is not None:
            continue
        dividend, divisor = division.this, division.expression
        spec = _call("shiftflow_quotient_spec", type_name(dividend), type_name(divisor))
        scale = exp.cast(_field(spec, 2), exp.DataType.Type.INT)
        unit = exp.Anonymous(this="round", expressions=[
            exp.cast(_field(spec, 5), exp.DataType.build("DECIMAL(38, 38)")), scale])
        typed = exp.Anonymous(this="round", expressions=[_call("shiftflow_decimal_of_width", _field(spec, 6)),
                                                         scale.copy()])
        value = _call("cast_to_type", _call("shiftflow_decimal_quotient", dividend.copy(), divisor.copy(),
                                            _field(spec, 3), unit), typed)
        quotient = _call("shiftflow_quotient", exp.Div(this=dividend.copy(), expression=divisor.copy()), value,
                         _field(spec, 1))
        specs[id(quotient)] = spec
        if division is tree:
            return quotient
        division.replace(quotient)
    return tree


DUCKDB_SETUP = (
    # [precision, scale, 1 for a DECIMAL] of a type's name as Redshift counts an operand (integers as
    # DECIMAL(5 | 10 | 19, 0); DuckDB's HUGEINT is its sum of integers, Redshift's BIGINT); NULL for other types.
    # A lambda names the argument once (a macro argument is copied at each use).
    "CREATE OR REPLACE TEMP MACRO shiftflow_numeric_type(type_name) AS list_transform([type_name], lambda n: CASE"
    " WHEN n LIKE 'DECIMAL(%' THEN [CAST(regexp_extract(n, '\\((\\d+),', 1) AS INTEGER),"
    " CAST(regexp_extract(n, ',(\\d+)\\)', 1) AS INTEGER), 1]"
    " WHEN n IN ('TINYINT', 'SMALLINT') THEN [5, 0, 0] WHEN n = 'INTEGER' THEN [10, 0, 0]"
    " WHEN n IN ('BIGINT', 'HUGEINT') THEN [19, 0, 0] END)[1]",
    # The quotient of operands of these types: [kind ('decimal' or 'native'), its scale s, 10^(s + s2 - s1) (the
    # dividend's unscaled value times it, over the divisor's, is the quotient's unscaled value), its type's name,
    # 10^-s, its precision p]. v is [p1, s1, decimal?, p2, s2, decimal?]; a native quotient of two integers is the
    # wider integer.
    "CREATE OR REPLACE TEMP MACRO shiftflow_quotient_spec(ta, tb) AS list_transform("
    "[shiftflow_numeric_type(ta) || shiftflow_numeric_type(tb)], lambda v: CASE WHEN v IS NULL OR v[3] + v[6] = 0"
    " THEN ['native', '4', '1', CASE WHEN v IS NULL THEN 'DOUBLE' WHEN greatest(v[1], v[4]) = 19 THEN 'BIGINT'"
    " WHEN greatest(v[1], v[4]) = 10 THEN 'INTEGER' ELSE 'SMALLINT' END, '0.0001', '38']"
    " ELSE list_transform([CASE WHEN v[1] - v[2] + v[5] + greatest(4, v[2] + v[4] - v[5] + 1) > 38"
    " THEN greatest(38 - (v[1] - v[2] + v[5]), 4) ELSE greatest(4, v[2] + v[4] - v[5] + 1) END],"
    " lambda s: ['decimal', CAST(s AS VARCHAR), '1' || repeat('0', s + v[5] - v[2]),"
    " 'DECIMAL(' || least(38, v[1] - v[2] + v[5] + s) || ',' || s || ')', '0.' || repeat('0', s - 1) || '1',"
    " CAST(least(38, v[1] - v[2] + v[5] + s) AS VARCHAR)])[1] END)[1]",
    # Truncated toward zero (HUGEINT division), typed as `unit` (10^-s, DECIMAL(38, s)). TRY_CAST: the form is also
    # bound, unused, for operands of other types.
    "CREATE OR REPLACE TEMP MACRO shiftflow_decimal_quotient(a, b, power, unit) AS CAST("
    "TRY_CAST(replace(CAST(a AS VARCHAR), '.', '') AS HUGEINT) * CAST(power AS HUGEINT)"
    " // TRY_CAST(replace(CAST(b AS VARCHAR), '.', '') AS HUGEINT) AS DECIMAL(38, 0)) * unit",
    # DECIMAL(p, p) for p as text: round() to s then types the quotient DECIMAL(p, s).
    "CREATE OR REPLACE TEMP MACRO shiftflow_decimal_of_width(p) AS struct_extract({" + ", ".join(
        f"'{p}': CAST(0 AS DECIMAL({p}, {p}))" for p in range(1, 39)) + "}, p)",
    # A constant key picks a field of its own type; DuckDB drops the other one.
    "CREATE OR REPLACE TEMP MACRO shiftflow_quotient(native, decimal, kind) AS"
    " struct_extract({'native': native, 'decimal': decimal}, kind)",
)
