"""ALTER TABLE target APPEND FROM source [IGNOREEXTRA | FILLTARGET] (r_ALTER_TABLE_APPEND.md).

Redshift moves the source's rows into the target, matching columns by name, and empties the source; it commits on
completion and cannot run inside a transaction block. Locally the rows are copied and the source emptied in one
engine transaction. The columns are read from the catalog when it runs (an AppendTable is a SessionCommand).
Columns with the same name must have the same type; extra source columns need IGNOREEXTRA, extra target columns
FILLTARGET (they take their default, or NULL).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot.tokens import Token

from shiftflow.dataapi.engines.base import Column, EngineError, EngineSession, QueryResult
from shiftflow.dataapi.translate.commands.tokens import identifier, word
from shiftflow.dataapi.translate.model import SessionCommand


def is_append(tokens: list[Token]) -> bool:
    names = [word(t) for t in tokens]
    return names[:2] == ["ALTER", "TABLE"] and "APPEND" in names


def parse_append(statement: str, tokens: list[Token]) -> AppendTable:
    names = [word(t) for t in tokens]
    append = names.index("APPEND")
    mode = names[-1] if names[-1] in {"IGNOREEXTRA", "FILLTARGET"} else ""
    end = len(tokens) - (1 if mode else 0)
    if append < 3 or append + 2 >= end or names[append + 1] != "FROM":
        raise EngineError(f'syntax error at or near "{tokens[min(append + 1, len(tokens) - 1)].text}"')
    return AppendTable(target=identifier(tokens[2:append], statement),
                       source=identifier(tokens[append + 2 : end], statement), mode=mode)


@dataclass(frozen=True)
class AppendTable(SessionCommand):
    target: str
    source: str
    mode: str = ""  # "IGNOREEXTRA" | "FILLTARGET" | ""

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        if in_transaction:
            raise EngineError("ALTER TABLE APPEND cannot run inside a transaction block")
        target, source = _columns(session, self.target), _columns(session, self.source)
        shared = self._shared_columns(target, source)
        names = ", ".join(_quoted(name) for name in shared)
        session.begin()
        try:
            session.execute(f"INSERT INTO {self.target} ({names}) SELECT {names} FROM {self.source}", {})
            session.execute(f"DELETE FROM {self.source}", {})
        except EngineError:
            session.rollback()
            raise
        session.commit()
        return QueryResult(rowcount=0)

    def _shared_columns(self, target: dict[str, Column], source: dict[str, Column]) -> list[str]:
        extra_source = [name for name in source if name not in target]
        extra_target = [name for name in target if name not in source]
        if extra_source and self.mode != "IGNOREEXTRA":
            raise EngineError(f"ALTER TABLE APPEND: the source table has columns the target does not "
                              f"({', '.join(extra_source)}): use IGNOREEXTRA")
        if extra_target and self.mode != "FILLTARGET":
            raise EngineError(f"ALTER TABLE APPEND: the target table has columns the source does not "
                              f"({', '.join(extra_target)}): use FILLTARGET")
        shared = [name for name in target if name in source]
        for name in shared:
            a, b = target[name], source[name]
            if (a.type_name, a.precision, a.scale) != (b.type_name, b.precision, b.scale):
                raise EngineError(f"ALTER TABLE APPEND: column {name} has different types in the target "
                                  f"({a.type_name}) and the source ({b.type_name})")
        return shared


def _columns(session: EngineSession, table: str) -> dict[str, Column]:
    """The table's columns by name (the engine's own answer to SELECT * ... LIMIT 0)."""
    return {column.name: column for column in session.execute(f"SELECT * FROM {table} LIMIT 0", {}).columns}


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
