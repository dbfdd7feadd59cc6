"""The Data API's statements on disk: one JSON record each (<folder>/<statement id>.json), replaced whole.

The service keeps a statement (its request, sub-statements, statuses, errors and results) for 24 hours; the emulator
keeps it in memory, and, when a folder is given (the local cloud's `<state>/statements`), also here: a record is
written (beside the target, fsync'd, renamed over it: shiftflow.local.cloud.files.atomic_write) when the statement
is submitted and each time one of its sub-statements or the statement ends, before the status is visible to any
caller. A kill -9 at any moment leaves every record either as it was or as it became, never half written.

Values of result rows are stored as JSON, with the two kinds the Data API's answers tell apart by Python type
(timestamps, bytes) tagged; every other value is kept as the text the answers would show (str(value)), which is what
GetStatementResult and its CSV variant print for it.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from shiftflow.dataapi.engines.base import Column, QueryResult
from shiftflow.dataapi.statements import Statement, SubStatement
from shiftflow.local.cloud.files import atomic_write

_TIMESTAMP, _BYTES = "$timestamp", "$bytes"


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

    def load(self) -> list[tuple[Statement, tuple[str, str] | None]]:
        """Every saved statement with its ClientToken, oldest first."""
        if not self.folder.is_dir():
            return []
        for leftover in self.folder.glob(".*.tmp"):  # a record a kill interrupted: the previous one stands
            leftover.unlink(missing_ok=True)
        loaded = [statement_of(json.loads(path.read_text())) for path in self.folder.glob("*.json")]
        return sorted(loaded, key=lambda pair: pair[0].created_at)


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
