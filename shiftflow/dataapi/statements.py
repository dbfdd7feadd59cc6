"""What the emulator remembers about a submitted statement: its request, its sub-statements, statuses and timing.

An ExecuteStatement is a Statement with one sub-statement that shares its id; a batch has sub-statements
`<id>:1` ... `<id>:n`. Status moves SUBMITTED -> PICKED -> STARTED -> FINISHED | FAILED | ABORTED.

Every change of a statement's state goes through the store (StatementStore.change), which orders one statement's
changes, saves those that must be on disk before anyone sees them, and applies them under its lock.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from datetime import time as time_of_day  # the module `time` is imported too
from typing import Any

from shiftflow.dataapi.engines.base import QueryResult

SUBMITTED, PICKED, STARTED, FINISHED, FAILED, ABORTED = "SUBMITTED", "PICKED", "STARTED", "FINISHED", "FAILED", "ABORTED"
ENDED = frozenset({FINISHED, FAILED, ABORTED})
ACTIVE = frozenset({SUBMITTED, PICKED, STARTED})
TRANSACTION = "TRANSACTION"  # a batch's ExecutionMode unless told (the other: AUTO_COMMIT)


def now() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class SubStatement:
    id: str
    sql: str
    status: str = SUBMITTED
    error: str = ""
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    started_ns: int = 0
    duration_ns: int = -1
    result: QueryResult | None = None  # its rows in memory, or read from the store's folder (store_files.RowsFile)
    query_id: int = -1
    size: int = 0  # ResultSize (result_size), measured once when it ends

    @property
    def has_result_set(self) -> bool:
        return self.result is not None and self.result.has_result_set

    @property
    def result_rows(self) -> int:
        return self.result.rowcount if self.result is not None and self.status == FINISHED else -1

    def start(self, query_id: int) -> None:
        self.status, self.query_id, self.updated_at = STARTED, query_id, now()
        self.started_ns = time.perf_counter_ns()

    def end(self, status: str, result: QueryResult | None = None, error: str = "", ended_ns: int = 0) -> None:
        """`ended_ns`: when it ended (time.perf_counter_ns), if before now."""
        if self.started_ns:
            self.duration_ns = (ended_ns or time.perf_counter_ns()) - self.started_ns
        self.status, self.result, self.error, self.updated_at = status, result, error, now()
        self.size = result_size(result)


@dataclass
class Statement:
    """One submitted ExecuteStatement or BatchExecuteStatement."""

    id: str
    request: dict[str, Any]  # the request members as received (Sql / Sqls, Database, target, options)
    is_batch: bool
    subs: list[SubStatement]
    status: str = SUBMITTED
    error: str = ""
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    duration_ns: int = -1
    pid: int = 0
    owner: str = ""  # the IAM user id of who submitted it, when the local runtime enforces IAM (shiftflow.local.iam)
    cancel_requested: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    session: Any = None  # the engine session while it runs: what CancelStatement interrupts
    changing: threading.Lock = field(default_factory=threading.Lock)  # held by the store through each change

    @property
    def database(self) -> str:
        return str(self.request.get("Database", ""))

    @property
    def name(self) -> str:
        return str(self.request.get("StatementName", ""))

    @property
    def result_format(self) -> str:
        return str(self.request.get("ResultFormat", "JSON"))

    @property
    def execution_mode(self) -> str:
        return str(self.request.get("ExecutionMode", TRANSACTION))

    @property
    def has_result_set(self) -> bool:
        return any(sub.has_result_set for sub in self.subs)

    def set_status(self, status: str, error: str = "") -> None:
        self.status, self.error, self.updated_at = status, error, now()

    def finish(self, status: str, error: str = "") -> None:
        self.duration_ns = sum(max(sub.duration_ns, 0) for sub in self.subs)
        self.set_status(status, error)
        self.done.set()

    def snapshot(self) -> Statement:
        """A copy of its state to change and save before the statement itself takes it (`take`)."""
        return dataclasses.replace(self, subs=[dataclasses.replace(sub) for sub in self.subs],
                                   done=threading.Event(), changing=threading.Lock())

    def take(self, changed: Statement) -> None:
        """The state of `changed` (a `snapshot` of this statement, changed): what the store saves, not the worker's
        handles (session, cancellation, done)."""
        for name in _SAVED_STATE:
            setattr(self, name, getattr(changed, name))
        for sub, new in zip(self.subs, changed.subs):
            for member in dataclasses.fields(SubStatement):
                setattr(sub, member.name, getattr(new, member.name))

    def sub(self, statement_id: str) -> SubStatement | None:
        for sub in self.subs:
            if sub.id == statement_id:
                return sub
        return None


_SAVED_STATE = ("status", "error", "updated_at", "duration_ns", "pid", "owner")


# ---- results as the Data API returns them ------------------------------------------------------------------

_LONG_TYPES = {"int2", "int4", "int8"}
_DOUBLE_TYPES = {"float4", "float8"}
_SIGNED_TYPES = _LONG_TYPES | _DOUBLE_TYPES | {"numeric"}
_CASE_SENSITIVE_TYPES = {"varchar", "char", "bpchar", "text"}


def column_metadata(result: QueryResult) -> list[dict[str, Any]]:
    return [
        {
            "isCaseSensitive": column.type_name in _CASE_SENSITIVE_TYPES,
            "isCurrency": False,
            "isSigned": column.type_name in _SIGNED_TYPES,
            "label": column.name,
            "length": 0,
            "name": column.name,
            "nullable": column.nullable,
            "precision": column.precision,
            "scale": column.scale,
            "schemaName": "",
            "tableName": "",
            "typeName": column.type_name,
        }
        for column in result.columns
    ]


def _utc_time_text(value: time_of_day) -> str:
    """A TIMETZ as Redshift prints it: in UTC ("By default, TIMETZ values are UTC", r_Datetime_types.md)."""
    offset = value.utcoffset() or timedelta(0)
    instant = datetime.combine(datetime(2000, 1, 1), value.replace(tzinfo=None)) - offset
    text = instant.time().isoformat()
    if "." in text:
        text = text.rstrip("0")
    return f"{text}+00"


_DAY_MICROSECONDS = 86_400_000_000


def interval_text(value: timedelta) -> str:
    """A day-time INTERVAL as Redshift prints it, PostgreSQL's default IntervalStyle (r_interval_data_types.md:
    '1 day 1 hour 1 minute 1.123 seconds' MINUTE "gets truncated to '1 day 01:01:00'"): `1 day 02:00:00`,
    `3 days`, `00:00:05.5`, `-1 days -01:00:00`, never Python's `1 day, 2:00:00`."""
    total = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if total < 0 else ""
    days, rest = divmod(abs(total), _DAY_MICROSECONDS)
    parts = [f"{sign}{days} day{'' if days == 1 and not sign else 's'}"] if days else []
    if rest or not days:
        seconds, micro = divmod(rest, 1_000_000)
        clock = f"{sign}{seconds // 3600:02}:{seconds // 60 % 60:02}:{seconds % 60:02}"
        parts.append(f"{clock}.{micro:06}".rstrip("0") if micro else clock)
    return " ".join(parts)


def text_value(value: Any, type_name: str) -> str:
    """A value as Redshift prints it: timestamps with a space and no trailing zeros, booleans as t/f."""
    if isinstance(value, datetime):
        text = value.isoformat(sep=" ")
        if "." in text:  # 12:00:00.120000 -> 12:00:00.12
            head, _, tail = text.partition(".")
            digits = tail[:6].rstrip("0")
            zone = tail[6:]
            text = f"{head}.{digits}{zone}" if digits else f"{head}{zone}"
        if type_name == "timestamptz" and text.endswith(":00") and text[-6] in "+-":
            text = text[:-3]  # +00:00 -> +00
        return text
    if isinstance(value, time_of_day) and value.tzinfo is not None:
        return _utc_time_text(value)
    if isinstance(value, timedelta):
        return interval_text(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def typed_field(value: Any, type_name: str) -> dict[str, Any]:
    """One typed Field: longValue for integers, doubleValue for floats, booleanValue, isNull; the rest as text."""
    if value is None:
        return {"isNull": True}
    if type_name in _LONG_TYPES:
        return {"longValue": int(value)}
    if type_name in _DOUBLE_TYPES:
        return {"doubleValue": float(value)}
    if type_name == "bool":
        return {"booleanValue": bool(value)}
    return {"stringValue": text_value(value, type_name)}


def records(result: QueryResult, start: int, stop: int) -> list[list[dict[str, Any]]]:
    type_names = [column.type_name for column in result.columns]
    return [[typed_field(value, type_name) for value, type_name in zip(row, type_names)] for row in result.rows[start:stop]]


def csv_records(result: QueryResult, start: int, stop: int) -> str:
    """Rows as CSV text, the column names first on the first page (RFC 4180 quoting)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if start == 0:
        writer.writerow([column.name for column in result.columns])
    type_names = [column.type_name for column in result.columns]
    for row in result.rows[start:stop]:
        writer.writerow(["" if value is None else text_value(value, t) for value, t in zip(row, type_names)])
    return buffer.getvalue()


MAX_ROW_BYTES = 64 * 1024  # "The Data API size limit is 64 KB per row in the result set returned by the database."
MAX_RESULT_BYTES = 500 * 1024 * 1024  # "The Data API limit is 500 MB in the result set returned by the database."
_FIXED_WIDTH = 64  # no value of a type other than text, binary or SUPER prints longer than this


def oversized_result(result: QueryResult) -> str:
    """Why the Data API cannot return `result` (a row over 64 KB of text, or over 500 MB in all), or "" when it can.
    Rows are measured only when an upper bound of their size could pass a limit."""
    if not result.has_result_set or not result.rows:
        return ""
    variable = [i for i, column in enumerate(result.columns) if column.type_name in _VARIABLE_TYPES]
    # A character is at most 4 UTF-8 bytes, a byte prints as two hex digits: no row is longer than this bound.
    row_bound = (len(result.columns) - len(variable)) * _FIXED_WIDTH + sum(
        4 * max((len(row[i]) if isinstance(row[i], (str, bytes)) else len(str(row[i]))
                 for row in result.rows if row[i] is not None), default=0) for i in variable)
    if row_bound <= MAX_ROW_BYTES and row_bound * len(result.rows) <= MAX_RESULT_BYTES:
        return ""
    type_names = [column.type_name for column in result.columns]
    total = 0
    for number, row in enumerate(result.rows, start=1):
        size = sum(len(text_value(value, t).encode("utf-8", "surrogatepass"))
                   for value, t in zip(row, type_names) if value is not None)
        if size > MAX_ROW_BYTES:
            return (f"Packet for query is too large: row {number} of the result has {size} bytes; the Data API "
                    f"returns at most {MAX_ROW_BYTES} bytes per row")
        total += size
    if total > MAX_RESULT_BYTES:
        return (f"Database response exceeded size limit: the result has {total} bytes; the Data API returns at "
                f"most {MAX_RESULT_BYTES} bytes")
    return ""


_VARIABLE_TYPES = _CASE_SENSITIVE_TYPES | {"super", "varbyte", "geometry", "geography", "hllsketch"}


def result_size(result: QueryResult | None) -> int:
    """About the bytes of the result's text, as the service reports ResultSize: measured on up to 100 rows."""
    if result is None or not result.has_result_set or not result.rows:
        return 0
    sample = result.rows[:100]
    sampled = sum(len(str(value)) for row in sample for value in row if value is not None)
    return sampled * len(result.rows) // len(sample)
