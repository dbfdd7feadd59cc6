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
from shiftflow.local.template import NO_VALUE, Resolver, Template, TemplateError

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


@dataclass
class RoleRegistry:
    """Roles by ARN, and which role each function (by name) and state machine (by ARN) runs as."""

    roles: dict[str, Role] = field(default_factory=dict)
    function_roles: dict[str, str] = field(default_factory=dict)  # function name -> role ARN
    state_machine_roles: dict[str, str] = field(default_factory=dict)  # state machine ARN -> role ARN

    def role(self, arn: str) -> Role | None:
        return self.roles.get(arn)


def template_roles(template: Template, resolver: Resolver, account_id: str, stack_name: str) -> RoleRegistry:
    registry = RoleRegistry()
    documents: dict[str, list[Mapping[str, Any]]] = {}  # role ARN -> policy documents
    names: dict[str, str] = {}  # role ARN -> role name
    managed = _template_managed_policies(template, resolver)
    for logical_id, resource in _resources(template, resolver, "AWS::IAM::Role").items():
        properties = resolver.resolve(resource.get("Properties", {}))
        arn = resolver.resolve({"Fn::GetAtt": [logical_id, "Arn"]})
        names[arn] = resolver.resolve({"Ref": logical_id})
        documents[arn] = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        documents[arn] += [_managed_document(policy, managed) for policy in properties.get("ManagedPolicyArns", [])]
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
                names[arn] = name
                documents[arn] = _sam_documents(kind, properties, resolver, managed)
            bindings[str(resolver.resolve({"Ref": logical_id}))] = arn
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for resource in _resources(template, resolver, kind).values():
            properties = resolver.resolve(resource.get("Properties", {}))
            for name in properties.get("Roles", []):
                arn = next((known for known, known_name in names.items() if known_name == name), None)
                if arn is not None:  # a role of another stack: not ours to enforce
                    documents[arn].append(properties["PolicyDocument"])
    for arn, role_documents in documents.items():
        statements = tuple(statement for document in role_documents for statement in parse_document(document))
        unsupplied = {key for key in condition_keys(statements) if key.lower() not in SUPPLIED_CONDITION_KEYS}
        if unsupplied:
            raise NotSupportedLocally(f"IAM condition keys {', '.join(sorted(unsupplied))} (role {names[arn]})")
        registry.roles[arn] = Role(names[arn], arn, role_id(names[arn]), statements)
    return registry


def _template_managed_policies(template: Template, resolver: Resolver) -> dict[str, Mapping[str, Any]]:
    """The template's AWS::IAM::ManagedPolicy documents by ARN (what Ref gives), for ManagedPolicyArns."""
    return {resolver.resolve({"Ref": logical_id}): resolver.resolve(resource.get("Properties", {}))["PolicyDocument"]
            for logical_id, resource in _resources(template, resolver, "AWS::IAM::ManagedPolicy").items()}


def _resources(template: Template, resolver: Resolver, kind: str) -> dict[str, dict[str, Any]]:
    return {logical_id: resource for logical_id, resource in template.resources(kind).items()
            if "Condition" not in resource or resolver.condition(resource["Condition"])}


def _sam_documents(kind: str, properties: Mapping[str, Any], resolver: Resolver,
                   managed: Mapping[str, Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """What SAM puts in a generated role: Lambda's basic execution policy (functions), then each of Policies (an
    Fn::If chooses among them, AWS::NoValue dropping one)."""
    policies = resolver.resolve(properties.get("Policies", []))
    if policies is NO_VALUE:
        policies = []
    if isinstance(policies, (str, Mapping)):
        policies = [policies]
    documents: list[Mapping[str, Any]] = []
    if kind == "AWS::Serverless::Function":
        documents.append(_managed_document("AWSLambdaBasicExecutionRole", managed))
    for policy in policies:
        if isinstance(policy, str):
            documents.append(_managed_document(policy, managed))
        elif isinstance(policy, Mapping) and "Statement" in policy:
            documents.append(policy)
        elif isinstance(policy, Mapping) and len(policy) == 1:
            ((template_name, parameters),) = policy.items()
            documents.append(resolver.resolve(_policy_template(template_name, parameters or {})))
        else:
            raise TemplateError(f"a SAM Policies entry is a managed policy (name or ARN), a policy document or one "
                                f"policy template: not {policy!r}")
    return documents


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


def _managed_document(name_or_arn: str, managed: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any]:
    """A managed policy by ARN: the template's own (AWS::IAM::ManagedPolicy), else AWS's by name or ARN (its default
    version, as moto ships it)."""
    if name_or_arn in managed:
        return managed[name_or_arn]
    name = name_or_arn.rsplit("/", 1)[-1]
    if name_or_arn.startswith("arn:") and not name_or_arn.startswith(_MANAGED_PREFIX):
        raise NotSupportedLocally(f"customer managed policy {name_or_arn} (declare it in template.yaml)")
    policy = _aws_managed_policies().get(name)
    if policy is None:
        raise NotSupportedLocally(f"AWS managed policy {name_or_arn} (unknown to moto)")
    return policy["Document"]


@functools.cache
def _aws_managed_policies() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)
