"""Behaviour moto already has, verified so that a moto upgrade cannot silently lose it (no gap module)."""

from __future__ import annotations

import json

import boto3

from tests.unit.local.moto_gaps.conftest import REGION, Machines, output_of


def test_dynamodb_guard_conditional_update_is_catchable_and_put_and_sns_work(machines: Machines) -> None:
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName="guard",
        KeySchema=[{"AttributeName": "JobID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "JobID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    definition = {
        "StartAt": "Arm",
        "States": {
            "Arm": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": "guard", "Item": {"JobID": {"S": "sales"}, "JobState": {"S": "Running"}}},
                "ResultPath": None,
                "Next": "Acquire",
            },
            "Acquire": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {
                    "TableName": "guard",
                    "Key": {"JobID": {"S": "sales"}},
                    "UpdateExpression": "SET JobState = :running",
                    "ConditionExpression": "JobState = :ready",
                    "ExpressionAttributeValues": {":running": {"S": "Running"}, ":ready": {"S": "Ready"}},
                },
                "Catch": [
                    {"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.guard",
                     "Next": "Notify"}
                ],
                "Next": "Unexpected",
            },
            "Unexpected": {"Type": "Fail", "Error": "GuardNotHeld"},
            "Notify": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn": topic, "Message.$": "States.Format('job {} skipped', $.job)"},
                "ResultSelector": {"id.$": "$.MessageId"},
                "ResultPath": "$.published",
                "End": True,
            },
        },
    }
    result = output_of(machines.run(definition, {"job": "sales"}))
    assert result["guard"]["Error"] == "DynamoDB.ConditionalCheckFailedException"
    assert "conditional request failed" in result["guard"]["Cause"]
    assert result["published"]["id"]
    item = ddb.get_item(TableName="guard", Key={"JobID": {"S": "sales"}})["Item"]
    assert item["JobState"] == {"S": "Running"}
    messages = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    assert [m["Body"] for m in messages] == ["job sales skipped"]


def test_fail_state_error_path_and_cause_path_with_intrinsics(machines: Machines) -> None:
    definition = {
        "StartAt": "Build",
        "States": {
            "Build": {
                "Type": "Pass",
                "Parameters": {
                    "error.$": "States.Format('Job{}Failed', $.job)",
                    "cause.$": "States.JsonToString($.detail)",
                    "parsed.$": "States.StringToJson($.raw)",
                    "second.$": "States.ArrayGetItem($.items, 1)",
                    "parts.$": "States.StringSplit($.csv, ',')",
                },
                "ResultPath": "$.built",
                "Next": "Check",
            },
            "Check": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": "$.built.parsed.k", "NumericEquals": 1},
                            {"Variable": "$.built.second", "StringEquals": "b"},
                            {"Variable": "$.built.parts[2]", "StringEquals": "z"},
                        ],
                        "Next": "Stop",
                    }
                ],
                "Default": "Wrong",
            },
            "Wrong": {"Type": "Succeed"},
            "Stop": {"Type": "Fail", "ErrorPath": "$.built.error", "CausePath": "$.built.cause"},
        },
    }
    payload = {"job": "Sales", "detail": {"statement": "s-1"}, "raw": '{"k": 1}', "items": ["a", "b"], "csv": "x,y,z"}
    failed = machines.run(definition, payload)
    assert failed["status"] == "FAILED"
    assert failed["error"] == "JobSalesFailed"
    assert json.loads(failed["cause"]) == {"statement": "s-1"}
