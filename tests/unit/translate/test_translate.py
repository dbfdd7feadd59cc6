"""translate() on its own: what each kind of statement becomes, and what is refused with which message."""

from __future__ import annotations

import pytest

from shiftflow.dataapi.translate import (EngineSql, NotSupportedLocally, S3Command, SqlSyntaxError, TransactionControl,
                                         translate)


@pytest.mark.parametrize(("statement", "action"), [
    ("BEGIN", "begin"), ("begin transaction", "begin"), ("BEGIN WORK", "begin"), ("start transaction", "begin"),
    ("begin transaction isolation level serializable read write", "begin"),
    ("COMMIT", "commit"), ("commit work", "commit"), ("END", "commit"), ("end transaction", "commit"),
    ("ROLLBACK", "rollback"), ("rollback transaction", "rollback"), ("ABORT", "rollback"), ("abort work", "rollback"),
])
@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_transaction_control(statement, action, engine):
    assert translate(statement, engine) == TransactionControl(action)


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_parameters_become_engine_placeholders_in_order_of_use(engine):
    sql = translate("select :b::date, x::int, ':a' /* :c */ from t where y = :a and z like '50%' and w = :b", engine)
    assert isinstance(sql, EngineSql)
    assert sql.parameter_names == ("b", "a")
    if engine == "duckdb":
        assert "$b" in sql.text and "$a" in sql.text and "'50%'" in sql.text
    else:
        assert "%(b)s" in sql.text and "%(a)s" in sql.text and "'50%%'" in sql.text
    assert "':a'" in sql.text and "/* :c */" in sql.text  # the string and the comment are left alone


def test_postgres_modulo_is_escaped_for_psycopg():
    assert translate("select 7 % 3", "postgres").text == "SELECT 7 %% 3"


@pytest.mark.parametrize("statement", [
    "create table t (a int distkey sortkey encode zstd, b int encode auto) interleaved sortkey (a, b)",
    "create table t (a int, b int) sortkey auto encode auto diststyle auto",
    "create table t (a int, primary key (a), constraint u unique (b), b int references o (x)) "
    "diststyle key distkey (a) compound sortkey (a, b) backup no",
])
@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_table_attributes_and_constraints_are_dropped(statement, engine):
    text = translate(statement, engine).text.upper()
    for word in ("DISTKEY", "SORTKEY", "DISTSTYLE", "ENCODE", "BACKUP", "PRIMARY", "UNIQUE", "REFERENCES",
                 "INTERLEAVED"):
        assert word not in text
    assert text.startswith("CREATE TABLE T (A INT")


def test_column_named_like_an_attribute_is_kept():
    assert translate("create table t (distkey int, sortkey int)", "duckdb").text == \
        "CREATE TABLE t (distkey INT, sortkey INT)"


def test_identity_on_duckdb_uses_a_sequence():
    text = translate("create table s.t (id bigint identity(10, 5), a int)", "duckdb").text
    assert text.startswith('CREATE OR REPLACE SEQUENCE "s"."t_id_identity_seq" START WITH 10 INCREMENT BY 5 ')
    assert "DEFAULT NEXTVAL('\"s\".\"t_id_identity_seq\"')" in text


def test_copy_and_unload_are_parsed():
    copy = translate("COPY public.t (a, b) FROM 's3://b/k/' IAM_ROLE 'arn' CSV QUOTE AS '''' "
                     "DELIMITER AS '\\t' NULL AS '\\N' IGNOREHEADER AS 2 GZIP", "duckdb")
    assert copy == S3Command(kind="copy", url="s3://b/k/", table="public.t", columns=("a", "b"), options=(
        ("IAM_ROLE", "arn"), ("CSV", ""), ("QUOTE", "'"), ("DELIMITER", "\\t"), ("NULL", "\\N"),
        ("IGNOREHEADER", "2"), ("GZIP", "")))
    unload = translate("unload ('select * from t where a = \\'x\\' and b = ''y''') to 's3://b/o/' "
                       "iam_role default format as parquet maxfilesize 100 mb", "postgres")
    assert unload.kind == "unload" and unload.url == "s3://b/o/"
    assert unload.query == "select * from t where a = 'x' and b = 'y'"
    assert unload.options == (("IAM_ROLE", "DEFAULT"), ("PARQUET", ""), ("MAXFILESIZE", "100 MB"))


@pytest.mark.parametrize(("statement", "engine", "message"), [
    ("select a::hllsketch from t", "duckdb", "an HLLSKETCH read from text"),
    ("select a::geometry from t", "postgres", "GEOMETRY type"),
    ("grant create user to role r", "duckdb", "system privileges"),
    ("create procedure p() as $$ begin null; end; $$ language plpythonu", "duckdb",
     "stored procedures in LANGUAGE plpythonu"),
    ("create procedure p() nonatomic as $$ begin null; end; $$ language plpgsql", "postgres",
     "NONATOMIC procedures"),
    ("select 1; select 2", "duckdb", "more than one statement in one call"),
    # r_create_model_use_cases.md: a model's FUNCTION clause is no CREATE FUNCTION
    ("CREATE MODEL remote_customer_churn FUNCTION remote_fn_customer_churn_predict (varchar, int, float, float)"
     " RETURNS int SAGEMAKER 'customer-churn-endpoint' IAM_ROLE default", "postgres", "CREATE MODEL"),
])
def test_not_supported_locally_messages(statement, engine, message):
    with pytest.raises(NotSupportedLocally) as raised:
        translate(statement, engine)
    assert str(raised.value).startswith(f"not supported locally: {message}")


@pytest.mark.parametrize(("statement", "message"), [
    # r_DATEDIFF_function.md's example has a stray quote: Redshift's lexer reports where the string starts
    ("select datediff(hour, ''2023-01-01', '2023-01-03 05:04:03')",
     'unterminated quoted string at or near "\')"\n  Position: 58'),
    ('select 1,\n  2, "abc', 'unterminated quoted identifier at or near ""abc"\n  Position: 16'),
    ("select $x$ abc", 'unterminated dollar-quoted string at or near "$x$ abc"\n  Position: 8'),
    ("select 1 /* c", 'unterminated /* comment at or near "/* c"\n  Position: 10'),
])
@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_text_that_never_ends_is_a_syntax_error_with_its_position(statement, message, engine):
    with pytest.raises(SqlSyntaxError) as raised:
        translate(statement, engine)
    assert str(raised.value) == message


def test_unknown_engine_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown engine 'sqlite'"):
        translate("select 1", "sqlite")


def test_grant_runs_as_written_on_postgres():
    assert translate("grant select on t to group analysts", "postgres").text == "GRANT SELECT ON t TO GROUP analysts"


def test_what_sqlglot_would_drop_is_refused():
    # (IGNORE NULLS of LAG & co runs on PostgreSQL: test_aggregates.py; of any other window function not)
    with pytest.raises(NotSupportedLocally, match="IGNORE NULLS"):
        translate("select max(n) ignore nulls over (order by a) from t", "postgres")
    with pytest.raises(NotSupportedLocally, match="SIMILAR TO with a computed pattern"):
        translate("select 1 from t where a similar to b", "duckdb")


@pytest.mark.parametrize("statement", [
    "alter table t alter distkey a", "alter table t alter sortkey (a, b)", "alter table t alter sortkey none",
    "alter table t alter diststyle even", "alter table t alter interleaved sortkey (a)",
    "alter table t alter encode auto", "alter table t alter column b encode zstd",
    "analyze t", "vacuum sort only t",  # ANALYZE COMPRESSION returns a report: test_refused.py
])
@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_layout_only_statements_are_no_ops(statement, engine):
    from shiftflow.dataapi.translate.setup import NO_OP

    translated = translate(statement, engine)  # the engine runs nothing; ALTER TABLE's change is kept
    assert translated.text == NO_OP[engine]  # (test_declarations.py)
    assert (translated.declares is not None) == statement.startswith("alter")


@pytest.mark.parametrize(("statement", "expected"), [
    ("alter table t add column c varchar(10) encode zstd default 'x'",
     "ALTER TABLE t ADD COLUMN c TEXT DEFAULT 'x'"),
    ("create local temp table z (a float(20))", "CREATE TEMPORARY TABLE z (a DOUBLE)"),
])
def test_more_redshift_ddl_on_duckdb(statement, expected):
    assert translate(statement, "duckdb").text == expected


@pytest.mark.parametrize(("statement", "message"), [
    ("create external schema s from data catalog database 'd' iam_role 'r'", "external schemas and tables"),
    ("create external table s.t (a int) location 's3://b/'", "external schemas and tables"),
])
@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_redshift_only_statements_are_refused(statement, message, engine):
    with pytest.raises(NotSupportedLocally, match=message):
        translate(statement, engine)


def test_nonatomic_procedures_are_refused():
    with pytest.raises(NotSupportedLocally, match="NONATOMIC procedures"):
        translate("create procedure p() nonatomic as $$ begin null; end; $$ language plpgsql", "postgres")


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_truncate_is_marked_as_committing(engine):
    assert translate("truncate table s.t", engine).commits is True
    assert translate("delete from s.t", engine).commits is False


def test_sized_strings_get_a_byte_length_check():
    duck = translate("create table t (v varchar(10), w varchar(max), x char(2), y varchar)", "duckdb").text
    assert duck.count("CHECK") == 2 and "STRLEN(\"v\") > 10" in duck and "character(2)" in duck
    pg = translate("alter table t add column v varchar(10)", "postgres").text
    assert "OCTET_LENGTH(\"v\") > 10" in pg and "public.shiftflow_raise('value too long for type character varying(10)')" in pg
    assert "CHECK" not in translate("alter table t add column v varchar(10)", "duckdb").text


def test_text_to_integer_casts_are_checked_on_duckdb():
    assert translate("select x::int, 3::bigint, cast(y as smallint), 1.5::int", "duckdb").text.count(
        "SHIFTFLOW_INTEGER_TEXT") == 2
    assert "SHIFTFLOW_INTEGER_TEXT" not in translate("select x::int", "postgres").text


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_lock_is_a_no_op(engine):
    assert "LOCK" not in translate("lock table a, b", engine).text.upper()


def _engine_drop(translated):
    """The engine's DROP inside the commands around it (principals' Guarded, declarations' Declaring, views' checks)."""
    while "drop" not in getattr(translated, "__dataclass_fields__", {}):
        translated = translated.inner
    return translated.drop


def test_drop_of_several_tables_is_one_drop_each_on_duckdb():
    # A CheckedDrop (views.py: Redshift's dependency check) around the engine's drops.
    assert _engine_drop(translate("drop table if exists a, s.b cascade", "duckdb")).text == \
        "DROP TABLE IF EXISTS a CASCADE;\nDROP TABLE IF EXISTS s.b CASCADE"
    assert _engine_drop(translate("drop table a, b", "postgres")).text == "DROP TABLE a, b"
