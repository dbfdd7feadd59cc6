"""The user's cache folder, shared by every clone and state folder: $SHIFTFLOW_CACHE_DIR, else
$XDG_CACHE_HOME/shiftflow or ~/.cache/shiftflow. What is kept there is derived from files and versions named in its
key, so that any entry may be deleted at any time (it is computed again)."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir(kind: str) -> Path:
    """The folder of one kind of cache entries (asl-programs, botocore-data)."""
    base = os.environ.get("SHIFTFLOW_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shiftflow"
    return Path(base) / kind
