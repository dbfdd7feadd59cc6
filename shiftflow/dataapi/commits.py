"""Which batches committed, kept in the warehouse itself: how a new process tells a batch whose transaction committed
from one whose transaction died with the process that ran it.

A batch's COMMIT and the saving of its FINISHED status (shiftflow.dataapi.store) cannot be one write: a process killed
between the two left a batch whose SQL had committed recorded as FAILED "its open transaction was rolled back" by the
next process, so a caller that believed it and ran the job again ran its SQL twice. Here a transactional batch of a
store kept on disk writes its id into `shiftflow_commits.statements` inside its own transaction, just before COMMIT:
the row exists exactly when the transaction committed. The next process (StatementStore.keep_on_disk) ends such a
batch FINISHED, every other interrupted statement FAILED, then forgets the rows (they matter only while their
statement has not ended). The schema is the emulator's own (`shiftflow_*`: no listing shows it).

Not covered: a single ExecuteStatement (and a batch in AUTO_COMMIT mode) runs in the engine's autocommit, which no row
can join: killed at its end, it is FAILED whether or not it had committed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from shiftflow.dataapi.engines.base import EngineError, EngineSession

SCHEMA = "shiftflow_commits"
TABLE = f"{SCHEMA}.statements"
_SETUP = (f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
          f"CREATE TABLE IF NOT EXISTS {TABLE} (statement_id VARCHAR(64) PRIMARY KEY)")
_STATEMENT_ID = re.compile(r"^[0-9a-f-]{36}$")  # the emulator's own ids (uuid4): safe as literals


def _literal(statement_id: str) -> str:
    if not _STATEMENT_ID.match(statement_id):
        raise ValueError(f"not a statement id: {statement_id!r}")
    return f"'{statement_id}'"


def ensure(session: EngineSession) -> None:
    """The table, in the session's database, outside any transaction (another process or session may be creating it
    at the same moment: its creation stands)."""
    for sql in _SETUP:
        try:
            session.execute(sql, {})
        except EngineError:
            session.execute(f"SELECT 1 FROM {TABLE} LIMIT 0", {})  # created meanwhile by another session


def mark(session: EngineSession, statement_id: str) -> None:
    """Inside the batch's transaction, just before its COMMIT."""
    session.execute(f"INSERT INTO {TABLE} (statement_id) VALUES ({_literal(statement_id)})", {})


def committed(session: EngineSession, statement_ids: Iterable[str]) -> set[str]:
    """Those of `statement_ids` whose transaction committed; then every row of the session's database goes (no
    statement runs yet: each row's statement has ended now). A database no batch marked: none."""
    ids = sorted(set(statement_ids))
    try:
        rows = session.execute(f"SELECT statement_id FROM {TABLE}", {}).rows
    except EngineError:
        return set()  # no table: no batch of a process keeping its statements on disk ran in this database
    if rows:
        session.execute(f"DELETE FROM {TABLE}", {})
    return {str(row[0]) for row in rows} & set(ids)
