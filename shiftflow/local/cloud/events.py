"""Events routed as AWS routes them, locally: two new behaviours of ours on moto.

- Step Functions sends a "Step Functions Execution Status Change" event to the default bus for every execution that
  ends (SUCCEEDED, FAILED, ABORTED, TIMED_OUT); moto sends none. Hooked where moto's interpreter reports an
  execution's end (BaseExecutionWorkerCommunication.terminated).
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
from collections.abc import Iterator
from typing import Any

log = logging.getLogger("shiftflow.cloud.events")

EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"
_ENDED = {"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"}


def _millis(value: datetime.datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value else None


def execution_status_change(execution: Any) -> dict[str, Any]:
    """PutEvents entry of an ended execution, with the detail AWS sends (dates in epoch milliseconds)."""
    status = execution.exec_status.value
    detail = {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "status": status,
        "startDate": _millis(execution.start_date),
        "stopDate": _millis(execution.stop_date),
        "input": json.dumps(execution.input_data),
        "output": json.dumps(execution.output) if status == "SUCCEEDED" else None,
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if status == "SUCCEEDED" else None,
        "error": execution.error,
        "cause": execution.cause,
    }
    return {"Source": "aws.states", "DetailType": EXECUTION_STATUS_CHANGE, "Detail": json.dumps(detail, default=str),
            "Resources": [execution.exec_arn]}


def _as_aws_sends_it(event: dict[str, Any]) -> dict[str, Any]:
    """moto's event message with AWS's shape: an ISO time, no moto-only keys."""
    event = {key: value for key, value in event.items() if key != "ingestion-time"}
    if isinstance(event.get("time"), (int, float)):
        moment = datetime.datetime.fromtimestamp(event["time"], tz=datetime.timezone.utc)
        event["time"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def _invoke(function_arn: str, region: str, event: dict[str, Any]) -> None:
    import boto3

    response = boto3.client("lambda", region_name=region).invoke(
        FunctionName=function_arn, InvocationType="RequestResponse", Payload=json.dumps(event).encode())
    if response.get("FunctionError"):
        log.error("%s failed on event %s: %s", function_arn, event.get("id"), response["Payload"].read().decode())


@contextlib.contextmanager
def route_events() -> Iterator[None]:
    from moto.events.models import Rule, events_backends
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    original_terminated = BaseExecutionWorkerCommunication.terminated
    original_send = Rule.send_to_targets

    def terminated(self: BaseExecutionWorkerCommunication) -> None:
        original_terminated(self)
        execution = self.execution
        if execution.exec_status is None or execution.exec_status.value not in _ENDED:
            return
        try:
            events_backends[execution.account_id][execution.region_name].put_events([execution_status_change(execution)])
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
        for target in functions:
            # Asynchronous, as EventBridge invokes a function: the sender never waits for it.
            threading.Thread(target=_invoke, args=(target["Arn"], self.region_name, _as_aws_sends_it(original_event)),
                             name=f"event-{self.name}", daemon=True).start()

    BaseExecutionWorkerCommunication.terminated = terminated  # type: ignore[method-assign]
    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseExecutionWorkerCommunication.terminated = original_terminated  # type: ignore[method-assign]
        Rule.send_to_targets = original_send  # type: ignore[method-assign]
