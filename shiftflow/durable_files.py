"""Files that a crash or kill -9 never leaves half written: replaced whole (`atomic_write`: written beside the
target, flushed to disk, renamed over it, atomic on POSIX) or grown a whole line at a time (`append_lines`: one
write(2), so a kill leaves a line whole or absent; `replace_lines` rewrites them whole; `read_lines` drops a last
line a power loss cut), or kept one JSON file per record in a folder (`RecordFolder`: the pending work of a service,
each record replaced whole as it changes and removed once done).

Shared by the local cloud's state (shiftflow.local.cloud) and the Data API emulator's (shiftflow.dataapi.store_files),
so neither imports the other for it. Readers never delete anything: a running owner may be writing beside them; the
owner clears what an earlier one's kill left (`remove_partial_writes`) when it starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

_TEMPORARY_SUFFIX = ".tmp"


def atomic_write(path: Path, data: bytes) -> None:
    """`path` holds either its old content or `data`, never part of it, also after a crash or kill -9."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TEMPORARY_SUFFIX, dir=path.parent)
    try:
        os.fchmod(handle, 0o644)  # mkstemp's 0600 would make these files differ from every other state file
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def remove_partial_writes(folder: Path) -> None:
    """The temporary files of replacements a kill interrupted (the files they were to replace stand as they were).
    Only the folder's owner calls this, when it starts: another process's replacement may be under way."""
    for leftover in folder.glob(f".*{_TEMPORARY_SUFFIX}") if folder.is_dir() else []:
        leftover.unlink(missing_ok=True)


def append_lines(path: Path, records: list[Any], default: Callable[[Any], Any] | None = None,
                 sync: bool = True) -> None:
    """Append one JSON line per record in a single write(2); `sync`: on disk (fsync) before returning."""
    data = _lines(records, default)
    handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if os.write(handle, data) != len(data):
            raise OSError(f"short write to {path} (disk full?)")
        if sync:
            os.fsync(handle)
    finally:
        os.close(handle)


def replace_lines(path: Path, records: Iterable[Any], default: Callable[[Any], Any] | None = None) -> None:
    """The file holds these records as `append_lines` writes them, replaced whole (`atomic_write`)."""
    atomic_write(path, _lines(records, default))


def _lines(records: Iterable[Any], default: Callable[[Any], Any] | None) -> bytes:
    return "".join(json.dumps(record, sort_keys=True, default=default) + "\n" for record in records).encode()


def read_lines(path: Path, object_hook: Callable[[dict[str, Any]], Any] | None = None,
               synced: bool = True) -> list[Any]:
    """The records `append_lines` wrote. A last line that does not parse is left out (a power loss cut it: its write
    never returned, so no caller saw it done); any other that does not is corruption, and raises, unless the lines
    were not `synced` (a power loss may then lose any of them: those are left out too)."""
    if not path.is_file():
        return []
    records = []
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            records.append(json.loads(line, object_hook=object_hook))
        except ValueError:
            if synced and number < len(lines):
                raise
    return records


class RecordFolder:
    """One JSON file per record, `<folder>/<id>.json`, each replaced whole (`atomic_write`): the pending deliveries of
    the local cloud's rules, the pending firings of its schedules. The folder's owner writes; anyone may read."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, record_id: str, record: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.folder / f"{record_id}.json", json.dumps(record, sort_keys=True).encode())

    def remove(self, record_id: str) -> None:
        (self.folder / f"{record_id}.json").unlink(missing_ok=True)

    def records(self) -> list[dict[str, Any]]:
        """The records as they are (read-only: a running owner may be replacing one, or removing one between the
        listing and the read: that record is gone)."""
        if not self.folder.is_dir():
            return []
        records = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                records.append(json.loads(path.read_text()))
            except FileNotFoundError:
                continue
        return records

    def remove_partial_writes(self) -> None:
        """Records a kill interrupted while they were written: the previous ones stand. The owner, when it starts."""
        remove_partial_writes(self.folder)
