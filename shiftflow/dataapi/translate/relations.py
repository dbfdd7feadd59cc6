"""Finding a DuckDB table by the name a statement gives it, as Redshift resolves names (commands that read the
catalog when they run: LIKE, text inserts by column type, CHAR(n) padding), and whether the emulator's own catalog
tables exist (declarations, principals, procedures).

Both read DuckDB's catalog through the session's catalog_cached(): kept until any session of the database changes
the catalog (DDL, SET, the end of a transaction that ran DDL), so the statements of one DDL (its checks before and
after, the INSERT that follows) read it once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shiftflow.dataapi.engines.base import EngineError, EngineSession

# The emulator's own tables: in schemas of these names, or temporary tables of these names (a session's own).
INTERNAL_PREFIX = "shiftflow_"


def catalog_cached(session: EngineSession, key: Any, compute: Callable[[], Any]) -> Any:
    """`compute()`, kept by the session until the database's catalog changes (DuckDB); computed each time on an
    engine without the cache (PostgreSQL)."""
    cached = getattr(session, "catalog_cached", None)
    return cached(key, compute) if cached else compute()


def resolve_table(session: EngineSession, table: str) -> int:
    """The table's oid, found as a name is: a temporary table first, then the schemas of the search path in order."""
    schema, _, name = table.rpartition(".")

    def find() -> int | None:
        found = session.execute(
            "SELECT table_oid FROM duckdb_tables() WHERE table_name = $name AND database_name IN (current_database(),"
            " 'temp') AND (schema_name = $schema OR ($schema = '' AND (temporary"
            " OR list_contains(current_schemas(false), schema_name))))"
            " ORDER BY temporary DESC, list_position(current_schemas(false), schema_name) LIMIT 1",
            {"name": name, "schema": schema}).rows
        return int(found[0][0]) if found else None

    oid = catalog_cached(session, ("table_oid", table), find)
    if oid is None:
        raise EngineError(f'relation "{table}" does not exist')
    return oid


def internal_table_exists(session: EngineSession, schema: str, table: str) -> bool:
    """Whether DuckDB has the emulator's table `schema.table` (schema '' : the session's temporary table `table`).
    One query lists them all (every DDL checks one or two of them)."""
    def internal() -> frozenset[tuple[str, str]]:
        return frozenset((("" if temporary else schema_name), table_name) for schema_name, table_name, temporary in
                         session.execute("SELECT schema_name, table_name, temporary FROM duckdb_tables() WHERE"
                                         " starts_with(schema_name, $prefix) OR (temporary AND"
                                         " starts_with(table_name, $prefix))", {"prefix": INTERNAL_PREFIX}).rows)

    return (schema, table) in catalog_cached(session, ("internal_tables",), internal)
