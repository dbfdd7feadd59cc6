"""Gap 26: an execution is visible to other threads before it has started.

moto behaviour (checked against moto 5.2.5): ``StepFunctionsParserBackend.start_execution``
(``moto/stepfunctions/parser/models.py``) checks the name, appends the new ``Execution`` to the state machine's
executions and only then starts it (``backend/execution.py Execution.start`` sets ``exec_status`` and
``exec_worker``). A call made by another thread in that window meets an execution whose ``status`` raises
AttributeError (``'NoneType' object has no attribute 'value'``): SendTaskSuccess / SendTaskFailure /
SendTaskHeartbeat of any token, ListExecutions with a statusFilter and a second StartExecution of the same name
answer HTTP 500; and two StartExecutions of one name at once both pass the name check, so the same execution runs
twice under one ARN.

Fix: each StartExecution runs under one lock (its name check, append and start are one step: a second start of the
name finds the first RUNNING, idempotent with the same input, ExecutionAlreadyExists otherwise, as on AWS); an
execution not yet started is RUNNING to whoever lists it (StartExecution answers it RUNNING), and the task-token and
map-run calls skip it (it holds no token yet: ``_get_executions`` yields started executions only).

To drop: when moto starts an execution before publishing it, delete this module and its entry in
``_activation.GAPS``; tests/unit/local/moto_gaps/test_atomic_execution_starts.py must still pass.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from shiftflow.local.moto_gaps._patcher import Patcher


def apply(patcher: Patcher) -> None:
    lock = threading.RLock()  # re-entrant: nothing in a start may start another, but a deadlock is worse than a wait
    original_start = StepFunctionsParserBackend.start_execution
    original_executions = StepFunctionsParserBackend._get_executions

    def start_execution(self: StepFunctionsParserBackend, *args: Any, **kwargs: Any) -> Execution:
        with lock:
            return original_start(self, *args, **kwargs)

    def _get_executions(self: StepFunctionsParserBackend, execution_status: Any = None) -> list[Execution]:
        return [execution for execution in original_executions(self, execution_status)
                if execution.exec_worker is not None]

    def status(self: Execution) -> str:
        return self.exec_status.value if self.exec_status is not None else "RUNNING"

    patcher.set(StepFunctionsParserBackend, "start_execution", start_execution)
    patcher.set(StepFunctionsParserBackend, "_get_executions", _get_executions)
    patcher.set(Execution, "status", property(status))
