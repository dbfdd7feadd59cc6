"""Engine sessions: a pool of idle ones per database, and the Data API sessions kept alive between calls.

A call without a SessionId runs in a fresh database session as far as it can tell: it gets a pooled engine
session only when the call before it left that session clean (no open transaction, no temporary objects).
SessionKeepAliveSeconds keeps one session, temp tables and all, for the later calls that name its SessionId.

A kept session that expired, or that died with an earlier process (`keep_on_disk`: a session never outlives its
process, as none outlives a cluster restart), is CLOSED: ListSessions lists it for the 24 hours after it was created
(asked with Status CLOSED or by its SessionId), and a call naming it fails with ValidationException "Session is not
available", the service's answer for a session it reclaimed; a SessionId the service never issued gets
"Session with Id: <id> is invalid" from a call and ResourceNotFoundException from ListSessions (both as observed
against a cluster and reported in awslabs/mcp issue 4587; the Data API reference documents neither text).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from shiftflow.dataapi import statements as st
from shiftflow.dataapi.engines.base import Engine, EngineSession
from shiftflow.dataapi.errors import ResourceNotFoundException, ValidationException
from shiftflow.dataapi.translate.system import SessionFacts
from shiftflow.dataapi.validation import IAM_USER, SECRET_USER, target_members

_LISTED_MEMBERS = ("Database", "DbUser", "ClusterIdentifier", "WorkgroupName")
_FILTER_MEMBERS = ("ClusterIdentifier", "WorkgroupName", "Database")
LISTED_FOR = timedelta(hours=24)  # ListSessions: "the sessions that the caller created in the last 24 hours"
NOT_AVAILABLE = "Session is not available"


class SessionPool:
    """Idle engine sessions per database, each with the backend process id Redshift would report (RedshiftPid)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._idle: dict[str, list[EngineSession]] = {}
        self._pids = iter(range(1_073_741_824, 1 << 62))
        self._pid_of: dict[int, int] = {}
        self._closed = False

    def checkout(self, database: str) -> EngineSession:
        with self._lock:
            idle = self._idle.get(database)
            if idle:
                return idle.pop()
        session = self.engine.session(database)
        with self._lock:
            self._pid_of[id(session)] = next(self._pids)
        return session

    def release(self, database: str, session: EngineSession, reusable: bool) -> None:
        with self._lock:
            if reusable and not self._closed:
                self._idle.setdefault(database, []).append(session)
                return
            self._pid_of.pop(id(session), None)
        session.close()

    def pid(self, session: EngineSession) -> int:
        with self._lock:
            return self._pid_of.get(id(session), 0)

    def close(self) -> None:
        """Close every idle session; sessions released later are closed, not kept."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for sessions in idle.values():
            for session in sessions:
                session.close()


@dataclass
class KeptSession:
    """A session kept alive with SessionKeepAliveSeconds: later calls with its SessionId run in it."""

    id: str
    target: dict[str, Any]  # ClusterIdentifier / WorkgroupName / Database / DbUser / SecretArn of its first call
    keep_alive: int
    engine_session: EngineSession | None = None
    busy: bool = True
    expires_at: float = 0.0
    facts: SessionFacts = field(default_factory=SessionFacts)  # pg_last_query_id() & co. across its calls
    created_at: datetime = field(default_factory=st.now)
    closed: bool = False

    @property
    def status(self) -> str:
        return "CLOSED" if self.closed else "BUSY" if self.busy else "AVAILABLE"

    def record(self) -> dict[str, Any]:
        """What is kept on disk of it (`from_record` reads it back)."""
        return {"id": self.id, "target": self.target, "keep_alive": self.keep_alive,
                "created_at": self.created_at.isoformat()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> KeptSession:
        return cls(id=record["id"], target=record["target"], keep_alive=record["keep_alive"],
                   created_at=datetime.fromisoformat(record["created_at"]))


class SessionKeeper(Protocol):
    """Where the sessions opened are recorded (shiftflow.dataapi.store_files.SessionFile)."""

    def add(self, session: KeptSession) -> None: ...

    def rewrite(self, sessions: list[KeptSession]) -> None: ...

    def load(self) -> list[KeptSession]: ...


class KeptSessions:
    """The Data API sessions alive now; one runs one statement at a time and expires keep_alive seconds after."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, KeptSession] = {}
        self._files: SessionKeeper | None = None

    def keep_on_disk(self, files: SessionKeeper) -> None:
        """The sessions an earlier process opened come back CLOSED (those created in the last 24 hours), and every
        session opened from now on is recorded in `files` before its first call returns."""
        horizon = st.now() - LISTED_FOR
        earlier = [session for session in files.load() if session.created_at >= horizon]
        files.rewrite(earlier)  # those past the 24 hours go
        with self._lock:
            for session in earlier:
                session.closed, session.busy = True, False
                self._sessions.setdefault(session.id, session)
            self._files = files

    def claim(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The request as the statement records it: a SessionId's call gets its session's target and makes it busy;
        a call with SessionKeepAliveSeconds opens a session (busy until its statement ends)."""
        keep_alive = request.get("SessionKeepAliveSeconds")
        session_id = request.get("SessionId")
        with self._lock:
            self._expire()
            if session_id:
                kept = self._sessions.get(session_id)
                if kept is None:
                    raise ValidationException(f"Session with Id: {session_id} is invalid")
                if kept.closed:
                    raise ValidationException(NOT_AVAILABLE)
                if kept.busy:
                    raise ValidationException(f"Session {session_id} is busy running another statement.")
                kept.busy = True
                if keep_alive is not None:
                    kept.keep_alive = keep_alive
                return {**kept.target, **request}
            if keep_alive:
                session_id = st.new_id()
                # The user a SecretArn's secret names (validation.SECRET_USER), or the caller's IAM identity's
                # (IAM_USER), goes on with the session's calls.
                target = {**target_members(request),
                          **{k: v for k, v in request.items() if k in (SECRET_USER, IAM_USER)}}
                kept = KeptSession(session_id, target, keep_alive)
                if self._files is not None:
                    self._files.add(kept)
                self._sessions[session_id] = kept
                return {**request, "SessionId": session_id}
        return dict(request)

    def get(self, session_id: str) -> KeptSession | None:
        with self._lock:
            return self._sessions.get(session_id)

    def free(self, kept: KeptSession, engine_session: EngineSession | None) -> None:
        """The session's statement ended: it keeps `engine_session` (None: the next call opens a new one)."""
        with self._lock:
            kept.engine_session = engine_session
            kept.busy, kept.expires_at = False, time.monotonic() + kept.keep_alive

    def listed(self, request: Mapping[str, Any]) -> list[dict[str, Any]]:
        """ListSessions' SessionData of the sessions the request's filters match: AVAILABLE and BUSY ones unless a
        Status or a SessionId is asked for."""
        session_id = request.get("SessionId")
        statuses = {request["Status"]} if request.get("Status") else (
            {"AVAILABLE", "BUSY", "CLOSED"} if session_id else {"AVAILABLE", "BUSY"})
        with self._lock:
            self._expire()
            if session_id and session_id not in self._sessions:
                raise ResourceNotFoundException(f"Session with Id: {session_id} is not found", session_id)
            return [
                {"SessionId": k.id, "Status": k.status, "CreatedAt": k.created_at, "SessionAliveSeconds": k.keep_alive,
                 **{m: k.target[m] for m in _LISTED_MEMBERS if k.target.get(m)}}
                for k in self._sessions.values()
                if (not session_id or k.id == session_id) and k.status in statuses
                and all(not request.get(m) or k.target.get(m) == request[m] for m in _FILTER_MEMBERS)
            ]

    def close(self) -> None:
        with self._lock:
            kept, self._sessions = self._sessions, {}
        for session in kept.values():
            if session.engine_session is not None:
                session.engine_session.close()

    def _expire(self) -> None:
        """Sessions past their keep-alive close; closed ones are forgotten 24 hours after they were created. Call
        with the lock held."""
        now, horizon = time.monotonic(), st.now() - LISTED_FOR
        for kept in [k for k in self._sessions.values() if not k.closed and not k.busy and k.expires_at <= now]:
            kept.closed = True
            if kept.engine_session is not None:
                kept.engine_session.close()
                kept.engine_session = None
        for kept in [k for k in self._sessions.values() if k.closed and k.created_at < horizon]:
            del self._sessions[kept.id]
