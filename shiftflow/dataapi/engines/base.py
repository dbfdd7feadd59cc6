"""What the Data API emulator needs from an embedded SQL engine (DuckDB, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Column:
    """A result column, typed with the Redshift type name the Data API reports (int4, int8, varchar, numeric ...)."""

    name: str
    type_name: str
    precision: int = 0
    scale: int = 0
    nullable: int = 1


@dataclass
class QueryResult:
    """What one statement produced: a result set (columns + rows) and/or a count of affected rows (-1: unknown)."""

    columns: list[Column] = field(default_factory=list)
    rows: list[Sequence[Any]] = field(default_factory=list)
    rowcount: int = -1

    @property
    def has_result_set(self) -> bool:
        return bool(self.columns)


class EngineError(Exception):
    """A statement failed in the engine; the message is the engine's own."""


class EngineSession(Protocol):
    """One connection, used by one statement worker at a time. Statements arrive already translated for the engine."""

    engine: str

    def execute(self, sql: str, parameters: Mapping[str, str]) -> QueryResult: ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def interrupt(self) -> None:
        """Called from another thread: make the running statement fail as soon as possible."""

    def close(self) -> None: ...


class Engine(Protocol):
    name: str  # "duckdb" or "postgres": the key the SQL translation uses

    def session(self, database: str) -> EngineSession: ...

    def close(self) -> None: ...
