"""docs/benchmarks/README.md and its PNG charts from the results of benchmarks/run_all.py (matplotlib, Agg)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHARTS = ("completion_delay.png", "transitions_and_cost.png", "throughput.png", "workflow_scale.png")


def render(results: dict[str, Any], out_dir: Path) -> Path:
    """Write README.md, results.json and the charts into `out_dir`; returns the README's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    charts = _charts(results, out_dir)
    sections = [_header(results), _goals(results), _machine(results), _how_to_read(results),
                _section(results, "completion", _completion, charts), _section(results, "throughput", _throughput, charts),
                _section(results, "scale", _scale, charts), _demo_and_issue_4(results),
                _section(results, "streaming", _streaming, charts), _reproduce()]
    readme = out_dir / "README.md"
    readme.write_text("\n\n".join(section.strip("\n") for section in sections) + "\n")
    return readme


# ---- formatting -----------------------------------------------------------------------------------------------

def duration(seconds: float) -> str:
    """1.5 ms, 2.40 s, 10 min: the unit that reads best."""
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    if float(seconds).is_integer():
        return f"{seconds:g} s"
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


def _met(flag: bool | None) -> str:
    return "n/a" if flag is None else ("**met**" if flag else "**not met**")


def _money(value: float) -> str:
    return f"${value:.3f}" if value < 10 else f"${value:.2f}"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _ok(results: dict[str, Any], name: str) -> dict[str, Any] | None:
    section = results.get(name)
    return section if isinstance(section, dict) and "error" not in section else None


def _section(results: dict[str, Any], name: str, body: Callable[[dict[str, Any], dict[str, str]], str],
             charts: dict[str, str]) -> str:
    titles = {"completion": "## 1. Completion and cost per SQL job", "throughput": "## 2. Warehouse throughput",
              "scale": "## 3. Workflow scale", "streaming": "## 5. Streaming ingestion (issue 12)"}
    section = results.get(name)
    if section is None:
        return f"{titles[name]}\n\nNot run this time (`--only`)."
    if "error" in section:
        return f"{titles[name]}\n\nNot measured: the benchmark failed.\n\n```\n{section['error']}\n```"
    return f"{titles[name]}\n\n{body(section, charts)}"


# ---- sections ---------------------------------------------------------------------------------------------------

def _header(results: dict[str, Any]) -> str:
    meta = results["meta"]
    budget = meta["budget_s"]
    quick = " with `--quick` (tiny sizes: a check of the code paths, not figures to quote)" if meta["quick"] else ""
    return f"""# Benchmarks

Written by `make bench` (`benchmarks/run_all.py`){quick} on {meta['date']} at commit `{meta['commit']}`; do not edit
by hand, run it again. Every figure below is from that one run, and every measurement is set against a baseline
run in the same process. The suite took **{meta['suite_s']:.0f} s** (budget {budget:.0f} s:
{_met(meta['suite_s'] <= budget)}). Raw figures: [results.json](results.json)."""


def goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every goal of the sections that were measured: section, goal (its issue), what, target, measured, met (the
    code's verdict on the measured figures). The Goals table shows them; run_all fails on a missed one."""
    rows: list[dict[str, Any]] = []
    completion = _ok(results, "completion")
    if completion:
        figures = completion["goals"]
        rows.append(_goal("completion", "1", "completion seen after the statement's end",
                          f"<= {duration(figures['detection']['goal_s'])}",
                          f"{duration(figures['detection']['worst_s'])} (worst job)", figures["detection"]["met"]))
        transitions = figures["transitions"]
        rows.append(_goal("completion", "1", "state transitions per 30 s of statement time, beyond a constant",
                          f"<= {transitions['goal_per_30_s']}",
                          f"{transitions['slope_per_30_s']:.2f} (constant {transitions['constant']}, "
                          f"worst excess {transitions['worst_excess']:+.2f})", transitions["met"]))
        rows.append(_goal("completion", "1", "completion detection vs 10-s polling (mean delay ratio)",
                          f">= {figures['speedup']['goal']}x", f"{figures['speedup']['measured']:,.0f}x",
                          figures["speedup"]["met"]))
    throughput = _ok(results, "throughput")
    if throughput:
        worst = max((load for result in throughput["results"] for load in result["loads"]),
                    key=lambda load: load["ratio"])
        low, high = worst["ratio_spread"]["min"], worst["ratio_spread"]["max"]
        rows.append(_goal("throughput", "2",
                          "orchestrated load time / DuckDB alone (worst load and size, median of paired ratios)",
                          f"<= {throughput['goal_ratio']}x",
                          f"{throughput['worst_ratio']:.3f}x (min-max {low:.3f}-{high:.3f}x, "
                          f"{len(worst['paired_ratios'])} pairs)", throughput["met"]))
    scale = _ok(results, "scale")
    if scale:
        goal = scale["goal"]
        rows.append(_goal("scale", "3", f"largest execution history at {goal['jobs']:,} jobs",
                          f"< {goal['goal_events']:,} events (20% of {goal['limit']:,})",
                          f"{goal['largest']:,} ({goal['share']:.1%})", goal["met"]))
    demo = _ok(results, "demo")
    if demo:
        rows.append(_goal("demo", "4", f"`{demo['command']}` from a fresh clone after setup: the cloud starts on demand, "
                          "caches as setup leaves them on a new machine, Python start included (median)",
                          f"<= {demo['goal_s']:g} s",
                          f"{duration(demo['after_setup_median_s'])} (this user's cache: {duration(demo['median_s'])}; "
                          f"empty caches: {duration(demo['empty_cache_median_s'])})", demo["met"]))
        rows.append(_goal("demo", "4 (issue 10)", f"`{demo['command']}` with the local cloud up (median)",
                          f"<= {demo['warm_goal_s']:g} s", duration(demo["warm_median_s"]), demo["warm_met"]))
        status = demo["status"]
        rows.append(_goal("demo", "issue 10", "`shiftflow status` against a running local cloud, Python start "
                          f"included (median of {status['runs']})", f"<= {status['goal_s'] * 1000:.0f} ms",
                          f"{duration(status['median_s'])} (CPU {duration(status['cpu_median_s'])})", status["met"]))
    transitions = _ok(results, "transitions")
    if transitions:
        rows.append(_goal("transitions", "4", "local orchestration overhead per state transition (median)",
                          f"<= {transitions['goal_ms']:g} ms", f"{transitions['per_transition_ms']['median']:.2f} ms",
                          transitions["met"]))
    dataapi = _ok(results, "dataapi")
    if dataapi:
        figures = dataapi["goals"]
        rows.append(_goal("dataapi", "4 (issue 2)",
                          "emulator overhead per statement over DuckDB (service layer, worst kind)", "<= 2 ms",
                          f"{figures['statement_overhead']['measured_ms']:.3f} ms",
                          figures["statement_overhead"]["met"]))
        rows.append(_goal("dataapi", "4 (issue 2)", "long poll returns after the statement's end (median)", "<= 20 ms",
                          f"{figures['long_poll_latency']['measured_ms']:.3f} ms", figures["long_poll_latency"]["met"]))
        rows.append(_goal("dataapi", "4 (issue 2)",
                          f"{dataapi['rows']:,}-row insert-select through the emulator / DuckDB (median)", "<= 1.1x",
                          f"{figures['insert_select_ratio']['measured']:.3f}x", figures["insert_select_ratio"]["met"]))
    streaming = _ok(results, "streaming")
    if streaming:
        figures = streaming["goals"]
        typed, increment, fresh = figures["typed_load"], figures["incremental"], figures["freshness"]
        rows.append(_goal("streaming", "12", f"REFRESH of {streaming['records']:,} records plus the typed load / the "
                          "same insert-select from a local table on DuckDB alone (median)", f"<= {typed['goal']}x",
                          f"{typed['measured']:.2f}x (CPU {typed['cpu']:.2f}x; against DuckDB with Redshift's strict "
                          f"JSON check {typed['strict']:.2f}x, CPU {typed['strict_cpu']:.2f}x)", typed["met"]))
        rows.append(_goal("streaming", "12", f"REFRESH of {streaming['new']:,} new records on {streaming['records']:,} "
                          "/ on an empty view (median)", f"<= {increment['goal']}x",
                          f"{increment['measured']:.2f}x (CPU {increment['cpu']:.2f}x)", increment["met"]))
        rows.append(_goal("streaming", "12", "freshness: a put to a query that sees it, REFRESH every "
                          f"{streaming['freshness']['interval']:g} s (median)", f"<= {fresh['goal_s']:g} s",
                          f"{duration(fresh['measured_s'])} (max {duration(fresh['max_s'])})", fresh["met"]))
    return rows


def _goal(section: str, goal: str, what: str, target: str, measured: str, met: bool | None) -> dict[str, Any]:
    return {"section": section, "goal": goal, "what": what, "target": target, "measured": measured, "met": met}


def _goals(results: dict[str, Any]) -> str:
    rows = [[row["goal"], row["what"], row["target"], row["measured"], _met(row["met"])] for row in goals(results)]
    failed = [name for name, section in results.items() if isinstance(section, dict) and "error" in section]
    note = f"\n\nNot measured (the benchmark failed, see its section): {', '.join(failed)}." if failed else ""
    return "## Goals\n\n" + _table(["goal", "what", "target", "measured", "verdict"], rows) + note


def _machine(results: dict[str, Any]) -> str:
    machine = results["meta"]["machine"]
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    load_start, load_end = results["meta"]["load_start"], results["meta"]["load_end"]
    cpu = results["meta"]["cpu"]
    busy = ("other processes were busy during the run, so times are on the slow side" if cpu["others_share"] > 0.1
            else "the suite had the machine to itself")
    rows = [["CPU", f"{machine['cpus']} x {machine['cpu_model']}"], ["memory", f"{machine['memory_gb']:.1f} GB"],
            ["OS", machine["os"]], ["Python", machine["python"]], ["packages", packages],
            ["other work during the run", f"other processes used {cpu['others_share']:.0%} of the machine's CPU "
                                          f"time (the suite {cpu['suite_s']:.0f} CPU s of {cpu['machine_busy_s']:.0f} "
                                          f"busy CPU s in all): {busy}"],
            ["load average (1, 5, 15 min)", f"start {', '.join(f'{x:.2f}' for x in load_start)}; "
                                            f"end {', '.join(f'{x:.2f}' for x in load_end)}"],
            ["time per section", ", ".join(f"{name} {seconds:.0f} s"
                                           for name, seconds in results["meta"]["section_s"].items())]]
    return "## Machine\n\n" + _table(["", ""], rows)


def _how_to_read(results: dict[str, Any]) -> str:
    completion = _ok(results, "completion")
    scale = completion["time_scale"] if completion else None
    phases = ", ".join(f"+{phase:g} s" for phase in completion["phases"]) if completion else "(not run)"
    compression = (f"**{scale:g}** (1 emulated second = {scale * 1000:g} ms of real time; a 10-minute statement runs "
                   f"{600 * scale:g} s)" if scale else "(not run)")
    return f"""## How to read these figures

- **Everything runs offline, in one process**: moto's Step Functions interpreter with Shiftflow's patches, the Lambda
  handlers of `functions/` called in-process, and the Data API emulator over DuckDB. Local times measure the
  *patterns* (how many calls, transitions and waits a job needs) and the local stack's own overhead, not AWS's
  latencies: on AWS every Lambda invocation and state transition takes longer, the same for both patterns.
- **Ratios**: each figure is set against a baseline measured in the same run: the AWS samples' polling pattern
  (section 1), the same SQL on DuckDB alone (2), a lone job without a workflow around it (3), the bare interpreter
  start (4). A time ratio is Shiftflow's time over the baseline's (above 1x: slower than the baseline); "faster" in
  section 1 is the baseline's delay over Shiftflow's. Ratios near 1.0 are within the machine's noise.
- **Emulated time (section 1)**: statement durations, the baseline's `Wait` of 10 s and the 30-s long poll of the
  status Lambda are compressed by the same factor {compression}; the statement is `select bench_sleep(:seconds)`, a DuckDB
  function that sleeps seconds x factor. Fixed overheads (Lambda invocations, Data API calls, state transitions) are
  not compressed, so a delay is converted back piece by piece: the part of it spent inside a compressed wait (a Wait
  state, or the statement's own run) counts in proportion to that wait's emulated length, the rest counts as the real
  milliseconds it took. A Shiftflow job's delay has no compressed part (the long poll returns the moment the statement
  ends), so its emulated delay is its real delay; a baseline job's is mostly the rest of its current `Wait`.
  Because fixed overheads are not compressed, each polling loop lasts slightly longer in emulated terms than on AWS
  (a few real milliseconds of invocations and transitions count as that many hundred milliseconds of a compressed
  loop), so long statements need a loop or two fewer than they would on AWS, in both patterns: the 10-minute counts
  of transitions are slight underestimates, the baseline's more than Shiftflow's.
- **Delay** is measured from the statement's end (`UpdatedAt` of the emulator, microseconds) to the moment the state
  machine enters the state that follows the check that saw `FINISHED` (the Succeed state; history timestamps have
  1 ms resolution, so a delay is known to about 1 ms).
- **Phases**: each duration is run at the phases {phases}, so that the baseline's 10-s polling grid is met at
  spread phases (a 30-s statement polled at exactly 30 s would otherwise race the poll); means are over phases.
- **Cost** is projected from the transitions counted in each execution's history (every `...StateEntered` event,
  as Step Functions Standard bills them) at **$0.025 per 1,000 state transitions** (public us-east-1 price, free tier
  ignored). Shiftflow's pattern also pays Lambda for its long poll: its column uses the functions' memory in
  template.yaml and the public arm64 price ($0.0000133334 per GB-second, $0.20 per million requests). The baseline
  calls the Data API from aws-sdk tasks and pays no Lambda; the AWS sample it follows invokes a Lambda for every
  check, which would cost more.
- **Verdicts** are computed by the code from the measured figures; nothing is adjusted by hand."""


def _completion(section: dict[str, Any], charts: dict[str, str]) -> str:
    rows = []
    for row in section["summary"]:
        for pattern, label in (("shiftflow", "Shiftflow (long poll)"), ("baseline", "baseline (Wait 10 s)")):
            figures = row[pattern]
            rows.append([duration(row["duration_s"]), label, duration(figures["mean_delay_s"]),
                         duration(figures["max_delay_s"]), f"{figures['mean_real_delay_ms']:.1f} ms",
                         f"{figures['transitions']:g}", f"{figures['expected_transitions']:g}",
                         f"{figures['history_events']:g}",
                         _money(figures["sfn_cost_per_1000_jobs"]), _money(figures["lambda_cost_per_1000_jobs"]),
                         f"{row['speedup']:,.0f}x" if pattern == "shiftflow" else ""])
    jobs = [[job["pattern"], duration(job["emulated_duration_s"]), duration(job["delay_s"]),
             f"{job['real_delay_ms']:.1f}", job["status_checks"], job["transitions"], job["history_events"]]
            for job in section["jobs"]]
    phases = ", ".join(f"+{phase:g} s" for phase in section["phases"])
    return f"""`statemachine/run_sql_job.asl.json` (submit Lambda, then `WaitForSqlCompletion` long-polling describe-statement
for up to 30 s, `RouteOnSqlStatus` looping) against `benchmarks/baseline/poll_every_10s.asl.json` (the AWS samples'
submit, `Wait` 10 s, describe-statement, `Choice` loop, calling the Data API through aws-sdk tasks), in one local
runtime on one emulator. Each duration was run at phases {phases}, {len(section['jobs'])} jobs in all, each job
beside the other pattern's job of the same duration and phase (the two run at once). Time compression
{section['time_scale']:g}.

{_table(["statement", "pattern", "mean delay", "max delay", "real delay", "transitions",
         "transitions at AWS timing", "history events", "Step Functions per 1,000 jobs", "Lambda per 1,000 jobs",
         "faster"], rows)}

*Transitions* are counted in the histories of this run (the cost columns use them); *at AWS timing* is what each
pattern needs when its loops are not stretched by uncompressed overheads (see above): Shiftflow 2 + 2 x ceil(D / 30 s),
the baseline 2 + 3 x ceil(D / 10 s), one loop more when the statement's end races a check. Real delay is the
uncompressed milliseconds from the statement's end to the Succeed state.

![completion delay]({charts['completion_delay.png']})
![transitions and cost]({charts['transitions_and_cost.png']})

<details><summary>Every job</summary>

{_table(["pattern", "statement (emulated)", "delay (emulated)", "real delay ms", "status checks", "transitions",
         "history events"], jobs)}

</details>"""


def _throughput(section: dict[str, Any], charts: dict[str, str]) -> str:
    rows = []
    for result in section["results"]:
        for load in result["loads"]:
            runs = " / ".join(f"{d:.2f}-{o:.2f}" for d, o in zip(load["direct_runs_s"], load["orchestrated_runs_s"]))
            ratios = load["ratio_spread"]
            rows.append([f"{result['rows']:,}", load["load"], f"{load['direct_s']:.3f} s",
                         f"{load['direct_rows_per_s']:,.0f}", f"{load['orchestrated_s']:.3f} s",
                         f"{load['orchestrated_rows_per_s']:,.0f}", f"{load['ratio']:.3f}x",
                         f"{ratios['min']:.3f}-{ratios['max']:.3f}x (IQR {ratios['q1']:.3f}-{ratios['q3']:.3f})",
                         f"{load['ratio_without_fixed_cost']:.3f}x", runs, f"{result['peak_rss_mb']:,.0f} MB"])
    fixed = section["fixed_cost"]
    generation = ", ".join(f"{r['rows']:,} rows {r['generate_s']:.1f} s" for r in section["results"])
    pairs = ", ".join(f"{r.get('repeat', section['repeat'])} at {r['rows']:,} rows" for r in section["results"])
    return f"""`scripts/sales/load_item_dimension.sql` (SCD2: update in place, close changed versions, insert new ones) and
`scripts/sales/load_store_sales_fact.sql` (delete the run date, insert-select with 5 joins) for one run date, at each
size of staging (N staged items: 80% known, of which a tenth with a new price and a tenth with a new description,
20% new; 0.8 N current items; N staged sales; 100,000 customers). **Orchestrated**: a `run_sql_job` execution (submit
Lambda reads the script from S3, one Data API batch on the emulator over a file-backed DuckDB, status Lambda,
routing), translation included. **DuckDB alone**: the same statements split by Shiftflow's splitter and translated by
the emulator's translator (the translated SQL, not hand-written DuckDB SQL; translation outside the timing), run in
one transaction on a DuckDB connection to a copy of the same file. Median of the repetitions ({pairs}) on fresh
copies, which side runs first alternating (as many pairs of each order: the second run of a pair tends to be the faster);
the two warehouses are checked identical afterwards (counts and sums).
Rows per second = staged rows / seconds. Generating the data (not timed in the ratio): {generation}.

{_table(["staged rows", "load", "DuckDB alone", "rows/s", "orchestrated", "rows/s", "ratio (median of pairs)",
         "ratio spread", "ratio less the fixed cost", "each repetition, s (alone-orchestrated)",
         "process peak RSS so far"], rows)}

The goal is judged on the median of the paired ratios: each repetition runs the load alone and orchestrated back to
back, so a burst of load from other processes on the shared cores moves one pair, not the verdict; the spread
(min-max, quartiles) says how much the pairs differ. The fixed cost that orchestration adds to any job, measured on
its own (`run_sql_job` of `select 1;`, {fixed['runs']} runs after a warm-up): median
**{duration(fixed['median_s'])}** (min {duration(fixed['min_s'])}, max {duration(fixed['max_s'])}). It is why the ratio
tends to 1.0 as loads grow; "ratio less the fixed cost" is the median of (orchestrated - that cost) / alone.

Peak memory of the benchmark process (`ru_maxrss`, both warehouses of a size open at once, everything run before it
in the process included): **{section['peak_rss_mb']:,.0f} MB**.

![throughput]({charts['throughput.png']})"""


def _scale(section: dict[str, Any], charts: dict[str, str]) -> str:
    rows = []
    for run in section["runs"]:
        largest = run["largest_history"]
        rows.append([f"{run['jobs']:,}", run["stages"], sum(run["executions"].values()), f"{run['wall_seconds']:.1f} s",
                     f"{run['per_job_s'] * 1000:.0f} ms", f"{run['ratio_to_lone_job']:.2f}x",
                     largest.get("workflow", 0), largest.get("workflow_stage", 0), largest.get("run_sql_job", 0),
                     f"{run['largest_of_all'] / run['history_limit']:.1%}"])
    return f"""`benchmarks/workflow_scale.py`: a configured workflow of `select 1` jobs, in stages of at most 50 (alternately
parallel with max_concurrency {section['concurrency']} and sequential), through the real path: `workflow` ->
`workflow_stage` child per stage -> `run_sql_job` child per job, audit items included. Baseline: one `run_sql_job`
execution of the same statement started alone, {duration(section['lone_job_s'])} (median of {section['lone_jobs']}).

{_table(["jobs", "stages", "executions", "wall", "per job", "per job / lone job", "largest workflow history",
         "largest stage history", "largest job history", "largest / 25,000"], rows)}

![workflow scale]({charts['workflow_scale.png']})"""


def _demo_and_issue_4(results: dict[str, Any]) -> str:
    parts = ["## 4. The demo, and issue 4's other figures"]
    demo = results.get("demo")
    if demo is None:
        parts.append("`make demo`: not run this time (`--only`).")
    elif "error" in demo:
        parts.append(f"`make demo`: not measured, it failed.\n\n```\n{demo['error']}\n```")
    else:
        runs = ", ".join(duration(seconds) for seconds in demo["demo_s"])
        parts.append(f"""`{demo['command']}` as a user runs it after `make setup`: a new process in a new state folder
(`SHIFTFLOW_STATE_DIR`) each time, so every run bootstraps the demo schema and data, runs the sales pipeline and prints
the report; the command starts the local cloud on demand. Runs: {runs}; median **{duration(demo['median_s'])}**
with this user's cache (parsed state machines, botocore's data; kept across clones);
**{duration(demo['after_setup_median_s'])}** after setup on a machine that never ran Shiftflow (a cache folder of its
own, filled by the warm-up `make setup` ends with: {", ".join(duration(seconds) for seconds in demo['setup_warm_s'])};
goal {demo['goal_s']:g} s, judged on these: {_met(demo['met'])}); **{duration(demo['empty_cache_median_s'])}** with
empty caches (setup's warm-up skipped). With the local cloud already up, new processes against
it: {", ".join(duration(seconds) for seconds in demo['warm_s'])}; median **{duration(demo['warm_median_s'])}** (goal
{demo['warm_goal_s']:g} s: {_met(demo['warm_met'])}). Baselines: the bare interpreter starts in
{duration(demo['python_start_s'])}; importing the CLI takes {duration(demo['cli_import_s'])} of every command.
`shiftflow status` against a running cloud (`benchmarks/status_latency.py`, {demo['status']['runs']} processes):
median **{duration(demo['status']['median_s'])}** wall (min {duration(demo['status']['spread_s']['min'])}, max
{duration(demo['status']['spread_s']['max'])}), {duration(demo['status']['cpu_median_s'])} of CPU; goal
{demo['status']['goal_s'] * 1000:.0f} ms: {_met(demo['status']['met'])}. Load average when measured:
{", ".join(f"{value:.2f}" for value in demo['load'])}.""")
    transitions = results.get("transitions")
    if transitions and "error" not in transitions:
        chain, items = transitions["per_transition_ms"], transitions["per_item_ms"]
        parts.append(f"""`benchmarks/local_transition_overhead.py`: a chain of {transitions['states']} Pass states, {transitions['runs']}
runs: median **{chain['median']:.2f} ms per transition** (min {chain['min']:.2f}, max {chain['max']:.2f}; goal
{transitions['goal_ms']:g} ms: {_met(transitions['met'])}); an inline Map of {transitions['states']} items:
{items['median']:.2f} ms per item.""")
    elif transitions:
        parts.append(f"Transition overhead: not measured.\n\n```\n{transitions['error']}\n```")
    dataapi = results.get("dataapi")
    if dataapi and "error" not in dataapi:
        per = dataapi["per_statement_ms"]
        direct = per["DuckDB cursor directly"]
        rows = [[name, f"{row['INSERT']:.3f}", f"{row['SELECT']:.3f}",
                 "" if name == "DuckDB cursor directly" or name.startswith("translate")
                 else f"{row['INSERT'] - direct['INSERT']:.3f} / {row['SELECT'] - direct['SELECT']:.3f}"]
                for name, row in per.items()]
        latency = dataapi["long_poll_ms"]
        loads = dataapi["insert_select"]
        parts.append(f"""`benchmarks/dataapi_overhead.py` (the emulator, issue 2's goals), {dataapi['statements']} statements of
each kind, ms per statement:

{_table(["way in", "INSERT", "SELECT", "over DuckDB (INSERT / SELECT)"], rows)}

Long poll, statement end to a waiting DescribeStatement's return ({dataapi['samples']} samples): service layer median
{latency['service layer']['median']:.3f} ms (max {latency['service layer']['max']:.3f}), boto3 in-process median
{latency['boto3 in-process']['median']:.3f} ms (max {latency['boto3 in-process']['max']:.3f}).
{dataapi['rows']:,}-row insert-select with 3 joins, median of {dataapi['runs']}: DuckDB alone
{loads['median']['direct_s']:.3f} s, through the emulator {loads['median']['emulator_s']:.3f} s, ratio
{loads['median']['ratio']:.3f}x (best runs: {loads['best']['ratio']:.3f}x).""")
    elif dataapi:
        parts.append(f"Emulator figures: not measured.\n\n```\n{dataapi['error']}\n```")
    return "\n\n".join(parts)


def _streaming(section: dict[str, Any], charts: dict[str, str]) -> str:
    typed = [[f"{run['copy_lag']:.2f} s", f"{run['refresh']:.2f} s ({run['refresh_cpu']:.2f})",
              f"{run['typed']:.2f} s ({run['typed_cpu']:.2f})",
              f"{run['duckdb']:.2f} s ({run['duckdb_cpu']:.2f})", f"{run['duckdb_strict']:.2f} s "
              f"({run['duckdb_strict_cpu']:.2f})", f"{run['ratio']:.2f}x ({run['cpu_ratio']:.2f}x)",
              f"{run['ratio_strict']:.2f}x ({run['cpu_ratio_strict']:.2f}x)"] for run in section["typed_load"]]
    increments = [[f"{run['on_empty']:.3f} s ({run['on_empty_cpu']:.3f})",
                   f"{run['on_full']:.3f} s ({run['on_full_cpu']:.3f})", f"{run['ratio']:.2f}x ({run['cpu_ratio']:.2f}x)"]
                  for run in section["incremental"]]
    return f"""`benchmarks/streaming.py` (DuckDB, the Data API emulator in process, the local MSK topic store; docs/streaming.md
says where the time goes). Wall clock, CPU seconds in brackets.

Typed load: the first REFRESH of {section['records']:,} orders (1% invalid JSON) and the seed's typed CTAS from the
view, against the same extraction from a local table in plain DuckDB, with DuckDB's `json_valid` and with Redshift's
strict JSON check (plain DuckDB SQL). The records arrive after the view exists and the warehouse copies them as they
come (docs/streaming.md); "copied after" is how long after the last of them arrived the warehouse held them all
(not part of the ratio: work done as records are put, before any REFRESH).

{_table(["copied after", "REFRESH", "typed CTAS", "DuckDB (json_valid)", "DuckDB (strict)", "ratio", "ratio (strict)"], typed)}

Incremental: REFRESH of {section['new']:,} new records on a view holding {section['records']:,}, against as many on an
empty view.

{_table(["on empty", "on full", "ratio"], increments)}"""


def _reproduce() -> str:
    return """## Running it

```bash
make bench                                                  # the whole suite, writes this folder (under 10 minutes)
.venv/bin/python benchmarks/run_all.py --quick --out /tmp/b  # tiny sizes: the code paths in about half a minute
.venv/bin/python benchmarks/run_all.py --rows 1000000        # other sizes; --only completion throughput ... for parts
```

Each part also runs alone: `benchmarks/completion.py`, `throughput.py`, `scale.py` (over `workflow_scale.py`),
`demo.py` (over `status_latency.py`), `local_transition_overhead.py`, `dataapi_overhead.py`; each has `--help`.
Nothing is downloaded at run time; every state folder is temporary."""


# ---- charts -----------------------------------------------------------------------------------------------------

def _charts(results: dict[str, Any], out_dir: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn: dict[str, str] = {}
    for name, draw, section in (("completion_delay.png", _chart_delay, "completion"),
                                ("transitions_and_cost.png", _chart_transitions, "completion"),
                                ("throughput.png", _chart_throughput, "throughput"),
                                ("workflow_scale.png", _chart_scale, "scale")):
        figures = _ok(results, section)
        if figures is None:
            continue
        figure = draw(plt, figures)
        figure.tight_layout()
        figure.savefig(out_dir / name, dpi=110)
        plt.close(figure)
        drawn[name] = name
    return drawn


COLORS = {"shiftflow": "#1f77b4", "baseline": "#d62728", "direct": "#7f7f7f", "orchestrated": "#1f77b4"}


def _bars(axis: Any, labels: list[str], series: dict[str, list[float]], colors: list[str]) -> None:
    width = 0.8 / len(series)
    for index, ((name, values), color) in enumerate(zip(series.items(), colors)):
        positions = [x + (index - (len(series) - 1) / 2) * width for x in range(len(labels))]
        axis.bar(positions, values, width, label=name, color=color)
    axis.set_xticks(range(len(labels)), labels)
    axis.legend()


def _chart_delay(plt: Any, section: dict[str, Any]) -> Any:
    figure, axis = plt.subplots(figsize=(7, 4))
    labels = [duration(row["duration_s"]) for row in section["summary"]]
    _bars(axis, labels, {"Shiftflow (long poll)": [row["shiftflow"]["mean_delay_s"] for row in section["summary"]],
                         "baseline (Wait 10 s)": [row["baseline"]["mean_delay_s"] for row in section["summary"]]},
          [COLORS["shiftflow"], COLORS["baseline"]])
    axis.set_yscale("log")
    delays = [row[p]["mean_delay_s"] for row in section["summary"] for p in ("shiftflow", "baseline")]
    axis.set_ylim(min(delays) / 3, max(delays) * 30)
    axis.axhline(0.05, color="black", linestyle="--", linewidth=1, label="goal 50 ms")
    axis.set_ylabel("mean delay (emulated s, log scale)")
    axis.set_xlabel("statement duration (emulated)")
    axis.set_title("Completion seen after the statement ends")
    axis.legend(loc="upper left", ncol=3, fontsize="small")
    return figure


def _chart_transitions(plt: Any, section: dict[str, Any]) -> Any:
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    summary = section["summary"]
    labels = [duration(row["duration_s"]) for row in summary]
    _bars(left, labels, {"Shiftflow": [row["shiftflow"]["transitions"] for row in summary],
                         "baseline": [row["baseline"]["transitions"] for row in summary]},
          [COLORS["shiftflow"], COLORS["baseline"]])
    left.set_ylabel("state transitions per job (mean)")
    left.set_xlabel("statement duration (emulated)")
    left.set_title("State transitions per job")
    _bars(right, labels, {"Shiftflow: Step Functions": [row["shiftflow"]["sfn_cost_per_1000_jobs"] for row in summary],
                          "Shiftflow: Lambda": [row["shiftflow"]["lambda_cost_per_1000_jobs"] for row in summary],
                          "baseline: Step Functions": [row["baseline"]["sfn_cost_per_1000_jobs"] for row in summary]},
          [COLORS["shiftflow"], "#9ecae1", COLORS["baseline"]])
    right.set_ylabel("US$ per 1,000 jobs")
    right.set_xlabel("statement duration (emulated)")
    right.set_title("Projected cost per 1,000 jobs")
    return figure


def _chart_throughput(plt: Any, section: dict[str, Any]) -> Any:
    figure, axis = plt.subplots(figsize=(8, 4))
    labels, direct, orchestrated = [], [], []
    for result in section["results"]:
        for load in result["loads"]:
            labels.append(f"{load['load']}\n{result['rows']:,} rows")
            direct.append(load["direct_rows_per_s"] / 1e6)
            orchestrated.append(load["orchestrated_rows_per_s"] / 1e6)
    _bars(axis, labels, {"DuckDB alone": direct, "orchestrated (run_sql_job)": orchestrated},
          [COLORS["direct"], COLORS["orchestrated"]])
    axis.set_ylabel("million staged rows per second")
    axis.set_title("Sales loads: whole local stack vs DuckDB alone")
    return figure


def _chart_scale(plt: Any, section: dict[str, Any]) -> Any:
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    jobs = [run["jobs"] for run in section["runs"]]
    left.plot(jobs, [run["per_job_s"] * 1000 for run in section["runs"]], marker="o", label="workflow, per job")
    left.axhline(section["lone_job_s"] * 1000, color=COLORS["direct"], linestyle="--", label="lone run_sql_job")
    left.set_xscale("log")
    left.set_xlabel("jobs in the workflow")
    left.set_ylabel("wall time per job (ms)")
    left.set_title("Wall time per job")
    left.legend()
    for kind, color in (("workflow", "#2ca02c"), ("workflow_stage", COLORS["shiftflow"]), ("run_sql_job", "#ff7f0e")):
        right.plot(jobs, [run["largest_history"].get(kind, 0) for run in section["runs"]], marker="o", label=kind,
                   color=color)
    right.axhline(section["goal"]["goal_events"], color=COLORS["baseline"], linestyle="--",
                  label="goal: 20% of 25,000")
    right.set_xscale("log")
    right.set_xlabel("jobs in the workflow")
    right.set_ylabel("largest history (events)")
    right.set_title("Largest execution history")
    right.legend()
    return figure
