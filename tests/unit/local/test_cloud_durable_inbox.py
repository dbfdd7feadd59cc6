"""The local notification inbox on disk: what was delivered and not yet read outlives the cloud."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from shiftflow.local.cloud.durable_inbox import InboxFile, restore, write_through


def _inbox(sqs, sns, name: str = "inbox") -> tuple[str, str]:
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return queue, topic


def test_delivered_notifications_are_saved_until_read_and_come_back(tmp_path):
    inbox = InboxFile(tmp_path)
    with mock_aws():
        sqs, sns = boto3.client("sqs", region_name="us-east-1"), boto3.client("sns", region_name="us-east-1")
        queue, topic = _inbox(sqs, sns)
        other = sqs.create_queue(QueueName="other")["QueueUrl"]
        with write_through(inbox, "inbox"):
            sns.publish(TopicArn=topic, Subject="first", Message="one")
            sns.publish(TopicArn=topic, Subject="second", Message="two")
            sqs.send_message(QueueUrl=other, MessageBody="not a notification")
            assert [json.loads(body)["Subject"] for body in inbox.load()] == ["first", "second"]
            [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1)["Messages"]
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            assert [json.loads(body)["Subject"] for body in inbox.load()] == ["second"]
    with mock_aws():  # a new cloud: an empty inbox, refilled from the file
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        assert restore(inbox, sqs, queue) == 1
        [message] = sqs.receive_message(QueueUrl=queue)["Messages"]
        assert json.loads(message["Body"])["Message"] == "two"


def test_a_kept_queue_keeps_its_message_attributes_and_an_old_file_of_bodies_still_reads(tmp_path):
    """The template's failure queues are kept too: an EventBridge dead-letter message is its attributes as much as
    its body."""
    from shiftflow.local.cloud.durable_inbox import queue_file

    failures = InboxFile(tmp_path, queue_file("failures"))
    attributes = {"ERROR_CODE": {"DataType": "String", "StringValue": "NO_RESOURCE"}}
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue = sqs.create_queue(QueueName="failures")["QueueUrl"]
        with write_through(InboxFile(tmp_path), "inbox", {"failures": failures}):
            sqs.send_message(QueueUrl=queue, MessageBody='{"id": "event-1"}', MessageAttributes=attributes)
    assert (tmp_path / "queues" / "failures.json").is_file()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue = sqs.create_queue(QueueName="failures")["QueueUrl"]
        assert restore(failures, sqs, queue) == 1
        [message] = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]
        assert message["Body"] == '{"id": "event-1"}'
        assert message["MessageAttributes"] == {"ERROR_CODE": {"DataType": "String", "StringValue": "NO_RESOURCE"}}
    (tmp_path / "notifications.json").write_text(json.dumps(["an older inbox"]))
    assert InboxFile(tmp_path).messages() == [("an older inbox", {})]
