"""Gap 19: an execution's history grows without limit.

AWS behaviour (Step Functions developer guide, "Step Functions service quotas", "Quotas related to state machine
executions": "Maximum execution history size: 25,000 events in a single execution history"; the guide's
"Continuing long-running workflows" pattern exists because reaching it fails the execution): the execution fails.
The guide names no error for it; we fail it with ``States.Runtime`` (an error the execution "couldn't process",
uncatchable by gap 14) and the cause "The execution reached the maximum number of history events (25000).", with
the ExecutionFailed event as event 25,000.

moto behaviour (checked against moto 5.2.5): ``.../eval/event/event_manager.py EventManager.add_event`` appends
every event, so a loop that would die on AWS runs on locally.

Fix: ``EventManager.add_event`` refuses any event but an execution's end once the history holds 24,999 events and
raises ``States.Runtime`` in the state that tried to add it.

To drop: when moto enforces the history quota, delete this module and its entry in ``_activation.GAPS``;
tests/unit/local/moto_gaps/test_history_event_limit.py must still pass.
"""

from __future__ import annotations

import threading
import types
from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext, EventManager

from shiftflow.local.moto_gaps._failures import runtime_failure
from shiftflow.local.moto_gaps._patcher import Patcher

MAX_HISTORY_EVENTS = 25_000
HISTORY_LIMIT_CAUSE = f"The execution reached the maximum number of history events ({MAX_HISTORY_EVENTS})."
_EXECUTION_ENDS = frozenset(
    {
        HistoryEventType.ExecutionFailed,
        HistoryEventType.ExecutionAborted,
        HistoryEventType.ExecutionTimedOut,
        HistoryEventType.ExecutionSucceeded,
    }
)
_locks_lock = threading.Lock()  # creates an execution's count lock (once)
_COUNT_LOCK = "_shiftflow_count_lock"


def _count_lock(manager: EventManager) -> threading.Lock:
    """The execution's own lock for the count and the append together, across its worker threads (one lock for
    every execution queued the events of a 500-job parallel stage's 1,000 executions behind each other)."""
    lock = manager.__dict__.get(_COUNT_LOCK)
    if lock is None:
        with _locks_lock:
            lock = manager.__dict__.setdefault(_COUNT_LOCK, threading.Lock())
    return lock


def _refused_in(context: EventHistoryContext, event_details: Any) -> types.SimpleNamespace:
    """What a FailureEvent reads from an Environment: the state (when the refused event names it) and the context."""
    body = next(iter(event_details.values()), {}) if isinstance(event_details, dict) else {}
    name = body.get("name") if isinstance(body, dict) else None
    return types.SimpleNamespace(next_state_name=name or "the execution", event_history_context=context)


def apply(patcher: Patcher) -> None:
    original = EventManager.add_event

    def add_event(self: EventManager, context: EventHistoryContext, event_type: Any, event_details: Any = None,
                  *args: Any, **kwargs: Any) -> int:
        with _count_lock(self):
            full = len(self._history_event_list) >= MAX_HISTORY_EVENTS - 1
            if full and event_type not in _EXECUTION_ENDS:
                raise runtime_failure(_refused_in(context, event_details), HISTORY_LIMIT_CAUSE)  # type: ignore[arg-type]
            return original(self, context, event_type, event_details, *args, **kwargs)

    patcher.set(EventManager, "add_event", add_event)
