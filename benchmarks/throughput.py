"""Goal 2: warehouse throughput of the sales loads through the whole local stack against DuckDB alone.

For each size N, one DuckDB file is built: the schema of scripts/sales/setup_sales_demo.sql, then generated data
(DuckDB SQL over range()): N staged items (80% known: a tenth of those with a new price, a tenth with a new
description, the rest unchanged; 20% new), 0.8 N current items, 100,000 customers and addresses, N staged sales.
Each repetition copies that file twice: one copy is the local runtime's warehouse, one DuckDB's alone; then,
interleaved (which side runs first alternates between repetitions):
- DuckDB alone: each script split by shiftflow's splitter, translated by the emulator's translator (outside the
  timing), run on a DuckDB connection in one transaction with :run_date bound;
- orchestrated: the same script as a run_sql_job execution (submit Lambda reads it from S3, Data API batch on the
  emulator over the file-backed DuckDB, long-polled status Lambda, routing), translation included (cache cleared).
Both warehouses must end identical (counts and sums checked).

The figure judged is robust to a busy machine: each repetition gives one paired ratio (orchestrated over alone, the
two run back to back on copies of the same file), and the goal is judged on the median of those ratios, reported with
their spread (min-max and quartiles): 6 pairs a size in the full suite, 2 from 5,000,000 rows on (REPEAT and
LONG_REPEAT say why). The fixed cost that orchestration adds to any job (two Lambda invocations, the script read from
S3, one Data API batch and its long poll, the routing) is measured on its own: `run_sql_job` of `select 1;`, repeated.

    .venv/bin/python benchmarks/throughput.py [--rows 1000000 5000000] [--repeat 6] [--long-repeat 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import ROOT, local_runtime, run_sql_job, spread, stage_script

RUN_DATE = "2026-11-19"
LOADS = {"item (SCD2)": "sales/load_item_dimension.sql", "fact": "sales/load_store_sales_fact.sql"}
CUSTOMERS = 100_000
RATIO_GOAL = 1.15
CHECK_SQL = """
select (select count(*) from item), (select count(*) from item where i_is_current), (select sum(i_item_sk) from item),
       (select count(*) from store_sales where ss_sold_date_sk = 20261119),
       (select count(ss_item_sk) from store_sales where ss_sold_date_sk = 20261119),
       (select sum(ss_net_paid) from store_sales where ss_sold_date_sk = 20261119)
"""
GENERATE = """
delete from stg_item; delete from stg_store_sales; delete from stg_customer_address;
delete from item; delete from customer; delete from customer_address; delete from store_sales;
insert into customer_address
  select n, 'ADDR' || lpad(n::varchar, 12, '0'), (n % 999 + 1)::varchar, 'Main', 'Street', 'City ' || (n % 50),
         'County', 'TN', lpad((n % 90000 + 10000)::varchar, 5, '0'), 'United States', 'apartment', date '2026-01-01'
  from range(1, {customers} + 1) t(n);
insert into customer
  select n, 'CUST' || lpad(n::varchar, 12, '0'), n, 'First', 'Last', 'c' || n || '@example.com', 1950 + n % 50
  from range(1, {customers} + 1) t(n);
insert into item
  select n, 'ITEM' || lpad(n::varchar, 12, '0'), date '2026-01-01', null, true, 'Demo item ' || n,
         (n * 37 % 200 + 4.99)::decimal(7,2), ((n * 37 % 200 + 4.99) * 0.6)::decimal(7,2), 'brand #' || (n % 12 + 1),
         'basic', 'Books', 'product ' || n
  from range(1, {known} + 1) t(n);
insert into stg_item
  select 'ITEM' || lpad(n::varchar, 12, '0'),
         case when n % 10 = 1 then 'Demo item ' || n || ', new packaging' else 'Demo item ' || n end,
         (n * 37 % 200 + 4.99 + case when n % 10 = 0 then 2.50 else 0 end)::decimal(7,2),
         ((n * 37 % 200 + 4.99) * 0.6)::decimal(7,2), 'brand #' || (n % 12 + 1), 'basic', 'Books', 'product ' || n
  from range(1, {rows} + 1) t(n);
insert into stg_store_sales
  select date '{run_date}', 20261119::bigint * 100000000 + n, 'ITEM' || lpad(((n * 7919) % {rows} + 1)::varchar, 12, '0'),
         'CUST' || lpad((n % {customers} + 1)::varchar, 12, '0'), 'STORE' || lpad((n % 12 + 1)::varchar, 11, '0'),
         n % 5 + 1, (n % 90 + 9.99)::decimal(7,2)
  from range({rows}) t(n);
checkpoint;
"""


FIXED_COST_RUNS = 7
# Pairs per size, an even number: each side runs first in half of them. The second run of a load in a pair is the
# faster one (13 of the 14 pairs at 5,000,000 rows in the suite of 2026-12-02, both loads), and with as many pairs
# of each order that bias cancels in the median (an odd count leaves one order a pair ahead). REPEAT pairs below
# LONG_ROWS, where a load runs 1-3 s and a burst of other work on the shared cores moves a run most; LONG_REPEAT from
# LONG_ROWS on, where a load runs 8-16 s (a pair about 45 s) and a burst moves a run by a fraction: one pair of each
# order (their median is their mean, the order bias cancelled), as each pair more costs three quarters of a minute
# of the suite's 10-minute budget; the report shows every pair's ratio and their spread beside it.
REPEAT = 6
LONG_ROWS = 5_000_000
LONG_REPEAT = 2


def measure(sizes: tuple[int, ...] = (1_000_000, 5_000_000), repeat: int = REPEAT,
            fixed_cost_runs: int = FIXED_COST_RUNS, long_repeat: int = LONG_REPEAT) -> dict[str, Any]:
    """`repeat` pairs at each size under LONG_ROWS, `long_repeat` (at most `repeat`) at the larger ones."""
    fixed = orchestration_cost(fixed_cost_runs)
    pairs = {rows: repeat if rows < LONG_ROWS else min(repeat, long_repeat) for rows in sizes}
    results = [_one_size(rows, pairs[rows], fixed["median_s"]) for rows in sizes]
    worst = max(load["ratio"] for result in results for load in result["loads"])
    return {"sizes": list(sizes), "repeat": repeat, "repeat_by_size": [pairs[rows] for rows in sizes],
            "results": results, "goal_ratio": RATIO_GOAL, "worst_ratio": worst, "met": worst <= RATIO_GOAL,
            "fixed_cost": fixed, "peak_rss_mb": _peak_rss_mb()}


def paired_ratios(direct: list[float], orchestrated: list[float]) -> list[float]:
    """One ratio per repetition: its orchestrated run over its own run alone (the same index is the same pair)."""
    if len(direct) != len(orchestrated):
        raise ValueError(f"unpaired runs: {len(direct)} alone, {len(orchestrated)} orchestrated")
    return [o / d for d, o in zip(direct, orchestrated)]


def orchestration_cost(runs: int = FIXED_COST_RUNS) -> dict[str, Any]:
    """The wall time of a `run_sql_job` of `select 1;` (after one warm-up): what orchestration adds to any job."""
    with local_runtime(state_machines=["run_sql_job"]) as runtime:
        stage_script(runtime, "benchmark/select_one.sql", "select 1;")
        run_sql_job(runtime, "warm-up", "benchmark/select_one.sql")
        walls = [run_sql_job(runtime, f"fixed-{run}", "benchmark/select_one.sql")[1] for run in range(runs)]
    return {"runs": runs, "runs_s": walls, **{f"{key}_s": value for key, value in spread(walls).items()}}


def _one_size(rows: int, repeat: int, fixed_cost_s: float) -> dict[str, Any]:
    """Each repetition on fresh copies of one generated warehouse; the side that runs first alternates."""
    times: dict[str, dict[str, list[float]]] = {name: {"direct": [], "orchestrated": []} for name in LOADS}
    with tempfile.TemporaryDirectory(prefix="shiftflow-bench-") as work:
        pristine = Path(work) / "pristine.duckdb"
        started = time.perf_counter()
        _build_warehouse(pristine, rows)
        generate_s = time.perf_counter() - started
        for repetition in range(repeat):
            expected, checked = _repetition(pristine, Path(work) / f"run{repetition}", times, repetition % 2 == 1)
            if checked != expected:
                raise RuntimeError(f"the orchestrated warehouse differs from DuckDB alone: {checked} != {expected}")
    loads = []
    for name, measured in times.items():
        direct_s, orchestrated_s = statistics.median(measured["direct"]), statistics.median(measured["orchestrated"])
        ratios = paired_ratios(measured["direct"], measured["orchestrated"])
        without_fixed = [(o - fixed_cost_s) / d for d, o in zip(measured["direct"], measured["orchestrated"])]
        loads.append({"load": name, "script": f"scripts/{LOADS[name]}", "direct_s": direct_s,
                      "orchestrated_s": orchestrated_s, "direct_runs_s": measured["direct"],
                      "orchestrated_runs_s": measured["orchestrated"], "direct_rows_per_s": rows / direct_s,
                      "orchestrated_rows_per_s": rows / orchestrated_s, "paired_ratios": ratios,
                      "ratio": statistics.median(ratios), "ratio_spread": spread(ratios),
                      "ratio_without_fixed_cost": statistics.median(without_fixed),
                      "ratio_of_medians": orchestrated_s / direct_s,
                      "best_ratio": min(measured["orchestrated"]) / min(measured["direct"])})
    return {"rows": rows, "repeat": repeat, "generate_s": generate_s, "loads": loads, "check": [str(value) for value in expected],
            "peak_rss_mb": _peak_rss_mb()}


def _repetition(pristine: Path, work: Path, times: dict[str, dict[str, list[float]]],
                orchestrated_first: bool) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    from shiftflow.dataapi.translate import clear_cache

    warehouse = work / "state" / "warehouse" / "duckdb"  # where LocalRuntime(persist=True) keeps database "dev"
    warehouse.mkdir(parents=True)
    shutil.copyfile(pristine, warehouse / "dev.duckdb")
    shutil.copyfile(pristine, work / "direct.duckdb")
    direct = _direct_connection(work / "direct.duckdb")
    try:
        with local_runtime(state_dir=work / "state", persist=True, state_machines=["run_sql_job"]) as runtime:
            stage_script(runtime, "benchmark/select_one.sql", "select 1;")
            run_sql_job(runtime, "warm-up", "benchmark/select_one.sql")
            direct.execute("select 1").fetchall()
            for name, script in LOADS.items():
                def orchestrated() -> float:
                    clear_cache()  # the stack translates as on a first run
                    return run_sql_job(runtime, name, script, {"run_date": RUN_DATE}, timeout=3600)[1]

                sides = {"direct": lambda: _run_direct(direct, script), "orchestrated": orchestrated}
                for side in (["orchestrated", "direct"] if orchestrated_first else ["direct", "orchestrated"]):
                    times[name][side].append(sides[side]())
            checked = _check(runtime)
        expected = tuple(direct.execute(CHECK_SQL).fetchone())
    finally:
        direct.close()
        shutil.rmtree(work)  # a 5,000,000-row warehouse is hundreds of MB: one pair on disk at a time
    return expected, checked


def _build_warehouse(path: Path, rows: int) -> None:
    from shiftflow.dataapi.engines.duckdb import DuckDBSession
    from shiftflow.dataapi.translate import SessionCommand, translate
    from shiftflow.sql import split_statements

    connection = _direct_connection(path)
    session = DuckDBSession(connection)  # DROP / CREATE TABLE are commands around the engine's SQL (declarations)
    try:
        for statement in split_statements((ROOT / "scripts" / "sales" / "setup_sales_demo.sql").read_text()):
            translated = translate(statement.text, "duckdb")
            if isinstance(translated, SessionCommand):
                translated.run(session, {}, False)
            else:
                translated.execute(session, {})
        connection.execute(GENERATE.format(rows=rows, known=rows * 8 // 10, customers=CUSTOMERS, run_date=RUN_DATE))
    finally:
        connection.close()


def _direct_connection(path: Path) -> duckdb.DuckDBPyConnection:
    from shiftflow.dataapi.translate import prepared_duckdb

    return prepared_duckdb(duckdb.connect(str(path)))


def _run_direct(connection: duckdb.DuckDBPyConnection, script: str) -> float:
    """The script on DuckDB alone as the emulator would run it: split, translated, one transaction."""
    from shiftflow.dataapi.translate import EngineSql, translate
    from shiftflow.sql import split_statements

    translated = [translate(statement.text, "duckdb") for statement in split_statements((ROOT / "scripts" / script).read_text())]
    assert all(isinstance(sql, EngineSql) for sql in translated), translated
    parameters = {"run_date": RUN_DATE}
    started = time.perf_counter()
    connection.execute("BEGIN TRANSACTION")
    for sql in translated:
        connection.execute(sql.text, {name: parameters[name] for name in sql.parameter_names} or None)
    connection.execute("COMMIT")
    return time.perf_counter() - started


def _check(runtime: Any) -> tuple[Any, ...]:
    session = runtime.emulator.engine.session("dev")
    try:
        return tuple(session.execute(CHECK_SQL, {}).rows[0])
    finally:
        session.close()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--repeat", type=int, default=REPEAT, help=f"pairs per size under {LONG_ROWS:,} rows")
    parser.add_argument("--long-repeat", type=int, default=LONG_REPEAT, help=f"pairs per size from {LONG_ROWS:,} rows")
    arguments = parser.parse_args()
    print(json.dumps(measure(tuple(arguments.rows), arguments.repeat, long_repeat=arguments.long_repeat), indent=2))


if __name__ == "__main__":
    main()
