"""SET_CONFIG and CURRENT_SETTING (r_SET_CONFIG.md, r_CURRENT_SETTING.md), SET timezone offsets
(r_timezone_config.md) on both engines (commands/settings.py, functions/settings.py)."""

from __future__ import annotations

import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate import NotSupportedLocally
from tests.unit.translate.conftest import run_script


def _value(session, sql: str):
    return run_script(session, sql).rows[0][0]


def test_set_config_from_the_reference(session):
    # r_SET_CONFIG.md: set_config('query_group', 'test', true) answers test, for the current transaction only
    result = run_script(session, "select set_config('query_group', 'test', true)")
    assert result.rows == [("test",)] and result.columns[0].name == "set_config"
    assert _value(session, "show query_group") == "unset"
    assert _value(session, "select set_config('query_group', 'test', false)") == "test"
    assert _value(session, "show query_group") == "test"
    assert _value(session, "select current_setting('query_group')") == "test"
    # session context variables (the reference's example, its typographic quotes made plain)
    assert _value(session, "SELECT set_config('app.username', 'cuddy', FALSE)") == "cuddy"
    assert _value(session, "select current_setting('app.username')") == "cuddy"
    # is_local may be written 1 or 0; a value SET would refuse is refused; booleans read back as SHOW prints them
    assert _value(session, "select set_config('enable_result_cache_for_session', 'false', 0) as x") == "off"
    assert _value(session, "show enable_result_cache_for_session") == "off"
    with pytest.raises(EngineError, match='invalid value for parameter "wlm_query_slot_count"'):
        run_script(session, "select set_config('wlm_query_slot_count', '99', false)")


def test_current_setting_error_if_undefined_false_is_null(session):
    # r_CURRENT_SETTING.md: with error_if_undefined FALSE an undefined variable is NULL (PostgreSQL's second
    # argument means the opposite, missing_ok)
    assert _value(session, "SELECT current_setting('app_context.user_id', FALSE)") is None
    with pytest.raises(EngineError, match='unrecognized configuration parameter "app_context.user_id"'):
        run_script(session, "SELECT current_setting('app_context.user_id', TRUE)")
    run_script(session, "SET app_context.user_id TO 123")
    assert _value(session, "SELECT current_setting('app_context.user_id', FALSE)") == "123"


def test_set_config_local_lasts_for_its_transaction_on_postgres(postgres_session):
    run_script(postgres_session, "begin; select set_config('query_group', 'tx', true)")
    assert _value(postgres_session, "show query_group") == "tx"
    run_script(postgres_session, "commit")
    assert _value(postgres_session, "show query_group") == "unset"


def test_set_config_local_in_a_transaction_is_refused_on_duckdb(duckdb_session):
    run_script(duckdb_session, "begin")
    with pytest.raises(NotSupportedLocally, match=r"set_config\(\.\.\., true\) in a transaction block"):
        run_script(duckdb_session, "select set_config('query_group', 'tx', true)")
    with pytest.raises(NotSupportedLocally, match="set_config"):
        run_script(duckdb_session, "select set_config('query_group', 'x', false) from (select 1) t")


@pytest.mark.parametrize(("statement", "offset_hours"), [
    # r_timezone_config.md: '-8:00' and INTERVAL '-8 hours' are UTC-8 (PST); an ISO offset is positive east,
    # a POSIX one positive west
    ("set timezone to '-8:00'", -8), ("set timezone interval '-8 hours'", -8),
    ("set time zone interval '-08:00' hour to minute", -8), ("SET TIME ZONE '+7:00'", 7),
    ("set timezone to 'PST8'", -8), ("set timezone = 'EST5EDT'", -4), ("set timezone = 'America/New_York'", -4),
    ("set timezone to default", 0),
])
def test_timezone_offsets_as_the_reference_reads_them(session, statement, offset_hours):
    run_script(session, statement)
    local = _value(session, "select '2008-06-18 12:00:00+00'::timestamptz::timestamp")  # in the session's zone
    assert local.hour == 12 + offset_hours


def test_half_hour_offsets(session):
    if session.engine == "duckdb":
        with pytest.raises(NotSupportedLocally, match=r"offset of \+07:30 on the DuckDB engine"):
            run_script(session, "SET TIME ZONE '+7:30'")
    else:
        run_script(session, "SET TIME ZONE '+7:30'")
        local = _value(session, "select '2008-06-18 12:00:00+00'::timestamptz::timestamp")
        assert (local.hour, local.minute) == (19, 30)


def test_prepared_statements_from_the_reference_on_postgres(postgres_session):
    # r_PREPARE.md's examples as PostgreSQL runs them; a DEALLOCATEd statement is gone (DEALLOCATE was read as a
    # column alias before).
    run_script(postgres_session, """CREATE TABLE prep1 (c1 int, c2 varchar(20));
        PREPARE prep_insert_plan (int, char) AS insert into prep1 values ($1, $2);
        EXECUTE prep_insert_plan (1, 'one'); EXECUTE prep_insert_plan (2, 'two');
        DEALLOCATE prep_insert_plan;
        PREPARE prep_select_plan (int) AS select * from prep1 where c1 = $1""")
    assert run_script(postgres_session, "EXECUTE prep_select_plan (2)").rows == [(2, "two")]
    run_script(postgres_session, "DEALLOCATE PREPARE prep_select_plan")
    with pytest.raises(EngineError, match="prep_select_plan"):
        run_script(postgres_session, "EXECUTE prep_select_plan (2)")
