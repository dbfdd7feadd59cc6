"""Gap 27 (shiftflow.local.moto_gaps.kinesis_sequence_numbers): Kinesis sequence numbers as AWS gives them, 56-digit
decimal strings unique in the stream that grow per shard and over time (PutRecord / PutRecordOutput in the Kinesis API
reference; the developer guide's CLI examples), and readers positioned by them (AT_ / AFTER_SEQUENCE_NUMBER)."""

from __future__ import annotations

from typing import Any

import boto3

from tests.unit.local.moto_gaps.conftest import REGION

NUMBER = r"^[1-9]\d{55}$"


def put(kinesis: Any, stream: str, count: int) -> list[dict[str, str]]:
    return [kinesis.put_record(StreamName=stream, Data=f"record {n}".encode(), PartitionKey=f"key{n}")
            for n in range(count)]


def records_after(kinesis: Any, stream: str, shard: str, kind: str, number: str) -> list[str]:
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType=kind,
                                          StartingSequenceNumber=number)["ShardIterator"]
    return [record["SequenceNumber"] for record in kinesis.get_records(ShardIterator=iterator)["Records"]]


def test_sequence_numbers_are_56_digits_unique_in_the_stream_and_growing_per_shard(aws: None) -> None:
    import re

    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="clicks", ShardCount=3)
    empty = {shard["ShardId"]: shard["SequenceNumberRange"]["StartingSequenceNumber"]
             for shard in kinesis.list_shards(StreamName="clicks")["Shards"]}
    assert all(re.match(NUMBER, number) for number in empty.values())  # a shard starts at one, records or not
    put_records = put(kinesis, "clicks", 30)
    numbers = [answer["SequenceNumber"] for answer in put_records]
    assert all(re.match(NUMBER, number) for number in numbers)
    assert len(set(numbers)) == len(numbers)
    by_shard: dict[str, list[int]] = {}
    for answer in put_records:
        by_shard.setdefault(answer["ShardId"], []).append(int(answer["SequenceNumber"]))
    assert len(by_shard) > 1
    for shard, shard_numbers in by_shard.items():
        assert shard_numbers == sorted(shard_numbers) and int(empty[shard]) < shard_numbers[0]

    shard, shard_numbers = next(iter(by_shard.items()))
    texts = [str(number) for number in shard_numbers]
    assert records_after(kinesis, "clicks", shard, "AFTER_SEQUENCE_NUMBER", texts[1]) == texts[2:]
    assert records_after(kinesis, "clicks", shard, "AT_SEQUENCE_NUMBER", texts[1]) == texts[1:]


def test_a_stream_made_again_numbers_its_records_past_the_earlier_ones(aws: None) -> None:
    """A reader that kept its position (a streaming view's, in the warehouse) reads a stream made again from its
    first record: its numbers are past the kept ones (moto started again at 1)."""
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    before = put(kinesis, "orders", 3)[-1]["SequenceNumber"]
    kinesis.delete_stream(StreamName="orders")  # or a new local cloud: moto keeps no Kinesis state
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    after = put(kinesis, "orders", 2)
    assert records_after(kinesis, "orders", after[0]["ShardId"], "AFTER_SEQUENCE_NUMBER", before) == [
        answer["SequenceNumber"] for answer in after]
