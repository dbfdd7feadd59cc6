"""Gap 5: executions are named, timestamped, described and paged differently from AWS.

moto behaviours (checked against moto 5.2.5), each fixed by its own patch:

- Unnamed executions are all named ``None`` and collide, and a name is not checked (``bad name!`` starts an
  execution; AWS: InvalidName, over 80 characters ValidationException), nor is the input read as AWS reads it (the
  error lacks AWS's "Invalid State Machine Execution Input: " prefix), nor its size (256 KiB of UTF-8 at most, the
  model's ``SensitiveData`` max: ValidationException). ``_patch_unique_execution_names`` wraps
  ``moto/stepfunctions/parser/models.py StepFunctionsParserBackend.start_execution`` to use a UUID and to check
  the name and the input as AWS does.
- Datetimes leak into execution data (``$$.Execution.StartTime``, SDK responses) and make ``DescribeExecution``
  raise TypeError; ``$$.State.EnteredTime`` is ``...123456+00:00``. ``_patch_iso_datetimes`` gives the context an
  ISO-8601 ``StartTime`` (``backend/execution.py Execution.get_start_execution_details``) and ``State.EnteredTime``
  in AWS's ``...123Z`` form (the ``StateData`` name seen by ``.../component/state/state.py``), converts datetimes in
  every task result to ISO strings (``StateTaskService._after_eval_execution``) and in the final output
  (``BaseExecutionWorkerCommunication._reflect_execution_status``).
- A string output (``"done"``) is returned by ``DescribeExecution`` unencoded, not as the JSON text ``"\\"done\\""``.
  ``_patch_string_output`` wraps ``moto/stepfunctions/responses.py StepFunctionResponse.describe_execution``.
- ``GetExecutionHistory`` ignores maxResults / nextToken / reverseOrder, and deep-copies the whole history for every
  page (about 5 s a page at 25,000 events). ``_patch_history_paging`` replaces
  ``moto/stepfunctions/responses.py StepFunctionResponse.get_execution_history`` and copies only the page.

Known limit: optimized-integration timestamps are ISO-8601 strings everywhere.

To drop: remove each patch from ``apply`` once moto behaves as AWS for it; with all four gone delete this module and
its entry in ``_activation.GAPS``. tests/unit/local/moto_gaps/test_execution_records.py must still pass.
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
import uuid
from typing import Any

from moto.core.responses import ActionResult
from moto.stepfunctions.exceptions import InvalidExecutionInput, InvalidToken, ValidationException
from moto.stepfunctions.parser.asl.component.state import state as asl_state
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)
from moto.stepfunctions.parser.asl.eval import states as asl_states
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from shiftflow.local.moto_gaps._patcher import Patcher
from shiftflow.local.moto_gaps._timestamps import iso_datetimes, iso_timestamp
from shiftflow.local.moto_gaps.payload_size_limit import MAX_PAYLOAD_BYTES


def _patch_unique_execution_names(patcher: Patcher) -> None:
    original = StepFunctionsParserBackend.start_execution

    def start_execution(
        self: StepFunctionsParserBackend,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: str | None = None,
        trace_header: str | None = None,
    ) -> Execution:
        if name:
            self._validate_name(name)  # moto's non-parser backend's check: InvalidName, over 80 a ValidationException
        if execution_input is not None:
            if len(execution_input.encode("utf-8", "surrogatepass")) > MAX_PAYLOAD_BYTES:  # the model's max, in bytes
                raise ValidationException("1 validation error detected: Value at 'input' failed to satisfy "
                                          f"constraint: Member must have length less than or equal to "
                                          f"{MAX_PAYLOAD_BYTES}")
            try:
                json.loads(execution_input)
            except ValueError as error:
                raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{error}'") from None
        return original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    patcher.set(StepFunctionsParserBackend, "start_execution", start_execution)


def _patch_iso_datetimes(patcher: Patcher) -> None:
    original_details = Execution.get_start_execution_details

    def get_start_execution_details(self: Execution) -> Any:
        details = original_details(self)
        details.start_time = iso_timestamp(self.start_date)  # $$.Execution.StartTime is a string on AWS
        return details

    original_after = StateTaskService._after_eval_execution

    def _after_eval_execution(
        self: StateTaskService,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict,
        state_credentials: Any,
    ) -> None:
        if env.stack:
            env.stack[-1] = iso_datetimes(env.stack[-1])  # SDK responses carry datetime objects
        original_after(self, env, resource_runtime_part, normalised_parameters, state_credentials)

    original_reflect = BaseExecutionWorkerCommunication._reflect_execution_status

    def _reflect_execution_status(self: BaseExecutionWorkerCommunication) -> None:
        original_reflect(self)
        self.execution.output = iso_datetimes(self.execution.output)

    def state_data(EnteredTime: str, Name: str, **rest: Any) -> dict:  # noqa: N803 - moto's keyword names
        # moto writes isoformat() ("...123456+00:00"); AWS writes "...123Z".
        entered = iso_timestamp(datetime.datetime.fromisoformat(EnteredTime))
        return asl_states.StateData(EnteredTime=entered, Name=Name, **rest)

    patcher.set(Execution, "get_start_execution_details", get_start_execution_details)
    patcher.set(asl_state, "StateData", state_data)
    patcher.set(StateTaskService, "_after_eval_execution", _after_eval_execution)
    patcher.set(BaseExecutionWorkerCommunication, "_reflect_execution_status", _reflect_execution_status)


def _patch_string_output(patcher: Patcher) -> None:
    original = StepFunctionResponse.describe_execution

    def describe_execution(self: StepFunctionResponse) -> ActionResult:
        result = original(self)
        response = result.result
        if isinstance(response, dict) and "output" in response:
            execution = self.stepfunction_backend.describe_execution(response["executionArn"])
            if isinstance(execution, Execution) and isinstance(execution.output, str):
                response["output"] = to_json_str(execution.output)  # moto returned the bare string, not JSON
        return result

    patcher.set(StepFunctionResponse, "describe_execution", describe_execution)


_HISTORY_DEFAULT_PAGE = 100  # GetExecutionHistory's default maxResults
_HISTORY_MAX_PAGE = 1000


def _encode_token(offset: int, reverse: bool) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "r": reverse}).encode()).decode()


def _decode_token(token: str, reverse: bool) -> int:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(decoded["o"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidToken("Invalid token") from exc
    if bool(decoded.get("r")) != reverse or offset < 0:
        raise InvalidToken("Invalid token")
    return offset


def _history_events(backend: Any, execution_arn: str) -> list[Any]:
    """The execution's events, not copied: moto's own getter deep-copies the whole history for every page (about
    5 s a page at 25,000 events); the caller copies only the page it returns."""
    execution = backend.describe_execution(execution_arn=execution_arn)
    if not hasattr(execution, "exec_worker"):  # moto's no-op backend (no execute_state_machine): its own history
        history = backend.get_execution_history(execution_arn)
        return list(history["events"] if isinstance(history, dict) else history)
    env = execution.exec_worker.env if execution.exec_worker is not None else None
    if env is None:
        return []  # the execution has not started yet
    manager = env.event_manager
    with manager._mutex:
        return list(manager._history_event_list)


def _patch_history_paging(patcher: Patcher) -> None:
    def get_execution_history(self: StepFunctionResponse) -> ActionResult:
        execution_arn = self._get_param("executionArn")
        max_results = self._get_int_param("maxResults") or _HISTORY_DEFAULT_PAGE
        max_results = min(max_results, _HISTORY_MAX_PAGE)
        reverse = bool(self._get_param("reverseOrder", False))
        events = _history_events(self.stepfunction_backend, execution_arn)
        if reverse:
            events.reverse()
        token = self._get_param("nextToken")
        start = _decode_token(token, reverse) if token else 0
        response: dict[str, Any] = {"events": copy.deepcopy(events[start : start + max_results])}
        if start + max_results < len(events):
            response["nextToken"] = _encode_token(start + max_results, reverse)
        return ActionResult(response)

    patcher.set(StepFunctionResponse, "get_execution_history", get_execution_history)


def apply(patcher: Patcher) -> None:
    _patch_unique_execution_names(patcher)
    _patch_iso_datetimes(patcher)
    _patch_string_output(patcher)
    _patch_history_paging(patcher)
