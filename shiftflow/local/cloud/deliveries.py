"""Events delivered to the Lambda targets of EventBridge rules with AWS's asynchronous-invocation semantics, each
pending delivery kept on disk until it is done.

Two layers, as on AWS:
- EventBridge hands the event to Lambda (an asynchronous Invoke). When that call fails, the rule target's
  RetryPolicy applies (EventBridge user guide, "Event retry policy and using dead-letter queues"): a retriable error
  is retried with exponential backoff and jitter until MaximumRetryAttempts (default 185) or MaximumEventAgeInSeconds
  (default 86,400) runs out; a missing function or a missing permission is not retried. Then the event goes to the
  target's DeadLetterConfig queue: the event as the body, with the attributes RULE_ARN, TARGET_ARN, ERROR_CODE,
  ERROR_MESSAGE and, after retries, RETRY_ATTEMPTS and EXHAUSTED_RETRY_CONDITION (the guide names the attribute
  only; its values are the RetryPolicy field that ran out, MaximumRetryAttempts or MaximumEventAgeInSeconds, as
  EventBridge Scheduler's dead-letter events show them).
- Lambda runs the function from its queue. A function error is retried as the function's EventInvokeConfig says
  (Lambda developer guide, "Asynchronous invocation": MaximumRetryAttempts 0-2, default 2, one minute before the
  first retry and two before the second; MaximumEventAgeInSeconds, default 21,600), then the invocation record
  goes to its OnFailure destination (SQS) and the event to its DeadLetterQueue (SQS), where the template has them.
Locally the handler runs in-process and synchronously (the delivery's thread waits for its outcome), waits are
divided by the cloud's time compression, and an event's age is measured on the same compressed clock.

Each pending delivery is a record <state>/deliveries/<id>.json, written (atomically) before the PutEvents that made
it returns and after each attempt, and removed once the delivery is done. A cloud that starts resumes the records
an earlier one left: at least once, as Lambda's asynchronous invocations are (an attempt a kill interrupted runs
again).
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shiftflow.durable_files import RecordFolder

log = logging.getLogger("shiftflow.cloud.deliveries")

Invoke = Callable[[str, str, bytes], dict[str, Any]]

FOLDER = "deliveries"
# EventBridge's defaults for a rule target (RetryPolicy), Lambda's for a function (EventInvokeConfig).
TARGET_RETRY_ATTEMPTS, TARGET_EVENT_AGE_SECONDS = 185, 86_400
FUNCTION_RETRY_ATTEMPTS, FUNCTION_EVENT_AGE_SECONDS = 2, 21_600
FUNCTION_RETRY_WAITS_SECONDS = (60.0, 120.0)  # before Lambda's first and second retry
TARGET_BACKOFF_CAP_SECONDS = 300.0  # chosen: EventBridge documents exponential backoff with jitter, no figures
# How long a stop waits for the attempts under way (chosen: a handler of ours ends in well under this, and a stop
# must not hang on one that is stuck; the longest function Timeout, 90 s, would).
STOP_GRACE_SECONDS = 30.0
# Invoke errors EventBridge does not retry, and the ERROR_CODE it gives them; any other is retried.
NOT_RETRIED = {"ResourceNotFoundException": "NO_RESOURCE", "AccessDeniedException": "NO_PERMISSIONS",
                "AccessDenied": "NO_PERMISSIONS"}
_THROTTLED = {"TooManyRequestsException", "ThrottlingException"}
# EXHAUSTED_RETRY_CONDITION: the RetryPolicy field that ran out (rule targets and schedules alike).
RETRIES_EXHAUSTED, EVENT_AGE_EXHAUSTED = "MaximumRetryAttempts", "MaximumEventAgeInSeconds"


@dataclass(frozen=True)
class FunctionAsyncConfig:
    """A function's asynchronous-invocation configuration (SAM: EventInvokeConfig, DeadLetterQueue)."""

    maximum_retry_attempts: int = FUNCTION_RETRY_ATTEMPTS
    maximum_event_age_seconds: int = FUNCTION_EVENT_AGE_SECONDS
    on_failure_queue_arn: str | None = None
    dead_letter_queue_arn: str | None = None


@dataclass
class Delivery:
    """One event on its way to one Lambda target."""

    id: str
    rule_arn: str
    function_arn: str
    region: str
    event: dict[str, Any]
    received_at: float  # epoch seconds, when EventBridge took the event
    due_at: float  # epoch seconds of the next attempt
    target_retry_attempts: int = TARGET_RETRY_ATTEMPTS
    target_event_age_seconds: int = TARGET_EVENT_AGE_SECONDS
    dead_letter_queue_arn: str | None = None
    invoke_failures: int = 0  # calls EventBridge could not hand over
    invocations: int = 0  # times the function ran and failed

    @classmethod
    def for_target(cls, rule: Any, target: dict[str, Any], event: dict[str, Any]) -> Delivery:
        policy = target.get("RetryPolicy") or {}
        now = time.time()
        return cls(id=str(uuid.uuid4()), rule_arn=rule.arn, function_arn=target["Arn"], region=rule.region_name,
                   event=event, received_at=now, due_at=now,
                   target_retry_attempts=int(policy.get("MaximumRetryAttempts", TARGET_RETRY_ATTEMPTS)),
                   target_event_age_seconds=int(policy.get("MaximumEventAgeInSeconds", TARGET_EVENT_AGE_SECONDS)),
                   dead_letter_queue_arn=(target.get("DeadLetterConfig") or {}).get("Arn"))


class DeliveryFiles:
    def __init__(self, state_dir: Path) -> None:
        self.records = RecordFolder(state_dir / FOLDER)
        self.folder = self.records.folder

    def save(self, delivery: Delivery) -> None:
        self.records.save(delivery.id, dataclasses.asdict(delivery))

    def remove_partial_writes(self) -> None:
        """Records a kill interrupted while they were written: the previous ones stand."""
        self.records.remove_partial_writes()

    def done(self, delivery: Delivery) -> None:
        self.records.remove(delivery.id)

    def pending(self) -> list[Delivery]:
        """The records as they are (read-only: a running cloud may be replacing one)."""
        deliveries = [Delivery(**record) for record in self.records.records()]
        return sorted(deliveries, key=lambda delivery: delivery.received_at)


class Deliverer:
    """Runs each delivery on a thread of its own until it is done; `stop()` ends the waits (what is pending stays
    on disk for the next cloud) and waits for the attempts under way."""

    def __init__(self, files: DeliveryFiles, functions: dict[str, FunctionAsyncConfig], time_compression: float,
                 make_client: Callable[[str, str], Any], invoke: Invoke | None = None) -> None:
        self.files = files
        self.functions = functions
        self.time_compression = time_compression
        self.make_client = make_client  # (service, region) -> boto3 client
        # Lambda's Invoke (function ARN, region, payload) -> the Invoke response; by default through a client.
        self.invoke: Invoke = invoke or self._invoke_with_client
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()

    def accept(self, delivery: Delivery) -> None:
        """On disk first (the PutEvents that made it has not returned yet), then under way."""
        self.files.save(delivery)
        self._start(delivery)

    def resume(self) -> list[Delivery]:
        """At the start of a cloud (the folder's only writer): the deliveries an earlier one left go on."""
        self.files.remove_partial_writes()
        pending = self.files.pending()
        for delivery in pending:
            self._start(delivery)
        return pending

    def wait(self, timeout: float) -> bool:
        """Wait until every delivery under way has ended (deliveries they cause included); False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [thread for thread in self._threads if thread.is_alive()]
            if not pending:
                return True
            for thread in pending:
                thread.join(max(0.0, deadline - time.monotonic()))
            if time.monotonic() >= deadline:
                return False

    def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> bool:
        """No attempt starts from now on (what is pending stays on disk), and the attempts under way are waited for
        up to `grace_seconds`: an in-process handler left running would go on calling whatever stack its process
        serves next (moto's own mocks, or the next runtime's emulator, which knows none of its statements).
        False when one still runs after the grace (its thread cannot be stopped; its record stays on disk)."""
        self.stopping.set()
        if self.wait(grace_seconds):
            return True
        log.warning("deliveries still running %.0f s after the stop: %s", grace_seconds,
                    ", ".join(sorted(thread.name for thread in self._threads if thread.is_alive())))
        return False

    def _start(self, delivery: Delivery) -> None:
        thread = threading.Thread(target=self._deliver, args=(delivery,), name=f"event-{delivery.id[:8]}",
                                  daemon=True)
        with self._lock:
            self._threads.difference_update({done for done in self._threads if not done.is_alive()})
            self._threads.add(thread)
        thread.start()

    def _deliver(self, delivery: Delivery) -> None:
        try:
            while not self.stopping.wait(max(0.0, delivery.due_at - time.time())):
                if self._attempt(delivery):
                    self.files.done(delivery)
                    return
                self.files.save(delivery)
        except Exception:  # the record stays: the next cloud tries again
            log.exception("delivery %s of %s to %s failed", delivery.id, delivery.event.get("id"),
                          delivery.function_arn)

    def _age(self, delivery: Delivery) -> float:
        """The event's age in the schedule's seconds (the compressed clock)."""
        return (time.time() - delivery.received_at) * self.time_compression

    def _attempt(self, delivery: Delivery) -> bool:
        """One attempt; True once the delivery is done (delivered, dead-lettered or dropped)."""
        from botocore.exceptions import ClientError

        try:
            response = self.invoke(delivery.function_arn, delivery.region, json.dumps(delivery.event).encode())
        except ClientError as error:
            return self._invoke_failed(delivery, error.response["Error"].get("Code", ""),
                                       error.response["Error"].get("Message", str(error)))
        payload = response["Payload"].read().decode()
        if not response.get("FunctionError"):
            return True
        delivery.invocations += 1
        config = self.functions.get(delivery.function_arn, FunctionAsyncConfig())
        log.error("%s failed on event %s (attempt %d): %s", delivery.function_arn, delivery.event.get("id"),
                  delivery.invocations, payload)
        if self._age(delivery) >= config.maximum_event_age_seconds:
            return self._function_failed(delivery, config, "EventAgeExceeded", response, payload)
        if delivery.invocations > config.maximum_retry_attempts:
            return self._function_failed(delivery, config, "RetriesExhausted", response, payload)
        wait = FUNCTION_RETRY_WAITS_SECONDS[min(delivery.invocations, len(FUNCTION_RETRY_WAITS_SECONDS)) - 1]
        delivery.due_at = time.time() + wait / self.time_compression
        return False

    def _invoke_failed(self, delivery: Delivery, code: str, message: str) -> bool:
        log.error("could not invoke %s with event %s: %s %s", delivery.function_arn, delivery.event.get("id"),
                  code, message)
        if code in NOT_RETRIED:
            return self._dead_letter(delivery, NOT_RETRIED[code], message, exhausted=None)
        delivery.invoke_failures += 1
        if self._age(delivery) >= delivery.target_event_age_seconds:
            return self._dead_letter(delivery, rule_error_code(code), message, exhausted=EVENT_AGE_EXHAUSTED)
        if delivery.invoke_failures > delivery.target_retry_attempts:
            return self._dead_letter(delivery, rule_error_code(code), message, exhausted=RETRIES_EXHAUSTED)
        delivery.due_at = time.time() + retry_backoff_seconds(delivery.invoke_failures) / self.time_compression
        return False

    def _dead_letter(self, delivery: Delivery, code: str, message: str, exhausted: str | None) -> bool:
        """EventBridge's DLQ message: the event, with why it was not delivered."""
        if delivery.dead_letter_queue_arn is None:
            log.error("event %s to %s dropped (no dead-letter queue): %s", delivery.event.get("id"),
                      delivery.function_arn, code)
            return True
        attributes = {"RULE_ARN": delivery.rule_arn, "TARGET_ARN": delivery.function_arn, "ERROR_CODE": code,
                      "ERROR_MESSAGE": message[:1024]}
        if exhausted is not None:
            attributes |= {"EXHAUSTED_RETRY_CONDITION": exhausted, "RETRY_ATTEMPTS": str(delivery.invoke_failures - 1)}
        self._send(delivery.region, delivery.dead_letter_queue_arn, json.dumps(delivery.event), attributes)
        return True

    def _send(self, region: str, queue_arn: str, body: str, attributes: dict[str, str]) -> None:
        send_to_queue(self.make_client("sqs", region), queue_arn, body, attributes)

    def _function_failed(self, delivery: Delivery, config: FunctionAsyncConfig, condition: str,
                         response: dict[str, Any], payload: str) -> bool:
        """Lambda's on-failure destination (the invocation record) and dead-letter queue (the event)."""
        request_id = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amzn-requestid", "")
        if config.on_failure_queue_arn:
            record = {
                "version": "1.0",
                "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
                .replace("+00:00", "Z"),
                "requestContext": {"requestId": request_id, "functionArn": f"{delivery.function_arn}:$LATEST",
                                   "condition": condition, "approximateInvokeCount": delivery.invocations},
                "requestPayload": delivery.event,
                "responseContext": {"statusCode": response.get("StatusCode", 200),
                                    "executedVersion": response.get("ExecutedVersion", "$LATEST"),
                                    "functionError": response["FunctionError"]},
                "responsePayload": _parsed(payload),
            }
            self._send(delivery.region, config.on_failure_queue_arn, json.dumps(record), {})
        if config.dead_letter_queue_arn:
            error = _parsed(payload)
            self._send(delivery.region, config.dead_letter_queue_arn, json.dumps(delivery.event), {
                "RequestID": request_id, "ErrorCode": "200",
                "ErrorMessage": str(error.get("errorMessage", payload) if isinstance(error, dict) else payload)[:1024]})
        if not (config.on_failure_queue_arn or config.dead_letter_queue_arn):
            log.error("event %s to %s dropped after %d attempts (%s)", delivery.event.get("id"),
                      delivery.function_arn, delivery.invocations, condition)
        return True

    def _invoke_with_client(self, function_arn: str, region: str, payload: bytes) -> dict[str, Any]:
        return dict(self.make_client("lambda", region).invoke(
            FunctionName=function_arn, InvocationType="RequestResponse", Payload=payload))


def retry_backoff_seconds(failures: int) -> float:
    """The wait before the next try after `failures` failed ones: exponential, capped, with jitter."""
    return min(2.0 ** failures, TARGET_BACKOFF_CAP_SECONDS) * random.uniform(0.5, 1.0)


def send_to_queue(sqs: Any, queue_arn: str, body: str, attributes: dict[str, str]) -> None:
    """A dead-letter or failure message: `body`, with String message attributes."""
    account, name = queue_arn.split(":")[4], queue_arn.split(":")[5]
    url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes={
        key: {"DataType": "String", "StringValue": value} for key, value in attributes.items()})


def invoke_on_backend(function_arn: str, region: str, payload: bytes) -> dict[str, Any]:
    """EventBridge's call of the function, service to service: straight to moto's Lambda backend (the registered
    handler, within its limits), answered as a client's Invoke would be, without the client's request round trip
    (a new client, the request's serialisation and moto's dispatch cost tens of milliseconds of a statement event's
    completion delay)."""
    from botocore.exceptions import ClientError
    from moto.awslambda.models import lambda_backends
    from moto.core.exceptions import JsonRESTError

    headers: dict[str, str] = {}
    try:
        answer = lambda_backends[function_arn.split(":")[4]][region].invoke(
            function_arn, None, payload, {"X-Amz-Invocation-Type": "RequestResponse"}, headers)
    except JsonRESTError as error:
        raise ClientError({"Error": {"Code": error.error_type, "Message": error.message}}, "Invoke") from error
    body = answer if isinstance(answer, bytes) else str(answer or "").encode()
    response: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": io.BytesIO(body),
                                "ResponseMetadata": {"HTTPHeaders": {
                                    "x-amzn-requestid": headers.get("x-amzn-requestid", str(uuid.uuid4()))}}}
    if headers.get("x-amz-function-error"):
        response["FunctionError"] = headers["x-amz-function-error"]
    return response


def rule_error_code(code: str) -> str:
    """The ERROR_CODE EventBridge gives a retriable failure of a rule target's call."""
    return "THROTTLING" if code in _THROTTLED else "SDK_CLIENT_ERROR"


def _parsed(payload: str) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload


def function_async_configs(template: Any, resolver: Any) -> dict[str, FunctionAsyncConfig]:
    """Each function's EventInvokeConfig and DeadLetterQueue from template.yaml, by function ARN. A destination that
    is not an SQS queue is not supported locally (refused, rather than dropped in silence)."""
    configs: dict[str, FunctionAsyncConfig] = {}
    for logical_id, resource in template.resources("AWS::Serverless::Function").items():
        properties = resolver.resolve({key: value for key, value in resource.get("Properties", {}).items()
                                       if key in ("EventInvokeConfig", "DeadLetterQueue")})
        invoke = properties.get("EventInvokeConfig") or {}
        on_failure = (invoke.get("DestinationConfig") or {}).get("OnFailure") or {}
        dead_letter = properties.get("DeadLetterQueue") or {}
        for kind, what in ((on_failure.get("Type"), "OnFailure destination"), (dead_letter.get("Type"),
                                                                                  "DeadLetterQueue")):
            if kind not in (None, "SQS"):
                raise ValueError(f"not supported locally: {logical_id}'s {what} of type {kind} (SQS only)")
        arn = str(resolver.resolve({"Fn::GetAtt": [logical_id, "Arn"]}))
        configs[arn] = FunctionAsyncConfig(
            maximum_retry_attempts=int(invoke.get("MaximumRetryAttempts", FUNCTION_RETRY_ATTEMPTS)),
            maximum_event_age_seconds=int(invoke.get("MaximumEventAgeInSeconds", FUNCTION_EVENT_AGE_SECONDS)),
            on_failure_queue_arn=on_failure.get("Destination"), dead_letter_queue_arn=dead_letter.get("TargetArn"))
    return configs
