"""Gap 21: StopExecution drops its ``error`` and ``cause``.

moto behaviour (checked against moto 5.2.5): ``StepFunctionResponse.stop_execution`` reads only ``executionArn``
and ``StateMachine.stop_execution`` stops the execution with ``error=""`` and ``cause=""``; AWS records both on the
ExecutionAborted event and returns them from DescribeExecution, and the "Execution Status Change" event carries them
(the heal of a stopped run names who stopped it and why from there).

Fix: replaces ``responses.py StepFunctionResponse.stop_execution`` to pass the request's error and cause to the
execution's ``stop`` (the ASL interpreter's ``Execution.stop(stop_date, error, cause)`` takes them), and sets the execution's
``error`` and ``cause``, which DescribeExecution returns.

To drop: when moto passes StopExecution's error and cause through, delete this module and its entry in
``_activation.GAPS``; tests/unit/local/moto_gaps/test_stop_error_and_cause.py must still pass.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.responses import StepFunctionResponse
from moto.core.utils import utcnow

from shiftflow.local.moto_gaps._patcher import Patcher


def apply(patcher: Patcher) -> None:
    def stop_execution(self: StepFunctionResponse) -> Any:
        from moto.core.responses import ActionResult

        arn = self._get_param("executionArn")
        error, cause = self._get_param("error"), self._get_param("cause")
        backend = self.stepfunction_backend
        backend._validate_execution_arn(arn)
        state_machine = backend._get_state_machine_for_execution(arn)
        execution = next((item for item in state_machine.executions if item.execution_arn == arn), None)
        if execution is None:  # moto's own answer for an unknown execution
            return ActionResult({"stopDate": backend.stop_execution(arn).stop_date})
        execution.stop(stop_date=utcnow(), error=error or "", cause=cause or "")
        if error is not None:
            execution.error = error
        if cause is not None:
            execution.cause = cause
        return ActionResult({"stopDate": execution.stop_date})

    patcher.set(StepFunctionResponse, "stop_execution", stop_execution)

