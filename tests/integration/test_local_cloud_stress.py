"""Hundreds of plain boto3 clients (retries off) on one local cloud at once, as an outsider's load test would be.

Each test starts a cloud of its own (its own process, on a temporary state folder) and always stops it; the load is
benchmarks/cloud_stress.py's (its docstring lists the roles and every promise checked), sized to run in well under a
minute on two shared cores. Bigger runs, and the figures, come from the script itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks import cloud_stress


def _assert_kept(results: dict[str, Any]) -> None:
    idle = results["idle"]
    for number, wave in enumerate(results["waves"]):
        assert not wave["problems"], f"wave {number}: {len(wave['problems'])} problems: {wave['problems'][:20]}"
        assert wave["statements"] > 0 and wave["calls"] > 0
        outcomes = wave["statement_outcomes"]
        assert outcomes.get("select FINISHED") and outcomes.get("missing FAILED") and outcomes.get("insert FINISHED")
        # A thread per open connection while the clients run; they end with the connections, files close.
        assert wave["after"]["threads"] <= idle["threads"] + 16, wave
        assert wave["after"]["fds"] <= idle["fds"] + 16, wave


def test_220_clients_at_once_on_duckdb_lose_no_call_and_keep_every_promise(tmp_path: Path) -> None:
    """200 threads and 2 processes of 10 clients, two waves: the second wave's peak threads are the first's, not
    more (nothing kept per connection or per client)."""
    results = cloud_stress.measure(threads=200, processes=2, threads_per_process=10, iterations=2, waves=2,
                                   state_dir=tmp_path / "state")
    _assert_kept(results)
    first, second = results["waves"]
    assert second["peak"]["threads"] <= first["peak"]["threads"] * 1.5 + 20, results["waves"]


@pytest.mark.postgres
def test_100_clients_at_once_on_postgresql_keep_every_promise(tmp_path: Path) -> None:
    results = cloud_stress.measure(threads=90, processes=1, threads_per_process=10, iterations=2, waves=1,
                                   engine="postgres", state_dir=tmp_path / "state")
    _assert_kept(results)
