"""Records kept until the first request to a moto service makes them (support for gaps 27, 30, 31 and 33).

A start records what the template deploys at no cost; the first request to the service's API (its response class's
backend property, patched by ``make_on_first_request``) builds it in moto's backend, once, under a lock: a request
arriving meanwhile waits, then finds everything; every later request takes the lock-free path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from shiftflow.local.moto_gaps._patcher import Patcher

Value = TypeVar("Value")


class PendingRecords(Generic[Value]):
    """What is still to be made, by key (an account, or an account and Region)."""

    def __init__(self) -> None:
        self._pending: dict[Hashable, Value] = {}
        self._lock = threading.Lock()

    def update(self, key: Hashable, change: Callable[[Value | None], Value]) -> None:
        """Replace the key's value by ``change(value or None)``."""
        with self._lock:
            self._pending[key] = change(self._pending.get(key))

    def __contains__(self, key: Hashable) -> bool:
        return key in self._pending

    def make(self, key: Hashable, build: Callable[[Value], None]) -> None:
        """``build`` the key's value once, then forget it (last: a request arriving meanwhile waits on the lock)."""
        if key not in self._pending:  # the path of every request once made: no lock
            return
        with self._lock:
            if key not in self._pending:
                return
            build(self._pending[key])
            del self._pending[key]

    def snapshot(self) -> dict[Hashable, Value]:
        with self._lock:
            return dict(self._pending)

    def restore(self, snapshot: dict[Hashable, Value] | None = None) -> None:
        """When the outermost activation ends: a later moto mock has other backends."""
        with self._lock:
            self._pending.clear()
            self._pending.update(snapshot or {})


def make_on_first_request(patcher: Patcher, response_class: type, name: str,
                          make: Callable[[Any, Any], None]) -> None:
    """Patch the backend property ``name`` of ``response_class`` to call ``make(response, backend)`` first."""
    original = response_class.__dict__[name]

    def backend(self: Any) -> Any:
        found = original.fget(self)
        make(self, found)
        return found

    patcher.set(response_class, name, property(backend))
