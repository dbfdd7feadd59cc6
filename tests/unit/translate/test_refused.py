"""Statements of the SQL reference's examples that no local engine can answer as Redshift does: each fails with
"not supported locally: <what>" instead of a silently different answer (no result set, true, an empty text)."""

from __future__ import annotations

import pytest

from shiftflow.dataapi.translate import NotSupportedLocally, translate
from tests.unit.translate.conftest import run_script


@pytest.mark.parametrize(("statement", "what"), [
    # r_ANALYZE_COMPRESSION.md: a report of suggested encodings, not a no-op like ANALYZE
    ("analyze compression listing", "ANALYZE COMPRESSION"),
    ("analyze compression sales(qtysold, commission, saletime)", "ANALYZE COMPRESSION"),
    # r_ALTER_TABLE_external-table.md
    ("alter table spectrum.sales set table properties ('numRows'='170000')", "Redshift Spectrum"),
    ("alter table spectrum.sales set location 's3://awssampledbuswest2/tickit/spectrum/sales/'", "Redshift Spectrum"),
    ("alter table spectrum.sales set file format parquet", "Redshift Spectrum"),
    ("alter table spectrum.sales_part add if not exists partition(saledate='2008-01-01') "
     "location 's3://awssampledbuswest2/tickit/spectrum/sales_partition/saledate=2008-01/'", "Redshift Spectrum"),
    ("alter table spectrum.sales_part drop partition(saledate='2008-01-01')", "Redshift Spectrum"),
    # r_PG_DEFAULT_ACL.md: Redshift's default privileges
    ("select defaclacl from pg_catalog.pg_default_acl", "system table pg_default_acl"),
    # amazon-redshift-utils' v_check_transaction_locks: Redshift's sessions and locks (PostgreSQL 8.0's columns)
    ("select l.pid, a.usename from pg_catalog.pg_locks l join pg_catalog.pg_stat_activity a on a.procpid = l.pid",
     "system table pg_(locks|stat_activity)"),
    # redshift_polizei's table reports read Redshift's own catalog columns
    ("select trim(c.relname), a.attname, abs(a.attsortkeyord) as attsortkeyord, a.attisdistkey from pg_class c"
     " join pg_attribute a on a.attrelid = c.oid where (a.attsortkeyord != 0 or a.attisdistkey is true)",
     r"pg_attribute\.att(sortkeyord|isdistkey) \(Redshift's own catalog column"),
    ("select decode(c.reldiststyle, 0, 'even', 1, 'key', 8, 'all') from pg_class c", r"pg_class\.reldiststyle"),
    # the cluster's settings (PostgreSQL's server would say max_connections is 100)
    ("SELECT setting AS max_connections FROM pg_settings WHERE name = 'max_connections'", "system table pg_settings"),
    # r_CURRENT_AWS_ACCOUNT.md, r_CURRENT_NAMESPACE.md
    ("select user, current_aws_account", "current_aws_account"), ("select current_namespace", "current_namespace"),
    # redshift-utils' privilege reports read the catalog's access lists
    ("select relname from pg_class c where aclcontains(c.relacl, makeaclitem(1, 0, 1, 'SELECT', false))",
     "privileges"),
    ("prepare p (int) as select relacl::aclitem[] from pg_class where relowner = $1", "privileges"),
    # aws-samples-style grant checks read the access lists themselves (the engines' would name their own roles)
    ("SELECT nspname, nspacl FROM pg_namespace WHERE nspname IN ('analytics','rpt','staging','public')",
     "privileges"),
    ("select relname, relacl from pg_class where relname = 'sales'", "privileges"),
    # r_CANCEL.md: another session's running query, by its process id (not a syntax error)
    ("cancel 802", "CANCEL of another session's query"),
    ("cancel 802 'Long-running query'", "CANCEL of another session's query"),
    # r_CREATE_DATABASE.md: a case-insensitive database
    ("create database sampledb collate case_insensitive", r"CREATE DATABASE \.\.\. COLLATE"),
    # r_ALTER_DATABASE.md, r_CREATE_DATABASE.md, r_CREATE_SCHEMA.md, r_ALTER_SCHEMA.md, r_ALTER_MATERIALIZED_VIEW.md:
    # Redshift's clauses, refused alike on both engines
    ("ALTER DATABASE sampledb COLLATE CASE_INSENSITIVE", r"ALTER DATABASE \.\.\. COLLATE"),
    ("ALTER DATABASE sampledb ISOLATION LEVEL SNAPSHOT", r"ALTER DATABASE \.\.\. ISOLATION LEVEL"),
    ("CREATE DATABASE sampledb ISOLATION LEVEL SNAPSHOT", r"CREATE DATABASE \.\.\. ISOLATION LEVEL"),
    ("CREATE DATABASE sales_db FROM DATASHARE salesshare OF NAMESPACE '13b8833d-17c6-4f16-8fe4-1a018f5ed00d'",
     "datashares"),
    ("create schema us_sales authorization dwuser QUOTA 50 GB", "schema QUOTA"),
    ("alter schema us_sales QUOTA 300 GB", "schema QUOTA"), ("alter schema us_sales QUOTA UNLIMITED", "schema QUOTA"),
    ("ALTER MATERIALIZED VIEW tickets_mv AUTO REFRESH YES", "ALTER MATERIALIZED VIEW ... AUTO REFRESH"),
    # r_SHOW_VIEW.md: Redshift's normalized text of the view's query (SHOW TABLE: test_declarations.py)
    ("show view LA_Venues_v", "SHOW VIEW .*normalized text"),
    # r_EXPLAIN.md: Redshift's plan (XN Merge, DS_DIST_NONE ...); PostgreSQL's own plan would be another answer
    ("explain select eventname, count(*) from event group by eventname", "EXPLAIN statement"),
    ("EXPLAIN UPDATE dim_employee SET salary = s.new_salary, updated_at = SYSDATE FROM stg_salary_updates s"
     " WHERE dim_employee.emp_id = s.emp_id", "EXPLAIN statement"),
])
@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_redshift_only_statements(statement: str, what: str, engine: str) -> None:
    with pytest.raises(NotSupportedLocally, match=what):
        translate(statement, engine)


@pytest.mark.parametrize("query", [
    # Redshift's workload management and identity functions (r_CHANGE_QUERY_PRIORITY.md, r_DEFAULT_IAM_ROLE.md ...)
    "select change_query_priority(1076, 'Critical')", "select change_session_priority(30311, 'Lowest')",
    "select change_user_priority('analysis_user', 'lowest')", "select default_iam_role()",
    "select text_to_int_alt('123{', '999S')",
])
def test_catalog_functions_duckdb_cannot_answer(duckdb_session, query: str) -> None:
    with pytest.raises(NotSupportedLocally, match="not supported locally"):
        run_script(duckdb_session, query)


def test_plain_analyze_and_alter_table_still_run(duckdb_session) -> None:
    run_script(duckdb_session, "create table listing (listid int); analyze listing; alter table listing add column n int")
    assert [c.name for c in run_script(duckdb_session, "select * from listing").columns] == ["listid", "n"]


def test_drop_database_is_refused_on_duckdb() -> None:
    # r_DROP_DATABASE.md: drop database tickit_test (PostgreSQL drops its own database of that name)
    with pytest.raises(NotSupportedLocally, match="DROP DATABASE on the DuckDB engine"):
        translate("drop database tickit_test", "duckdb")
