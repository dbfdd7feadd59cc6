"""Gap 20: a stopped execution keeps waiting in a ``.waitForTaskToken`` task until its heartbeat or timeout.

moto behaviour (checked against moto 5.2.5): StopExecution sets the execution's program state to stopped, but a task
waiting for its token (``state_task_service_callback.py``) only looks at that state after each wait on its callback
endpoint, which lasts up to HeartbeatSeconds (or the task's timeout): the execution stays RUNNING, and its status
change event (what cancels a stopped job's statement) is not sent, for that long. On AWS a stop ends the execution at
once.

Fix: wraps ``eval/environment.py Environment.set_stop`` so that, once the program is stopped, every callback endpoint
of the execution is interrupted (``CallbackEndpoint.interrupt_all``, what moto itself calls when a task ends); the
waiting task then sees the execution stopped and ends. It ends by raising a timeout (moto's way out of a wait that
got no outcome), so ``Environment.set_error`` and ``set_timed_out`` are wrapped too: a stopped program stays stopped
(ABORTED), as on AWS, whatever its interrupted task raises afterwards.

To drop: when a stop ends a waiting callback task at once in moto, delete this module and its entry in
``_activation.GAPS``; tests/unit/local/moto_gaps/test_stop_ends_callback_waits.py must still pass.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

from shiftflow.local.moto_gaps._patcher import Patcher


def apply(patcher: Patcher) -> None:
    original = Environment.set_stop

    def set_stop(self: Environment, stop_date: Any, cause: str | None, error: str | None) -> None:
        original(self, stop_date=stop_date, cause=cause, error=error)
        pool = getattr(self.callback_pool_manager, "_pool", {})
        for endpoint in list(pool.values()):
            endpoint.interrupt_all()

    patcher.set(Environment, "set_stop", set_stop)
    for name in ("set_error", "set_timed_out"):
        patcher.set(Environment, name, _unless_stopped(getattr(Environment, name)))


def _unless_stopped(original: Any) -> Any:
    def setter(self: Environment, *args: Any, **kwargs: Any) -> None:
        if isinstance(self.program_state(), ProgramStopped):
            return
        original(self, *args, **kwargs)

    return setter
