"""Patch bookkeeping: every replaced attribute is recorded so that ``restore`` puts back exactly what was there."""

from __future__ import annotations

import types
from typing import Any

_MISSING = object()


class Patcher:
    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []

    def set(self, owner: Any, name: str, value: Any) -> None:
        # For classes look only at the class's own __dict__, so an inherited attribute is restored by deletion.
        if isinstance(owner, type):
            previous = owner.__dict__.get(name, _MISSING)
        else:
            previous = getattr(owner, name, _MISSING)
        self._saved.append((owner, name, previous))
        setattr(owner, name, value)

    def rebind(self, modules: list[types.ModuleType], name: str, original: Any, value: Any) -> None:
        """Replace a function in every module that imported it by name (``from x import f``)."""
        for module in modules:
            if getattr(module, name, None) is original:
                self.set(module, name, value)

    def restore(self) -> None:
        while self._saved:
            owner, name, previous = self._saved.pop()
            if previous is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, previous)
