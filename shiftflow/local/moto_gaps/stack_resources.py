"""Gap 28: a stack over resources created before it lists none of them, and moto describes stack resources loosely.

moto behaviour (checked against moto 5.2.5): a stack's resources are those moto's CloudFormation created from the
stack's template (``moto/cloudformation/parsing.py ResourceMap``). The local runtime deploys template.yaml itself
(shiftflow.local.runtime) and registers the stack ``shiftflow-local`` afterwards with its outputs and parameters
only (shiftflow.local.cloud.server.register_stack): DescribeStackResources, ListStackResources and
DescribeStackResource listed nothing. moto's answers also differ from CloudFormation's for any stack: every resource's
Timestamp is ``2010-07-27T22:27:28Z`` (``StackResourceDTO``), a DescribeStackResource detail has no
LastUpdatedTimestamp (a required member), no answer carries DriftInformation, and DescribeStackResources ignores
PhysicalResourceId.

Fix: ``adopt_stack_resources(account_id, region, stack_name, resources, created_at)`` gives a registered stack the
resources the runtime made (logical id, the resource type as CloudFormation reports it after SAM's transform,
physical id), all CREATE_COMPLETE at ``created_at`` (when the runtime deployed them; also the stack's CreationTime).
For a stack with adopted resources, the three calls answer as CloudFormation does (API reference; botocore's
``cloudformation/2010-05-15/service-2.json`` shapes StackResource, StackResourceDetail, StackResourceSummary):
Timestamp / LastUpdatedTimestamp the resource's, DriftInformation ``NOT_CHECKED`` (no drift detection has run),
resources in logical id order (chosen: the order is not documented); DescribeStackResource of an unknown logical id
fails with ValidationError "Resource <id> does not exist for stack <name>" (CloudFormation's text, as quoted in
aws-samples/amazon-rekognition-video-analyzer issue 23 and jpsim/AWSPics issue 14); DescribeStackResources by
PhysicalResourceId (without StackName) finds the resource with that physical id in any stack (as
aws-cloudformation/cloudformation-coverage-roadmap issue 998 shows it answering), an unknown one fails with
ValidationError "Stack for <id> does not exist" (chosen text), and an unknown LogicalResourceId filters to nothing
(chosen: moto's answer, and what getmoto/moto issue 9116 expects of CloudFormation; not documented). Stacks without
adopted resources keep moto's answers.

The patches are applied when the first stack adopts resources, not at activation: importing moto's CloudFormation
imports the models of every service it can create (about a second of a start), and the local cloud imports it only
on the first CloudFormation request. They are recorded in the activation's Patcher and restored with the others.

To drop: when moto's CloudFormation can take over existing resources (CloudFormation's resource import: change sets
of type IMPORT) and describes them with their timestamps and DriftInformation, import the runtime's resources
instead; tests/unit/local/moto_gaps/test_stack_resources.py must still pass.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shiftflow.local.moto_gaps._patcher import Patcher

NOT_CHECKED = {"StackResourceDriftStatus": "NOT_CHECKED"}
CREATE_COMPLETE = "CREATE_COMPLETE"


@dataclass(frozen=True)
class AdoptedResource:
    logical_id: str
    resource_type: str
    physical_id: str
    created_at: datetime.datetime  # naive UTC, as moto keeps its timestamps


class _Deferred:
    """The activation's Patcher, for the CloudFormation patches applied on the first adoption."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.patcher: Patcher | None = None
        self.applied = False


_deferred = _Deferred()
_ADOPTED = "shiftflow_adopted_resources"  # the attribute of a moto Stack holding its adopted resources


def adopt_stack_resources(account_id: str, region: str, stack_name: str, resources: Iterable[Any],
                          created_at: datetime.datetime) -> None:
    """Give the registered stack `stack_name` these resources (objects with `logical_id`, `resource_type` and
    `physical_id`), created at `created_at` (aware or naive UTC); the stack's CreationTime becomes `created_at`."""
    from moto.cloudformation.models import cloudformation_backends

    _apply_deferred()
    moment = created_at.astimezone(datetime.timezone.utc).replace(tzinfo=None) if created_at.tzinfo else created_at
    stack = cloudformation_backends[account_id][region].get_stack(stack_name)
    adopted = {resource.logical_id: AdoptedResource(resource.logical_id, resource.resource_type,
                                                    resource.physical_id, moment) for resource in resources}
    setattr(stack, _ADOPTED, dict(sorted(adopted.items())))
    stack.creation_time = moment


def _adopted(stack: Any) -> dict[str, AdoptedResource] | None:
    return getattr(stack, _ADOPTED, None)


def _apply_deferred() -> None:
    with _deferred.lock:
        if _deferred.applied:
            return
        if _deferred.patcher is None:
            raise RuntimeError("the moto gaps are not active: activate them before adopting stack resources")
        _patch_responses(_deferred.patcher)
        _deferred.applied = True


def _resource(stack: Any, resource: AdoptedResource, time_key: str) -> dict[str, Any]:
    return {"StackName": stack.name, "StackId": stack.stack_id, "LogicalResourceId": resource.logical_id,
            "PhysicalResourceId": resource.physical_id, "ResourceType": resource.resource_type,
            time_key: resource.created_at, "ResourceStatus": CREATE_COMPLETE, "DriftInformation": dict(NOT_CHECKED)}


def _patch_responses(patcher: Patcher) -> None:
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult

    original_describe_one = CloudFormationResponse.__dict__["describe_stack_resource"]
    original_describe = CloudFormationResponse.__dict__["describe_stack_resources"]
    original_list = CloudFormationResponse.__dict__["list_stack_resources"]

    def describe_stack_resource(self: CloudFormationResponse) -> Any:
        stack_name = self._get_param("StackName")
        stack = self.cloudformation_backend.get_stack(stack_name)
        adopted = _adopted(stack)
        if adopted is None:
            return original_describe_one(self)
        logical_id = self._get_param("LogicalResourceId")
        if logical_id not in adopted:
            raise ValidationError(stack_name, f"Resource {logical_id} does not exist for stack {stack_name}")
        return ActionResult({"StackResourceDetail": _resource(stack, adopted[logical_id], "LastUpdatedTimestamp")})

    def describe_stack_resources(self: CloudFormationResponse) -> Any:
        stack_name = self._get_param("StackName")
        logical_id = self._get_param("LogicalResourceId")
        physical_id = self._get_param("PhysicalResourceId")
        backend = self.cloudformation_backend
        if stack_name:
            stacks = [backend.get_stack(stack_name)]
        elif physical_id:
            stacks = [stack for stack in backend.stacks.values()
                      if any(resource.physical_id == physical_id for resource in (_adopted(stack) or {}).values())]
            if not stacks:
                raise ValidationError(physical_id, f"Stack for {physical_id} does not exist")
        else:
            return original_describe(self)
        if any(_adopted(stack) is None for stack in stacks):
            return original_describe(self)
        found = [_resource(stack, resource, "Timestamp") for stack in stacks for resource in _adopted(stack).values()
                 if logical_id in (None, resource.logical_id) and physical_id in (None, resource.physical_id)]
        return ActionResult({"StackResources": found})

    def list_stack_resources(self: CloudFormationResponse) -> Any:
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        adopted = _adopted(stack)
        if adopted is None:
            return original_list(self)
        summaries = []
        for resource in adopted.values():
            summary = _resource(stack, resource, "LastUpdatedTimestamp")
            del summary["StackName"], summary["StackId"]
            summaries.append(summary)
        return ActionResult({"StackResourceSummaries": summaries})

    patcher.set(CloudFormationResponse, "describe_stack_resource", describe_stack_resource)
    patcher.set(CloudFormationResponse, "describe_stack_resources", describe_stack_resources)
    patcher.set(CloudFormationResponse, "list_stack_resources", list_stack_resources)


def apply(patcher: Patcher) -> None:
    with _deferred.lock:  # through the patcher: the activation's end forgets it (and that its patches were applied)
        patcher.set(_deferred, "patcher", patcher)
        patcher.set(_deferred, "applied", False)
