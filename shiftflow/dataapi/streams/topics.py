"""The local Kafka topic store that CREATE EXTERNAL SCHEMA ... FROM MSK reads (one local cluster per state folder).

A topic is a folder `<root>/<topic>/` with `topic.json` (its partition count and an id that a topic deleted and
created again does not keep) and one append-only file per
partition, `partition-<n>.jsonl`: one record a line, {"o": offset, "t": timestamp in ms, "k": key, "s" or "v": value,
"h": headers}. Kafka records are bytes: key and header values are base64, and so is a value that is not UTF-8
("v"); a UTF-8 value (JSON, text: nearly all) is kept as text ("s"), which DuckDB reads as it is, with no decoding
pass. Offsets start at 0 per partition.
Producers append under an exclusive lock of the partition file and fsync before they return, so concurrent producers
(threads or processes) never share an offset and a returned put is on disk. A line cut short by a killed producer
has no newline: readers never see it and the next producer cuts it off before it appends.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

# Kafka's own limit on topic names, and the characters it allows.
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_line = json.JSONEncoder(separators=(",", ":")).encode  # one encoder: json.dumps makes one a call with separators
CREATE_TIME = 0  # kafka_timestamp_type of a record whose timestamp the producer set (Kafka's CreateTime)


@dataclass(frozen=True)
class Record:
    """One record to put: bytes as Kafka carries them."""

    value: bytes | None
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp_ms: int | None = None  # None: the time of the put


@dataclass(frozen=True)
class Written:
    partition: int
    offset: int


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _value_fields(value: bytes | None) -> dict[str, str | None]:
    """A record's value as a line keeps it: UTF-8 as text ("s"), any other bytes base64 ("v")."""
    if value is None:
        return {"v": None}
    try:
        return {"s": value.decode("utf-8")}
    except UnicodeDecodeError:
        return {"v": _b64(value)}


def line_value(line: dict) -> bytes | None:  # type: ignore[type-arg]
    """The value of a record from its parsed line (text "s" or base64 "v")."""
    if line.get("s") is not None:
        return str(line["s"]).encode("utf-8")
    return None if line.get("v") is None else base64.b64decode(line["v"])


class TopicStore:
    """Topics under `root` (the local cloud's `<state>/topics`)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _folder(self, topic: str) -> Path:
        if not _TOPIC_NAME.match(topic):
            raise ValueError(f"invalid topic name {topic!r} (1-249 of A-Z a-z 0-9 . _ -)")
        return self.root / topic

    def create(self, topic: str, partitions: int = 1) -> None:
        """Create the topic if it does not exist (an existing topic keeps its partition count)."""
        if partitions < 1:
            raise ValueError("a topic has at least one partition")
        folder = self._folder(topic)
        folder.mkdir(parents=True, exist_ok=True)
        meta = folder / "topic.json"
        if not meta.exists():
            temporary = folder / f".topic.json.{os.getpid()}"
            temporary.write_text(json.dumps({"partitions": partitions, "id": uuid.uuid4().hex}))
            os.replace(temporary, meta)

    def exists(self, topic: str) -> bool:
        return (self._folder(topic) / "topic.json").exists()

    def topics(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(path.parent.name for path in self.root.glob("*/topic.json"))

    def partitions(self, topic: str) -> int:
        return int(self._meta(topic)["partitions"])

    def topic_id(self, topic: str) -> str:
        """What tells this topic from an earlier one of the same name (a topic made before ids: its topic.json's
        file identity, which a topic made again does not keep either)."""
        meta = self._meta(topic)
        if "id" in meta:
            return str(meta["id"])
        made = os.stat(self._folder(topic) / "topic.json")
        return f"file-{made.st_ino}-{made.st_mtime_ns}"

    def _meta(self, topic: str) -> dict:  # type: ignore[type-arg]
        try:
            return dict(json.loads((self._folder(topic) / "topic.json").read_text()))
        except FileNotFoundError:
            raise KeyError(topic) from None

    def partition_file(self, topic: str, partition: int) -> Path:
        return self._folder(topic) / f"partition-{partition}.jsonl"

    @staticmethod
    def partition_for(count: int, key: bytes | None, counter: int) -> int:
        """Where a record without an explicit partition goes among `count`: by a hash of its key, else in turn."""
        return (zlib.crc32(key) if key is not None else counter) % count

    def put(self, topic: str, records: Sequence[Record], partition: int | None = None) -> list[Written]:
        """Append records (to `partition`, else each to partition_for()); their partitions and offsets."""
        count = self.partitions(topic)
        if partition is not None and not 0 <= partition < count:
            raise ValueError(f"topic {topic} has partitions 0 to {count - 1}, not {partition}")
        by_partition: dict[int, list[int]] = {}
        for index, record in enumerate(records):
            target = partition if partition is not None else self.partition_for(count, record.key, index)
            by_partition.setdefault(target, []).append(index)
        written: list[Written | None] = [None] * len(records)
        for target, indexes in sorted(by_partition.items()):
            for index, item in zip(indexes, self._append(topic, target, [records[i] for i in indexes])):
                written[index] = item
        return [item for item in written if item is not None]  # in the order of `records`

    def _append(self, topic: str, partition: int, records: list[Record]) -> list[Written]:
        path = self.partition_file(topic, partition)
        with open(path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                next_offset = _repair_and_next_offset(handle)
                now_ms = int(time.time() * 1000)
                lines = []
                for number, record in enumerate(records):
                    lines.append(_line({
                        "o": next_offset + number, "t": record.timestamp_ms or now_ms, "k": _b64(record.key),
                        **_value_fields(record.value),
                        "h": [[name, _b64(value)] for name, value in record.headers]}))
                handle.seek(0, os.SEEK_END)
                handle.write(("\n".join(lines) + "\n").encode())
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return [Written(partition, next_offset + number) for number in range(len(records))]

    def read_after(self, topic: str, partition: int, byte_position: int) -> tuple[bytes, int]:
        """The whole lines written from `byte_position` on, and the byte position after the last of them."""
        path = self.partition_file(topic, partition)
        if not path.exists():
            return b"", byte_position
        with open(path, "rb") as handle:
            handle.seek(byte_position)
            data = handle.read()
        end = data.rfind(b"\n") + 1  # a line still being written (or cut short) is not there yet
        return data[:end], byte_position + end


    def last_whole_line(self, topic: str, partition: int) -> tuple[bytes, int]:
        """The last whole line of the partition (b"" when none) and the byte position after it, read from the end."""
        path = self.partition_file(topic, partition)
        if not path.exists():
            return b"", 0
        with open(path, "rb") as handle:
            return _last_whole_line(handle)


def _last_whole_line(handle) -> tuple[bytes, int]:  # type: ignore[no-untyped-def]
    size = handle.seek(0, os.SEEK_END)
    tail, start = b"", size
    while start > 0 and tail.count(b"\n") < 2:  # enough of the end to hold the last whole line
        start = max(0, start - 65536)
        handle.seek(start)
        tail = handle.read(size - start)
    whole_end = tail.rfind(b"\n") + 1
    lines = tail[:whole_end].splitlines()
    return (lines[-1] if lines else b""), start + whole_end


def _repair_and_next_offset(handle) -> int:  # type: ignore[no-untyped-def]
    """Cut off a torn last line (a producer killed mid-write); the offset the next record gets."""
    last, whole_end = _last_whole_line(handle)
    if whole_end < handle.seek(0, os.SEEK_END):
        handle.truncate(whole_end)
        handle.flush()
    return int(json.loads(last)["o"]) + 1 if last else 0


class Producer:
    """The small Python producer API: `Producer(store).send("orders", {"OrderID": 1}, key="1")`."""

    def __init__(self, store: TopicStore, default_partitions: int = 1) -> None:
        self.store, self.default_partitions = store, default_partitions

    def send(self, topic: str, value: object, key: str | bytes | None = None, partition: int | None = None,
             headers: Iterable[tuple[str, bytes]] = ()) -> Written:
        """One record; `value` as bytes, str, or any other value as its JSON text."""
        return self.send_many(topic, [value], [key], partition, headers)[0]

    def send_many(self, topic: str, values: Sequence[object], keys: Sequence[str | bytes | None] | None = None,
                  partition: int | None = None, headers: Iterable[tuple[str, bytes]] = ()) -> list[Written]:
        self.store.create(topic, self.default_partitions)
        keys = keys if keys is not None else [None] * len(values)
        header_tuple = tuple(headers)
        records = [Record(_bytes(value), _bytes(key) if key is not None else None, header_tuple)
                   for value, key in zip(values, keys, strict=True)]
        return self.store.put(topic, records, partition)


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value, separators=(",", ":")).encode()


def read_jsonl(lines: Iterable[str], key_field: str | None) -> Iterator[Record]:
    """`shiftflow stream put`'s input: one record value a line, as written (invalid JSON too: it is the value);
    with key_field, the key is that field of a line that is a JSON object."""
    for line in lines:
        text = line.rstrip("\n")
        if not text.strip():
            continue
        key = None
        if key_field is not None:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict) and parsed.get(key_field) is not None:
                key = str(parsed[key_field]).encode()
        yield Record(text.encode(), key)
