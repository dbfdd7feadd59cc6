"""template.yaml, read as the one source of truth for what the local runtime creates.

The YAML is read with PyYAML plus a constructor for CloudFormation's short tags (!Ref, !GetAtt, !Sub ...): cfn-lint's
reader does the same but costs about 1.8 s of imports on every CLI command, more than the whole demo run.
Intrinsic functions are resolved here against the physical names the local runtime gives each resource: a small
evaluator, because the full CloudFormation engine is exactly what does not exist offline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

NO_VALUE = object()  # AWS::NoValue: the property is dropped
_SAM_TARGETS = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")
_DEAD_LETTER_EVENTS = ("Schedule", "ScheduleV2", "EventBridgeRule")  # SAM events with a DeadLetterConfig
_SUB_REFERENCE = re.compile(r"\$\{([^}!][^}]*)\}")


# The type CloudFormation lists for a SAM resource once the transform made it (SAM developer guide, "CloudFormation
# resources generated when AWS::Serverless::<Type> is specified"); SAM keeps the logical id, but for a LayerVersion
# (a hash is appended).
SAM_RESOURCE_TYPES = {
    "AWS::Serverless::Function": "AWS::Lambda::Function",
    "AWS::Serverless::StateMachine": "AWS::StepFunctions::StateMachine",
    "AWS::Serverless::SimpleTable": "AWS::DynamoDB::Table",
    "AWS::Serverless::LayerVersion": "AWS::Lambda::LayerVersion",
    "AWS::Serverless::Api": "AWS::ApiGateway::RestApi",
    "AWS::Serverless::HttpApi": "AWS::ApiGatewayV2::Api",
    "AWS::Serverless::Application": "AWS::CloudFormation::Stack",
}


class TemplateError(ValueError):
    """The template cannot be read or uses something the local runtime cannot resolve."""


@dataclass(frozen=True)
class PhysicalResource:
    """What Ref and GetAtt give for one resource."""

    ref: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StackResource:
    """One resource of the deployed stack, as CloudFormation lists it: the resource type after SAM's transform."""

    logical_id: str
    resource_type: str
    physical_id: str


@dataclass
class Template:
    path: Path
    body: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Template:
        try:
            body = yaml.load(path.read_text(), Loader=_CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as error:
            raise TemplateError(f"{path}: cannot read the template: {error}") from None
        if not isinstance(body, dict):
            raise TemplateError(f"{path}: cannot read the template: not a mapping")
        return cls(path=path, body=body)

    @property
    def root(self) -> Path:
        return self.path.parent

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Logical id -> resource, for one type (for example AWS::Serverless::Function)."""
        return {
            logical_id: resource
            for logical_id, resource in self.body.get("Resources", {}).items()
            if resource.get("Type") == resource_type
        }

    def parameter_defaults(self) -> dict[str, str]:
        return {
            name: str(spec.get("Default", ""))
            for name, spec in self.body.get("Parameters", {}).items()
        }

    def function_globals(self) -> dict[str, Any]:
        return self.body.get("Globals", {}).get("Function", {})

    def generated_dead_letter_queues(self) -> list[str]:
        """The logical ids of the SQS queues SAM generates for events whose DeadLetterConfig says `Type: SQS`."""
        return [queue for source, config in self._dead_letter_configs()
                if (queue := sam_dead_letter_queue(source, config)) is not None]

    def scheduler_events(self) -> list[tuple[str, str, str]]:
        """(target logical id, its type, event id) of every ScheduleV2 event: SAM makes each an
        AWS::Scheduler::Schedule `<target><event>`, with a role `<target><event>Role` unless it names one."""
        return [(logical_id, resource_type, event_id)
                for resource_type in _SAM_TARGETS for logical_id, resource in self.resources(resource_type).items()
                for event_id, event in resource.get("Properties", {}).get("Events", {}).items()
                if event.get("Type") == "ScheduleV2"]

    def _dead_letter_configs(self) -> list[tuple[str, dict[str, Any]]]:
        return [(logical_id + event_id, event["Properties"]["DeadLetterConfig"])
                for resource_type in _SAM_TARGETS for logical_id, resource in self.resources(resource_type).items()
                for event_id, event in resource.get("Properties", {}).get("Events", {}).items()
                if event.get("Type") in _DEAD_LETTER_EVENTS
                and isinstance(event.get("Properties"), dict) and "DeadLetterConfig" in event["Properties"]]


def sam_dead_letter_queue(source_logical_id: str, config: Any) -> str | None:
    """The logical id of the queue SAM generates for an event's DeadLetterConfig (`Type: SQS`: QueueLogicalId, else
    the event source's logical id, resource + event, and "Queue"); None when it names its queue (`Arn`). Refused as
    SAM's translator refuses it (samtranslator EventBridgeRuleUtils.validate_dlq_config)."""
    if not isinstance(config, dict):
        raise TemplateError(f"Event with id [{source_logical_id}] is invalid. DeadLetterConfig must be a mapping.")
    if "Arn" in config and "Type" in config:
        raise TemplateError(f"Event with id [{source_logical_id}] is invalid. "
                            "You can either define 'Arn' or 'Type' property of DeadLetterConfig.")
    if "Type" in config and config["Type"] != "SQS":
        raise TemplateError(f"Event with id [{source_logical_id}] is invalid. "
                            "The only valid value for 'Type' property of DeadLetterConfig is 'SQS'.")
    if "Arn" not in config and "Type" not in config:
        raise TemplateError(f"Event with id [{source_logical_id}] is invalid. "
                            "No 'Arn' or 'Type' property provided for DeadLetterConfig.")
    if "Arn" in config:
        return None
    queue = config.get("QueueLogicalId", source_logical_id + "Queue")
    if not isinstance(queue, str):
        raise TemplateError(f"Event with id [{source_logical_id}] is invalid. QueueLogicalId must be a string")
    return queue


_SIMPLE_TABLE_TYPES = {"String": "S", "Number": "N", "Binary": "B"}


def sam_simple_table_key(logical_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """KeySchema and AttributeDefinitions of the AWS::DynamoDB::Table SAM's transform makes of an
    AWS::Serverless::SimpleTable: its PrimaryKey (`id`, String, without one) as the hash key (samtranslator
    SamSimpleTable._construct_dynamodb_table)."""
    key = properties.get("PrimaryKey") or {"Name": "id", "Type": "String"}
    if key.get("Type") not in _SIMPLE_TABLE_TYPES:
        raise TemplateError(f"Resource with id [{logical_id}] is invalid. Invalid 'Type' \"{key.get('Type')}\".")
    return {"KeySchema": [{"AttributeName": key["Name"], "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": key["Name"], "AttributeType": _SIMPLE_TABLE_TYPES[key["Type"]]}]}


def schedule_name(logical_id: str, event_id: str) -> str:
    """A schedule event's name locally (the local cloud's scheduler's, in its SCHEDULE_ARN and RULE_ARN; the
    Scheduler API's), where CloudFormation generates one (OmitName) or SAM names it after its logical id."""
    return f"{logical_id}-{event_id}"


def sam_dead_letter_arn(source_logical_id: str, config: Any) -> Any:
    """The queue ARN SAM puts in the generated target's DeadLetterConfig: `Arn` as given, or the generated queue's."""
    queue = sam_dead_letter_queue(source_logical_id, config)
    return config["Arn"] if queue is None else {"Fn::GetAtt": [queue, "Arn"]}


class _CloudFormationLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that reads `!Name value` as `{"Fn::Name": value}` (`!Ref` and `!Condition` keep their names).
    libyaml's parser when PyYAML has it (five times faster: every local cloud start and runtime reads the template)."""


def _short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _short_tag)


class Resolver:
    """Evaluates the intrinsic functions of one template for one set of parameters and physical resources."""

    def __init__(
        self,
        template: Template,
        parameters: Mapping[str, str],
        physical: Mapping[str, PhysicalResource],
        pseudo: Mapping[str, str],
    ) -> None:
        self.template = template
        self.parameters = {**template.parameter_defaults(), **parameters}
        self.physical = physical
        self.pseudo = pseudo
        self._conditions: dict[str, bool] = {}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            handler = self._functions().get(key)
            if handler is not None:
                return handler(argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definitions = self.template.body.get("Conditions", {})
            if name not in definitions:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = bool(self.resolve(definitions[name]))
        return self._conditions[name]

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::If": self._if,
            "Fn::Equals": lambda args: str(self.resolve(args[0])) == str(self.resolve(args[1])),
            "Fn::Not": lambda args: not self.resolve(args[0]),
            "Fn::And": lambda args: all(self.resolve(arg) for arg in args),
            "Fn::Or": lambda args: any(self.resolve(arg) for arg in args),
            "Condition": self.condition,
            "Fn::Join": lambda args: str(self.resolve(args[0])).join(str(v) for v in self.resolve(args[1])),
            "Fn::Select": lambda args: self.resolve(args[1])[int(self.resolve(args[0]))],
            "Fn::Split": lambda args: str(self.resolve(args[1])).split(str(self.resolve(args[0]))),
        }

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical:
            return self.physical[name].ref
        raise TemplateError(f"Ref to {name}, which the local runtime does not create")

    def _get_att(self, argument: Any) -> str:
        logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
        resource = self.physical.get(logical_id)
        if resource is None or attribute not in resource.attributes:
            raise TemplateError(f"GetAtt {logical_id}.{attribute} is not known locally")
        return resource.attributes[attribute]

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        values = {name: self.resolve(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            if "." in name and name.split(".", 1)[0] in self.physical:
                return self._get_att(name)
            return str(self._ref(name))

        return _SUB_REFERENCE.sub(replace, text).replace("${!", "${")

    def _if(self, argument: list[Any]) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)
