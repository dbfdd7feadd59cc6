"""Redshift JSON functions on SUPER values (SQL reference: "JSON functions").

JSON_PARSE(text) is the engine's JSON value (DuckDB JSON, PostgreSQL json: invalid JSON fails), reported as
super and printed as minified JSON text like Redshift's SUPER; JSON_TYPEOF names its type (object, array,
string, number, boolean, null). Navigating a JSON_PARSE call itself (json_parse(x)[0], .field) fails with
"not supported locally"; navigating a SUPER column or alias is functions/super.py's.
"""

from __future__ import annotations

import re

from sqlglot import exp

from shiftflow.dataapi.translate.model import NotSupportedLocally


_BLANKS_OUTSIDE_STRINGS = re.compile(r'("(?:[^"\\]|\\.)*")|\s+')


def minified_json(text: str) -> str:
    """JSON text as Redshift prints a SUPER value: no blanks outside strings, numbers and key order as written."""
    return _BLANKS_OUTSIDE_STRINGS.sub(lambda match: match.group(1) or "", text)


def _json_parse(node: exp.Anonymous, engine: str) -> exp.Expression:
    if len(node.expressions) != 1:
        return node
    if isinstance(node.parent, (exp.Bracket, exp.Dot)):
        raise NotSupportedLocally("navigating a SUPER value (json_parse(...)[...] or .attribute)")
    # A function of the session set-up (functions/super.py): it also parses VARBYTE (kafka_value, kinesis_data).
    return exp.Anonymous(this="shiftflow_json_parse", expressions=node.expressions)


def _json_typeof(node: exp.Anonymous, engine: str) -> exp.Expression:
    if len(node.expressions) != 1:
        return node
    value = node.expressions[0]
    if engine == "postgres":
        return exp.Anonymous(this="json_typeof", expressions=[exp.cast(value, exp.DataType.Type.JSON)])
    return exp.Anonymous(this="shiftflow_json_typeof", expressions=[value])


def _is_array(node: exp.IsArray, engine: str) -> exp.Expression:
    """IS_ARRAY(super): sqlglot writes DuckDB's form; PostgreSQL's json names its type."""
    if engine != "postgres":
        return node
    typeof = exp.Anonymous(this="json_typeof", expressions=[exp.cast(node.this, exp.DataType.Type.JSON)])
    return exp.Paren(this=exp.EQ(this=typeof, expression=exp.Literal.string("array")))


HANDLERS = {"json_parse": _json_parse, "json_typeof": _json_typeof, exp.IsArray: _is_array}
PARSER_FUNCTIONS = {"JSON_PARSE": lambda args: exp.Anonymous(this="json_parse", expressions=args),
                    "JSON_TYPEOF": lambda args: exp.Anonymous(this="json_typeof", expressions=args)}
COLUMN_NAMES = {"json_parse": "json_parse", "json_typeof": "json_typeof", exp.IsArray: "is_array"}

DUCKDB_SETUP = (
    # DuckDB's json_type names SQL types (VARCHAR, BIGINT, DOUBLE ...); Redshift names JSON ones.
    "CREATE OR REPLACE TEMP MACRO shiftflow_json_typeof(x) AS CASE json_type(CAST(x AS JSON))"
    " WHEN 'OBJECT' THEN 'object' WHEN 'ARRAY' THEN 'array' WHEN 'VARCHAR' THEN 'string'"
    " WHEN 'BOOLEAN' THEN 'boolean' WHEN 'NULL' THEN 'null' ELSE 'number' END",
)
POSTGRES_SETUP: tuple[str, ...] = ()
