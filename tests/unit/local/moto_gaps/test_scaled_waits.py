"""Gap 7 (shiftflow.local.moto_gaps.scaled_waits): Wait states and Retry backoff follow the time scale."""

from __future__ import annotations

import time
from typing import Any

from shiftflow.local.moto_gaps import LambdaContext, activate, register_lambda_handler, time_scale
from tests.unit.local.moto_gaps.conftest import TIME_SCALE, Machines, SqlStatementFailed, output_of


def test_wait_and_retry_backoff_are_scaled(machines: Machines) -> None:
    attempts: list[float] = []

    def flaky(event: Any, context: LambdaContext) -> str:
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise SqlStatementFailed("not yet")
        return "done"

    register_lambda_handler("Flaky", flaky)
    definition = {
        "StartAt": "Pause",
        "States": {
            "Pause": {"Type": "Wait", "Seconds": 600, "Next": "Call"},
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "Flaky"},
                "OutputPath": "$.Payload",
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 200, "BackoffRate": 2, "MaxAttempts": 3}],
                "End": True,
            },
        },
    }
    started = time.monotonic()
    assert output_of(machines.run(definition)) == "done"
    elapsed = time.monotonic() - started
    # Unscaled this is 600 + 200 + 400 s; scaled by 0.001 it is 1.2 s of waiting.
    assert 1.2 * 0.9 <= elapsed < 20, elapsed
    assert attempts[2] - attempts[1] >= 400 * TIME_SCALE * 0.9  # the backoff rate is kept


def test_time_scale_is_one_outside_activation_and_nested_activations_stack() -> None:
    assert time_scale() == 1.0
    with activate(time_scale=0.5):
        with activate(time_scale=TIME_SCALE):
            with activate(time_scale=0.5):
                assert time_scale() == 0.5
            assert time_scale() == TIME_SCALE
        assert time_scale() == 0.5
    assert time_scale() == 1.0
