"""Python's cyclic garbage collector during a process's start-up: deferred, then the start-up's objects frozen.

A start-up imports modules and builds data (botocore's models, moto's backends) that live as long as the process,
and the collector walks them again and again while they are made: about 60 ms CPU of `shiftflow status` (its one
full collection alone 35 ms), about 0.4 s of the local cloud's start. A process that defers it (`pause`) starts
with a first collection only after START_UP_ALLOCATIONS new objects (not never: a process that never reaches its
`resume` still collects), and once started (`resume`) freezes what it holds (gc.freeze: never walked again nor
freed, the few cycles its imports left included, a few MB) and collects as usual from then on.
"""

from __future__ import annotations

import gc

# Above the local cloud's start (about 320,000), far below what would matter in a process that never resumes.
START_UP_ALLOCATIONS = 500_000
_thresholds_before: tuple[int, ...] | None = None


def pause() -> None:
    """The collector deferred until `resume` (or START_UP_ALLOCATIONS objects); once per process."""
    global _thresholds_before
    if _thresholds_before is None:
        _thresholds_before = gc.get_threshold()
        gc.set_threshold(START_UP_ALLOCATIONS, *_thresholds_before[1:])


def resume() -> None:
    """The collector as before `pause`, what exists now frozen; in a process that did not pause it, nothing (the
    tests' CliRunner, an in-process runtime)."""
    global _thresholds_before
    if _thresholds_before is not None:
        gc.freeze()
        gc.set_threshold(*_thresholds_before)
        _thresholds_before = None
