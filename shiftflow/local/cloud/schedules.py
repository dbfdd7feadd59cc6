"""The template's schedules, run by the local cloud when asked (`shiftflow up --schedules`), time compressed.

Every `Schedule` (an EventBridge rule) / `ScheduleV2` (an EventBridge Scheduler schedule) event of a state machine or
function in template.yaml fires as AWS fires it, starting an execution (or invoking the function) with the event's
Input: a ScheduleV2's rate(...) without a StartDate at once when the cloud starts ("If you do not provide a
StartDate for your rate-based schedule, your schedule starts invoking the target immediately", EventBridge Scheduler
user guide, "Schedule types"), a rule's rate(...) one period after, then every period; a cron(...) at each minute its
fields match, on the wall clock of its ScheduleExpressionTimezone (UTC unless told; shiftflow.local.cloud.cron).
Locally they run whatever their State says in the template (off by default there, so that a stack does not run up a
bill): asking for --schedules is turning them on. Time compression runs a clock that starts at the cloud's start
and goes `time_compression` times faster than the wall's: `cron(0 3 * * ? *)` compressed 86400x fires once a
second. A firing while the previous run still holds the guard ends "skipped: already running", exactly as on AWS.
An expression EventBridge refuses stops the cloud's start with EventBridge's error message.

A ScheduleV2's window (EventBridge Scheduler, CreateSchedule): no firing before its StartDate (a rate's first firing
is at StartDate, the next ones a period apart from it: "set the first occurrence"), none at or after its EndDate
("the date before which the schedule can invoke its target"; a firing the window delays past it still goes), and a
FlexibleTimeWindow in FLEXIBLE mode invokes the target at a random moment within MaximumWindowInMinutes after each
firing's time (the window compressed with the clock; the randomness seeded by the schedule's ARN, so a schedule's
delays are the same every run). A StartDate more than 5 minutes past is refused as CreateSchedule refuses it: the
local cloud creates its schedules afresh at each start, as a new deployment would. SAM's `Schedule` has none of
these properties: given one, it is refused as SAM refuses an unknown property.

A firing whose start call fails is retried with exponential backoff and jitter (shiftflow.local.cloud.deliveries
.retry_backoff_seconds) within the event's RetryPolicy (defaults 185 attempts and 86,400 s, both kinds), its age
measured on the compressed clock from the moment it was first due; then it goes to the DeadLetterConfig queue (an
`Arn`, or the queue SAM generates for `Type: SQS`, shiftflow.local.template.sam_dead_letter_queue), the body being
the Input the target was to get:
- ScheduleV2 (EventBridge Scheduler user guide, "Configuring a dead-letter queue"): every failure is retried, and
  the message attributes are ERROR_CODE (the target API's error code), ERROR_MESSAGE, EXECUTION_ID (16 characters,
  one per firing, the same across its retries), EXHAUSTED_RETRY_CONDITION (MaximumRetryAttempts or
  MaximumEventAgeInSeconds), IS_PAYLOAD_TRUNCATED, RETRY_ATTEMPTS, SCHEDULED_TIME, SCHEDULE_ARN and TARGET_ARN;
- Schedule (EventBridge user guide, "Event retry policy and using dead-letter queues"): a missing target or
  permission is not retried, and the attributes are those of any rule target (shiftflow.local.cloud.deliveries).
Without a dead-letter queue the firing is logged and dropped.

Each firing not yet done is a record <state>/schedule-firings/<execution id>.json (shiftflow.durable_files
.RecordFolder), written when the firing is due, before its first attempt, and after every failed one; removed once
its target started or it was dead-lettered. A cloud that starts carries them on (whether or not it runs the
schedules: the firings happened): at least once, as EventBridge Scheduler delivers (an attempt a kill interrupted
runs again). Times on disk are the wall clock's, so that the time a cloud was down counts in an event's age (times
the cloud's compression): a firing older than its MaximumEventAgeInSeconds is dead-lettered (or dropped) at once.
"""

from __future__ import annotations

import datetime
import heapq
import itertools
import logging
import math
import random
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from shiftflow.durable_files import RecordFolder
from shiftflow.local.cloud.cron import (INVALID, InvalidScheduleExpression, ScheduleNotSupported, parse_cron,
                                        time_zone)
from shiftflow.local.cloud.deliveries import (EVENT_AGE_EXHAUSTED, NOT_RETRIED, RETRIES_EXHAUSTED,
                                              retry_backoff_seconds, rule_error_code, send_to_queue)
from shiftflow.local.template import sam_dead_letter_arn, schedule_name

log = logging.getLogger("shiftflow.cloud.schedules")

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_TARGET_TYPES = ("AWS::Serverless::StateMachine", "AWS::Serverless::Function")
SCHEDULER, RULE = "ScheduleV2", "Schedule"  # the SAM event types: an EventBridge Scheduler schedule, a rule
_EXPRESSION_PROPERTY = {SCHEDULER: "ScheduleExpression", RULE: "Schedule"}
_SCHEDULER_ONLY = ("StartDate", "EndDate", "FlexibleTimeWindow")  # SAM's ScheduleV2 has them, its Schedule does not
# RetryPolicy defaults (both services) and EventBridge Scheduler's ranges (CreateSchedule refuses others).
RETRY_ATTEMPTS, EVENT_AGE_SECONDS = 185, 86_400
_RETRY_ATTEMPTS_RANGE, _EVENT_AGE_RANGE = (0, 185), (60, 86_400)
_FLEXIBLE_WINDOW_MINUTES = (1, 1440)  # FlexibleTimeWindow MaximumWindowInMinutes (CreateSchedule)
_START_DATE_GRACE = datetime.timedelta(minutes=5)
FIRINGS_FOLDER = "schedule-firings"
_ONE_TICK = datetime.timedelta(microseconds=1)


class InvalidSchedule(ValueError):
    """A schedule property EventBridge Scheduler (or SAM) refuses."""


class Timing(Protocol):
    def next_after(self, moment: datetime.datetime) -> datetime.datetime | None: ...


@dataclass(frozen=True)
class Rate:
    period_seconds: float

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        return moment + datetime.timedelta(seconds=self.period_seconds)

    def first_from(self, anchor: datetime.datetime, moment: datetime.datetime) -> datetime.datetime:
        """The first of anchor, anchor + period, ... at or after `moment`."""
        periods = max(0, math.ceil((moment - anchor).total_seconds() / self.period_seconds))
        return anchor + datetime.timedelta(seconds=periods * self.period_seconds)


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
    start_date: datetime.datetime | None = None
    end_date: datetime.datetime | None = None
    flexible_window_seconds: float = 0.0  # FlexibleTimeWindow FLEXIBLE: MaximumWindowInMinutes; OFF: 0

    @property
    def timing(self) -> Timing:
        return schedule_timing(self.expression, self.timezone)

    def first_firing(self, origin: datetime.datetime) -> datetime.datetime | None:
        """The first firing on a clock that starts at `origin` (None: none, its EndDate is past)."""
        timing = self.timing
        if isinstance(timing, Rate) and self.start_date is not None:  # its first occurrence, the next a period apart
            return self._before_end(timing.first_from(self.start_date, origin))
        if isinstance(timing, Rate) and self.kind == SCHEDULER:  # no StartDate: it starts invoking immediately
            return self._before_end(origin)
        if self.start_date is None or self.start_date <= origin:
            return self._before_end(timing.next_after(origin))
        return self._before_end(timing.next_after(self.start_date - _ONE_TICK))  # the first match from StartDate

    def next_firing(self, fired: datetime.datetime) -> datetime.datetime | None:
        return self._before_end(self.timing.next_after(fired))

    def _before_end(self, moment: datetime.datetime | None) -> datetime.datetime | None:
        return None if moment is None or (self.end_date is not None and moment >= self.end_date) else moment


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


def template_schedules(template: Any, resolver: Any, now: datetime.datetime | None = None) -> list[Schedule]:
    """The template's schedules, refused as CreateSchedule (PutRule) and SAM refuse them; `now`: when they are
    created (the wall clock's now unless told), against which a StartDate is checked."""
    region, account = resolver.resolve({"Ref": "AWS::Region"}), resolver.resolve({"Ref": "AWS::AccountId"})
    now = now or datetime.datetime.now(datetime.timezone.utc)
    schedules: list[Schedule] = []
    for resource_type in _TARGET_TYPES:
        for logical_id, resource in template.resources(resource_type).items():
            for event_id, event in resource.get("Properties", {}).get("Events", {}).items():
                kind = event.get("Type")
                if kind in (SCHEDULER, RULE):
                    schedules.append(_template_schedule(logical_id, event_id, kind, resolver.resolve(
                        event.get("Properties", {})), resolver, f"arn:aws:{{}}:{region}:{account}:", now))
    return schedules


def _template_schedule(logical_id: str, event_id: str, kind: str, properties: dict[str, Any], resolver: Any,
                       arn_prefix: str, now: datetime.datetime) -> Schedule:
    name, where = schedule_name(logical_id, event_id), f"{logical_id}.{event_id}"
    if kind == RULE:
        for key in _SCHEDULER_ONLY:
            if key in properties:
                raise InvalidSchedule(f"Event with id [{logical_id}{event_id}] is invalid. property {key} not "
                                      f"defined for resource of type {RULE} (SAM: a {SCHEDULER} property)")
    expression = str(properties[_EXPRESSION_PROPERTY[kind]])
    timezone = str(properties.get("ScheduleExpressionTimezone", "UTC"))
    schedule_timing(expression, timezone)  # refused now, when the schedules start, as AWS refuses it
    policy = properties.get("RetryPolicy") or {}
    start, end = _date(properties, "StartDate", where), _date(properties, "EndDate", where)
    if start is not None and start < now - _START_DATE_GRACE:
        raise InvalidSchedule(f"{where}: StartDate {properties['StartDate']}: ValidationException: "
                              "The StartDate you specify cannot be earlier than 5 minutes ago.")
    if start is not None and end is not None and end <= start:
        raise InvalidSchedule(f"{where}: EndDate {properties['EndDate']} is not after StartDate "
                              f"{properties['StartDate']}")
    config = properties.get("DeadLetterConfig")
    return Schedule(
        name=name,
        target_arn=str(resolver.resolve({"Fn::GetAtt": [logical_id, "Arn"]})),
        expression=expression,
        input=str(properties.get("Input", "{}")),
        timezone=timezone,
        kind=kind,
        arn=(arn_prefix.format("scheduler") + f"schedule/default/{name}" if kind == SCHEDULER
             else arn_prefix.format("events") + f"rule/{name}"),
        retry_attempts=_policy_value(policy, "MaximumRetryAttempts", RETRY_ATTEMPTS, _RETRY_ATTEMPTS_RANGE, where),
        event_age_seconds=_policy_value(policy, "MaximumEventAgeInSeconds", EVENT_AGE_SECONDS, _EVENT_AGE_RANGE,
                                        where),
        dead_letter_arn=(None if config is None
                         else str(resolver.resolve(sam_dead_letter_arn(logical_id + event_id, config)))),
        start_date=start,
        end_date=end,
        flexible_window_seconds=_flexible_window_seconds(properties.get("FlexibleTimeWindow"), where),
    )


def _policy_value(policy: dict[str, Any], key: str, default: int, bounds: tuple[int, int], where: str) -> int:
    value = int(policy.get(key, default))
    if not bounds[0] <= value <= bounds[1]:
        raise InvalidSchedule(f"{where}: RetryPolicy {key} {value} is out of its range {bounds[0]}-{bounds[1]}")
    return value


def _date(properties: dict[str, Any], key: str, where: str) -> datetime.datetime | None:
    """A StartDate or EndDate: an ISO 8601 date and time, in UTC unless it gives its offset."""
    if key not in properties:
        return None
    value = properties[key]
    try:
        moment = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidSchedule(f"{where}: {key} {value!r} is not a date and time (ISO 8601, such as "
                              "2030-01-01T01:00:00Z)") from None
    return moment.replace(tzinfo=datetime.timezone.utc) if moment.tzinfo is None else moment


def _flexible_window_seconds(window: dict[str, Any] | None, where: str) -> float:
    """FlexibleTimeWindow (SAM's default: Mode OFF): Mode FLEXIBLE needs MaximumWindowInMinutes, 1-1440."""
    if window is None:
        return 0.0
    mode, minutes = window.get("Mode"), window.get("MaximumWindowInMinutes")
    if mode == "OFF" and minutes is None:
        return 0.0
    if mode != "FLEXIBLE":
        raise InvalidSchedule(f"{where}: FlexibleTimeWindow {window}: Mode OFF (without MaximumWindowInMinutes) "
                              "or FLEXIBLE")
    low, high = _FLEXIBLE_WINDOW_MINUTES
    if minutes is None or not low <= int(minutes) <= high:
        raise InvalidSchedule(f"{where}: FlexibleTimeWindow Mode FLEXIBLE needs MaximumWindowInMinutes "
                              f"{low}-{high}, not {minutes}")
    return int(minutes) * 60.0


def firing_records(state_dir: Path) -> RecordFolder:
    """Where a cloud keeps the firings not yet done (shiftflow.local.cloud.server)."""
    return RecordFolder(state_dir / FIRINGS_FOLDER)


@dataclass
class _Firing:
    """One firing of a schedule, until its target is started or it is dead-lettered."""

    schedule: Schedule
    scheduled_time: datetime.datetime  # the firing's time as its schedule reckons it (SCHEDULED_TIME)
    due_at: datetime.datetime  # on this scheduler's clock: when its first attempt was due (its age counts from it)
    attempt_due_at: datetime.datetime  # when its latest attempt was due (a late wake-up does not age it)
    execution_id: str
    failures: int = 0
    error_code: str = ""
    error_message: str = ""


_FIRE, _ATTEMPT = 0, 1  # what a moment of the scheduler's queue is for: a schedule's firing, a firing's attempt


class Scheduler:
    """One thread for all schedules; `stop()` ends it (a firing under way completes its start call).
    `origin`: the compressed clock's time when it starts (now, unless told). `firings`: where the firings not yet
    done are kept (none: in memory only), and resumed from when it starts, for the schedules of `known` (by name;
    `schedules` unless told: a cloud without --schedules still carries on the firings an earlier one left)."""

    def __init__(self, schedules: list[Schedule], time_compression: float, make_client: Any,
                 origin: datetime.datetime | None = None, firings: RecordFolder | None = None,
                 known: list[Schedule] | None = None) -> None:
        if time_compression <= 0:
            raise ValueError("the time compression must be positive")
        self.schedules = schedules
        self.time_compression = time_compression
        self.make_client = make_client
        self.origin = origin or datetime.datetime.now(datetime.timezone.utc)
        self.firings = firings
        self.known = {schedule.name: schedule for schedule in (schedules if known is None else known)}
        self.fired: list[tuple[str, str]] = []  # (schedule, execution ARN or function) in firing order
        self.fired_at: list[datetime.datetime] = []  # the scheduled time of each of them
        self.invoked_at: list[datetime.datetime] = []  # the compressed clock's time each of them was due
        self.dead_lettered: list[tuple[str, dict[str, str]]] = []  # (schedule, the message's attributes)
        self.resumed: list[str] = []  # the execution ids of the firings carried on from disk
        # One generator per schedule, seeded by the schedule: the flexible windows' delays are the same every run.
        self._flexible = {schedule.name: random.Random(schedule.arn or schedule.name) for schedule in schedules}
        self._started = time.monotonic()
        self._started_wall = time.time()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-cloud-schedules", daemon=True)

    def start(self) -> None:
        for schedule in self.schedules:
            log.info("schedule %s: %s %s (time compressed %gx) -> %s", schedule.name, schedule.expression,
                     schedule.timezone, self.time_compression, schedule.target_arn)
        self._started, self._started_wall = time.monotonic(), time.time()
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def join(self, timeout: float) -> bool:
        """Wait until every schedule is past its last firing (EndDate, a cron's years) and no firing is left;
        False on timeout."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def now(self) -> datetime.datetime:
        """The compressed clock."""
        return self.origin + datetime.timedelta(seconds=(time.monotonic() - self._started) * self.time_compression)

    def _run(self) -> None:
        queue: list[tuple[datetime.datetime, int, int, Any]] = []  # a heap: (when, order, _FIRE or _ATTEMPT, what)
        order = itertools.count()
        for schedule in self.schedules:
            first = schedule.first_firing(self.origin)
            if first is not None:
                heapq.heappush(queue, (first, next(order), _FIRE, schedule))
        for firing in self._resume():
            heapq.heappush(queue, (firing.attempt_due_at, next(order), _ATTEMPT, firing))
        while queue:  # empty: every schedule is past its last firing (its EndDate, a cron's years) and none waits
            due = queue[0][0]
            if self._stopping.wait(max(0.0, (due - self.now()).total_seconds() / self.time_compression)):
                return
            _, _, what, item = heapq.heappop(queue)
            if what == _FIRE:
                firing = self._fire(item, due)
                heapq.heappush(queue, (firing.attempt_due_at, next(order), _ATTEMPT, firing))
                later = item.next_firing(due)
                if later is not None:
                    heapq.heappush(queue, (later, next(order), _FIRE, item))
                continue
            item.attempt_due_at = due
            retry_at = self._attempt(item)
            if retry_at is not None:
                heapq.heappush(queue, (retry_at, next(order), _ATTEMPT, item))

    def _fire(self, schedule: Schedule, due: datetime.datetime) -> _Firing:
        """A firing at its scheduled time: its first attempt comes at once, or within its flexible window."""
        delay = self._flexible[schedule.name].uniform(0.0, schedule.flexible_window_seconds)
        attempt = due + datetime.timedelta(seconds=delay)
        firing = _Firing(schedule, scheduled_time=due, due_at=attempt, attempt_due_at=attempt,
                         execution_id=secrets.token_hex(8))
        self._save(firing)
        return firing

    def _attempt(self, firing: _Firing) -> datetime.datetime | None:
        """Start the firing's target; when that fails, when to try again (None: done, started or dead-lettered)."""
        from botocore.exceptions import ClientError

        schedule = firing.schedule
        try:
            started = self._start_target(schedule)
        except ClientError as error:
            return self._failed(firing, error.response["Error"].get("Code", ""),
                                error.response["Error"].get("Message", str(error)))
        except Exception as error:  # noqa: BLE001 - a call that could not be made (connection, ...) is retried too
            return self._failed(firing, type(error).__name__, str(error))
        self._done(firing)
        self.fired_at.append(firing.scheduled_time)
        self.invoked_at.append(firing.attempt_due_at)
        self.fired.append((schedule.name, started))
        return None

    def _failed(self, firing: _Firing, code: str, message: str) -> datetime.datetime | None:
        schedule = firing.schedule
        firing.failures += 1
        firing.error_code, firing.error_message = code, message
        log.error("schedule %s could not start %s (attempt %d): %s %s", schedule.name, schedule.target_arn,
                  firing.failures, code, message)
        if schedule.kind == RULE and code in NOT_RETRIED:
            self._dead_letter(firing, exhausted=None)
            return None
        if firing.failures > schedule.retry_attempts:
            self._dead_letter(firing, exhausted=RETRIES_EXHAUSTED)
            return None
        # From when the attempt was due, not when the thread woke: time compression would make a few milliseconds
        # of the thread's lateness minutes of the event's age.
        retry_at = firing.attempt_due_at + datetime.timedelta(seconds=retry_backoff_seconds(firing.failures))
        if (retry_at - firing.due_at).total_seconds() > schedule.event_age_seconds:
            self._dead_letter(firing, exhausted=EVENT_AGE_EXHAUSTED)
            return None
        firing.attempt_due_at = retry_at
        self._save(firing)
        return retry_at

    def _dead_letter(self, firing: _Firing, exhausted: str | None) -> None:
        """The firing's Input to its dead-letter queue with why, then its record goes (a kill between the two sends
        it again: at least once)."""
        schedule, message = firing.schedule, firing.error_message[:1024]
        if schedule.kind == SCHEDULER:
            attributes = {"ERROR_CODE": firing.error_code, "ERROR_MESSAGE": message,
                          "EXECUTION_ID": firing.execution_id, "IS_PAYLOAD_TRUNCATED": "false",
                          "SCHEDULED_TIME": firing.scheduled_time.astimezone(datetime.timezone.utc)
                          .strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "SCHEDULE_ARN": schedule.arn, "TARGET_ARN": schedule.target_arn}
        else:
            attributes = {"RULE_ARN": schedule.arn, "TARGET_ARN": schedule.target_arn,
                          "ERROR_CODE": (NOT_RETRIED[firing.error_code] if exhausted is None
                                         else rule_error_code(firing.error_code)),
                          "ERROR_MESSAGE": message}
        if exhausted is not None:
            attributes |= {"EXHAUSTED_RETRY_CONDITION": exhausted, "RETRY_ATTEMPTS": str(firing.failures - 1)}
        try:
            self._send_dead_letter(firing, attributes, exhausted)
        finally:
            self._done(firing)

    def _send_dead_letter(self, firing: _Firing, attributes: dict[str, str], exhausted: str | None) -> None:
        schedule = firing.schedule
        if schedule.dead_letter_arn is None:
            log.error("schedule %s: firing %s dropped (no dead-letter queue): %s", schedule.name,
                      firing.execution_id, firing.error_code)
            return
        try:
            send_to_queue(self.make_client("sqs"), schedule.dead_letter_arn, schedule.input, attributes)
        except Exception:  # noqa: BLE001 - as on AWS, a dead letter that cannot be sent is lost; said in the log
            log.exception("schedule %s: could not send firing %s to %s", schedule.name, firing.execution_id,
                          schedule.dead_letter_arn)
            return
        self.dead_lettered.append((schedule.name, attributes))
        log.warning("schedule %s: firing %s sent to the dead-letter queue %s (%s)", schedule.name,
                    firing.execution_id, schedule.dead_letter_arn, exhausted or firing.error_code)

    def _start_target(self, schedule: Schedule) -> str:
        if ":states:" in schedule.target_arn:
            arn = self.make_client("stepfunctions").start_execution(
                stateMachineArn=schedule.target_arn, input=schedule.input)["executionArn"]
            log.info("schedule %s started %s", schedule.name, arn)
            return arn
        self.make_client("lambda").invoke(FunctionName=schedule.target_arn, InvocationType="Event",
                                          Payload=schedule.input.encode())
        log.info("schedule %s invoked %s", schedule.name, schedule.target_arn)
        return schedule.target_arn

    # --- the firings on disk: wall-clock times, so that a stopped cloud's time counts in their age ---------------

    def _wall(self, moment: datetime.datetime) -> float:
        return self._started_wall + (moment - self.origin).total_seconds() / self.time_compression

    def _clock(self, wall: float) -> datetime.datetime:
        return self.origin + datetime.timedelta(seconds=(wall - self._started_wall) * self.time_compression)

    def _save(self, firing: _Firing) -> None:
        if self.firings is not None:
            self.firings.save(firing.execution_id, {
                "id": firing.execution_id, "schedule": firing.schedule.name,
                "scheduled_time": firing.scheduled_time.isoformat(), "due_wall": self._wall(firing.due_at),
                "attempt_wall": self._wall(firing.attempt_due_at), "failures": firing.failures,
                "error_code": firing.error_code, "error_message": firing.error_message})

    def _done(self, firing: _Firing) -> None:
        if self.firings is not None:
            self.firings.remove(firing.execution_id)

    def _resume(self) -> list[_Firing]:
        """The firings an earlier scheduler left, each due again when it was (at once, if that is past); one whose
        event is already older than its MaximumEventAgeInSeconds goes to its dead-letter queue without an attempt."""
        if self.firings is None:
            return []
        self.firings.remove_partial_writes()
        resumed = []
        for record in self.firings.records():
            schedule = self.known.get(record["schedule"])
            if schedule is None:
                log.warning("firing %s of schedule %s dropped: the template has no such schedule now",
                            record["id"], record["schedule"])
                self.firings.remove(record["id"])
                continue
            firing = _Firing(schedule, datetime.datetime.fromisoformat(record["scheduled_time"]),
                             due_at=self._clock(record["due_wall"]),
                             attempt_due_at=max(self._clock(record["attempt_wall"]), self.origin),
                             execution_id=record["id"], failures=record["failures"],
                             error_code=record["error_code"], error_message=record["error_message"])
            self.resumed.append(firing.execution_id)
            if firing.failures and (self.origin - firing.due_at).total_seconds() > schedule.event_age_seconds:
                self._dead_letter(firing, exhausted=EVENT_AGE_EXHAUSTED)
                continue
            resumed.append(firing)
        if resumed:
            log.warning("schedule firings carried on (pending when the local cloud stopped): %d", len(resumed))
        return resumed
