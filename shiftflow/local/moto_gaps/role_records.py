"""Gap 30: moto's IAM API does not know the roles the local runtime enforces.

moto behaviour (checked against moto 5.2.5): GetRole, ListRoles, ListRolePolicies, GetRolePolicy and
ListAttachedRolePolicies answer from the roles CreateRole made (``moto/iam/models.py IAMBackend.roles``). The local
runtime's roles are the template's, held and enforced by ``shiftflow.local.iam`` (its package docstring says why not
moto's IAM): `aws iam get-role --role-name shiftflow-local-DataApiFunctionRole` failed with NoSuchEntity, `aws iam
list-roles` was empty, for every role of the template and every role SAM generates.

Fix: ``record_roles(account_id, roles, managed_policies, created_at)`` keeps each role as CloudFormation creates it
after SAM's transform (``roles``: CreateRole's members, RoleName, Path, AssumeRolePolicyDocument, Description,
MaxSessionDuration, Tags, plus its RoleId, its inline ``Policies`` ({PolicyName, PolicyDocument}: its own, SAM's
``<Role>Policy<index>``, each AWS::IAM::Policy naming it) and its ``ManagedPolicyArns``), and ``managed_policies``
the template's AWS::IAM::ManagedPolicy (CreatePolicy's members). The first request to moto's IAM API in that account
(``IamResponse.backend``, patched) puts them in moto's IAM backend as CreateRole, PutRolePolicy, CreatePolicy and
AttachRolePolicy would, but with the RoleId the runtime enforces (``shiftflow.local.iam.role_id``: the template's
``!GetAtt <Role>.RoleId`` and the Data API's statement-owner condition name it) and the deployment's CreateDate;
an AWS managed policy they attach (SAM's AWSXrayWriteOnlyAccess on a traced state machine's role) is put in moto's
backend from moto's copy of AWS's (moto loads none by default). Nothing is built before (reading moto's managed
policies costs about 0.5 s), so a start costs nothing more. From then on moto answers every IAM call about them (GetRole, ListRoles, ListRolePolicies,
GetRolePolicy, ListAttachedRolePolicies, GetPolicy ...) and an unknown role keeps moto's NoSuchEntity "Role <name>
not found" (IAM's own text is "The role with name <name> cannot be found.": moto's, not patched).

What the records do not change: the roles are still decided by ``shiftflow.local.iam``, not by moto's IAM; a role
changed through the IAM API (PutRolePolicy ...) changes what IAM answers, not what the runtime enforces.

To drop: the local runtime would have to create its roles through moto's IAM (CreateRole with the RoleId the
template's policies expect) and read them back from it to enforce them; tests/unit/local/moto_gaps/test_role_records.py
states the behaviour.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

from moto.iam.models import AWSManagedPolicy, IAMBackend, Role
from moto.iam.responses import IamResponse

from shiftflow.local.moto_gaps._patcher import Patcher
from shiftflow.local.moto_gaps._pending_records import PendingRecords, make_on_first_request


@dataclass(frozen=True)
class _Pending:
    roles: tuple[dict[str, Any], ...]
    managed_policies: tuple[dict[str, Any], ...]
    created_at: datetime.datetime


_pending: PendingRecords[_Pending] = PendingRecords()  # account -> what its IAM shows once asked

RecordsSnapshot = dict[Any, _Pending]


def record_roles(account_id: str, roles: list[dict[str, Any]], managed_policies: list[dict[str, Any]],
                 created_at: datetime.datetime) -> None:
    """Show ``roles`` (and ``managed_policies``) in moto's IAM of ``account_id`` from its first request on."""
    pending = _Pending(tuple(dict(role) for role in roles), tuple(dict(policy) for policy in managed_policies),
                       created_at)
    _pending.update(account_id, lambda _: pending)


def snapshot_records() -> RecordsSnapshot:
    """The records still pending now, for ``restore_records`` when the outermost activation ends."""
    return _pending.snapshot()


def restore_records(snapshot: RecordsSnapshot) -> None:
    _pending.restore(snapshot)


def _document(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _aws_managed_policy(backend: IAMBackend, arn: str) -> None:
    """An AWS managed policy the template attaches, in moto's backend as IAM has it (moto loads none unless
    MOTO_IAM_LOAD_MANAGED_POLICIES is set)."""
    if arn in backend.managed_policies or not arn.startswith(f"arn:{backend.partition}:iam::aws:policy/"):
        return
    from moto.iam.aws_managed_policies import aws_managed_policies_data  # about 0.5 s: once, and only if needed

    name = arn.rsplit("/", 1)[-1]
    data = json.loads(aws_managed_policies_data).get(name)
    if data is not None:  # else moto's own NoSuchEntity, as IAM answers an unknown policy
        policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
        backend.managed_policies[policy.arn] = policy


def _record_pending(backend: IAMBackend) -> None:
    _pending.make(backend.account_id, lambda pending: _build(backend, pending))


def _build(backend: IAMBackend, pending: _Pending) -> None:
    for policy in pending.managed_policies:
        if f"arn:{backend.partition}:iam::{backend.account_id}:policy{policy.get('Path', '/')}" \
                f"{policy['PolicyName']}" not in backend.managed_policies:
            created = backend.create_policy(description=policy.get("Description") or "",
                                            path=policy.get("Path", "/"),
                                            policy_document=_document(policy["PolicyDocument"]),
                                            policy_name=policy["PolicyName"], tags=[])
            created.create_date = created.update_date = pending.created_at.replace(microsecond=0)
    for request in pending.roles:
        if any(role.name == request["RoleName"] for role in backend.roles.values()):
            continue  # made by a client since (CreateRole): IAM would have refused ours
        role = Role(account_id=backend.account_id, partition=backend.partition, role_id=request["RoleId"],
                    name=request["RoleName"],
                    assume_role_policy_document=_document(request["AssumeRolePolicyDocument"]),
                    path=request.get("Path", "/"), permissions_boundary=None,
                    description=request.get("Description"), tags=list(request.get("Tags", [])),
                    max_session_duration=str(request.get("MaxSessionDuration", 3600)))
        role.create_date = pending.created_at.replace(microsecond=0)  # IAM: to the second
        backend.roles[role.id] = role
        for policy in request.get("Policies", []):
            role.put_policy(policy["PolicyName"], _document(policy["PolicyDocument"]))
        for arn in request.get("ManagedPolicyArns", []):
            _aws_managed_policy(backend, arn)
            backend.attach_role_policy(arn, role.name)


def apply(patcher: Patcher) -> None:
    make_on_first_request(patcher, IamResponse, "backend", lambda _, backend: _record_pending(backend))
