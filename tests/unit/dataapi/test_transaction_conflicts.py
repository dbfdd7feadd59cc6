"""The engines' own transaction conflicts reach Data API clients in Redshift's words: a DuckDB write-write conflict
and a PostgreSQL serialization failure as error 1023 (serializable isolation violation), a PostgreSQL deadlock as
Redshift's "deadlock detected". The batch is rolled back, and the same batch passes once the other transaction ends.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from shiftflow.dataapi.engines.base import EngineError, TransactionConflict
from shiftflow.dataapi.engines.postgres import LOGIN_ROLE
from shiftflow.dataapi.service import DataApiEmulator
from shiftflow.jobs.conflicts import is_transaction_conflict
from tests.unit.dataapi.conftest import rows, run, run_batch

VIOLATION = "ERROR: 1023 DETAIL: Serializable isolation violation on table - local "


@pytest.fixture
def accounts(client: Any) -> str:
    run(client, "CREATE TABLE accounts (id INT, balance INT)")
    run(client, "INSERT INTO accounts VALUES (1, 0), (2, 0)")
    return "accounts"


def hold(emulator: DataApiEmulator, sql: str) -> Any:
    """A third session's transaction, left open: its writes conflict with every batch that writes the same rows."""
    session = emulator.engine.session("dev")
    session.begin()
    session.execute(sql, {})
    return session


def test_a_duckdb_update_conflict_fails_the_batch_as_a_serializable_isolation_violation(
        emulator: DataApiEmulator, client: Any, accounts: str) -> None:
    holder = hold(emulator, "UPDATE accounts SET balance = balance + 100 WHERE id = 1")

    failed = run_batch(client, ["UPDATE accounts SET balance = balance + 1 WHERE id = 2",
                                "UPDATE accounts SET balance = balance + 1 WHERE id = 1"])

    error = f"{VIOLATION}duckdb: TransactionContext Error: Conflict on update!"
    assert failed["Status"] == "FAILED"
    assert [sub["Status"] for sub in failed["SubStatements"]] == ["FINISHED", "FAILED"]
    assert failed["SubStatements"][1]["Error"] == error and error in failed["Error"]
    assert is_transaction_conflict(failed["Error"])
    holder.rollback()
    # The batch was rolled back as a whole (row 2 too); run again after the other transaction, it passes.
    assert rows(client, run(client, "SELECT balance FROM accounts ORDER BY id")["Id"]) == [[0], [0]]
    assert run_batch(client, ["UPDATE accounts SET balance = balance + 1 WHERE id = 2",
                              "UPDATE accounts SET balance = balance + 1 WHERE id = 1"])["Status"] == "FINISHED"
    assert rows(client, run(client, "SELECT balance FROM accounts ORDER BY id")["Id"]) == [[1], [1]]


def test_a_duckdb_delete_and_a_catalog_conflict_are_violations_too(
        emulator: DataApiEmulator, client: Any, accounts: str) -> None:
    holder = hold(emulator, "DELETE FROM accounts WHERE id = 1")
    deleted = run(client, "DELETE FROM accounts WHERE id = 1")
    assert deleted["Error"] == f"{VIOLATION}duckdb: TransactionContext Error: Conflict on tuple deletion!"
    holder.rollback()

    holder = hold(emulator, "CREATE TABLE audit_log (n INT)")
    created = run_batch(client, ["CREATE TABLE audit_log (n INT)"])
    holder.commit()
    assert created["Status"] == "FAILED"
    assert created["SubStatements"][0]["Error"].startswith(
        f"{VIOLATION}duckdb: TransactionContext Error: Catalog write-write conflict on create with")


def test_other_engine_errors_keep_the_engines_words(client: Any, accounts: str) -> None:
    failed = run(client, "SELECT 1 / 0 FROM missing_table")
    assert failed["Status"] == "FAILED" and "missing_table" in failed["Error"]
    assert not is_transaction_conflict(failed["Error"])


# --- PostgreSQL: its serialization failures (40001) and deadlocks (40P01) ---------------------------------------


@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    from shiftflow.dataapi.engines.postgres import PostgresEngine

    engine = PostgresEngine()
    yield engine
    engine.close()


@pytest.fixture
def pg_table(postgres: Any) -> str:
    name = f"t_{uuid.uuid4().hex[:8]}"
    setup = postgres.session("dev")
    setup.execute(f"CREATE TABLE {name} (id INT, v INT)", {})
    setup.execute(f"INSERT INTO {name} VALUES (1, 0), (2, 0)", {})
    setup.close()
    return name


def test_a_postgres_serialization_failure_is_a_serializable_isolation_violation(postgres: Any, pg_table: str) -> None:
    reader, writer = postgres.session("dev"), postgres.session("dev")
    reader.execute("SET default_transaction_isolation = 'repeatable read'", {})
    reader.begin()
    reader.execute(f"SELECT v FROM {pg_table} WHERE id = 1", {})  # its snapshot
    writer.execute(f"UPDATE {pg_table} SET v = 5 WHERE id = 1", {})  # committed after the snapshot

    with pytest.raises(TransactionConflict) as raised:
        reader.execute(f"UPDATE {pg_table} SET v = v + 1 WHERE id = 1", {})

    assert str(raised.value) == f"{VIOLATION}postgres: could not serialize access due to concurrent update"
    reader.rollback()
    reader.close()
    writer.close()


def test_a_postgres_deadlock_is_redshifts_deadlock_detected(postgres: Any, pg_table: str) -> None:
    first, second = postgres.session("dev"), postgres.session("dev")
    # The first session's deadlock check comes long after the second's: the second is the one PostgreSQL fails.
    # deadlock_timeout is the superuser's to set, and the sessions' login role is none (engines/postgres.py).
    with psycopg.connect(postgres.superuser_dsn, autocommit=True) as superuser:
        superuser.execute(f"GRANT SET ON PARAMETER deadlock_timeout TO {LOGIN_ROLE}")
    first.execute("SET deadlock_timeout = '30s'", {})
    first.begin()
    second.begin()
    first.execute(f"UPDATE {pg_table} SET v = 1 WHERE id = 1", {})
    second.execute(f"UPDATE {pg_table} SET v = 2 WHERE id = 2", {})
    blocked = threading.Thread(target=first.execute, args=(f"UPDATE {pg_table} SET v = 1 WHERE id = 2", {}))
    blocked.start()
    watcher = postgres.session("dev")
    while not watcher.execute("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %(q)s",
                              {"q": f"%{pg_table} SET v = 1 WHERE id = 2%"}).rows:
        pass  # the first session now waits for the second's row lock

    with pytest.raises(TransactionConflict) as raised:
        second.execute(f"UPDATE {pg_table} SET v = 2 WHERE id = 1", {})

    message = str(raised.value)
    assert message.startswith("ERROR: deadlock detected DETAIL: local postgres: Process ")
    assert "waits for ShareLock on transaction" in message and "\n" not in message
    assert is_transaction_conflict(message)
    second.rollback()
    blocked.join()
    first.rollback()
    for session in (first, second, watcher):
        session.close()


def test_other_postgres_errors_are_plain_engine_errors(postgres: Any) -> None:
    session = postgres.session("dev")
    with pytest.raises(EngineError) as raised:
        session.execute("SELECT 1 / 0", {})
    assert type(raised.value) is EngineError and str(raised.value) == "division by zero"
    session.close()
