"""Gap 3: ``states:startExecution`` (plain, ``.sync``, ``.sync:2``) fails, and ``.sync`` parents resume late.

moto behaviour (checked against moto 5.2.5): the task fails with ``KeyError 'StateMachineArn'`` because
``StateTaskService._normalise_parameters`` / ``_normalise_response`` are no-ops, so the ASL's PascalCase parameters
never become boto's camelCase ones (nor the response's camelCase members PascalCase). A ``.sync`` parent also polls
the child every 0.5 s, so it resumes up to 0.5 s after the child ended.

Fix: ``_patch_sfn_parameter_mapping`` maps parameters and response through the botocore model on
``StateTaskServiceSfn`` (``.../service/state_task_service_sfn.py``), both ways, and turns the response's datetimes
into ISO strings. ``_patch_sfn_sync_wait`` wraps ``_build_sync_resolver`` / ``_build_sync2_resolver`` to wait on the
child's completion event (gap 8, ``completion_events``) and to describe the child only once it has ended, and sets
``state_task_service_callback._DELAY_SECONDS_SYNC_CONDITION_CHECK`` to 0, so the parent resumes as soon as the child
ends.

To drop: when moto maps ``states:*`` parameters itself, remove ``_patch_sfn_parameter_mapping``; when its ``.sync``
resolvers wait on the child instead of polling, remove ``_patch_sfn_sync_wait``; with both gone delete this module
and its entry in ``_activation.GAPS``. tests/unit/local/moto_gaps/test_sfn_start_execution.py must still pass.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.model import OperationModel
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)

from shiftflow.local.moto_gaps._patcher import Patcher
from shiftflow.local.moto_gaps._timestamps import iso_datetimes
from shiftflow.local.moto_gaps.completion_events import wait_done

_botocore_session_lock = threading.Lock()
_botocore_session: botocore.session.Session | None = None


@lru_cache(maxsize=256)
def _operation_model(service: str, snake_action: str) -> OperationModel | None:
    global _botocore_session
    with _botocore_session_lock:
        if _botocore_session is None:
            _botocore_session = botocore.session.get_session()
        service_model = _botocore_session.get_service_model(service)
    for name in service_model.operation_names:
        if botocore.xform_name(name) == snake_action:
            return service_model.operation_model(name)
    return None


def _patch_sfn_parameter_mapping(patcher: Patcher) -> None:
    original_parameters = StateTaskServiceSfn._normalise_parameters

    def _normalise_parameters(
        self: StateTaskServiceSfn,
        parameters: dict,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        original_parameters(self, parameters, boto_service_name, service_action_name)
        operation = _operation_model("stepfunctions", self._get_boto_service_action(service_action_name))
        if operation is not None and operation.input_shape is not None:
            self._to_boto_request(parameters, operation.input_shape)  # StateMachineArn -> stateMachineArn

    def _normalise_response(
        self: StateTaskServiceSfn,
        response: Any,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        operation = _operation_model("stepfunctions", self._get_boto_service_action(service_action_name))
        if operation is not None and operation.output_shape is not None:
            self._from_boto_response(response, operation.output_shape)  # executionArn -> ExecutionArn
        iso_datetimes(response)  # before moto serialises a failed child's DescribeExecution into the Cause

    patcher.set(StateTaskServiceSfn, "_normalise_parameters", _normalise_parameters)
    patcher.set(StateTaskServiceSfn, "_normalise_response", _normalise_response)


_SYNC_WAIT_SLICE_SECONDS = 0.25  # how often a waiting parent re-checks that it was not itself stopped


def _patch_sfn_sync_wait(patcher: Patcher) -> None:
    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def build(
            self: StateTaskServiceSfn,
            env: Any,
            resource_runtime_part: Any,
            normalised_parameters: dict,
            state_credentials: Any,
        ) -> Callable[[], Any]:
            submission = env.stack[-1] if env.stack else None
            child_arn = submission.get("ExecutionArn") if isinstance(submission, dict) else None
            resolver = original(self, env, resource_runtime_part, normalised_parameters, state_credentials)

            def resolve() -> Any:
                # Block until the child ends (or a slice passes), then let moto's resolver read its status. A child
                # known to be running gets None, what the resolver's DescribeExecution would conclude: 500 waiting
                # parents otherwise made some 16,000 DescribeExecution round trips; the one after the end stays
                # (the parent role's states:DescribeExecution is still checked).
                if child_arn is None:
                    time.sleep(_SYNC_WAIT_SLICE_SECONDS)
                elif wait_done(child_arn, _SYNC_WAIT_SLICE_SECONDS) is False:
                    return None
                return resolver()

            return resolve

        return build

    patcher.set(StateTaskServiceSfn, "_build_sync_resolver", wrap(StateTaskServiceSfn._build_sync_resolver))
    patcher.set(StateTaskServiceSfn, "_build_sync2_resolver", wrap(StateTaskServiceSfn._build_sync2_resolver))
    patcher.set(state_task_service_callback, "_DELAY_SECONDS_SYNC_CONDITION_CHECK", 0.0)


def apply(patcher: Patcher) -> None:
    _patch_sfn_parameter_mapping(patcher)
    _patch_sfn_sync_wait(patcher)
