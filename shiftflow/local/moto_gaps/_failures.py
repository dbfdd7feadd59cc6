"""Building a Step Functions failure the way moto's interpreter reports one, shared by the gaps that raise
``States.*`` errors moto does not raise itself."""

from __future__ import annotations

from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails


def states_failure(env: Environment, error: StatesErrorNameType, cause: str) -> FailureEventException:
    """The exception a state raises to fail with ``error`` (a reserved ``States.*`` name) and ``cause``."""
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=error),
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(
                taskFailedEventDetails=TaskFailedEventDetails(error=error.to_name(), cause=cause)
            ),
        )
    )


def runtime_failure(env: Environment, cause: str) -> FailureEventException:
    return states_failure(env, StatesErrorNameType.StatesRuntime, cause)
