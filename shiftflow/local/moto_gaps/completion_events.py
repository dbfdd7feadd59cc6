"""Gap 8: there is no way to wait for an execution to end without polling.

moto behaviour (checked against moto 5.2.5): an execution runs on a worker thread and only its status says when it
ended, so callers (tests, the CLI, ``.sync`` parents) poll ``DescribeExecution``.

Fix: wraps ``backend/execution.py Execution.start`` and ``backend/execution_worker.py ExecutionWorker._execution_logic``
to set a ``threading.Event`` on the execution when it ends; ``wait_for_execution`` blocks on it, and ``wait_done``
lets gap 3 (``sfn_start_execution``) resume a ``.sync`` parent at once.

To drop: moto offers no completion signal; this gap stays while callers wait in-process. Dropping it means
``wait_for_execution`` polling ``DescribeExecution`` instead, and gap 3's ``.sync`` wait going back to slices.
"""

from __future__ import annotations

import threading
import time

from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from shiftflow.local.moto_gaps._patcher import Patcher

_DONE_ATTRIBUTE = "_shiftflow_done"


def apply(patcher: Patcher) -> None:
    original_start = Execution.start

    def start(self: Execution) -> None:
        setattr(self, _DONE_ATTRIBUTE, threading.Event())
        original_start(self)

    original_logic = ExecutionWorker._execution_logic

    def _execution_logic(self: ExecutionWorker) -> None:
        try:
            original_logic(self)
        finally:
            execution = getattr(self._execution_communication, "execution", None)
            done = getattr(execution, _DONE_ATTRIBUTE, None)
            if done is not None:
                done.set()

    patcher.set(Execution, "start", start)
    patcher.set(ExecutionWorker, "_execution_logic", _execution_logic)


def _find_execution(execution_arn: str) -> Execution | None:
    # arn:aws:states:<region>:<account>:execution:<state machine>:<name>
    parts = execution_arn.split(":")
    if len(parts) < 8 or parts[5] != "execution":
        return None
    region, account = parts[3], parts[4]
    if account not in stepfunctions_parser_backends or region not in stepfunctions_parser_backends[account]:
        return None
    backend = stepfunctions_parser_backends[account][region]
    for state_machine in list(backend.state_machines):
        for execution in list(getattr(state_machine, "executions", [])):
            if execution.execution_arn == execution_arn:
                return execution
    return None


def wait_done(execution_arn: str, timeout: float) -> bool | None:
    """Wait up to ``timeout`` seconds for the execution to end; True when it did, False when it is still running, None
    when its end cannot be known here (not started through the patched path: the wait only paces the caller's polls)."""
    execution = _find_execution(execution_arn)
    done = getattr(execution, _DONE_ATTRIBUTE, None)
    if done is None:
        time.sleep(timeout)
        return None
    return done.wait(timeout)


def wait_for_execution(execution_arn: str, timeout: float = 30.0) -> str:
    """Block until the execution ends; return its status. Raises TimeoutError after ``timeout`` seconds."""
    execution = _find_execution(execution_arn)
    if execution is None:
        raise LookupError(f"no execution {execution_arn} in moto's Step Functions (is execute_state_machine on?)")
    done = getattr(execution, _DONE_ATTRIBUTE, None)
    if done is None:
        raise RuntimeError(f"execution {execution_arn} was started before shiftflow's patches were activated")
    if not done.wait(timeout):
        raise TimeoutError(f"execution {execution_arn} still running after {timeout} s")
    return execution.status
