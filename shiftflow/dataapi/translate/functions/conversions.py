"""Implicit conversion of string functions' arguments (SQL reference: "Type compatibility and conversion",
implicit conversion: numeric and datetime values convert to character strings where a string is expected).

Redshift runs `strpos(commission, '.')` on a DECIMAL column, `ltrim(listtime, '2008-')` and `substring(listtime,
6, 2)` on a TIMESTAMP, `repeat(catid, 3)` on a SMALLINT and `saletime like '2008-09%'`: the value's text
('2008-09-18 02:36:48', '10.00') goes into the function. The engines bind those functions to text only, so the
argument goes through shiftflow_text: the value's text for every type but VARBYTE, whose string functions return
VARBYTE on Redshift: DuckDB's fail with "not supported locally" rather than run on the value's text, PostgreSQL's
are its own of bytea; SUBSTRING of a visibly VARBYTE value (a cast to VARBYTE) on DuckDB is
a slice of its bytes (r_SUBSTRING.md). PostgreSQL's shiftflow_text has one overload per type, text and bytea returned as they are (a
CHAR keeps its padding, which PostgreSQL's LIKE of a CHAR reads); a type without one (json, interval ...) fails.
"""

from __future__ import annotations

from sqlglot import exp

from shiftflow.dataapi.translate.functions.strings import visibly_text

# The string functions and the argument that holds the string.
_STRING_ARGUMENT = {exp.StrPosition: "this", exp.Substring: "this", exp.Trim: "this", exp.Repeat: "this",
                    exp.Reverse: "this", exp.Left: "this", exp.Right: "this", exp.Pad: "this", exp.Upper: "this",
                    exp.Lower: "this", exp.Initcap: "this", exp.Like: "this", exp.ILike: "this",
                    exp.SplitPart: "this", exp.Replace: "this", exp.Translate: "this"}
# Values that are text already: no conversion to add.
_TEXT_VALUES = (exp.DPipe, exp.Concat, exp.Placeholder, exp.Null, *_STRING_ARGUMENT)


def _is_text(node: exp.Expression) -> bool:
    if isinstance(node, exp.Paren):
        return _is_text(node.this)
    return visibly_text(node) or isinstance(node, _TEXT_VALUES) and not isinstance(node, (exp.Like, exp.ILike))


def text_argument(argument: exp.Expression) -> exp.Expression:
    """A string function's argument, converted to text as Redshift converts it."""
    return argument if _is_text(argument) else exp.Anonymous(this="shiftflow_text", expressions=[argument])


_BYTES = {exp.DataType.Type.VARBINARY, exp.DataType.Type.BINARY}


def _byte_slice(node: exp.Substring) -> exp.Expression:
    """SUBSTRING(varbyte, start [, length]) on DuckDB: the bytes from start (positions before the first count
    when start is below 1, as for text) to the end or for length bytes."""
    value, start, length = node.this, node.args.get("start"), node.args.get("length")
    first = exp.Greatest(this=start.copy(), expressions=[exp.Literal.number(1)])
    last = exp.Anonymous(this="octet_length", expressions=[value.copy()]) if length is None else exp.Sub(
        this=exp.Add(this=exp.Paren(this=start.copy()), expression=exp.Paren(this=length.copy())),
        expression=exp.Literal.number(1))
    return exp.Bracket(this=exp.Paren(this=value), expressions=[exp.Slice(this=first, expression=last)])


def _as_text(node: exp.Expression, engine: str) -> exp.Expression:
    argument = node.args.get(_STRING_ARGUMENT[type(node)])
    if engine == "duckdb" and isinstance(node, exp.Substring) and isinstance(argument, exp.Cast) \
            and argument.to.this in _BYTES and node.args.get("start") is not None:
        return _byte_slice(node)
    if argument is not None:
        node.set(_STRING_ARGUMENT[type(node)], text_argument(argument))  # the same helper name on PostgreSQL
    return node


PARSER_FUNCTIONS: dict = {}
HANDLERS = dict.fromkeys(_STRING_ARGUMENT, _as_text)
COLUMN_NAMES: dict = {}
DUCKDB_SETUP: tuple[str, ...] = (
    "CREATE OR REPLACE TEMP MACRO shiftflow_text(x) AS CASE WHEN typeof(x) = 'BLOB' THEN"
    " error('not supported locally: a string function of a VARBYTE value on the DuckDB engine')"
    " ELSE CAST(x AS VARCHAR) END",
)
_POSTGRES_AS_TEXT = ("smallint", "integer", "bigint", "numeric", "real", "double precision", "boolean", "date",
                     "time", "time with time zone", "timestamp", "timestamp with time zone")
_POSTGRES_TEXT = ("text", "character varying", "character", '"char"', "name")
POSTGRES_SETUP: tuple[str, ...] = (
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_text(x {kind}) RETURNS text LANGUAGE sql IMMUTABLE"
      " AS $f$ SELECT x::text $f$" for kind in _POSTGRES_AS_TEXT),
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_text(x {kind}) RETURNS {kind} LANGUAGE sql IMMUTABLE"
      " AS $f$ SELECT x $f$" for kind in _POSTGRES_TEXT),
    # VARBYTE: PostgreSQL's string functions of bytea return bytea, as Redshift's of VARBYTE do.
    "CREATE OR REPLACE FUNCTION public.shiftflow_text(x bytea) RETURNS bytea LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT x $f$",
)
