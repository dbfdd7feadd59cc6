"""The benchmark suite's code paths at tiny sizes (`run_all --quick`): every section measures and the report is written.

Asserts what the runs did (patterns, counts, identical warehouses, files), never how fast they were.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import completion, run_all, throughput
from benchmarks.common import emulated_seconds, spread
from benchmarks.report import CHARTS, duration

SECTIONS = ("## Goals", "## Machine", "## How to read these figures", "## 1. Completion and cost per SQL job",
            "## 2. Warehouse throughput", "## 3. Workflow scale", "## 4. The demo, and issue 4's other figures",
            "## 5. Streaming ingestion (issue 12)", "## Running it")


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench")
    assert run_all.main(["--quick", "--out", str(out)]) == 0
    return out, json.loads((out / "results.json").read_text())


def test_the_report_has_every_section_chart_and_verdict(quick: tuple[Path, dict[str, Any]]) -> None:
    out, results = quick
    readme = (out / "README.md").read_text()
    positions = [readme.index(heading) for heading in SECTIONS]
    assert positions == sorted(positions)
    for chart in CHARTS:
        assert (out / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({chart})" in readme
    assert not [name for name in run_all.SECTIONS if "error" in results[name]] and "Not measured" not in readme
    goals = readme.split("## Goals")[1].split("## Machine")[0]
    assert goals.count("**met**") + goals.count("**not met**") == 15  # every goal has a computed verdict
    assert f"{results['meta']['machine']['cpus']} x" in readme and "duckdb 2.0.0" in readme


def test_completion_runs_both_patterns_on_the_same_emulator(quick: tuple[Path, dict[str, Any]]) -> None:
    _, results = quick
    jobs = results["completion"]["jobs"]
    assert {(job["pattern"], job["duration_s"]) for job in jobs} == {
        (pattern, duration) for pattern in ("shiftflow", "baseline") for duration in (1, 30)}
    for job in jobs:
        checks = job["status_checks"]
        assert checks >= 1
        if job["pattern"] == "shiftflow":  # submit, the mode's choice, (long poll, route) per check, the Succeed state
            assert job["transitions"] == 3 + 2 * checks and job["lambda_cost_per_1000_jobs"] > 0
        else:  # submit, (Wait, describe, Choice) per check, the Succeed state; no Lambda at all
            assert job["transitions"] == 2 + 3 * checks and job["lambda_cost_per_1000_jobs"] == 0
        assert job["sfn_cost_per_1000_jobs"] == pytest.approx(job["transitions"] * 0.025)


def test_throughput_warehouses_end_identical_and_scale_runs_every_job(quick: tuple[Path, dict[str, Any]]) -> None:
    _, results = quick
    (size,) = results["throughput"]["results"]
    assert size["rows"] == 20_000 and [load["load"] for load in size["loads"]] == ["item (SCD2)", "fact"]
    # items: 16,000 known + 4,000 new + 1,600 new versions of repriced ones; the fact: every staged sale, all keyed
    items, current, _, sales, keyed, _ = size["check"]
    assert (items, current, sales, keyed) == ("21600", "20000", "20000", "20000")
    assert results["throughput"]["peak_rss_mb"] > 0
    for run in results["scale"]["runs"]:
        assert run["status"] == "SUCCEEDED" and run["executions"]["run_sql_job"] == run["jobs"]
        assert run["audit_items_succeeded"] == run["jobs"]
    assert [run["jobs"] for run in results["scale"]["runs"]] == [4, 10]
    assert len(results["demo"]["demo_s"]) == 1 and results["dataapi"]["insert_select"]["median"]["direct_s"] > 0


def test_the_ratio_is_the_median_of_paired_repetitions_beside_the_fixed_cost_of_a_job(
        quick: tuple[Path, dict[str, Any]]) -> None:
    _, results = quick
    section = results["throughput"]
    for load in section["results"][0]["loads"]:
        assert load["paired_ratios"] == [o / d for d, o in zip(load["direct_runs_s"], load["orchestrated_runs_s"])]
        assert len(load["paired_ratios"]) == section["repeat"] and load["ratio"] == load["ratio_spread"]["median"]
    fixed = section["fixed_cost"]
    assert len(fixed["runs_s"]) == fixed["runs"] == 2 and fixed["min_s"] <= fixed["median_s"] <= fixed["max_s"]
    demo = results["demo"]
    assert [len(demo[key]) for key in ("demo_s", "after_setup_s", "setup_warm_s", "empty_cache_s", "warm_s")] == [1] * 5
    assert demo["met"] == (demo["after_setup_median_s"] <= demo["goal_s"])
    assert len(demo["status"]["wall_s"]) == len(demo["status"]["cpu_s"]) == 2 and demo["status"]["cpu_median_s"] > 0


def test_paired_ratios_and_their_spread() -> None:
    assert throughput.paired_ratios([1.0, 2.0, 4.0], [1.5, 2.0, 4.4]) == pytest.approx([1.5, 1.0, 1.1])
    with pytest.raises(ValueError, match="unpaired"):
        throughput.paired_ratios([1.0], [1.0, 2.0])
    assert spread([1.1, 1.0, 1.5, 1.2, 1.3]) == pytest.approx(
        {"median": 1.2, "min": 1.0, "max": 1.5, "q1": 1.1, "q3": 1.3})
    assert spread([2.0]) == {"median": 2.0, "min": 2.0, "max": 2.0, "q1": 2.0, "q3": 2.0}


def test_transitions_goal_allows_two_per_30_s_beyond_the_shortest_jobs() -> None:
    def job(seconds: float, transitions: int) -> dict[str, Any]:
        return {"pattern": "shiftflow", "emulated_duration_s": seconds, "transitions": transitions, "delay_s": 0.002}

    # 1 s: submit, one long poll, routing, Succeed; a 30-s statement that outlives its first 30-s poll needs a
    # second one (6 = 4 + 2 x 30/30); 10 minutes, 20 polls.
    baseline = {"pattern": "baseline", "emulated_duration_s": 1, "transitions": 5, "delay_s": 9.0}
    goals = completion._goals([job(1, 4), job(30, 6), job(600, 42), baseline])["transitions"]
    assert goals["constant"] == 4 and goals["met"]
    assert not completion._goals([job(1, 4), job(30, 8), baseline])["transitions"]["met"]  # 3 polls for 30 s


def test_emulated_seconds_converts_only_what_was_compressed() -> None:
    # 0.1 real s inside a Wait of 10 emulated s that lasted 0.2 real s, plus 0.003 s of fixed overhead after it.
    assert emulated_seconds(10.1, 10.203, [(10.0, 10.2, 10)]) == pytest.approx(5.003)
    assert emulated_seconds(1.0, 1.004, []) == pytest.approx(0.004)  # no compressed wait: real time as it is
    assert duration(600) == "10 min" and duration(0.0021) == "2.1 ms" and duration(30) == "30 s"


def test_a_missed_goal_or_the_budget_fails_the_full_suite_with_a_line_naming_it() -> None:
    goal = {"section": "throughput", "goal": "2", "what": "orchestrated / alone", "target": "<= 1.15x",
            "measured": "1.300x", "met": False}
    results = {"meta": {"suite_s": 700.4, "budget_s": 600, "budget_met": False, "goals_missed": [goal],
                        "section_s": {"demo": 90.0, "throughput": 500.2, "scale": 110.2}},
               "scale": {"error": "Traceback ..."}}
    failures, notes, timing = run_all.verdict(results, judged=True)
    assert failures == ["[bench] failed: scale (not measured: its error is above and in the report)",
                        "[bench] goal missed: throughput: orchestrated / alone: target <= 1.15x, measured 1.300x",
                        "[bench] over budget: the suite took 700 s, budget 600 s (slowest: throughput 500 s, "
                        "scale 110 s, demo 90 s)"] and notes == []
    assert timing == "[bench] total 700 s (budget 600 s: not met); demo 90 s, throughput 500 s, scale 110 s"
    # --quick and resized runs: tiny sizes are not the goals', so their verdicts are notes; a failed section fails
    failures, notes, _ = run_all.verdict(results, judged=False)
    assert failures == ["[bench] failed: scale (not measured: its error is above and in the report)"]
    assert [line.split(": ", 1)[1].split(":")[0] for line in notes] == ["goal missed", "over budget"]


def test_the_quick_run_records_its_time_and_verdicts(quick: tuple[Path, dict[str, Any]]) -> None:
    _, results = quick
    meta = results["meta"]
    assert set(meta["section_s"]) == set(meta["section_cpu_s"]) == set(run_all.SECTIONS)
    assert meta["suite_s"] >= sum(meta["section_s"].values()) and all(cpu > 0 for cpu in meta["section_cpu_s"].values())
    assert len(meta["goals"]) == 15 and meta["goals_missed"] == [g for g in meta["goals"] if g["met"] is False]
    assert meta["budget_met"] == (meta["suite_s"] <= meta["budget_s"])
    assert results["throughput"]["repeat_by_size"] == [1]


def test_streaming_measures_issue_12s_three_goals_against_both_baselines(quick: tuple[Path, dict[str, Any]]) -> None:
    _, results = quick
    streaming = results["streaming"]
    typed = streaming["typed_load"][0]
    # the emulator's rows were checked against both plain-DuckDB baselines inside the run; each ratio is its parts'
    assert typed["ratio"] == pytest.approx((typed["refresh"] + typed["typed"]) / typed["duckdb"])
    assert typed["ratio_strict"] == pytest.approx((typed["refresh"] + typed["typed"]) / typed["duckdb_strict"])
    increment = streaming["incremental"][0]
    assert increment["held"] == streaming["records"] * 99 // 100  # the view read the whole topic (1% invalid)
    goals = streaming["goals"]
    assert goals["typed_load"]["met"] == (goals["typed_load"]["measured"] <= 1.3)
    assert goals["freshness"]["met"] == (streaming["freshness"]["median"] <= 2.0)
