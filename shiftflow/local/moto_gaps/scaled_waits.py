"""Gap 7: Wait states and Retry backoff really sleep.

moto behaviour (checked against moto 5.2.5): a ``"Seconds": 600`` Wait or a 200 s Retry interval blocks for that
long, so a test or a local run cannot compress time.

Fix: replaces ``.../wait/wait_function/wait_function.py WaitFunction._wait_interval`` and the ``time`` module seen by
``.../common/retry/retrier_decl.py`` so that they wait ``seconds * time_scale()``. The scale is the one of the
innermost activation (``push_time_scale`` / ``pop_time_scale``, called by ``_activation``); 1.0 outside any. Task
timeouts and heartbeats are not scaled: they bound real work (a handler running SQL).

To drop: moto has no time scale; this gap stays as long as offline runs compress time. At time scale 1 the patch is
behaviourally moto's own wait (a stop of the execution still ends it early).
"""

from __future__ import annotations

import time
from typing import Any

from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

from shiftflow.local.moto_gaps._patcher import Patcher

_scales: list[float] = []  # one entry per live activation, innermost last; guarded by the activation lock


def time_scale() -> float:
    """The factor applied to Wait states and Retry backoff (1.0 when not activated)."""
    return _scales[-1] if _scales else 1.0


def push_time_scale(scale: float) -> None:
    _scales.append(scale)


def pop_time_scale(scale: float) -> int:
    """Remove one activation's own entry (the last equal one), so the enclosing scale is current again.

    Returns how many activations are left."""
    index = len(_scales) - 1 - _scales[::-1].index(scale)
    del _scales[index]
    return len(_scales)


class _ScaledTime:
    """Stands in for the ``time`` module inside retrier_decl: ``sleep`` is scaled, the rest is the real module."""

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) * time_scale())

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def apply(patcher: Patcher) -> None:
    def _wait_interval(self: WaitFunction, env: Any, wait_seconds: float) -> None:
        deadline = time.monotonic() + max(0.0, float(wait_seconds)) * time_scale()
        while env.is_running():  # a stop of the execution ends the wait early, as in moto
            left = deadline - time.monotonic()
            if left <= 0:
                return
            env.program_state_event.wait(left)

    patcher.set(WaitFunction, "_wait_interval", _wait_interval)
    patcher.set(retrier_decl, "time", _ScaledTime())
