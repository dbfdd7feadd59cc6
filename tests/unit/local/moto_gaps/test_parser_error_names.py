"""Gap 25 (shiftflow.local.moto_gaps.parser_error_names): the parser's errors keep their names on the wire."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.unit.local.moto_gaps.conftest import ROLE_ARN, Machines


def test_gap_25_an_invalid_definition_and_an_empty_update_are_named_errors(machines: Machines) -> None:
    with pytest.raises(ClientError) as refused:
        machines.sfn.create_state_machine(name="no-states", definition=json.dumps({"StartAt": "A"}),
                                          roleArn=ROLE_ARN)
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"  # CreateStateMachine's modeled error
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    machine = machines.create({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    with pytest.raises(machines.sfn.exceptions.MissingRequiredParameter):
        machines.sfn.update_state_machine(stateMachineArn=machine)
