"""Gap 12: the context object has no ``Execution.RedriveCount``.

moto behaviour (checked against moto 5.2.5): ``$$.Execution.RedriveCount`` is missing, so a path to it fails; AWS
sets it (0 until a redrive), and the pipelines put it in their client token seeds.

Fix: wraps ``backend/execution_worker.py ExecutionWorker._get_evaluation_environment`` to add ``RedriveCount: 0`` to
the context's Execution dict, which every frame (Map iterations, Parallel branches) shares. moto cannot redrive, so 0
is always right locally.

To drop: when moto's context object carries ``Execution.RedriveCount``, delete this module and its entry in
``_activation.GAPS``; tests/unit/local/moto_gaps/test_redrive_count.py must still pass.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from shiftflow.local.moto_gaps._patcher import Patcher


def apply(patcher: Patcher) -> None:
    original = ExecutionWorker._get_evaluation_environment

    def _get_evaluation_environment(self: ExecutionWorker) -> Any:
        environment = original(self)
        # Every frame (Map iterations, Parallel branches) shares this Execution dict.
        environment.states.context_object.context_object_data["Execution"].setdefault("RedriveCount", 0)
        return environment

    patcher.set(ExecutionWorker, "_get_evaluation_environment", _get_evaluation_environment)
