"""Gap 28 (shiftflow.local.moto_gaps.stack_resources): a stack registered over resources created before it lists them
as CloudFormation does; other stacks keep moto's answers."""

from __future__ import annotations

import datetime
import json

import boto3
import pytest
from botocore.exceptions import ClientError

from shiftflow.local.moto_gaps import adopt_stack_resources
from shiftflow.local.template import StackResource
from tests.unit.local.moto_gaps.conftest import REGION

ACCOUNT = "123456789012"
DEPLOYED = datetime.datetime(2026, 12, 3, 5, 52, 30, 123000, tzinfo=datetime.timezone.utc)
RESOURCES = [
    StackResource("SubmitFunction", "AWS::Lambda::Function", "stack-SubmitFunction"),
    StackResource("JobTable", "AWS::DynamoDB::Table", "stack-JobTable"),
    StackResource("JobMachine", "AWS::StepFunctions::StateMachine",
                  f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:stack-JobMachine"),
]
DRIFT = {"StackResourceDriftStatus": "NOT_CHECKED"}


@pytest.fixture
def cloudformation(aws: None):
    client = boto3.client("cloudformation", region_name=REGION)
    client.create_stack(StackName="stack", TemplateBody=json.dumps({"Resources": {}, "Outputs": {"A": {"Value": "1"}}}))
    adopt_stack_resources(ACCOUNT, REGION, "stack", RESOURCES, DEPLOYED)
    return client


def test_the_adopted_resources_are_listed_in_logical_id_order_created_when_deployed(cloudformation):
    moment = DEPLOYED
    stack = cloudformation.describe_stacks(StackName="stack")["Stacks"][0]
    assert stack["CreationTime"] == moment
    assert cloudformation.list_stack_resources(StackName="stack")["StackResourceSummaries"] == [
        {"LogicalResourceId": resource.logical_id, "PhysicalResourceId": resource.physical_id,
         "ResourceType": resource.resource_type, "LastUpdatedTimestamp": moment, "ResourceStatus": "CREATE_COMPLETE",
         "DriftInformation": DRIFT}
        for resource in sorted(RESOURCES, key=lambda resource: resource.logical_id)]
    described = cloudformation.describe_stack_resources(StackName="stack")["StackResources"]
    assert [resource["LogicalResourceId"] for resource in described] == ["JobMachine", "JobTable", "SubmitFunction"]
    assert described[2] == {
        "StackName": "stack", "StackId": stack["StackId"], "LogicalResourceId": "SubmitFunction",
        "PhysicalResourceId": "stack-SubmitFunction", "ResourceType": "AWS::Lambda::Function", "Timestamp": moment,
        "ResourceStatus": "CREATE_COMPLETE", "DriftInformation": DRIFT}
    detail = cloudformation.describe_stack_resource(StackName="stack", LogicalResourceId="JobTable")
    assert detail["StackResourceDetail"] == {
        "StackName": "stack", "StackId": stack["StackId"], "LogicalResourceId": "JobTable",
        "PhysicalResourceId": "stack-JobTable", "ResourceType": "AWS::DynamoDB::Table",
        "LastUpdatedTimestamp": moment, "ResourceStatus": "CREATE_COMPLETE", "DriftInformation": DRIFT}


def test_an_unknown_logical_id_fails_describe_stack_resource_and_filters_describe_stack_resources(cloudformation):
    with pytest.raises(ClientError) as raised:
        cloudformation.describe_stack_resource(StackName="stack", LogicalResourceId="Nope")
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert raised.value.response["Error"]["Message"] == "Resource Nope does not exist for stack stack"
    assert cloudformation.describe_stack_resources(StackName="stack", LogicalResourceId="Nope")["StackResources"] == []
    [one] = cloudformation.describe_stack_resources(StackName="stack", LogicalResourceId="JobTable")["StackResources"]
    assert one["PhysicalResourceId"] == "stack-JobTable"
    with pytest.raises(ClientError) as raised:
        cloudformation.list_stack_resources(StackName="other")
    assert raised.value.response["Error"]["Message"] == "Stack with id other does not exist"


def test_a_physical_id_finds_its_resource_without_the_stack_name(cloudformation):
    [found] = cloudformation.describe_stack_resources(PhysicalResourceId="stack-SubmitFunction")["StackResources"]
    assert (found["StackName"], found["LogicalResourceId"]) == ("stack", "SubmitFunction")
    with pytest.raises(ClientError) as raised:
        cloudformation.describe_stack_resources(PhysicalResourceId="stack-Nothing")
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert raised.value.response["Error"]["Message"] == "Stack for stack-Nothing does not exist"


def test_a_stack_moto_created_keeps_its_own_answers(cloudformation):
    cloudformation.create_stack(StackName="queues", TemplateBody=json.dumps(
        {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q"}}}}))
    [summary] = cloudformation.list_stack_resources(StackName="queues")["StackResourceSummaries"]
    assert (summary["LogicalResourceId"], summary["ResourceType"]) == ("Queue", "AWS::SQS::Queue")
    [described] = cloudformation.describe_stack_resources(StackName="queues")["StackResources"]
    assert described["PhysicalResourceId"] == summary["PhysicalResourceId"]
