"""The same service over the PostgreSQL engine (pgserver): batches, types, cancel, procedures, catalog."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import psutil
import pytest

from shiftflow.dataapi.inprocess import route_in_process
from shiftflow.dataapi.service import DataApiEmulator
from tests.conftest import SLOW_SQL
from tests.unit.dataapi.conftest import TARGET, assert_shape, result_pages, rows, run, run_batch


@pytest.fixture(scope="module")
def postgres_engine() -> Iterator[Any]:
    from shiftflow.dataapi.engines.postgres import PostgresEngine

    engine = PostgresEngine()
    yield engine
    engine.close()


@pytest.fixture
def pg_client(postgres_engine: Any) -> Iterator[Any]:
    emulator = DataApiEmulator(postgres_engine, page_rows=5)
    with route_in_process(emulator):
        yield boto3.client("redshift-data", region_name="us-east-1")
    emulator.close(close_engine=False)  # the server is shared by the module's tests


def table() -> str:
    return f"t_{uuid.uuid4().hex[:8]}"


def test_transaction_batch_rollback_on_postgres(pg_client: Any) -> None:
    name = table()
    run(pg_client, f"CREATE TABLE {name} (id INT, amount DECIMAL(10, 2))")
    failed = run_batch(pg_client, [f"INSERT INTO {name} VALUES (1, 1.50)", f"INSERT INTO {name} VALUES ('x', 1)"])
    assert failed["Status"] == "FAILED" and "Sub-statement 2 of 2" in failed["Error"]
    kept = run_batch(pg_client, [f"INSERT INTO {name} VALUES (2, 2.25)", f"INSERT INTO {name} VALUES ('x', 1)"],
                     ExecutionMode="AUTO_COMMIT")
    assert kept["Status"] == "FAILED"
    result = pg_client.get_statement_result(Id=run(pg_client, f"SELECT id, amount FROM {name}")["Id"])
    assert_shape("GetStatementResult", result)
    assert result["Records"] == [[{"longValue": 2}, {"stringValue": "2.25"}]]


def test_procedures_run_on_postgres(pg_client: Any) -> None:
    name = table()
    made = run_batch(pg_client, [
        f"CREATE TABLE {name} (n INT)",
        f"CREATE OR REPLACE PROCEDURE fill_{name}(k INT) AS $$ BEGIN "
        f"FOR i IN 1..k LOOP INSERT INTO {name} VALUES (i); END LOOP; RAISE INFO 'filled %', k; END; $$"
        " LANGUAGE plpgsql",  # Redshift's GENERATE_SERIES runs on the leader node only, not into a table
        f"CALL fill_{name}(3)",
    ])
    assert made["Status"] == "FINISHED", made.get("Error")
    assert rows(pg_client, run(pg_client, f"SELECT count(*) AS n FROM {name}")["Id"]) == [[3]]


def test_cancel_on_postgres(pg_client: Any) -> None:
    submitted = pg_client.execute_statement(Sql=SLOW_SQL, **TARGET)
    while pg_client.describe_statement(Id=submitted["Id"])["Status"] != "STARTED":
        pass
    pg_client.cancel_statement(Id=submitted["Id"])
    assert pg_client.describe_statement(Id=submitted["Id"], WaitTimeSeconds=30)["Status"] == "ABORTED"


def test_catalog_on_postgres(pg_client: Any) -> None:
    name = table()
    run(pg_client, f"CREATE TABLE public.{name} (id BIGINT NOT NULL, label VARCHAR(20), amount NUMERIC(12, 2))")
    tables = pg_client.list_tables(**TARGET, SchemaPattern="public", TablePattern=name)
    assert tables["Tables"] == [{"name": name, "type": "TABLE", "schema": "public"}]
    columns = {c["name"]: c for c in pg_client.describe_table(**TARGET, Schema="public", Table=name)["ColumnList"]}
    assert columns["id"]["typeName"] == "int8" and columns["id"]["nullable"] == 0
    assert columns["label"]["typeName"] == "varchar" and columns["label"]["precision"] == 20
    assert (columns["amount"]["precision"], columns["amount"]["scale"]) == (12, 2)


# ---- the PostgreSQL server of `shiftflow serve-data-api --engine postgres` never outlives its users -----------------

def _serve_postgres(project: Path) -> tuple[subprocess.Popen[str], Any]:
    """Start serve-data-api on the project's PostgreSQL warehouse; the process and a client of its endpoint."""
    process = subprocess.Popen(
        [sys.executable, "-m", "shiftflow.cli.app", "serve-data-api", "--engine", "postgres", "--port", "0",
         "--project", str(project)], stdout=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "500"})
    assert process.stdout is not None
    banner = ""
    while "export" not in banner:
        line = process.stdout.readline()
        assert line, f"serve-data-api ended before serving (exit {process.wait()}): {banner}"
        banner += line
    url = re.search(r"http://127\.0\.0\.1:\d+", banner)
    assert url, banner
    return process, boto3.client("redshift-data", region_name="us-east-1", endpoint_url=url.group(0))


def _postmaster(project: Path) -> psutil.Process:
    pid = int((project / ".shiftflow" / "warehouse" / "postgres" / "postmaster.pid").read_text().split()[0])
    return psutil.Process(pid)


@pytest.fixture
def traversable_project() -> Iterator[Path]:
    """A project folder outside pytest's temporary root: pgserver runs PostgreSQL as its own system user, which must
    traverse every ancestor of the data folder, and pytest resets its root to 0700 whenever another worker (or
    session) makes its temporary folders, which then fails the server mid-test with 'Permission denied'."""
    folder = Path(tempfile.mkdtemp(prefix="shiftflow-pg-project-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_killed_servers_postgres_is_reused_and_stopped_by_the_next_clean_exit(traversable_project: Path) -> None:
    first, client = _serve_postgres(traversable_project)
    try:
        assert run(client, "CREATE TABLE kept (a INT)")["Status"] == "FINISHED"
        postmaster = _postmaster(traversable_project)
    finally:
        first.kill()  # kill -9: no clean-up runs
        first.wait(timeout=60)
    assert postmaster.is_running()

    second, client = _serve_postgres(traversable_project)
    try:
        assert run(client, "INSERT INTO kept VALUES (1)")["ResultRows"] == 1  # the same warehouse, the same server
        assert _postmaster(traversable_project).pid == postmaster.pid
    finally:
        second.terminate()  # SIGTERM stops it as Ctrl-C does
        assert second.wait(timeout=60) == 0
    postmaster.wait(timeout=60)  # the last user's clean exit stopped the server
    assert not postmaster.is_running()


def test_a_killed_processs_temporary_server_is_stopped_by_the_next_temporary_engine() -> None:
    from shiftflow.dataapi.engines.postgres import PostgresEngine

    killed = subprocess.run(
        [sys.executable, "-c", "import os, signal\n"
         "from shiftflow.dataapi.engines.postgres import PostgresEngine\n"
         "engine = PostgresEngine()\n"
         "print(engine._temporary.name, flush=True)\n"
         "os.kill(os.getpid(), signal.SIGKILL)"], capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    data_dir = Path(killed.stdout.strip())
    postmaster = psutil.Process(int((data_dir / "postmaster.pid").read_text().split()[0]))
    assert postmaster.is_running()

    PostgresEngine().close()  # any new temporary engine looks for abandoned ones first
    postmaster.wait(timeout=60)
    assert not postmaster.is_running() and not data_dir.exists()


def test_results_kept_on_disk_answer_as_kept_in_memory_on_postgres(postgres_engine: Any, tmp_path: Path) -> None:
    """PostgreSQL's values (Decimal, datetime, time with its zone ...) read back from the statements folder, page by
    page and after a restart, answer as the rows kept in memory do (shiftflow.dataapi.store_files)."""
    sql = ("SELECT n, 'row ' || n AS s, n * 1.5 AS d, n % 2 = 0 AS b, "
           "TIMESTAMP '2026-11-21 12:00:00.12' + n * INTERVAL '1 hour' AS ts, "
           "TIMESTAMPTZ '2026-11-21 12:00:00+02' AS tstz, DATE '2026-11-21' AS day, 12.30::DECIMAL(5,2) AS m, "
           "CASE WHEN n = 3 THEN NULL ELSE n END AS z, '12:00:00+02'::TIMETZ AS tz "
           "FROM generate_series(0, 4) AS g(n) ORDER BY n")
    folder = tmp_path / "statements"
    answers = []
    for kept in (False, True, True):  # in memory; on disk; on disk, read by a new emulator (a restart)
        emulator = DataApiEmulator(postgres_engine, page_rows=2)
        if kept:
            emulator.keep_statements_on_disk(folder)
        try:
            if len(answers) < 2:
                ids = [emulator.call("ExecuteStatement", {**TARGET, "Sql": sql, "ResultFormat": result_format,
                                                          "WaitTimeSeconds": 30})["Id"] for result_format in
                       ("JSON", "CSV")]
            described = emulator.call("DescribeStatement", {"Id": ids[0]})
            assert described["Status"] == "FINISHED", described.get("Error")
            answers.append((result_pages(emulator, ids[0]), result_pages(emulator, ids[1], "GetStatementResultV2"),
                            described["ResultSize"]))
        finally:
            emulator.close(close_engine=False)
    assert len(answers[0][0]) == 3 and answers[1] == answers[0] and answers[2] == answers[0]
    first = answers[0][0][0]["Records"][1]
    assert first[:4] == [{"longValue": 1}, {"stringValue": "row 1"}, {"stringValue": "1.5"}, {"booleanValue": False}]
