"""Helpers for the template tests: read template.yaml, transform it with SAM in-process, evaluate its Rules and
Conditions for a set of parameter values, and walk IAM policy statements."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
NO_VALUE = object()


def load_template() -> dict[str, Any]:
    """template.yaml as plain dicts, with short-form tags (!Ref, !If...) in their long form."""
    body, problems = decode_str(TEMPLATE_PATH.read_text())
    assert not problems, problems
    return json.loads(json.dumps(body))


class _ManagedPolicies:
    """Stands in for SAM's IAM lookup of AWS managed policy names (the only one SAM adds here is for X-Ray)."""

    def load(self) -> dict[str, str]:
        return {"AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"}


def sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    """The plain CloudFormation template SAM deploys. Local code paths are replaced by S3 locations, as
    `sam package` would do."""
    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if isinstance(properties.get("CodeUri"), str):
            properties["CodeUri"] = "s3://shiftflow-artifacts/code.zip"
        for key in ("ContentUri", "DefinitionUri"):
            if isinstance(properties.get(key), str):
                properties[key] = {"Bucket": "shiftflow-artifacts", "Key": f"{key}.json"}
    return transform(template, {}, _ManagedPolicies())


class Evaluator:
    """Evaluates the intrinsic functions a template's Rules, Conditions and policies use, for given parameter
    values. GetAtt and Refs to resources become readable placeholders (`<Logical.Attribute>`, `<Logical>`)."""

    PSEUDO = {
        "AWS::Partition": "aws",
        "AWS::Region": "us-east-1",
        "AWS::AccountId": "123456789012",
        "AWS::StackName": "shiftflow-test",
    }

    def __init__(self, template: dict[str, Any], parameters: Mapping[str, str]) -> None:
        self.template = template
        defaults = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
        unknown = set(parameters) - set(defaults)
        assert not unknown, f"not template parameters: {unknown}"
        self.parameters = {**defaults, **parameters}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(self, value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            handler = {
                "Ref": self._ref,
                "Fn::GetAtt": self._get_att,
                "Fn::Sub": self._sub,
                "Fn::If": self._if,
                "Condition": self.condition,
                "Fn::Equals": lambda args: str(self(args[0])) == str(self(args[1])),
                "Fn::Not": lambda args: not self(args[0]),
                "Fn::And": lambda args: all(self(arg) for arg in args),
                "Fn::Or": lambda args: any(self(arg) for arg in args),
            }.get(key)
            if handler is not None:
                return handler(argument)
            assert not key.startswith("Fn::"), f"{key} is not evaluated by the test helper"
        resolved = {key: self(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def condition(self, name: str) -> bool:
        return bool(self(self.template["Conditions"][name]))

    def failed_rules(self) -> list[str]:
        """Names of the Rules whose assertions fail, as CloudFormation checks them before creating anything."""
        failed = []
        for name, rule in self.template.get("Rules", {}).items():
            if "RuleCondition" in rule and not self(rule["RuleCondition"]):
                continue
            if not all(self(assertion["Assert"]) for assertion in rule["Assertions"]):
                failed.append(name)
        return failed

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.PSEUDO:
            return self.PSEUDO[name]
        if name in self.parameters:
            return self.parameters[name]
        assert name in self.template["Resources"], f"Ref to unknown {name}"
        return f"<{name}>"

    def _get_att(self, argument: Any) -> str:
        logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
        assert logical_id in self.template["Resources"], f"GetAtt of unknown {logical_id}"
        return f"<{logical_id}.{attribute}>"

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        values = {name: self(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            if "." in name and not name.startswith("AWS::"):
                return self._get_att(name)
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!][^}]*)\}", replace, text)

    def _if(self, argument: list[Any]) -> Any:
        name, when_true, when_false = argument
        return self(when_true if self.condition(name) else when_false)


def policy_documents(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, policy document) for every identity policy of a (transformed) template."""
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                yield f"{logical_id}/{policy['PolicyName']}", policy["PolicyDocument"]
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield logical_id, properties["PolicyDocument"]


def statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every statement of a policy document, both branches of a conditional (Fn::If) statement included."""
    raw = document["Statement"]
    for statement in raw if isinstance(raw, list) else [raw]:
        yield from _branches(statement)


def _branches(statement: Any) -> Iterator[dict[str, Any]]:
    if isinstance(statement, dict) and set(statement) == {"Fn::If"}:
        for branch in statement["Fn::If"][1:]:
            yield from _branches(branch)
    elif isinstance(statement, dict) and statement != {"Ref": "AWS::NoValue"}:
        yield statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def asl_placeholders(path: Path) -> set[str]:
    """The ${Name} placeholders of an ASL file that DefinitionSubstitutions must fill."""
    return set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", path.read_text()))
