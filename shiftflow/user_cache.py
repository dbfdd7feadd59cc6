"""The user's cache folder, shared by every clone and state folder: $SHIFTFLOW_CACHE_DIR, else
$XDG_CACHE_HOME/shiftflow or ~/.cache/shiftflow. What is kept there is derived from files and versions named in its
key, so that any entry may be deleted at any time (it is computed again)."""

from __future__ import annotations

import gc
import logging
import os
import pickle
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def user_cache_dir(kind: str) -> Path:
    """The folder of one kind of cache entries (asl-programs, botocore-data)."""
    base = os.environ.get("SHIFTFLOW_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shiftflow"
    return Path(base) / kind


def load_entry(entry: Path) -> Any | None:
    """The value `save_entry` pickled in `entry`, or None (never saved, or unreadable: a partial or foreign file,
    which the caller computes again and replaces)."""
    try:
        data = entry.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        log.debug("ignoring the cache entry %s: %s", entry, error)
        return None
    # An entry is up to a few hundred thousand containers, none of them garbage: without the cyclic collector
    # walking them while they are built (a third of the load in a process that holds many objects already).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(data)  # noqa: S301 - the user's own cache, written by save_entry
    except Exception as error:
        log.debug("ignoring the cache entry %s: %s", entry, error)
        return None
    finally:
        if collecting:
            gc.enable()


def save_entry(entry: Path, value: Any) -> None:
    """Keep `value` in `entry` for the next process; a cache that cannot be written only costs the next computation."""
    from shiftflow.durable_files import atomic_write

    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        entry.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(entry, data)
    except (OSError, pickle.PicklingError, RecursionError, TypeError, AttributeError) as error:
        log.debug("not cached on disk (%s): %s", entry, error)
