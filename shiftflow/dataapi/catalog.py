"""The catalog operations (ListDatabases, ListSchemas, ListTables, DescribeTable) from the engine's
information_schema, the same on DuckDB and PostgreSQL but for the placeholders."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shiftflow.dataapi import statements as st
from shiftflow.dataapi.engines.base import Column, EngineError, QueryResult
from shiftflow.dataapi.errors import ValidationException
from shiftflow.dataapi.paging import paged
from shiftflow.dataapi.sessions import SessionPool

_PAGE = 1000
# information_schema data_type (DuckDB upper case, PostgreSQL lower case) -> Redshift type name.
_CATALOG_TYPES = {
    "integer": "int4", "int": "int4", "bigint": "int8", "smallint": "int2", "tinyint": "int2", "hugeint": "int8",
    "decimal": "numeric", "numeric": "numeric", "double": "float8", "double precision": "float8",
    "float": "float4", "real": "float4", "boolean": "bool", "varchar": "varchar", "character varying": "varchar",
    "text": "varchar", "character": "bpchar", "date": "date", "time": "time", "timestamp": "timestamp",
    "timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz", "blob": "varbyte",
    "bytea": "varbyte",
}


class Catalog:
    """Answers from the database the request connects to (ConnectedDatabase, else Database). Requests arrive
    validated, their target included."""

    def __init__(self, pool: SessionPool) -> None:
        self._pool = pool

    def list_databases(self, request: Mapping[str, Any]) -> dict[str, Any]:
        engine = self._pool.engine
        known = set(engine.databases()) if hasattr(engine, "databases") else set()
        return paged("Databases", sorted(known | {request["Database"]}), request, _PAGE)

    def list_schemas(self, request: Mapping[str, Any]) -> dict[str, Any]:
        rows = self._query(request, "SELECT DISTINCT schema_name FROM information_schema.schemata "
                                    "WHERE schema_name LIKE {p} ORDER BY 1", {"p": request.get("SchemaPattern", "%")})
        return paged("Schemas", [row[0] for row in rows if self._shown(row[0])], request, _PAGE)

    def list_tables(self, request: Mapping[str, Any]) -> dict[str, Any]:
        params = {"s": request.get("SchemaPattern", "%"), "t": request.get("TablePattern", "%")}
        rows = self._query(request, "SELECT table_name, table_type, table_schema FROM information_schema.tables "
                                    "WHERE table_schema LIKE {s} AND table_name LIKE {t} ORDER BY 3, 1", params)
        tables = [{"name": n, "type": "VIEW" if "VIEW" in t else "TABLE", "schema": s} for n, t, s in rows
                  if self._shown(s, n)]
        return paged("Tables", tables, request, _PAGE)

    def describe_table(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The columns of Table in Schema; without Schema, of the tables of that name in every schema; without
        Table, of every table of the schema(s) (DescribeTable's Schema and Table members)."""
        conditions = [f"{column} = {{{key}}}" for key, column, member in
                      (("s", "table_schema", "Schema"), ("t", "table_name", "Table")) if request.get(member)]
        params = {key: request[member] for key, member in (("s", "Schema"), ("t", "Table")) if request.get(member)}
        rows = self._query(request, "SELECT column_name, data_type, numeric_precision, numeric_scale, "
                                    "character_maximum_length, is_nullable, column_default, table_schema, "
                                    "table_name FROM information_schema.columns "
                                    f"WHERE {' AND '.join(conditions) or 'TRUE'} "
                                    "ORDER BY table_schema, table_name, ordinal_position", params)
        columns = [_column_entry(*row) for row in rows if self._shown(row[7], row[8])]
        response = paged("ColumnList", columns, request, _PAGE)
        if request.get("Table"):
            response["TableName"] = request["Table"]
        return response

    def _shown(self, schema: str, table: str = "") -> bool:
        """Not the emulator's own schemas and tables (shiftflow_*), nor DuckDB's main schema: Redshift has neither."""
        if schema.startswith("shiftflow_") or table.startswith("shiftflow_"):
            return False
        return not (schema == "main" and self._pool.engine.name == "duckdb")

    def _query(self, request: Mapping[str, Any], sql: str, params: Mapping[str, str]) -> list[Any]:
        marker = "${}" if self._pool.engine.name == "duckdb" else "%({})s"
        database = request.get("ConnectedDatabase") or request["Database"]
        session = self._pool.checkout(database)
        try:
            return list(session.execute(sql.format(**{n: marker.format(n) for n in params}), params).rows)
        except EngineError as error:
            raise ValidationException(str(error)) from None
        finally:
            self._pool.release(database, session, reusable=True)


def _column_entry(name: str, data_type: str, precision: Any, scale: Any, length: Any, nullable: str, default: Any,
                  schema: str, table: str) -> dict[str, Any]:
    """DescribeTable's ColumnMetadata of one information_schema.columns row."""
    type_name = _CATALOG_TYPES.get(str(data_type).lower().split("(")[0], "varchar")
    size = length if type_name in ("varchar", "bpchar") and length else precision
    column = Column(name, type_name, int(size or 0), int(scale or 0), 1 if nullable == "YES" else 0)
    entry = {**st.column_metadata(QueryResult(columns=[column]))[0], "schemaName": schema, "tableName": table}
    if default is not None:
        entry["columnDefault"] = str(default)
    return entry
