"""DynamoDB tables on disk: every write journaled before it returns, snapshots replaced whole, compaction."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from shiftflow.local.cloud import durable_tables
from shiftflow.local.cloud.durable_tables import TableFiles, write_through, written_items

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
    """What a new process would load (snapshot plus journal), in key order."""
    return sorted(TableFiles(state_dir).load().get(logical_id, []), key=lambda item: json.dumps(item, sort_keys=True))


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
            {"ConditionCheck": {"TableName": "history", "Key": {"JobID": {"S": "a"}, "RunStart": {"S": "1"}},
                                "ConditionExpression": "attribute_exists(JobID)"}},
            {"Delete": {"TableName": "history", "Key": {"JobID": {"S": "a"}, "RunStart": {"S": "0"}}}}])
        assert _saved(tmp_path, "JobGuardTable") == [] and len(_saved(tmp_path, "RunHistoryTable")) == 2
        dynamodb.execute_statement(Statement="INSERT INTO guard VALUE {'JobID': 'b'}")  # PartiQL: all tables saved
        assert _saved(tmp_path, "JobGuardTable") == [{"JobID": {"S": "b"}}]
        assert not (tmp_path / "tables" / "JobGuardTable.journal").exists()  # a whole snapshot replaced it
    dynamodb.put_item(TableName="guard", Item={"JobID": {"S": "after"}})  # the hook is gone with the block
    assert _saved(tmp_path, "JobGuardTable") == [{"JobID": {"S": "b"}}]


def test_a_refused_write_leaves_the_saved_items_as_they_were(dynamodb, tmp_path):
    with write_through(TableFiles(tmp_path), TABLES):
        dynamodb.put_item(TableName="guard", Item={"JobID": {"S": "a"}, "JobState": {"S": "Running"}})
        with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
            dynamodb.put_item(TableName="guard", Item={"JobID": {"S": "a"}, "JobState": {"S": "Ready"}},
                              ConditionExpression="attribute_not_exists(JobID)")
    assert _saved(tmp_path, "JobGuardTable") == [{"JobID": {"S": "a"}, "JobState": {"S": "Running"}}]


def test_the_journal_is_compacted_into_the_snapshot(dynamodb, tmp_path, monkeypatch):
    monkeypatch.setattr(durable_tables, "COMPACT_AFTER", 5)
    journal = tmp_path / "tables" / "RunHistoryTable.journal"
    with write_through(TableFiles(tmp_path), TABLES):
        for n in range(4):
            dynamodb.put_item(TableName="history", Item={"JobID": {"S": "a"}, "RunStart": {"S": str(n)}})
        assert len(journal.read_text().splitlines()) == 4
        dynamodb.put_item(TableName="history", Item={"JobID": {"S": "a"}, "RunStart": {"S": "4"}})
        assert not journal.exists()
        dynamodb.delete_item(TableName="history", Key={"JobID": {"S": "a"}, "RunStart": {"S": "0"}})
    snapshot = json.loads((tmp_path / "tables" / "RunHistoryTable.json").read_text())
    assert len(snapshot) == 5 and len(journal.read_text().splitlines()) == 1
    assert [item["RunStart"]["S"] for item in _saved(tmp_path, "RunHistoryTable")] == ["1", "2", "3", "4"]


def test_files_load_back_past_an_interrupted_snapshot_and_a_cut_last_line(tmp_path):
    files = TableFiles(tmp_path)
    files.save("JobGuardTable", [{"JobID": {"S": "a"}, "JobState": {"S": "Ready"}}])
    (tmp_path / "tables" / ".JobGuardTable.json.x1.tmp").write_text('[{"JobID": {"S": "ha')  # a kill mid-snapshot
    files.append("JobGuardTable", [({"JobID": {"S": "a"}}, {"JobID": {"S": "a"}, "JobState": {"S": "Running"}}),
                                   ({"JobID": {"S": "b"}}, {"JobID": {"S": "b"}})])
    with open(tmp_path / "tables" / "JobGuardTable.journal", "a") as journal:
        journal.write('{"item": {"JobID": {"S": "c"')  # a power loss mid-line
    assert _saved(tmp_path, "JobGuardTable") == [{"JobID": {"S": "a"}, "JobState": {"S": "Running"}},
                                                 {"JobID": {"S": "b"}}]
    # A read deletes nothing (the live cloud may be writing that very file); the owner clears it when it starts.
    assert list((tmp_path / "tables").glob(".*.tmp"))
    files.remove_partial_writes()
    assert not list((tmp_path / "tables").glob(".*.tmp"))


def test_the_single_snapshot_of_earlier_versions_still_loads(tmp_path):
    (tmp_path / "tables.json").write_text(json.dumps({"JobGuardTable": [{"JobID": {"S": "old"}}]}))
    assert TableFiles(tmp_path).load() == {"JobGuardTable": [{"JobID": {"S": "old"}}]}


def test_the_written_items_are_read_from_the_request():
    key = {"JobID": {"S": "a"}}
    assert written_items("put_item", {"TableName": "arn:aws:dynamodb:us-east-1:1:table/guard", "Item": key}) == [
        ("guard", key)]
    assert written_items("batch_write_item", {"RequestItems": {"a": [{"PutRequest": {"Item": key}}],
                                                               "b": [{"DeleteRequest": {"Key": key}}]}}) == [
        ("a", key), ("b", key)]
    assert written_items("transact_write_items", {"TransactItems": [
        {"ConditionCheck": {"TableName": "a", "Key": key}}, {"Update": {"TableName": "b", "Key": key}}]}) == [
        ("b", key)]
    assert written_items("execute_statement", {"Statement": "DELETE FROM a"}) is None
