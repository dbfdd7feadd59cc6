"""Gap 10 (shiftflow.local.moto_gaps.parse_cache): one parse per definition, shared by concurrent executions."""

from __future__ import annotations

import json

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
