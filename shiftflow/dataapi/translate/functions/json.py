"""Redshift JSON functions on SUPER values (SQL reference: "JSON functions").

JSON_PARSE(text) is the engine's JSON value (DuckDB JSON, PostgreSQL json: invalid JSON fails), reported as
super and printed as minified JSON text like Redshift's SUPER; JSON_TYPEOF names its type (object, array,
string, number, boolean, null). Navigating a JSON_PARSE call itself (json_parse(x)[0], .field) fails with
"not supported locally"; navigating a SUPER column or alias is functions/super.py's.

SUPER type information (r_is_array.md ...): IS_ARRAY, IS_OBJECT, IS_SCALAR, IS_BOOLEAN, IS_NUMBER, IS_VARCHAR,
IS_CHAR (ASCII text), IS_SMALLINT / IS_INTEGER / IS_BIGINT (numbers of scale 0 in the 16, 32, 64-bit range); each
is false for NULL. A SUPER value here is JSON, which keeps no DECIMAL / FLOAT distinction: IS_DECIMAL, IS_FLOAT,
IS_FP, DECIMAL_PRECISION and DECIMAL_SCALE are refused (rewrite.py). OBJECT(key, value, ...) is a JSON object.
JSON_SERIALIZE(super) (JSON_SERIALIZE.md) is the value's minified text as the emulator prints it (no blanks outside
strings, numbers as written), a VARCHAR; JSON_SERIALIZE_TO_VARBYTE the same text's UTF-8 bytes, a VARBYTE (cast to
VARCHAR: the text again, JSON_SERIALIZE_TO_VARBYTE.md); JSON_SIZE the number of those bytes. A value that is not SUPER
fails (DuckDB: "not supported locally"; PostgreSQL: no such function).

On JSON text (VARCHAR): JSON_EXTRACT_PATH_TEXT (its path of keys and null_if_invalid; the helper lives in setup.py
beside JSON_EXTRACT_ARRAY_ELEMENT_TEXT's).
"""

from __future__ import annotations

import re

from sqlglot import exp

from shiftflow.dataapi.engines.base import EngineError
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


# SUPER type predicates: the value's JSON type (DuckDB's json_type, PostgreSQL's json_typeof) and, for
# integers, the digits' range.
_PREDICATES = ("is_array", "is_object", "is_scalar", "is_boolean", "is_number", "is_varchar", "is_char",
               "is_smallint", "is_integer", "is_bigint")


def _super_function(node: exp.Anonymous, engine: str) -> exp.Expression:
    """A SUPER function of the session set-up (shiftflow_<name>), called with its one argument."""
    if len(node.expressions) != 1:
        return node
    return exp.Anonymous(this=f"shiftflow_{node.name.lower()}", expressions=node.expressions)


_NOT_SUPER = {exp.DataType.Type.DATE: "date", exp.DataType.Type.TIMESTAMP: "timestamp",
              exp.DataType.Type.TIMESTAMPTZ: "timestamptz", exp.DataType.Type.TIME: "time",
              exp.DataType.Type.TIMETZ: "timetz"}


def _object(node: exp.Anonymous, engine: str) -> exp.Expression:
    """OBJECT(key, value, ...) (r_object_function.md): a JSON object of the pairs. A datetime value "can't be
    converted to SUPER": refused as Redshift refuses it (visibly typed ones on both engines, any on DuckDB, where
    shiftflow_super_value checks the value's type when it runs)."""
    arguments = list(node.expressions)
    if len(arguments) % 2:
        return node  # the engine's error for an odd number of arguments
    for value in arguments[1::2]:
        if isinstance(value, exp.Cast) and value.to.this in _NOT_SUPER:
            raise EngineError(f"OBJECT could not convert type {_NOT_SUPER[value.to.this]} to super")
    if engine == "postgres":
        return exp.Anonymous(this="json_build_object", expressions=arguments)
    checked = [argument if index % 2 == 0 or isinstance(argument, exp.Literal)
               else exp.Anonymous(this="shiftflow_super_value", expressions=[argument])
               for index, argument in enumerate(arguments)]
    return exp.cast(exp.Anonymous(this="json_object", expressions=checked), exp.DataType.Type.JSON)


def _json_serialize(node: exp.Anonymous, engine: str) -> exp.Expression:
    if len(node.expressions) != 1:
        return node
    return exp.Anonymous(this="shiftflow_json_serialize", expressions=node.expressions)


def _json_serialize_to_varbyte(node: exp.Anonymous, engine: str) -> exp.Expression:
    """A cast to VARBYTE, so that a cast of it to VARCHAR reads its bytes as UTF-8 (types.py on PostgreSQL)."""
    if len(node.expressions) != 1:
        return node
    text = exp.Anonymous(this="shiftflow_json_serialize", expressions=node.expressions)
    encoded = exp.Anonymous(this="encode", expressions=[text]) if engine == "duckdb" else exp.Anonymous(
        this="convert_to", expressions=[text, exp.Literal.string("UTF8")])
    return exp.cast(encoded, exp.DataType.Type.VARBINARY)


def _json_extract_path_text(node: exp.Anonymous, engine: str) -> exp.Expression:
    """JSON_EXTRACT_PATH_TEXT(json_string, path_elem [, ...] [, null_if_invalid]) (JSON_EXTRACT_PATH_TEXT.md): the
    text at the path of keys, NULL when a key is missing; invalid JSON fails unless null_if_invalid is true. The
    session set-up's shiftflow_json_extract_path_text (setup.py, beside JSON_EXTRACT_ARRAY_ELEMENT_TEXT's) takes
    the path as one value: a JSONPath of quoted keys on DuckDB, a text[] on PostgreSQL. A trailing BOOLEAN literal
    is null_if_invalid, as Redshift reads it (a path element is text)."""
    arguments = list(node.expressions)
    flag: exp.Expression = exp.false()
    if len(arguments) > 2 and isinstance(arguments[-1], exp.Boolean):
        flag = arguments.pop()
    document, keys = arguments[0], arguments[1:]
    if not keys:
        return node  # the engine's error for a call without a path
    if engine == "postgres":
        path: exp.Expression = exp.cast(exp.Array(expressions=[exp.cast(key, exp.DataType.Type.TEXT) for key in keys]),
                                        exp.DataType.build("text[]"))
    else:
        pieces: list[exp.Expression] = [exp.Literal.string("$")]
        for key in keys:
            if isinstance(key, exp.Literal) and key.is_string:
                if '"' in key.this:
                    raise NotSupportedLocally(f"json_extract_path_text() of a key with a double quote ({key.this})")
                pieces.append(exp.Literal.string(f'."{key.this}"'))
            else:
                pieces += [exp.Literal.string('."'), exp.cast(key, exp.DataType.Type.VARCHAR), exp.Literal.string('"')]
        path = pieces[0]
        for piece in pieces[1:]:
            if isinstance(path, exp.Literal) and isinstance(piece, exp.Literal):
                path = exp.Literal.string(path.this + piece.this)
            else:
                path = exp.DPipe(this=path, expression=piece)
    return exp.Anonymous(this="shiftflow_json_extract_path_text", expressions=[document, path, flag])


HANDLERS = {"json_parse": _json_parse, "json_typeof": _json_typeof, "object": _object,
            "json_extract_path_text": _json_extract_path_text, "json_serialize": _json_serialize,
            "json_serialize_to_varbyte": _json_serialize_to_varbyte,
            **dict.fromkeys((*_PREDICATES, "json_size"), _super_function)}
PARSER_FUNCTIONS = {name.upper(): (lambda args, name=name: exp.Anonymous(this=name, expressions=args))
                    for name in ("json_parse", "json_typeof", "object", "json_size", "json_extract_path_text",
                                 "json_serialize", "json_serialize_to_varbyte", *_PREDICATES)}
COLUMN_NAMES = {"json_parse": "json_parse", "json_typeof": "json_typeof", "object": "object", "json_size": "json_size",
                "json_extract_path_text": "json_extract_path_text", "json_serialize": "json_serialize",
                "json_serialize_to_varbyte": "json_serialize_to_varbyte", **{name: name for name in _PREDICATES}}
_RANGES = {"smallint": 2 ** 15, "integer": 2 ** 31, "bigint": 2 ** 63}
# The predicates that test the JSON type alone: DuckDB's json_type, PostgreSQL's json_typeof.
_JSON_TYPE_TESTS = {"is_array": ("= 'ARRAY'", "= 'array'"), "is_object": ("= 'OBJECT'", "= 'object'"),
                    "is_scalar": ("NOT IN ('ARRAY', 'OBJECT', 'NULL')", "IN ('string', 'number', 'boolean')"),
                    "is_boolean": ("= 'BOOLEAN'", "= 'boolean'"),
                    "is_number": ("IN ('BIGINT', 'UBIGINT', 'DOUBLE')", "= 'number'"),
                    "is_varchar": ("= 'VARCHAR'", "= 'string'")}

# A JSON text's blanks outside strings, for regexp_replace(text, _MINIFY, '\1', 'g'), as minified_json finds them.
_MINIFY = _BLANKS_OUTSIDE_STRINGS.pattern
DUCKDB_SETUP = (
    # DuckDB's json_type names SQL types (VARCHAR, BIGINT, DOUBLE ...); Redshift names JSON ones. A SQL NULL has
    # no type (NULL, as PostgreSQL's json_typeof), unlike a JSON null.
    "CREATE OR REPLACE TEMP MACRO shiftflow_json_typeof(x) AS CASE json_type(CAST(x AS JSON))"
    " WHEN 'OBJECT' THEN 'object' WHEN 'ARRAY' THEN 'array' WHEN 'VARCHAR' THEN 'string'"
    " WHEN 'BOOLEAN' THEN 'boolean' WHEN 'NULL' THEN 'null' WHEN 'BIGINT' THEN 'number' WHEN 'UBIGINT'"
    " THEN 'number' WHEN 'DOUBLE' THEN 'number' END",
    *(f"CREATE OR REPLACE TEMP MACRO shiftflow_{name}(x) AS coalesce(json_type(CAST(x AS JSON)) {test}, false)"
      for name, (test, _) in _JSON_TYPE_TESTS.items()),
    "CREATE OR REPLACE TEMP MACRO shiftflow_is_char(x) AS coalesce(json_type(CAST(x AS JSON)) = 'VARCHAR'"
    " AND regexp_full_match(json_extract_string(CAST(x AS JSON), '$'), '[[:ascii:]]*'), false)",
    *(f"CREATE OR REPLACE TEMP MACRO shiftflow_is_{kind}(x) AS coalesce(json_type(CAST(x AS JSON))"
      f" IN ('BIGINT', 'UBIGINT') AND TRY_CAST(CAST(CAST(x AS JSON) AS VARCHAR) AS HUGEINT)"
      f" BETWEEN -{size} AND {size - 1}, false)" for kind, size in _RANGES.items()),
    "CREATE OR REPLACE TEMP MACRO shiftflow_super_value(v) AS CASE WHEN typeof(v) IN ('DATE', 'TIME')"
    " OR starts_with(typeof(v), 'TIMESTAMP') OR starts_with(typeof(v), 'TIME ') THEN error('OBJECT could not"
    " convert type ' || replace(lower(typeof(v)), ' with time zone', 'tz') || ' to super') ELSE v END",
    # the text as printed (minified_json: no blanks outside strings; DuckDB's json() would rewrite 1.50 as 1.5)
    "CREATE OR REPLACE TEMP MACRO shiftflow_json_serialize(x) AS CASE WHEN x IS NULL THEN NULL"
    f" WHEN typeof(x) = 'JSON' THEN regexp_replace(CAST(x AS VARCHAR), '{_MINIFY}', '\\1', 'g')"
    " ELSE error('not supported locally: json_serialize() of ' || typeof(x) || ' (a value that is not SUPER)') END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_json_size(x) AS CAST(strlen(shiftflow_json_serialize(CAST(x AS JSON)))"
    " AS INTEGER)",
)
POSTGRES_SETUP: tuple[str, ...] = (
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_{name}(x json) RETURNS boolean LANGUAGE sql IMMUTABLE"
      f" AS $f$ SELECT coalesce(json_typeof(x) {test}, false) $f$" for name, (_, test) in _JSON_TYPE_TESTS.items()),
    "CREATE OR REPLACE FUNCTION public.shiftflow_is_char(x json) RETURNS boolean LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT coalesce(json_typeof(x) = 'string' AND (x #>> '{}') ~ '^[[:ascii:]]*$', false) $f$",
    *(f"CREATE OR REPLACE FUNCTION public.shiftflow_is_{kind}(x json) RETURNS boolean LANGUAGE sql IMMUTABLE"
      f" AS $f$ SELECT coalesce(json_typeof(x) = 'number' AND (x #>> '{{}}') ~ '^-?[0-9]+$'"
      f" AND (x #>> '{{}}')::numeric BETWEEN -{size} AND {size - 1}, false) $f$" for kind, size in _RANGES.items()),
    # the text as printed (minified_json: no blanks outside strings)
    "CREATE OR REPLACE FUNCTION public.shiftflow_json_serialize(x json) RETURNS text LANGUAGE sql IMMUTABLE"
    f" AS $f$ SELECT regexp_replace(x::text, '{_MINIFY}', '\\1', 'g') $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_json_size(x json) RETURNS integer LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT octet_length(public.shiftflow_json_serialize(x)) $f$",
)
