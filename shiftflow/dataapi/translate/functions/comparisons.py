"""Comparisons of values of different types that Redshift converts implicitly ("Type compatibility and conversion",
c_Supported_data_types.md), where an engine refuses them or converts the other way.

- Text compared with an integer: "When comparing all other numeric values [than DECIMAL] with character strings, the
  numeric values are converted to character strings", so TICKIT's `date.qtr = 3` (qtr is CHAR(5), r_NEXT_DAY.md)
  compares '3' with the text, trailing blanks insignificant: '03' is not 3. PostgreSQL has no text = integer
  operator: the set-up adds text-with-integer comparison operators (=, <>, <, <=, >, >=, either side) in schema
  public that compare the integer's text with the text's without trailing blanks (after a script's SET search_path
  without public they are not found, and PostgreSQL's "operator does not exist" stays). DuckDB converts the text
  to an integer instead ('03' = 3 is true there, 'abc' = 3 an error): a column compared with an integer literal
  in a WHERE or ON condition goes through shiftflow_integer_operand, whose VARCHAR overload DuckDB picks while
  binding (the comparison is then of texts; any other type keeps `x = 3` as written, its filter pushed down as
  before). Elsewhere (select lists, HAVING, CASE, window specs) the whole comparison is one typed macro taking the
  column once, `shiftflow_integer_eq(x, 3)` and the like, so that an aggregate grouping.py wraps around the column
  stays its one argument. A column that may be an enclosing query's (strings.py says why typed macros cannot take
  one), a window's PARTITION BY / ORDER BY and any other operand keep DuckDB's rule (noted in
  translate/__init__.py).
- BOOLEAN compared with an integer (`where likevegas = 1`, r_logical_condition.md): DuckDB compares the boolean as
  0 or 1; PostgreSQL has no such operator, and the set-up adds boolean-with-integer = and <> with that meaning.
"""

from __future__ import annotations

from sqlglot import exp

from shiftflow.dataapi.translate.functions.strings import may_refer_outside, visibly_text, without_trailing_blanks

_OPERATORS = {exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}
# The macro of `column <op> integer` by operator, and the operator seen from the other side (`3 < x` is `x > 3`).
_MACRO_NAMES = {"=": "eq", "<>": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_MIRRORED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_INTEGER_TYPES = ("integer", "bigint")


def _integer_literal(node: exp.Expression) -> str | None:
    """The text of an integer literal (`3`, `-3`), or None."""
    if isinstance(node, exp.Neg):
        digits = _integer_literal(node.this)
        return None if digits is None or digits.startswith("-") else f"-{digits}"
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
        return str(int(node.this))
    return None


def _filter(node: exp.Expression) -> bool:
    """node is a condition of a WHERE or a join's ON (alone or under AND / OR / NOT): where a grouped column is never
    wrapped in an aggregate (grouping.py), which the typed macro would take wrongly."""
    parent = node.parent
    while isinstance(parent, (exp.And, exp.Or, exp.Not, exp.Paren)):
        parent = parent.parent
    return isinstance(parent, (exp.Where, exp.Join))


def _in_window_spec(node: exp.Expression) -> bool:
    """node is in a window's PARTITION BY or ORDER BY, which the window rewrites read as written (percentiles)."""
    child, parent = node, node.parent
    while parent is not None:
        if isinstance(parent, exp.Window) and child is not parent.this:
            return True
        child, parent = parent, parent.parent
    return False


def _assignment(node: exp.Expression) -> bool:
    """`a = 1` of UPDATE ... SET, MERGE's UPDATE SET, ON CONFLICT DO UPDATE SET or a SET statement: not a comparison."""
    return isinstance(node.parent, (exp.Update, exp.OnConflict, exp.SetItem)) and node.arg_key in ("expressions",
                                                                                                    "this")


def _compare_with_integer(node: exp.Binary, engine: str) -> exp.Expression:
    if _assignment(node):
        return node
    for operand_key, literal_key in (("this", "expression"), ("expression", "this")):
        operand, literal = node.args[operand_key], node.args[literal_key]
        digits = _integer_literal(literal)
        if digits is None or isinstance(operand, exp.Literal) or _integer_literal(operand) is not None:
            continue  # '3' = 3: an untyped literal takes the integer's type, as in PostgreSQL
        if visibly_text(operand):  # both engines: compared as texts, whatever the engine's own rule
            node.set(operand_key, without_trailing_blanks(operand))
            node.set(literal_key, exp.Literal.string(digits))
        elif engine == "duckdb" and isinstance(operand, exp.Column) and not may_refer_outside(operand):
            if _in_window_spec(node):
                return node  # DuckDB's own rule (translate/__init__.py)
            if not _filter(node):
                operator = _OPERATORS[type(node)]
                if operand_key == "expression":
                    operator = _MIRRORED[operator]
                return exp.Anonymous(this=f"shiftflow_integer_{_MACRO_NAMES[operator]}",
                                     expressions=[operand, literal])
            node.set(operand_key, without_trailing_blanks(operand))
            node.set(literal_key, exp.Anonymous(this="shiftflow_integer_operand", expressions=[operand.copy(), literal]))
        return node
    return node


def _postgres_operators() -> tuple[str, ...]:
    """A function and an operator per comparison, operand types and side (text or boolean with integer)."""
    statements = []
    for name, operator in (("eq", "="), ("ne", "<>"), ("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">=")):
        for integer in _INTEGER_TYPES:
            pairs = [(f"text_{integer}", "text", integer, "rtrim(a, ' ')", "b::text", operator),
                     (f"{integer}_text", integer, "text", "a::text", "rtrim(b, ' ')", operator)]
            if operator in ("=", "<>"):
                pairs += [(f"boolean_{integer}", "boolean", integer, "a::integer", "b", operator),
                          (f"{integer}_boolean", integer, "boolean", "a", "b::integer", operator)]
            for suffix, left, right, left_value, right_value, op in pairs:
                function = f"public.shiftflow_{name}_{suffix}"
                statements.append(
                    f"CREATE OR REPLACE FUNCTION {function}(a {left}, b {right}) RETURNS boolean LANGUAGE sql"
                    f" IMMUTABLE AS $f$ SELECT {left_value} {op} {right_value} $f$")
                statements.append(
                    f"DO $f$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_operator WHERE oprname = '{op}'"
                    f" AND oprleft = '{left}'::regtype AND oprright = '{right}'::regtype) THEN CREATE OPERATOR"
                    f" public.{op} (LEFTARG = {left}, RIGHTARG = {right}, FUNCTION = {function}); END IF; END $f$")
    return tuple(statements)


PARSER_FUNCTIONS: dict = {}
HANDLERS = {kind: _compare_with_integer for kind in _OPERATORS}
COLUMN_NAMES: dict = {}
DUCKDB_SETUP: tuple[str, ...] = (
    "CREATE OR REPLACE TEMP MACRO shiftflow_integer_operand(x VARCHAR, n) AS CAST(n AS VARCHAR), (x, n) AS n",
    *(f"CREATE OR REPLACE TEMP MACRO shiftflow_integer_{name}(x VARCHAR, n) AS rtrim(x, ' ') {operator}"
      f" CAST(n AS VARCHAR), (x, n) AS x {operator} n" for operator, name in _MACRO_NAMES.items()),
)
POSTGRES_SETUP: tuple[str, ...] = _postgres_operators()
