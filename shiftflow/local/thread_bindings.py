"""A value bound to the current thread for the time of a block: who a handler's thread acts as
(shiftflow.local.iam.enforcement), which invocation's log it writes (shiftflow.local.function_logs)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def bound(local: threading.local, name: str, value: Any) -> Iterator[None]:
    """`local.<name>` is `value` on this thread inside the block, and what it was before after it."""
    before = getattr(local, name, None)
    setattr(local, name, value)
    try:
        yield
    finally:
        setattr(local, name, before)
