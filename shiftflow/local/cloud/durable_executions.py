"""Step Functions executions on disk: one JSON record each (<state>/executions/<state machine>.<name>.json), and
while it runs a journal of its history events (<...>.history).

moto keeps executions in memory only: a new behaviour of ours, hooked in moto's ASL interpreter
(moto.stepfunctions.parser): `Execution.start` writes the record (RUNNING, with its input) before the execution's
thread starts; every history event is appended to the journal as the interpreter creates it
(EventManager._publish_history_event, one write(2) a line: a kill leaves lines whole, and the events are in the page
cache the moment they exist); `BaseExecutionWorkerCommunication.terminated` rewrites the record with how it ended and
its whole history, then drops the journal. A cloud that starts restores every record into moto's backend, so
ListExecutions, DescribeExecution and GetExecutionHistory answer for executions of earlier clouds too; a record still
RUNNING belongs to an execution that died with its cloud: it becomes ABORTED, error LocalCloudStopped, cause "the
local cloud stopped", its journal plus an ExecutionAborted event as its history. Drop this module if moto ever keeps
its state on disk.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shiftflow.durable_files import append_lines, atomic_write, read_lines, remove_partial_writes

log = logging.getLogger("shiftflow.cloud.executions")

FOLDER = "executions"
ABORTED = "ABORTED"
ABORT_ERROR = "LocalCloudStopped"
ABORT_CAUSE = "the local cloud stopped"
_STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
_JOURNAL_ATTRIBUTE = "_shiftflow_history_journal"


class ExecutionFiles:
    def __init__(self, state_dir: Path) -> None:
        self.folder = state_dir / FOLDER
        self._lock = threading.Lock()

    def path(self, execution_arn: str, suffix: str = ".json") -> Path:
        state_machine, name = execution_arn.split(":")[-2:]
        return self.folder / re.sub(r"[^A-Za-z0-9_.-]", "_", f"{state_machine}.{name}{suffix}")

    def journal(self, execution_arn: str) -> Path:
        return self.path(execution_arn, ".history")

    def save(self, record: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock:  # one record at a time: a start and an end of the same execution stay in order
            atomic_write(self.path(record["executionArn"]), json.dumps(record, default=_json_default).encode())
            if record["status"] != "RUNNING":
                self.journal(record["executionArn"]).unlink(missing_ok=True)  # the record holds its history now

    def append_event(self, journal: Path, event: dict[str, Any]) -> None:
        # No fsync: the event is in the page cache the moment it exists (a kill -9 keeps it), and an event a power
        # loss drops belongs to an execution that dies with it.
        append_lines(journal, [event], default=_json_default, sync=False)

    def remove_partial_writes(self) -> None:
        """Records a kill interrupted (the previous ones stand); by the owner of the state folder, when it starts."""
        remove_partial_writes(self.folder)

    def load(self) -> list[dict[str, Any]]:
        """Every record (read-only: a running cloud may be replacing one beside this read)."""
        if not self.folder.is_dir():
            return []
        records = [json.loads(path.read_text(), object_hook=_timestamps) for path in sorted(self.folder.glob("*.json"))]
        for record in records:
            if record["status"] == "RUNNING":
                record["events"] = self._journal_events(self.journal(record["executionArn"]))
        return records

    def _journal_events(self, journal: Path) -> list[dict[str, Any]]:
        events = read_lines(journal, object_hook=_timestamps, synced=False)
        return sorted(events, key=lambda event: event["id"])  # parallel branches append in any order


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return {"$timestamp": value.isoformat()}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _timestamps(value: dict[str, Any]) -> Any:
    return datetime.datetime.fromisoformat(value["$timestamp"]) if set(value) == {"$timestamp"} else value


def record_of(execution: Any, events: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "roleArn": execution.role_arn,
        "status": execution.exec_status.value if execution.exec_status is not None else "RUNNING",
        "startDate": execution.start_date,
        "stopDate": execution.stop_date,
        "input": execution.input_data,
        "output": execution.output,
        "error": execution.error,
        "cause": execution.cause,
        "events": events or [],
    }


def aborted(record: dict[str, Any], now: datetime.datetime, cause: str = ABORT_CAUSE) -> dict[str, Any]:
    """A record of an execution that was running when its cloud stopped, as AWS records a stopped execution."""
    started = {"timestamp": record["startDate"], "type": "ExecutionStarted", "id": 1, "previousEventId": 0,
               "executionStartedEventDetails": {"input": json.dumps(record["input"]), "roleArn": record["roleArn"],
                                                "inputDetails": {"truncated": False}}}
    events = list(record["events"]) or [started]
    last = max(event["id"] for event in events)
    events.append({"timestamp": now, "type": "ExecutionAborted", "id": last + 1, "previousEventId": last,
                   "executionAbortedEventDetails": {"error": ABORT_ERROR, "cause": cause}})
    return {**record, "status": ABORTED, "stopDate": now, "error": ABORT_ERROR, "cause": cause, "events": events}


def committed_jobs(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    """For each top execution, the SQL jobs (child executions with a `job` in their input, started by it or by its
    descendants) that SUCCEEDED: their SQL is committed in the warehouse whatever became of the execution."""
    parent = {record["executionArn"]: record["input"].get(_STARTED_BY) for record in records
              if isinstance(record["input"], dict) and record["input"].get(_STARTED_BY)}

    def top(arn: str) -> str:
        seen = {arn}
        while parent.get(arn) and parent[arn] not in seen:
            arn = parent[arn]
            seen.add(arn)
        return arn

    found: dict[str, list[str]] = {}
    for record in sorted(records, key=lambda record: record["stopDate"] or record["startDate"]):
        job = record["input"].get("job") if isinstance(record["input"], dict) else None
        if job and record["status"] == "SUCCEEDED" and record["executionArn"] in parent:
            found.setdefault(top(record["executionArn"]), []).append(str(job))
    return found


def interruption_cause(committed: list[str]) -> str:
    """The cause of an execution its cloud's stop interrupted: which of its SQL jobs had committed."""
    return f"{ABORT_CAUSE}; jobs whose SQL had committed: {', '.join(committed) if committed else 'none'}"


class _RecordedWorker:
    """Stands in for the worker of a restored execution: its history is the recorded one; it runs nothing."""

    class _Events:
        """What moto's EventManager offers readers, the attributes moto_gaps.execution_records pages from included."""

        def __init__(self, events: list[dict[str, Any]]) -> None:
            self.events = events
            self._mutex = threading.Lock()
            self._history_event_list = events

        def get_event_history(self) -> list[dict[str, Any]]:
            return list(self.events)

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.env = type("RecordedEnvironment", (), {"event_manager": self._Events(events)})()

    def stop(self, **_: Any) -> None:
        return None  # it ended with its cloud already


def restore(files: ExecutionFiles, backend: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Put every recorded execution back into `backend` (moto's Step Functions backend of the account and region);
    records still RUNNING are saved ABORTED first. Returns every record as now saved, and those aborted now."""
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.backend.execution import Execution

    now = datetime.datetime.now(datetime.timezone.utc)
    files.remove_partial_writes()  # this cloud owns the folder from now on
    records = files.load()
    committed = committed_jobs(records)
    interrupted: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        if record["status"] == "RUNNING":
            record = records[index] = aborted(record, now, interruption_cause(committed.get(record["executionArn"], [])))
            files.save(record)
            interrupted.append(record)
        try:
            state_machine = backend.describe_state_machine(record["stateMachineArn"])
        except Exception:  # noqa: BLE001 - a state machine the template no longer declares: its runs stay on disk
            continue
        execution = Execution(
            name=record["name"], sm_type=state_machine.sm_type, role_arn=record["roleArn"],
            exec_arn=record["executionArn"], account_id=backend.account_id, region_name=backend.region_name,
            state_machine=state_machine, start_date=record["startDate"], cloud_watch_logging_session=None,
            activity_store={}, input_data=json.dumps(record["input"]), trace_header=None,
        )
        execution.exec_status = ExecutionStatus(record["status"])
        execution.stop_date = record["stopDate"]
        execution.output = record["output"]
        execution.error = record["error"]
        execution.cause = record["cause"]
        execution.exec_worker = _RecordedWorker(record["events"])
        state_machine.executions.append(execution)
    return records, interrupted


@contextlib.contextmanager
def write_through(files: ExecutionFiles) -> Iterator[None]:
    """While the block runs, every execution is on disk from its start, its history as it grows, and whole once
    it ended."""
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original_start = Execution.start
    original_terminated = BaseExecutionWorkerCommunication.terminated
    original_environment = ExecutionWorker._get_evaluation_environment
    original_publish = EventManager._publish_history_event

    def start(self: Execution) -> None:
        files.save(record_of(self, events=None))  # before its thread exists: the end is always written after
        log.info("execution started: %s", self.exec_arn)
        original_start(self)

    def get_evaluation_environment(self: ExecutionWorker) -> Any:
        environment = original_environment(self)
        execution = getattr(self._execution_communication, "execution", None)
        if execution is not None:
            setattr(environment.event_manager, _JOURNAL_ATTRIBUTE, files.journal(execution.exec_arn))
        return environment

    def publish_history_event(self: EventManager, event_id: int, source_event_id: int, event_type: Any,
                              timestamp: datetime.datetime, event_details: Any) -> None:
        original_publish(self, event_id=event_id, source_event_id=source_event_id, event_type=event_type,
                         timestamp=timestamp, event_details=event_details)
        journal = getattr(self, _JOURNAL_ATTRIBUTE, None)
        if journal is not None:  # the same event, made again by moto's pure function (the list is shared by threads)
            files.append_event(journal, EventManager._create_history_event(
                event_id=event_id, source_event_id=source_event_id, event_type=event_type, timestamp=timestamp,
                event_details=event_details))

    def terminated(self: BaseExecutionWorkerCommunication) -> None:
        original_terminated(self)
        execution = self.execution
        files.save(record_of(execution, events=execution.to_history_output()["events"]))
        log.info("execution %s: %s%s", execution.exec_status.value, execution.exec_arn,
                 f" ({execution.error})" if execution.error else "")

    Execution.start = start  # type: ignore[method-assign]
    ExecutionWorker._get_evaluation_environment = get_evaluation_environment  # type: ignore[method-assign]
    EventManager._publish_history_event = publish_history_event  # type: ignore[method-assign]
    BaseExecutionWorkerCommunication.terminated = terminated  # type: ignore[method-assign]
    try:
        yield
    finally:
        Execution.start = original_start  # type: ignore[method-assign]
        ExecutionWorker._get_evaluation_environment = original_environment  # type: ignore[method-assign]
        EventManager._publish_history_event = original_publish  # type: ignore[method-assign]
        BaseExecutionWorkerCommunication.terminated = original_terminated  # type: ignore[method-assign]
