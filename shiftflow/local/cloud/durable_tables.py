"""The DynamoDB tables on disk, per table (by its logical id in template.yaml): a snapshot
<state>/tables/<LogicalId>.json, replaced whole, and a journal <LogicalId>.journal of the items written since.

The in-process runtime loads them at start and saves a snapshot at exit; the local cloud also writes through after
every write, before the write's response leaves (`write_through`), so that a kill -9 at any moment loses no change
whose call returned. A write appends one line per item it touched (the item as it now is, or null once deleted) in a
single write(2), so a kill leaves a line whole or absent; every COMPACT_AFTER lines the table's snapshot is rewritten
and the journal dropped. Hooked at moto's DynamoDB request handler, the one place every write passes, whether it comes
over HTTP, from a handler's boto3 client or from a state machine's dynamodb task.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from shiftflow.durable_files import append_lines, atomic_write, read_lines, remove_partial_writes

TABLES_FOLDER = "tables"
LEGACY_SNAPSHOT = "tables.json"  # one file for all tables, as the in-process runtime saved them before
COMPACT_AFTER = 500  # journal lines of a table before its snapshot is rewritten
# The handler methods that change items.
_WRITES = ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items",
           "execute_statement", "batch_execute_statement", "execute_transaction")

Item = dict[str, Any]
Items = list[Item]


def _key_text(key: Item) -> str:
    return json.dumps(key, sort_keys=True)


class TableFiles:
    """The saved items of each table, by the table's logical id in template.yaml."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.folder = state_dir / TABLES_FOLDER

    def remove_partial_writes(self) -> None:
        """Snapshots a kill interrupted (the old ones stand); by the owner of the state folder, when it starts."""
        remove_partial_writes(self.folder)

    def load(self) -> dict[str, Items]:
        """The saved items (read-only: a running cloud may be replacing a snapshot beside this read)."""
        if not self.folder.is_dir():
            legacy = self.state_dir / LEGACY_SNAPSHOT
            return json.loads(legacy.read_text()) if legacy.is_file() else {}
        logical_ids = {path.stem for path in self.folder.glob("*.json")} | {
            path.stem for path in self.folder.glob("*.journal")}
        return {logical_id: self._items(logical_id) for logical_id in sorted(logical_ids)}

    def _items(self, logical_id: str) -> Items:
        snapshot = self.folder / f"{logical_id}.json"
        items = json.loads(snapshot.read_text()) if snapshot.is_file() else []
        changes = self._journal(logical_id)
        if not changes:
            return items
        names = list(changes[0]["key"])
        by_key = {_key_text({name: item[name] for name in names}): item for item in items}
        for change in changes:
            if change["item"] is None:
                by_key.pop(_key_text(change["key"]), None)
            else:
                by_key[_key_text(change["key"])] = change["item"]
        return list(by_key.values())

    def _journal(self, logical_id: str) -> list[dict[str, Any]]:
        return read_lines(self.folder / f"{logical_id}.journal")

    def journal_length(self, logical_id: str) -> int:
        return len(self._journal(logical_id))

    def save(self, logical_id: str, items: Items) -> None:
        """A new snapshot, then the journal it includes dropped (replaying that journal over it changes nothing)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.folder / f"{logical_id}.json", json.dumps(items, indent=1, sort_keys=True).encode())
        (self.folder / f"{logical_id}.journal").unlink(missing_ok=True)

    def append(self, logical_id: str, changes: list[tuple[Item, Item | None]]) -> None:
        """Journal items as they now are (None: deleted), in one write(2)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        append_lines(self.folder / f"{logical_id}.journal", [{"key": key, "item": item} for key, item in changes])


def _table_name(name_or_arn: str) -> str:
    return name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


def written_items(operation: str, body: dict[str, Any]) -> list[tuple[str, Item]] | None:
    """(table, key or whole item) of every item a write request touches; None when the request does not say
    (PartiQL): then every table is saved whole."""
    if operation == "put_item":
        return [(_table_name(body["TableName"]), body["Item"])]
    if operation in ("update_item", "delete_item"):
        return [(_table_name(body["TableName"]), body["Key"])]
    if operation == "batch_write_item":
        return [(_table_name(table), request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"])
                for table, requests in body.get("RequestItems", {}).items() for request in requests]
    if operation == "transact_write_items":
        return [(_table_name(action["TableName"]), action.get("Item") or action["Key"])
                for item in body.get("TransactItems", []) for kind, action in item.items() if kind != "ConditionCheck"]
    return None


class WriteThrough:
    """Journals the items a write touched, as the backend holds them after it; one lock per table orders the lines,
    so the journal never records an older state of an item after a newer one."""

    def __init__(self, files: TableFiles, tables: dict[str, str]) -> None:
        self.files = files
        self.logical_ids = {name: logical_id for logical_id, name in tables.items()}
        self._locks = {name: threading.Lock() for name in self.logical_ids}
        self._journal_lines = {name: files.journal_length(logical_id) for name, logical_id in self.logical_ids.items()}

    def save(self, backend: Any, touched: list[tuple[str, Item]] | None) -> None:
        if touched is None:
            for name in sorted(self.logical_ids):
                with self._locks[name]:
                    self._snapshot(backend, name)
            return
        by_table: dict[str, list[Item]] = {}
        for name, item in touched:
            if name in self.logical_ids:
                by_table.setdefault(name, []).append(item)
        for name, items in sorted(by_table.items()):
            with self._locks[name]:
                table = backend.get_table(name)
                keys = [_key_of(table, item) for item in items]
                changes = [(key, _current(backend, name, key)) for key in keys]
                self.files.append(self.logical_ids[name], changes)
                self._journal_lines[name] += len(changes)
                if self._journal_lines[name] >= COMPACT_AFTER:
                    self._snapshot(backend, name)

    def _snapshot(self, backend: Any, name: str) -> None:
        self.files.save(self.logical_ids[name], moto_items(backend, name))
        self._journal_lines[name] = 0


def _key_of(table: Any, item: Item) -> Item:
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return {name: item[name] for name in names}


def _current(backend: Any, table_name: str, key: Item) -> Item | None:
    item = backend.get_item(table_name, key)
    return item.to_json()["Attributes"] if item is not None else None


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
            result = method(self)  # a refused write (condition, cancelled transaction) changes nothing in moto
            writer.save(self.dynamodb_backend, written_items(operation, self.body))
            return result

        return write

    for name, method in originals.items():
        setattr(DynamoHandler, name, durable(name, method))
    try:
        yield writer
    finally:
        for name, method in originals.items():
            setattr(DynamoHandler, name, method)
