"""The statements the emulator knows: submitted ones by id, ClientTokens, the active-statement limit, retention.

The store's lock also guards each statement's state (status, sub-statements): the worker changes it under the
lock and the operations read a consistent snapshot under it.

Kept on disk when asked (`keep_on_disk`, the local cloud's statements folder; shiftflow.dataapi.store_files): every
statement is saved when it is recorded and whenever it or one of its sub-statements ends, under the lock, so no
caller sees a status that a kill -9 could lose. Statements of an earlier process come back as they were saved; one
that had not ended died with that process, as a statement dies with its session when a Redshift cluster restarts:
it ends FAILED (ABORTED is the Data API's "stopped by the user", CancelStatement), with INTERRUPTED_ERROR.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from shiftflow.dataapi import statements as st
from shiftflow.dataapi.errors import ActiveStatementsExceededException, ValidationException, query_not_found
from shiftflow.dataapi.statements import Statement, SubStatement
from shiftflow.dataapi.store_files import LoadErrorFile, StatementFiles
from shiftflow.dataapi.translate.system import QueryRecord, SystemLog, query_records

RETENTION = timedelta(hours=24)
INTERRUPTED_ERROR = ("the local cloud stopped while the statement ran: its session ended and its open transaction "
                     "was rolled back, as when a Redshift cluster restarts")
# Members that do not change what a ClientToken'd request runs (the token itself, how long the caller waits).
_NOT_IDEMPOTENCY_KEY = {"ClientToken", "WaitTimeSeconds"}
_LIST_FILTERS = ("Database", "ClusterIdentifier", "WorkgroupName")


class StatementStore:
    def __init__(self, max_active: int) -> None:
        self.max_active = max_active
        self.lock = threading.Lock()
        self._statements: dict[str, Statement] = {}
        self._tokens: dict[str, tuple[str, str]] = {}  # ClientToken -> (request fingerprint, statement id)
        self._token_of: dict[str, tuple[str, str]] = {}  # statement id -> (ClientToken, request fingerprint)
        self.oldest_kept = st.now()  # no statement is older: retention has nothing to forget before then
        self.system_log = SystemLog(history=self._query_history)  # stl_load_errors, sys_query_history
        self._files: StatementFiles | None = None

    def _query_history(self) -> list[QueryRecord]:
        with self.lock:
            return query_records(list(self._statements.values()))

    def record(self, request: Mapping[str, Any], sqls: list[str], is_batch: bool,
               recorded: Callable[[Mapping[str, Any]], dict[str, Any]]) -> tuple[Statement, bool]:
        """A new statement for the request, or the one its ClientToken already made; True when it is new.
        `recorded(request)` gives the request as the statement keeps it (see KeptSessions.claim)."""
        token = request.get("ClientToken")
        fingerprint = json.dumps({k: v for k, v in request.items() if k not in _NOT_IDEMPOTENCY_KEY}, sort_keys=True)
        with self.lock:
            if token and token in self._tokens:
                known_fingerprint, statement_id = self._tokens[token]
                if known_fingerprint != fingerprint:
                    raise ValidationException(f"ClientToken {token} was already used with a different request; "
                                              "use a new token for a new request.")
                return self._statements[statement_id], False
            active = sum(1 for s in self._statements.values() if s.status in st.ACTIVE)
            if active >= self.max_active:
                raise ActiveStatementsExceededException(
                    f"Active statements exceeded the limit of {self.max_active}. Wait for some to finish.")
            self._forget_old()
            statement_id = st.new_id()
            subs = [SubStatement(f"{statement_id}:{n}" if is_batch else statement_id, sql)
                    for n, sql in enumerate(sqls, start=1)]
            statement = Statement(statement_id, recorded(request), is_batch, subs)
            self._statements[statement_id] = statement
            if token:
                self._tokens[token] = (fingerprint, statement_id)
                self._token_of[statement_id] = (token, fingerprint)
            self._keep(statement)
        return statement, True

    def keep_on_disk(self, folder: Path) -> list[Statement]:
        """Load the statements saved in `folder` (those older than the retention dropped) and the rows of
        stl_load_errors, and save every change from now on. Returns the statements that had not ended, now FAILED with
        INTERRUPTED_ERROR (and saved so)."""
        files = StatementFiles(folder)
        files.remove_partial_writes()  # this process owns the folder from now on
        horizon = st.now() - RETENTION
        interrupted: list[Statement] = []
        load_errors = LoadErrorFile(folder)
        self.system_log.restore(load_errors.load(), load_errors)
        self.system_log.forget_before(horizon)
        with self.lock:
            self._files = files
            for statement, token in files.load():
                if statement.status in st.ENDED and statement.updated_at < horizon:
                    files.remove(statement.id)
                    continue
                self._statements[statement.id] = statement
                if token:
                    self._tokens[token[0]] = (token[1], statement.id)
                    self._token_of[statement.id] = token
                if statement.status not in st.ENDED:
                    _fail_interrupted(statement)
                    self._save(statement)
                    interrupted.append(statement)
                statement.done.set()
            self.oldest_kept = min((s.created_at for s in self._statements.values()), default=st.now())
        return interrupted

    def highest_query_id(self) -> int:
        with self.lock:
            return max((sub.query_id for s in self._statements.values() for sub in s.subs), default=0)

    def _keep(self, statement: Statement) -> None:
        """Save the statement now and whenever it or a sub-statement ends. Call with the lock held."""
        if self._files is None:
            return
        statement.ended = lambda: self._save(statement)
        for sub in statement.subs:
            sub.ended = statement.ended
        self._save(statement)

    def stop_saving(self, statement: Statement) -> None:
        """What follows is not the statement's outcome (its process stops): on disk it stays as it was, and the next
        process fails it as interrupted (keep_on_disk)."""
        with self.lock:
            statement.ended = None
            for sub in statement.subs:
                sub.ended = None

    def _save(self, statement: Statement) -> None:
        if self._files is None:
            return
        self._files.save(statement, self._token_of.get(statement.id))

    def _forget_old(self) -> None:
        """Statements (and their results) are kept 24 hours, as on the service. Call with the lock held."""
        horizon = st.now() - RETENTION
        if self.oldest_kept > horizon:
            return
        old = {i for i, s in self._statements.items() if s.status in st.ENDED and s.updated_at < horizon}
        for statement_id in old:
            del self._statements[statement_id]
            self._token_of.pop(statement_id, None)
            if self._files is not None:
                self._files.remove(statement_id)
        self._tokens = {t: v for t, v in self._tokens.items() if v[1] not in old}
        self.oldest_kept = min((s.created_at for s in self._statements.values()), default=st.now())
        self.system_log.forget_before(horizon)

    def get(self, statement_id: str) -> Statement | None:
        with self.lock:
            return self._statements.get(statement_id)

    def set_owner(self, statement_id: str, owner: str) -> None:
        """Who submitted the statement (its first submitter: a ClientToken's repeat does not change it); saved with
        it, so the owner survives the process as the statement does."""
        with self.lock:
            statement = self._statements.get(statement_id)
            if statement is None or statement.owner:
                return
            statement.owner = owner
            self._save(statement)

    def owner(self, statement_id: str) -> str | None:
        with self.lock:
            statement = self._statements.get(statement_id)
            return statement.owner if statement is not None and statement.owner else None

    def find(self, statement_id: str) -> tuple[Statement, SubStatement | None]:
        """The statement of an Id, and the sub-statement when the Id names one (`<id>:<n>`)."""
        parent_id, _, number = statement_id.partition(":")
        statement = self.get(parent_id)
        if statement is None:
            raise query_not_found(statement_id)
        if not number:
            return statement, None
        sub = statement.sub(statement_id) if statement.is_batch else None
        if sub is None:
            raise query_not_found(statement_id)
        return statement, sub

    def active(self) -> list[Statement]:
        with self.lock:
            return [s for s in self._statements.values() if s.status in st.ACTIVE]

    def listed(self, request: Mapping[str, Any]) -> list[Statement]:
        """ListStatements' choice: the request's Status (FINISHED unless told), name prefix and target, newest first."""
        status = request.get("Status", st.FINISHED)
        name = request.get("StatementName")
        with self.lock:
            chosen = [s for s in self._statements.values()
                      if (status == "ALL" or s.status == status)
                      and (not name or s.name.startswith(name))
                      and all(not request.get(k) or s.request.get(k) == request[k] for k in _LIST_FILTERS)]
        chosen.sort(key=lambda s: s.created_at, reverse=True)
        return chosen


def _fail_interrupted(statement: Statement) -> None:
    """A statement whose process died: the sub-statement that was running (the first not ended) FAILED, those after
    it never ran (ABORTED, as after any failure of a batch), the statement FAILED."""
    pending = [sub for sub in statement.subs if sub.status not in st.ENDED]
    for index, sub in enumerate(pending):
        if index == 0:
            sub.end(st.FAILED, error=INTERRUPTED_ERROR)
        else:
            sub.end(st.ABORTED)
    statement.finish(st.FAILED, INTERRUPTED_ERROR)
