"""Gap 22: a task token completed before its task has begun to wait is lost when the task has a heartbeat.

moto behaviour (checked against moto 5.2.5): a ``.waitForTaskToken`` task creates its callback endpoint, calls its
resource (which hands the token out), and only then sets up its heartbeat endpoint and waits
(``state_task_service_callback.py _eval_integration_pattern``). A SendTaskSuccess (or Failure) in between stores its
outcome on the callback endpoint, but has no heartbeat endpoint to wake; the wait with a heartbeat
(``_wait_for_task_token_heartbeat``) then waits a whole heartbeat before it looks at the outcome, and ends in
``States.HeartbeatTimeout`` although the token was completed. On AWS the token is completed as soon as it exists:
resume_sql_job completing a job's token just after the job stored it is the common case of a short statement.

Fix: wraps ``callback.py CallbackEndpoint.setup_heartbeat_endpoint`` so that a heartbeat endpoint set up after an
outcome has arrived is notified at once: the wait then returns that outcome.

To drop: when moto looks at an outcome that came before its heartbeat wait, delete this module and its entry in
``_activation.GAPS``; tests/unit/local/moto_gaps/test_early_task_success.py must still pass.
"""

from __future__ import annotations

from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint, HeartbeatEndpoint

from shiftflow.local.moto_gaps._patcher import Patcher


def apply(patcher: Patcher) -> None:
    original = CallbackEndpoint.setup_heartbeat_endpoint

    def setup_heartbeat_endpoint(self: CallbackEndpoint, heartbeat_seconds: int) -> HeartbeatEndpoint:
        endpoint = original(self, heartbeat_seconds=heartbeat_seconds)
        # notify() sets the outcome before it looks for the heartbeat endpoint, and this looks for the outcome after
        # setting it: whichever comes second sees the other.
        if self.get_outcome() is not None:
            endpoint.notify()
        return endpoint

    patcher.set(CallbackEndpoint, "setup_heartbeat_endpoint", setup_heartbeat_endpoint)
