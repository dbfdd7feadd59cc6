"""Reading a stream's new records into a view's landing table: Kinesis through boto3 (the local cloud's moto), MSK from
the local topic store. Each read starts where pull_state says the previous one stopped (first: TRIM_HORIZON, offset 0)
and runs in the caller's transaction, so the records and the new position commit together. A batch is one bulk
statement: DuckDB reads the partition file or the batch's lines itself (read_json); PostgreSQL gets the batch's
lines as one bound value and parses them (no per-record work in Python)."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shiftflow.dataapi.engines.base import EngineError, EngineSession
from shiftflow.dataapi.streams import catalog
from shiftflow.dataapi.streams.catalog import SCHEMA
from shiftflow.dataapi.streams.topics import TopicStore


def _default_topic_root() -> Path:
    return Path(os.environ.get("SHIFTFLOW_STATE_DIR", ".shiftflow")) / "topics"


def _default_kinesis() -> Any:
    import boto3  # whatever moto is active at that moment (the local runtime's), as the S3 client of COPY

    return boto3.session.Session().client("kinesis", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


@dataclass
class StreamSources:
    """What the external schemas read: the local topic store (MSK) and a Kinesis client factory."""

    topic_root: Path = field(default_factory=_default_topic_root)
    kinesis: Callable[[], Any] = _default_kinesis
    auto_refresh: bool = False  # something refreshes AUTO REFRESH YES views (the local runtime's AutoRefresher)

    @property
    def topics(self) -> TopicStore:
        return TopicStore(self.topic_root)


_current = StreamSources()


def use(sources: StreamSources) -> None:
    """The sources of this process's emulator (the local runtime sets its state folder's)."""
    global _current
    _current = sources


def current() -> StreamSources:
    return _current


@dataclass(frozen=True)
class Batch:
    """New records of one shard or partition, as NDJSON lines {"o", "t", "k", "s" or "v", "h"} (topics.py)."""

    shard: str
    lines: bytes
    position: str  # the last record's sequence number or offset
    byte_position: int = 0
    # A partition file read from its start: DuckDB reads the records from it instead of from a copy (`lines` are
    # empty: text() reads its whole lines up to byte_position when they are needed).
    whole_file: Path | None = None
    # MSK: the batch's first offset (a partition's offsets are consecutive: a record's ingest_seq follows from its
    # offset, no numbering pass); Kinesis: None (records are numbered in their order).
    first_offset: int | None = None

    def text(self) -> bytes:
        if self.whole_file is None:
            return self.lines
        with open(self.whole_file, "rb") as handle:
            return handle.read(self.byte_position)


SCRATCH_FOLDER = ".scratch"  # in the topic root: no topic (TopicStore.topics() lists folders with a topic.json)


def readable_directories() -> list[Path]:
    """The only folders a DuckDB warehouse may read files from (engines/duckdb.py turns every other file access
    off): the topic store, whose partition files and batch files (batch_file) REFRESH reads."""
    return [current().topic_root.resolve()]


@contextmanager
def batch_file(batch: Batch) -> Iterator[Path]:
    """The file DuckDB reads a batch's records from (read_json: far faster than binding rows one by one): the
    partition file itself for a batch read from its start, else a private temporary file of the batch's lines, in
    the topic root's scratch folder (a readable directory)."""
    if batch.whole_file is not None:
        yield batch.whole_file.resolve()
        return
    scratch = current().topic_root.resolve() / SCRATCH_FOLDER
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="shiftflow-stream-", dir=scratch) as folder:
        path = Path(folder) / "batch.jsonl"
        path.write_bytes(batch.lines)
        yield path


# The fields of a line as DuckDB's read_json reads them, and the record's value (bytes) and its size from them.
DUCKDB_FIELDS = "{o: 'VARCHAR', t: 'BIGINT', k: 'VARCHAR', v: 'VARCHAR', s: 'VARCHAR', h: 'JSON'}"
DUCKDB_VALUE = "coalesce(encode(s), from_base64(v))"


def _positions(session: EngineSession, landing: str) -> dict[str, tuple[str, int]]:
    rows = catalog.run(session, f"SELECT shard, position, byte_position FROM {SCHEMA}.pull_state"
                                " WHERE landing = :landing", landing=landing).rows
    return {shard: (position, int(byte_position or 0)) for shard, position, byte_position in rows}


def kinesis_batches(client: Any, stream: str, positions: dict[str, tuple[str, int]]) -> Iterator[Batch]:
    try:
        shards = client.list_shards(StreamName=stream)["Shards"]
    except client.exceptions.ResourceNotFoundException:
        raise EngineError(f"Kinesis stream {stream} does not exist") from None
    for shard in shards:
        shard_id = shard["ShardId"]
        after = positions.get(shard_id, ("", 0))[0]
        arguments = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": after} if after
                     else {"ShardIteratorType": "TRIM_HORIZON"})
        iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard_id, **arguments)["ShardIterator"]
        lines: list[str] = []
        last = after
        while iterator:
            answer = client.get_records(ShardIterator=iterator, Limit=10000)
            for record in answer["Records"]:
                last = record["SequenceNumber"]
                lines.append(json.dumps({
                    "o": last, "t": int(record["ApproximateArrivalTimestamp"].timestamp() * 1000),
                    "k": record["PartitionKey"], "v": base64.b64encode(record["Data"]).decode()}))
            if not answer["Records"]:
                break
            iterator = answer.get("NextShardIterator")
        if lines:
            yield Batch(shard_id, ("\n".join(lines) + "\n").encode(), last)


def topic_batches(store: TopicStore, topic: str, positions: dict[str, tuple[str, int]]) -> Iterator[Batch]:
    if not store.exists(topic):
        raise EngineError(f"topic {topic} does not exist in the local MSK cluster")
    for partition in range(store.partitions(topic)):
        start = positions.get(str(partition), ("", 0))[1]
        if start == 0:  # the whole file: found from its end, not read here
            last_line, end = store.last_whole_line(topic, partition)
            if last_line:
                yield Batch(str(partition), b"", str(json.loads(last_line)["o"]), end,
                            store.partition_file(topic, partition), first_offset=0)
            continue
        data, end = store.read_after(topic, partition, start)
        if data:
            last_line = data[:-1].rsplit(b"\n", 1)[-1]
            yield Batch(str(partition), data, str(json.loads(last_line)["o"]), end,
                        first_offset=int(positions[str(partition)][0]) + 1)


def pull(session: EngineSession, sources: StreamSources, source: str, stream: str, landing: str) -> int:
    """Land the stream's new records in the landing table; how many."""
    if session.engine == "postgres":  # two refreshes of one stream at once: the second waits for the first
        session.execute(f"LOCK TABLE {SCHEMA}.{landing} IN EXCLUSIVE MODE", {})
    read_from = _positions(session, landing)
    batches = (kinesis_batches(sources.kinesis(), stream, read_from) if source == "kinesis"
               else topic_batches(sources.topics, stream, read_from))
    landed, kept = 0, _kept_columns(session, landing)
    for batch in batches:
        landed += _land(session, source, landing, batch, kept)
        record_position(session, landing, batch, batch.shard in read_from)
    return landed


def record_position(session: EngineSession, landing: str, batch: Batch, known: bool) -> None:
    """Where the next read of the batch's shard or partition starts (in the reading transaction)."""
    catalog.run(session, f"UPDATE {SCHEMA}.pull_state SET position = :position, byte_position = :bytes"
                         " WHERE landing = :landing AND shard = :shard" if known else
                f"INSERT INTO {SCHEMA}.pull_state VALUES (:landing, :shard, :position, :bytes)",
                landing=landing, shard=batch.shard, position=batch.position, bytes=batch.byte_position)


# The landed columns from the NDJSON fields and the decoded value (decoded once: the common-subexpression pass is
# off, a from_base64(v) named twice would decode twice), after ingest_seq.
_DUCKDB_COLUMNS = {
    "kinesis": {"approximate_arrival_timestamp": "make_timestamp(t * 1000)", "partition_key": "k",
                "shard_id": "$shard", "sequence_number": "o", "kinesis_data": "value"},
    "msk": {"kafka_partition": "CAST($shard AS BIGINT)", "kafka_offset": "CAST(o AS BIGINT)",
            "kafka_timestamp_type": "'C'", "kafka_timestamp": "make_timestamp(t * 1000)",
            "kafka_key": "from_base64(k)", "kafka_value": "value", "kafka_headers": "CAST(h AS JSON)"},
}
_DUCKDB_BOOKKEEPING = {"record_bytes": "coalesce(octet_length(value), 0)", "refresh_time": "localtimestamp"}


def _kept_columns(session: EngineSession, landing: str) -> list[str]:
    """The landing table's own columns after ingest_seq: a view's landing keeps the optional ones its query names
    (catalog.py)."""
    columns = catalog.run(session, f"SELECT * FROM {SCHEMA}.{landing} LIMIT 0").columns
    return [column.name for column in columns if column.name != "ingest_seq"]


def _land(session: EngineSession, source: str, landing: str, batch: Batch, kept: list[str]) -> int:
    base = int(catalog.one(session, f"SELECT coalesce(max(ingest_seq), 0) FROM {SCHEMA}.{landing}")[0])
    if session.engine == "duckdb":
        return _land_duckdb(session, source, landing, batch, base, kept)
    return _land_postgres(session, source, landing, batch, base, kept)


def _land_duckdb(session: EngineSession, source: str, landing: str, batch: Batch, base: int,
                 kept: list[str]) -> int:
    # row_number() would make DuckDB number the batch in one thread, about half the cost of the landing.
    sequence = ("row_number() OVER ()" if batch.first_offset is None
                else f"CAST(o AS BIGINT) - {int(batch.first_offset) - 1}")
    values = {**_DUCKDB_COLUMNS[source], **_DUCKDB_BOOKKEEPING}
    select = (f"INSERT INTO {SCHEMA}.{landing} (ingest_seq, {', '.join(kept)}) SELECT CAST($base AS BIGINT) +"
              f" {sequence}, {', '.join(values[column] for column in kept)} FROM (SELECT *, {DUCKDB_VALUE} AS value"
              f" FROM read_json($path, format = 'newline_delimited', columns = {DUCKDB_FIELDS}")
    with batch_file(batch) as path:
        if batch.whole_file is not None:
            # Lines a producer appends meanwhile (or is still writing: ignore_errors) are past the batch's last offset.
            sql = select + ", ignore_errors = true) WHERE CAST(o AS BIGINT) <= CAST($last AS BIGINT))"
            return session.execute(sql, {"base": str(base), "path": str(path), "shard": batch.shard,
                                         "last": batch.position}).rowcount
        return session.execute(select + "))", {"base": str(base), "path": str(path),
                                              "shard": batch.shard}).rowcount


# A batch's records from its NDJSON lines (one bound text: PostgreSQL splits and parses them), numbered in order.
_POSTGRES_RECORDS = ("FROM (SELECT CAST(line AS JSON) AS r, n FROM unnest(string_to_array(rtrim(%(lines)s, E'\\n'),"
                     " E'\\n')) WITH ORDINALITY AS t(line, n)) AS records,"
                     " LATERAL (SELECT coalesce(convert_to(r->>'s', 'UTF8'), decode(r->>'v', 'base64')) AS value)"
                     " AS decoded")
_POSTGRES_COLUMNS = {
    "kinesis": {"approximate_arrival_timestamp": "to_timestamp(CAST(r->>'t' AS BIGINT) / 1000.0) AT TIME ZONE 'UTC'",
                "partition_key": "r->>'k'", "shard_id": "%(shard)s", "sequence_number": "r->>'o'",
                "kinesis_data": "value"},
    "msk": {"kafka_partition": "CAST(%(shard)s AS BIGINT)", "kafka_offset": "CAST(r->>'o' AS BIGINT)",
            "kafka_timestamp_type": "'C'",
            "kafka_timestamp": "to_timestamp(CAST(r->>'t' AS BIGINT) / 1000.0) AT TIME ZONE 'UTC'",
            "kafka_key": "decode(r->>'k', 'base64')", "kafka_value": "value",
            "kafka_headers": "CASE WHEN json_typeof(r->'h') = 'array' THEN r->'h' ELSE CAST('[]' AS JSON) END"},
}
_POSTGRES_BOOKKEEPING = {"record_bytes": "coalesce(octet_length(value), 0)", "refresh_time": "localtimestamp"}


def _land_postgres(session: EngineSession, source: str, landing: str, batch: Batch, base: int,
                   kept: list[str]) -> int:
    values = {**_POSTGRES_COLUMNS[source], **_POSTGRES_BOOKKEEPING}
    sql = (f"INSERT INTO {SCHEMA}.{landing} (ingest_seq, {', '.join(kept)}) SELECT CAST(%(base)s AS BIGINT) + n,"
           f" {', '.join(values[column] for column in kept)} {_POSTGRES_RECORDS} ORDER BY n")
    return session.execute(sql, {"base": str(base), "shard": batch.shard,
                                 "lines": batch.text().decode()}).rowcount
