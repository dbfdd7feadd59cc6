"""Step Functions executions on disk: the record at start, the history journal while running, the whole record at
the end; a new cloud restores them, the interrupted ones ABORTED with what their SQL jobs had committed."""

from __future__ import annotations

import json
from typing import Any

import boto3
from moto import mock_aws

from shiftflow.local.cloud.client import wait_until
from shiftflow.local.cloud.durable_executions import ExecutionFiles, committed_jobs, restore, write_through

ROLE = "arn:aws:iam::123456789012:role/states"
WAITING = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}}})
PASSING = json.dumps({"StartAt": "Pass", "States": {"Pass": {"Type": "Pass", "Result": {"v": 1}, "End": True}}})


def _aws() -> Any:
    return mock_aws(config={"stepfunctions": {"execute_state_machine": True}})


def _backend() -> Any:
    from moto.stepfunctions.responses import get_backend

    return get_backend("123456789012", "us-east-1")


def test_a_finished_execution_comes_back_whole_and_a_running_one_aborted_with_its_history(tmp_path):
    files = ExecutionFiles(tmp_path)
    with _aws():
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        with write_through(files):
            passing = sfn.create_state_machine(name="passing", definition=PASSING, roleArn=ROLE)["stateMachineArn"]
            waiting = sfn.create_state_machine(name="waiting", definition=WAITING, roleArn=ROLE)["stateMachineArn"]
            done = sfn.start_execution(stateMachineArn=passing, input='{"a": 1}')["executionArn"]
            assert wait_until(lambda: sfn.describe_execution(executionArn=done)["status"] == "SUCCEEDED", timeout=30)
            running = sfn.start_execution(stateMachineArn=waiting)["executionArn"]
            assert wait_until(lambda: files.journal(running).is_file() and "WaitStateEntered" in
                              files.journal(running).read_text(), timeout=30)
            assert not files.journal(done).exists()  # its record holds the history now
        sfn.stop_execution(executionArn=running)  # unhooked: on disk it stays running, as a killed cloud leaves it
    partial = files.folder / f".{files.path(done).name}.x1.tmp"
    partial.write_text('{"executionArn": "arn:aws:states:')  # a record a kill interrupted
    files.load()
    assert partial.exists()  # a read deletes nothing: a live cloud may be writing that very file
    # A new cloud: the same state machines, no executions until restored.
    with _aws():
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        for name, definition in (("passing", PASSING), ("waiting", WAITING)):
            sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE)
        records, interrupted = restore(files, _backend())
        assert not partial.exists()  # the new owner of the folder clears it
        assert [record["executionArn"] for record in interrupted] == [running]
        assert len(records) == 2
        finished = sfn.describe_execution(executionArn=done)
        assert (finished["status"], json.loads(finished["output"]), json.loads(finished["input"])) == (
            "SUCCEEDED", {"v": 1}, {"a": 1})
        assert sfn.get_execution_history(executionArn=done)["events"][-1]["type"] == "ExecutionSucceeded"
        stopped = sfn.describe_execution(executionArn=running)
        assert (stopped["status"], stopped["error"]) == ("ABORTED", "LocalCloudStopped")
        assert stopped["cause"] == "the local cloud stopped; jobs whose SQL had committed: none"
        types = [event["type"] for event in sfn.get_execution_history(executionArn=running)["events"]]
        assert types[0] == "ExecutionStarted" and "WaitStateEntered" in types and types[-1] == "ExecutionAborted"
        assert [execution["status"] for execution in sfn.list_executions(stateMachineArn=waiting)["executions"]] == [
            "ABORTED"]
    assert restore(files, _backend())[1] == []  # recorded ABORTED once: not interrupted again


def test_the_committed_jobs_of_an_execution_are_its_descendants_that_succeeded():
    def record(arn: str, status: str, parent: str | None = None, job: str | None = None, at: int = 0) -> dict:
        inputs = {key: value for key, value in (("AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID", parent),
                                                ("job", job)) if value}
        return {"executionArn": arn, "status": status, "input": inputs, "startDate": at, "stopDate": at}

    records = [record("wf", "ABORTED"), record("stage-1", "SUCCEEDED", "wf", at=1),
               record("setup", "SUCCEEDED", "stage-1", "setup", at=2), record("load", "SUCCEEDED", "stage-2", "load", 4),
               record("stage-2", "ABORTED", "wf", at=3), record("fact", "ABORTED", "stage-2", "fact", 5),
               record("other", "SUCCEEDED", "elsewhere", "x", 6)]
    assert committed_jobs(records) == {"wf": ["setup", "load"], "elsewhere": ["x"]}
