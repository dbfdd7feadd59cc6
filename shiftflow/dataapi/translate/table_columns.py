"""The columns of the session's tables as Redshift's catalog shows them (format_type()'s text of each type, or a
refusal), on both engines: pg_table_def's rows (table_def.py) and the tables' declarations (declarations.py) read
them. The emulator's own tables (shiftflow_*) are left out.
"""

from __future__ import annotations

import re
from typing import Any

from shiftflow.dataapi.engines.base import EngineSession

REFUSED = "not supported locally: "  # a value that starts so is a refusal, raised when read (system.py)

# DuckDB's type names -> format_type()'s; text and binary types come from their length CHECK (types.py).
_DUCKDB_TYPES = {"INTEGER": "integer", "SMALLINT": "smallint", "BIGINT": "bigint", "DOUBLE": "double precision",
                 "FLOAT": "real", "BOOLEAN": "boolean", "DATE": "date", "TIMESTAMP": "timestamp without time zone",
                 "TIMESTAMP WITH TIME ZONE": "timestamp with time zone", "TIME": "time without time zone",
                 "TIME WITH TIME ZONE": "time with time zone", "JSON": "super"}
_POSTGRES_TYPES = {"json": "super"}  # the PostgreSQL engine keeps SUPER as json
_UNSIZED = {"VARCHAR", "BLOB", "character varying", "text", "bytea", "numeric"}
_LENGTH_CHECK = re.compile(r"value too long for type ((?:character varying|character|varbyte)\(\d+\))")
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")

DUCKDB_COLUMNS = (
    "SELECT c.schema_name, c.table_name, c.database_name = 'temp', c.column_name, c.data_type, NOT c.is_nullable,"
    " (SELECT string_agg(k.constraint_text, ' ') FROM duckdb_constraints() k WHERE k.table_oid = c.table_oid"
    " AND k.constraint_type = 'CHECK' AND k.constraint_column_names[1] = c.column_name)"
    " FROM duckdb_columns() c WHERE NOT c.internal AND c.database_name IN (current_database(), 'temp')"
    " AND NOT starts_with(c.table_name, 'shiftflow_') AND NOT starts_with(c.schema_name, 'shiftflow_')"
    " ORDER BY c.table_oid, c.column_index")
# pg_table_is_visible() is PostgreSQL's own: the search path, temporary schema first, hidden names left out.
POSTGRES_COLUMNS = (
    "SELECT n.nspname::text, c.relname::text, n.oid = pg_my_temp_schema(), a.attname::text,"
    " format_type(a.atttypid, a.atttypmod), a.attnotnull,"
    " (SELECT string_agg(pg_get_constraintdef(k.oid), ' ') FROM pg_constraint k WHERE k.conrelid = c.oid"
    " AND k.contype = 'c' AND k.conkey = ARRAY[a.attnum])"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid"
    " WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm') AND pg_table_is_visible(c.oid)"
    " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND NOT starts_with(c.relname::text, 'shiftflow_')"
    " ORDER BY 1, 2, a.attnum")


def table_columns(session: EngineSession, schema: str, table: str, temporary: bool) -> list[tuple[str, str, bool, str]]:
    """(column, pg_table_def type, notnull, type class) of one table, in order: declarations.py's view of it."""
    if session.engine == "duckdb":
        found = [c for c in session.execute(DUCKDB_COLUMNS, {}).rows
                 if c[1] == table and (c[2] if temporary else (not c[2] and c[0] == schema))]
    else:
        found = [c for c in session.execute(POSTGRES_COLUMNS.replace(" AND pg_table_is_visible(c.oid)", ""), {}).rows
                 if c[1] == table and c[0] == schema]
    result = []
    for column in found:
        row = column_row(session.engine, *column)
        result.append((row["column"], row["type"], row["notnull"], type_class(session.engine, column[4], row["type"])))
    return result


_CLASSES = (("boolean", "boolean"), ("real", "float"), ("double precision", "float"), ("smallint", "integer"),
            ("integer", "integer"), ("bigint", "integer"), ("numeric", "decimal"), ("date", "date"),
            ("timestamp", "timestamp"), ("time", "time"), ("character", "character"), ("varbyte", "varbyte"),
            ("super", "super"))
_DUCKDB_CLASSES = {"VARCHAR": "character", "BLOB": "varbyte", "JSON": "super", "TIME": "time", "DOUBLE": "float",
                   "FLOAT": "float"}


def type_class(engine: str, type_name: str, shown: str) -> str:
    """The family a column's type belongs to for the documented default encodings (declarations.py)."""
    if not shown.startswith(REFUSED):
        return next((kind for prefix, kind in _CLASSES if shown.startswith(prefix)), "")
    if engine == "duckdb":
        return _DUCKDB_CLASSES.get(type_name, "decimal" if type_name.startswith("DECIMAL") else "")
    return {"character varying": "character", "text": "character", "bytea": "varbyte", "numeric": "decimal"}.get(
        type_name, "")


def column_row(engine: str, schema: str, table: str, temporary: bool, column: str, type_name: str, not_null: bool,
         checks: str | None) -> dict[str, Any]:
    shown_schema = schema
    if temporary and engine == "duckdb":
        shown_schema = REFUSED + ("pg_table_def.schemaname of a temporary table on the DuckDB engine (Redshift's"
                                  " pg_temp_<n>)")
    return {"schemaname": shown_schema, "tablename": table, "column": column,
            "type": _redshift_type(engine, type_name, checks or ""), "notnull": bool(not_null)}


def _redshift_type(engine: str, type_name: str, checks: str) -> str:
    """format_type()'s text of the column as Redshift declares it, or a refusal."""
    sized = _LENGTH_CHECK.search(checks)
    if sized:
        return sized.group(1)
    if engine == "duckdb":
        decimal = _DECIMAL.fullmatch(type_name)
        if decimal:
            return f"numeric({decimal.group(1)},{decimal.group(2)})"
        known = _DUCKDB_TYPES.get(type_name)
    else:
        known = _POSTGRES_TYPES.get(type_name, None if type_name in _UNSIZED else type_name)
    if known is not None:
        return known
    if type_name in _UNSIZED:
        return REFUSED + f"pg_table_def.type of a {type_name} column without a length or precision the emulator keeps"
    return REFUSED + f"pg_table_def.type of a {engine} {type_name} column"
