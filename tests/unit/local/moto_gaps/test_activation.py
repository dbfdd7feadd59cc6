"""The package's own contract: the moto version pin, activation and its exact undoing, nested activations."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from shiftflow.local.moto_gaps import (
    MotoVersionError,
    activate,
    check_moto_version,
    definite_jsonpath,
    lambda_in_process,
    register_lambda_handler,
    time_scale,
)
from tests.unit.local.moto_gaps.conftest import REGION, ROLE_ARN


def test_version_check_fails_loudly_on_any_other_moto() -> None:
    check_moto_version()  # the pinned one passes
    with pytest.raises(MotoVersionError, match="5.2.5"):
        check_moto_version("5.2.6")


def test_deactivation_restores_every_original() -> None:
    from moto.awslambda.models import LambdaBackend
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )
    from moto.stepfunctions.responses import StepFunctionResponse

    before = (
        LambdaBackend.invoke,
        string_expression.extract_json,
        string_expression.eval_jsonata_expression,
        StepFunctionResponse.get_execution_history,
        StateTaskServiceSfn._normalise_response,
        "_normalise_response" in StateTaskServiceSfn.__dict__,
    )
    with activate(time_scale=0.5):
        with activate(time_scale=0.25):
            assert time_scale() == 0.25
            assert LambdaBackend.invoke is not before[0]
        assert time_scale() == 0.5
        assert string_expression.extract_json is definite_jsonpath.extract_json
    assert time_scale() == 1.0
    after = (
        LambdaBackend.invoke,
        string_expression.extract_json,
        string_expression.eval_jsonata_expression,
        StepFunctionResponse.get_execution_history,
        StateTaskServiceSfn._normalise_response,
        "_normalise_response" in StateTaskServiceSfn.__dict__,
    )
    assert after == before


def test_handlers_registered_inside_an_activation_are_forgotten_after_it() -> None:
    with activate():
        register_lambda_handler("Temporary", lambda event, context: None)
        assert lambda_in_process._handlers.get("Temporary") is not None
    assert "Temporary" not in lambda_in_process._handlers


def test_patches_need_the_stepfunctions_execution_config() -> None:
    # Without execute_state_machine moto keeps its no-op backend; the patches must not break it.
    with mock_aws(), activate():
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(
            name="noop", definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
            roleArn=ROLE_ARN,
        )["stateMachineArn"]
        arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
        assert sfn.get_execution_history(executionArn=arn, maxResults=1)["events"]
