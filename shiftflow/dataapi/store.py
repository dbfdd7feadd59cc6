"""The statements the emulator knows: submitted ones by id, ClientTokens, the active-statement limit, retention.

The store's lock guards its tables and each statement's state (status, sub-statements): a change is applied under
it and the operations read a consistent snapshot under it. Every change of one statement goes through `change`,
which holds the statement's own lock (`Statement.changing`) throughout, so one statement's changes are saved and
applied in order while other statements' go on beside them.

Kept on disk when asked (`keep_on_disk`, the local cloud's statements folder; shiftflow.dataapi.store_files): every
statement is saved when it is recorded and whenever it or one of its sub-statements ends (their result rows to files
of their own, read back page by page: finished results are not held in memory). A change is saved before it is
applied: the change is made on a snapshot, the snapshot written (fsync'd) outside the store's lock, and only then
taken by the statement under the lock; a new statement is in the tables only once its record is written (a repeat of
its ClientToken meanwhile waits for it). So no caller sees a status that a kill -9 could lose. Statements of an
earlier process come back as they were saved; one that had not ended died with that process, as a statement dies
with its session when a Redshift cluster restarts: it ends FAILED (ABORTED is the Data API's "stopped by the user",
CancelStatement), with INTERRUPTED_ERROR.

The active statements are counted as they are recorded and as they end (not by scanning); the limit counts those
being recorded too, so it is exact under any number of concurrent submits. Retention knows the earliest moment a
kept statement passes it, and scans only then.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from shiftflow.dataapi import commits
from shiftflow.dataapi import statements as st
from shiftflow.dataapi.errors import (ActiveStatementsExceededException, InternalServerException, ValidationException,
                                      query_not_found)
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
        self._recording: dict[str, tuple[Statement, threading.Event]] = {}  # being saved: in no answer yet
        self._tokens: dict[str, tuple[str, str]] = {}  # ClientToken -> (request fingerprint, statement id)
        self._token_of: dict[str, tuple[str, str]] = {}  # statement id -> (ClientToken, request fingerprint)
        self._active = 0  # statements SUBMITTED, PICKED or STARTED, those being recorded included
        self._forget_at: datetime | None = None  # when the first statement kept passes the retention (None: none)
        self._unsaved: set[str] = set()  # statements whose outcome is not to be saved (their process stops)
        self.system_log = SystemLog(history=self._query_history)  # stl_load_errors, sys_query_history
        self._files: StatementFiles | None = None
        self._commit_marks: set[str] = set()  # databases whose commit marks table exists (ensure_commit_marks)

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
                if statement_id in self._statements:
                    return self._statements[statement_id], False
                statement, saved = self._recording[statement_id]
                recording = False  # another call records it: it is known once on disk
            else:
                if self._active >= self.max_active:
                    raise ActiveStatementsExceededException(
                        f"Active statements exceeded the limit of {self.max_active}. Wait for some to finish.")
                self._forget_old()
                statement_id = st.new_id()
                subs = [SubStatement(f"{statement_id}:{n}" if is_batch else statement_id, sql)
                        for n, sql in enumerate(sqls, start=1)]
                statement = Statement(statement_id, recorded(request), is_batch, subs)
                self._active += 1
                if token:
                    self._tokens[token] = (fingerprint, statement_id)
                    self._token_of[statement_id] = (token, fingerprint)
                if self._files is None:
                    self._statements[statement_id] = statement
                    return statement, True
                saved = threading.Event()
                self._recording[statement_id] = (statement, saved)
                recording = True
        if not recording:
            saved.wait()
            with self.lock:
                if statement_id not in self._statements:
                    raise InternalServerException(f"the statement of ClientToken {token} could not be recorded")
            return statement, False
        try:
            self._save(statement)
        except BaseException:
            with self.lock:
                del self._recording[statement_id]
                self._active -= 1
                kept = self._token_of.pop(statement_id, None)
                if kept:
                    del self._tokens[kept[0]]
            saved.set()
            raise
        with self.lock:
            del self._recording[statement_id]
            self._statements[statement_id] = statement
        saved.set()
        return statement, True

    def change(self, statement: Statement, apply: Callable[[Statement], None], save: bool = True) -> None:
        """Change the statement's state: `apply(statement)` ends sub-statements or the statement, starts one ...
        With `save` (and a folder), the change is made on a snapshot, saved (with the result rows of what it
        FINISHED), then taken by the statement: on disk before anyone sees it. Never call with the lock held."""
        with statement.changing:
            if not save or self._files is None or statement.id in self._unsaved:
                with self.lock:
                    was = statement.status
                    apply(statement)
                    self._count(statement, was)
                return
            with self.lock:
                changed = statement.snapshot()
            apply(changed)
            self._files.keep_rows(changed)
            self._save(changed)
            with self.lock:
                was = statement.status
                statement.take(changed)
                self._count(statement, was)
            if statement.status in st.ENDED:
                statement.done.set()

    def _count(self, statement: Statement, was: str) -> None:
        """A statement that ended is active no more, and passes the retention 24 hours on. Call with the lock held."""
        if was in st.ACTIVE and statement.status in st.ENDED:
            self._active -= 1
            self._forget_from(statement.updated_at)

    def _forget_from(self, updated_at: datetime) -> None:
        moment = updated_at + RETENTION
        if self._forget_at is None or moment < self._forget_at:
            self._forget_at = moment

    def active_count(self) -> int:
        with self.lock:
            return self._active

    def ensure_commit_marks(self, session: Any, database: str) -> None:
        """The table a committing batch marks itself in (shiftflow.dataapi.commits), once per database."""
        if database in self._commit_marks:
            return
        commits.ensure(session)
        with self.lock:
            self._commit_marks.add(database)

    @property
    def on_disk(self) -> bool:
        """Whether statements are kept on disk (a transactional batch then marks its commit: dataapi.commits)."""
        return self._files is not None

    def keep_on_disk(self, folder: Path,
                     committed: Callable[[dict[str, list[str]]], set[str]] | None = None) -> list[Statement]:
        """Load the statements saved in `folder` (those older than the retention dropped) and the rows of
        stl_load_errors, and save every change from now on. Returns the statements that had not ended: FAILED with
        INTERRUPTED_ERROR, but FINISHED when `committed` (given {database: ids of the statements that had not ended,
        every loaded statement's database a key}) names them: their transaction committed (shiftflow.dataapi.commits);
        saved so."""
        files = StatementFiles(folder)
        files.remove_partial_writes()  # this process owns the folder from now on
        horizon = st.now() - RETENTION
        interrupted: list[Statement] = []
        load_errors = LoadErrorFile(folder)
        self.system_log.restore(load_errors.load(), load_errors)
        self.system_log.forget_before(horizon)
        loaded = []
        for statement, token in files.load():
            if statement.status in st.ENDED and statement.updated_at < horizon:
                files.remove(statement.id)
            else:
                loaded.append((statement, token))
        unended: dict[str, list[str]] = {}
        for statement, _ in loaded:
            unended.setdefault(statement.database, [])
            if statement.status not in st.ENDED:
                unended[statement.database].append(statement.id)
        done = committed(unended) if committed is not None and loaded else set()
        with self.lock:
            self._files = files
            for statement, token in loaded:
                self._statements[statement.id] = statement
                if token:
                    self._tokens[token[0]] = (token[1], statement.id)
                    self._token_of[statement.id] = token
                if statement.status not in st.ENDED:
                    _end_interrupted(statement, statement.id in done)
                    self._save(statement)
                    interrupted.append(statement)
                self._forget_from(statement.updated_at)
                statement.done.set()
            files.remove_unnamed_rows(self._statements.values())
        return interrupted

    def highest_query_id(self) -> int:
        with self.lock:
            return max((sub.query_id for s in self._statements.values() for sub in s.subs), default=0)

    def stop_saving(self, statement: Statement) -> None:
        """What follows is not the statement's outcome (its process stops): on disk it stays as it was, and the next
        process fails it as interrupted (keep_on_disk)."""
        with statement.changing, self.lock:
            self._unsaved.add(statement.id)

    def _save(self, statement: Statement) -> None:
        if self._files is None:
            return
        self._files.save(statement, self._token_of.get(statement.id))

    def _forget_old(self) -> None:
        """Statements (and their results) are kept 24 hours, as on the service. Call with the lock held."""
        now = st.now()
        if self._forget_at is None or now < self._forget_at:
            return
        horizon = now - RETENTION
        old = {i for i, s in self._statements.items() if s.status in st.ENDED and s.updated_at < horizon}
        for statement_id in old:
            del self._statements[statement_id]
            self._token_of.pop(statement_id, None)
            if self._files is not None:
                self._files.remove(statement_id)
        self._tokens = {t: v for t, v in self._tokens.items() if v[1] not in old}
        self._forget_at = None
        for statement in self._statements.values():
            if statement.status in st.ENDED:
                self._forget_from(statement.updated_at)
        self.system_log.forget_before(horizon)

    def get(self, statement_id: str) -> Statement | None:
        with self.lock:
            self._forget_old()
            return self._statements.get(statement_id)

    def set_owner(self, statement_id: str, owner: str) -> None:
        """Who submitted the statement (its first submitter: a ClientToken's repeat does not change it); saved with
        it, so the owner survives the process as the statement does."""
        statement = self.get(statement_id)
        if statement is None or statement.owner:
            return

        def first_owner(changed: Statement) -> None:
            changed.owner = changed.owner or owner

        self.change(statement, first_owner)

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
            self._forget_old()
            chosen = [s for s in self._statements.values()
                      if (status == "ALL" or s.status == status)
                      and (not name or s.name.startswith(name))
                      and all(not request.get(k) or s.request.get(k) == request[k] for k in _LIST_FILTERS)]
        chosen.sort(key=lambda s: s.created_at, reverse=True)
        return chosen


def _end_interrupted(statement: Statement, committed: bool) -> None:
    """A statement whose process died: FINISHED when its transaction had committed (each of its sub-statements' end
    was saved before its COMMIT), else FAILED."""
    if committed and all(sub.status == st.FINISHED for sub in statement.subs):
        statement.finish(st.FINISHED, "")
    else:
        _fail_interrupted(statement)


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
