"""DynamoDB tables on disk: written through on every write before it returns, each file replaced whole."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from shiftflow.local.cloud.durable_tables import TableFiles, write_through, written_tables

TABLES = {"JobGuardTable": "guard", "RunHistoryTable": "history"}


@pytest.fixture
def dynamodb():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="guard", KeySchema=[{"AttributeName": "JobID", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "JobID", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        client.create_table(TableName="history",
                            KeySchema=[{"AttributeName": "JobID", "KeyType": "HASH"},
                                       {"AttributeName": "RunStart", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "JobID", "AttributeType": "S"},
                                                  {"AttributeName": "RunStart", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        yield client


def _saved(state_dir: Path, logical_id: str) -> list[dict]:
    return json.loads((state_dir / "tables" / f"{logical_id}.json").read_text())


def test_every_kind_of_write_is_on_disk_when_it_returns(dynamodb, tmp_path):
    with write_through(TableFiles(tmp_path), TABLES):
        dynamodb.put_item(TableName="guard", Item={"JobID": {"S": "a"}, "JobState": {"S": "Ready"}})
        assert _saved(tmp_path, "JobGuardTable") == [{"JobID": {"S": "a"}, "JobState": {"S": "Ready"}}]
        dynamodb.update_item(TableName="guard", Key={"JobID": {"S": "a"}}, UpdateExpression="SET JobState = :r",
                             ExpressionAttributeValues={":r": {"S": "Running"}})
        assert _saved(tmp_path, "JobGuardTable")[0]["JobState"] == {"S": "Running"}
        dynamodb.batch_write_item(RequestItems={"history": [
            {"PutRequest": {"Item": {"JobID": {"S": "a"}, "RunStart": {"S": str(n)}}}} for n in range(3)]})
        assert len(_saved(tmp_path, "RunHistoryTable")) == 3
        dynamodb.transact_write_items(TransactItems=[
            {"Delete": {"TableName": "guard", "Key": {"JobID": {"S": "a"}}}},
            {"Delete": {"TableName": "history", "Key": {"JobID": {"S": "a"}, "RunStart": {"S": "0"}}}}])
        assert _saved(tmp_path, "JobGuardTable") == [] and len(_saved(tmp_path, "RunHistoryTable")) == 2
        dynamodb.execute_statement(Statement="INSERT INTO guard VALUE {'JobID': 'b'}")  # PartiQL: all tables saved
        assert _saved(tmp_path, "JobGuardTable") == [{"JobID": {"S": "b"}}]
    dynamodb.put_item(TableName="guard", Item={"JobID": {"S": "after"}})  # the hook is gone with the block
    assert _saved(tmp_path, "JobGuardTable") == [{"JobID": {"S": "b"}}]


def test_a_refused_write_leaves_the_saved_items_as_they_were(dynamodb, tmp_path):
    with write_through(TableFiles(tmp_path), TABLES):
        dynamodb.put_item(TableName="guard", Item={"JobID": {"S": "a"}, "JobState": {"S": "Running"}})
        with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
            dynamodb.put_item(TableName="guard", Item={"JobID": {"S": "a"}, "JobState": {"S": "Ready"}},
                              ConditionExpression="attribute_not_exists(JobID)")
    assert _saved(tmp_path, "JobGuardTable") == [{"JobID": {"S": "a"}, "JobState": {"S": "Running"}}]


def test_files_load_back_and_an_interrupted_write_leaves_the_old_file(tmp_path):
    files = TableFiles(tmp_path)
    files.save("JobGuardTable", [{"JobID": {"S": "a"}}])
    (tmp_path / "tables" / ".JobGuardTable.json.x1.tmp").write_text('[{"JobID": {"S": "ha')  # a kill mid-write
    assert files.load() == {"JobGuardTable": [{"JobID": {"S": "a"}}]}
    assert not list((tmp_path / "tables").glob(".*.tmp"))


def test_the_single_snapshot_of_earlier_versions_still_loads(tmp_path):
    (tmp_path / "tables.json").write_text(json.dumps({"JobGuardTable": [{"JobID": {"S": "old"}}]}))
    assert TableFiles(tmp_path).load() == {"JobGuardTable": [{"JobID": {"S": "old"}}]}


def test_the_written_tables_are_read_from_the_request():
    assert written_tables("put_item", {"TableName": "arn:aws:dynamodb:us-east-1:1:table/guard"}) == {"guard"}
    assert written_tables("batch_write_item", {"RequestItems": {"a": [], "b": []}}) == {"a", "b"}
    assert written_tables("transact_write_items", {"TransactItems": [
        {"ConditionCheck": {"TableName": "a"}}, {"Put": {"TableName": "b"}}]}) == {"a", "b"}
    assert written_tables("execute_statement", {"Statement": "DELETE FROM a"}) is None
