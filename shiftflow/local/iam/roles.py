"""The IAM roles template.yaml declares, as CloudFormation and the SAM transform would create them.

- ``AWS::IAM::Role``: its inline ``Policies`` and ``ManagedPolicyArns``, plus every ``AWS::IAM::Policy`` /
  ``AWS::IAM::ManagedPolicy`` whose ``Roles`` names it;
- ``AWS::Serverless::Function`` and ``AWS::Serverless::StateMachine``: their ``Role``, else the role SAM generates
  (``<LogicalId>Role``) from their ``Policies``: inline documents, AWS managed policy names or ARNs, the template's
  own ``AWS::IAM::ManagedPolicy`` (``!Ref``; also in ``ManagedPolicyArns``), ``Fn::If`` among them, and SAM policy
  templates (``DynamoDBCrudPolicy: {TableName: ...}``, expanded by the SAM translator's own processor); an
  ``AWS::IAM::Policy`` may name a generated role (``Roles: [!Ref <LogicalId>Role]``) as CloudFormation allows;
- AWS managed policies: their documents as moto ships them (moto/iam/aws_managed_policies.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shiftflow.local.iam.policy import NotSupportedLocally, Statement, condition_keys, parse_document
from shiftflow.local.template import NO_VALUE, Resolver, Template, TemplateError, sam_dead_letter_arn

_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"
# The condition keys the local runtime supplies (shiftflow.local.iam.actions); a policy reading another one cannot be
# decided as AWS would decide it. Lower-cased: condition key names are case-insensitive.
SUPPLIED_CONDITION_KEYS = frozenset(key.lower() for key in (
    "aws:PrincipalArn", "aws:PrincipalAccount", "aws:userid", "aws:RequestedRegion",
    "redshift-data:statement-owner-iam-userid",
))


@dataclass(frozen=True)
class Role:
    name: str
    arn: str
    role_id: str
    statements: tuple[Statement, ...] = field(default=(), repr=False)


def role_id(role_name: str) -> str:
    """A stable unique id in the shape IAM gives roles (AROA + 17 characters)."""
    return "AROA" + hashlib.sha256(role_name.encode()).hexdigest()[:17].upper()


def role_name(stack_name: str, logical_id: str) -> str:
    """The physical name CloudFormation gives a role without RoleName (stack name and logical id; no random suffix
    locally)."""
    return f"{stack_name}-{logical_id}"


@dataclass(frozen=True)
class RoleRecord:
    """A role as IAM shows it after `sam deploy` (GetRole, ListRolePolicies, GetRolePolicy, ListAttachedRolePolicies):
    its trust policy, inline policies (its own ``Policies``, SAM's ``<Role>Policy<index>``, and each AWS::IAM::Policy
    naming it, by PolicyName) and attached managed policies (ARNs)."""

    name: str
    arn: str
    role_id: str
    assume_role_policy_document: Mapping[str, Any]
    description: str | None = None
    path: str = "/"
    max_session_duration: int = 3600
    tags: tuple[tuple[str, str], ...] = ()
    inline_policies: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    managed_policy_arns: tuple[str, ...] = ()

    def request(self) -> dict[str, Any]:
        """CreateRole's members, with its RoleId, inline Policies and ManagedPolicyArns as CloudFormation sets them
        (what ``moto_gaps.record_roles`` takes)."""
        return {"RoleName": self.name, "RoleId": self.role_id, "Path": self.path,
                "AssumeRolePolicyDocument": self.assume_role_policy_document, "Description": self.description,
                "MaxSessionDuration": self.max_session_duration,
                "Tags": [{"Key": key, "Value": value} for key, value in self.tags],
                "Policies": [{"PolicyName": name, "PolicyDocument": document}
                             for name, document in self.inline_policies],
                "ManagedPolicyArns": list(self.managed_policy_arns)}


@dataclass(frozen=True)
class ManagedPolicyRecord:
    """A template's AWS::IAM::ManagedPolicy as IAM's GetPolicy shows it."""

    name: str
    arn: str
    document: Mapping[str, Any]
    description: str | None = None
    path: str = "/"

    def request(self) -> dict[str, Any]:
        """CreatePolicy's members."""
        return {"PolicyName": self.name, "Path": self.path, "PolicyDocument": self.document,
                "Description": self.description}


@dataclass
class RoleRegistry:
    """Roles by ARN, and which role each function (by name) and state machine (by ARN) runs as; ``records`` and
    ``managed_policies`` are what IAM's API shows of them."""

    roles: dict[str, Role] = field(default_factory=dict)
    function_roles: dict[str, str] = field(default_factory=dict)  # function name -> role ARN
    state_machine_roles: dict[str, str] = field(default_factory=dict)  # state machine ARN -> role ARN
    records: dict[str, RoleRecord] = field(default_factory=dict)  # role ARN -> record
    managed_policies: dict[str, ManagedPolicyRecord] = field(default_factory=dict)  # the template's, by ARN

    def role(self, arn: str) -> Role | None:
        return self.roles.get(arn)


# SAM's trust policies of the roles it generates (samtranslator's IAMRolePolicies.lambda_assume_role_policy and
# stepfunctions_assume_role_policy) and the tag it puts on them.
_SAM_ROLES = {
    "AWS::Serverless::Function": ("lambda.amazonaws.com", "lambda:createdBy", "Tracing"),
    "AWS::Serverless::StateMachine": ("states.amazonaws.com", "stateMachine:createdBy", "Tracing"),
}
_LAMBDA_BASIC_EXECUTION = _MANAGED_PREFIX + "service-role/AWSLambdaBasicExecutionRole"
_XRAY_WRITE_ONLY = _MANAGED_PREFIX + "AWSXrayWriteOnlyAccess"


def template_roles(template: Template, resolver: Resolver, account_id: str, stack_name: str) -> RoleRegistry:
    registry = RoleRegistry(managed_policies=_template_managed_policies(template, resolver))
    records: dict[str, dict[str, Any]] = {}  # role ARN -> RoleRecord's fields
    for logical_id, resource in _resources(template, resolver, "AWS::IAM::Role").items():
        properties = resolver.resolve(resource.get("Properties", {}))
        arn = resolver.resolve({"Fn::GetAtt": [logical_id, "Arn"]})
        name = resolver.resolve({"Ref": logical_id})
        records[arn] = {
            "name": name, "arn": arn, "role_id": role_id(name),
            "assume_role_policy_document": properties.get("AssumeRolePolicyDocument", {}),
            "description": properties.get("Description"), "path": properties.get("Path", "/"),
            "max_session_duration": int(properties.get("MaxSessionDuration", 3600)),
            "tags": tuple((str(tag["Key"]), str(tag["Value"])) for tag in properties.get("Tags", [])),
            "inline_policies": [(policy["PolicyName"], policy["PolicyDocument"])
                                for policy in properties.get("Policies", [])],
            "managed_policy_arns": list(properties.get("ManagedPolicyArns", [])),
        }
    # The roles SAM generates come before the attached policies: AWS::IAM::Policy can name them (!Ref <Id>Role).
    for kind, bindings in (("AWS::Serverless::Function", registry.function_roles),
                           ("AWS::Serverless::StateMachine", registry.state_machine_roles)):
        for logical_id, resource in _resources(template, resolver, kind).items():
            properties = resource.get("Properties", {})
            if "Role" in properties:
                arn = resolver.resolve(properties["Role"])
            else:  # the role SAM generates
                name = role_name(stack_name, f"{logical_id}Role")
                arn = f"arn:aws:iam::{account_id}:role/{name}"
                records[arn] = _sam_role(kind, f"{logical_id}Role", name, arn, properties, resolver)
            bindings[str(resolver.resolve({"Ref": logical_id}))] = arn
    for logical_id, kind, event_id in template.scheduler_events():  # the roles SAM generates for ScheduleV2 events
        if "Condition" in template.body["Resources"][logical_id] and not resolver.condition(
                template.body["Resources"][logical_id]["Condition"]):
            continue
        properties = template.body["Resources"][logical_id]["Properties"]["Events"][event_id].get("Properties", {})
        if "RoleArn" not in properties:
            record = _sam_schedule_role(logical_id, kind, event_id, properties, resolver, account_id, stack_name)
            records[record["arn"]] = record
    names = {record["name"]: arn for arn, record in records.items()}
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for logical_id, resource in _resources(template, resolver, kind).items():
            properties = resolver.resolve(resource.get("Properties", {}))
            for name in properties.get("Roles", []):
                if name not in names:  # a role of another stack: not ours to enforce
                    continue
                record = records[names[name]]
                if kind == "AWS::IAM::Policy":  # an inline policy of each role it names (PutRolePolicy)
                    if "PolicyName" not in properties:
                        raise TemplateError(f"{logical_id}: AWS::IAM::Policy requires PolicyName")
                    record["inline_policies"].append((properties["PolicyName"], properties["PolicyDocument"]))
                else:
                    record["managed_policy_arns"].append(resolver.resolve({"Ref": logical_id}))
    for arn, fields in records.items():
        record = RoleRecord(**{**fields, "inline_policies": tuple(fields["inline_policies"]),
                               "managed_policy_arns": tuple(dict.fromkeys(fields["managed_policy_arns"]))})
        registry.records[arn] = record
        documents = [document for _, document in record.inline_policies]
        # X-Ray's write access allows xray:* only, calls the runtime does not decide (shiftflow.local.iam.actions):
        # its document is not read, as reading moto's managed policies costs about 0.5 s of a start.
        documents += [_managed_document(policy, registry.managed_policies) for policy in record.managed_policy_arns
                      if policy != _XRAY_WRITE_ONLY]
        statements = tuple(statement for document in documents for statement in parse_document(document))
        unsupplied = {key for key in condition_keys(statements) if key.lower() not in SUPPLIED_CONDITION_KEYS}
        if unsupplied:
            raise NotSupportedLocally(f"IAM condition keys {', '.join(sorted(unsupplied))} (role {record.name})")
        registry.roles[arn] = Role(record.name, arn, record.role_id, statements)
    return registry


def _template_managed_policies(template: Template, resolver: Resolver) -> dict[str, ManagedPolicyRecord]:
    """The template's AWS::IAM::ManagedPolicy by ARN (what Ref gives), for ManagedPolicyArns."""
    policies = {}
    for logical_id, resource in _resources(template, resolver, "AWS::IAM::ManagedPolicy").items():
        properties = resolver.resolve(resource.get("Properties", {}))
        arn = resolver.resolve({"Ref": logical_id})
        policies[arn] = ManagedPolicyRecord(arn.rsplit("/", 1)[-1], arn, properties["PolicyDocument"],
                                            properties.get("Description"), properties.get("Path", "/"))
    return policies


def _resources(template: Template, resolver: Resolver, kind: str) -> dict[str, dict[str, Any]]:
    return {logical_id: resource for logical_id, resource in template.resources(kind).items()
            if "Condition" not in resource or resolver.condition(resource["Condition"])}


def _sam_role(kind: str, logical_id: str, name: str, arn: str, properties: Mapping[str, Any],
              resolver: Resolver) -> dict[str, Any]:
    """The role SAM's transform generates for a function or state machine without Role (samtranslator's
    construct_role_for_resource): its service's trust policy, Lambda's basic execution policy (functions) and X-Ray's
    write access (with Tracing), then each of Policies: a document or policy template as the inline policy
    ``<Role>Policy<index>`` (the index counts every entry; an Fn::If choosing AWS::NoValue drops one), a managed
    policy by name or ARN attached."""
    service, tag, tracing = _SAM_ROLES[kind]
    managed = [_LAMBDA_BASIC_EXECUTION] if kind == "AWS::Serverless::Function" else []
    traced = resolver.resolve(properties.get(tracing))
    if traced == "Active" or (isinstance(traced, Mapping) and traced.get("Enabled")):
        managed.append(_XRAY_WRITE_ONLY)
    raw = properties.get("Policies", [])
    entries = raw if isinstance(raw, list) else [raw]
    inline: list[tuple[str, Mapping[str, Any]]] = []
    for index, entry in enumerate(entries):
        policy = resolver.resolve(entry)
        if policy is NO_VALUE:
            continue
        if isinstance(policy, str):
            managed.append(policy if policy.startswith("arn:") else _aws_managed_arn(policy))
        elif isinstance(policy, Mapping) and "Statement" in policy:
            inline.append((f"{logical_id}Policy{index}", policy))
        elif isinstance(policy, Mapping) and len(policy) == 1:
            ((template_name, parameters),) = policy.items()
            inline.append((f"{logical_id}Policy{index}",
                           resolver.resolve(_policy_template(template_name, parameters or {}))))
        else:
            raise TemplateError(f"a SAM Policies entry is a managed policy (name or ARN), a policy document or one "
                                f"policy template: not {policy!r}")
    return {"name": name, "arn": arn, "role_id": role_id(name),
            "assume_role_policy_document": {"Version": "2012-10-17", "Statement": [
                {"Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": [service]}}]},
            "tags": ((tag, "SAM"),), "inline_policies": inline, "managed_policy_arns": managed}


def _policy_template(name: str, parameters: Mapping[str, Any]) -> Mapping[str, Any]:
    processor = _policy_templates()
    if not processor.has(name):
        raise NotSupportedLocally(f"SAM policy template {name}")
    return processor.convert(name, dict(parameters))


@functools.cache
def _policy_templates() -> Any:
    # The SAM translator (aws-sam-cli's) costs about 0.2 s to import: only when a template uses a policy template.
    from samtranslator.policy_template_processor.processor import PolicyTemplatesProcessor

    return PolicyTemplatesProcessor(PolicyTemplatesProcessor.get_default_policy_templates_json())


def schedule_role_arn(logical_id: str, event_id: str, account_id: str, stack_name: str) -> str:
    """The ARN of the role SAM generates for a ScheduleV2 event (`<target><event>Role`)."""
    return f"arn:aws:iam::{account_id}:role/{role_name(stack_name, f'{logical_id}{event_id}Role')}"


def _sam_schedule_role(logical_id: str, kind: str, event_id: str, properties: Mapping[str, Any], resolver: Resolver,
                       account_id: str, stack_name: str) -> dict[str, Any]:
    """The role SAM's ScheduleV2 generates (samtranslator SchedulerEventSource._construct_execution_role): trusted by
    EventBridge Scheduler, allowed to start its state machine (``<event>StartExecutionPolicy``) or invoke its
    function (``<event>LambdaPolicy``), and to send to its dead-letter queue (``<event>SQSPolicy``)."""
    source = logical_id + event_id
    target = resolver.resolve({"Fn::GetAtt": [logical_id, "Arn"]})
    if kind == "AWS::Serverless::StateMachine":
        inline = [(f"{source}StartExecutionPolicy", {"Statement": [
            {"Action": "states:StartExecution", "Effect": "Allow", "Resource": target}]})]
    else:
        inline = [(f"{source}LambdaPolicy", {"Statement": [
            {"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": target}]})]
    if "DeadLetterConfig" in properties:
        queue = resolver.resolve(sam_dead_letter_arn(source, resolver.resolve(properties["DeadLetterConfig"])))
        inline.append((f"{source}SQSPolicy", {"Statement": [
            {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": queue}]}))
    name = role_name(stack_name, f"{source}Role")
    return {"name": name, "arn": schedule_role_arn(logical_id, event_id, account_id, stack_name),
            "role_id": role_id(name),
            "assume_role_policy_document": {"Version": "2012-10-17", "Statement": [
                {"Action": ["sts:AssumeRole"], "Effect": "Allow",
                 "Principal": {"Service": ["scheduler.amazonaws.com"]}}]},
            "inline_policies": inline, "managed_policy_arns": []}


def _aws_managed_arn(name: str) -> str:
    """An AWS managed policy's ARN from its name, with its path (``service-role/`` ...), as SAM finds it."""
    policy = _aws_managed_policies().get(name)
    if policy is None:
        raise NotSupportedLocally(f"AWS managed policy {name} (unknown to moto)")
    return f"{_MANAGED_PREFIX}{policy.get('Path', '/').lstrip('/')}{name}"


def _managed_document(arn: str, managed: Mapping[str, ManagedPolicyRecord]) -> Mapping[str, Any]:
    """A managed policy by ARN: the template's own (AWS::IAM::ManagedPolicy), else AWS's (its default version, as
    moto ships it)."""
    if arn in managed:
        return managed[arn].document
    if not arn.startswith(_MANAGED_PREFIX):
        raise NotSupportedLocally(f"customer managed policy {arn} (declare it in template.yaml)")
    policy = _aws_managed_policies().get(arn.rsplit("/", 1)[-1])
    if policy is None:
        raise NotSupportedLocally(f"AWS managed policy {arn} (unknown to moto)")
    return policy["Document"]


@functools.cache
def _aws_managed_policies() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)
