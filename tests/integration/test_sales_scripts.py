"""The sales scripts (scripts/sales/) run for real, row by row.

Each script goes the way the pipeline sends it: split and bound by shiftflow.jobs.submit.batch_request, one
batch-execute-statement through a boto3 `redshift-data` client, followed with describe-statement (long polling) and
read back with get-statement-result.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest

from shiftflow.dataapi import DataApiEmulator, DuckDBEngine, route_client, route_in_process
from shiftflow.jobs.results import ResultSet, read_result
from shiftflow.jobs.status import TERMINAL_STATUSES, wait_for_end
from shiftflow.jobs.submit import SqlJob, batch_request
from shiftflow.jobs.target import RedshiftTarget
from shiftflow.jobs.errors import ValidationChecksFailed
from tests.conftest import ROOT, load_function

SCRIPTS = ROOT / "scripts" / "sales"
RUN_DATE = "2026-11-21"
TABLES = (
    "date_dim",
    "store",
    "customer_address",
    "customer",
    "item",
    "store_sales",
    "stg_customer_address",
    "stg_item",
    "stg_store_sales",
)
CHECKS = {
    "run_date_in_date_dim",
    "fact_rows_match_staging",
    "fact_amounts_match_staging",
    "fact_items_are_current_versions",
    "fact_keys_resolved",
    "one_current_version_per_item",
    "item_validity_ranges_consistent",
    "item_versions_do_not_overlap",
    "staged_items_applied",
    "staged_addresses_applied",
    "dimension_keys_unique",
}
TARGET = RedshiftTarget(database="dev", workgroup_name="shiftflow-tests")


class Warehouse:
    """Runs the sales scripts and ad hoc queries through a `redshift-data` client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def run_script(self, name: str, **parameters: str) -> ResultSet | None:
        """Run scripts/sales/<name>.sql as one batch; the result set of its last statement, if it has one."""
        last = self.submit(name, **parameters)["SubStatements"][-1]
        return read_result(self.client, last["Id"]) if last.get("HasResultSet") else None

    def submit(self, name: str, **parameters: str) -> dict[str, Any]:
        """Run scripts/sales/<name>.sql as one batch to completion; its describe-statement answer."""
        job = SqlJob(
            workflow="test_sales_scripts",
            job=name,
            sql=(SCRIPTS / f"{name}.sql").read_text(),
            parameters=parameters,
            client_token_seed=str(uuid.uuid4()),  # every call is a new run, never a retried submit
        )
        statement_id = self.client.batch_execute_statement(**batch_request(job, TARGET))["Id"]
        return self._finished(statement_id)

    def query(self, sql: str, **parameters: str) -> list[dict[str, Any]]:
        request: dict[str, Any] = {**TARGET.request_fields(), "Sql": sql}
        if parameters:
            request["Parameters"] = [{"name": name, "value": value} for name, value in parameters.items()]
        statement_id = self.client.execute_statement(**request)["Id"]
        description = self._finished(statement_id)
        return read_result(self.client, statement_id).rows if description.get("HasResultSet") else []

    def checks(self, run_date: str = RUN_DATE) -> dict[str, dict[str, Any]]:
        result = self.run_script("validate_sales_load", run_date=run_date)
        assert result is not None and result.columns == ["check_name", "passed", "detail"]
        return {row["check_name"]: row for row in result.rows}

    def load(self, run_date: str = RUN_DATE) -> None:
        """The pipeline's loads for one run date, in its order."""
        self.run_script("load_customer_address_dimension", run_date=run_date)
        self.run_script("load_item_dimension", run_date=run_date)
        self.run_script("load_store_sales_fact", run_date=run_date)

    def snapshot(self) -> dict[str, list[tuple]]:
        """Every row of every table, in a stable order."""
        return {
            table: sorted((tuple(row.values()) for row in self.query(f"select * from {table}")), key=repr)
            for table in TABLES
        }

    def count(self, sql: str, **parameters: str) -> int:
        return int(next(iter(self.query(sql, **parameters)[0].values())))

    def _finished(self, statement_id: str) -> dict[str, Any]:
        description = wait_for_end(self.client, statement_id)
        while description["Status"] not in TERMINAL_STATUSES:
            description = wait_for_end(self.client, statement_id)
        assert description["Status"] == "FINISHED", description.get("Error")
        return description


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def data_api_client(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A real boto3 `redshift-data` client answered in-process by the Data API emulator, on each local engine.

    One emulator per engine for the module: every test starts with the setup script, which recreates all tables.
    """
    if request.param == "duckdb":
        engine = DuckDBEngine()
    else:
        from shiftflow.dataapi.engines.postgres import PostgresEngine  # pgserver: started only when asked for

        engine = PostgresEngine()
    with DataApiEmulator(engine) as emulator, route_in_process(emulator):
        yield route_client(boto3.client("redshift-data", region_name="us-east-1"))


@pytest.fixture
def warehouse(data_api_client: Any) -> Warehouse:
    warehouse = Warehouse(data_api_client)
    warehouse.run_script("setup_sales_demo")
    return warehouse


def versions(warehouse: Warehouse, item_id: str) -> list[dict[str, Any]]:
    return warehouse.query(
        "select i_item_sk, i_rec_start_date, i_rec_end_date, i_is_current, i_current_price, i_item_desc, i_brand"
        " from item where i_item_id = :item_id order by i_rec_start_date",
        item_id=item_id,
    )


def address(warehouse: Warehouse, address_id: str) -> dict[str, Any]:
    (row,) = warehouse.query("select * from customer_address where ca_address_id = :address_id", address_id=address_id)
    return row


def failed_checks(checks: dict[str, dict[str, Any]]) -> set[str]:
    return {name for name, row in checks.items() if row["passed"] is not True}


# --- setup ------------------------------------------------------------------------------------------------------------


def test_setup_creates_the_documented_demo_data(warehouse: Warehouse) -> None:
    counts = {table: warehouse.count(f"select count(*) from {table}") for table in TABLES}
    assert counts == {
        "date_dim": 1095,
        "store": 12,
        "customer_address": 400,
        "customer": 300,
        "item": 110,
        "store_sales": 5400,
        "stg_customer_address": 45,
        "stg_item": 29,
        "stg_store_sales": 2997,
    }
    staged_per_day = warehouse.query(
        "select ss_sold_date, count(*) as n from stg_store_sales group by ss_sold_date order by ss_sold_date"
    )
    assert [(row["ss_sold_date"], int(row["n"])) for row in staged_per_day] == [
        ("2026-11-19", 999),
        ("2026-11-20", 999),
        ("2026-11-21", 999),
    ]
    (day,) = warehouse.query("select * from date_dim where d_date = cast(:day as date)", day=RUN_DATE)
    assert (day["d_date_sk"], day["d_day_name"], day["d_weekend"]) == (20261121, "Saturday", "Y")
    # the helper table of row numbers does not outlive the setup
    leftover = "select count(*) from information_schema.tables where table_name = 'sales_demo_numbers'"
    assert warehouse.count(leftover) == 0


def test_setup_is_rerunnable_and_deterministic(warehouse: Warehouse) -> None:
    warehouse.load()
    loaded = warehouse.snapshot()
    warehouse.run_script("setup_sales_demo")
    first = warehouse.snapshot()
    warehouse.run_script("setup_sales_demo")
    assert warehouse.snapshot() == first != loaded


# --- SCD1: customer_address -------------------------------------------------------------------------------------------


def test_customer_address_load_overwrites_changed_and_inserts_new(warehouse: Warehouse) -> None:
    before_moved = address(warehouse, "ADDR000000000002")
    warehouse.run_script("load_customer_address_dimension", run_date=RUN_DATE)

    moved = address(warehouse, "ADDR000000000002")  # SCD1: same row, same surrogate key, attributes overwritten
    assert moved["ca_address_sk"] == before_moved["ca_address_sk"] == 2
    assert (moved["ca_street_name"], moved["ca_city"], moved["ca_state"], moved["ca_zip"]) == (
        "New " + before_moved["ca_street_name"],
        "Riverside",
        "CA",
        "92501",
    )
    assert moved["ca_street_number"] == str(int(before_moved["ca_street_number"]) + 100)
    assert moved["last_updated"] == RUN_DATE

    resent_unchanged = address(warehouse, "ADDR000000000021")
    assert resent_unchanged["last_updated"] == "2026-01-01"

    new = address(warehouse, "ADDR000000000401")
    assert (new["ca_address_sk"], new["last_updated"]) == (401, RUN_DATE)
    assert warehouse.count("select count(*) from customer_address") == 415
    stamped = "select count(*) from customer_address where last_updated = cast(:d as date)"
    assert warehouse.count(stamped, d=RUN_DATE) == 35  # 20 changed + 15 new


# --- SCD2: item -------------------------------------------------------------------------------------------------------


def test_item_load_versions_price_changes_and_updates_other_changes_in_place(warehouse: Warehouse) -> None:
    warehouse.run_script("load_item_dimension", run_date=RUN_DATE)

    old, new = versions(warehouse, "ITEM000000000011")  # price change: closed the day before, new key from today
    assert (old["i_item_sk"], old["i_rec_start_date"], old["i_rec_end_date"], old["i_is_current"]) == (
        11,
        "2026-01-01",
        "2026-11-20",
        False,
    )
    assert (new["i_rec_start_date"], new["i_rec_end_date"], new["i_is_current"]) == (RUN_DATE, None, True)
    assert new["i_item_sk"] > 110
    assert Decimal(new["i_current_price"]) == Decimal(old["i_current_price"]) + Decimal("2.50")

    oldest, closed, current = versions(warehouse, "ITEM000000000001")  # already had a closed 2025 version
    assert [(v["i_rec_start_date"], v["i_rec_end_date"], v["i_is_current"]) for v in (oldest, closed, current)] == [
        ("2025-01-01", "2025-12-31", False),
        ("2026-01-01", "2026-11-20", False),
        (RUN_DATE, None, True),
    ]

    before, after = versions(warehouse, "ITEM000000000012")  # price and description: the new version has both
    assert before["i_item_desc"] == "Demo item 12"
    assert after["i_item_desc"] == "Demo item 12 (new edition)"

    (repackaged,) = versions(warehouse, "ITEM000000000021")  # no price change: one version, updated in place
    assert (repackaged["i_item_sk"], repackaged["i_rec_start_date"], repackaged["i_is_current"]) == (
        21,
        "2026-01-01",
        True,
    )
    assert (repackaged["i_item_desc"], repackaged["i_brand"]) == ("Demo item 21, new packaging", "brand #99")

    (unchanged,) = versions(warehouse, "ITEM000000000031")
    assert (unchanged["i_item_sk"], unchanged["i_rec_start_date"]) == (31, "2026-01-01")

    (first,) = versions(warehouse, "ITEM000000000101")  # new item
    assert (first["i_rec_start_date"], first["i_rec_end_date"], first["i_is_current"]) == (RUN_DATE, None, True)

    # 110 rows + 10 new versions (items 1, 2, 11-18) + 6 new items, new keys all distinct
    assert warehouse.count("select count(*) from item") == 126
    assert warehouse.count("select count(distinct i_item_sk) from item") == 126
    assert warehouse.count("select count(*) from item where i_is_current") == 106


def test_same_day_price_correction_overwrites_the_new_version(warehouse: Warehouse) -> None:
    warehouse.run_script("load_item_dimension", run_date=RUN_DATE)
    warehouse.query("update stg_item set i_current_price = 99.00 where i_item_id = 'ITEM000000000011'")
    warehouse.run_script("load_item_dimension", run_date=RUN_DATE)

    old, new = versions(warehouse, "ITEM000000000011")
    assert (old["i_rec_end_date"], old["i_is_current"]) == ("2026-11-20", False)
    assert (new["i_rec_start_date"], new["i_is_current"], Decimal(new["i_current_price"])) == (
        RUN_DATE,
        True,
        Decimal("99.00"),
    )


# --- fact and validation ----------------------------------------------------------------------------------------------


def test_fact_load_replaces_the_run_date_with_the_staged_sales(warehouse: Warehouse) -> None:
    warehouse.load()

    loaded = warehouse.count(
        "select count(*) from store_sales join date_dim on d_date_sk = ss_sold_date_sk where d_date = cast(:d as date)",
        d=RUN_DATE,
    )
    staged = warehouse.count("select count(*) from stg_store_sales where ss_sold_date = cast(:d as date)", d=RUN_DATE)
    assert loaded == staged == 999
    assert warehouse.count("select count(*) from store_sales") == 5400 + 999  # history untouched

    # sales of a repriced item point to its new (current) version
    keys = warehouse.query(
        "select distinct ss_item_sk from store_sales join item on i_item_sk = ss_item_sk"
        " where ss_sold_date_sk = 20261121 and i_item_id = 'ITEM000000000011'"
    )
    (current,) = [v for v in versions(warehouse, "ITEM000000000011") if v["i_is_current"]]
    assert [row["ss_item_sk"] for row in keys] == [current["i_item_sk"]]

    checks = warehouse.checks()
    assert set(checks) == CHECKS
    assert failed_checks(checks) == set()
    assert checks["fact_rows_match_staging"]["detail"] == "store_sales 999 rows, stg_store_sales 999"


def test_rerunning_a_run_date_changes_no_data(warehouse: Warehouse) -> None:
    warehouse.load()
    first = warehouse.snapshot()
    warehouse.load()
    assert warehouse.snapshot() == first
    assert failed_checks(warehouse.checks()) == set()


def test_three_run_dates_in_sequence(warehouse: Warehouse) -> None:
    for run_date in ("2026-11-19", "2026-11-20", "2026-11-21"):
        warehouse.load(run_date)
        assert failed_checks(warehouse.checks(run_date)) == set(), run_date

    assert warehouse.count("select count(*) from store_sales") == 5400 + 2997
    old, new = versions(warehouse, "ITEM000000000011")  # changed once, on the first run date
    assert (old["i_rec_end_date"], new["i_rec_start_date"]) == ("2026-11-18", "2026-11-19")


# A bad staging row each, and the checks it must fail (and only those).
BROKEN_STAGING = {
    "unknown item": (
        "insert into stg_store_sales values (cast('2026-11-21' as date), 1, 'ITEM999999999999', 'CUST000000000001',"
        " 'STORE00000000001', 1, 10.00)",
        {"fact_items_are_current_versions"},
    ),
    "unknown store": (
        "insert into stg_store_sales values (cast('2026-11-21' as date), 2, 'ITEM000000000001', 'CUST000000000001',"
        " 'STORE99999999999', 1, 10.00)",
        {"fact_keys_resolved"},
    ),
    "new item staged twice": (
        "insert into stg_item select i_item_id, i_item_desc, i_current_price + 1, i_wholesale_cost, i_brand, i_class,"
        " i_category, i_product_name from stg_item where i_item_id = 'ITEM000000000101'",
        # two current versions: the fact join doubles the item's sales, which the counts catch as well
        {
            "one_current_version_per_item",
            "item_versions_do_not_overlap",
            "staged_items_applied",
            "fact_rows_match_staging",
            "fact_amounts_match_staging",
        },
    ),
}


@pytest.mark.parametrize("case", BROKEN_STAGING, ids=list(BROKEN_STAGING))
def test_a_broken_staging_row_fails_validation(warehouse: Warehouse, case: str) -> None:
    statement, expected_failures = BROKEN_STAGING[case]
    warehouse.query(statement)
    warehouse.load()

    checks = warehouse.checks()
    assert failed_checks(checks) == expected_failures
    assert all(checks[name]["detail"] for name in expected_failures)


def test_the_pipeline_check_step_reads_the_checks_and_fails_on_a_bad_one(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    """The validation result set is what functions/check_validation_results expects, pass and fail."""
    check_step = load_function("check_validation_results")
    monkeypatch.setattr(check_step, "redshift_data", warehouse.client)
    warehouse.load()

    def run_check_step() -> dict[str, Any]:
        last = warehouse.submit("validate_sales_load", run_date=RUN_DATE)["SubStatements"][-1]
        event = {"job": "validate_sales_load", "result_statement_id": last["Id"]}
        return check_step.lambda_handler(event, lambda_context)

    assert run_check_step() == {"job": "validate_sales_load", "checks": len(CHECKS), "passed": len(CHECKS)}

    warehouse.query("delete from store_sales where ss_ticket_number = 202611210000")
    with pytest.raises(ValidationChecksFailed, match="fact_rows_match_staging"):
        run_check_step()


# --- report -----------------------------------------------------------------------------------------------------------


def test_report_of_one_city(warehouse: Warehouse) -> None:
    warehouse.load()
    report = warehouse.run_script("report_daily_sales_by_category", city="Fairview")
    assert report is not None
    assert report.columns == ["sales_date", "category", "tickets", "units", "net_paid"]

    expected = warehouse.query(
        "select count(*) as n, sum(ss_net_paid) as paid from store_sales join store on s_store_sk = ss_store_sk"
        " where s_city = 'Fairview'"
    )[0]
    assert sum(Decimal(row["net_paid"]) for row in report.rows) == Decimal(expected["paid"])
    dates = sorted({row["sales_date"] for row in report.rows})
    assert dates[0] == "2026-11-01" and dates[-1] == RUN_DATE and len(dates) == 19
    assert [(row["sales_date"], row["category"]) for row in report.rows] == sorted(
        (row["sales_date"], row["category"]) for row in report.rows
    )

    hostile = warehouse.run_script("report_daily_sales_by_category", city="Fairview'; drop table store; --")
    assert hostile is not None and hostile.rows == []
    assert warehouse.count("select count(*) from store") == 12
