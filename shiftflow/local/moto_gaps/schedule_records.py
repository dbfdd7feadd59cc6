"""Gap 33: moto's EventBridge Scheduler does not know the schedules the local cloud runs.

moto behaviour (checked against moto 5.2.5): ListSchedules and GetSchedule answer from the schedules CreateSchedule
made (``moto/scheduler/models.py EventBridgeSchedulerBackend``). The template's ScheduleV2 events are run by the local
cloud's own scheduler (``shiftflow.local.cloud.schedules``, with `shiftflow up --schedules`), not created in moto:
`aws scheduler list-schedules` was empty where `sam deploy` creates one AWS::Scheduler::Schedule per event (DISABLED
ones too).

Fix: ``record_schedules(account_id, region, requests, created_at)`` keeps each schedule as CloudFormation passes it
to CreateSchedule after SAM's transform (Name, GroupName, ScheduleExpression, ScheduleExpressionTimezone,
Description, State, FlexibleTimeWindow, StartDate, EndDate, KmsKeyArn, Target with its Arn, RoleArn, Input,
RetryPolicy, DeadLetterConfig); the first request to moto's Scheduler API in that account and Region
(``EventBridgeSchedulerResponse.scheduler_backend``, patched) creates them there, with the deployment's
CreationDate and LastModificationDate, so a start costs nothing more. From then on moto answers ListSchedules and
GetSchedule about them, and an unknown schedule keeps moto's ResourceNotFoundException.

What the records do not change: the local cloud's scheduler runs the template's schedules (what its State says is
ignored: `--schedules` turns them on); a schedule changed or deleted through the Scheduler API changes what the API
answers, not what the cloud runs.

To drop: the local cloud's scheduler would have to read its schedules from moto's Scheduler; until then this gap
stays. tests/unit/local/moto_gaps/test_schedule_records.py states the behaviour.
"""

from __future__ import annotations

import datetime
from typing import Any

from moto.scheduler.models import EventBridgeSchedulerBackend
from moto.scheduler.responses import EventBridgeSchedulerResponse

from shiftflow.local.moto_gaps._patcher import Patcher
from shiftflow.local.moto_gaps._pending_records import PendingRecords, make_on_first_request

_pending: PendingRecords[tuple[tuple[dict[str, Any], ...], datetime.datetime]] = PendingRecords()


def record_schedules(account_id: str, region: str, requests: list[dict[str, Any]],
                     created_at: datetime.datetime) -> None:
    """Show the CreateSchedule ``requests`` in moto's Scheduler of that account and Region from its first request."""
    pending = (tuple(dict(request) for request in requests), created_at)
    _pending.update((account_id, region), lambda _: pending)


def forget_pending() -> None:
    """When the outermost activation ends: a later moto mock has other backends."""
    _pending.restore()


def _record_pending(backend: EventBridgeSchedulerBackend) -> None:
    _pending.make((backend.account_id, backend.region_name), lambda pending: _build(backend, *pending))


def _build(backend: EventBridgeSchedulerBackend, requests: tuple[dict[str, Any], ...],
       created_at: datetime.datetime) -> None:
    for request in requests:
        group = request.get("GroupName") or "default"
        if group in backend.schedule_groups and request["Name"] in backend.schedule_groups[group].schedules:
            continue  # made by a client since: CreateSchedule would have refused ours
        schedule = backend.create_schedule(
            description=request.get("Description"), end_date=request.get("EndDate"),
            flexible_time_window=request.get("FlexibleTimeWindow", {"Mode": "OFF"}), group_name=group,
            kms_key_arn=request.get("KmsKeyArn"), name=request["Name"],
            schedule_expression=request["ScheduleExpression"],
            schedule_expression_timezone=request.get("ScheduleExpressionTimezone"),
            start_date=request.get("StartDate"), state=request.get("State"), target=dict(request["Target"]),
            action_after_completion=None)
        schedule.creation_date = schedule.last_modified_date = round(created_at.timestamp(), 3)  # to the ms


def apply(patcher: Patcher) -> None:
    make_on_first_request(patcher, EventBridgeSchedulerResponse, "scheduler_backend",
                          lambda _, backend: _record_pending(backend))
