"""Redshift semantics through a real boto3 client, the real translator and both engines (DuckDB, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from shiftflow.dataapi.engines.duckdb import DuckDBEngine
from shiftflow.dataapi.inprocess import route_in_process
from shiftflow.dataapi.service import DataApiEmulator
from tests.conftest import SLOW_SQL
from tests.unit.dataapi.conftest import rows, run, run_batch


@pytest.fixture(scope="module")
def postgres_engine() -> Iterator[Any]:
    from shiftflow.dataapi.engines.postgres import PostgresEngine

    engine = PostgresEngine()
    yield engine
    engine.close()


_databases = iter(range(1_000_000))


@pytest.fixture(params=["duckdb", "postgres"])
def client(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A boto3 client on an emulator with the real translator; a fresh database per test."""
    if request.param == "duckdb":
        emulator, shared = DataApiEmulator(DuckDBEngine()), False
    else:
        emulator, shared = DataApiEmulator(request.getfixturevalue("postgres_engine")), True
    database = f"sem_{next(_databases)}"
    with route_in_process(emulator):
        yield _Client(boto3.client("redshift-data", region_name="us-east-1"), database, request.param)
    emulator.close(close_engine=not shared)


class _Client:
    """The boto3 client with this test's Database filled in."""

    def __init__(self, client: Any, database: str, engine: str) -> None:
        self._client, self.database, self.engine = client, database, engine
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if name not in ("execute_statement", "batch_execute_statement"):
            return method
        return lambda **kw: method(**{**kw, "Database": self.database})


def ok(client: Any, sql: str, **options: Any) -> dict[str, Any]:
    described = run(client, sql, **options)
    assert described["Status"] == "FINISHED", described.get("Error")
    return described


def error(client: Any, sql: str) -> str:
    described = run(client, sql)
    assert described["Status"] == "FAILED", f"{sql!r} should fail"
    return described["Error"]


def values(client: Any, sql: str) -> list[list[Any]]:
    return rows(client, ok(client, sql)["Id"])


def test_truncate_commits_the_transaction_it_runs_in(client: Any) -> None:
    ok(client, "create table tgt (id int)")
    ok(client, "insert into tgt values (0)")
    ok(client, "create table log (id int)")
    failed = run_batch(client, ["insert into log values (1)", "truncate tgt", "insert into tgt values (2)",
                                "insert into missing_table values (3)"])
    assert failed["Status"] == "FAILED"
    assert values(client, "select count(*) from tgt") == [[0]]  # truncated, and the insert after it rolled back
    assert values(client, "select id from log") == [[1]]  # committed by the truncate



def test_varchar_and_char_lengths_are_enforced_in_bytes(client: Any) -> None:
    ok(client, "create table t (id int, v varchar(10), c char(3), m varchar(max), n nvarchar(4))")
    ok(client, "insert into t values (1, 'abcdefghij', 'abc', repeat('x', 500), 'abcd'), (2, null, null, null, null)")
    assert error(client, "insert into t (id, v) values (3, 'abcdefghijklmnopqrstuvwxyz0')").endswith(
        "value too long for type character varying(10)")
    assert "value too long for type character varying(10)" in error(client, "insert into t (id, v) values (3, 'ééééééé')")
    assert "value too long for type character(3)" in error(client, "insert into t (id, c) values (3, 'abcd')")
    assert "value too long for type character varying(10)" in error(client, "update t set v = v || 'x' where id = 1")
    assert values(client, "select count(*) from t") == [[2]]


def test_text_to_integer_casts_refuse_non_integers(client: Any) -> None:
    assert "invalid input syntax for" in error(client, "select '12.5'::int")
    assert "invalid input syntax for" in error(client, "select cast('abc' as bigint)")
    assert values(client, "select ' 12 '::int, '-7'::smallint, cast(null as varchar)::int, 12::bigint") == [
        [12, -7, None, 12]]
    ok(client, "create table s (v varchar(10))")
    ok(client, "insert into s values ('42'), ('4.2')")
    assert "invalid input syntax for" in error(client, "select sum(v::int) from s")
    described = run(client, "select :n::int", Parameters=[{"name": "n", "value": "4.2"}])
    assert described["Status"] == "FAILED"


def test_avg_of_decimal_keeps_the_argument_scale(client: Any) -> None:
    ok(client, "create table d (x decimal(10, 2), k int)")
    ok(client, "insert into d values (1.25, 1), (2.50, 1), (-1.25, 2), (-2.50, 2)")
    described = ok(client, "select k, avg(x) from d group by k order by k")
    result = client.get_statement_result(Id=described["Id"])
    # cut to the scale, not rounded: the reference's PIVOT example averages 2.50, 3.75, 1.90 to 2.71
    assert [r[1] for r in result["Records"]] == [{"stringValue": "1.87"}, {"stringValue": "-1.87"}]


def test_lock_is_a_no_op_and_drop_takes_several_tables(client: Any) -> None:
    ok(client, "create table tgt (id int)")
    ok(client, "create table other (id int)")
    done = run_batch(client, ["begin", "lock tgt, other", "insert into tgt values (1)", "end"])
    assert done["Status"] == "FINISHED"
    assert values(client, "select id from tgt") == [[1]]
    ok(client, "drop table if exists tgt, missing, other")
    assert "does not exist" in error(client, "select * from other").lower()


def test_clock_functions_types_and_column_names(client: Any) -> None:
    described = ok(client, "select getdate(), sysdate, current_date, trunc(getdate())")
    result = client.get_statement_result(Id=described["Id"])
    assert [(c["name"], c["typeName"]) for c in result["ColumnMetadata"]] == [
        ("timestamp", "timestamp"), ("timestamp", "timestamp"), ("date", "date"), ("trunc", "date")]
    getdate, sysdate = result["Records"][0][0]["stringValue"], result["Records"][0][1]["stringValue"]
    assert len(getdate) == 19 and getdate[:10] == sysdate[:10]  # whole seconds, no time zone
    ok(client, "create table stamped (at timestamp default getdate(), id int)")
    ok(client, "insert into stamped (id) values (1)")
    assert values(client, "select count(*) from stamped where at <= sysdate") == [[1]]


def test_approximate_count_distinct(client: Any) -> None:
    described = ok(client, "select approximate count(distinct x) from (select 1 as x union all select 2 union all select 2)")
    result = client.get_statement_result(Id=described["Id"])
    assert result["ColumnMetadata"][0]["name"] == "count" and result["Records"] == [[{"longValue": 2}]]


def test_result_rows_of_ddl_and_create_table_as_are_zero_on_both_engines(client: Any) -> None:
    # DDL reports no row count (0); CREATE TABLE AS too (the emulator's choice, see shiftflow.dataapi.translate).
    assert ok(client, "create table src (id int, name varchar(10))")["ResultRows"] == 0
    assert ok(client, "insert into src values (1, 'a'), (2, 'b'), (3, 'c')")["ResultRows"] == 3
    assert ok(client, "create table copy as select * from src")["ResultRows"] == 0
    assert ok(client, "alter table copy add column extra int")["ResultRows"] == 0
    assert ok(client, "update copy set extra = 1 where id > 1")["ResultRows"] == 2
    assert ok(client, "create view v as select id from src")["ResultRows"] == 0
    assert ok(client, "drop view v")["ResultRows"] == 0
    assert ok(client, "drop table copy")["ResultRows"] == 0
    batch = run_batch(client, ["create table b (id int)", "insert into b values (1)",
                               "create table b2 as select * from b", "drop table b2"])
    assert batch["Status"] == "FINISHED", batch.get("Error")
    assert [sub["ResultRows"] for sub in batch["SubStatements"]] == [0, 1, 0, 0]


def test_current_user_and_database_are_the_requests(client: Any) -> None:
    described = ok(client, "select current_user, current_database(), session_user")
    assert values(client, "select current_user, current_database(), session_user") == \
        [["awsuser", client.database, "awsuser"]]
    page = client.get_statement_result(Id=described["Id"])
    assert [c["name"] for c in page["ColumnMetadata"]] == ["current_user", "current_database", "session_user"]
    assert values(client, "select current_user") == [["awsuser"]]
    other = ok(client, "select current_user", DbUser="etl_user")
    assert rows(client, other["Id"]) == [["etl_user"]]
    serverless = client.execute_statement(Sql="select current_user, current_database()", WorkgroupName="local-wg",
                                          WaitTimeSeconds=30)
    assert client.describe_statement(Id=serverless["Id"], WaitTimeSeconds=30)["Status"] == "FINISHED"
    assert rows(client, serverless["Id"]) == [["IAM:local", client.database]]
    # the session's user is the admin user, the owner of everything (r_Users.md: its usesysid is 100)
    assert values(client, "select user, current_user_id") == [["awsuser", 100]]


def test_json_parse_and_to_char_reach_the_client_as_redshift_prints_them(client: Any) -> None:
    described = ok(client, """select json_parse('{"a": [1, "x"]}') as j, to_char(date '2009-12-31', 'MONTH') as m""")
    result = client.get_statement_result(Id=described["Id"])
    assert [c["typeName"] for c in result["ColumnMetadata"]] == ["super", "varchar"]
    assert result["Records"] == [[{"stringValue": '{"a":[1,"x"]}'}, {"stringValue": "DECEMBER "}]]


def test_statement_timeout_cancels_a_longer_statement(client: Any) -> None:
    # r_statement_timeout.md: "set statement_timeout = 1; select ...; ERROR: Query (150) canceled on user's request"
    slow = SLOW_SQL  # Redshift SQL (range() and pg_sleep() are not Redshift's functions)
    failed = run_batch(client, ["set statement_timeout = 100", slow])
    assert failed["Status"] == "FAILED"
    query_id = failed["SubStatements"][1]["RedshiftQueryId"]
    assert f"Query ({query_id}) canceled on user's request" in failed["Error"]
    assert failed["Duration"] < 3_000_000_000  # nanoseconds: cancelled, not run to its end
    finished = run_batch(client, ["set statement_timeout to 10000", "select 1", "set statement_timeout to 0"])
    assert finished["Status"] == "FINISHED"
    if client.engine == "duckdb":  # recorded for SHOW as set (PostgreSQL shows its own units)
        shown = run_batch(client, ["set statement_timeout to 250", "show statement_timeout"])
        assert rows(client, shown["SubStatements"][1]["Id"]) == [["250"]]


def test_three_part_names_of_the_connected_database(client: Any) -> None:
    # cross-database-overview.md: database_name.schema_name.object_name, and .column_name after it
    db = client.database
    ok(client, f"create table {db}.public.orders (id int, amount int)")
    assert run(client, f'insert into "{db}"."public"."orders" values (1, 10), (2, 20)')["ResultRows"] == 2
    ok(client, f"update {db}.public.orders set amount = amount + 1 where {db}.public.orders.id = 1")
    assert values(client, f"select {db}.public.orders.id, amount from {db}.public.orders order by 1") == \
        [[1, 11], [2, 20]]
    ok(client, f"delete from {db}.public.orders where id = 2")
    ok(client, f"merge into {db}.public.orders using (select 3 as id, 30 as amount) s on {db}.public.orders.id = s.id"
               " when matched then update set amount = s.amount when not matched then insert values (s.id, s.amount)")
    ok(client, f"alter table {db}.public.orders add column note varchar(10)")
    ok(client, f'create view "{db}".public.big as select id from {db}.public.orders where amount > 20')
    assert values(client, f"select * from {db}.public.big") == [[3]]
    assert values(client, f"select count(*) from {db}.public.orders o join public.orders p using (id)") == [[2]]
    ok(client, f"drop view {db}.public.big")
    ok(client, f"drop table {db}.public.orders")
    assert "does not exist" in error(client, f"select * from {db}.public.orders")


def test_three_part_names_of_another_database(client: Any) -> None:
    ok(client, "create table orders (id int)")
    # reading another database of the cluster is Redshift's cross-database query (RA3, Serverless): not emulated
    for sql in ("select * from otherdb.public.orders", "select otherdb.public.orders.id from otherdb.public.orders",
                "insert into orders select id from otherdb.public.orders"):
        assert "not supported locally: cross-database query" in error(client, sql), sql
    # cross-database_limitation.md: other databases' objects are read-only
    for sql in ("insert into otherdb.public.orders values (1)", "update otherdb.public.orders set id = 2",
                "delete from otherdb.public.orders", "drop table otherdb.public.orders",
                "create table otherdb.public.t (a int)", "alter table otherdb.public.orders add column b int",
                "truncate otherdb.public.orders",
                "copy otherdb.public.orders from 's3://bucket/key' iam_role default"):
        assert 'cross-database reference to database "otherdb" is not supported' in error(client, sql), sql


def test_subqueries_in_a_multi_row_insert_are_refused(client: Any) -> None:
    # c_Examples_of_INSERT_30.md: "subqueries can't be used as expressions in multiple-row INSERT VALUES"
    ok(client, "create table category (catid int)")
    assert "can't use subqueries in multi-row VALUES" in error(
        client, "insert into category(catid) values ((select max(catid)+1 from category)),"
                " ((select max(catid)+2 from category))")
    ok(client, "insert into category(catid) values ((select count(*) + 1 from category))")
    assert values(client, "select catid from category") == [[1]]


def test_update_sets_a_column_to_its_default(client: Any) -> None:
    # c_Examples_of_UPDATE_statements.md: update category set catdesc=default, catname='Shows' where ...
    ok(client, "create table category (catid int, catname varchar(10), catdesc varchar(50) default 'none')")
    ok(client, "insert into category values (1, 'Plays', 'All plays')")
    ok(client, "update category set catdesc=default, catname='Shows' where catid = 1")
    assert values(client, "select catname, catdesc from category") == [["Shows", "none"]]


def test_super_navigation_of_four_names_is_no_database_name(client: Any) -> None:
    # r_explain_model_function.md: json_table.report.explanations... is an alias, a column and its attributes
    assert values(client, "select t.data.a.b from (select json_parse('{\"a\": {\"b\": 7}}') as data) t") == [["7"]]


# Redshift's (PostgreSQL's) words on both engines, never DuckDB's ("Catalog Error: Table with name ... does not
# exist! Did you mean "pg_sequences"?" named the emulator's own tables). Where PostgreSQL says more than DuckDB can
# (a function's argument types, the schema of a missing table), the DuckDB text is the shorter one (duckdb_errors).
_ERRORS = [
    ("select * from nosuch", 'relation "nosuch" does not exist', None),
    ("select * from nosch.nosuch", 'relation "nosch.nosuch" does not exist', None),
    ("insert into nosuch values (1)", 'relation "nosuch" does not exist', None),
    ("truncate nosuch", 'relation "nosuch" does not exist', None),
    ("alter table nosuch add column c int", 'relation "nosuch" does not exist', None),
    ("drop table nosuch", 'table "nosuch" does not exist', None),
    ("drop view nosuch", 'view "nosuch" does not exist', None),
    ("create table nosch.x (a int)", 'schema "nosch" does not exist', None),
    ("create table t (a int)", 'Relation "t" already exists', None),  # the guide's text (r_enable_case_sensitive_identifier.md)
    ("create schema public", 'schema "public" already exists', None),
    ("select nosuchfn(1, 'a')", "function nosuchfn(integer, unknown) does not exist",
     "function nosuchfn does not exist"),
    ("select len(1, 2, 3)", "function len(integer, integer, integer) does not exist", None),
    ("insert into t values (null, 'x')", 'null value in column "a" of relation "t" violates not-null constraint', None),
    ("update t set nosuch = 1", 'column "nosuch" of relation "t" does not exist', None),
    ("insert into t (nosuch) values (1)", 'column "nosuch" of relation "t" does not exist', None),
    ("select t.nosuch from t", "column t.nosuch does not exist", None),
    ("select sum(count(*)) from t", "aggregate function calls cannot be nested", None),
    ("select a from t where row_number() over () = 1", "window functions are not allowed in WHERE", None),
    ("select a from t union select a, b from t", "each UNION query must have the same number of columns", None),
    ("select * from t join t using (a)", 'table name "t" specified more than once', None),
    ("select current_setting('session.x')", 'unrecognized configuration parameter "session.x"', None),
    ("select 1/0", "division by zero", None),
    ("select 'abc'::date", 'invalid input syntax for type date: "abc"', None),
]


@pytest.mark.parametrize(("sql", "postgres", "duckdb"), _ERRORS, ids=[sql for sql, *_ in _ERRORS])
def test_errors_are_in_redshifts_words_on_both_engines(client: Any, sql: str, postgres: str,
                                                        duckdb: str | None) -> None:
    ok(client, "create table t (a int not null, b varchar(5))")
    assert error(client, sql) == (duckdb or postgres if client.engine == "duckdb" else postgres)


def test_a_clock_aliased_with_its_own_name_answers_the_clock(client: Any) -> None:
    # A real script's "dialect for MySQL / SQL Server developers" page (DuckDB read the alias as a column reference)
    [[sysdate, day, now, same_day]] = values(
        client, "select sysdate as sysdate_no_parens, current_date as current_date, current_timestamp as"
                " current_timestamp, current_date = trunc(sysdate) as same_day")
    assert str(sysdate).startswith(str(day)) and str(now).startswith(str(day))
    assert same_day is True


@pytest.mark.parametrize("reads", [
    "select * from read_text('{path}')", "select * from read_csv('{path}')", 'select * from "{path}"',
    "select pg_read_file('{path}')", "select * from pg_stat_file('{path}')"])
def test_sql_reads_no_file_of_the_machine(client: Any, tmp_path: Any, reads: str) -> None:
    # Redshift SQL cannot reach the cluster's files; the engines' file functions (DuckDB's readers and its
    # replacement scans, PostgreSQL's server file functions) must not give the local machine's away either.
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n")
    message = error(client, reads.format(path=secret))
    assert "hunter2" not in message
    assert message.startswith(("permission denied: the warehouse reads no file", "function ", "relation ")), message
    assert message.endswith(("does not exist", f'("{secret}")')), message


@pytest.mark.parametrize(("kind", "named"), [
    ("serial", "serial"), ("bigserial", "bigserial"), ("money", "money"), ("json", "json"), ("jsonb", "jsonb"),
    ("uuid", "uuid"), ("xml", "xml"), ("int[]", "int[]"), ("inet", "inet"), ("oid", "oid"), ("name", "name"),
    ("bytea", "bytea")])
def test_a_postgresql_type_redshift_lacks_is_refused_for_a_column(client: Any, kind: str, named: str) -> None:
    # c_unsupported-postgresql-datatypes.md; the message as reported in salsita/node-pg-migrate issue 767
    assert error(client, f"create table pgmigrations (id {kind}, name varchar(255))") == (
        f'Column "pgmigrations.id" has unsupported type "{named}".')
    ok(client, "create table kept (id int)")
    assert error(client, f"alter table kept add column extra {kind}") == (
        f'Column "kept.extra" has unsupported type "{named}".')


def test_version_is_redshifts_as_its_reference_page_shows(client: Any) -> None:
    [[version]] = values(client, "select version()")
    assert version == ("PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 20041017 (Red Hat"
                       " 3.4.2-6.fc3), Redshift 1.0.12103")
    result = client.get_statement_result(Id=ok(client, "select version()")["Id"])
    assert [column["name"] for column in result["ColumnMetadata"]] == ["version"]


def test_varbyte_and_its_aliases_are_column_types(client: Any) -> None:
    # r_VARBYTE_type.md: "Use a VARBYTE, VARBINARY, or BINARY VARYING column" (BYTEA is PostgreSQL's, refused above)
    ok(client, "create table bytes (a varbyte(8), b varbinary(8), c binary varying(8))")
    ok(client, "insert into bytes values ('ab'::varbyte, 'cd'::varbyte, 'ef'::varbyte)")
    assert values(client, "select a, b, c from bytes") == [["6162", "6364", "6566"]]


# Functions of an engine that Redshift does not have (c_unsupported-postgresql-functions.md lists STRING_AGG,
# GENERATE_SERIES; DuckDB's list_value, range, regexp_full_match, duckdb_settings are in no page of the guide):
# Redshift's `function f(argument types) does not exist` on both engines, never the engine's answer.
_ENGINE_FUNCTIONS = [
    ("select list_value(1, 2)", "function list_value(integer, integer) does not exist"),
    ("select regexp_full_match('abc', 'a.c')", "function regexp_full_match(unknown, unknown) does not exist"),
    ("select * from duckdb_settings()", "function duckdb_settings() does not exist"),
    ("select * from range(5)", "function range(integer) does not exist"),
    ("select string_agg('a', ',')", "function string_agg(unknown, unknown) does not exist"),
    ("select list_value(1::bigint, 'x'::varchar, true, null)",
     "function list_value(bigint, character varying, boolean, unknown) does not exist"),
]


@pytest.mark.parametrize(("sql", "message"), _ENGINE_FUNCTIONS, ids=[sql for sql, _ in _ENGINE_FUNCTIONS])
def test_an_engines_function_redshift_lacks_does_not_exist(client: Any, sql: str, message: str) -> None:
    assert error(client, sql) == message


def test_an_engines_function_of_a_column_names_its_types_where_the_engine_can(client: Any) -> None:
    ok(client, "create table t (a int)")
    # PostgreSQL names the column's type; DuckDB names none for a function it does not find (duckdb_errors.py)
    assert error(client, "select list_value(a, 1) from t") == (
        "function list_value(integer, integer) does not exist" if client.engine == "postgres"
        else "function list_value does not exist")


def test_generate_series_runs_on_the_leader_node_only(client: Any) -> None:
    # c_unsupported-postgresql-functions.md lists it, but "some unsupported functions will not return an error when
    # run on the leader node" (awslabs/amazon-redshift-utils' v_generate_udf_ddl calls it over pg_proc)
    assert values(client, "select * from generate_series(1, 3)") == [[1], [2], [3]]
    ok(client, "create table t (a int)")
    assert error(client, "select a, n from t, generate_series(1, 3) n") == (
        "Specified types or functions (one per INFO message) not supported on Amazon Redshift tables.")


def test_redshifts_functions_and_a_users_own_still_run(client: Any) -> None:
    # r_ABS.md, r_NVL_function.md, r_GREATEST_LEAST.md; a scalar SQL UDF (r_CREATE_FUNCTION.md's f_sql_greater)
    assert values(client, "select abs(-38), nvl(null, 'x'), greatest(1, 3, 2), pow(2, 3)") == [[38, "x", 3, 8.0]]
    ok(client, "create function f_sql_greater (float, float) returns float stable as $$"
               " select case when $1 > $2 then $1 else $2 end $$ language sql")
    assert values(client, "select f_sql_greater(1, 2)") == [[2.0]]


@pytest.mark.parametrize(("sql", "token"), [
    ("PRAGMA version", "PRAGMA"), ("FROM pg_namespace", "FROM"), ("summarize select 1", "summarize"),
    ("install httpfs", "install"), ("describe select 1", "describe"), ("checkpoint", "checkpoint"),
    ("load 'plugin'", "load")])
def test_a_statement_redshift_does_not_have_is_its_syntax_error(client: Any, sql: str, token: str) -> None:
    # c_SQL_commands.md lists Redshift's statements; DuckDB ran these (PRAGMA version answered v2.0.0)
    assert error(client, sql) == f'syntax error at or near "{token}"\n  Position: 1'


@pytest.mark.parametrize(("cast", "kind"), [
    ("'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", "uuid"), ("'{}'::jsonb", "jsonb"), ("'{}'::json", "json"),
    ("cast(1 as serial)", "serial"), ("'<a/>'::xml", "xml")])
def test_a_cast_to_a_type_redshift_does_not_have_fails(client: Any, cast: str, kind: str) -> None:
    # c_unsupported-postgresql-datatypes.md: "if a query attempts to use an unsupported data type, including
    # explicit or implicit casts, it will return an error"
    assert error(client, f"select {cast}") == f'type "{kind}" does not exist'


def test_a_cast_to_a_leader_node_type_fails_on_the_compute_nodes(client: Any) -> None:
    # c_unsupported-postgresql-datatypes.md: "some queries that use unsupported data types will run on the leader
    # node but not on the compute nodes"; the leader-node error of c_sql-functions-leader-node.md
    ok(client, "create table t (a int)")
    for cast in ("a::money", "'1.2.3.4'::inet", "'ab'::bytea"):
        assert error(client, f"select {cast} from t") == (
            "Specified types or functions (one per INFO message) not supported on Amazon Redshift tables.")
    if client.engine == "postgres":
        assert values(client, "select 1::money") == [["$1.00"]]
    else:
        assert error(client, "select 1::money").startswith("not supported locally: a cast to MONEY")


def test_alter_distkey_takes_a_column_name_without_parentheses(client: Any) -> None:
    ok(client, "create table inventory (inv_warehouse_sk int, inv_item_sk int)")
    # r_ALTER_TABLE_examples_basic.md; a real script's DISTKEY (c) is not r_ALTER_TABLE.md's syntax
    ok(client, "alter table inventory alter diststyle key distkey inv_warehouse_sk")
    ok(client, "alter table inventory alter distkey inv_item_sk")
    assert error(client, "alter table inventory alter diststyle key distkey (inv_warehouse_sk)") == (
        'syntax error at or near "("\n  Position: 51')
    assert error(client, "alter table inventory alter distkey (inv_item_sk)") == (
        'syntax error at or near "("\n  Position: 37')


def test_intervals_print_as_redshift_prints_them(client: Any) -> None:
    # r_interval_data_types.md: '1 day 1 hour 1 minute 1.123 seconds' MINUTE "gets truncated to '1 day 01:01:00'"
    # (PostgreSQL's default IntervalStyle), not Python's "1 day, 1:01:00"
    assert values(client, "select interval '1 day 1 hour 1 minute', interval '52 weeks', interval '0.5 days',"
                          " interval '1.5 seconds', '2008-12-31 03:35:00'::timestamp - '2008-12-31'::timestamp,"
                          " '2008-12-30'::timestamp - '2008-12-31 01:00:00'::timestamp") == [
        ["1 day 01:01:00", "364 days", "12:00:00", "00:00:01.5", "03:35:00", "-1 days -01:00:00"]]


def test_an_interval_of_months_prints_as_redshift_prints_it_or_is_refused(client: Any) -> None:
    if client.engine == "postgres":
        assert values(client, "select interval '1 month', interval '1 year 2 months'") == [["1 mon", "1 year 2 mons"]]
    else:  # DuckDB's client gives a month as 30 days
        assert error(client, "select interval '1 month'").startswith("not supported locally: an INTERVAL of months")
    assert values(client, "select date '2023-03-31' - interval '4 months'") == [["2022-11-30 00:00:00"]]
