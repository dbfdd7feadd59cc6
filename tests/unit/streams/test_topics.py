"""The local MSK topic store and `shiftflow stream put`: offsets from 0 per partition, keys, headers, durability of
a torn write, producers in several processes."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from shiftflow.cli.app import app
from shiftflow.dataapi.streams.topics import Producer, Record, TopicStore, line_value


def _lines(store: TopicStore, topic: str, partition: int) -> list[dict]:
    data, _ = store.read_after(topic, partition, 0)
    return [json.loads(line) for line in data.splitlines()]


def test_offsets_keys_headers_and_partitions(tmp_path: Path) -> None:
    store = TopicStore(tmp_path)
    store.create("orders", 2)
    written = store.put("orders", [Record(b"a", b"k1", (("source", b"test"),)), Record(b"b", b"k1"),
                                   Record(b"c", None)], partition=None)
    assert written[0].partition == written[1].partition  # one key, one partition
    assert [w.offset for w in written if w.partition == written[0].partition][:2] == [0, 1]
    first = _lines(store, "orders", written[0].partition)[0]
    assert base64.b64decode(first["k"]) == b"k1" and line_value(first) == b"a"
    assert first["h"] == [["source", base64.b64encode(b"test").decode()]]
    assert store.put("orders", [Record(b"d")], partition=1)[0].offset == len(_lines(store, "orders", 1)) - 1


def test_a_utf8_value_is_kept_as_text_and_other_bytes_as_base64(tmp_path: Path) -> None:
    store = TopicStore(tmp_path)
    store.create("t", 1)
    store.put("t", [Record('{"city": "Zürich"}'.encode()), Record(b"\xff\xfe"), Record(None)])
    lines = _lines(store, "t", 0)
    assert lines[0]["s"] == '{"city": "Zürich"}' and "v" not in lines[0]
    assert lines[1]["v"] == base64.b64encode(b"\xff\xfe").decode() and "s" not in lines[1]
    assert [line_value(line) for line in lines] == ['{"city": "Zürich"}'.encode(), b"\xff\xfe", None]


def test_a_torn_last_line_is_never_read_and_is_cut_off_by_the_next_put(tmp_path: Path) -> None:
    store = TopicStore(tmp_path)
    store.create("t", 1)
    store.put("t", [Record(b"one")])
    with open(store.partition_file("t", 0), "ab") as handle:
        handle.write(b'{"o": 1, "t": 0, "k": null, "v": "dHd')  # a producer killed mid-write
    data, end = store.read_after("t", 0, 0)
    assert data.count(b"\n") == 1 and end == len(data)
    assert store.put("t", [Record(b"two")])[0].offset == 1
    assert [line_value(line) for line in _lines(store, "t", 0)] == [b"one", b"two"]


def test_producers_in_several_processes_never_share_an_offset(tmp_path: Path) -> None:
    TopicStore(tmp_path).create("t", 1)
    program = ("import sys; from pathlib import Path; from shiftflow.dataapi.streams.topics import Producer, TopicStore;"
               " p = Producer(TopicStore(Path(sys.argv[1])));"
               " [p.send('t', {'who': sys.argv[2], 'n': n}) for n in range(100)]")
    children = [subprocess.Popen([sys.executable, "-c", program, str(tmp_path), name],
                                 env={**os.environ, "PYTHONPATH": os.getcwd()}) for name in ("a", "b", "c")]
    assert [child.wait() for child in children] == [0, 0, 0]
    lines = _lines(TopicStore(tmp_path), "t", 0)
    assert [line["o"] for line in lines] == list(range(300))
    values = [json.loads(line_value(line)) for line in lines]
    assert sorted((v["who"], v["n"]) for v in values) == sorted((w, n) for w in "abc" for n in range(100))


def test_stream_put_reads_json_lines_with_keys(tmp_path: Path) -> None:
    source = tmp_path / "orders.jsonl"
    source.write_text('{"OrderID": 7, "x": 1}\n{not json\n\n{"OrderID": 7, "x": 2}\n')
    runner = CliRunner()
    env = {"SHIFTFLOW_STATE_DIR": str(tmp_path / "state")}
    result = runner.invoke(app, ["stream", "put", "--topic", "orders", "--key-field", "OrderID", "--partitions", "3",
                                 "--json", str(source)], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["records"] == 3
    store = TopicStore(tmp_path / "state" / "topics")
    assert store.partitions("orders") == 3
    keyed = [line for p in range(3) for line in _lines(store, "orders", p) if line["k"]]
    assert len(keyed) == 2 and len({line["k"] for line in keyed}) == 1  # both OrderID 7: one partition, in order
    bad = runner.invoke(app, ["stream", "put", "--topic", "bad topic!", str(source)], env=env)
    assert bad.exit_code == 2 and "invalid topic name" in bad.output
    piped = runner.invoke(app, ["stream", "put", "--topic", "orders", "--partition", "2", "-"], input='{"a": 1}\n',
                          env=env)
    assert piped.exit_code == 0 and "partition 2" in piped.output
    assert Producer(store).send("orders", "x", partition=2).offset == len(_lines(store, "orders", 2)) - 1


def test_a_topic_made_again_has_another_id_also_one_made_before_ids(tmp_path: Path) -> None:
    store = TopicStore(tmp_path)
    store.create("t", 2)
    first = store.topic_id("t")
    assert store.topic_id("t") == first  # stable while the topic lives
    shutil.rmtree(tmp_path / "t")
    store.create("t", 2)
    assert store.topic_id("t") not in {"", first}
    for number in range(2):  # a topic.json without an id, as earlier versions wrote it, made twice
        shutil.rmtree(tmp_path / "t")
        (tmp_path / "t").mkdir()
        (tmp_path / "t" / "topic.json").write_text('{"partitions": 2}')
        legacy = store.topic_id("t")
        assert legacy != first and store.topic_id("t") == legacy
        first = legacy
