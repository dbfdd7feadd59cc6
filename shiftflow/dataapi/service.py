"""The Redshift Data API's operations over an embedded engine: the emulator both ways in (HTTP, in-process) call.

Requests and responses are the service's JSON members (botocore's `redshift-data` model); statements run on a
worker pool, so a submit returns at once and WaitTimeSeconds long-polls on the statement's completion event.
The service holds no HTTP concern: handle_json is the JSON 1.1 protocol exchange (protocol.py) any transport hands
over.

Its parts, by concern: protocol (the JSON 1.1 exchange), validation (the model-driven request checks), store (the statements known, ClientTokens,
limits, retention), runner (the worker that runs them), sessions (engine sessions, kept Data API sessions),
responses, paging, catalog, events.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from shiftflow.dataapi import statements as st
from shiftflow.dataapi.catalog import Catalog
from shiftflow.dataapi.engines.base import Engine, EngineError, QueryResult
from shiftflow.dataapi.errors import UnknownOperationException, ValidationException
from shiftflow.dataapi.events import EventSubscribers, Subscriber
from shiftflow.dataapi.paging import page_offset, page_token, paged
from shiftflow.dataapi.protocol import Answer, exchange
from shiftflow.dataapi.responses import described, statement_data, submitted
from shiftflow.dataapi.runner import StatementRunner
from shiftflow.dataapi.sessions import KeptSessions, SessionPool
from shiftflow.dataapi.statements import Statement, SubStatement
from shiftflow.dataapi.store import StatementStore
from shiftflow.dataapi.store_files import SessionFile
from shiftflow.dataapi.validation import (
    IAM_USER,
    SECRET_USER,
    secret_user,
    validate_one_warehouse,
    validate_request,
    validate_target,
)


class DataApiEmulator:
    """The Redshift Data API over `engine` (DuckDB in memory unless told otherwise).

    translator: the SQL translation module (default shiftflow.dataapi.translate): translate(), run_s3_command(),
    EngineSql / TransactionControl / S3Command / NotSupportedLocally. s3_client: used by COPY and UNLOAD.
    time_scale: a long poll (WaitTimeSeconds) waits at most WaitTimeSeconds * time_scale real seconds, so that
    it keeps its proportion to the local runtime's scaled Wait states; statements themselves run at full speed.
    warehouses: the clusters and workgroups that exist ({"ClusterIdentifier": names, "WorkgroupName": names}), as
    the local runtime's template declares them; a request naming another fails as on the service. None (the
    emulator alone): any name runs on the one engine. secrets: a secret's JSON by its name or ARN (None when it
    does not exist), for SecretArn requests: the secret must exist and name a user, who runs the SQL
    (validation.secret_user); None (the emulator alone): any SecretArn runs as the IAM identity's user.
    """

    def __init__(self, engine: Engine | None = None, *, workers: int = 4, s3_client: Any = None,
                 translator: Any = None, page_rows: int = 1000, max_active: int = 500,
                 account_id: str = "123456789012", region: str = "us-east-1", time_scale: float = 1.0,
                 warehouses: Mapping[str, Collection[str]] | None = None,
                 secrets: Callable[[str], Mapping[str, Any] | None] | None = None) -> None:
        if not time_scale > 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        if engine is None:
            from shiftflow.dataapi.engines.duckdb import DuckDBEngine

            engine = DuckDBEngine()
        self.engine = engine
        self._s3_client = s3_client
        self.page_rows = page_rows
        self.account_id, self.region = account_id, region
        self.time_scale = time_scale
        self.warehouses = warehouses
        self.secrets = secrets
        self._translator = translator
        self.statements = StatementStore(max_active)
        self._pool = SessionPool(engine)
        self._kept = KeptSessions()
        self._events = EventSubscribers(account_id, region)
        self._runner = StatementRunner(self.statements, self._pool, self._kept, self._events,
                                       lambda: self.translator, lambda: self.s3_client, workers,
                                       self.statements.system_log)
        self._catalog = Catalog(self._pool)

    # -- public API besides the operations --

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(event)` when a WithEvent statement ends; returns a function that unsubscribes."""
        return self._events.subscribe(callback)

    def keep_statements_on_disk(self, folder: Path) -> list[Statement]:
        """Statements saved in `folder` by an earlier process come back, and every statement is saved there from
        now on (shiftflow.dataapi.store), with the rows of stl_load_errors; the kept sessions an earlier process
        opened are known as CLOSED (shiftflow.dataapi.sessions). Those that had not ended end FAILED (FINISHED: a
        batch whose COMMIT was done, shiftflow.dataapi.commits), and their status change events (WithEvent) go to
        the subscribers; returns them."""
        interrupted = self.statements.keep_on_disk(folder, committed=self._committed)
        self._kept.keep_on_disk(SessionFile(folder))
        self._runner.resume_query_ids(self.statements.highest_query_id())
        for statement in interrupted:
            if statement.request.get("WithEvent"):
                self._events.emit(statement)
        return interrupted

    def _committed(self, unended: dict[str, list[str]]) -> set[str]:
        """Of the statements that had not ended, by database, those whose transaction committed
        (shiftflow.dataapi.commits); each database's marks are forgotten then."""
        from shiftflow.dataapi import commits

        found: set[str] = set()
        for database, statement_ids in unended.items():
            try:
                session = self._pool.checkout(database)
            except EngineError:
                continue  # a database gone since: its statements end FAILED
            try:
                found |= commits.committed(session, statement_ids)
            finally:
                self._pool.release(database, session, reusable=True)
        return found

    def call(self, operation: str, request: Mapping[str, Any] | None = None,
             caller: str | None = None) -> dict[str, Any]:
        """Run one operation (e.g. "ExecuteStatement") on JSON request members; raises DataApiError. `caller`: the
        database user of the caller's IAM identity (validation.IAM_USER), when it is known; None: the local
        administrator."""
        handler = _OPERATIONS.get(operation)
        if handler is None:
            raise UnknownOperationException(f"Unknown operation {operation}")
        request = dict(request or {})
        validate_request(operation, request)
        if caller is not None:
            request[IAM_USER] = caller
        return handler(self, request)

    def handle_json(self, target: str, body: bytes, caller: str | None = None) -> Answer:
        """One JSON 1.1 protocol exchange: X-Amz-Target `RedshiftData.<Operation>` and body -> status, headers, body
        (`caller` as call's)."""
        return exchange(lambda operation, request: self.call(operation, request, caller), target, body)

    def close(self, close_engine: bool = True) -> None:
        """Cancel what runs, close the sessions, and the engine too unless it is shared (close_engine=False)."""
        for statement in self.statements.active():
            self.statements.stop_saving(statement)  # kept on disk as running: the next process fails it
            self._runner.cancel(statement)
        self._runner.close()
        self._pool.close()
        self._kept.close()
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
        return self._submit(request, [request["Sql"]], is_batch=False)

    def batch_execute_statement(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._submit(request, list(request["Sqls"]), is_batch=True)

    def _submit(self, request: dict[str, Any], sqls: list[str], is_batch: bool) -> dict[str, Any]:
        validate_target(request, self.warehouses)
        user = secret_user(request, self.secrets)
        if user:
            request = {**request, SECRET_USER: user}
        statement, new = self.statements.record(request, sqls, is_batch, self._kept.claim)
        if new:
            self._runner.start(statement)
        response = submitted(statement)
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

    def describe_statement(self, request: dict[str, Any]) -> dict[str, Any]:
        statement, sub = self.statements.find(request["Id"])
        if request.get("WaitTimeSeconds"):
            self._long_poll(statement, request["WaitTimeSeconds"])
        with self.statements.lock:  # a consistent snapshot while the worker moves on
            return described(statement, sub)

    def get_statement_result(self, request: dict[str, Any]) -> dict[str, Any]:
        sub, result, start, stop = self._result_page(request, "JSON")
        response: dict[str, Any] = {"Records": st.records(result, start, stop),
                                    "ColumnMetadata": st.column_metadata(result),
                                    "TotalNumRows": len(result.rows)}
        if stop < len(result.rows):
            response["NextToken"] = page_token(sub.id, stop)
        return response

    def get_statement_result_v2(self, request: dict[str, Any]) -> dict[str, Any]:
        sub, result, start, stop = self._result_page(request, "CSV")
        response: dict[str, Any] = {"Records": [{"CSVRecords": st.csv_records(result, start, stop)}],
                                    "ColumnMetadata": st.column_metadata(result),
                                    "TotalNumRows": len(result.rows), "ResultFormat": "CSV"}
        if stop < len(result.rows):
            response["NextToken"] = page_token(sub.id, stop)
        return response

    def _result_page(self, request: dict[str, Any], result_format: str
                     ) -> tuple[SubStatement, QueryResult, int, int]:
        statement, sub = self.statements.find(request["Id"])
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
        start = page_offset(request.get("NextToken"), one.id)
        return one, one.result, start, min(start + self.page_rows, len(one.result.rows))

    def cancel_statement(self, request: dict[str, Any]) -> dict[str, Any]:
        statement, _ = self.statements.find(request["Id"])
        with self.statements.lock:
            if statement.status in st.ENDED:
                raise ValidationException(f"Could not cancel a query that is already in {statement.status} status")
            statement.cancel_requested = True
        self._runner.cancel(statement)
        return {"Status": True}

    def list_statements(self, request: dict[str, Any]) -> dict[str, Any]:
        validate_one_warehouse(request)
        page = paged("Statements", self.statements.listed(request), request, default_limit=100)
        page["Statements"] = [statement_data(s) for s in page["Statements"]]
        return page

    def list_sessions(self, request: dict[str, Any]) -> dict[str, Any]:
        return paged("Sessions", self._kept.listed(request), request, default_limit=100)

    # -- operations: catalog --

    def list_databases(self, request: dict[str, Any]) -> dict[str, Any]:
        validate_target(request, self.warehouses)
        secret_user(request, self.secrets)
        return self._catalog.list_databases(request)

    def list_schemas(self, request: dict[str, Any]) -> dict[str, Any]:
        validate_target(request, self.warehouses)
        secret_user(request, self.secrets)
        return self._catalog.list_schemas(request)

    def list_tables(self, request: dict[str, Any]) -> dict[str, Any]:
        validate_target(request, self.warehouses)
        secret_user(request, self.secrets)
        return self._catalog.list_tables(request)

    def describe_table(self, request: dict[str, Any]) -> dict[str, Any]:
        validate_target(request, self.warehouses)
        secret_user(request, self.secrets)
        return self._catalog.describe_table(request)


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

__all__ = ["DataApiEmulator"]
