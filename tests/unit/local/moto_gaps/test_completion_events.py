"""Gap 8 (shiftflow.local.moto_gaps.completion_events): waiting for an execution without polling."""

from __future__ import annotations

import pytest

from shiftflow.local.moto_gaps import wait_for_execution
from tests.unit.local.moto_gaps.conftest import Machines


def test_wait_for_execution_times_out_and_rejects_unknown_arns(machines: Machines) -> None:
    arn = machines.start(machines.create({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100_000,
                                                                              "End": True}}}))
    with pytest.raises(TimeoutError):
        wait_for_execution(arn, timeout=0.05)
    machines.sfn.stop_execution(executionArn=arn)
    assert wait_for_execution(arn, timeout=5) == "ABORTED"
    with pytest.raises(LookupError):
        wait_for_execution(arn.replace(arn.rsplit(":", 1)[1], "missing"))
