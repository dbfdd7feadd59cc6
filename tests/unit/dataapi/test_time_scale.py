"""The emulator's time_scale: long polls (WaitTimeSeconds) shrink with the local runtime's scaled Wait states."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from shiftflow.dataapi.engines.duckdb import DuckDBEngine
from shiftflow.dataapi.service import DataApiEmulator
from shiftflow.local.cloud.client import wait_until
from shiftflow.local.runtime import LocalRuntime

ROOT = Path(__file__).resolve().parents[3]
TARGET = {"ClusterIdentifier": "local-cluster", "Database": "dev", "DbUser": "awsuser"}
RUNNING = {"SUBMITTED", "PICKED", "STARTED"}


def _engine_with_gate(release: threading.Event) -> tuple[DuckDBEngine, Any]:
    """DuckDB with `held(n)`: returns n once `release` is set, or after 20 s, whichever comes first.

    Every session of the database sees the function, but it lives only as long as the cursor that registered it
    (a call after that cursor is closed crashes the process): keep the returned session open.
    """
    engine = DuckDBEngine()
    session = engine.session("dev")
    session._cursor.create_function(
        "held", lambda n: (release.wait(20), n)[1], ["INTEGER"], "INTEGER", side_effects=True)
    return engine, session


def test_long_polls_wait_time_scale_times_wait_time_seconds() -> None:
    release = threading.Event()
    try:
        engine, _registered_by = _engine_with_gate(release)
        with DataApiEmulator(engine, time_scale=0.001) as emulator:
            # Unscaled, these 30-s waits would outlast the statement (it ends after 20 s at the latest) and
            # report FINISHED; scaled to 30 ms they come back while it still runs.
            submitted = emulator.call("ExecuteStatement", {**TARGET, "Sql": "SELECT held(7)", "WaitTimeSeconds": 30})
            assert submitted["Status"] in RUNNING
            polled = emulator.call("DescribeStatement", {"Id": submitted["Id"], "WaitTimeSeconds": 30})
            assert polled["Status"] in RUNNING
            release.set()
            # Released: it ends, however long a busy machine takes to run it (each scaled wait is 30 ms)
            assert wait_until(lambda: emulator.call("DescribeStatement", {"Id": submitted["Id"], "WaitTimeSeconds": 30})[
                "Status"] not in RUNNING, timeout=20)
            assert emulator.call("DescribeStatement", {"Id": submitted["Id"]})["Status"] == "FINISHED"
            result = emulator.call("GetStatementResult", {"Id": submitted["Id"], "WaitTimeSeconds": 30})
            assert result["Records"] == [[{"longValue": 7}]]
    finally:
        release.set()


def test_time_scale_defaults_to_real_time_and_must_be_positive() -> None:
    with DataApiEmulator() as emulator:
        assert emulator.time_scale == 1.0
    with pytest.raises(ValueError, match="time_scale"):
        DataApiEmulator(time_scale=0)


def test_local_runtime_passes_its_data_api_time_scale(tmp_path: Path) -> None:
    with LocalRuntime(ROOT, state_dir=tmp_path / "default", persist=False, state_machines=["run_sql_job"]) as runtime:
        assert runtime.emulator.time_scale == 1.0  # time_scale (Wait states) alone leaves long polls real
    with LocalRuntime(ROOT, state_dir=tmp_path / "scaled", persist=False, time_scale=0.01, data_api_time_scale=0.01,
                      state_machines=["run_sql_job"]) as runtime:
        assert runtime.emulator.time_scale == 0.01
