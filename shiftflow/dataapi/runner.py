"""Running submitted statements: a worker pool takes each statement through PICKED and STARTED to its end.

Each statement's sub-statements run in order on one engine session with Redshift's transaction rules (a batch in
TRANSACTION mode is one transaction; a failure stops the batch); CancelStatement interrupts the session. Every change
of a statement's state is the store's (StatementStore.change: saved before it is seen, when statements are kept on
disk); the changes below are functions of the statement they change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from shiftflow.dataapi import commits
from shiftflow.dataapi import statements as st
from shiftflow.dataapi.engines.base import LOCAL_IAM_USER, EngineError, EngineSession, QueryResult, StatementTimedOut
from shiftflow.dataapi.events import EventSubscribers
from shiftflow.dataapi.sessions import KeptSession, KeptSessions, SessionPool
from shiftflow.dataapi.statements import Statement
from shiftflow.dataapi.store import StatementStore
from shiftflow.dataapi.translate.commands.settings import described
from shiftflow.dataapi.translate.model import (CASE_SENSITIVE_IDENTIFIERS, CURRENT_DATABASE, SessionCommand,
                                              unterminated_text)
from shiftflow.dataapi.translate.streaming import case_sensitive_identifiers
from shiftflow.dataapi.translate.system import SessionFacts, SystemContext, SystemLog
from shiftflow.dataapi.validation import IAM_USER, SECRET_USER
from shiftflow.sql.splitter import SqlSplitError, split_statements

log = logging.getLogger(__name__)

_CANCELLED = "Query cancelled on user's request"


def database_user(request: Mapping[str, Any]) -> str:
    """The Redshift user the request runs as: its DbUser; its secret's username (validation.secret_user); without
    either, the user Redshift derives from the caller's IAM identity (validation.IAM_USER: IAMR:<role> for a role
    of the local runtime), for the local administrator IAM:local."""
    return str(request.get("DbUser") or request.get(SECRET_USER) or request.get(IAM_USER) or LOCAL_IAM_USER)


class StatementRunner:
    """The worker side of the statement lifecycle; `store` changes the statements' state.

    translator and s3_client are functions, so that each statement uses the emulator's current ones. system_log:
    what the system tables read (stl_load_errors, sys_query_history)."""

    def __init__(self, store: StatementStore, pool: SessionPool, kept: KeptSessions, events: EventSubscribers,
                 translator: Callable[[], Any], s3_client: Callable[[], Any], workers: int,
                 system_log: SystemLog) -> None:
        self._store, self._pool, self._kept, self._events = store, pool, kept, events
        self._system_log = system_log
        self._translator, self._s3_client = translator, s3_client
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dataapi")
        self._query_ids = iter(range(100_000, 1 << 62))

    def start(self, statement: Statement) -> None:
        self._executor.submit(self._run, statement)

    def resume_query_ids(self, after: int) -> None:
        """Query ids go on after `after` (the statements of an earlier process kept theirs)."""
        self._query_ids = iter(range(max(after + 1, 100_000), 1 << 62))

    def cancel(self, statement: Statement) -> None:
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

    def close(self) -> None:
        """Wait for the workers (cancel what runs first)."""
        self._executor.shutdown(wait=True)

    def _run(self, statement: Statement) -> None:
        try:
            self._run_statement(statement)
        except Exception as error:  # never leave a statement hanging in STARTED
            log.exception("Data API emulator worker failed on %s", statement.id)
            self._store.change(statement, _finish(st.FAILED, f"internal error in the Data API emulator: {error}"))
        finally:
            statement.done.set()
            if statement.request.get("WithEvent"):
                self._events.emit(statement)

    def _run_statement(self, statement: Statement) -> None:
        change = self._store.change
        change(statement, _picked, save=False)
        kept = self._kept.get(statement.request.get("SessionId", ""))
        if statement.cancel_requested:
            if kept:
                self._kept.free(kept, kept.engine_session)
            return change(statement, _aborted(0))
        database = statement.database
        try:
            session = kept.engine_session if kept and kept.engine_session else self._pool.checkout(database)
        except EngineError as error:
            change(statement, _not_opened(f"cannot open database {database}: {error}"))
            if kept:
                self._kept.free(kept, None)
            return
        _set_user(session, statement.request)
        pid = self._pool.pid(session)

        def started(changing: Statement) -> None:
            changing.session, changing.pid = session, pid
            changing.set_status(st.STARTED)

        change(statement, started, save=False)
        system = SystemContext(kept.facts if kept else SessionFacts(), self._system_log, pid)
        run = SqlRun(statement, session, self._translator(), self._s3_client, system)
        try:
            failed = run.all(lambda: next(self._query_ids), self._store)
        finally:
            statement.session = None
        clean = run.close() and not statement.cancel_requested
        self._after_run(statement, kept, database, session, run, clean)
        if statement.cancel_requested and failed is not None:
            change(statement, _aborted(failed))
        elif failed is not None:
            change(statement, _failed_from(failed, run.failure_message(failed)))
        else:  # a single statement's end is saved with its sub-statement's (SqlRun.all): one write
            change(statement, _in_turn(run.sub_end, _finish(st.FINISHED)))

    def _after_run(self, statement: Statement, kept: KeptSession | None, database: str, session: EngineSession,
                   run: SqlRun, clean: bool) -> None:
        """Where the engine session goes: back to the pool, kept by its Data API session, or closed."""
        if kept is None:
            self._pool.release(database, session, clean)
            return
        # The session lives on, temp tables and all, until its keep-alive runs out.
        usable = clean or (run.temporary and not run.broken and not statement.cancel_requested)
        self._kept.free(kept, session if usable else None)
        if not usable:
            self._pool.release(database, session, reusable=False)


def _set_user(session: EngineSession, request: Mapping[str, Any]) -> None:
    set_user = getattr(session, "set_user", None)
    if set_user is None:
        return
    try:
        set_user(database_user(request))
    except EngineError:
        log.warning("could not record the database user on an engine session", exc_info=True)


# ---- the changes (StatementStore.change): each a function of the statement it changes -------------------------------

def _picked(statement: Statement) -> None:
    statement.set_status(st.PICKED)
    for sub in statement.subs:
        sub.status, sub.updated_at = st.PICKED, st.now()


def _aborted(first: int) -> Callable[[Statement], None]:
    """Cancelled: what had not ended from sub-statement `first` on (or ended by the interruption) is ABORTED."""
    def change(statement: Statement) -> None:
        for sub in statement.subs[first:]:
            if sub.status not in st.ENDED or sub.status == st.FAILED:
                sub.end(st.ABORTED, error=_CANCELLED if sub.started_ns else "")
        statement.finish(st.ABORTED, _CANCELLED)
    return change


def _not_opened(message: str) -> Callable[[Statement], None]:
    """Its database could not be opened: the first sub-statement FAILED, the others never ran."""
    def change(statement: Statement) -> None:
        for index, sub in enumerate(statement.subs):
            sub.end(st.FAILED if index == 0 else st.ABORTED, error=message if index == 0 else "")
        statement.finish(st.FAILED, message)
    return change


def _failed_from(failed: int, message: str) -> Callable[[Statement], None]:
    def change(statement: Statement) -> None:
        for sub in statement.subs[failed + 1:]:  # never ran: the batch stopped at its first failure
            sub.end(st.ABORTED)
        statement.finish(st.FAILED, message)
    return change


def _finish(status: str, error: str = "") -> Callable[[Statement], None]:
    return lambda statement: statement.finish(status, error)


def _in_turn(*changes: Callable[[Statement], None] | None) -> Callable[[Statement], None]:
    def change(statement: Statement) -> None:
        for one in changes:
            if one is not None:
                one(statement)
    return change


def _sub_started(index: int, query_id: Callable[[], int]) -> Callable[[Statement], None]:
    return lambda statement: statement.subs[index].start(query_id())


def _sub_ended(index: int, status: str, result: QueryResult | None = None, error: str = "",
               ended_ns: int = 0) -> Callable[[Statement], None]:
    return lambda statement: statement.subs[index].end(status, result, error, ended_ns)


class SqlRun:
    """One statement's sub-statements on one engine session, with Redshift's transaction rules."""

    def __init__(self, statement: Statement, session: EngineSession, translator: Any,
                 s3_client: Callable[[], Any], system: SystemContext) -> None:
        self.statement, self.session, self.tr, self.s3_client = statement, session, translator, s3_client
        self.system = system  # what the system tables and pg_last_* functions read
        self.parameters = {p["name"]: p["value"] for p in statement.request.get("Parameters", [])}
        self.in_transaction = False
        self.broken = False  # the session's state is unknown: do not reuse it
        self.temporary = False  # created session-scoped objects: a Data API session ends with its call
        self.sub_end: Callable[[Statement], None] | None = None  # a single statement's FINISHED, not yet applied

    def all(self, query_id: Callable[[], int], store: StatementStore) -> int | None:
        """Run every sub-statement in order; the index of the one that failed, or None."""
        statement = self.statement
        # Its commit leaves a row that tells the next process it committed, should this one die before the FINISHED
        # status is saved (shiftflow.dataapi.commits).
        marked = statement.is_batch and statement.execution_mode == st.TRANSACTION and store.on_disk
        if marked:
            try:
                store.ensure_commit_marks(self.session, statement.database)
            except EngineError as error:
                store.change(statement, _sub_ended(0, st.FAILED, error=f"BEGIN failed: {error}"))
                return 0
        if statement.is_batch and statement.execution_mode == st.TRANSACTION:
            try:
                self._control("begin")
            except EngineError as error:  # a cancel's interrupt can land on the BEGIN itself: nothing ran
                if not statement.cancel_requested:
                    store.change(statement, _sub_ended(0, st.FAILED, error=f"BEGIN failed: {error}"))
                return 0
        for index, sub in enumerate(statement.subs):
            if statement.cancel_requested:
                self._end_transaction("rollback")
                return index
            store.change(statement, _sub_started(index, query_id), save=False)
            try:
                result = self._one(sub.sql, sub.query_id)
            except (EngineError, self.tr.NotSupportedLocally, StatementError) as error:
                store.change(statement, _sub_ended(index, st.FAILED, error=str(error)))
                self._end_transaction("rollback")
                return index
            if statement.is_batch:
                store.change(statement, _sub_ended(index, st.FINISHED, result))
            else:  # applied with the statement's FINISHED: a single statement ends at once, in one write
                self.sub_end = _sub_ended(index, st.FINISHED, result, ended_ns=time.perf_counter_ns())
            self.system.completed(sub.query_id)
        try:
            if marked and self.in_transaction:
                try:
                    commits.mark(self.session, statement.id)
                except EngineError:
                    self._end_transaction("rollback")
                    raise
            self._end_transaction("commit")
        except EngineError as error:
            last = len(statement.subs) - 1
            store.change(statement, _sub_ended(last, st.FAILED, error=f"COMMIT failed: {error}"))
            return last
        return None

    def _one(self, sql: str, query_id: int) -> QueryResult:
        database = CURRENT_DATABASE.set(self.statement.database)  # three-part names (translate/databases.py)
        try:
            result = self._run_one(sql, query_id)
        except StatementTimedOut:
            raise StatementTimedOut(query_id) from None  # Redshift names the query
        finally:
            CURRENT_DATABASE.reset(database)
        too_large = st.oversized_result(result)
        if too_large:
            raise StatementError(too_large)
        return result

    def _run_one(self, sql: str, query_id: int) -> QueryResult:
        if not self.statement.is_batch:
            single_statement(sql)
        if "temp" in sql.lower() or "#" in sql:
            self.temporary = True
        case_sensitive = CASE_SENSITIVE_IDENTIFIERS.set(case_sensitive_identifiers(self.session, sql))
        try:
            translated = self.tr.translate(sql, self.session.engine)
        finally:
            CASE_SENSITIVE_IDENTIFIERS.reset(case_sensitive)
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
            raise StatementError(f"ERROR: no value given for parameter :{missing[0]} (Parameters has "
                                 f"{sorted(self.parameters) or 'none'})")
        bound = {n: values[n] for n in translated.parameter_names}
        if isinstance(translated, SessionCommand):
            return described(self.session, translated.run(self.session, bound, self.in_transaction))
        result = translated.execute(self.session, bound)
        if getattr(translated, "commits", False) and self.in_transaction:
            # Redshift's TRUNCATE commits the transaction it runs in (the statements before it included) and the
            # rest of the block runs in a new one, as in a stored procedure: a later failure cannot undo it.
            self.session.commit()
            self.session.begin()
        return described(self.session, result)  # describe_field_name_in_uppercase

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


class StatementError(Exception):
    """The statement cannot run as sent (the service would fail it too)."""


def single_statement(sql: str) -> None:
    """ExecuteStatement runs exactly one statement."""
    try:
        count = len(split_statements(sql))
    except SqlSplitError as error:
        raise StatementError(f"ERROR: {unterminated_text(sql, error)}") from None
    if count == 0:
        raise StatementError("ERROR: the SQL text is empty")
    if count > 1:
        raise StatementError(f"ERROR: ExecuteStatement runs one SQL statement, this text has {count}; "
                             "send them with BatchExecuteStatement")
