"""PG_TABLE_DEF's rows (r_PG_TABLE_DEF.md) from the session's own catalog, on both engines.

Redshift's view lists the columns of every relation pg_table_is_visible() finds: the schemas of the search path in
order (the session's temporary schema first), a name hidden by the same name earlier in the path left out; tables
and views alike (the view has no filter on the kind of relation). Its type is format_type()'s text (`integer`,
`character varying(30)`, `numeric(8,2)`, `timestamp without time zone`).
What the emulator cannot tell is a refusal read only when the query reads it (system.py's refused values):
- the type of a text or binary column without a length the emulator keeps (VARCHAR without (n), TEXT, VARCHAR(MAX),
  CREATE TABLE AS columns on DuckDB), of a NUMERIC without precision on PostgreSQL, of a type Redshift lacks;
- the schemaname of a temporary table on DuckDB (Redshift's pg_temp_<n>, whose number the emulator does not have).
Redshift also lists its own pg_catalog tables (stl_* and the rest): system.py makes a query say which user tables
or schemas it reads.
encoding, distkey and sortkey come from the tables' declarations (declarations.py); a view's are refused (Redshift
does not document them), and so are those the declarations cannot tell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from shiftflow.dataapi.engines.base import EngineSession
from shiftflow.dataapi.translate import declarations

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

_DUCKDB_COLUMNS = (
    "SELECT c.schema_name, c.table_name, c.database_name = 'temp', c.column_name, c.data_type, NOT c.is_nullable,"
    " (SELECT string_agg(k.constraint_text, ' ') FROM duckdb_constraints() k WHERE k.table_oid = c.table_oid"
    " AND k.constraint_type = 'CHECK' AND k.constraint_column_names[1] = c.column_name)"
    " FROM duckdb_columns() c WHERE NOT c.internal AND c.database_name IN (current_database(), 'temp')"
    f" AND c.table_name <> '{declarations.TEMPORARY}' AND NOT starts_with(c.schema_name, 'shiftflow_')"
    " ORDER BY c.table_oid, c.column_index")
# pg_table_is_visible() is PostgreSQL's own: the search path, temporary schema first, hidden names left out.
_POSTGRES_COLUMNS = (
    "SELECT n.nspname::text, c.relname::text, n.oid = pg_my_temp_schema(), a.attname::text,"
    " format_type(a.atttypid, a.atttypmod), a.attnotnull,"
    " (SELECT string_agg(pg_get_constraintdef(k.oid), ' ') FROM pg_constraint k WHERE k.conrelid = c.oid"
    " AND k.contype = 'c' AND k.conkey = ARRAY[a.attnum])"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid"
    " WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm') AND pg_table_is_visible(c.oid)"
    f" AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND c.relname <> '{declarations.TEMPORARY}'"
    " ORDER BY 1, 2, a.attnum")
_DUCKDB_VIEWS = "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal"
_POSTGRES_VIEWS = "SELECT schemaname::text, viewname::text FROM pg_views"


def table_def_rows(session: EngineSession) -> list[dict[str, Any]]:
    """PG_TABLE_DEF's rows for the session's search path (temporary tables first), ordered as Redshift's view."""
    if session.engine == "duckdb":
        found = _visible(session.execute(_DUCKDB_COLUMNS, {}).rows, _duckdb_search_path(session))
    else:
        found = session.execute(_POSTGRES_COLUMNS, {}).rows
    permanent, temporary = declarations.everything(session)
    views = {tuple(row) for row in session.execute(_DUCKDB_VIEWS if session.engine == "duckdb" else _POSTGRES_VIEWS,
                                                   {}).rows}
    rows = []
    for column in found:
        row = _row(session.engine, *column)
        schema, table, is_temporary = column[0], column[1], column[2]
        declared = temporary.get(table) if is_temporary else permanent.get((schema, table))
        rows.append({**row, **_storage(declared, row["column"], type_class(session.engine, column[4], row["type"]),
                                       (schema, table) in views)})
    return sorted(rows, key=lambda row: (row["schemaname"], row["tablename"]))


def table_columns(session: EngineSession, schema: str, table: str, temporary: bool) -> list[tuple[str, str, bool, str]]:
    """(column, pg_table_def type, notnull, type class) of one table, in order: declarations.py's view of it."""
    if session.engine == "duckdb":
        found = [c for c in session.execute(_DUCKDB_COLUMNS, {}).rows
                 if c[1] == table and (c[2] if temporary else (not c[2] and c[0] == schema))]
    else:
        found = [c for c in session.execute(_POSTGRES_COLUMNS.replace(" AND pg_table_is_visible(c.oid)", ""), {}).rows
                 if c[1] == table and c[0] == schema]
    result = []
    for column in found:
        row = _row(session.engine, *column)
        result.append((row["column"], row["type"], row["notnull"], type_class(session.engine, column[4], row["type"])))
    return result


def _storage(declared: declarations.Declared | None, column: str, kind: str, view: bool) -> dict[str, Any]:
    """encoding, distkey, sortkey of one column (a refusal in each when they cannot be told)."""
    if view or declared is None:
        why = REFUSED + ("pg_table_def's encoding, distkey and sortkey of a view (Redshift does not document them)"
                         if view else "pg_table_def's encoding, distkey and sortkey of a table the emulator did not"
                         " see created (made inside a stored procedure, or before the emulator kept them)")
        return {"encoding": why, "distkey": why, "sortkey": why}
    distribution, sortkey = declared.unknown.get("distribution"), declared.unknown.get("sortkey")
    return {"encoding": declared.encoding(column, kind),
            "distkey": REFUSED + f"pg_table_def.distkey of {distribution}" if distribution else
            str(declared.distkey == column).lower(),
            "sortkey": REFUSED + f"pg_table_def.sortkey of {sortkey}" if sortkey else
            str(declared.sort_position(column))}


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


def _duckdb_search_path(session: EngineSession) -> list[str]:
    return list(session.execute("SELECT current_schemas(false)", {}).rows[0][0])


def _visible(columns: Iterable[tuple[Any, ...]], path: list[str]) -> list[tuple[Any, ...]]:
    """The columns of the relations a plain name finds: temporary ones first, then the path's schemas in order."""
    order = {schema: rank for rank, schema in enumerate(path, start=1)}
    ranked = [(0 if temporary else order[schema], column) for column in columns
              for schema, temporary in [(column[0], column[2])] if temporary or schema in order]
    first: dict[str, int] = {}
    for rank, (_, table, *_) in ranked:
        first[table] = min(rank, first.get(table, rank))
    return [column for rank, column in ranked if first[column[1]] == rank]


def _row(engine: str, schema: str, table: str, temporary: bool, column: str, type_name: str, not_null: bool,
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
