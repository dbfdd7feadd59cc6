"""The deployment docs in step with template.yaml (read with the local runtime's own loader): every function and
state machine named, none that does not exist, each with its code folder or definition file; the parameters
table and the stable outputs complete. Also the LICENSE pyproject.toml declares."""

from __future__ import annotations

import re
import tomllib

import pytest

from shiftflow.local.template import Template
from tests.conftest import ROOT

TEMPLATE = Template.load(ROOT / "template.yaml")
DEPLOY_DOC = (ROOT / "docs" / "deploy.md").read_text()
FUNCTIONS_README = (ROOT / "functions" / "README.md").read_text()
FUNCTION, STATE_MACHINE = "AWS::Serverless::Function", "AWS::Serverless::StateMachine"
SUFFIX = {FUNCTION: "Function", STATE_MACHINE: "StateMachine"}


def logical_ids_named(text: str, resource_type: str) -> set[str]:
    """Every word that reads as a logical id of that type (SubmitSqlJobFunction, not DescribeFailureFunctionRole)."""
    return set(re.findall(rf"\b[A-Z][A-Za-z0-9]+{SUFFIX[resource_type]}\b", text))


def section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


@pytest.mark.parametrize("resource_type", [FUNCTION, STATE_MACHINE])
def test_deploy_doc_names_every_resource_of_the_template_and_no_other(resource_type):
    declared = set(TEMPLATE.resources(resource_type))
    named = logical_ids_named(DEPLOY_DOC, resource_type)
    assert not named - declared, f"docs/deploy.md names what template.yaml lacks: {sorted(named - declared)}"
    assert not declared - named, f"docs/deploy.md misses: {sorted(declared - named)}"


@pytest.mark.parametrize(("resource_type", "path_property"), [(FUNCTION, "CodeUri"), (STATE_MACHINE, "DefinitionUri")])
def test_deploy_doc_gives_each_resource_its_code_or_definition(resource_type, path_property):
    for logical_id, resource in TEMPLATE.resources(resource_type).items():
        row = f"| `{logical_id}` | `{resource['Properties'][path_property]}` |"
        assert row in DEPLOY_DOC, f"docs/deploy.md lacks the row {row}"


def test_functions_readme_lists_every_function_with_its_folder():
    functions = TEMPLATE.resources(FUNCTION)
    assert logical_ids_named(FUNCTIONS_README, FUNCTION) == set(functions)
    for logical_id, resource in functions.items():
        folder = resource["Properties"]["CodeUri"].removeprefix("functions/").rstrip("/")
        assert f"| {folder} | {logical_id} |" in FUNCTIONS_README, logical_id


def test_functions_readme_states_each_timeout_the_template_sets():
    """A row that states its function's timeout ("timeout 80 s") states the template's Timeout."""
    stated = dict(re.findall(r"^\| \S+ \| (\w+Function) \|.*\btimeout (\d+) s\b", FUNCTIONS_README,
                             flags=re.MULTILINE))
    assert stated, "functions/README.md states no timeout: the pattern is stale"
    functions, default = TEMPLATE.resources(FUNCTION), TEMPLATE.body["Globals"]["Function"]["Timeout"]
    assert {logical_id: functions[logical_id]["Properties"].get("Timeout", default) for logical_id in stated} == {
        logical_id: int(seconds) for logical_id, seconds in stated.items()}


def test_deploy_doc_parameters_table_is_the_templates_parameters():
    rows = re.findall(r"^\| `(\w+)` \|", section(DEPLOY_DOC, "Parameters"), flags=re.MULTILINE)
    assert sorted(rows) == sorted(TEMPLATE.body["Parameters"])


def test_deploy_doc_names_every_stable_output_and_only_outputs():
    outputs = set(TEMPLATE.body["Outputs"])
    stable_names = set(re.findall(r"`(\w+)`", section(DEPLOY_DOC, "Stable names")))
    assert stable_names == outputs


def test_license_is_the_apache_2_0_text_pyproject_declares():
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == {"text": "Apache-2.0"}
    text = (ROOT / "LICENSE").read_text()
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text and "END OF TERMS AND CONDITIONS" in text
