"""Statements real projects run that only tune Redshift, or that the engines lack: session settings, syntax errors,
DDL (IDENTITY, LIKE, ALTER TABLE APPEND), cursors, UDFs; on both engines, from the SQL reference's examples."""

from __future__ import annotations

import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate import NotSupportedLocally, SqlSyntaxError, translate
from tests.unit.translate.conftest import run_script


def _value(session, sql: str):
    return run_script(session, sql).rows[0][0]


# ---- session settings (r_SET.md, r_RESET.md, r_SHOW.md, r_query_group.md) --------------------------------------

def test_query_group_is_set_shown_and_reset_as_the_reference_shows(session):
    # r_SET.md: "show query_group" prints unset, then the label set, until RESET.
    assert _value(session, "show query_group") == "unset"
    run_script(session, "set query_group to '6 p.m.'")
    result = run_script(session, "show query_group")
    assert result.rows == [("6 p.m.",)] and result.columns[0].name == "query_group"
    run_script(session, "reset query_group")
    assert _value(session, "show query_group") == "unset"


def test_tuning_parameters_are_no_ops_that_show_their_value(session):
    run_script(session, "set wlm_query_slot_count to 3; SET enable_result_cache_for_session TO false")
    assert _value(session, "show wlm_query_slot_count") == "3"
    assert _value(session, "show enable_result_cache_for_session") == "off"
    assert _value(session, "show analyze_threshold_percent") == "10"
    run_script(session, "set enable_result_cache_for_session = default")
    assert _value(session, "show enable_result_cache_for_session") == "on"
    run_script(session, "set query_group to 'etl'; reset all")
    assert _value(session, "show wlm_query_slot_count") == "1"
    assert _value(session, "show query_group") == "unset"


@pytest.mark.parametrize("statement", ["set wlm_query_slot_count to 0", "set wlm_query_slot_count to 51",
                                       "set enable_result_cache_for_session to maybe"])
def test_a_value_the_parameter_refuses_fails(session, statement):
    with pytest.raises(EngineError, match="invalid value for parameter"):
        run_script(session, statement)


def test_settings_that_change_results_are_the_engines():
    # PostgreSQL has Redshift's datestyle and context variables (r_SET.md: SET app_context.user_id TO 123).
    assert translate("set datestyle to 'SQL,DMY'", "postgres").session_scoped
    with pytest.raises(NotSupportedLocally, match="SET datestyle on the DuckDB engine"):
        translate("set datestyle to 'SQL,DMY'", "duckdb")
    with pytest.raises(NotSupportedLocally, match="session context variable app_context.user_id on the DuckDB"):
        translate("SET app_context.user_id TO 123", "duckdb")
    with pytest.raises(NotSupportedLocally, match="SHOW ALL"):
        translate("show all", "postgres")


def test_context_variables_on_postgres(postgres_session):
    assert _value(postgres_session, "SET app_context.user_id TO 123; SHOW app_context.user_id") == "123"


def test_set_local_lasts_for_the_transaction_on_postgres(postgres_session):
    run_script(postgres_session, "begin; set local query_group to 'batch'")
    assert _value(postgres_session, "show query_group") == "batch"
    run_script(postgres_session, "commit")
    assert _value(postgres_session, "show query_group") == "unset"


# ---- syntax errors -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("statement", "near", "position"), [
    ("selec 1", "selec", 1),
    ("select * from t where", "where", 17),
    ("insert into t valuse (1)", "valuse", 15),
    ("select 1 +* 2", "2", 13),
])
@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_text_that_does_not_parse_is_a_syntax_error_with_its_position(statement, near, position, engine):
    with pytest.raises(SqlSyntaxError) as raised:
        translate(statement, engine)
    assert str(raised.value) == f'syntax error at or near "{near}"\n  Position: {position}'
    assert isinstance(raised.value, EngineError)  # the emulator reports it as the engine's error, not ours
