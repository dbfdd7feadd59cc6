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

from collections.abc import Iterable
from typing import Any

from shiftflow.dataapi.engines.base import EngineSession
import shiftflow.dataapi.translate.declarations as declarations
from shiftflow.dataapi.translate.table_columns import (DUCKDB_COLUMNS, POSTGRES_COLUMNS, REFUSED, column_row,
                                                       type_class)

_DUCKDB_VIEWS = "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal"
_POSTGRES_VIEWS = "SELECT schemaname::text, viewname::text FROM pg_views"


def table_def_rows(session: EngineSession) -> list[dict[str, Any]]:
    """PG_TABLE_DEF's rows for the session's search path (temporary tables first), ordered as Redshift's view."""
    if session.engine == "duckdb":
        found = _visible(session.execute(DUCKDB_COLUMNS, {}).rows, _duckdb_search_path(session))
    else:
        found = session.execute(POSTGRES_COLUMNS, {}).rows
    permanent, temporary = declarations.everything(session)
    views = {tuple(row) for row in session.execute(_DUCKDB_VIEWS if session.engine == "duckdb" else _POSTGRES_VIEWS,
                                                   {}).rows}
    rows = []
    for column in found:
        row = column_row(session.engine, *column)
        schema, table, is_temporary = column[0], column[1], column[2]
        declared = temporary.get(table) if is_temporary else permanent.get((schema, table))
        rows.append({**row, **_storage(declared, row["column"], type_class(session.engine, column[4], row["type"]),
                                       (schema, table) in views)})
    return sorted(rows, key=lambda row: (row["schemaname"], row["tablename"]))


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


