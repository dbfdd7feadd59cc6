"""Finding a DuckDB table by the name a statement gives it, as Redshift resolves names (commands that read the
catalog when they run: LIKE, text inserts by column type, CHAR(n) padding)."""

from __future__ import annotations

from shiftflow.dataapi.engines.base import EngineError, EngineSession


def resolve_table(session: EngineSession, table: str) -> int:
    """The table's oid, found as a name is: a temporary table first, then the schemas of the search path in order."""
    schema, _, name = table.rpartition(".")
    found = session.execute(
        "SELECT table_oid FROM duckdb_tables() WHERE table_name = $name AND database_name IN (current_database(),"
        " 'temp') AND (schema_name = $schema OR ($schema = '' AND (temporary"
        " OR list_contains(current_schemas(false), schema_name))))"
        " ORDER BY temporary DESC, list_position(current_schemas(false), schema_name) LIMIT 1",
        {"name": name, "schema": schema}).rows
    if not found:
        raise EngineError(f'relation "{table}" does not exist')
    return int(found[0][0])
