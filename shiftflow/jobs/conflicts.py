"""Redshift-aware retries: a batch that failed because of a concurrent transaction runs again, as a new statement.

Redshift rolls back the whole batch (one transaction) when it detects a conflict with a concurrent transaction, and
the AWS guide's first advice for error 1023 is to retry the cancelled transaction. The run_sql_job state machine
does that, up to the job's `conflict_retries`, with a backoff, and never past the job's deadline: each retry is a
new statement (a new ClientToken: the same token would only return the failed statement). Any other SQL error fails
the job at once. `retries` of a workflow job is another thing: a new run_sql_job execution after any failure.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shiftflow.jobs.errors import InvalidJobRequest

DEFAULT_CONFLICT_RETRIES = 3
MAX_CONFLICT_RETRIES = 10
# The waits before retry 1, 2, 3 ... grow 15, 30, 60 s up to 5 minutes: the concurrent transaction has to end first,
# and Redshift transactions that write the same table run for seconds to minutes.
FIRST_WAIT_SECONDS = 15
MAX_WAIT_SECONDS = 300
# An error kept per failed attempt: enough for the database's message, small enough for 10 attempts in the state.
_ERROR_CHARS = 500

# What Redshift says when the transaction was rolled back because of a concurrent one (the batch had no effect), as
# data engineers retry by hand: serializable isolation violations (error 1023), a concurrent transaction's change to
# the catalog, a table dropped and created again by a concurrent transaction, deadlocks.
CONFLICT_MESSAGES = (
    "serializable isolation violation on table",
    "could not complete because of conflict with concurrent transaction",
    "could not open relation with oid",
    "deadlock detected",
)


def is_transaction_conflict(error: str) -> bool:
    """Whether a database error says the transaction conflicted with a concurrent one."""
    text = error.casefold()
    return any(message in text for message in CONFLICT_MESSAGES)


def conflict_retries(job: str, value: Any) -> int:
    """A job's conflict_retries: absent means the default; 0 turns the retries off."""
    if value is None:
        return DEFAULT_CONFLICT_RETRIES
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CONFLICT_RETRIES:
        raise InvalidJobRequest(job, f"conflict_retries is {value!r}; give a whole number from 0 (no retry) to "
                                     f"{MAX_CONFLICT_RETRIES}")
    return value


def wait_seconds(attempt: int, uniform: Callable[[float, float], float] = random.uniform) -> int:
    """The wait before conflict attempt `attempt` (1: the first retry): doubling from FIRST_WAIT_SECONDS up to
    MAX_WAIT_SECONDS, then jittered over its upper half, so that two jobs that conflicted with each other do not
    meet again at the same moment."""
    ceiling = min(MAX_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2 ** (attempt - 1))
    return max(1, round(uniform(ceiling / 2, ceiling)))


@dataclass(frozen=True)
class ConflictAttempt:
    """Which statement of the job this is: attempt 0 is the first; `earlier` are the attempts that failed on a
    conflict before it ({statement_id, error}); `retries` is the job's conflict_retries."""

    attempt: int
    retries: int
    earlier: tuple[dict[str, str], ...] = ()

    @classmethod
    def first(cls, retries: int) -> ConflictAttempt:
        return cls(0, retries)

    @classmethod
    def submitted(cls, retries: int, retry: Any) -> ConflictAttempt:
        """The attempt a submit makes: the first, or the retry next_retry gave (the state machine's conflict_retry)."""
        if not isinstance(retry, dict):
            return cls.first(retries)
        return cls(int(retry["attempt"]), retries, tuple(retry["earlier_attempts"]))

    @classmethod
    def of(cls, state: Any) -> ConflictAttempt:
        """From the JSON form the state machine carries (as_state); absent (a caller that does not retry): an
        attempt that is never retried."""
        if not isinstance(state, dict):
            return cls(0, 0)
        return cls(int(state["attempt"]), int(state["retries"]), tuple(state["earlier_attempts"]))

    def as_state(self) -> dict[str, Any]:
        return {"attempt": self.attempt, "retries": self.retries, "earlier_attempts": list(self.earlier)}

    def token_suffix(self) -> str:
        """What sets this attempt's ClientToken apart; empty for the first, so its token is the job's own."""
        return f"/conflict-retry-{self.attempt}" if self.attempt else ""

    def next_retry(self, statement_id: str, error: str, deadline: float | None,
                   now: Callable[[], float] = time.time,
                   uniform: Callable[[float, float], float] = random.uniform) -> tuple[dict[str, Any] | None, str]:
        """After this attempt's statement failed with `error`: the retry, as the state machine's next input
        (attempt, wait_seconds, deadline, earlier_attempts), or None; and why a conflict is not retried ("" when it
        is, or when the error is no conflict: that fails the job without a word about retries)."""
        if not is_transaction_conflict(error):
            return None, ""
        if self.retries == 0:
            return None, "a transaction conflict, not retried: conflict_retries is 0"
        if self.attempt >= self.retries:
            return None, f"a transaction conflict on each of {self.attempt + 1} attempts (conflict_retries {self.retries})"
        wait = wait_seconds(self.attempt + 1, uniform)
        if deadline is not None and now() + wait >= deadline:
            return None, f"a transaction conflict, not retried: a wait of {wait} s would pass the job's timeout"
        failed = {"statement_id": statement_id, "error": error[:_ERROR_CHARS]}
        return {"attempt": self.attempt + 1, "wait_seconds": wait, "deadline": deadline,
                "earlier_attempts": [*self.earlier, failed]}, ""

    def failure_note(self, why_not_retried: str) -> str:
        """What a failure message adds: why a conflict was not retried, and the statements of the earlier attempts
        (each failed on a conflict); empty when there is nothing to say."""
        notes = [why_not_retried] if why_not_retried else []
        if self.earlier:
            statements = ", ".join(attempt["statement_id"] for attempt in self.earlier)
            notes.append(f"earlier attempts failed on transaction conflicts: statements {statements}")
        return f" ({'; '.join(notes)})" if notes else ""
