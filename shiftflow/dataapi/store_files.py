"""The Data API's state on disk, in one folder (the local cloud's `<state>/statements`): the statements, one JSON
record each (<statement id>.json, replaced whole), the result rows of each sub-statement that returned rows
(<sub-statement id>.rows, written once), the rows of stl_load_errors (LOAD_ERRORS_FILE) and the kept sessions
(SESSIONS_FILE), each a journal of JSON lines (shiftflow.durable_files).

The service keeps a statement (its request, sub-statements, statuses, errors and results) for 24 hours; the emulator
keeps it in memory, and, when a folder is given (the local cloud's `<state>/statements`), also here: a record is
written (beside the target, fsync'd, renamed over it: shiftflow.durable_files.atomic_write) when the statement
is submitted and each time one of its sub-statements or the statement ends, before the status is visible to any
caller. A kill -9 at any moment leaves every record either as it was or as it became, never half written.

Result rows are not kept in memory then: a sub-statement's rows are written (atomic_write, before the record that says
it FINISHED) to its .rows file, and GetStatementResult reads a page from it (RowsFile): one JSON array per row, a line
each, then the byte offset of every row (8 bytes each, and one past the last), then the offset of that index. Each
value is kept as the answers show it: JSON's null, booleans and numbers as they are, any other value as the text
GetStatementResult and its CSV variant print for it (statements.text_value of its column's type). A .rows file no
record names (a kill between the two writes, or between a statement's forgetting and its rows') is removed when the
next process starts.

Records written before the rows had files of their own hold them inline (values with the two kinds the answers tell
apart by Python type, timestamps and bytes, tagged; the rest as str(value)); they are read as they are.

A load error is appended (fsync'd) when the COPY fails, before its statement's failure is saved, so an ELT script that
reads stl_load_errors after the failed COPY finds the row after a kill -9 too. A kept session is appended when it
opens: a session cannot outlive its process (its engine session, temp tables and open transaction are gone, as after a
cluster restart), so the next process knows it as CLOSED, which is what a call naming it is told.
"""

from __future__ import annotations

import dataclasses
import json
import os
import struct
import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, overload

from shiftflow.dataapi import statements as st
from shiftflow.dataapi.engines.base import Column, QueryResult
from shiftflow.dataapi.errors import query_not_found
from shiftflow.dataapi.sessions import KeptSession
from shiftflow.dataapi.statements import Statement, SubStatement
from shiftflow.dataapi.translate.system import LoadError
from shiftflow.durable_files import append_lines, atomic_write, read_lines, remove_partial_writes, replace_lines

_TIMESTAMP, _BYTES = "$timestamp", "$bytes"
LOAD_ERRORS_FILE = "_stl_load_errors.journal"  # "_": never a statement id, and not *.json
SESSIONS_FILE = "_sessions.journal"
ROWS_SUFFIX = ".rows"
_OFFSET = struct.Struct("<q")


class StatementFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, statement_id: str) -> Path:
        return self.folder / f"{statement_id}.json"

    def save(self, statement: Statement, client_token: tuple[str, str] | None) -> None:
        """`client_token`: (token, request fingerprint) when the statement was submitted with a ClientToken."""
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path(statement.id), json.dumps(record_of(statement, client_token), default=str).encode())

    def rows_path(self, sub_id: str) -> Path:
        return self.folder / f"{sub_id}{ROWS_SUFFIX}"

    def keep_rows(self, statement: Statement) -> None:
        """Write the rows of each sub-statement that FINISHED with rows in memory to its .rows file, and have it read
        them from there (before the record that says it FINISHED is saved)."""
        for sub in statement.subs:
            result = sub.result
            if sub.status != st.FINISHED or result is None or not result.rows or isinstance(result.rows, RowsFile):
                continue
            path = self.rows_path(sub.id)
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write(path, _rows_file_bytes(result))
            sub.result = QueryResult(columns=result.columns, rows=RowsFile(path, len(result.rows)),
                                     rowcount=result.rowcount)

    def remove(self, statement_id: str) -> None:
        """The record first: a kill before its rows go leaves rows no record names, removed at the next start."""
        self.path(statement_id).unlink(missing_ok=True)
        for path in [self.rows_path(statement_id), *self.folder.glob(f"{statement_id}:*{ROWS_SUFFIX}")]:
            path.unlink(missing_ok=True)

    def remove_partial_writes(self) -> None:
        """Records a kill interrupted (the previous ones stand); by the folder's owner, when it starts."""
        remove_partial_writes(self.folder)

    def remove_unnamed_rows(self, statements: Iterable[Statement]) -> None:
        """The .rows files no statement's record names; by the folder's owner, when it starts."""
        named = {sub.result.rows.path for statement in statements for sub in statement.subs
                 if sub.result is not None and isinstance(sub.result.rows, RowsFile)}
        for path in self.folder.glob(f"*{ROWS_SUFFIX}") if self.folder.is_dir() else []:
            if path not in named:
                path.unlink(missing_ok=True)

    def load(self) -> list[tuple[Statement, tuple[str, str] | None]]:
        """Every saved statement with its ClientToken, oldest first (read-only)."""
        if not self.folder.is_dir():
            return []
        loaded = [statement_of(json.loads(path.read_text()), self) for path in self.folder.glob("*.json")]
        return sorted(loaded, key=lambda pair: pair[0].created_at)


class RowsFile(Sequence[list[Any]]):
    """A sub-statement's result rows in its .rows file (see the module's docstring): `rows[start:stop]` reads only
    those rows. A file removed meanwhile (the statement passed the retention) is the service's "does not exist"."""

    def __init__(self, path: Path, count: int) -> None:
        self.path, self.count = path, count

    def __len__(self) -> int:
        return self.count

    @overload
    def __getitem__(self, index: int) -> list[Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[Any]]: ...

    def __getitem__(self, index: int | slice) -> list[Any] | list[list[Any]]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self.count)
            rows = self._read(start, max(stop, start))
            return rows if step == 1 else rows[::step]
        position = index + self.count if index < 0 else index
        if not 0 <= position < self.count:
            raise IndexError(index)
        return self._read(position, position + 1)[0]

    def __iter__(self) -> Iterator[list[Any]]:
        return iter(self._read(0, self.count))

    def _read(self, start: int, stop: int) -> list[list[Any]]:
        if start >= stop:
            return []
        try:
            with open(self.path, "rb") as file:
                file.seek(-_OFFSET.size, os.SEEK_END)
                index = _OFFSET.unpack(file.read(_OFFSET.size))[0]
                file.seek(index + _OFFSET.size * start)
                first = _OFFSET.unpack(file.read(_OFFSET.size))[0]
                file.seek(index + _OFFSET.size * stop)
                last = _OFFSET.unpack(file.read(_OFFSET.size))[0]
                file.seek(first)
                lines = file.read(last - first)
        except FileNotFoundError:
            raise query_not_found(self.path.name.removesuffix(ROWS_SUFFIX)) from None
        return json.loads(b"[" + lines.rstrip(b"\n").replace(b"\n", b",") + b"]")


def _rows_file_bytes(result: QueryResult) -> bytes:
    type_names = [column.type_name for column in result.columns]
    lines = [(json.dumps([_answer_value(value, t) for value, t in zip(row, type_names)]) + "\n").encode()
             for row in result.rows]
    offsets, position = array("q", [0]), 0  # "q": 8 bytes, as _OFFSET
    for line in lines:
        position += len(line)
        offsets.append(position)
    if sys.byteorder == "big":
        offsets.byteswap()
    return b"".join(lines) + offsets.tobytes() + _OFFSET.pack(position)


def _answer_value(value: Any, type_name: str) -> Any:
    """A value as the answers show it: JSON's own kinds as they are, any other as its text (statements.text_value)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return st.text_value(value, type_name)


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
        "duration_ns": sub.duration_ns, "query_id": sub.query_id, "size": sub.size,
        "result": _result_record(sub.result) if sub.result is not None else None,
    }


def _result_record(result: QueryResult) -> dict[str, Any]:
    """The rows' file by their count ("stored_rows"), or the rows themselves when they are in memory."""
    record: dict[str, Any] = {"columns": [[c.name, c.type_name, c.precision, c.scale, c.nullable]
                                          for c in result.columns], "rowcount": result.rowcount}
    if isinstance(result.rows, RowsFile):
        record["stored_rows"] = len(result.rows)
    else:
        record["rows"] = [[_value(value) for value in row] for row in result.rows]
    return record


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


def statement_of(record: dict[str, Any], files: StatementFiles) -> tuple[Statement, tuple[str, str] | None]:
    subs = [SubStatement(
        id=sub["id"], sql=sub["sql"], status=sub["status"], error=sub["error"],
        created_at=datetime.fromisoformat(sub["created_at"]), updated_at=datetime.fromisoformat(sub["updated_at"]),
        duration_ns=sub["duration_ns"], query_id=sub["query_id"],
        result=_restored_result(sub["result"], files.rows_path(sub["id"])) if sub["result"] is not None else None,
    ) for sub in record["subs"]]
    for sub, kept in zip(subs, record["subs"]):
        sub.size = kept["size"] if "size" in kept else st.result_size(sub.result)
    statement = Statement(
        id=record["id"], request=record["request"], is_batch=record["is_batch"], subs=subs,
        status=record["status"], error=record["error"], created_at=datetime.fromisoformat(record["created_at"]),
        updated_at=datetime.fromisoformat(record["updated_at"]), duration_ns=record["duration_ns"],
        pid=record["pid"], owner=record.get("owner", ""),
    )
    token = record.get("client_token")
    return statement, (token[0], token[1]) if token else None


def _restored_result(record: dict[str, Any], rows_path: Path) -> QueryResult:
    rows: Sequence[Any] = (RowsFile(rows_path, record["stored_rows"]) if "stored_rows" in record
                           else [[_restored_value(value) for value in row] for row in record["rows"]])
    return QueryResult(columns=[Column(*column) for column in record["columns"]], rows=rows,
                       rowcount=record["rowcount"])
