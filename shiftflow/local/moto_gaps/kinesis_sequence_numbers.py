"""Gap 27: Kinesis sequence numbers are 1, 2, 3 ... per shard.

moto behaviour (checked against moto 5.2.5): ``Shard.put_record`` numbers a shard's records 1, 2, 3 ..., so two
shards of a stream give the same numbers, a stream made again (a new local cloud: moto keeps no Kinesis state) starts
again at 1, and a shard with no record says StartingSequenceNumber 0. AWS: "The sequence number for the record is
unique across all records in the stream" (PutRecordOutput), "Sequence numbers increase over time and are specific to a
shard within a stream" (PutRecord), and the numbers it gives are 56-digit decimal strings (the Kinesis developer
guide's AWS CLI examples, such as ``49546986683135544286507457936321625675700192471156785154``; botocore's
``SequenceNumber`` pattern allows up to 129 digits). A consumer keeping its position across restarts
(shiftflow.dataapi.streams: a streaming materialized view's per-shard position, read AFTER_SEQUENCE_NUMBER) would skip
the records of a stream made again whose numbers start again below it.

Fix: ``Shard.put_record`` (and ``get_min_sequence_number`` of a shard without records) replaced: a shard's numbers
are 56 digits, ``49`` + its first use's time (13 digits of epoch milliseconds) + its index (5 digits) + 36 digits
that grow with the time since then (nanoseconds, at least one more than the previous record's), so they are unique
in the stream, grow per shard and over time, also across local clouds (chosen: AWS does not document its layout).
moto keeps comparing them as integers (records, iterators), which Python's integers do at any length. The put is
also made under a lock (moto's own says it "is not safe for concurrency").

To drop: when moto numbers records as AWS does, delete this module and its entry in ``_activation.GAPS``;
tests/unit/local/moto_gaps/test_kinesis_sequence_numbers.py must still pass.
"""

from __future__ import annotations

import threading
import time

from moto.kinesis.models import Record, Shard

from shiftflow.local.moto_gaps._patcher import Patcher

DIGITS = 56
_PREFIX = 49
_COUNTER_DIGITS = 36
_INDEX_DIGITS = 5
_lock = threading.Lock()


def _first_number(shard: Shard) -> int:
    """The shard's starting sequence number, fixed at its first use (with the time of it)."""
    first = getattr(shard, "_shiftflow_first_sequence", None)
    if first is None:
        started_ns = time.time_ns()
        index = shard._shard_id % 10**_INDEX_DIGITS  # noqa: SLF001 - moto keeps the shard's index there only
        first = ((_PREFIX * 10**13 + started_ns // 1_000_000) * 10**_INDEX_DIGITS + index) * 10**_COUNTER_DIGITS
        shard._shiftflow_first_sequence = first  # type: ignore[attr-defined]
        shard._shiftflow_started_ns = started_ns  # type: ignore[attr-defined]
    return first


def _next_number(shard: Shard) -> int:
    first = _first_number(shard)
    elapsed = time.time_ns() - shard._shiftflow_started_ns  # type: ignore[attr-defined]
    previous = next(reversed(shard.records)) if shard.records else first
    return max(previous + 1, first + min(elapsed, 10**_COUNTER_DIGITS - 1))


def apply(patcher: Patcher) -> None:
    original_minimum = Shard.get_min_sequence_number

    def put_record(self: Shard, partition_key: str, data: str, explicit_hash_key: str) -> str:
        with _lock:
            number = _next_number(self)
            self.records[number] = Record(partition_key, data, number, explicit_hash_key)
        return str(number)

    def get_min_sequence_number(self: Shard) -> int:
        return original_minimum(self) if self.records else _first_number(self)

    patcher.set(Shard, "put_record", put_record)
    patcher.set(Shard, "get_min_sequence_number", get_min_sequence_number)
