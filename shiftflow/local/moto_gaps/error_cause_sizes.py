"""Gap 18: an error name or cause of any length is recorded and passed to catchers.

AWS behaviour (Step Functions API model, botocore ``stepfunctions/2016-11-23/service-2.json``: ``SensitiveError``
max 256, ``SensitiveCause`` max 32,768, the shapes of ``error`` and ``cause`` in DescribeExecution and in every
failed-event detail): no error is longer than 256 characters and no cause longer than 32,768. The developer guide
does not say how a longer value is cut; we keep its first 256 / 32,768 characters, everywhere the value appears:
the history events, the execution's error and cause, and the ``{"Error", "Cause"}`` a Catcher passes on (so a
failure path sees what the history shows).

moto behaviour (checked against moto 5.2.5): ``.../common/error_name/failure_event.py FailureEvent``,
``.../eval/event/event_manager.py EventManager.add_event`` and ``.../eval/environment.py Environment.set_error``
keep the values whole (a 40,427-character Lambda cause came through).

Fix: those three cut ``error`` and ``cause`` in the event details they are given.

To drop: when moto enforces the model's lengths, delete this module and its entry in ``_activation.GAPS``;
tests/unit/local/moto_gaps/test_error_cause_sizes.py must still pass.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

from shiftflow.local.moto_gaps._patcher import Patcher

MAX_ERROR_CHARACTERS = 256
MAX_CAUSE_CHARACTERS = 32_768


def cut_error_and_cause(details: Any) -> Any:
    """A copy of one event-details body (``{"error", "cause", ...}``) with both cut to the API model's lengths."""
    if not isinstance(details, dict):
        return details
    cut = dict(details)
    if isinstance(cut.get("error"), str):
        cut["error"] = cut["error"][:MAX_ERROR_CHARACTERS]
    if isinstance(cut.get("cause"), str):
        cut["cause"] = cut["cause"][:MAX_CAUSE_CHARACTERS]
    return cut


def _cut_event_details(event_details: Any) -> Any:
    """``EventDetails`` (``{"taskFailedEventDetails": {...}}``) with every body's error and cause cut."""
    if not isinstance(event_details, dict):
        return event_details
    return type(event_details)({key: cut_error_and_cause(body) for key, body in event_details.items()})


def _patch_failure_event(patcher: Patcher) -> None:
    original = FailureEvent.__init__

    def __init__(self: FailureEvent, env: Any, error_name: Any, event_type: Any, event_details: Any = None) -> None:
        original(self, env, error_name, event_type, _cut_event_details(event_details))

    patcher.set(FailureEvent, "__init__", __init__)


def _patch_history(patcher: Patcher) -> None:
    original = EventManager.add_event

    def add_event(self: EventManager, context: Any, event_type: Any, event_details: Any = None, *args: Any,
                  **kwargs: Any) -> int:
        return original(self, context, event_type, _cut_event_details(event_details), *args, **kwargs)

    patcher.set(EventManager, "add_event", add_event)


def _patch_execution_error(patcher: Patcher) -> None:
    original = Environment.set_error

    def set_error(self: Environment, error: Any) -> None:
        original(self, cut_error_and_cause(error))

    patcher.set(Environment, "set_error", set_error)


def apply(patcher: Patcher) -> None:
    _patch_failure_event(patcher)
    _patch_history(patcher)
    _patch_execution_error(patcher)
