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


def test_error_on_nondeterministic_update_keeps_its_default_and_refuses_on(session):
    # r_error_on_nondeterministic_update.md: off (the default) lets an UPDATE match a row twice, as the engines do;
    # on would make it fail, which the emulator does not check
    run_script(session, "SET error_on_nondeterministic_update TO false")
    assert _value(session, "show error_on_nondeterministic_update") == "off"
    with pytest.raises(NotSupportedLocally, match="error_on_nondeterministic_update TO on"):
        run_script(session, "SET error_on_nondeterministic_update TO true")


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_a_setting_statement_may_end_with_a_semicolon(engine):
    # A Data API call's single statement often ends with one; it is no part of the value.
    assert translate("SET query_group TO 'etl';", engine) == translate("SET query_group TO 'etl'", engine)
    assert translate("SHOW query_group;", engine) == translate("SHOW query_group", engine)


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
    with pytest.raises(NotSupportedLocally, match="SET timezone to x y on the DuckDB engine"):
        translate("set timezone to x y", "duckdb")
    with pytest.raises(NotSupportedLocally, match="SHOW ALL"):
        translate("show all", "postgres")


def test_context_variables(session):
    # r_SET.md, r_SHOW.md, r_RESET.md and r_CURRENT_SETTING.md's session context variables.
    assert _value(session, "SET app_context.user_id TO 123; SHOW app_context.user_id") == "123"
    assert _value(session, "SET app_context.user_id TO 'sample_variable_value';"
                           " SELECT current_setting('app_context.user_id', FALSE)") == "sample_variable_value"
    assert _value(session, "select current_setting('query_group')") == "unset"


def test_context_variables_on_duckdb(duckdb_session):
    assert _value(duckdb_session, "SELECT current_setting('app_context.user_id', FALSE)") is None
    run_script(duckdb_session, "SET app_context.user_id TO 123; RESET app_context.user_id")
    with pytest.raises(EngineError, match='unrecognized configuration parameter "app_context.user_id"'):
        run_script(duckdb_session, "SELECT current_setting('app_context.user_id')")


def test_search_path_from_the_reference(duckdb_session):
    session = duckdb_session
    # r_search_path.md: missing schemas ('$user') are skipped; public comes before enterprise.
    assert _value(session, "show search_path") == "$user, public"
    script = """create schema enterprise; set search_path to '$user', public, enterprise;
        create table enterprise.frontier (c1 int); create table public.frontier(c1 int);
        insert into enterprise.frontier values(1)"""
    run_script(session, script)
    assert _value(session, "show search_path") == '"$user", public, enterprise'
    assert run_script(session, "select * from frontier").rows == []
    assert _value(session, "set search_path to enterprise; select * from frontier") == 1


def test_timezone_names_print_timestamptz_in_the_zone(duckdb_session):
    # r_timezone_config.md: SET timezone = 'America/New_York'; TIMESTAMPTZ values print in the session's zone.
    run_script(duckdb_session, "set timezone = 'America/New_York'")
    assert _value(duckdb_session, "show timezone") == "America/New_York"
    value = _value(duckdb_session, "select '2008-06-18 12:00:00+00'::timestamptz")
    assert (value.hour, value.utcoffset().total_seconds()) == (8, -4 * 3600)
    assert _value(duckdb_session, "set timezone to default; show timezone") == "UTC"


def test_seed_repeats_random(duckdb_session):
    first = _value(duckdb_session, "set seed to .25; select random()")
    assert _value(duckdb_session, "set seed to .25; select random()") == first
    with pytest.raises(EngineError, match='invalid value for parameter "seed"'):
        translate("set seed to 3", "duckdb")


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
    ("create tabel x (a int)", "tabel", 8),
])
@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_text_that_does_not_parse_is_a_syntax_error_with_its_position(statement, near, position, engine):
    with pytest.raises(SqlSyntaxError) as raised:
        translate(statement, engine)
    assert str(raised.value) == f'syntax error at or near "{near}"\n  Position: {position}'
    assert isinstance(raised.value, EngineError)  # the emulator reports it as the engine's error, not ours


# ---- DDL: IDENTITY, LIKE, ALTER TABLE APPEND (r_CREATE_TABLE_NEW.md, r_ALTER_TABLE_APPEND.md) ------------------

def test_identity_and_generated_by_default_as_identity(session):
    result = run_script(session, """
        create table t1 (id int identity(1, 1), v varchar(10));
        create table t2 (id bigint generated by default as identity(10, 5), v varchar(10));
        insert into t1 (v) values ('a'), ('b');
        insert into t2 (v) values ('a');
        insert into t2 (id, v) values (3, 'given');  -- a default identity takes a supplied value
        insert into t2 (v) values ('b');
        select t2.id, t2.v from t2 order by v
    """)
    assert result.rows == [(10, "a"), (15, "b"), (3, "given")]
    assert run_script(session, "select id from t1 order by id").rows == [(1,), (2,)]
    # r_CREATE_TABLE_examples.md: a seed of 0
    run_script(session, "create table venue_ident(venueid bigint identity(0, 1), venuename varchar(100));"
                        "insert into venue_ident (venuename) values ('a'), ('b')")
    assert run_script(session, "select venueid from venue_ident order by 1").rows == [(0,), (1,)]


def test_a_bare_identity_counts_from_one(session):
    # r_CREATE_TABLE_examples.md: hist_id BIGINT IDENTITY and base_id GENERATED BY DEFAULT AS IDENTITY, both 1, 2
    result = run_script(session, """
        CREATE TABLE t1(hist_id BIGINT IDENTITY NOT NULL, base_id BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL,
                        business_key varchar(10), some_field varchar(10));
        INSERT INTO T1 (business_key, some_field) values ('A','MM');
        INSERT INTO T1 (base_id, business_key, some_field) values (DEFAULT, 'B','MNOP');
        SELECT * FROM t1 ORDER BY 1""")
    assert result.rows == [(1, 1, "A", "MM"), (2, 2, "B", "MNOP")]


def test_create_table_like_including_defaults_with_an_extra_column(session):
    result = run_script(session, """
        create table parent (id int identity(10, 5), a int not null default 5, b varchar(3), c numeric(8,2));
        create table child (like parent including defaults, extra int default 7);
        insert into child (b) values ('x'), ('y');
        select * from child order by id
    """)
    assert [c.name for c in result.columns] == ["id", "a", "b", "c", "extra"]
    assert result.rows == [(10, 5, "x", None, 7), (15, 5, "y", None, 7)]
    assert [c.type_name for c in result.columns] == ["int4", "int4", "varchar", "numeric", "int4"]
    # NOT NULL is copied, the default only with INCLUDING DEFAULTS; the VARCHAR(3) length comes with the type.
    run_script(session, "create table plain (like parent)")
    with pytest.raises(EngineError, match="NOT NULL|not-null"):
        run_script(session, "insert into plain (b) values ('x')")
    with pytest.raises(EngineError, match=r"value too long for type character varying\(3\)"):
        run_script(session, "insert into plain (a, b) values (1, 'abcd')")


def test_create_temp_table_like(session):
    # r_CREATE_TABLE_examples.md: create temp table tempevent(like event);
    result = run_script(session, """
        create table event (eventid int not null, venueid smallint, eventname varchar(200));
        create temp table tempevent(like event);
        insert into tempevent values (1, 2, 'x');
        select * from tempevent
    """)
    assert result.rows == [(1, 2, "x")] and [c.type_name for c in result.columns] == ["int4", "int2", "varchar"]
    with pytest.raises(EngineError, match='relation "missing" does not exist'):
        run_script(session, "create table t (like missing)")


def test_alter_table_append_moves_rows_by_column_name(session):
    # r_ALTER_TABLE_APPEND.md: the source is empty afterwards and the target has its rows; column order differs.
    result = run_script(session, """
        create table sales (salesid int not null, pricepaid numeric(8,2), note varchar(10));
        create table sales_monthly (note varchar(10), salesid int not null, pricepaid numeric(8,2));
        insert into sales values (1, 1.50, 'a');
        insert into sales_monthly values ('b', 2, 2.25), ('c', 3, 3.00);
        alter table sales append from sales_monthly;
        select (select count(*) from sales_monthly), count(*), sum(pricepaid), max(note) from sales
    """)
    assert [tuple(str(v) for v in row) for row in result.rows] == [("0", "3", "6.75", "c")]


def test_alter_table_append_ignoreextra_and_filltarget(session):
    run_script(session, """
        create table sales (id int); create table sales_listing (id int, extra int);
        create table sales_report (id int, region varchar(5) default 'none'); create table sales_month (id int);
        insert into sales_listing values (1, 2); insert into sales_month values (7);
    """)
    with pytest.raises(EngineError, match=r"source table has columns the target does not \(extra\)"):
        run_script(session, "alter table sales append from sales_listing")
    with pytest.raises(EngineError, match=r"target table has columns the source does not \(region\)"):
        run_script(session, "alter table sales_report append from sales_month")
    run_script(session, "alter table sales append from sales_listing ignoreextra")
    run_script(session, "alter table sales_report append from sales_month filltarget")
    assert run_script(session, "select * from sales").rows == [(1,)]
    assert run_script(session, "select * from sales_report").rows == [(7, "none")]


def test_alter_table_append_refuses_other_types_and_transaction_blocks(session):
    run_script(session, "create table a (id int); create table b (id bigint); create table c (id int)")
    with pytest.raises(EngineError, match="column id has different types"):
        run_script(session, "alter table a append from b")
    with pytest.raises(EngineError, match="cannot run inside a transaction block"):
        run_script(session, "begin; alter table a append from c")


# ---- cursors (declare.md, fetch.md, close.md) ----------------------------------------------------------------

_SALES = "create table sales (id int, price numeric(8,2)); insert into sales values (1, 92), (2, 222), (3, 239), " \
         "(4, 239), (5, 239), (6, 114)"


def test_fetch_forward_next_all_and_close(session):
    run_script(session, _SALES)
    first = run_script(session, "begin; declare lollapalooza cursor for select id, price / 2 as half from sales "
                                "where price > 100 order by id; fetch forward 3 from lollapalooza")
    assert [row[0] for row in first.rows] == [2, 3, 4] and [c.name for c in first.columns] == ["id", "half"]
    assert [row[0] for row in run_script(session, "fetch next from lollapalooza").rows] == [5]
    assert [row[0] for row in run_script(session, "fetch forward 0 from lollapalooza").rows] == [5]
    assert [row[0] for row in run_script(session, "fetch all from lollapalooza").rows] == [6]
    assert run_script(session, "fetch next from lollapalooza").rows == []  # after the last row
    run_script(session, "close lollapalooza; commit")


def test_a_cursor_lives_in_its_transaction_block(session):
    run_script(session, _SALES)
    with pytest.raises(EngineError, match="DECLARE CURSOR can only be used in transaction blocks"):
        run_script(session, "declare c cursor for select id from sales")
    run_script(session, "begin; declare c cursor for select id from sales; commit")
    with pytest.raises(EngineError, match='cursor "c" does not exist'):
        run_script(session, "fetch next from c")


def test_a_cursors_query_is_translated(session):
    run_script(session, _SALES)
    fetched = run_script(session, "begin; declare c cursor for select nvl(null, id) as n from sales order by 1; "
                                  "fetch next from c")
    assert fetched.rows == [(1,)]
    run_script(session, "rollback")


# ---- UDFs (r_CREATE_FUNCTION.md, udf-creating-a-scalar-sql-udf.md) ----------------------------------------------

def test_scalar_sql_udf_from_the_reference(session):
    result = run_script(session, """
        create function f_sql_greater (float, float)
          returns float
        stable
        as $$
          select case when $1 > $2 then $1
            else $2
          end
        $$ language sql;
        create table sales (commission numeric(8,2), pricepaid numeric(8,2));
        insert into sales values (10, 100), (30, 100);
        select f_sql_greater(commission, pricepaid*0.20) from sales order by 1
    """)
    assert result.rows == [(20.0,), (30.0,)]
    assert result.columns[0].name == "f_sql_greater" and result.columns[0].type_name == "float8"


def test_drop_function_from_the_reference(session):
    # r_DROP_FUNCTION.md: drop function f_sqrt(int); drop function f_sqrt(int) cascade
    create = "create function f_sqrt(int) returns float stable as $$ select sqrt($1) $$ language sql"
    run_script(session, create)
    assert run_script(session, "select f_sqrt(16)").rows == [(4.0,)]
    run_script(session, "drop function f_sqrt(int)")
    with pytest.raises(EngineError, match="f_sqrt"):
        run_script(session, "select f_sqrt(16)")
    run_script(session, create + "; drop function f_sqrt(int) cascade; drop function if exists f_sqrt(int)")


def test_sql_udf_body_is_translated_and_casts_its_arguments(session):
    result = run_script(session, """
        create or replace function f_label (varchar(max), int) returns varchar(20) immutable
        as $$ select nvl($1, 'none') || '-' || $2 $$ language sql;
        select f_label(null, '7'), f_label('100%', 2)
    """)
    assert result.rows == [("none-7", "100%-2")]


def test_python_udfs_are_not_supported_locally():
    statement = """create function f_py_greater (a float, b float) returns float stable as $$
      if a > b:
        return a
      return b
    $$ language plpythonu"""
    for engine in ("duckdb", "postgres"):
        with pytest.raises(NotSupportedLocally, match=r"Python UDFs \(CREATE FUNCTION ... LANGUAGE plpythonu\)"):
            translate(statement, engine)
    with pytest.raises(NotSupportedLocally, match=r"Lambda UDFs \(CREATE EXTERNAL FUNCTION\)"):
        translate("create external function f(int) returns int volatile lambda 'f' iam_role default", "postgres")


def test_a_sql_udf_with_from_is_refused_as_redshift_does(session):
    with pytest.raises(EngineError, match="cannot include FROM"):
        run_script(session, "create function f_bad (int) returns int stable as $$ select $1 from t $$ language sql")


def test_prepared_statements_from_the_reference(duckdb_session):
    # r_PREPARE.md's examples; a DEALLOCATEd statement is gone.
    run_script(duckdb_session, """CREATE TABLE prep1 (c1 int, c2 char(20));
        PREPARE prep_insert_plan (int, char) AS insert into prep1 values ($1, $2);
        EXECUTE prep_insert_plan (1, 'one'); EXECUTE prep_insert_plan (2, 'two');
        EXECUTE prep_insert_plan (3, 'three'); DEALLOCATE prep_insert_plan;
        PREPARE prep_select_plan (int) AS select * from prep1 where c1 = $1""")
    assert run_script(duckdb_session, "EXECUTE prep_select_plan (2)").rows == [(2, "two")]
    assert run_script(duckdb_session, "EXECUTE prep_select_plan ('3')").rows == [(3, "three")]
    assert translate("EXECUTE prep_select_plan (2)", "duckdb").session_scoped
    run_script(duckdb_session, "DEALLOCATE prep_select_plan")
    with pytest.raises(EngineError, match="prep_select_plan"):
        run_script(duckdb_session, "EXECUTE prep_select_plan (2)")
    with pytest.raises(SqlSyntaxError):
        translate("PREPARE p (int) AS create table x (a int)", "duckdb")


def test_comments_from_the_reference(session):
    # r_COMMENT.md: a table's and a column's comment; IS NULL removes one.
    run_script(session, "create table sales (eventid int); COMMENT ON TABLE sales IS 'Ticket sales';"
                        "COMMENT ON COLUMN sales.eventid IS 'Foreign-key reference to the EVENT table.';"
                        "COMMENT ON TABLE sales IS NULL")
    column = "select col_description('sales'::regclass, 1)"
    assert _value(session, column) == "Foreign-key reference to the EVENT table."
    with pytest.raises(SqlSyntaxError, match="tabel"):
        translate("comment on tabel x is 'y'", "duckdb")


def test_show_datestyle_answers_the_default_on_duckdb(duckdb_session):
    # r_datestyle.md: ISO, MDY
    assert _value(duckdb_session, "show datestyle") == "ISO, MDY"
    assert _value(duckdb_session, "select current_setting('datestyle')") == "ISO, MDY"


def test_search_path_lists_of_schemas_on_both_engines(session):
    # r_search_path.md: SET search_path TO '$user', public, enterprise; RESET / DEFAULT go back to '$user', public
    run_script(session, "create schema s2; create table s2.only_in_s2 (x int); insert into s2.only_in_s2 values (7)")
    run_script(session, "set search_path to '$user', public, s2")
    assert _value(session, "select x from only_in_s2") == 7
    assert _value(session, "select current_schema()") == "public"
    run_script(session, "set search_path = s2, public; create table made_in_s2 (y int)")
    assert _value(session, "select count(*) from s2.made_in_s2") == 0
    for back in ("reset search_path", "set search_path to default"):
        run_script(session, f"set search_path to s2; {back}")
        assert _value(session, "select current_schema()") == "public"


def test_a_search_path_schema_that_does_not_exist_is_skipped_on_duckdb(duckdb_session):
    # r_search_path.md: a missing schema is skipped (kept in SHOW); DuckDB's path holds the existing ones
    run_script(duckdb_session, "set search_path to public, nosuch")
    assert _value(duckdb_session, "show search_path") == "public, nosuch"


def test_varbyte_n_holds_at_most_n_bytes(session):
    # r_VARBYTE_type.md: varbyte [ (n) ], VARBINARY and BINARY VARYING
    run_script(session, "create table bytes (b varbyte(3), v varbinary, w binary varying(2))")
    run_script(session, "insert into bytes values ('abc'::varbyte, 'abcdef'::varbyte, null)")
    with pytest.raises(EngineError, match=r"value too long for type varbyte\(3\)"):
        run_script(session, "insert into bytes values ('abcd'::varbyte, null, null)")
    assert run_script(session, "select b, octet_length(v) from bytes").rows == [(b"abc", 6)]
    with pytest.raises(NotSupportedLocally, match=r"a cast to VARBYTE\(5\)"):
        translate("select 'ab'::varbyte(5)", session.engine)


# ---- ALTER TABLE ... ADD / DROP CONSTRAINT (r_ALTER_TABLE.md; informational only, r_CREATE_TABLE_NEW.md) ---------

def test_added_key_constraints_are_checked_but_never_enforced(session):
    # Redshift accepts a primary key over duplicates already loaded, and later duplicates too: it never enforces.
    run_script(session, "create table h13_keys (id int, Code int, parent int); insert into h13_keys values (1, 1, 1), (1, 1, 2)")
    for statement in ("alter table h13_keys add primary key (id)",
                      "alter table h13_keys add constraint h13_keys_code unique (code)",
                      "alter table h13_keys add constraint h13_keys_parent foreign key (parent) references h13_keys(id)"):
        assert not run_script(session, statement).has_result_set
    run_script(session, "insert into h13_keys values (1, 1, 3)")
    assert _value(session, "select count(*) from h13_keys") == 3


@pytest.mark.parametrize("statement", ["alter table h13_keys add primary key (nope)",
                                       "alter table h13_missing add unique (id)",
                                       "alter table h13_keys add foreign key (parent) references h13_missing(id)"])
def test_a_constraint_over_an_unknown_table_or_column_fails(session, statement):
    run_script(session, "create table h13_keys (id int, parent int)")
    with pytest.raises(EngineError, match="nope|h13_missing"):
        run_script(session, statement)


def test_dropping_a_kept_constraint_and_an_unknown_one(session):
    # the declarations are kept (test_declarations.py): the primary key's default name is <table>_pkey
    run_script(session, "create table h13_keys (id int primary key)")
    run_script(session, "alter table h13_keys drop constraint h13_keys_pkey")
    with pytest.raises(EngineError, match='constraint "h13_keys_pkey" of relation "h13_keys" does not exist'):
        run_script(session, "alter table h13_keys drop constraint h13_keys_pkey")
