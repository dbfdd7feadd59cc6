"""`shiftflow stream ...`: the local MSK topic store that CREATE EXTERNAL SCHEMA ... FROM MSK reads.

    shiftflow stream put --topic orders orders.jsonl                 # one record a line, partitions by key or in turn
    shiftflow stream put --topic orders --key-field OrderID -       # from stdin, keyed by a field of each line
    shiftflow stream put --topic orders --partition 1 --partitions 3 orders.jsonl
    shiftflow stream topics                                          # topics, partitions and record counts

The store is `<state folder>/topics` ($SHIFTFLOW_STATE_DIR, else <project>/.shiftflow): the local runtime's
REFRESH MATERIALIZED VIEW reads it. Kinesis streams are moto's: put records with any AWS SDK or the AWS CLI
against the local endpoint. Exit codes: 0 put; 2 the put could not run (bad topic name, partition, file).
Registered by shiftflow/cli/app.py: app.add_typer(stream_app, name="stream").
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from shiftflow.cli import common
from shiftflow.cli.common import JsonOption, ProjectOption, print_json
from shiftflow.cli.connection import local_state_dir
from shiftflow.dataapi.streams.topics import TopicStore, read_jsonl

stream_app = typer.Typer(add_completion=False, no_args_is_help=True,
                         help="The local MSK topic store that streaming materialized views read.")


def topic_store(project: Path) -> TopicStore:
    return TopicStore(local_state_dir(project.resolve()) / "topics")


@stream_app.command("put")
def put_command(
    file: Annotated[str, typer.Argument(help="A JSON Lines file (one record value a line), or - for stdin.")],
    topic: Annotated[str, typer.Option("--topic", help="The topic (created when missing).")],
    partition: Annotated[int | None, typer.Option("--partition", help="Put every record in this partition.")] = None,
    key_field: Annotated[str | None, typer.Option("--key-field", help="The record key: this field of each line.")] = None,
    partitions: Annotated[int, typer.Option("--partitions", help="Partitions of a topic this creates.")] = 1,
    as_json: JsonOption = False,
    project: ProjectOption = Path("."),
) -> None:
    """Append records to a topic: offsets from 0 per partition, on disk when the command returns."""
    store = topic_store(project)
    try:
        store.create(topic, partitions)
        if file == "-":
            records = list(read_jsonl(sys.stdin, key_field))
        else:
            with open(file, encoding="utf-8") as handle:
                records = list(read_jsonl(handle, key_field))
        written = store.put(topic, records, partition)
    except (ValueError, OSError) as error:
        common.fail(str(error))
    by_partition: dict[int, list[int]] = {}
    for item in written:
        by_partition.setdefault(item.partition, []).append(item.offset)
    summary = {str(p): {"records": len(o), "first_offset": min(o), "last_offset": max(o)}
               for p, o in sorted(by_partition.items())}
    if as_json:
        print_json({"topic": topic, "records": len(written), "partitions": summary})
        return
    typer.echo(f"{len(written)} records put on topic {topic}")
    for number, facts in summary.items():
        typer.echo(f"  partition {number}: {facts['records']} records, offsets {facts['first_offset']}"
                   f"-{facts['last_offset']}")


@stream_app.command("topics")
def topics_command(as_json: JsonOption = False, project: ProjectOption = Path(".")) -> None:
    """The local topics with their partitions and the records each holds."""
    store = topic_store(project)
    found = {}
    for name in store.topics():
        counts = []
        for number in range(store.partitions(name)):
            path = store.partition_file(name, number)
            counts.append(path.read_bytes().count(b"\n") if path.exists() else 0)
        found[name] = counts
    if as_json:
        print_json({"topics": {name: {"partitions": len(c), "records": c} for name, c in found.items()}})
        return
    for name, counts in found.items():
        typer.echo(f"{name}: {len(counts)} partitions, records per partition {counts}")
