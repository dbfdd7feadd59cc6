"""Gap 17: the 256 KiB payload quota is checked on state outputs and task results only, one byte short.

AWS behaviour (Step Functions developer guide, "Step Functions service quotas", "Quotas related to state machine
executions": "Maximum input or output size for a task, state, or execution: 256 KiB of data as a UTF-8 encoded
string"; "Handling errors in Step Functions workflows", ``States.DataLimitExceeded``: reported when the output of a
connector, the output of a state, or the input of a state after Parameters is larger than the quota): such a state
fails with ``States.DataLimitExceeded``, which ``States.ALL`` does not catch (gap 14).

moto behaviour (checked against moto 5.2.5): ``moto/stepfunctions/parser/quotas.py is_within_size_quota`` refuses a
payload of exactly 262,144 bytes (``<`` instead of ``<=``), measures JSON with spaces and ASCII escapes
(so a non-ASCII character counts 6 bytes instead of its 2-4) and a string without its quotes; it is checked on a state's output and on Lambda and
service task results, not on a state's input after Parameters, nor on the result of a Parallel or Map state
before its ResultSelector (AWS checks the state's result, as for a connector's output).

Fix: ``is_within_size_quota`` measures compact UTF-8 JSON and allows 262,144 bytes in the three interpreter modules that import it;
``Parameters._eval_body`` checks the effective input; ``StateParallel._eval_execution`` and
``StateMap._eval_execution`` check their result (all branch or iteration outputs together).

Known limit: a StartExecution input over 256 KiB is accepted locally (AWS rejects the request).

To drop: when moto checks these sizes at ``<=``, delete this module and its entry in ``_activation.GAPS``;
tests/unit/local/moto_gaps/test_payload_size_limit.py must still pass.
"""

from __future__ import annotations

from collections.abc import Callable
import json
from typing import Any

from moto.stepfunctions.parser import quotas
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.common.parargs import Parameters
from moto.stepfunctions.parser.asl.component.state import state as asl_state
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.state_parallel import StateParallel
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_lambda
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service
from moto.stepfunctions.parser.asl.eval.environment import Environment

from shiftflow.local.moto_gaps._failures import states_failure
from shiftflow.local.moto_gaps._patcher import Patcher

MAX_PAYLOAD_BYTES = 256 * 1024


def payload_bytes(value: Any) -> int:
    """The size AWS measures: the value's compact JSON text in UTF-8 (a string with its quotes)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return len(text.encode("utf-8"))


def is_within_size_quota(value: Any) -> bool:
    return payload_bytes(value) <= MAX_PAYLOAD_BYTES


def _data_limit_exceeded(env: Environment, what: str) -> FailureEventException:
    cause = (
        f"The state/task '{env.next_state_name}' {what} with a size exceeding the maximum number of bytes "
        "service limit."
    )
    return states_failure(env, StatesErrorNameType.StatesStatesDataLimitExceeded, cause)


def _checked(original: Callable[[Any, Environment], None], what: str) -> Callable[[Any, Environment], None]:
    """``original`` (which leaves its value on the stack), then the quota on that value."""

    def _eval(self: Any, env: Environment) -> None:
        original(self, env)
        if env.stack and not is_within_size_quota(env.stack[-1]):
            raise _data_limit_exceeded(env, what)

    return _eval


def apply(patcher: Patcher) -> None:
    for module in (asl_state, state_task_lambda, state_task_service):
        patcher.rebind([module], "is_within_size_quota", quotas.is_within_size_quota, is_within_size_quota)
    patcher.set(Parameters, "_eval_body", _checked(Parameters._eval_body, "has an input, after Parameters,"))
    for state_class in (StateParallel, StateMap):
        patcher.set(state_class, "_eval_execution", _checked(state_class._eval_execution, "returned a result"))
