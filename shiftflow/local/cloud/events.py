"""Events routed as AWS routes them, locally: two new behaviours of ours on moto.

- Step Functions sends a "Step Functions Execution Status Change" event to the default bus for every execution that
  ends (SUCCEEDED, FAILED, ABORTED, TIMED_OUT); moto sends none. Hooked where moto's interpreter reports an
  execution's end (BaseExecutionWorkerCommunication.terminated).
- The Data API emulator's "Redshift Data Statement Status Change" events (statements sent WithEvent) go to the
  default bus too (route_statement_events, through a DataApiEventRoute, which tests use to drop, delay or duplicate
  events on purpose).
- An EventBridge rule whose target is a Lambda function invokes it asynchronously with the event; moto's rules
  deliver to SQS, logs and buses only. Hooked at moto's rule (Rule.send_to_targets), after moto's own deliveries,
  with the rule's pattern and state applied.
The rules themselves are template.yaml's (shiftflow.local.runtime creates them). Drop a hook once moto does the same.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger("shiftflow.cloud.events")

EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"
_ENDED = {"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"}


def _millis(value: datetime.datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value else None


def execution_status_change(record: dict[str, Any]) -> dict[str, Any]:
    """PutEvents entry of an ended execution (a record of shiftflow.local.cloud.durable_executions), with the detail
    AWS sends (dates in epoch milliseconds)."""
    succeeded = record["status"] == "SUCCEEDED"
    detail = {
        "executionArn": record["executionArn"],
        "stateMachineArn": record["stateMachineArn"],
        "name": record["name"],
        "status": record["status"],
        "startDate": _millis(record["startDate"]),
        "stopDate": _millis(record["stopDate"]),
        "input": json.dumps(record["input"]),
        "output": json.dumps(record["output"]) if succeeded else None,
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if succeeded else None,
        "error": record["error"],
        "cause": record["cause"],
    }
    return {"Source": "aws.states", "DetailType": EXECUTION_STATUS_CHANGE, "Detail": json.dumps(detail, default=str),
            "Resources": [record["executionArn"]]}


def put_status_changes(records: list[dict[str, Any]], account_id: str, region: str) -> None:
    """Send the status change of executions that ended (ten entries a PutEvents call, as AWS takes them)."""
    from moto.events.models import events_backends

    entries = [execution_status_change(record) for record in records]
    for start in range(0, len(entries), 10):
        events_backends[account_id][region].put_events(entries[start:start + 10])


_deliveries_lock = threading.Lock()
_deliveries: set[threading.Thread] = set()


def wait_for_deliveries(timeout: float) -> bool:
    """Wait until every Lambda delivery under way has ended (deliveries they cause included); False on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        with _deliveries_lock:
            pending = [thread for thread in _deliveries if thread.is_alive()]
        if not pending:
            return True
        for thread in pending:
            thread.join(max(0.0, deadline - time.monotonic()))
        if time.monotonic() >= deadline:
            return False


def _deliver(function_arn: str, region: str, event: dict[str, Any], rule: str) -> None:
    thread = threading.Thread(target=_invoke, args=(function_arn, region, event), name=f"event-{rule}", daemon=True)
    with _deliveries_lock:
        _deliveries.difference_update({done for done in _deliveries if not done.is_alive()})
        _deliveries.add(thread)
    thread.start()


def _as_aws_sends_it(event: dict[str, Any]) -> dict[str, Any]:
    """moto's event message with AWS's shape: an ISO time, no moto-only keys."""
    event = {key: value for key, value in event.items() if key != "ingestion-time"}
    if isinstance(event.get("time"), (int, float)):
        moment = datetime.datetime.fromtimestamp(event["time"], tz=datetime.timezone.utc)
        event["time"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def _invoke(function_arn: str, region: str, event: dict[str, Any]) -> None:
    """EventBridge's call of the function, service to service: straight to moto's Lambda backend (the registered
    handler, within its limits), without a client's request round trip (a new client, the request's serialisation
    and moto's dispatch cost tens of milliseconds of a statement event's completion delay)."""
    from moto.awslambda.models import lambda_backends

    account_id = function_arn.split(":")[4]
    response_headers: dict[str, str] = {}
    payload = lambda_backends[account_id][region].invoke(
        function_arn, None, json.dumps(event).encode(), {"X-Amz-Invocation-Type": "RequestResponse"}, response_headers)
    if response_headers.get("x-amz-function-error"):
        text = payload.decode() if isinstance(payload, bytes) else str(payload)
        log.error("%s failed on event %s: %s", function_arn, event.get("id"), text)


@contextlib.contextmanager
def route_events() -> Iterator[None]:
    from moto.events.models import Rule
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    from shiftflow.local.cloud.durable_executions import record_of

    original_terminated = BaseExecutionWorkerCommunication.terminated
    original_send = Rule.send_to_targets

    def terminated(self: BaseExecutionWorkerCommunication) -> None:
        original_terminated(self)
        execution = self.execution
        if execution.exec_status is None or execution.exec_status.value not in _ENDED:
            return
        try:
            put_status_changes([record_of(execution, events=None)], execution.account_id, execution.region_name)
        except Exception:  # a delivery that fails must not fail the execution (best effort, as on AWS)
            log.exception("could not send the status change of %s", execution.exec_arn)

    def send_to_targets(self: Rule, original_event: dict[str, Any], transform_input: bool = True) -> None:
        functions = [target for target in self.targets if target["Arn"].startswith("arn:aws:lambda:")]
        others = [target for target in self.targets if target not in functions]
        if others:  # moto's own deliveries; it raises NotImplementedError on a Lambda target
            rule = copy.copy(self)
            rule.targets = others
            original_send(rule, original_event, transform_input)
        if not functions or self.state != "ENABLED" or not self.event_pattern.matches_event(original_event):
            return
        for target in functions:  # asynchronous, as EventBridge invokes a function: the sender never waits for it
            _deliver(target["Arn"], self.region_name, _as_aws_sends_it(original_event), self.name)

    BaseExecutionWorkerCommunication.terminated = terminated  # type: ignore[method-assign]
    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseExecutionWorkerCommunication.terminated = original_terminated  # type: ignore[method-assign]
        Rule.send_to_targets = original_send  # type: ignore[method-assign]


Deliveries = Callable[[dict[str, Any]], list[float]]


def _once_now(event: dict[str, Any]) -> list[float]:
    return [0.0]


class DataApiEventRoute:
    """The emulator's statement status change events onto the default bus of the local account.

    `deliveries(event)` says when each delivery of an event happens, in seconds from now: [0.0] (the default) once at
    once, [] never (a lost event), [0.0, 0.0] twice (a duplicate), [5.0] late. Tests set it to interfere on purpose;
    `delivered` lists every event put on the bus, in order.
    """

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id, self.region = account_id, region
        self.deliveries: Deliveries = _once_now
        self.delivered: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        for delay in self.deliveries(event):
            if delay <= 0:
                self._put(event)
            else:
                timer = threading.Timer(delay, self._put, args=(event,))
                timer.daemon = True
                timer.start()

    def _put(self, event: dict[str, Any]) -> None:
        from moto.events.models import events_backends

        try:
            events_backends[self.account_id][self.region].put_events([{
                "Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"]),
                "Resources": event.get("resources", [])}])  # no Time: moto's delivery wants its own epoch time
            self.delivered.append(event)
        except Exception:  # best effort, as AWS documents these events: an event-mode job's heartbeat is the net
            log.exception("could not send the status change of statement %s", event["detail"].get("statementId"))


@contextlib.contextmanager
def route_statement_events(emulator: Any, account_id: str, region: str) -> Iterator[DataApiEventRoute]:
    """While the block runs, the emulator's statement status change events are put on the default bus; yields the
    route."""
    route = DataApiEventRoute(account_id, region)
    unsubscribe = emulator.subscribe(route)
    try:
        yield route
    finally:
        unsubscribe()


@contextlib.contextmanager
def route_local_events(emulator: Any, account_id: str, region: str) -> Iterator[DataApiEventRoute]:
    """Every event as AWS routes it (route_events and route_statement_events): the one routing path of the in-process
    runtime and of the local cloud (which enters it after its own record of executions); yields the statements' route."""
    with route_events(), route_statement_events(emulator, account_id, region) as route:
        yield route
