"""Gap 10 (shiftflow.local.moto_gaps.parse_cache): one parse per definition, shared by concurrent executions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.unit.local.moto_gaps.conftest import Machines, output_of


def test_a_definition_is_parsed_once_and_its_program_serves_concurrent_executions(machines: Machines) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 3,
                "ItemProcessor": {"StartAt": "Double", "States": {"Double": {
                    "Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $)"}, "End": True}}},
                "ResultSelector": {"values.$": "$[*].v"},
                "Next": "Both",
            },
            "Both": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "Keep", "States": {"Keep": {"Type": "Pass", "End": True}}}],
                "OutputPath": "$[0].values",
                "End": True,
            },
        },
    }
    text = json.dumps(definition)
    assert AmazonStateLanguageParser.parse(text) is AmazonStateLanguageParser.parse(text)
    arn = machines.create(definition)
    executions = [machines.start(arn, {"items": list(range(n, n + 5))}) for n in range(8)]
    outputs = [output_of(machines.finish(execution)) for execution in executions]
    assert outputs == [[2 * value for value in range(n, n + 5)] for n in range(8)]


_RUN_FROM_A_FRESH_PROCESS = """
import json, sys
import boto3
from moto import mock_aws
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from shiftflow.local.moto_gaps import activate, wait_for_execution

if sys.argv[1] == "no-parsing":  # the ANTLR parse is gone: only a program from disk can serve
    def refuse(definition):
        raise AssertionError("parsed again")
    AmazonStateLanguageParser.parse = staticmethod(refuse)
with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}), activate(time_scale=0.001):
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = sfn.create_state_machine(name="disk", definition=sys.argv[2],
                                   roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"items": [1, 2, 3]}))["executionArn"]
    wait_for_execution(execution, timeout=30)
    described = sfn.describe_execution(executionArn=execution)
    print(described["status"], described.get("output"))
"""


def test_the_next_process_runs_the_program_kept_on_disk_without_parsing(tmp_path: Path) -> None:
    definition = json.dumps({"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "Double", "States": {"Double": {
            "Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $)"}, "End": True}}},
        "ResultSelector": {"values.$": "$[*].v"}, "End": True}}})
    environment = {**os.environ, "SHIFTFLOW_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}

    def run(mode: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", _RUN_FROM_A_FRESH_PROCESS, mode, definition], cwd=ROOT,
                              env=environment, capture_output=True, text=True, timeout=300)

    # Nothing kept yet: the refusing parser fails the definition (so a later success can only come from the disk).
    refused = run("no-parsing")
    assert refused.returncode != 0 and "parsed again" in refused.stderr
    expected = 'SUCCEEDED {"values": [2, 4, 6]}'
    parsed = run("parse")
    assert (parsed.returncode, parsed.stdout.strip()) == (0, expected), parsed.stderr[-2000:]
    assert len(list((tmp_path / "asl-programs").glob("*.pickle"))) == 1
    loaded = run("no-parsing")
    assert (loaded.returncode, loaded.stdout.strip()) == (0, expected), loaded.stderr[-2000:]


def test_an_unreadable_kept_program_is_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from shiftflow.local.moto_gaps import parse_cache

    monkeypatch.setenv("SHIFTFLOW_CACHE_DIR", str(tmp_path))
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert parse_cache.load_program(definition) is None
    entry = parse_cache._entry(definition)
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"half a pickle")
    assert parse_cache.load_program(definition) is None
    parse_cache.save_program(definition, {"a program": 1})
    assert parse_cache.load_program(definition) == {"a program": 1}
