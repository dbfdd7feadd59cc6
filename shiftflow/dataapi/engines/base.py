"""What the Data API emulator needs from an embedded SQL engine (DuckDB, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
    """A statement failed in the engine; the message is the engine's own, `code` its SQLSTATE when it has one."""

    def __init__(self, *args: object, code: str = "") -> None:
        super().__init__(*args)
        self.code = code


class StatementTimedOut(EngineError):
    """The statement ran longer than the session's statement_timeout and was cancelled. Redshift's words
    (r_statement_timeout.md: "ERROR:  Query (150) canceled on user's request"); the runner names the query id."""

    def __init__(self, query_id: int | None = None) -> None:
        super().__init__(f"Query ({query_id if query_id is not None else '?'}) canceled on user's request")


# The database user of a Data API call without DbUser or SecretArn when nobody says who called: Redshift derives it
# from the caller's IAM identity (ExecuteStatement: "arn:iam::123456789012:user:foo has the database user name
# IAM:foo"), and the local endpoint's callers are the account's administrator, the IAM user `local` (the Data API
# events' principal, arn:aws:iam::<account>:user/local). Both engines answer it for a session no request named.
LOCAL_IAM_USER = "IAM:local"


# What other modules attach to each database of an engine that keeps per-database services (engines/duckdb.py:
# DuckDBSession.services; streams/topic_tables.py's topic copy), by name: a factory given a way to open a session.
SERVICE_FACTORIES: dict[str, Callable[[Callable[[], Any]], Any]] = {}


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


class TransactionConflict(EngineError):
    """A concurrent transaction made this one fail: a write-write conflict, a serialization failure or a deadlock.

    The message is Redshift's for the same situation, so that a client reacts to the emulator's conflicts as it
    would to Redshift's (a rerun of the rolled-back batch); the engine's own words follow it. The emulator cannot
    name Redshift's table id and transaction ids, so it names the local engine instead."""

    @classmethod
    def serializable_isolation_violation(cls, engine: str, detail: str) -> TransactionConflict:
        # Redshift: "ERROR: 1023 DETAIL: Serializable isolation violation on table - <table id>, transactions
        # forming the cycle are: <ids> (pid:<pid>)" (c_serial_isolation, STL_TR_CONFLICT).
        return cls(f"ERROR: 1023 DETAIL: Serializable isolation violation on table - local {engine}: {detail}")

    @classmethod
    def deadlock(cls, engine: str, detail: str) -> TransactionConflict:
        # Redshift reports a deadlock in PostgreSQL's words: "ERROR: deadlock detected DETAIL: Process ... waits".
        return cls(f"ERROR: deadlock detected DETAIL: local {engine}: {detail}")
