"""Gap 25 (shiftflow.local.moto_gaps.parser_error_names): the parser's errors keep their names on the wire."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.unit.local.moto_gaps.conftest import ROLE_ARN, Machines


def test_gap_25_an_input_that_is_not_json_and_an_invalid_definition_are_named_errors(machines: Machines) -> None:
    machine = machines.create({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    with pytest.raises(ClientError) as refused:
        machines.sfn.start_execution(stateMachineArn=machine, input="not json")
    assert refused.value.response["Error"]["Code"] == "InvalidExecutionInput"  # StartExecution's modeled error
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(machines.sfn.exceptions.InvalidDefinition):
        machines.sfn.create_state_machine(name="no-states", definition=json.dumps({"StartAt": "A"}),
                                          roleArn=ROLE_ARN)
