"""Gap 27 (shiftflow.local.moto_gaps.function_records): functions whose handlers run in-process are Lambda functions
to the Lambda API, as CreateFunction would have made them; an unknown function is still not found."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from shiftflow.local.moto_gaps import activate, record_function, register_lambda_handler
from shiftflow.local.moto_gaps.function_records import code_zip
from tests.unit.local.moto_gaps.conftest import REGION

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/stack-FunctionRole"  # not in moto's IAM: the local runtime's roles are not
LAMBDA_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")  # 2020-11-23T18:28:03.913+0000


def request(name: str = "stack-Submit", **more: Any) -> dict[str, Any]:
    return {"FunctionName": name, "Role": ROLE, "Runtime": "python3.13", "Handler": "app.lambda_handler",
            "Description": "Submits", "Timeout": 30, "MemorySize": 256, "Architectures": ["arm64"],
            "Environment": {"Variables": {"TABLE": "stack-Table"}}, "TracingConfig": {"Mode": "Active"},
            "Tags": {"lambda:createdBy": "SAM"}, "PackageType": "Zip", **more}


@pytest.fixture
def code(tmp_path: Path) -> Path:
    folder = tmp_path / "submit"
    folder.mkdir()
    (folder / "app.py").write_text("def lambda_handler(event, context):\n    return event\n")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"compiled")
    return folder


def lambda_backend() -> Any:
    from moto.awslambda.utils import get_backend

    return get_backend(ACCOUNT, REGION)


def test_a_recorded_function_is_listed_and_described_as_create_function_makes_it(aws: None, code: Path):
    record_function(ACCOUNT, REGION, request(LoggingConfig={"LogGroup": "stack-SubmitLogGroup"}), code)
    client = boto3.client("lambda", region_name=REGION)

    [listed] = client.list_functions()["Functions"]
    configuration = client.get_function_configuration(FunctionName="stack-Submit")
    configuration.pop("ResponseMetadata")
    assert listed == configuration
    package = code_zip(code)
    assert configuration == {
        "FunctionName": "stack-Submit",
        "FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:stack-Submit",
        "Runtime": "python3.13", "Role": ROLE, "Handler": "app.lambda_handler", "Description": "Submits",
        "Timeout": 30, "MemorySize": 256, "Architectures": ["arm64"],
        "Environment": {"Variables": {"TABLE": "stack-Table"}}, "TracingConfig": {"Mode": "Active"},
        "State": "Active", "LastUpdateStatus": "Successful", "PackageType": "Zip", "Version": "$LATEST",
        "CodeSize": len(package), "CodeSha256": base64.b64encode(hashlib.sha256(package).digest()).decode(),
        "LastModified": configuration["LastModified"], "Layers": [], "EphemeralStorage": {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": "stack-SubmitLogGroup"},
    }
    assert LAMBDA_TIMESTAMP.match(configuration["LastModified"]), configuration["LastModified"]

    function = client.get_function(FunctionName=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:stack-Submit")
    assert function["Configuration"]["FunctionName"] == "stack-Submit"
    assert function["Code"]["RepositoryType"] == "S3"
    assert function["Tags"] == {"lambda:createdBy": "SAM"}
    assert client.list_tags(Resource=configuration["FunctionArn"])["Tags"] == {"lambda:createdBy": "SAM"}


def test_without_a_logging_config_the_log_group_is_lambdas_default(aws: None, code: Path):
    record_function(ACCOUNT, REGION, request(), code)
    configuration = boto3.client("lambda", region_name=REGION).get_function_configuration(FunctionName="stack-Submit")
    assert configuration["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/stack-Submit"}


def test_an_unknown_function_is_not_found_as_on_lambda(aws: None, code: Path):
    record_function(ACCOUNT, REGION, request(), code)
    client = boto3.client("lambda", region_name=REGION)
    for call in (lambda: client.get_function(FunctionName="stack-Other"),
                 lambda: client.get_function_configuration(FunctionName="stack-Other"),
                 lambda: client.invoke(FunctionName="stack-Other", Payload=b"{}")):
        with pytest.raises(ClientError) as raised:
            call()
        assert raised.value.response["Error"] == {
            "Code": "ResourceNotFoundException",
            "Message": f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:stack-Other"}


def test_records_are_built_on_the_first_lambda_request_other_than_an_invocation(aws: None, code: Path):
    """Nothing is built when a function is recorded, nor when it is invoked (the handler runs without a record):
    a start and the first job of a run cost nothing more."""
    record_function(ACCOUNT, REGION, request(), code)
    register_lambda_handler("stack-Submit", lambda event, context: {"echo": event, "memory": context.memory_limit_in_mb},
                            timeout_seconds=30, memory_mb=256)
    assert list(lambda_backend().list_functions()) == []
    client = boto3.client("lambda", region_name=REGION)
    answer = client.invoke(FunctionName="stack-Submit", Payload=json.dumps({"job": 1}))
    assert json.loads(answer["Payload"].read()) == {"echo": {"job": 1}, "memory": 256}
    assert list(lambda_backend().list_functions()) == []
    assert [fn["FunctionName"] for fn in client.list_functions()["Functions"]] == ["stack-Submit"]
    answer = client.invoke(FunctionName="stack-Submit", Payload=json.dumps({"job": 2}))  # invoked as before
    assert json.loads(answer["Payload"].read()) == {"echo": {"job": 2}, "memory": 256}


def test_the_code_digest_follows_the_code_not_the_files_dates(code: Path):
    first = code_zip(code)
    (code / "app.py").touch()
    assert code_zip(code) == first
    (code / "app.py").write_text("def lambda_handler(event, context):\n    return None\n")
    assert code_zip(code) != first
    import io
    import zipfile

    assert zipfile.ZipFile(io.BytesIO(first)).namelist() == ["app.py"]  # no __pycache__


def test_functions_recorded_in_one_activation_do_not_reach_the_next(code: Path):
    with mock_aws(), activate():
        record_function(ACCOUNT, REGION, request(), code)  # never asked for: still pending at the end
    with mock_aws(), activate():
        assert boto3.client("lambda", region_name=REGION).list_functions()["Functions"] == []


def test_a_functions_permissions_and_event_invoke_config_are_its_policy_and_configuration(aws: None, code: Path):
    """What CloudFormation adds with SAM's AWS::Lambda::Permission and AWS::Lambda::EventInvokeConfig: GetPolicy's
    statement (the rule's ARN as AWS:SourceArn), GetFunctionEventInvokeConfig; a function without either answers
    ResourceNotFoundException as Lambda does."""
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/stack-Rule"
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:stack-Failures"
    record_function(ACCOUNT, REGION, request(
        Permissions=[{"StatementId": "stack-SubmitRulePermission", "Action": "lambda:InvokeFunction",
                      "Principal": "events.amazonaws.com", "SourceArn": rule}],
        EventInvokeConfig={"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600,
                           "DestinationConfig": {"OnFailure": {"Destination": queue}}}), code)
    record_function(ACCOUNT, REGION, request("stack-Other"), code)
    client = boto3.client("lambda", region_name=REGION)
    function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:stack-Submit"
    assert json.loads(client.get_policy(FunctionName="stack-Submit")["Policy"]) == {
        "Version": "2012-10-17", "Id": "default", "Statement": [{
            "Sid": "stack-SubmitRulePermission", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "lambda:InvokeFunction", "Resource": function_arn,
            "Condition": {"ArnLike": {"AWS:SourceArn": rule}}}]}
    config = client.get_function_event_invoke_config(FunctionName="stack-Submit")
    assert {key: config[key] for key in ("FunctionArn", "MaximumRetryAttempts", "MaximumEventAgeInSeconds",
                                         "DestinationConfig")} == {
        "FunctionArn": function_arn, "MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600,
        "DestinationConfig": {"OnFailure": {"Destination": queue}}}
    for call in (client.get_policy, client.get_function_event_invoke_config):
        with pytest.raises(ClientError) as raised:
            call(FunctionName="stack-Other")
        assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
