"""The operator's side of the job guard (`shiftflow status`, `shiftflow reset`) against moto's DynamoDB."""

import boto3
import pytest
from moto import mock_aws

from shiftflow.guard import GuardError, plain, read_guards, read_history, reset_guard

TABLE, HISTORY = "guard", "history"


@pytest.fixture
def dynamodb():
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "JobID", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "JobID", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        client.create_table(TableName=HISTORY,
                            KeySchema=[{"AttributeName": "JobID", "KeyType": "HASH"},
                                       {"AttributeName": "RunStart", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "JobID", "AttributeType": "S"},
                                                  {"AttributeName": "RunStart", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        yield client


def put_guard(client, job, state, **extra):
    item = {"JobID": {"S": job}, "JobState": {"S": state}, **{k: {"S": v} for k, v in extra.items()}}
    client.put_item(TableName=TABLE, Item=item)


def test_reset_rearms_a_failed_guard_and_says_so(dynamodb):
    put_guard(dynamodb, "sales", "Failed", FailedStep="load_item_dimension", OwnerExecution="arn:e1")
    message = reset_guard(dynamodb, TABLE, "sales")
    assert message == "job sales: guard reset from Failed to Ready (failed step load_item_dimension); the next run will start"
    assert read_guards(dynamodb, TABLE, "sales")[0]["JobState"] == "Ready"


def test_reset_refuses_a_running_guard_unless_forced(dynamodb):
    put_guard(dynamodb, "sales", "Running", OwnerExecution="arn:e2")
    with pytest.raises(GuardError, match=r"job sales is Running \(execution arn:e2\).*--force"):
        reset_guard(dynamodb, TABLE, "sales")
    assert read_guards(dynamodb, TABLE, "sales")[0]["JobState"] == "Running"
    assert "from Running to Ready" in reset_guard(dynamodb, TABLE, "sales", force=True)


def test_reset_of_ready_or_unknown_jobs_changes_nothing(dynamodb):
    put_guard(dynamodb, "sales", "Ready")
    assert reset_guard(dynamodb, TABLE, "sales") == "job sales is already Ready: nothing to reset"
    assert reset_guard(dynamodb, TABLE, "never") == "job never has no guard yet: it is ready to run, nothing to reset"
    assert read_guards(dynamodb, TABLE, "never") == []


def test_status_lists_every_guard_and_history_is_newest_first(dynamodb):
    put_guard(dynamodb, "b", "Ready")
    put_guard(dynamodb, "a", "Failed")
    assert [(g["JobID"], g["JobState"]) for g in read_guards(dynamodb, TABLE)] == [("a", "Failed"), ("b", "Ready")]
    for start in ("2026-11-20T01:00:00Z", "2026-11-21T01:00:00Z", "2026-11-19T01:00:00Z"):
        dynamodb.put_item(TableName=HISTORY, Item={"JobID": {"S": "a"}, "RunStart": {"S": start}})
    assert [item["RunStart"] for item in read_history(dynamodb, HISTORY, "a", limit=2)] == [
        "2026-11-21T01:00:00Z", "2026-11-20T01:00:00Z"]


def test_items_read_as_boto3_s_deserializer_reads_them():
    from boto3.dynamodb.types import Binary, TypeDeserializer

    numbers = ["0", "-0", "1.50", "-12345678901234567890123456789012345678", "9.9999999999999999999999999999999999999E+125",
               "1E-130", "0.000001"]
    item = {"text": {"S": "é"}, "flag": {"BOOL": False}, "nothing": {"NULL": True},
            "numbers": {"L": [{"N": number} for number in numbers]}, "names": {"SS": ["a", "b"]},
            "counts": {"NS": ["1", "2.5"]}, "nested": {"M": {"inner": {"L": [{"S": "x"}, {"M": {}}]}}},
            "blob": {"B": b"\x00\x01"}, "blobs": {"BS": [b"a", b"b"]}}
    expected = {key: TypeDeserializer().deserialize(value) for key, value in item.items()}
    read = plain(item)
    assert read == expected
    assert [str(number) for number in read["numbers"]] == [str(number) for number in expected["numbers"]]
    assert isinstance(read["blob"], Binary)
