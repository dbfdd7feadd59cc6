"""Statements kept on disk (shiftflow.dataapi.store_files): a new emulator over the same folder answers for the
statements of an earlier one as it did; one that had not ended is FAILED; every record is whole."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shiftflow.dataapi import statements as st
from shiftflow.dataapi.errors import DataApiError
from shiftflow.dataapi.service import DataApiEmulator
from shiftflow.dataapi.store import INTERRUPTED_ERROR
from shiftflow.dataapi.store_files import StatementFiles
from shiftflow.local.cloud.client import wait_until
from tests.conftest import SLOW_SQL
from tests.unit.dataapi.conftest import result_pages

TARGET = {"ClusterIdentifier": "local-cluster", "Database": "dev", "DbUser": "awsuser"}
TYPED = ("select 42 as n, 2.5::double as d, 'x,y' as s, true as b, null as z, 12.30::decimal(5,2) as m, "
         "timestamp '2026-11-21 12:00:00.12' as ts, date '2026-11-21' as day, '\\x0a0b'::blob as raw")


def _emulator(folder: Path) -> DataApiEmulator:
    emulator = DataApiEmulator(page_rows=2)
    emulator.keep_statements_on_disk(folder)
    return emulator


def test_finished_statements_answer_as_before_after_a_new_process(tmp_path: Path):
    folder = tmp_path / "statements"
    first = _emulator(folder)
    try:
        single = first.call("ExecuteStatement", {**TARGET, "Sql": TYPED, "WaitTimeSeconds": 10,
                                                 "ClientToken": "token-1", "StatementName": "typed"})["Id"]
        batch = first.call("BatchExecuteStatement", {**TARGET, "WaitTimeSeconds": 10, "Sqls": [
            "create table t (v int)", "insert into t values (0), (1), (2), (3), (4)", "select v from t order by v"]})["Id"]
        csv = first.call("ExecuteStatement", {**TARGET, "Sql": "select 1 as one", "ResultFormat": "CSV",
                                              "WaitTimeSeconds": 10})["Id"]
        failed = first.call("ExecuteStatement", {**TARGET, "Sql": "select * from missing", "WaitTimeSeconds": 10})["Id"]
        before = {
            "single": first.call("DescribeStatement", {"Id": single}),
            "result": first.call("GetStatementResult", {"Id": single}),
            "batch": first.call("DescribeStatement", {"Id": batch}),
            "sub": first.call("DescribeStatement", {"Id": f"{batch}:2"}),
            "page": first.call("GetStatementResult", {"Id": f"{batch}:3"}),
            "csv": first.call("GetStatementResultV2", {"Id": csv}),
            "failed": first.call("DescribeStatement", {"Id": failed}),
            "listed": first.call("ListStatements", {"Status": "ALL"}),
        }
        token = before["page"]["NextToken"]
        next_page = first.call("GetStatementResult", {"Id": f"{batch}:3", "NextToken": token})
    finally:
        first.close()
    assert before["failed"]["Status"] == "FAILED" and before["batch"]["Status"] == "FINISHED"
    assert not list(folder.glob(".*.tmp")) and len(list(folder.glob("*.json"))) == 4

    second = _emulator(folder)
    try:
        assert second.call("DescribeStatement", {"Id": single}) == before["single"]
        assert second.call("GetStatementResult", {"Id": single}) == before["result"]
        assert second.call("DescribeStatement", {"Id": batch}) == before["batch"]
        assert second.call("DescribeStatement", {"Id": f"{batch}:2"}) == before["sub"]
        assert second.call("GetStatementResult", {"Id": f"{batch}:3"}) == before["page"]
        assert second.call("GetStatementResult", {"Id": f"{batch}:3", "NextToken": token}) == next_page
        assert second.call("GetStatementResultV2", {"Id": csv}) == before["csv"]
        assert second.call("DescribeStatement", {"Id": failed}) == before["failed"]
        assert second.call("ListStatements", {"Status": "ALL"}) == before["listed"]
        # The ClientToken still names its statement: a retried submit does not run the SQL again.
        again = second.call("ExecuteStatement", {**TARGET, "Sql": TYPED, "ClientToken": "token-1",
                                                 "StatementName": "typed"})
        assert again["Id"] == single
        # New statements get new query ids, after the earlier process's.
        later = second.call("ExecuteStatement", {**TARGET, "Sql": "select 1", "WaitTimeSeconds": 10})["Id"]
        assert (second.call("DescribeStatement", {"Id": later})["RedshiftQueryId"]
                > before["single"]["RedshiftQueryId"])
    finally:
        second.close()


def test_a_statement_running_when_its_process_stopped_ends_failed_with_its_events(tmp_path: Path):
    folder = tmp_path / "statements"
    first = _emulator(folder)
    batch = first.call("BatchExecuteStatement", {**TARGET, "WithEvent": True, "StatementName": "slow",
                                                 "Sqls": ["select 1", SLOW_SQL, "select 2"]})["Id"]
    record = StatementFiles(folder).path(batch)
    assert json.loads(record.read_text())["status"] == st.SUBMITTED  # on disk when the submit returned
    assert wait_until(lambda: first.call("DescribeStatement", {"Id": f"{batch}:2"})["Status"] == "STARTED", 30)
    first.close()  # a stop: what the cancellation does is not the statement's outcome
    assert json.loads(record.read_text())["status"] != st.ABORTED

    second = DataApiEmulator()
    heard: list[dict] = []
    second.subscribe(heard.append)
    try:
        [interrupted] = second.keep_statements_on_disk(folder)
        assert interrupted.id == batch
        described = second.call("DescribeStatement", {"Id": batch})
        assert (described["Status"], described["Error"]) == ("FAILED", INTERRUPTED_ERROR)
        statuses = [sub["Status"] for sub in described["SubStatements"]]
        assert statuses in (["FINISHED", "FAILED", "ABORTED"], ["FAILED", "ABORTED", "ABORTED"])
        assert [event["detail"]["state"] for event in heard] == ["FAILED"]
        assert heard[0]["detail"]["statementId"] == batch
        assert json.loads(record.read_text())["status"] == st.FAILED  # saved so: the next process does not redo it
        with pytest.raises(DataApiError, match="Query does not have result"):
            second.call("GetStatementResult", {"Id": f"{batch}:2"})
    finally:
        second.close()


def test_statements_past_the_retention_are_not_restored_and_their_files_go(tmp_path: Path):
    folder = tmp_path / "statements"
    first = _emulator(folder)
    old = first.call("ExecuteStatement", {**TARGET, "Sql": "select 1", "WaitTimeSeconds": 10})["Id"]
    statement = first.statements.get(old)
    first.close()
    files = StatementFiles(folder)
    statement.updated_at -= timedelta(hours=25)
    files.save(statement, None)

    second = _emulator(folder)
    try:
        with pytest.raises(DataApiError, match="Query does not exist"):
            second.call("DescribeStatement", {"Id": old})
        assert not files.path(old).exists()
    finally:
        second.close()


def test_load_errors_outlive_the_process_and_are_forgotten_with_the_statements(tmp_path: Path):
    """stl_load_errors is what an ELT script reads after a failed COPY: a new process over the folder still shows it."""
    from moto import mock_aws

    from shiftflow.dataapi.store_files import LoadErrorFile
    from shiftflow.dataapi.translate.system import LoadError

    folder = tmp_path / "statements"
    query = ("select query, trim(filename) as filename, line_number, trim(err_reason) as reason "
             "from stl_load_errors order by starttime")
    with mock_aws():
        import boto3

        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="loads")
        s3.put_object(Bucket="loads", Key="bad/venue.txt", Body=b"1|a\n2\n")
        first = DataApiEmulator(s3_client=s3)
        first.keep_statements_on_disk(folder)
        try:
            batch = first.call("BatchExecuteStatement", {**TARGET, "WaitTimeSeconds": 10, "Sqls": [
                "create table venue (id int, name varchar(10))", "copy venue from 's3://loads/bad/' iam_role default"]})
            copy = first.call("DescribeStatement", {"Id": batch["Id"]})["SubStatements"][1]
            assert copy["Status"] == "FAILED"
            before = _rows(first, query)
        finally:
            first.close()
    assert before == [[copy["RedshiftQueryId"], "s3://loads/bad/venue.txt", 2, "Delimiter not found"]]
    old = LoadError(query=1, starttime=st.now() - timedelta(hours=25), session=1, filename="s3://loads/old.txt",
                    line_number=1, colname="", type="", raw_line="", raw_field_value="", err_reason="old")
    LoadErrorFile(folder).added(old)  # a day old: forgotten, as the statements of its day are

    second = _emulator(folder)
    try:
        assert _rows(second, query) == before
    finally:
        second.close()
    assert [error.err_reason for error in LoadErrorFile(folder).load()] == ["Delimiter not found"]


def test_a_kept_session_of_an_earlier_process_is_closed_with_the_services_errors(tmp_path: Path):
    """A session cannot outlive its process (its temp tables and open transaction are gone, as after a cluster
    restart): a call naming it gets the service's answer for a reclaimed session, ListSessions shows it CLOSED."""
    folder = tmp_path / "statements"
    first = _emulator(folder)
    try:
        opened = first.call("ExecuteStatement", {**TARGET, "Sql": "create temp table scratch (a int)",
                                                 "SessionKeepAliveSeconds": 600, "WaitTimeSeconds": 10})
        session_id = opened["SessionId"]
        assert [s["Status"] for s in first.call("ListSessions", {})["Sessions"]] == ["AVAILABLE"]
    finally:
        first.close()

    second = _emulator(folder)
    try:
        with pytest.raises(DataApiError, match="^Session is not available$") as refused:
            second.call("ExecuteStatement", {"Sql": "select * from scratch", "SessionId": session_id})
        assert refused.value.code == "ValidationException"
        assert second.call("ListSessions", {})["Sessions"] == []  # AVAILABLE and BUSY ones only, unless asked
        listed = second.call("ListSessions", {"SessionId": session_id})["Sessions"]
        assert [(s["SessionId"], s["Status"], s["Database"]) for s in listed] == [(session_id, "CLOSED", "dev")]
        assert [s["SessionId"] for s in second.call("ListSessions", {"Status": "CLOSED"})["Sessions"]] == [session_id]
        unknown = "0d1c3c9e-0747-4bf4-b142-e8883122f766"
        with pytest.raises(DataApiError, match=f"^Session with Id: {unknown} is invalid$") as invalid:
            second.call("ExecuteStatement", {"Sql": "select 1", "SessionId": unknown})
        assert invalid.value.code == "ValidationException"
        with pytest.raises(DataApiError) as missing:
            second.call("ListSessions", {"SessionId": unknown})
        assert missing.value.code == "ResourceNotFoundException"
        # A new session works as ever beside the closed one.
        fresh = second.call("ExecuteStatement", {**TARGET, "Sql": "select 1", "SessionKeepAliveSeconds": 60,
                                                 "WaitTimeSeconds": 10})
        assert second.call("DescribeStatement", {"Id": fresh["Id"]})["Status"] == "FINISHED"
    finally:
        second.close()


def _rows(emulator: DataApiEmulator, sql: str) -> list[list[object]]:
    done = emulator.call("ExecuteStatement", {**TARGET, "Sql": sql, "WaitTimeSeconds": 10})
    assert emulator.call("DescribeStatement", {"Id": done["Id"]})["Status"] == "FINISHED", done
    result = emulator.call("GetStatementResult", {"Id": done["Id"]})
    return [[next(iter(field.values())) for field in record] for record in result["Records"]]


# ---- results on disk, saves outside the store's lock, the active-statement limit -----------------------------------

ROWS_SQL = ("select range as n, 'row ' || range as s, range * 1.5 as d, (range % 2 = 0) as b, "
            "timestamp '2026-11-21 12:00:00.12' + range * interval '1 hour' as ts, date '2026-11-21' as day, "
            "12.30::decimal(5,2) as m, '\\x0a0b'::blob as raw, case when range = 3 then null else range end as z, "
            "'12:00:00+02'::timetz as tz from (select 0 as range union all select 1 union all select 2 union all"
            " select 3 union all select 4) r order by n")


def test_result_rows_are_on_disk_not_in_memory_and_answer_as_kept_in_memory(tmp_path: Path):
    """With a folder a result's rows are written to a file of their own and read back page by page (the statement's
    record names them: it does not hold them); every page, JSON and CSV, is what the emulator without a folder
    answers, in this process and after a restart."""
    from shiftflow.dataapi.store_files import RowsFile

    folder = tmp_path / "statements"
    memory, kept = DataApiEmulator(page_rows=2), _emulator(folder)
    try:
        answers, sizes = [], []
        for emulator in (memory, kept):
            json_id = emulator.call("ExecuteStatement", {**TARGET, "Sql": ROWS_SQL, "WaitTimeSeconds": 10})["Id"]
            csv_id = emulator.call("ExecuteStatement", {**TARGET, "Sql": ROWS_SQL, "ResultFormat": "CSV",
                                                        "WaitTimeSeconds": 10})["Id"]
            answers.append((result_pages(emulator, json_id), result_pages(emulator, csv_id, "GetStatementResultV2")))
            described = emulator.call("DescribeStatement", {"Id": json_id})
            sizes.append((described["ResultRows"], described["ResultSize"]))
        assert sizes[0] == sizes[1] and sizes[0][0] == 5 and sizes[0][1] > 0
        sub = kept.statements.get(json_id).subs[0]
        assert isinstance(sub.result.rows, RowsFile) and sub.result.rows.path.is_file()
        record = json.loads(StatementFiles(folder).path(json_id).read_text())["subs"][0]["result"]
        assert record["stored_rows"] == 5 and "rows" not in record
    finally:
        memory.close()
        kept.close()
    in_memory, on_disk = answers
    assert len(in_memory[0]) == 3 and on_disk == in_memory
    records = [record for page in in_memory[0] for record in page["Records"]]
    assert records[1][:7] == [
        {"longValue": 1}, {"stringValue": "row 1"}, {"stringValue": "1.5"}, {"booleanValue": False},
        {"stringValue": "2026-11-21 13:00:00.12"}, {"stringValue": "2026-11-21"}, {"stringValue": "12.30"}]
    assert [record[8] for record in records] == [{"longValue": n} for n in range(3)] + [{"isNull": True},
                                                                                         {"longValue": 4}]
    assert records[0][9] == {"stringValue": "10:00:00+00"}  # a TIMETZ in UTC, also read back from disk

    again = _emulator(folder)
    try:
        assert (result_pages(again, json_id), result_pages(again, csv_id, "GetStatementResultV2")) == on_disk
    finally:
        again.close()


def test_rows_no_record_names_are_removed_and_forgotten_statements_take_their_rows(tmp_path: Path):
    """A kill between a result's rows and the record that says FINISHED leaves rows no record names: the next
    process removes them. A statement past the retention goes with its rows."""
    folder = tmp_path / "statements"
    first = _emulator(folder)
    try:
        batch = first.call("BatchExecuteStatement", {**TARGET, "WaitTimeSeconds": 10,
                                                     "Sqls": ["select 1 as a", "select 2 as b"]})["Id"]
    finally:
        first.close()
    files = StatementFiles(folder)
    assert files.rows_path(f"{batch}:1").is_file() and files.rows_path(f"{batch}:2").is_file()
    stray = files.rows_path("0d1c3c9e-0747-4bf4-b142-e8883122f766")
    stray.write_bytes(files.rows_path(f"{batch}:1").read_bytes())

    second = _emulator(folder)
    try:
        assert not stray.exists()
        assert result_pages(second, f"{batch}:2")[0]["Records"] == [[{"longValue": 2}]]
        statement = second.statements.get(batch)
    finally:
        second.close()
    statement.updated_at -= timedelta(hours=25)
    files.save(statement, None)
    third = _emulator(folder)
    third.close()
    assert sorted(path.name for path in folder.iterdir() if not path.name.startswith("_")) == []


def _hold_saves(monkeypatch: pytest.MonkeyPatch, held_when) -> tuple[threading.Event, threading.Event]:
    """StatementFiles.save waits (until `release`) for the statements `held_when(statement)` picks."""
    held, release = threading.Event(), threading.Event()
    save = StatementFiles.save

    def held_save(self: StatementFiles, statement: st.Statement, client_token: object) -> None:
        if held_when(statement):
            held.set()
            assert release.wait(30)
        save(self, statement, client_token)

    monkeypatch.setattr(StatementFiles, "save", held_save)
    return held, release


@pytest.mark.parametrize("batch", [False, True], ids=["statement", "batch"])
def test_a_status_is_on_disk_before_anyone_sees_it_and_other_statements_go_on_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: bool):
    """While the save of an end waits (a statement's, a batch's first sub-statement's), nobody sees it end
    (DescribeStatement and its long poll, GetStatementResult, ListStatements); other statements run, end and answer
    meanwhile (no lock of the whole store is held over a save)."""
    folder = tmp_path / "statements"
    emulator = _emulator(folder)
    held, release = _hold_saves(monkeypatch, lambda statement: statement.name == "held" and (
        statement.status == st.FINISHED if not batch else
        statement.subs[0].status == st.FINISHED and statement.status != st.FINISHED))
    try:
        request = ({**TARGET, "Sqls": ["select 42 as n", "select 1 as one"], "StatementName": "held"} if batch
                   else {**TARGET, "Sql": "select 42 as n", "StatementName": "held"})
        submitted = emulator.call("BatchExecuteStatement" if batch else "ExecuteStatement", request)["Id"]
        slow = f"{submitted}:1" if batch else submitted
        assert held.wait(30)
        described = emulator.call("DescribeStatement", {"Id": slow, "WaitTimeSeconds": 1})
        assert (described["Status"], described["ResultRows"]) == ("STARTED", -1)
        with pytest.raises(DataApiError, match="Query has not finished"):
            emulator.call("GetStatementResult", {"Id": slow})
        assert json.loads(StatementFiles(folder).path(submitted).read_text())["subs"][0]["status"] != st.FINISHED
        other = emulator.call("ExecuteStatement", {**TARGET, "Sql": "select 7 as n", "WaitTimeSeconds": 10})["Id"]
        assert emulator.call("DescribeStatement", {"Id": other})["Status"] == "FINISHED"
        assert result_pages(emulator, other)[0]["Records"] == [[{"longValue": 7}]]
        assert [s["Id"] for s in emulator.call("ListStatements", {})["Statements"]] == [other]
        release.set()
        assert emulator.call("DescribeStatement", {"Id": submitted, "WaitTimeSeconds": 10})["Status"] == "FINISHED"
        assert result_pages(emulator, slow)[0]["Records"] == [[{"longValue": 42}]]
        assert json.loads(StatementFiles(folder).path(submitted).read_text())["status"] == st.FINISHED
    finally:
        release.set()
        emulator.close()


def test_a_client_token_repeated_while_its_statement_is_being_recorded_waits_for_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A new statement is known only once its record is on disk; a submit with the same ClientToken meanwhile waits
    and answers the same statement, which runs once."""
    folder = tmp_path / "statements"
    emulator = _emulator(folder)
    held, release = _hold_saves(monkeypatch, lambda statement: statement.name == "token"
                                and statement.status == st.SUBMITTED)
    request = {**TARGET, "Sql": "select 1 as n", "StatementName": "token", "ClientToken": "once"}
    answers: list[str] = []
    submits = [threading.Thread(target=lambda: answers.append(emulator.call("ExecuteStatement", request)["Id"]))
               for _ in range(2)]
    try:
        submits[0].start()
        assert held.wait(30)
        submits[1].start()
        submits[1].join(0.5)
        assert submits[1].is_alive() and answers == []  # not answered before the record is on disk
        assert emulator.call("ListStatements", {"Status": "ALL"})["Statements"] == []
        release.set()
        for submit in submits:
            submit.join(30)
        assert len(answers) == 2 and answers[0] == answers[1]
        assert emulator.call("DescribeStatement", {"Id": answers[0], "WaitTimeSeconds": 10})["Status"] == "FINISHED"
        assert [s["Id"] for s in emulator.call("ListStatements", {"Status": "ALL"})["Statements"]] == answers[:1]
    finally:
        release.set()
        emulator.close()


@pytest.mark.parametrize("on_disk", [True, False], ids=["on disk", "in memory"])
def test_the_active_statement_limit_is_exact_under_concurrent_submits(tmp_path: Path, on_disk: bool):
    """40 submits at once against a limit of 5: exactly 5 run, the others are ActiveStatementsExceededException;
    once those end (cancelled: ABORTED) the count is back to 0 and 5 more may run."""
    emulator = DataApiEmulator(max_active=5, workers=5)
    if on_disk:
        emulator.keep_statements_on_disk(tmp_path / "statements")
    start = threading.Barrier(40)
    accepted: list[str] = []
    refused: list[str] = []

    def submit() -> None:
        start.wait(30)
        try:
            accepted.append(emulator.call("ExecuteStatement", {**TARGET, "Sql": SLOW_SQL})["Id"])
        except DataApiError as error:
            refused.append(error.code)

    try:
        for _ in range(2):
            threads = [threading.Thread(target=submit) for _ in range(40)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            assert len(accepted) == 5 and refused == ["ActiveStatementsExceededException"] * 35
            assert emulator.statements.active_count() == 5
            for statement_id in accepted:
                emulator.call("CancelStatement", {"Id": statement_id})
            for statement_id in accepted:
                described = emulator.call("DescribeStatement", {"Id": statement_id, "WaitTimeSeconds": 30})
                assert described["Status"] == "ABORTED"
            assert emulator.statements.active_count() == 0
            accepted.clear()
            refused.clear()
            start.reset()
    finally:
        emulator.close()


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """An engine whose databases outlive its emulators, as the local cloud's warehouse does across a restart."""
    if request.param == "duckdb":
        from shiftflow.dataapi.engines.duckdb import DuckDBEngine

        engine = DuckDBEngine(tmp_path / "warehouse")
    else:
        from shiftflow.dataapi.engines.postgres import PostgresEngine

        engine = PostgresEngine()
    yield engine
    engine.close()


def test_a_batch_that_committed_before_its_process_died_is_finished_not_rolled_back(warehouse, tmp_path, monkeypatch):
    """Killed between a batch's COMMIT and the saving of its FINISHED status, the next process said FAILED "its open
    transaction was rolled back" while its rows were committed (a caller believing it ran the job again: its SQL
    twice; seen killing the local cloud under 40 concurrent clients). The commit leaves a mark in the same
    transaction (shiftflow.dataapi.commits): that batch is FINISHED; one whose transaction died with the process is
    FAILED, its rows gone."""
    from shiftflow.dataapi.runner import SqlRun

    folder, name = tmp_path / "statements", f"t_{uuid.uuid4().hex[:8]}"
    first = DataApiEmulator(warehouse)
    first.keep_statements_on_disk(folder)
    first.call("ExecuteStatement", {**TARGET, "Sql": f"create table {name} (v int)", "WaitTimeSeconds": 20})
    original = SqlRun._end_transaction

    def die_after_the_commit(run: SqlRun, action: str) -> None:
        original(run, action)
        if action == "commit":  # what follows is not saved: on disk the batch stays as the kill left it
            first.statements.stop_saving(run.statement)

    monkeypatch.setattr(SqlRun, "_end_transaction", die_after_the_commit)
    committed = first.call("BatchExecuteStatement", {**TARGET, "WaitTimeSeconds": 20, "Sqls": [
        f"insert into {name} values (1)", f"insert into {name} values (2)"]})["Id"]
    monkeypatch.setattr(SqlRun, "_end_transaction", original)
    assert json.loads(StatementFiles(folder).path(committed).read_text())["status"] == st.STARTED
    slow = SLOW_SQL
    running = first.call("BatchExecuteStatement", {**TARGET, "Sqls": [f"insert into {name} values (3)", slow]})["Id"]
    assert wait_until(lambda: first.call("DescribeStatement", {"Id": f"{running}:2"})["Status"] == "STARTED", 30)
    first.close(close_engine=False)

    second = DataApiEmulator(warehouse)
    try:
        interrupted = {statement.id: statement.status for statement in second.keep_statements_on_disk(folder)}
        assert interrupted == {committed: st.FINISHED, running: st.FAILED}
        described = second.call("DescribeStatement", {"Id": committed})
        assert (described["Status"], described.get("Error", "")) == ("FINISHED", "")
        assert [sub["Status"] for sub in described["SubStatements"]] == ["FINISHED", "FINISHED"]
        assert second.call("DescribeStatement", {"Id": running})["Error"] == INTERRUPTED_ERROR
        values = second.call("ExecuteStatement", {**TARGET, "Sql": f"select v from {name} order by v",
                                                   "WaitTimeSeconds": 20})["Id"]
        assert second.call("GetStatementResult", {"Id": values})["Records"] == [[{"longValue": 1}], [{"longValue": 2}]]
        assert json.loads(StatementFiles(folder).path(committed).read_text())["status"] == st.FINISHED
        schemas = second.call("ListSchemas", {**TARGET})["Schemas"]
        assert not [schema for schema in schemas if schema.startswith("shiftflow")]  # the marks are the emulator's own
    finally:
        second.close(close_engine=False)
