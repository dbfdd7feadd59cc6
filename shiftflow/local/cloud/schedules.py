"""The template's schedules, run by the local cloud when asked (`shiftflow up --schedules`), time compressed.

Every `Schedule` (an EventBridge rule) / `ScheduleV2` (an EventBridge Scheduler schedule) event of a state machine or
function in template.yaml fires as AWS fires it, starting an execution (or invoking the function) with the event's
Input: a rate(...) first one period after the cloud started, then every period; a cron(...) at each minute its
fields match, on the wall clock of its ScheduleExpressionTimezone (UTC unless told; shiftflow.local.cloud.cron).
Locally they run whatever their State says in the template (off by default there, so that a stack does not run up a
bill): asking for --schedules is turning them on. Time compression runs a clock that starts at the cloud's start
and goes `time_compression` times faster than the wall's: `cron(0 3 * * ? *)` compressed 86400x fires once a
second. A firing while the previous run still holds the guard ends "skipped: already running", exactly as on AWS.
An expression EventBridge refuses stops the cloud's start with EventBridge's error message.

A firing whose start call fails is retried with exponential backoff and jitter (shiftflow.local.cloud.deliveries
.retry_backoff_seconds) within the event's RetryPolicy (defaults 185 attempts and 86,400 s, both kinds), its age
measured on the compressed clock from the moment it was due; then it goes to the DeadLetterConfig queue, the body
being the Input the target was to get:
- ScheduleV2 (EventBridge Scheduler user guide, "Configuring a dead-letter queue"): every failure is retried, and
  the message attributes are ERROR_CODE (the target API's error code), ERROR_MESSAGE, EXECUTION_ID (one per firing,
  the same across its retries), EXHAUSTED_RETRY_CONDITION (MaximumRetryAttempts or MaximumEventAge), RETRY_ATTEMPTS,
  SCHEDULE_ARN and TARGET_ARN;
- Schedule (EventBridge user guide, "Event retry policy and using dead-letter queues"): a missing target or
  permission is not retried, and the attributes are those of any rule target (shiftflow.local.cloud.deliveries).
Without a dead-letter queue the firing is logged and dropped. Retries waiting when the cloud stops are not kept: the
next cloud's schedules start afresh.
"""

from __future__ import annotations

import datetime
import heapq
import itertools
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from shiftflow.local.cloud.cron import (INVALID, InvalidScheduleExpression, ScheduleNotSupported, parse_cron,
                                        time_zone)
from shiftflow.local.cloud.deliveries import NOT_RETRIED, retry_backoff_seconds, rule_error_code, send_to_queue

log = logging.getLogger("shiftflow.cloud.schedules")

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_TARGET_TYPES = ("AWS::Serverless::StateMachine", "AWS::Serverless::Function")
SCHEDULER, RULE = "ScheduleV2", "Schedule"  # the SAM event types: an EventBridge Scheduler schedule, a rule
# RetryPolicy defaults (both services) and EventBridge Scheduler's ranges (CreateSchedule refuses others).
RETRY_ATTEMPTS, EVENT_AGE_SECONDS = 185, 86_400
_RETRY_ATTEMPTS_RANGE, _EVENT_AGE_RANGE = (0, 185), (60, 86_400)


class Timing(Protocol):
    def next_after(self, moment: datetime.datetime) -> datetime.datetime | None: ...


@dataclass(frozen=True)
class Rate:
    period_seconds: float

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        return moment + datetime.timedelta(seconds=self.period_seconds)


@dataclass(frozen=True)
class Schedule:
    name: str
    target_arn: str
    expression: str
    input: str
    timezone: str = "UTC"
    kind: str = SCHEDULER
    arn: str = ""  # the schedule's (SCHEDULE_ARN) or the rule's (RULE_ARN)
    retry_attempts: int = RETRY_ATTEMPTS
    event_age_seconds: int = EVENT_AGE_SECONDS
    dead_letter_arn: str | None = None

    @property
    def timing(self) -> Timing:
        return schedule_timing(self.expression, self.timezone)


def rate_seconds(expression: str) -> float:
    """`rate(5 minutes)` -> 300.0; AWS's grammar: a value of 1 takes the singular unit, any other the plural."""
    match = _RATE.match(expression.strip())
    if not match:
        raise InvalidScheduleExpression(f"{INVALID} {expression!r}: rate(<value> <minute|minutes|hour|hours|day|days>)")
    value, unit = int(match.group(1)), match.group(2)
    if value < 1 or (value == 1) != (not unit.endswith("s")):
        raise InvalidScheduleExpression(f"{INVALID} {expression!r}: use rate(1 {unit.rstrip('s')}) "
                                        f"or rate({max(value, 2)} {unit.rstrip('s')}s)")
    return float(value * _UNIT_SECONDS[unit.rstrip("s")])


def schedule_timing(expression: str, timezone: str = "UTC") -> Timing:
    """The timing of a rate(...) or cron(...) expression (a cron read in `timezone`); InvalidScheduleExpression for
    anything else. A rate is a fixed duration whatever the zone ("Schedule types": a day is 24 hours)."""
    text = expression.strip()
    zone = time_zone(timezone)
    if text.startswith("cron("):
        return parse_cron(text, zone)
    if text.startswith("rate("):
        return Rate(rate_seconds(text))
    if text.startswith("at("):
        raise ScheduleNotSupported(f"not supported locally: one-time schedule {expression!r}")
    raise InvalidScheduleExpression(f"{INVALID} {expression!r}: rate(...) or cron(...)")


def template_schedules(template: Any, resolver: Any) -> list[Schedule]:
    region, account = resolver.resolve({"Ref": "AWS::Region"}), resolver.resolve({"Ref": "AWS::AccountId"})
    schedules: list[Schedule] = []
    for resource_type in _TARGET_TYPES:
        for logical_id, resource in template.resources(resource_type).items():
            for event_id, event in resource.get("Properties", {}).get("Events", {}).items():
                kind = event.get("Type")
                if kind not in (SCHEDULER, RULE):
                    continue
                properties = resolver.resolve(event.get("Properties", {}))
                name = f"{logical_id}-{event_id}"
                where = f"{logical_id}.{event_id}"
                expression = str(properties["ScheduleExpression"])
                timezone = str(properties.get("ScheduleExpressionTimezone", "UTC"))
                schedule_timing(expression, timezone)  # refused now, when the schedules start, as AWS refuses it
                policy = properties.get("RetryPolicy") or {}
                schedules.append(Schedule(
                    name=name,
                    target_arn=str(resolver.resolve({"Fn::GetAtt": [logical_id, "Arn"]})),
                    expression=expression,
                    input=str(properties.get("Input", "{}")),
                    timezone=timezone,
                    kind=kind,
                    arn=(f"arn:aws:scheduler:{region}:{account}:schedule/default/{name}" if kind == SCHEDULER
                         else f"arn:aws:events:{region}:{account}:rule/{name}"),
                    retry_attempts=_policy_value(policy, "MaximumRetryAttempts", RETRY_ATTEMPTS,
                                                 _RETRY_ATTEMPTS_RANGE, where),
                    event_age_seconds=_policy_value(policy, "MaximumEventAgeInSeconds", EVENT_AGE_SECONDS,
                                                    _EVENT_AGE_RANGE, where),
                    dead_letter_arn=_dead_letter_arn(properties.get("DeadLetterConfig"), where),
                ))
    return schedules


def _policy_value(policy: dict[str, Any], key: str, default: int, bounds: tuple[int, int], where: str) -> int:
    value = int(policy.get(key, default))
    if not bounds[0] <= value <= bounds[1]:
        raise ValueError(f"{where}: RetryPolicy {key} {value} is out of its range {bounds[0]}-{bounds[1]}")
    return value


def _dead_letter_arn(config: dict[str, Any] | None, where: str) -> str | None:
    if not config:
        return None
    if "Arn" not in config:  # SAM's Type: SQS makes a queue of its own: not one the local cloud creates
        raise ScheduleNotSupported(f"not supported locally: {where}'s DeadLetterConfig without an Arn "
                                   "(name a queue of the template)")
    return str(config["Arn"])


@dataclass
class _Firing:
    """One firing of a schedule, until its target is started or it is dead-lettered."""

    schedule: Schedule
    due_at: datetime.datetime  # on the compressed clock: when the schedule fired
    attempt_due_at: datetime.datetime  # when its latest attempt was due (a late wake-up does not age it)
    execution_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    failures: int = 0


class Scheduler:
    """One thread for all schedules; `stop()` ends it (a firing under way completes its start call).
    `origin`: the compressed clock's time when it starts (now, unless told)."""

    def __init__(self, schedules: list[Schedule], time_compression: float, make_client: Any,
                 origin: datetime.datetime | None = None) -> None:
        if time_compression <= 0:
            raise ValueError("the time compression must be positive")
        self.schedules = schedules
        self.time_compression = time_compression
        self.make_client = make_client
        self.origin = origin or datetime.datetime.now(datetime.timezone.utc)
        self.fired: list[tuple[str, str]] = []  # (schedule, execution ARN or function) in firing order
        self.fired_at: list[datetime.datetime] = []  # the compressed clock's time each of them was due
        self.dead_lettered: list[tuple[str, dict[str, str]]] = []  # (schedule, the message's attributes)
        self._started = time.monotonic()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-cloud-schedules", daemon=True)

    def start(self) -> None:
        for schedule in self.schedules:
            log.info("schedule %s: %s %s (time compressed %gx) -> %s", schedule.name, schedule.expression,
                     schedule.timezone, self.time_compression, schedule.target_arn)
        self._started = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def now(self) -> datetime.datetime:
        """The compressed clock."""
        return self.origin + datetime.timedelta(seconds=(time.monotonic() - self._started) * self.time_compression)

    def _run(self) -> None:
        timings = {schedule.name: schedule.timing for schedule in self.schedules}
        next_firing = {name: timing.next_after(self.origin) for name, timing in timings.items()}
        retries: list[tuple[datetime.datetime, int, _Firing]] = []  # a heap, by when each is tried again
        order = itertools.count()
        while True:
            pending = {name: moment for name, moment in next_firing.items() if moment is not None}
            if not pending and not retries:
                return  # every schedule is past its last firing (a cron's years ran out)
            name = min(pending, key=pending.__getitem__) if pending else None
            retry_first = bool(retries) and (name is None or retries[0][0] < pending[name])
            due = retries[0][0] if retry_first else pending[name]  # type: ignore[index]
            if self._stopping.wait(max(0.0, (due - self.now()).total_seconds() / self.time_compression)):
                return
            if retry_first:
                firing = heapq.heappop(retries)[2]
                firing.attempt_due_at = due
            else:
                schedule = next(schedule for schedule in self.schedules if schedule.name == name)
                firing = _Firing(schedule, due, due)
                next_firing[schedule.name] = timings[schedule.name].next_after(due)
            retry_at = self._attempt(firing)
            if retry_at is not None:
                heapq.heappush(retries, (retry_at, next(order), firing))

    def _attempt(self, firing: _Firing) -> datetime.datetime | None:
        """Start the firing's target; when that fails, when to try again (None: done, started or dead-lettered)."""
        from botocore.exceptions import ClientError

        schedule = firing.schedule
        try:
            started = self._fire(schedule)
        except ClientError as error:
            return self._failed(firing, error.response["Error"].get("Code", ""),
                                error.response["Error"].get("Message", str(error)))
        except Exception as error:  # noqa: BLE001 - a call that could not be made (connection, ...) is retried too
            return self._failed(firing, type(error).__name__, str(error))
        self.fired_at.append(firing.due_at)
        self.fired.append((schedule.name, started))
        return None

    def _failed(self, firing: _Firing, code: str, message: str) -> datetime.datetime | None:
        schedule = firing.schedule
        firing.failures += 1
        log.error("schedule %s could not start %s (attempt %d): %s %s", schedule.name, schedule.target_arn,
                  firing.failures, code, message)
        if schedule.kind == RULE and code in NOT_RETRIED:
            self._dead_letter(firing, NOT_RETRIED[code], message, exhausted=None)
            return None
        if firing.failures > schedule.retry_attempts:
            self._dead_letter(firing, code, message, exhausted="MaximumRetryAttempts")
            return None
        # From when the attempt was due, not when the thread woke: time compression would make a few milliseconds
        # of the thread's lateness minutes of the event's age.
        retry_at = firing.attempt_due_at + datetime.timedelta(seconds=retry_backoff_seconds(firing.failures))
        if (retry_at - firing.due_at).total_seconds() > schedule.event_age_seconds:
            self._dead_letter(firing, code, message, exhausted="MaximumEventAge")
            return None
        return retry_at

    def _dead_letter(self, firing: _Firing, code: str, message: str, exhausted: str | None) -> None:
        schedule = firing.schedule
        if schedule.kind == SCHEDULER:
            attributes = {"ERROR_CODE": code, "ERROR_MESSAGE": message[:1024], "EXECUTION_ID": firing.execution_id,
                          "SCHEDULE_ARN": schedule.arn, "TARGET_ARN": schedule.target_arn}
        else:
            attributes = {"RULE_ARN": schedule.arn, "TARGET_ARN": schedule.target_arn,
                          "ERROR_CODE": code if exhausted is None else rule_error_code(code),
                          "ERROR_MESSAGE": message[:1024]}
        if exhausted is not None:
            attributes |= {"EXHAUSTED_RETRY_CONDITION": exhausted, "RETRY_ATTEMPTS": str(firing.failures - 1)}
        if schedule.dead_letter_arn is None:
            log.error("schedule %s: firing %s dropped (no dead-letter queue): %s", schedule.name,
                      firing.execution_id, code)
            return
        try:
            send_to_queue(self.make_client("sqs"), schedule.dead_letter_arn, schedule.input, attributes)
        except Exception:  # noqa: BLE001 - as on AWS, a dead letter that cannot be sent is lost; said in the log
            log.exception("schedule %s: could not send firing %s to %s", schedule.name, firing.execution_id,
                          schedule.dead_letter_arn)
            return
        self.dead_lettered.append((schedule.name, attributes))
        log.warning("schedule %s: firing %s sent to the dead-letter queue %s (%s)", schedule.name,
                    firing.execution_id, schedule.dead_letter_arn, exhausted or code)

    def _fire(self, schedule: Schedule) -> str:
        if ":states:" in schedule.target_arn:
            arn = self.make_client("stepfunctions").start_execution(
                stateMachineArn=schedule.target_arn, input=schedule.input)["executionArn"]
            log.info("schedule %s started %s", schedule.name, arn)
            return arn
        self.make_client("lambda").invoke(FunctionName=schedule.target_arn, InvocationType="Event",
                                          Payload=schedule.input.encode())
        log.info("schedule %s invoked %s", schedule.name, schedule.target_arn)
        return schedule.target_arn
