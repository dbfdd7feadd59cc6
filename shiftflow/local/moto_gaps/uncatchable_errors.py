"""Gap 14: ``States.ALL`` catches and retries ``States.Runtime`` and ``States.DataLimitExceeded``.

AWS behaviour (Step Functions developer guide, "Handling errors in Step Functions workflows", section "Error names"):
``States.ALL`` "can't catch the States.DataLimitExceeded terminal error type and runtime error types";
``States.Runtime`` is not retriable and always fails the execution. So a Task, Parallel or Map state whose
Parameters, ResultSelector, ResultPath or ItemsPath fails ends the execution at once, whatever its Retry and Catch.

moto behaviour (checked against moto 5.2.5): ``.../common/error_name/error_equals_decl.py ErrorEqualsDecl`` matches
every error against ``States.ALL``, so those errors are retried and caught; and an unresolvable JSONPath inside a
Task (Parameters, ResultSelector) reaches the catchers as a bare "The JSONPath ... could not be found" without the
field AWS names.

Fix: ``ErrorEqualsDecl._eval_body`` never matches ``States.Runtime`` (not even when named: AWS never retries or
catches it) and matches ``States.DataLimitExceeded`` only when a Retrier or Catcher names it (the guide says only
that ``States.ALL`` does not catch it); ``ExecutionState._from_error`` words a missing JSONPath as AWS does
("The JSONPath '$.x' specified for the field 'y.$' could not be found in the input '...'").

To drop: when moto's ``ErrorEqualsDecl`` leaves these two errors out of ``States.ALL``, delete this module and its
entry in ``_activation.GAPS``; tests/unit/local/moto_gaps/test_uncatchable_errors.py must still pass.
"""

from __future__ import annotations

from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.asl.utils.json_path import NoSuchJsonPathError

from shiftflow.local.moto_gaps._failures import runtime_failure
from shiftflow.local.moto_gaps._patcher import Patcher

_STATES_ALL = StatesErrorName(typ=StatesErrorNameType.StatesALL)
_STATES_TASK_FAILED = StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed)


def error_matches(error_name: ErrorName | None, error_equals: list[ErrorName]) -> bool:
    """Whether a Retrier's or Catcher's ErrorEquals handles ``error_name``, as Step Functions decides it."""
    reserved = error_name.typ if isinstance(error_name, StatesErrorName) else None
    if reserved is StatesErrorNameType.StatesRuntime:
        return False
    if reserved is StatesErrorNameType.StatesStatesDataLimitExceeded:
        return error_name in error_equals
    if _STATES_ALL in error_equals:
        return True
    if _STATES_TASK_FAILED in error_equals and reserved is None:
        return True  # States.TaskFailed matches every error a task reports under its own name
    return error_name in error_equals


def _eval_error_equals(self: ErrorEqualsDecl, env: Environment) -> None:
    error_name = env.stack.pop()
    env.stack.append(error_matches(error_name, self.error_names))


def _patch_from_error(patcher: Patcher) -> None:
    original = ExecutionState._from_error

    def _from_error(self: ExecutionState, env: Environment, ex: Exception) -> FailureEvent:
        if isinstance(ex, NoSuchJsonPathError):
            cause = (
                f"The JSONPath '{ex.json_path}' specified for the field '{env.next_field_name}' "
                f"could not be found in the input '{to_json_str(ex.data)}'"
            )
            return runtime_failure(env, cause).failure_event
        return original(self, env, ex)

    patcher.set(ExecutionState, "_from_error", _from_error)


def apply(patcher: Patcher) -> None:
    patcher.set(ErrorEqualsDecl, "_eval_body", _eval_error_equals)
    _patch_from_error(patcher)
