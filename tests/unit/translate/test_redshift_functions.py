"""Redshift functions that the engines lack or compute differently, emulated by the session set-up, on both engines."""

from __future__ import annotations

import datetime as dt

import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate import NotSupportedLocally, translate
from tests.unit.translate.conftest import run_script


def _columns(result):
    return [column.name for column in result.columns]


def test_is_valid_json_and_is_valid_json_array(session):
    # Redshift's documented examples: IS_VALID_JSON is true for objects only; trailing commas are invalid.
    result = run_script(session, """
        select is_valid_json('{"a":2}'), is_valid_json('{"a": [1,2,"b"]}'), is_valid_json('{{}}'),
               is_valid_json('{1:"a"}'), is_valid_json('[1,2,3]'), is_valid_json('{"a":1,}'),
               is_valid_json('{"a":NaN}'), is_valid_json('{"a":"x,] nan"}'), is_valid_json(null),
               is_valid_json_array('[]'), is_valid_json_array('["a",["b",1,["c",2,3,null]]]'),
               is_valid_json_array('{"a":1}'), is_valid_json_array('a'), is_valid_json_array('[1,2,]')
    """)
    assert result.rows[0] == (True, True, False, False, False, False, False, True, None,
                              True, True, False, False, False)
    assert _columns(result)[:2] == ["is_valid_json", "is_valid_json"]
    assert _columns(result)[-1] == "is_valid_json_array"


def test_json_array_functions(session):
    result = run_script(session, """
        select json_extract_array_element_text('[111,112,113]', 2),
               json_extract_array_element_text('[1,{"a":2},"x",null]', 2),
               json_extract_array_element_text('[1,2]', -1), json_extract_array_element_text('[1,2]', 5),
               json_extract_array_element_text('["a",["b",1,["c",2,3,null,]]]', 1, true),
               json_array_length('[11,12,13,{"f1":21,"f2":[25,26]},14]'),
               json_array_length('[11,12,13,{"f1":21,"f2":[25,26]},14', true)
    """)
    assert result.rows[0] == ("113", "x", None, None, None, 5, None)
    assert _columns(result)[0] == "json_extract_array_element_text" and _columns(result)[-1] == "json_array_length"
    assert [c.type_name for c in result.columns][-1] == "int4"
    for sql in ("""select json_extract_array_element_text('["a",["b",1,["c",2,3,null,]]]', 1)""",
                """select json_array_length('{"a": 1}')"""):
        with pytest.raises(EngineError, match="invalid json array object"):
            run_script(session, sql)


def test_json_functions_on_a_column(session):
    result = run_script(session, """
        create table j (v varchar(100), p int);
        insert into j values ('[1,2,3]', 0), ('["a","b"]', 1), (null, 1), ('{}', 1);
        select is_valid_json(v), is_valid_json_array(v), json_array_length(v, true),
               json_extract_array_element_text(v, p, true) from j order by p, v
    """)
    assert result.rows == [(False, True, 3, "1"), (False, True, 2, "b"), (True, False, None, None),
                           (None, None, None, None)]


def test_strtol(session):
    result = run_script(session, """
        select strtol('0xf', 16), strtol('abcd1234', 16), strtol('1234567', 10), strtol('1234567', 8),
               strtol('110101', 2), strtol('', 2), strtol('  -12xyz', 10), strtol(null, 10), strtol('+Z', 36)
    """)
    assert result.rows[0] == (15, 2882343476, 1234567, 342391, 53, 0, -12, None, 35)
    assert result.columns[0].name == "strtol" and result.columns[0].type_name == "int8"
    with pytest.raises(EngineError, match="base must be between 2 and 36"):
        run_script(session, "select strtol('1', 1)")


def test_months_between(session):
    result = run_script(session, """
        select months_between('1969-03-18'::date, '1969-01-18'::date),
               months_between('2014-08-31'::date, '2014-09-30'::date),
               months_between('2020-03-01'::date, '2020-01-15'::date),
               months_between('2020-03-02 12:00:00'::timestamp, '2020-03-01'::timestamp)
    """)
    assert result.rows[0] == pytest.approx((2.0, -1.0, 2 - 14 / 31, 1.5 / 31))
    assert result.columns[0].name == "months_between" and result.columns[0].type_name == "float8"


def test_add_months_keeps_the_last_day_of_the_month(session):
    result = run_script(session, """
        select add_months('2008-03-31'::date, 1), add_months('2008-04-30', 1),
               add_months('2008-01-01 05:07:30', 1), add_months('2008-02-29 10:00:00'::timestamp, -12),
               add_months('2008-01-15'::date, 1), dateadd(month, 1, '2008-04-30'::date)
    """)
    assert result.rows[0] == (dt.datetime(2008, 4, 30), dt.datetime(2008, 5, 31), dt.datetime(2008, 2, 1, 5, 7, 30),
                              dt.datetime(2007, 2, 28, 10), dt.datetime(2008, 2, 15), dt.datetime(2008, 5, 30))
    assert _columns(result)[0] == "add_months" and result.columns[0].type_name == "timestamp"


def test_unaliased_functions_are_named_after_the_function(session):
    result = run_script(session, """
        select median(x), last_day(d), add_months(d, 1) from (select 1 as x, '2020-02-03'::date as d) t group by d
    """)
    assert _columns(result) == ["median", "last_day", "add_months"]
    assert result.rows == [(1.0, dt.date(2020, 2, 29), dt.datetime(2020, 3, 3))]


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
@pytest.mark.parametrize("statement", ["select ratio_to_report(x) over (order by x) from t",
                                       "select checksum(a) from t", "select size(a) from t",
                                       "select h3_resolution(a) from t", "select st_astext(g) from t",
                                       "select pg_get_cols('sales_vw')", "select pg_cancel_backend(802)",
                                       "select pg_terminate_backend(8585)"])
def test_redshift_only_functions_are_refused_by_name(statement, engine):
    name = statement.split()[1].split("(")[0]
    with pytest.raises(NotSupportedLocally, match=rf"^not supported locally: {name}\(\)"):
        translate(statement, engine)


def test_postgres_has_what_duckdb_lacks():
    with pytest.raises(NotSupportedLocally, match=r"^not supported locally: has_function_privilege\(\)"):
        translate("select has_function_privilege('f()', 'execute')", "duckdb")
    assert "DATE_CMP" in translate("select date_cmp(a, b) from t", "postgres").text


def test_unknown_functions_are_left_to_the_engine():
    assert "MY_UDF(1)" in translate("select my_udf(1)", "duckdb").text


def test_leader_node_only_functions_fail_with_a_user_table_as_on_redshift(session):
    # c_sql-functions-leader-node.md: select current_schema() is public; with pg_table_def it runs; with the user
    # table users, "ERROR: Specified types or functions (one per INFO message) not supported on Amazon Redshift
    # tables." (c_SQL_functions_leader_node_only.md: CURRENT_SCHEMA, CURRENT_SCHEMAS, HAS_*_PRIVILEGE)
    # (TICKIT's category, as the Getting Started guide creates it, is the row the page prints)
    run_script(session, "create table category (catid smallint not null distkey sortkey, catgroup varchar(10),"
                        " catname varchar(10), catdesc varchar(50)); create table users (userid int);"
                        " insert into users values (1)")
    assert run_script(session, "select current_schema()").rows == [("public",)]
    assert run_script(session, "select * from pg_table_def where schemaname = current_schema() limit 1").rows == [
        ("public", "category", "catid", "smallint", "none", True, 1, True)]
    assert run_script(session, "with t as (select 1 as a) select current_schema(), a from t").rows == [("public", 1)]
    for query in ("select current_schema(), userid from users", "select current_schemas(false) from users",
                  "select has_table_privilege('users', 'select') from users",
                  "select userid from users where has_schema_privilege('public', 'usage')",
                  "select current_schema() from stl_load_errors", "insert into users select 1 where"
                  " has_database_privilege(current_database(), 'temp')"):
        with pytest.raises(EngineError, match=r"^Specified types or functions \(one per INFO message\) not supported"
                                              r" on Amazon Redshift tables\.$"):
            run_script(session, query)


def test_current_schemas_documented_examples(session):
    # r_CURRENT_SCHEMAS.md: the text of the search path's schemas, pg_catalog with the implicit ones
    result = run_script(session, "select current_schemas(false), current_schemas(true)")
    assert result.rows == [("{public}", "{pg_catalog,public}")]
    assert [c.name for c in result.columns] == ["current_schemas", "current_schemas"]


def test_helpers_nested_in_a_rewritten_call_are_rewritten_too(session):
    # r_ADD_MONTHS.md: "uses the ADD_MONTHS function inside a TRUNC function" (trunc is itself rewritten)
    result = run_script(session, """
        create table date (dateid smallint, caldate date);
        insert into date values (1, '2008-01-01'), (2, '2008-01-02'), (3, '2008-01-02');
        select distinct trunc(add_months(caldate, 12)) as calplus12, trunc(caldate) as cal from date order by 1 asc
    """)
    assert result.rows == [(dt.date(2009, 1, 1), dt.date(2008, 1, 1)), (dt.date(2009, 1, 2), dt.date(2008, 1, 2))]
    nested = run_script(session, "select trunc(add_months('2008-03-31 12:00:00'::timestamp, 1)), "
                                 "cast(trunc(strtol('ff', 16) / 2.0) as int)")
    assert nested.rows == [(dt.date(2008, 4, 30), 127)]


def test_trunc_and_integer_casts_of_aggregates(session):
    # r_TRUNC_date / r_CAST_function: trunc of a timestamp is its date, of a number its integer part
    run_script(session, "create table t (ts timestamp, f float, s varchar(10)); "
                        "insert into t values ('2020-01-01 10:00:00', 2.25, ' 12 '), ('2020-01-03 10:00:00', -2.7, '3')")
    result = run_script(session, "select trunc(max(ts)), trunc(min(f)), cast(max(f) as int), cast(max(s) as int) from t")
    assert result.rows == [(dt.date(2020, 1, 3), -2.0, 2, 3)]
    windowed = run_script(session, "select trunc(lag(ts) over (order by ts)) from t order by ts")
    assert windowed.rows == [(None,), (dt.date(2020, 1, 1),)]


def test_privilege_functions_answer_for_the_sessions_user(session):
    # r_HAS_TABLE_PRIVILEGE.md, r_HAS_SCHEMA_PRIVILEGE.md, r_HAS_DATABASE_PRIVILEGE.md: the session's user owns what
    # it creates, so it holds every privilege the pages list, named or left out.
    run_script(session, "create table listing (listid int)")
    result = run_script(session, "select has_table_privilege('listing', 'select'), has_table_privilege(current_user,"
                                 " 'listing', 'insert'), has_schema_privilege('public', 'create'),"
                                 " has_schema_privilege(current_user, 'public', 'usage'),"
                                 " has_database_privilege(current_database(), 'temp'), current_user_id")
    assert result.rows == [(True, True, True, True, True, 100)]
    assert [c.name for c in result.columns] == ["has_table_privilege", "has_table_privilege", "has_schema_privilege",
                                                "has_schema_privilege", "has_database_privilege", "current_user_id"]
    with pytest.raises(EngineError, match='relation "no_such_table" does not exist'):
        run_script(session, "select has_table_privilege('no_such_table', 'select')")
    with pytest.raises(EngineError, match='schema "no_such_schema" does not exist'):
        run_script(session, "select has_schema_privilege('no_such_schema', 'usage')")
    with pytest.raises(EngineError, match="unrecognized privilege type"):
        run_script(session, "select has_table_privilege('listing', 'fly')")


def test_privileges_of_another_user(session):
    run_script(session, "create table listing (listid int)")
    with pytest.raises(EngineError, match='"guest" does not exist'):
        run_script(session, "select has_table_privilege('guest', 'listing', 'select')")
    # PostgreSQL answers from its roles, DuckDB from its principals catalog (principals/access.py): a user made by
    # CREATE USER holds nothing it was not granted.
    run_script(session, "create user guest_h13 password 'Abcd1234'")
    try:
        assert run_script(session, "select has_table_privilege('guest_h13', 'listing', 'select')").rows == [(False,)]
        run_script(session, "grant select on listing to guest_h13")
        assert run_script(session, "select has_table_privilege('guest_h13', 'listing', 'select')").rows == [(True,)]
    finally:
        run_script(session, "revoke all on listing from guest_h13; drop user guest_h13")
