"""The Data API's state on disk, in one folder (the local cloud's `<state>/statements`): the statements, one JSON
record each (<statement id>.json, replaced whole), the rows of stl_load_errors (LOAD_ERRORS_FILE) and the kept
sessions (SESSIONS_FILE), each a journal of JSON lines (shiftflow.durable_files).

The service keeps a statement (its request, sub-statements, statuses, errors and results) for 24 hours; the emulator
keeps it in memory, and, when a folder is given (the local cloud's `<state>/statements`), also here: a record is
written (beside the target, fsync'd, renamed over it: shiftflow.durable_files.atomic_write) when the statement
is submitted and each time one of its sub-statements or the statement ends, before the status is visible to any
caller. A kill -9 at any moment leaves every record either as it was or as it became, never half written.

Values of result rows are stored as JSON, with the two kinds the Data API's answers tell apart by Python type
(timestamps, bytes) tagged; every other value is kept as the text the answers would show (str(value)), which is what
GetStatementResult and its CSV variant print for it.

A load error is appended (fsync'd) when the COPY fails, before its statement's failure is saved, so an ELT script that
reads stl_load_errors after the failed COPY finds the row after a kill -9 too. A kept session is appended when it
opens: a session cannot outlive its process (its engine session, temp tables and open transaction are gone, as after a
cluster restart), so the next process knows it as CLOSED, which is what a call naming it is told.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from shiftflow.dataapi.engines.base import Column, QueryResult
from shiftflow.dataapi.sessions import KeptSession
from shiftflow.dataapi.statements import Statement, SubStatement
from shiftflow.dataapi.translate.system import LoadError
from shiftflow.durable_files import append_lines, atomic_write, read_lines, remove_partial_writes, replace_lines

_TIMESTAMP, _BYTES = "$timestamp", "$bytes"
LOAD_ERRORS_FILE = "_stl_load_errors.journal"  # "_": never a statement id, and not *.json
SESSIONS_FILE = "_sessions.journal"


class StatementFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, statement_id: str) -> Path:
        return self.folder / f"{statement_id}.json"

    def save(self, statement: Statement, client_token: tuple[str, str] | None) -> None:
        """`client_token`: (token, request fingerprint) when the statement was submitted with a ClientToken."""
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path(statement.id), json.dumps(record_of(statement, client_token), default=str).encode())

    def remove(self, statement_id: str) -> None:
        self.path(statement_id).unlink(missing_ok=True)

    def remove_partial_writes(self) -> None:
        """Records a kill interrupted (the previous ones stand); by the folder's owner, when it starts."""
        remove_partial_writes(self.folder)

    def load(self) -> list[tuple[Statement, tuple[str, str] | None]]:
        """Every saved statement with its ClientToken, oldest first (read-only)."""
        if not self.folder.is_dir():
            return []
        loaded = [statement_of(json.loads(path.read_text())) for path in self.folder.glob("*.json")]
        return sorted(loaded, key=lambda pair: pair[0].created_at)


class JournalFile:
    """Records appended one JSON line each (on disk when `append` returns), or rewritten whole."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        append_lines(self.path, [record], default=_timestamp_text)

    def rewrite(self, records: Iterable[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        replace_lines(self.path, records, default=_timestamp_text)

    def load(self) -> list[dict[str, Any]]:
        return read_lines(self.path)


class LoadErrorFile:
    """The rows of stl_load_errors (a SystemLog's keeper)."""

    def __init__(self, folder: Path) -> None:
        self.journal = JournalFile(folder / LOAD_ERRORS_FILE)

    def added(self, error: LoadError) -> None:
        self.journal.append(dataclasses.asdict(error))

    def kept(self, errors: list[LoadError]) -> None:
        self.journal.rewrite(dataclasses.asdict(error) for error in errors)

    def load(self) -> list[LoadError]:
        return [LoadError(**{**record, "starttime": datetime.fromisoformat(record["starttime"])})
                for record in self.journal.load()]


class SessionFile:
    """The kept sessions opened (shiftflow.dataapi.sessions.KeptSessions)."""

    def __init__(self, folder: Path) -> None:
        self.journal = JournalFile(folder / SESSIONS_FILE)

    def add(self, session: KeptSession) -> None:
        self.journal.append(session.record())

    def rewrite(self, sessions: list[KeptSession]) -> None:
        self.journal.rewrite(session.record() for session in sessions)

    def load(self) -> list[KeptSession]:
        return [KeptSession.from_record(record) for record in self.journal.load()]


def _timestamp_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def record_of(statement: Statement, client_token: tuple[str, str] | None) -> dict[str, Any]:
    return {
        "id": statement.id, "request": statement.request, "is_batch": statement.is_batch,
        "status": statement.status, "error": statement.error, "created_at": statement.created_at.isoformat(),
        "updated_at": statement.updated_at.isoformat(), "duration_ns": statement.duration_ns, "pid": statement.pid,
        "owner": statement.owner, "client_token": list(client_token) if client_token else None,
        "subs": [_sub_record(sub) for sub in statement.subs],
    }


def _sub_record(sub: SubStatement) -> dict[str, Any]:
    return {
        "id": sub.id, "sql": sub.sql, "status": sub.status, "error": sub.error,
        "created_at": sub.created_at.isoformat(), "updated_at": sub.updated_at.isoformat(),
        "duration_ns": sub.duration_ns, "query_id": sub.query_id,
        "result": _result_record(sub.result) if sub.result is not None else None,
    }


def _result_record(result: QueryResult) -> dict[str, Any]:
    return {"columns": [[c.name, c.type_name, c.precision, c.scale, c.nullable] for c in result.columns],
            "rows": [[_value(value) for value in row] for row in result.rows], "rowcount": result.rowcount}


def _value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return {_TIMESTAMP: value.isoformat()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {_BYTES: bytes(value).hex()}
    return str(value)  # Decimal, date, time, interval, ...: the text every answer shows for it


def _restored_value(value: Any) -> Any:
    if isinstance(value, dict):
        if _TIMESTAMP in value:
            return datetime.fromisoformat(value[_TIMESTAMP])
        return bytes.fromhex(value[_BYTES])
    return value


def statement_of(record: dict[str, Any]) -> tuple[Statement, tuple[str, str] | None]:
    subs = [SubStatement(
        id=sub["id"], sql=sub["sql"], status=sub["status"], error=sub["error"],
        created_at=datetime.fromisoformat(sub["created_at"]), updated_at=datetime.fromisoformat(sub["updated_at"]),
        duration_ns=sub["duration_ns"], query_id=sub["query_id"],
        result=_restored_result(sub["result"]) if sub["result"] is not None else None,
    ) for sub in record["subs"]]
    statement = Statement(
        id=record["id"], request=record["request"], is_batch=record["is_batch"], subs=subs,
        status=record["status"], error=record["error"], created_at=datetime.fromisoformat(record["created_at"]),
        updated_at=datetime.fromisoformat(record["updated_at"]), duration_ns=record["duration_ns"],
        pid=record["pid"], owner=record.get("owner", ""),
    )
    token = record.get("client_token")
    return statement, (token[0], token[1]) if token else None


def _restored_result(record: dict[str, Any]) -> QueryResult:
    return QueryResult(columns=[Column(*column) for column in record["columns"]],
                       rows=[[_restored_value(value) for value in row] for row in record["rows"]],
                       rowcount=record["rowcount"])
