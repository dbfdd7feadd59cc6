"""The Redshift Data API's operations over an embedded engine: the emulator both ways in (HTTP, in-process) call.

Requests and responses are the service's JSON members (botocore's `redshift-data` model); statements run on a
worker pool, so a submit returns at once and WaitTimeSeconds long-polls on the statement's completion event.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Mapping
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import botocore.session

from shiftflow.dataapi import statements as st
from shiftflow.dataapi.engines.base import Column, Engine, EngineError, EngineSession, QueryResult
from shiftflow.dataapi.errors import (
    ActiveStatementsExceededException,
    DataApiError,
    InternalServerException,
    UnknownOperationException,
    ValidationException,
    query_not_found,
)
from shiftflow.dataapi.statements import Statement, SubStatement
from shiftflow.dataapi.translate.model import SessionCommand
from shiftflow.dataapi.translate.system import SessionFacts, SystemContext, SystemLog, query_records
from shiftflow.sql.splitter import SqlSplitError, split_statements

log = logging.getLogger(__name__)

Subscriber = Callable[[dict[str, Any]], None]

MAX_BATCH = 40
RETENTION = timedelta(hours=24)
_ID_PATTERN = r"^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\d+)?$"
_TRANSACTION, _AUTO_COMMIT = "TRANSACTION", "AUTO_COMMIT"
# information_schema data_type (DuckDB upper case, PostgreSQL lower case) -> Redshift type name.
_CATALOG_TYPES = {
    "integer": "int4", "int": "int4", "bigint": "int8", "smallint": "int2", "tinyint": "int2", "hugeint": "int8",
    "decimal": "numeric", "numeric": "numeric", "double": "float8", "double precision": "float8",
    "float": "float4", "real": "float4", "boolean": "bool", "varchar": "varchar", "character varying": "varchar",
    "text": "varchar", "character": "bpchar", "date": "date", "time": "time", "timestamp": "timestamp",
    "timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz", "blob": "varbyte",
    "bytea": "varbyte",
}
# Members that do not change what a ClientToken'd request runs (the token itself, how long the caller waits).
_NOT_IDEMPOTENCY_KEY = {"ClientToken", "WaitTimeSeconds"}


@lru_cache(maxsize=1)
def service_model() -> Any:
    return botocore.session.get_session().get_service_model("redshift-data")


# ---- request validation, as the service does it (clients may skip theirs: parameter_validation=False) --------

def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _constraint(value: Any, path: str, message: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: {message}")


def validate(shape: Any, value: Any, path: str = "") -> None:
    """Types, required members, ranges, enums and patterns of `value` against a botocore shape."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise ValidationException(f"Expected an object at '{path or 'request'}'")
        for name in shape.required_members:
            if value.get(name) is None:
                raise ValidationException(f"1 validation error detected: Value null at '{_camel(name)}' failed to "
                                          "satisfy constraint: Member must not be null")
        for name, member in shape.members.items():
            if value.get(name) is not None:
                validate(member, value[name], f"{path}.{_camel(name)}" if path else _camel(name))
        return
    if kind == "list":
        if not isinstance(value, list):
            raise _constraint(value, path, "Member must be a list")
        _check_range(shape, len(value), value, path, "length")
        for index, item in enumerate(value):
            validate(shape.member, item, f"{path}.{index + 1}.member")
        return
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise _constraint(value, path, "Member must be a number")
        _check_range(shape, value, value, path, "value")
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _constraint(value, path, "Member must be a boolean")
        return
    if kind == "string":
        if not isinstance(value, str):
            raise _constraint(value, path, "Member must be a string")
        _check_range(shape, len(value), value, path, "length")
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            raise _constraint(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        pattern = shape.metadata.get("pattern")
        if pattern and path == "id" and not re.fullmatch(_ID_PATTERN.strip("^$"), value):
            raise ValidationException(f"id must satisfy regex pattern: {_ID_PATTERN}")
        if pattern and not re.fullmatch(pattern, value):
            raise _constraint(value, path, f"Member must satisfy regular expression pattern: {pattern}")


def _check_range(shape: Any, size: int, value: Any, path: str, what: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        raise _constraint(value, path, f"Member must have {what} greater than or equal to {low}")
    if high is not None and size > high:
        raise _constraint(value, path, f"Member must have {what} less than or equal to {high}")


def _validate_target(request: Mapping[str, Any]) -> None:
    """Where the SQL runs, as the service accepts it: a SessionId alone; or a Database with a ClusterIdentifier
    (IAM, DbUser or SecretArn), a WorkgroupName (IAM or SecretArn), or a SecretArn alone (its secret names the
    cluster)."""
    cluster, workgroup, secret = request.get("ClusterIdentifier"), request.get("WorkgroupName"), request.get("SecretArn")
    if request.get("SessionId"):
        if cluster or workgroup or secret or request.get("Database") or request.get("DbUser"):
            raise ValidationException("SessionId cannot be specified together with ClusterIdentifier, "
                                      "WorkgroupName, Database, SecretArn or DbUser.")
        return
    if cluster and workgroup:
        raise ValidationException("ClusterIdentifier and WorkgroupName cannot both be specified.")
    if not (cluster or workgroup or secret):
        raise ValidationException("Either ClusterIdentifier, WorkgroupName or SecretArn must be specified.")
    if request.get("DbUser") and secret:
        raise ValidationException("DbUser and SecretArn cannot both be specified.")
    if request.get("DbUser") and not cluster:
        raise ValidationException("DbUser requires ClusterIdentifier (serverless users come from IAM or the secret).")
    if not request.get("Database"):
        raise ValidationException("Database must be specified.")


@dataclass
class _KeptSession:
    """A session kept alive with SessionKeepAliveSeconds: later calls with its SessionId run in it."""

    id: str
    target: dict[str, Any]  # ClusterIdentifier / WorkgroupName / Database / DbUser / SecretArn of its first call
    keep_alive: int
    engine_session: EngineSession | None = None
    busy: bool = True
    expires_at: float = 0.0
    facts: SessionFacts = field(default_factory=SessionFacts)  # pg_last_query_id() & co. across its calls
    created_at: datetime = field(default_factory=st.now)


_SESSION_MEMBERS = ("Database", "DbUser", "ClusterIdentifier", "WorkgroupName")


# ---- the emulator ------------------------------------------------------------------------------------------

class DataApiEmulator:
    """The Redshift Data API over `engine` (DuckDB in memory unless told otherwise).

    translator: the SQL translation module (default shiftflow.dataapi.translate): translate(), run_s3_command(),
    EngineSql / TransactionControl / S3Command / NotSupportedLocally. s3_client: used by COPY and UNLOAD.
    time_scale: a long poll (WaitTimeSeconds) waits at most WaitTimeSeconds * time_scale real seconds, so that
    it keeps its proportion to the local runtime's scaled Wait states; statements themselves run at full speed.
    """

    def __init__(self, engine: Engine | None = None, *, workers: int = 4, s3_client: Any = None,
                 translator: Any = None, page_rows: int = 1000, max_active: int = 500,
                 account_id: str = "123456789012", region: str = "us-east-1", time_scale: float = 1.0) -> None:
        if not time_scale > 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        if engine is None:
            from shiftflow.dataapi.engines.duckdb import DuckDBEngine

            engine = DuckDBEngine()
        self.engine = engine
        self._s3_client = s3_client
        self.page_rows = page_rows
        self.max_active = max_active
        self.account_id, self.region = account_id, region
        self.time_scale = time_scale
        self._translator = translator
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dataapi")
        self._lock = threading.Lock()
        self._statements: dict[str, Statement] = {}
        self._tokens: dict[str, tuple[str, str]] = {}  # ClientToken -> (request fingerprint, statement id)
        self._idle: dict[str, list[EngineSession]] = {}
        self._sessions: dict[str, _KeptSession] = {}
        self._subscribers: list[Subscriber] = []
        self._query_ids = iter(range(100_000, 1 << 62))
        self._pids = iter(range(1_073_741_824, 1 << 62))
        self._pid_of: dict[int, int] = {}
        self._closed = False
        self._oldest_kept = st.now()
        self._system_log = SystemLog(history=self._query_history)  # stl_load_errors, sys_query_history

    def _query_history(self) -> list[Any]:
        with self._lock:
            return query_records(list(self._statements.values()))

    # -- public API besides the operations --

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(event)` when a WithEvent statement ends; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def call(self, operation: str, request: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run one operation (e.g. "ExecuteStatement") on JSON request members; raises DataApiError."""
        handler = _OPERATIONS.get(operation)
        if handler is None:
            raise UnknownOperationException(f"Unknown operation {operation}")
        request = dict(request or {})
        validate(service_model().operation_model(operation).input_shape, request)
        return handler(self, request)

    def handle_json(self, target: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """One JSON 1.1 protocol exchange: X-Amz-Target `RedshiftData.<Operation>` and body -> status, headers, body."""
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": str(uuid.uuid4())}
        prefix = "RedshiftData."
        try:
            if not target.startswith(prefix):
                raise UnknownOperationException(f"Unknown operation {target}")
            try:
                request = json.loads(body or b"{}")
            except ValueError as error:
                raise ValidationException(f"Request body is not valid JSON: {error}") from None
            response = self.call(target[len(prefix):], request)
            return 200, headers, json.dumps(response, default=_json_default).encode()
        except DataApiError as error:
            return error.status, {**headers, "x-amzn-ErrorType": error.code}, error.body()
        except Exception as error:  # a bug here must reach the caller as the service's 500, not hang it
            log.exception("Data API emulator failed on %s", target)
            failure = InternalServerException(f"{type(error).__name__}: {error}")
            return failure.status, {**headers, "x-amzn-ErrorType": failure.code}, failure.body()

    def close(self, close_engine: bool = True) -> None:
        """Cancel what runs, close the sessions, and the engine too unless it is shared (close_engine=False)."""
        self._closed = True
        with self._lock:
            running = [s for s in self._statements.values() if s.status in st.ACTIVE]
        for statement in running:
            self._cancel(statement)
        self._pool.shutdown(wait=True)
        with self._lock:
            idle, self._idle = self._idle, {}
            kept, self._sessions = self._sessions, {}
        idle.setdefault("", []).extend(k.engine_session for k in kept.values() if k.engine_session is not None)
        for sessions in idle.values():
            for session in sessions:
                session.close()
        if close_engine:
            self.engine.close()

    def __enter__(self) -> DataApiEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def s3_client(self) -> Any:
        """COPY and UNLOAD's S3: the one given, else a fresh client each time, so that whatever mock_aws is
        active at that moment (the local runtime's moto S3) is the one used."""
        if self._s3_client is not None:
            return self._s3_client
        import boto3

        return boto3.session.Session().client("s3", region_name=self.region)

    @property
    def translator(self) -> Any:
        if self._translator is None:
            from shiftflow.dataapi import translate

            self._translator = translate
        return self._translator

    # -- operations: submit --

    def execute_statement(self, request: dict[str, Any]) -> dict[str, Any]:
        _validate_target(request)
        statement = self._submit(request, [request["Sql"]], is_batch=False)
        return self._submitted(statement, request)

    def batch_execute_statement(self, request: dict[str, Any]) -> dict[str, Any]:
        _validate_target(request)
        statement = self._submit(request, list(request["Sqls"]), is_batch=True)
        return self._submitted(statement, request)

    def _submit(self, request: dict[str, Any], sqls: list[str], is_batch: bool) -> Statement:
        token = request.get("ClientToken")
        fingerprint = json.dumps({k: v for k, v in request.items() if k not in _NOT_IDEMPOTENCY_KEY},
                                 sort_keys=True)
        with self._lock:
            if token and token in self._tokens:
                known_fingerprint, statement_id = self._tokens[token]
                if known_fingerprint != fingerprint:
                    raise ValidationException(f"ClientToken {token} was already used with a different request; "
                                              "use a new token for a new request.")
                return self._statements[statement_id]
            active = sum(1 for s in self._statements.values() if s.status in st.ACTIVE)
            if active >= self.max_active:
                raise ActiveStatementsExceededException(
                    f"Active statements exceeded the limit of {self.max_active}. Wait for some to finish.")
            self._forget_old()
            recorded = self._session_for(request)
            statement_id = st.new_id()
            subs = [SubStatement(f"{statement_id}:{n}" if is_batch else statement_id, sql)
                    for n, sql in enumerate(sqls, start=1)]
            statement = Statement(statement_id, recorded, is_batch, subs)
            self._statements[statement_id] = statement
            if token:
                self._tokens[token] = (fingerprint, statement_id)
        self._pool.submit(self._run, statement)
        return statement

    def _forget_old(self) -> None:
        """Statements (and their results) are kept 24 hours, as on the service. Call with the lock held."""
        horizon = st.now() - RETENTION
        if self._oldest_kept > horizon:
            return
        old = {i for i, s in self._statements.items() if s.status in st.ENDED and s.updated_at < horizon}
        for statement_id in old:
            del self._statements[statement_id]
        self._tokens = {t: v for t, v in self._tokens.items() if v[1] not in old}
        self._oldest_kept = min((s.created_at for s in self._statements.values()), default=st.now())
        self._system_log.forget_before(horizon)

    def _session_for(self, request: dict[str, Any]) -> dict[str, Any]:
        """The request as recorded: with its session's target when it names a SessionId (call with the lock)."""
        self._expire_sessions()
        keep_alive = request.get("SessionKeepAliveSeconds")
        session_id = request.get("SessionId")
        if session_id:
            kept = self._sessions.get(session_id)
            if kept is None:
                raise ValidationException(f"Session {session_id} does not exist or has expired.")
            if kept.busy:
                raise ValidationException(f"Session {session_id} is busy running another statement.")
            kept.busy = True
            if keep_alive is not None:
                kept.keep_alive = keep_alive
            return {**kept.target, **request}
        if keep_alive:
            session_id = st.new_id()
            self._sessions[session_id] = _KeptSession(session_id, _target_members(request), keep_alive)
            return {**request, "SessionId": session_id}
        return request

    def _expire_sessions(self) -> None:
        now = time.monotonic()
        for kept in [k for k in self._sessions.values() if not k.busy and k.expires_at <= now]:
            del self._sessions[kept.id]
            if kept.engine_session is not None:
                kept.engine_session.close()

    def _submitted(self, statement: Statement, request: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = {"Id": statement.id, "CreatedAt": statement.created_at}
        response.update(_target_members(statement.request))
        if statement.request.get("SessionId"):
            response["SessionId"] = statement.request["SessionId"]
        wait = request.get("WaitTimeSeconds")
        if wait:
            self._long_poll(statement, wait)
            response["Status"] = statement.status
            response["HasResultSet"] = statement.has_result_set
            response["RedshiftPid"] = statement.pid
        return response

    def _long_poll(self, statement: Statement, seconds: int) -> None:
        """WaitTimeSeconds: return when the statement ends or after `seconds` (scaled by time_scale)."""
        statement.done.wait(seconds * self.time_scale)

    # -- operations: status and results --

    def _find(self, statement_id: str) -> tuple[Statement, SubStatement | None]:
        parent_id, _, number = statement_id.partition(":")
        with self._lock:
            statement = self._statements.get(parent_id)
        if statement is None:
            raise query_not_found(statement_id)
        if not number:
            return statement, None
        sub = statement.sub(statement_id) if statement.is_batch else None
        if sub is None:
            raise query_not_found(statement_id)
        return statement, sub

    def describe_statement(self, request: dict[str, Any]) -> dict[str, Any]:
        statement, sub = self._find(request["Id"])
        if request.get("WaitTimeSeconds"):
            self._long_poll(statement, request["WaitTimeSeconds"])
        with self._lock:  # a consistent snapshot while the worker moves on
            return self._describe(statement, sub)

    def _describe(self, statement: Statement, sub: SubStatement | None) -> dict[str, Any]:
        request = statement.request
        response: dict[str, Any] = {**_target_members(request), "RedshiftPid": statement.pid,
                                    "ResultFormat": statement.result_format}
        if request.get("Parameters"):
            response["QueryParameters"] = request["Parameters"]
        if request.get("SessionId"):
            response["SessionId"] = request["SessionId"]
        if statement.is_batch:
            response["ExecutionMode"] = request.get("ExecutionMode", _TRANSACTION)
        if sub is None and statement.is_batch:
            response.update({
                "Id": statement.id, "Status": statement.status, "CreatedAt": statement.created_at,
                "UpdatedAt": statement.updated_at, "Duration": statement.duration_ns,
                "HasResultSet": statement.has_result_set, "ResultRows": -1, "ResultSize": -1,
                "RedshiftQueryId": 0, "SubStatements": [_sub_data(s) for s in statement.subs],
            })
            if statement.error:
                response["Error"] = statement.error
            return response
        one = sub or statement.subs[0]
        data = _sub_data(one)
        response.update(data)
        if sub is None:  # a single statement: the parent's status covers cancellation before it started
            response.update({"Status": statement.status, "CreatedAt": statement.created_at,
                             "UpdatedAt": statement.updated_at})
            if statement.error:
                response["Error"] = statement.error
        return response

    def get_statement_result(self, request: dict[str, Any]) -> dict[str, Any]:
        sub, result, start, stop = self._result_page(request, "JSON")
        response: dict[str, Any] = {"Records": st.records(result, start, stop),
                                    "ColumnMetadata": st.column_metadata(result),
                                    "TotalNumRows": len(result.rows)}
        if stop < len(result.rows):
            response["NextToken"] = _token(sub.id, stop)
        return response

    def get_statement_result_v2(self, request: dict[str, Any]) -> dict[str, Any]:
        sub, result, start, stop = self._result_page(request, "CSV")
        response: dict[str, Any] = {"Records": [{"CSVRecords": st.csv_records(result, start, stop)}],
                                    "ColumnMetadata": st.column_metadata(result),
                                    "TotalNumRows": len(result.rows), "ResultFormat": "CSV"}
        if stop < len(result.rows):
            response["NextToken"] = _token(sub.id, stop)
        return response

    def _result_page(self, request: dict[str, Any], result_format: str
                     ) -> tuple[SubStatement, QueryResult, int, int]:
        statement, sub = self._find(request["Id"])
        if request.get("WaitTimeSeconds"):
            self._long_poll(statement, request["WaitTimeSeconds"])
        if statement.is_batch and sub is None:
            raise ValidationException("BatchExecuteStatement result can only be retrieved with sub-statement id.")
        one = sub or statement.subs[0]
        if one.status not in st.ENDED:
            raise ValidationException("Query has not finished. Please check query status with DescribeStatement.")
        if one.status != st.FINISHED or one.result is None or not one.result.has_result_set:
            raise ValidationException("Query does not have result. Please check query status with DescribeStatement.")
        if statement.result_format != result_format:
            operation = "GetStatementResultV2" if statement.result_format == "CSV" else "GetStatementResult"
            raise ValidationException(f"The statement's ResultFormat is {statement.result_format}; "
                                      f"fetch its result with {operation}.")
        start = _offset(request.get("NextToken"), one.id)
        return one, one.result, start, min(start + self.page_rows, len(one.result.rows))

    def cancel_statement(self, request: dict[str, Any]) -> dict[str, Any]:
        statement, _ = self._find(request["Id"])
        with self._lock:
            if statement.status in st.ENDED:
                raise ValidationException(
                    f"Could not cancel a query that is already in {statement.status} status")
            statement.cancel_requested = True
        self._cancel(statement)
        return {"Status": True}

    def _cancel(self, statement: Statement) -> None:
        """Interrupt until the statement ends: an interrupt that lands between two engine calls is lost."""
        statement.cancel_requested = True

        def interrupt_until_done() -> None:
            while True:
                session = statement.session
                if session is not None:
                    session.interrupt()
                if statement.done.wait(0.01):
                    return

        threading.Thread(target=interrupt_until_done, name=f"cancel-{statement.id}", daemon=True).start()

    def list_statements(self, request: dict[str, Any]) -> dict[str, Any]:
        status = request.get("Status", st.FINISHED)
        name = request.get("StatementName")
        with self._lock:
            chosen = [s for s in self._statements.values()
                      if (status == "ALL" or s.status == status)
                      and (not name or s.name.startswith(name))
                      and all(not request.get(k) or s.request.get(k) == request[k]
                              for k in ("Database", "ClusterIdentifier", "WorkgroupName"))]
        chosen.sort(key=lambda s: s.created_at, reverse=True)
        start = _offset(request.get("NextToken"), "ListStatements")
        limit = request.get("MaxResults") or 100
        page = chosen[start:start + limit]
        response: dict[str, Any] = {"Statements": [_statement_data(s) for s in page]}
        if start + limit < len(chosen):
            response["NextToken"] = _token("ListStatements", start + limit)
        return response

    def list_sessions(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._expire_sessions()
            sessions = [
                {"SessionId": k.id, "Status": "BUSY" if k.busy else "AVAILABLE", "CreatedAt": k.created_at,
                 "SessionAliveSeconds": k.keep_alive, **{m: k.target[m] for m in _SESSION_MEMBERS if k.target.get(m)}}
                for k in self._sessions.values()
                if (not request.get("SessionId") or k.id == request["SessionId"])
                and (not request.get("Status") or request["Status"] == ("BUSY" if k.busy else "AVAILABLE"))
                and all(not request.get(m) or k.target.get(m) == request[m]
                        for m in ("ClusterIdentifier", "WorkgroupName", "Database"))
            ]
        start = _offset(request.get("NextToken"), "ListSessions")
        limit = request.get("MaxResults") or 100
        response: dict[str, Any] = {"Sessions": sessions[start:start + limit]}
        if start + limit < len(sessions):
            response["NextToken"] = _token("ListSessions", start + limit)
        return response

    # -- operations: catalog (ListDatabases / ListSchemas / ListTables / DescribeTable) --

    def list_databases(self, request: dict[str, Any]) -> dict[str, Any]:
        _validate_target(request)
        names = sorted(set(self.engine.databases()) | {request["Database"]}) if hasattr(self.engine, "databases") \
            else [request["Database"]]
        return _paged("Databases", names, request)

    def list_schemas(self, request: dict[str, Any]) -> dict[str, Any]:
        _validate_target(request)
        rows = self._catalog(request, "SELECT DISTINCT schema_name FROM information_schema.schemata "
                                      "WHERE schema_name LIKE {p} ORDER BY 1", {"p": request.get("SchemaPattern", "%")})
        return _paged("Schemas", [row[0] for row in rows], request)

    def list_tables(self, request: dict[str, Any]) -> dict[str, Any]:
        _validate_target(request)
        params = {"s": request.get("SchemaPattern", "%"), "t": request.get("TablePattern", "%")}
        rows = self._catalog(request, "SELECT table_name, table_type, table_schema FROM information_schema.tables "
                                      "WHERE table_schema LIKE {s} AND table_name LIKE {t} ORDER BY 3, 1", params)
        tables = [{"name": n, "type": "VIEW" if "VIEW" in t else "TABLE", "schema": s} for n, t, s in rows]
        return _paged("Tables", tables, request)

    def describe_table(self, request: dict[str, Any]) -> dict[str, Any]:
        _validate_target(request)
        params = {"s": request.get("Schema", "public"), "t": request.get("Table", "")}
        rows = self._catalog(request, "SELECT column_name, data_type, numeric_precision, numeric_scale, "
                                      "character_maximum_length, is_nullable, column_default, table_schema, "
                                      "table_name FROM information_schema.columns WHERE table_schema = {s} "
                                      "AND table_name = {t} ORDER BY ordinal_position", params)
        columns = []
        for name, data_type, precision, scale, length, nullable, default, schema, table in rows:
            type_name = _CATALOG_TYPES.get(str(data_type).lower().split("(")[0], "varchar")
            size = length if type_name in ("varchar", "bpchar") and length else precision
            column = Column(name, type_name, int(size or 0), int(scale or 0), 1 if nullable == "YES" else 0)
            entry = {**st.column_metadata(QueryResult(columns=[column]))[0], "schemaName": schema, "tableName": table}
            if default is not None:
                entry["columnDefault"] = str(default)
            columns.append(entry)
        response = _paged("ColumnList", columns, request)
        response["TableName"] = params["t"]
        return response

    def _catalog(self, request: dict[str, Any], sql: str, params: Mapping[str, str]) -> list[Any]:
        """Run an information_schema query (the same on DuckDB and PostgreSQL but for the placeholders)."""
        marker = "${}" if self.engine.name == "duckdb" else "%({})s"
        database = request.get("ConnectedDatabase") or request["Database"]
        session = self._checkout(database)
        try:
            return list(session.execute(sql.format(**{n: marker.format(n) for n in params}), params).rows)
        except EngineError as error:
            raise ValidationException(str(error)) from None
        finally:
            self._release(database, session, reusable=True)

    # -- the worker --

    def _checkout(self, database: str) -> EngineSession:
        with self._lock:
            idle = self._idle.get(database)
            if idle:
                return idle.pop()
        session = self.engine.session(database)
        with self._lock:
            self._pid_of[id(session)] = next(self._pids)
        return session

    def _release(self, database: str, session: EngineSession, reusable: bool) -> None:
        if reusable and not self._closed:
            with self._lock:
                self._idle.setdefault(database, []).append(session)
            return
        with self._lock:
            self._pid_of.pop(id(session), None)
        session.close()

    def _run(self, statement: Statement) -> None:
        try:
            self._run_statement(statement)
        except Exception as error:  # never leave a statement hanging in STARTED
            log.exception("Data API emulator worker failed on %s", statement.id)
            with self._lock:
                statement.finish(st.FAILED, f"internal error in the Data API emulator: {error}")
        finally:
            statement.done.set()
            if statement.request.get("WithEvent"):
                self._emit(statement)

    def _run_statement(self, statement: Statement) -> None:
        with self._lock:
            statement.set_status(st.PICKED)
            for sub in statement.subs:
                sub.status, sub.updated_at = st.PICKED, st.now()
        with self._lock:
            kept = self._sessions.get(statement.request.get("SessionId", ""))
            if statement.cancel_requested:
                if kept:
                    kept.busy, kept.expires_at = False, time.monotonic() + kept.keep_alive
                return self._abort(statement, statement.subs)
        database = statement.database
        try:
            session = kept.engine_session if kept and kept.engine_session else self._checkout(database)
        except EngineError as error:
            with self._lock:
                for sub in statement.subs:
                    sub.end(st.FAILED if sub is statement.subs[0] else st.ABORTED,
                            error=f"cannot open database {database}: {error}" if sub is statement.subs[0] else "")
                statement.finish(st.FAILED, f"cannot open database {database}: {error}")
                if kept:
                    kept.busy, kept.expires_at = False, time.monotonic() + kept.keep_alive
            return
        set_user = getattr(session, "set_user", None)
        if set_user is not None:
            try:
                set_user(database_user(statement.request))
            except EngineError:
                log.warning("could not record the database user on an engine session", exc_info=True)
        with self._lock:
            statement.session, statement.pid = session, self._pid_of.get(id(session), 0)
            statement.set_status(st.STARTED)
        system = SystemContext(kept.facts if kept else SessionFacts(), self._system_log, statement.pid)
        run = _Run(statement, session, self.translator, lambda: self.s3_client, system)
        try:
            failed = run.all(lambda: next(self._query_ids), self._lock)
        finally:
            statement.session = None
        clean = run.close() and not statement.cancel_requested
        if kept:  # the session lives on, temp tables and all, until its keep-alive runs out
            usable = clean or (run.temporary and not run.broken and not statement.cancel_requested)
            with self._lock:
                kept.engine_session = session if usable else None
                kept.busy, kept.expires_at = False, time.monotonic() + kept.keep_alive
            if not usable:
                self._release(database, session, reusable=False)
        else:
            self._release(database, session, clean)
        with self._lock:
            if statement.cancel_requested and failed is not None:
                self._abort(statement, statement.subs[failed:])
            elif failed is not None:
                for sub in statement.subs[failed + 1:]:  # never ran: the batch stopped at its first failure
                    sub.end(st.ABORTED)
                statement.finish(st.FAILED, run.failure_message(failed))
            else:
                statement.finish(st.FINISHED)

    @staticmethod
    def _abort(statement: Statement, subs: list[SubStatement]) -> None:
        """Cancelled: what had not ended (or ended by the interruption) is ABORTED. Call with the lock held."""
        for sub in subs:
            if sub.status not in st.ENDED or sub.status == st.FAILED:
                sub.end(st.ABORTED, error="Query cancelled on user's request" if sub.started_ns else "")
        statement.finish(st.ABORTED, "Query cancelled on user's request")

    def _emit(self, statement: Statement) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        if not subscribers:
            return
        event = status_change_event(statement, self.account_id, self.region)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:  # delivery is best effort, as on EventBridge: one bad subscriber must not stop others
                log.exception("Data API event subscriber failed")


class _Run:
    """One statement's sub-statements on one engine session, with Redshift's transaction rules."""

    def __init__(self, statement: Statement, session: EngineSession, translator: Any,
                 s3_client: Callable[[], Any], system: SystemContext) -> None:
        self.statement, self.session, self.tr, self.s3_client = statement, session, translator, s3_client
        self.system = system  # what the system tables and pg_last_* functions read
        self.parameters = {p["name"]: p["value"] for p in statement.request.get("Parameters", [])}
        self.in_transaction = False
        self.broken = False  # the session's state is unknown: do not reuse it
        self.temporary = False  # created session-scoped objects: a Data API session ends with its call

    def all(self, query_id: Callable[[], int], lock: threading.Lock) -> int | None:
        """Run every sub-statement in order; the index of the one that failed, or None."""
        statement = self.statement
        if statement.is_batch and statement.request.get("ExecutionMode", _TRANSACTION) == _TRANSACTION:
            self._control("begin")
        for index, sub in enumerate(statement.subs):
            if statement.cancel_requested:
                self._end_transaction("rollback")
                return index
            with lock:
                sub.start(query_id())
            try:
                result = self._one(sub.sql, sub.query_id)
            except (EngineError, self.tr.NotSupportedLocally, _StatementError) as error:
                with lock:
                    sub.end(st.FAILED, error=str(error))
                self._end_transaction("rollback")
                return index
            with lock:
                sub.end(st.FINISHED, result)
            self.system.completed(sub.query_id)
        try:
            self._end_transaction("commit")
        except EngineError as error:
            last = statement.subs[-1]
            with lock:
                last.end(st.FAILED, error=f"COMMIT failed: {error}")
            return len(statement.subs) - 1
        return None

    def _one(self, sql: str, query_id: int) -> QueryResult:
        if not self.statement.is_batch:
            _single_statement(sql)
        if "temp" in sql.lower() or "#" in sql:
            self.temporary = True
        translated = self.tr.translate(sql, self.session.engine)
        if isinstance(translated, self.tr.TransactionControl):
            self._control(translated.action)
            return QueryResult(rowcount=0)
        if isinstance(translated, self.tr.S3Command):
            return self.system.s3_command(getattr(translated, "kind", ""), query_id, lambda: self.tr.run_s3_command(
                translated, self.session, self.parameters, self.s3_client()))
        if getattr(translated, "session_scoped", False):
            self.temporary = True
        values = {**self.parameters, **self.system.parameters(translated.parameter_names)}
        missing = [name for name in translated.parameter_names if name not in values]
        if missing:
            raise _StatementError(f"ERROR: no value given for parameter :{missing[0]} (Parameters has "
                                  f"{sorted(self.parameters) or 'none'})")
        bound = {n: values[n] for n in translated.parameter_names}
        if isinstance(translated, SessionCommand):
            return translated.run(self.session, bound, self.in_transaction)
        result = self.session.execute(translated.text, bound)
        if getattr(translated, "commits", False) and self.in_transaction:
            # Redshift's TRUNCATE commits the transaction it runs in (the statements before it included) and the
            # rest of the block runs in a new one, as in a stored procedure: a later failure cannot undo it.
            self.session.commit()
            self.session.begin()
        return result

    def _control(self, action: str) -> None:
        """BEGIN inside a transaction and COMMIT / ROLLBACK outside one are no-ops, as Redshift warns and goes on."""
        if action == "begin" and not self.in_transaction:
            self.session.begin()
            self.in_transaction = True
        elif action in ("commit", "rollback") and self.in_transaction:
            self.in_transaction = False
            getattr(self.session, action)()

    def _end_transaction(self, action: str) -> None:
        if not self.in_transaction:
            return
        self.in_transaction = False
        if not self.statement.is_batch:
            action = "rollback"  # a lone BEGIN: the call's session ends without COMMIT
        try:
            getattr(self.session, action)()
        except EngineError:
            self.broken = True
            if action == "commit":
                raise

    def close(self) -> bool:
        """Leave the session clean; True when it can serve another call."""
        try:
            self._end_transaction("rollback")
        except EngineError:
            self.broken = True
        return not (self.broken or self.temporary)

    def failure_message(self, index: int) -> str:
        sub = self.statement.subs[index]
        if not self.statement.is_batch:
            return sub.error
        sql = sub.sql if len(sub.sql) <= 500 else sub.sql[:500] + "..."
        return (f"Sub-statement {index + 1} of {len(self.statement.subs)} ({sub.id}) failed: {sub.error}\n"
                f"SQL: {sql}")


class _StatementError(Exception):
    """The statement cannot run as sent (the service would fail it too)."""


def _single_statement(sql: str) -> None:
    try:
        count = len(split_statements(sql))
    except SqlSplitError as error:
        raise _StatementError(f"ERROR: {error}") from None
    if count == 0:
        raise _StatementError("ERROR: the SQL text is empty")
    if count > 1:
        raise _StatementError(f"ERROR: ExecuteStatement runs one SQL statement, this text has {count}; "
                              "send them with BatchExecuteStatement")


# ---- response pieces -----------------------------------------------------------------------------------------

def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def database_user(request: Mapping[str, Any]) -> str:
    """The Redshift user the request runs as: its DbUser; without one (IAM or SecretArn), the user Redshift derives
    from the caller's IAM identity, IAM:<name>, for the local caller (the events' principal user/local): IAM:local.
    The emulator does not read a secret's username."""
    return str(request.get("DbUser") or "IAM:local")


def _target_members(request: Mapping[str, Any]) -> dict[str, Any]:
    return {k: request[k] for k in ("ClusterIdentifier", "DbUser", "Database", "SecretArn", "WorkgroupName")
            if request.get(k)}


def _sub_data(sub: SubStatement) -> dict[str, Any]:
    data: dict[str, Any] = {
        "Id": sub.id, "Status": sub.status, "CreatedAt": sub.created_at, "UpdatedAt": sub.updated_at,
        "Duration": sub.duration_ns if sub.status in st.ENDED else -1, "QueryString": sub.sql,
        "ResultRows": sub.result_rows, "HasResultSet": sub.has_result_set,
        "ResultSize": st.result_size(sub.result) if sub.status == st.FINISHED else -1,
        "RedshiftQueryId": max(sub.query_id, 0),
    }
    if sub.error:
        data["Error"] = sub.error
    return data


def _statement_data(statement: Statement) -> dict[str, Any]:
    request = statement.request
    data: dict[str, Any] = {"Id": statement.id, "Status": statement.status, "CreatedAt": statement.created_at,
                            "UpdatedAt": statement.updated_at, "IsBatchStatement": statement.is_batch,
                            "ResultFormat": statement.result_format}
    if statement.is_batch:
        data["QueryStrings"] = [sub.sql for sub in statement.subs]
    else:
        data["QueryString"] = statement.subs[0].sql
    for source, target in (("StatementName", "StatementName"), ("SecretArn", "SecretArn"),
                           ("Parameters", "QueryParameters"), ("SessionId", "SessionId")):
        if request.get(source):
            data[target] = request[source]
    return data


def _token(scope: str, offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([scope, offset]).encode()).decode()


def _offset(token: str | None, scope: str) -> int:
    if not token:
        return 0
    try:
        token_scope, offset = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError):
        raise ValidationException("Invalid NextToken.") from None
    if token_scope != scope or not isinstance(offset, int) or offset < 0:
        raise ValidationException("Invalid NextToken.")
    return offset


def _paged(member: str, items: list[Any], request: Mapping[str, Any]) -> dict[str, Any]:
    start = _offset(request.get("NextToken"), member)
    limit = request.get("MaxResults") or 1000
    response: dict[str, Any] = {member: items[start:start + limit]}
    if start + limit < len(items):
        response["NextToken"] = _token(member, start + limit)
    return response


def status_change_event(statement: Statement, account_id: str, region: str) -> dict[str, Any]:
    """EventBridge's "Redshift Data Statement Status Change" event for an ended statement."""
    request = statement.request
    resources = []  # a SecretArn-only target names its cluster inside the secret: no resource to show
    if request.get("WorkgroupName"):
        resources.append(f"arn:aws:redshift-serverless:{region}:{account_id}:workgroup/{request['WorkgroupName']}")
    elif request.get("ClusterIdentifier"):
        resources.append(f"arn:aws:redshift:{region}:{account_id}:cluster:{request['ClusterIdentifier']}")
    last = statement.subs[-1]
    rows = sum(max(sub.result_rows, 0) for sub in statement.subs)
    detail: dict[str, Any] = {
        "principal": f"arn:aws:iam::{account_id}:user/{request.get('DbUser') or 'local'}",
        "statementName": statement.name,
        "statementId": statement.id,
        "redshiftQueryId": last.query_id if last.query_id > 0 else -1,
        "state": statement.status,
        "rows": rows,
        "expireAt": int((statement.updated_at + timedelta(hours=24)).timestamp()),
    }
    if statement.error:
        detail["error"] = statement.error
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Redshift Data Statement Status Change",
        "source": "aws.redshift-data", "account": account_id,
        "time": statement.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
        "resources": resources, "detail": detail,
    }


_OPERATIONS: dict[str, Callable[[DataApiEmulator, dict[str, Any]], dict[str, Any]]] = {
    "ExecuteStatement": DataApiEmulator.execute_statement,
    "BatchExecuteStatement": DataApiEmulator.batch_execute_statement,
    "DescribeStatement": DataApiEmulator.describe_statement,
    "GetStatementResult": DataApiEmulator.get_statement_result,
    "GetStatementResultV2": DataApiEmulator.get_statement_result_v2,
    "CancelStatement": DataApiEmulator.cancel_statement,
    "ListStatements": DataApiEmulator.list_statements,
    "ListSessions": DataApiEmulator.list_sessions,
    "ListDatabases": DataApiEmulator.list_databases,
    "ListSchemas": DataApiEmulator.list_schemas,
    "ListTables": DataApiEmulator.list_tables,
    "DescribeTable": DataApiEmulator.describe_table,
}

__all__ = ["DataApiEmulator", "MAX_BATCH", "service_model", "status_change_event", "validate"]
