"""shiftflow.local.warm_caches (what `make setup` runs last): the caches a local cloud's start reads are filled, and
a template or ASL file changed after setup is parsed again when deployed, never served from the warmed entries."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from shiftflow.local.template import Template
from shiftflow.local.warm_caches import warm
from tests.conftest import ROOT


def _project_copy(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".shiftflow", "__pycache__", "docs", "tests", "benchmarks", ".pytest_cache"))
    return project


def _counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """moto's ANTLR parse, counted: the cache's patch (applied when a runtime starts) wraps this one."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    parse, parsed = AmazonStateLanguageParser.__dict__["parse"].__func__, []

    def counting(definition: str) -> object:
        parsed.append(definition)
        return parse(definition)

    monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(counting))
    return parsed


def test_warming_fills_the_caches_and_a_changed_asl_file_is_parsed_again(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from shiftflow.local.runtime import STACK_NAME, LocalRuntime

    cache = tmp_path / "cache"
    monkeypatch.setenv("SHIFTFLOW_CACHE_DIR", str(cache))
    project = _project_copy(tmp_path)
    machines = Template.load(project / "template.yaml").resources("AWS::Serverless::StateMachine")
    parsed = _counting_parses(monkeypatch)
    warm(project)
    assert len(parsed) == len(machines) == len(list((cache / "asl-programs").glob("*.pickle")))
    assert any((cache / "botocore-data").iterdir())
    assert not (project / ".shiftflow").exists()

    asl = project / "statemachine" / "run_sql_job.asl.json"
    definition = json.loads(asl.read_text())
    definition["Comment"] = "changed after setup"
    asl.write_text(json.dumps(definition))
    parsed.clear()
    with LocalRuntime(project, state_dir=tmp_path / "state", persist=False, log_level="WARNING") as runtime:
        sfn = runtime.client("stepfunctions")
        arn = next(machine["stateMachineArn"] for machine in sfn.list_state_machines()["stateMachines"]
                   if machine["name"] == f"{STACK_NAME}-RunSqlJobStateMachine")
        deployed = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
    assert deployed["Comment"] == "changed after setup"
    assert [json.loads(text).get("Comment") for text in parsed] == ["changed after setup"]  # the others: from disk
