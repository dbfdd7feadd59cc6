"""PG_TABLE_DEF from the session's catalog (r_PG_TABLE_DEF.md, r_CREATE_TABLE_examples.md) and names found through
the search path (CREATE TABLE (LIKE ...), regclass), on both engines (translate/table_def.py, system.py)."""

from __future__ import annotations

import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate import NotSupportedLocally, translate
from tests.unit.translate.conftest import run_script

_COLUMNS = 'select "column", type, "notnull" from pg_table_def where tablename = '


def test_the_reference_demo_table_is_listed_once_its_schema_is_on_the_search_path(session):
    # r_PG_TABLE_DEF.md: no rows until demo is on the search path, then demo | demotable | one | integer | f
    query = ("select schemaname, tablename, \"column\", type, \"notnull\" from pg_table_def"
             " where tablename = 'demotable'")
    run_script(session, "create schema demo; create table demo.demotable (one int)")
    assert run_script(session, query).rows == []
    run_script(session, "set search_path to '$user', 'public', 'demo'")
    result = run_script(session, query)
    assert result.rows == [("demo", "demotable", "one", "integer", False)]
    assert [c.name for c in result.columns] == ["schemaname", "tablename", "column", "type", "notnull"]


def test_types_are_format_types_text_and_notnull_is_the_declaration(session):
    # The type strings of r_ALTER_TABLE_APPEND.md's and r_CREATE_TABLE_examples.md's outputs.
    run_script(session, """create table sales (salesid integer not null, dateid smallint not null,
        pricepaid numeric(8,2), saletime timestamp, eventname varchar(200), venuestate char(2), big bigint,
        ratio double precision, flag boolean, caldate date, doc super, bytes varbyte(8))""")
    assert run_script(session, _COLUMNS + "'sales'").rows == [
        ("salesid", "integer", True), ("dateid", "smallint", True), ("pricepaid", "numeric(8,2)", False),
        ("saletime", "timestamp without time zone", False), ("eventname", "character varying(200)", False),
        ("venuestate", "character(2)", False), ("big", "bigint", False), ("ratio", "double precision", False),
        ("flag", "boolean", False), ("caldate", "date", False), ("doc", "super", False),
        ("bytes", "varbyte(8)", False)]


def test_a_type_the_emulator_does_not_keep_fails_only_when_read(session):
    # VARCHAR without a length is VARCHAR(256) on Redshift; the emulator does not keep that length.
    run_script(session, "create table t (a int not null, b varchar); create table u (c int)")
    with pytest.raises(EngineError, match="not supported locally: pg_table_def.type of a .* column without a length"):
        run_script(session, _COLUMNS + "'t'")
    assert run_script(session, 'select "column", "notnull" from pg_table_def where tablename = \'t\'').rows == [
        ("a", True), ("b", False)]
    assert run_script(session, 'select "column", type from pg_table_def where tablename in (\'t\', \'u\')'
                               ' and "column" <> \'b\'').rows == [("a", "integer"), ("c", "integer")]


def test_the_search_path_decides_which_relation_a_name_shows(session):
    # pg_table_is_visible: temporary tables first, then the path's schemas; a hidden name is not listed. Views too.
    run_script(session, """create schema second; create table second.frontier (c1 int); create table frontier (c2 int);
        create view frontier_v as select c2 from frontier; set search_path to public, second""")
    assert run_script(session, 'select tablename, "column" from pg_table_def where tablename like \'frontier%\''
                               " and schemaname in ('public', 'second') order by 1").rows == [
        ("frontier", "c2"), ("frontier_v", "c2")]
    # a filter in a join's ON keeps the rows to user relations too
    assert run_script(session, 'select d."column" from (select \'frontier\' as name) w join pg_table_def d'
                               ' on d.tablename = \'frontier_v\'').rows == [("c2",)]
    run_script(session, "create temp table frontier (c3 int)")
    assert run_script(session, _COLUMNS + "'frontier'").rows == [("c3", "integer", False)]


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
@pytest.mark.parametrize(("sql", "message"), [
    # r_patternmatching_condition_like.md: Redshift lists its own stl_* tables in it
    ("select tablename, \"column\" from pg_table_def where \"column\" like '%start\\\\_%' limit 5",
     "pg_table_def without a filter on a user table or schema"),
    ("select distinct(tablename) from pg_table_def where schemaname = 'pg_catalog'",
     "pg_table_def without a filter on a user table or schema"),
    ("select \"column\" from pg_table_def where tablename = 'stl_query'",
     "pg_table_def without a filter on a user table or schema"),
])
def test_what_the_emulator_cannot_answer_is_refused(engine, sql, message):
    with pytest.raises(NotSupportedLocally, match=message):
        translate(sql, engine)


def test_a_temporary_tables_schema_name_is_refused_on_duckdb(duckdb_session):
    run_script(duckdb_session, "create temp table tempevent (eventid int)")
    assert run_script(duckdb_session, _COLUMNS + "'tempevent'").rows == [("eventid", "integer", False)]
    with pytest.raises(EngineError, match=r"pg_table_def.schemaname of a temporary table .* pg_temp_<n>"):
        run_script(duckdb_session, "select schemaname from pg_table_def where tablename = 'tempevent'")


def test_a_temporary_tables_schema_is_postgres_own_temporary_schema(postgres_session):
    run_script(postgres_session, "create temp table tempevent (eventid int)")
    [(schema,)] = run_script(postgres_session, "select schemaname from pg_table_def where tablename = 'tempevent'").rows
    assert schema.startswith("pg_temp_")


def test_like_finds_its_table_through_the_search_path(session):
    # r_CREATE_TABLE_examples.md / r_UNLOAD_command_examples.md: (like event) with event in a schema on the path
    run_script(session, """create schema tickit; set search_path to public, tickit;
        create table tickit.event (eventid int not null, eventname varchar(200) default 'tbd');
        create temp table tempevent(like event);
        create table loadevent (like event including defaults);
        insert into loadevent (eventid) values (1); insert into tempevent values (2, 'x')""")
    assert run_script(session, "select * from loadevent").rows == [(1, "tbd")]
    assert run_script(session, "select * from tempevent").rows == [(2, "x")]
    assert run_script(session, _COLUMNS + "'loadevent'").rows == [
        ("eventid", "integer", True), ("eventname", "character varying(200)", False)]
    assert run_script(session, "select obj_description('event'::regclass)").rows == [(None,)]
    run_script(session, "set search_path to public")
    with pytest.raises(EngineError, match='relation "event" does not exist'):
        run_script(session, "create table again (like event)")


# ---- users (r_Users.md, r_CREATE_USER.md, r_CREATE_SCHEMA.md) ------------------------------------------------

def test_pg_user_lists_the_superuser_and_the_sessions_admin_user_on_duckdb(duckdb_session):
    duckdb_session.set_user("masteruser")
    result = run_script(duckdb_session, "select * from pg_user")
    # r_Users.md: rdsdb | 1 | t | t | t | ******** | | and masteruser | 100 | t | t | f | ******** | |
    assert result.rows == [("rdsdb", 1, True, True, True, "********", None, None),
                           ("masteruser", 100, True, True, False, "********", None, None)]
    assert [c.name for c in result.columns] == ["usename", "usesysid", "usecreatedb", "usesuper", "usecatupd",
                                                "passwd", "valuntil", "useconfig"]
    assert run_script(duckdb_session, "select usesysid from pg_user where usename = current_user").rows == [(100,)]
    # r_CREATE_USER.md: pg_user_info's useconnlimit
    assert run_script(duckdb_session, "select usename, useconnlimit from pg_user_info order by usesysid").rows == [
        ("rdsdb", None), ("masteruser", "UNLIMITED")]
    with pytest.raises(NotSupportedLocally, match=r"SELECT \* from pg_user_info"):
        run_script(duckdb_session, "select * from pg_user_info")


def test_schema_owners_join_pg_user_on_duckdb(duckdb_session):
    # r_CREATE_SCHEMA.md's query: the schema's owner by pg_namespace.nspowner = pg_user.usesysid
    duckdb_session.set_user("dwuser")
    run_script(duckdb_session, "create schema us_sales")
    assert run_script(duckdb_session, """select nspname as schema, usename as owner
        from pg_namespace, pg_user where pg_namespace.nspowner = pg_user.usesysid
        and pg_user.usename ='dwuser'""").rows == [("us_sales", "dwuser")]
    assert run_script(duckdb_session, "select n.nspname, u.usename from pg_catalog.pg_namespace n"
                                      " join pg_user u on n.nspowner = u.usesysid order by 1").rows == [
        ("public", "rdsdb"), ("us_sales", "dwuser")]


def test_pg_user_is_refused_on_postgres():
    with pytest.raises(NotSupportedLocally, match="system table pg_user on the postgres engine"):
        translate("select usename from pg_user", "postgres")
