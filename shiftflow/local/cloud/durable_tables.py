"""The DynamoDB tables on disk: one JSON file per table (<state>/tables/<LogicalId>.json), each replaced whole.

The in-process runtime loads them at start and saves them at exit; the local cloud also writes a table through to
its file after every write to it, before the write's response leaves (`write_through`), so that a kill -9 at any
moment loses no change whose call returned. Hooked at moto's DynamoDB request handler, the one place every write
passes, whether it comes over HTTP, from a handler's boto3 client or from a state machine's dynamodb task.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from shiftflow.local.cloud.files import atomic_write

TABLES_FOLDER = "tables"
LEGACY_SNAPSHOT = "tables.json"  # one file for all tables, as the in-process runtime saved them before
# The handler methods that change items; each names its tables in the request as below.
_WRITES = ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items",
           "execute_statement", "batch_execute_statement", "execute_transaction")

Items = list[dict[str, Any]]


class TableFiles:
    """The saved items of each table, by the table's logical id in template.yaml."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.folder = state_dir / TABLES_FOLDER

    def load(self) -> dict[str, Items]:
        if not self.folder.is_dir():
            legacy = self.state_dir / LEGACY_SNAPSHOT
            return json.loads(legacy.read_text()) if legacy.is_file() else {}
        for leftover in self.folder.glob(".*.tmp"):  # a write a kill interrupted: its target still holds the old items
            leftover.unlink(missing_ok=True)
        return {path.stem: json.loads(path.read_text()) for path in sorted(self.folder.glob("*.json"))}

    def save(self, logical_id: str, items: Items) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.folder / f"{logical_id}.json", json.dumps(items, indent=1, sort_keys=True).encode())


def _table_name(name_or_arn: str) -> str:
    return name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


def written_tables(operation: str, body: dict[str, Any]) -> set[str] | None:
    """The tables a write request names; None when it cannot be told from the request (PartiQL): all of them."""
    if operation in ("put_item", "update_item", "delete_item"):
        return {_table_name(body["TableName"])}
    if operation == "batch_write_item":
        return {_table_name(name) for name in body.get("RequestItems", {})}
    if operation == "transact_write_items":
        return {_table_name(action["TableName"]) for item in body.get("TransactItems", [])
                for action in item.values() if isinstance(action, dict) and "TableName" in action}
    return None


class WriteThrough:
    """Saves a table's items to its file after each write to it; one lock per table orders the snapshots, so the
    file never goes back to an older state than a write whose call returned."""

    def __init__(self, files: TableFiles, tables: dict[str, str]) -> None:
        self.files = files
        self.logical_ids = {name: logical_id for logical_id, name in tables.items()}
        self._locks = {name: threading.Lock() for name in self.logical_ids}

    def save(self, backend: Any, names: set[str] | None) -> None:
        """Save the named tables (all when None) as `backend` (moto's DynamoDB backend) holds them now."""
        for name in sorted(self.logical_ids if names is None else names & self.logical_ids.keys()):
            with self._locks[name]:
                self.files.save(self.logical_ids[name], moto_items(backend, name))


def moto_items(backend: Any, table_name: str) -> Items:
    """A table's items as DynamoDB JSON, read from moto's backend (no request: this runs inside one)."""
    return [item.to_json()["Attributes"] for item in backend.get_table(table_name).all_items()]


@contextlib.contextmanager
def write_through(files: TableFiles, tables: dict[str, str]) -> Iterator[WriteThrough]:
    """While the block runs, every DynamoDB write of this process is on disk before its response is returned."""
    from moto.dynamodb.responses import DynamoHandler

    writer = WriteThrough(files, tables)
    originals = {name: getattr(DynamoHandler, name) for name in _WRITES}

    def durable(operation: str, method: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
        def write(self: DynamoHandler) -> Any:
            try:
                return method(self)
            finally:  # also after a refused write: saving is cheaper than proving that nothing changed
                writer.save(self.dynamodb_backend, written_tables(operation, self.body))

        return write

    for name, method in originals.items():
        setattr(DynamoHandler, name, durable(name, method))
    try:
        yield writer
    finally:
        for name, method in originals.items():
            setattr(DynamoHandler, name, method)
