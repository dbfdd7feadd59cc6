"""The template's schedules, run by the local cloud when asked (`shiftflow up --schedules`), time compressed.

Every `Schedule` / `ScheduleV2` event of a state machine or function in template.yaml fires as EventBridge would,
starting an execution (or invoking the function) with the event's Input: a rate(...) first one period after the
cloud started, then every period; a cron(...) at each minute its fields match, in UTC (shiftflow.local.cloud.cron).
Locally they run whatever their State says in the template (off by default there, so that a stack does not run up a
bill): asking for --schedules is turning them on. Time compression runs a clock that starts at the cloud's start
and goes `time_compression` times faster than the wall's: `cron(0 3 * * ? *)` compressed 86400x fires once a
second. A firing while the previous run still holds the guard ends "skipped: already running", exactly as on AWS.
An expression EventBridge refuses stops the cloud's start with EventBridge's error message.
"""

from __future__ import annotations

import datetime
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from shiftflow.local.cloud.cron import INVALID, InvalidScheduleExpression, ScheduleNotSupported, parse_cron

log = logging.getLogger("shiftflow.cloud.schedules")

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_TARGET_TYPES = ("AWS::Serverless::StateMachine", "AWS::Serverless::Function")


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

    @property
    def timing(self) -> Timing:
        return schedule_timing(self.expression)


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


def schedule_timing(expression: str) -> Timing:
    """The timing of a rate(...) or cron(...) expression; InvalidScheduleExpression for anything else."""
    text = expression.strip()
    if text.startswith("cron("):
        return parse_cron(text)
    if text.startswith("rate("):
        return Rate(rate_seconds(text))
    if text.startswith("at("):
        raise ScheduleNotSupported(f"not supported locally: one-time schedule {expression!r}")
    raise InvalidScheduleExpression(f"{INVALID} {expression!r}: rate(...) or cron(...)")


def template_schedules(template: Any, resolver: Any) -> list[Schedule]:
    schedules: list[Schedule] = []
    for resource_type in _TARGET_TYPES:
        for logical_id, resource in template.resources(resource_type).items():
            for event_id, event in resource.get("Properties", {}).get("Events", {}).items():
                if event.get("Type") not in ("Schedule", "ScheduleV2"):
                    continue
                properties = resolver.resolve(event.get("Properties", {}))
                zone = properties.get("ScheduleExpressionTimezone", "UTC")
                if zone != "UTC":
                    raise ScheduleNotSupported(f"not supported locally: ScheduleExpressionTimezone {zone!r} "
                                               f"({logical_id}.{event_id}: schedules run in UTC)")
                expression = str(properties["ScheduleExpression"])
                schedule_timing(expression)  # refused now, when the schedules start, as PutRule refuses it
                schedules.append(Schedule(
                    name=f"{logical_id}-{event_id}",
                    target_arn=str(resolver.resolve({"Fn::GetAtt": [logical_id, "Arn"]})),
                    expression=expression,
                    input=str(properties.get("Input", "{}")),
                ))
    return schedules


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
        self.fired_at: list[datetime.datetime] = []  # the compressed clock's time of each of them
        self._started = time.monotonic()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-cloud-schedules", daemon=True)

    def start(self) -> None:
        for schedule in self.schedules:
            log.info("schedule %s: %s (time compressed %gx) -> %s", schedule.name, schedule.expression,
                     self.time_compression, schedule.target_arn)
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
        while True:
            pending = {name: moment for name, moment in next_firing.items() if moment is not None}
            if not pending:
                return  # every schedule is past its last firing (a cron's years ran out)
            name = min(pending, key=pending.__getitem__)
            wait = (pending[name] - self.now()).total_seconds() / self.time_compression
            if self._stopping.wait(max(0.0, wait)):
                return
            schedule = next(schedule for schedule in self.schedules if schedule.name == name)
            next_firing[name] = timings[name].next_after(pending[name])
            try:
                started = self._fire(schedule)
                self.fired_at.append(pending[name])
                self.fired.append((name, started))
            except Exception:  # a firing that fails is logged; the schedule goes on, as EventBridge's does
                log.exception("schedule %s could not start %s", name, schedule.target_arn)

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
