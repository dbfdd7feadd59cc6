"""Gap 26 (shiftflow.local.moto_gaps.atomic_execution_starts): an execution being started is never half-visible.

moto appends a new execution before it starts it; a slow start (0.3 s here, in the worker's creation) holds that
window open while other calls run, as hundreds of clients of the local cloud do by chance. Found by
benchmarks/cloud_stress.py: resume_sql_job's SendTaskSuccess failed with AttributeError while another client started
an execution.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from moto.stepfunctions.parser.backend.execution import Execution

from tests.unit.local.moto_gaps.conftest import Machines

WAITING = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}}


@pytest.fixture
def slow_starts(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Every start pauses 0.3 s between its execution's publication and its start; the event is set in the pause."""
    in_window = threading.Event()
    original = Execution._get_start_execution_worker

    def slowly(self: Execution) -> Any:
        in_window.set()
        time.sleep(0.3)
        return original(self)

    monkeypatch.setattr(Execution, "_get_start_execution_worker", slowly)
    return in_window


def test_calls_made_while_an_execution_starts_answer_as_on_aws(machines: Machines, slow_starts: threading.Event):
    sfn = machines.sfn
    machine = machines.create(WAITING)
    with ThreadPoolExecutor(max_workers=1) as pool:
        started = pool.submit(sfn.start_execution, stateMachineArn=machine, name="one", input="{}")
        assert slow_starts.wait(10)
        listed = sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]
        with pytest.raises(sfn.exceptions.InvalidToken):
            sfn.send_task_success(taskToken="not-a-token", output="{}")
        with pytest.raises(sfn.exceptions.InvalidToken):
            sfn.send_task_heartbeat(taskToken="not-a-token")
        arn = started.result(timeout=30)["executionArn"]
    assert [(execution["name"], execution["status"]) for execution in listed] == [("one", "RUNNING")]
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    sfn.stop_execution(executionArn=arn)


def test_two_starts_of_one_name_at_once_run_one_execution(machines: Machines, slow_starts: threading.Event):
    """StartExecution is idempotent for a RUNNING execution of the same name and input; another input is refused."""
    sfn = machines.sfn
    machine = machines.create(WAITING)
    start = threading.Barrier(2)

    def start_once(payload: dict[str, Any]) -> Any:
        start.wait(10)
        try:
            return sfn.start_execution(stateMachineArn=machine, name="nightly", input=json.dumps(payload))
        except sfn.exceptions.ExecutionAlreadyExists as error:
            return error

    with ThreadPoolExecutor(max_workers=2) as pool:
        same = list(pool.map(start_once, [{"day": 1}, {"day": 1}]))
    assert same[0]["executionArn"] == same[1]["executionArn"]
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 1

    with ThreadPoolExecutor(max_workers=2) as pool:
        other = list(pool.map(start_once, [{"day": 1}, {"day": 2}]))
    assert [type(answer).__name__ for answer in other].count("ExecutionAlreadyExists") == 1
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 1
    sfn.stop_execution(executionArn=same[0]["executionArn"])
