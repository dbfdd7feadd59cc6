"""Where DuckDB keeps stored procedures: the table shiftflow_procedure.procedures in the warehouse itself (created
with the first procedure), so that a definition lives and dies with the database and its transactions.

A procedure is known by its schema, its name and the types of its input arguments (IN and INOUT), which is how
Redshift tells overloads apart (r_CREATE_PROCEDURE.md, r_DROP_PROCEDURE.md); a type's length does not count
(varchar(20) and varchar(256) are one signature).
"""

from __future__ import annotations

from dataclasses import dataclass

from shiftflow.dataapi.engines.base import EngineError, EngineSession
from shiftflow.dataapi.procedures import syntax as s
from shiftflow.dataapi.translate.relations import internal_table_exists

SCHEMA = "shiftflow_procedure"
_TABLE = f"{SCHEMA}.procedures"
_SETUP = (f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
          f"CREATE TABLE IF NOT EXISTS {_TABLE} (schema_name VARCHAR, name VARCHAR, signature VARCHAR,"
          " definition VARCHAR, PRIMARY KEY (schema_name, name, signature))")
# Type names that are one type for overloading (r_Numeric_types201.md, r_Character_types.md ...).
_SYNONYMS = {"int": "integer", "int4": "integer", "int2": "smallint", "int8": "bigint", "decimal": "numeric",
             "float": "double precision", "float8": "double precision", "float4": "real", "bool": "boolean",
             "text": "varchar", "character varying": "varchar", "nvarchar": "varchar", "string": "varchar",
             "character": "char", "nchar": "char", "bpchar": "char", "timestamp without time zone": "timestamp",
             "timestamp with time zone": "timestamptz"}


def type_key(type_text: str) -> str:
    """A type as overloading sees it: lower case, without its length or precision."""
    base = type_text.split("(")[0].strip().lower()
    base = " ".join(base.split())
    return _SYNONYMS.get(base, base)


def signature(arguments: tuple[s.Argument, ...]) -> str:
    return ",".join(type_key(a.type_text) for a in arguments if a.mode in ("IN", "INOUT"))


@dataclass(frozen=True)
class Stored:
    schema: str
    name: str
    signature: str
    definition: str  # the CREATE PROCEDURE statement as written


def current_schema(session: EngineSession) -> str:
    return str(session.execute("SELECT current_schema()", {}).rows[0][0])


def _exists(session: EngineSession) -> bool:
    return internal_table_exists(session, SCHEMA, "procedures")


def create(session: EngineSession, schema: str, procedure: s.Procedure, definition: str, replace: bool) -> None:
    for statement in _SETUP:
        session.execute(statement, {})
    key = {"schema": schema, "name": procedure.name, "signature": signature(procedure.arguments)}
    found = session.execute(f"SELECT definition FROM {_TABLE} WHERE schema_name = $schema AND name = $name AND "
                            "signature = $signature", key).rows
    if found and not replace:
        raise EngineError(f'procedure "{procedure.name}" already exists with same argument types')
    if found:
        from shiftflow.dataapi.procedures.parser import parse_procedure

        old = parse_procedure(found[0][0])
        if [(a.mode, type_key(a.type_text)) for a in old.outputs] != [(a.mode, type_key(a.type_text))
                                                                      for a in procedure.outputs]:
            raise EngineError("cannot change return type of existing function")
    session.execute(f"DELETE FROM {_TABLE} WHERE schema_name = $schema AND name = $name AND signature = $signature",
                    key)
    session.execute(f"INSERT INTO {_TABLE} VALUES ($schema, $name, $signature, $definition)",
                    {**key, "definition": definition})


def candidates(session: EngineSession, schema: str | None, name: str) -> list[Stored]:
    """The procedures the name can mean: in its schema, or else in the current schema, then public."""
    if not _exists(session):
        return []
    schemas = [schema] if schema else list(dict.fromkeys([current_schema(session), "public"]))
    rows = session.execute(f"SELECT schema_name, name, signature, definition FROM {_TABLE} WHERE name = $name",
                           {"name": name}).rows
    for wanted in schemas:
        found = [Stored(*row) for row in rows if row[0] == wanted]
        if found:
            return found
    return []


def in_schema(session: EngineSession, schema: str) -> list[Stored]:
    """The procedures of a schema, every overload."""
    if not _exists(session):
        return []
    return [Stored(*row) for row in session.execute(
        f"SELECT schema_name, name, signature, definition FROM {_TABLE} WHERE schema_name = $schema"
        " ORDER BY name, signature", {"schema": schema}).rows]


def one(session: EngineSession, schema: str | None, name: str,
         arguments: tuple[s.Argument, ...] | None) -> Stored | None:
    """The procedure DROP / ALTER PROCEDURE name [(argument types)] means: without the list, the name must be
    unambiguous. None when there is none."""
    found = candidates(session, schema, name)
    if arguments is not None:
        wanted = signature(arguments)
        found = [p for p in found if p.signature == wanted]
    if len(found) > 1:
        raise EngineError(f'procedure name "{name}" is not unique')
    return found[0] if found else None


def missing(name: str, arguments: tuple[s.Argument, ...] | None) -> EngineError:
    listed = "" if arguments is None else "(" + signature(arguments) + ")"
    return EngineError(f"procedure {name}{listed} does not exist")


def _key(stored: Stored) -> dict[str, str]:
    return {"schema": stored.schema, "name": stored.name, "signature": stored.signature}


def drop(session: EngineSession, schema: str | None, name: str, arguments: tuple[s.Argument, ...] | None,
         if_exists: bool) -> None:
    found = one(session, schema, name, arguments)
    if found is None:
        if if_exists:
            return
        raise missing(name, arguments)
    session.execute(f"DELETE FROM {_TABLE} WHERE schema_name = $schema AND name = $name AND signature = $signature",
                    _key(found))


def rename(session: EngineSession, schema: str | None, name: str, arguments: tuple[s.Argument, ...] | None,
           new_name: str) -> Stored:
    """ALTER PROCEDURE ... RENAME TO: the stored definition is rewritten under its new name; the procedure renamed
    (as it was)."""
    from shiftflow.dataapi.procedures.parser import parse_procedure, renamed

    found = one(session, schema, name, arguments)
    if found is None:
        raise missing(name, arguments)
    clash = session.execute(f"SELECT count(*) FROM {_TABLE} WHERE schema_name = $schema AND name = $name AND "
                            "signature = $signature", {**_key(found), "name": new_name}).rows[0][0]
    if clash:
        raise EngineError(f'procedure "{new_name}" already exists with same argument types')
    definition = renamed(found.definition, new_name)
    parse_procedure(definition)
    session.execute(f"UPDATE {_TABLE} SET name = $new, definition = $definition WHERE schema_name = $schema AND "
                    "name = $name AND signature = $signature", {**_key(found), "new": new_name,
                                                                 "definition": definition})
    return found
