"""Gap 32: a TIMED_OUT execution has no stopDate in DescribeExecution and ListExecutions.

moto behaviour (checked against moto 5.2.5): ``StepFunctionResponse.describe_execution`` and ``list_executions``
(moto/stepfunctions/responses.py) add ``stopDate`` for SUCCEEDED, FAILED and ABORTED executions only, although the
execution's ``stop_date`` is set when it times out (``BaseExecutionWorkerCommunication._reflect_execution_status``).
AWS: "stopDate: If the execution ended, the date the execution stopped" (the Step Functions API model, botocore
``stepfunctions/2016-11-23``, DescribeExecutionOutput and ExecutionListItem); a timed-out execution has ended. A
client measuring a run (`shiftflow.jobs.outcomes`: the last execution's duration) got none for one that timed out.

Fix: both responses (whatever earlier gaps made of them) get the execution's ``stopDate`` when its status is
TIMED_OUT and moto left it out.

To drop: when moto lists TIMED_OUT among the ended statuses there, delete this module and its entry in
``_activation.GAPS``; tests/unit/local/moto_gaps/test_timed_out_stop_dates.py must still pass.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.responses import StepFunctionResponse

from shiftflow.local.moto_gaps._patcher import Patcher

_TIMED_OUT = "TIMED_OUT"


def _stop_date(backend: Any, arn: str) -> Any:
    return backend.describe_execution(arn).stop_date


def apply(patcher: Patcher) -> None:
    describe = StepFunctionResponse.describe_execution  # as earlier gaps left it (execution_records)
    listing = StepFunctionResponse.list_executions

    def describe_execution(self: StepFunctionResponse) -> Any:
        result = describe(self)
        response = result.result
        if isinstance(response, dict) and str(response.get("status")) == _TIMED_OUT and "stopDate" not in response:
            response["stopDate"] = _stop_date(self.stepfunction_backend, response["executionArn"])
        return result

    def list_executions(self: StepFunctionResponse) -> Any:
        result = listing(self)
        response = result.result
        for item in response.get("executions", []) if isinstance(response, dict) else []:
            if str(item.get("status")) == _TIMED_OUT and "stopDate" not in item:
                item["stopDate"] = _stop_date(self.stepfunction_backend, item["executionArn"])
        return result

    patcher.set(StepFunctionResponse, "describe_execution", describe_execution)
    patcher.set(StepFunctionResponse, "list_executions", list_executions)
