"""The template's schedules, run by the local cloud when asked (`shiftflow up --schedules`), time compressed.

Every `Schedule` / `ScheduleV2` event of a state machine or function in template.yaml fires as EventBridge would:
first one period after the cloud started, then every period, starting an execution (or invoking the function) with
the event's Input. Locally they run whatever their State says in the template (off by default there, so that a
stack does not run up a bill): asking for --schedules is turning them on. A firing while the previous run still
holds the guard ends "skipped: already running", exactly as on AWS. Only rate(...) expressions run offline.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("shiftflow.cloud.schedules")

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_TARGET_TYPES = ("AWS::Serverless::StateMachine", "AWS::Serverless::Function")


class ScheduleNotSupported(ValueError):
    """A schedule the local cloud cannot run; the message starts with "not supported locally"."""


@dataclass(frozen=True)
class Schedule:
    name: str
    target_arn: str
    period_seconds: float  # as the template says, before compression
    input: str


def rate_seconds(expression: str) -> float:
    """`rate(5 minutes)` -> 300.0; AWS's grammar: a value of 1 takes the singular unit, any other the plural."""
    match = _RATE.match(expression.strip())
    if not match:
        raise ScheduleNotSupported(f"not supported locally: schedule expression {expression!r} "
                                   "(the local cloud runs rate(...) schedules only)")
    value, unit = int(match.group(1)), match.group(2)
    if value < 1 or (value == 1) != (not unit.endswith("s")):
        raise ScheduleNotSupported(f"invalid schedule expression {expression!r}: use rate(1 {unit.rstrip('s')}) "
                                   f"or rate({max(value, 2)} {unit.rstrip('s')}s)")
    return float(value * _UNIT_SECONDS[unit.rstrip("s")])


def template_schedules(template: Any, resolver: Any) -> list[Schedule]:
    schedules: list[Schedule] = []
    for resource_type in _TARGET_TYPES:
        for logical_id, resource in template.resources(resource_type).items():
            for event_id, event in resource.get("Properties", {}).get("Events", {}).items():
                if event.get("Type") not in ("Schedule", "ScheduleV2"):
                    continue
                properties = resolver.resolve(event.get("Properties", {}))
                schedules.append(Schedule(
                    name=f"{logical_id}-{event_id}",
                    target_arn=str(resolver.resolve({"Fn::GetAtt": [logical_id, "Arn"]})),
                    period_seconds=rate_seconds(str(properties["ScheduleExpression"])),
                    input=str(properties.get("Input", "{}")),
                ))
    return schedules


class Scheduler:
    """One thread for all schedules; `stop()` ends it (a firing under way completes its start call)."""

    def __init__(self, schedules: list[Schedule], time_compression: float, make_client: Any) -> None:
        if time_compression <= 0:
            raise ValueError("the time compression must be positive")
        self.schedules = schedules
        self.time_compression = time_compression
        self.make_client = make_client
        self.fired: list[tuple[str, str]] = []  # (schedule, execution ARN or function) in firing order
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-cloud-schedules", daemon=True)

    def start(self) -> None:
        for schedule in self.schedules:
            log.info("schedule %s: every %.3f s (rate of %.0f s compressed %gx) -> %s", schedule.name,
                     schedule.period_seconds / self.time_compression, schedule.period_seconds, self.time_compression,
                     schedule.target_arn)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        started = time.monotonic()
        next_firing = {schedule.name: started + self._period(schedule) for schedule in self.schedules}
        while self.schedules:
            name = min(next_firing, key=next_firing.__getitem__)
            if self._stopping.wait(max(0.0, next_firing[name] - time.monotonic())):
                return
            schedule = next(schedule for schedule in self.schedules if schedule.name == name)
            next_firing[name] += self._period(schedule)
            try:
                self.fired.append((name, self._fire(schedule)))
            except Exception:  # a firing that fails is logged; the schedule goes on, as EventBridge's does
                log.exception("schedule %s could not start %s", name, schedule.target_arn)

    def _period(self, schedule: Schedule) -> float:
        return schedule.period_seconds / self.time_compression

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
