"""benchmarks/sql_corpus.py on a corpus made here: a reference page with documented outputs and a folder of
scripts, each outcome kind from its own statement."""

from __future__ import annotations

from pathlib import Path

from benchmarks import sql_corpus

PAGE = """# MOD function<a name="r_MOD"></a>

## Syntax

```
MOD(number1, number2)
```

## Examples<a name="r_MOD-examples"></a>

```
SELECT MOD(10, 4);

 mod
------
 2
```

```
select 7 / 2;

 ?column?
----------
 4
```

```
SELECT COALESCE(NULL, 'Amazon Redshift', 12);

ERROR: invalid input syntax for integer: "Amazon Redshift"
```

```
select count(*) from sales;

 count
-------
 172456
```

```
select change_query_priority(1076, 'Critical');

 change_query_priority
------------------------
 Succeeded
```
"""

DDL = "create table orders (o_orderkey bigint, o_totalprice decimal(12,2));\n"
QUERIES = ("select sum(o_totalprice) from orders;\nselect * from lineitem;\n"
           "copy orders from 's3://bucket/orders/' iam_role default;\n")
TEMPLATE = "select {{ column }} from orders;\n"  # a dbt macro: a template, not SQL as written


def _corpus(root: Path) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "r_MOD.md").write_text(PAGE)
    (root / "kit" / "queries").mkdir(parents=True)
    (root / "kit" / "ddl.sql").write_text(DDL)
    (root / "kit" / "queries" / "q1.sql").write_text(QUERIES)
    (root / "kit" / "queries" / "q2.sql").write_text(TEMPLATE)
    return root


def test_each_outcome_kind(tmp_path: Path) -> None:
    outcomes = sql_corpus.measure(_corpus(tmp_path))
    kinds = {(o.example.source, " ".join(o.example.sql.lower().split()[:3])): o.kind
             for o in outcomes if not o.example.setup}
    assert kinds == {
        ("docs", "select mod(10, 4)"): "same",
        ("docs", "select 7 /"): "wrong",  # integer division: 3, not the page's (altered) 4
        ("docs", "select coalesce(null, 'amazon"): "same",  # fails as documented
        ("docs", "select count(*) from"): "ran",  # reads the TICKIT sample: not compared
        ("docs", "select change_query_priority(1076, 'critical')"): "internals",  # the workload manager's
        ("kit", "create table orders"): "ran",
        ("kit", "select sum(o_totalprice) from"): "ran",
        ("kit", "select * from"): "missing",
        ("kit", "copy orders from"): "s3",
        ("kit", "-- jinja template"): "template",
    }
    figures = sql_corpus.figures(outcomes)
    assert figures["all"]["total"] == 10 and figures["docs"]["same"] == 2 and figures["kit"]["missing"] == 1
    # judged: 10 less missing, s3, template and the internals' refusal = 6; ran as on Redshift: 5 (the wrong one not)
    assert sql_corpus._as_redshift(figures["all"]) == (5 / 6, 5 / 6)


def test_a_refusal_is_internals_only_when_it_needs_redshift_or_another_service() -> None:
    example = sql_corpus.Example(source="docs", location="r_X.md:1", sql="select 1")
    kinds = {message: sql_corpus._refusal(example, message).kind for message in (
        "not supported locally: system table stl_query",
        "not supported locally: external schemas and tables (Redshift Spectrum)",
        "not supported locally: COPY from 'dynamodb://t' (only s3:// sources)",
        "not supported locally: COPY from 's3://b/k' with MANIFEST",  # an S3 source: a gap of the emulator
        "not supported locally: GEOMETRY type",
        "not supported locally: SHOW TABLE (Redshift's listing of its objects)",
        "not supported locally: size() (the byte size of Redshift's in-memory SUPER encoding, which is not documented)")}
    assert [kind for kind in kinds.values()] == ["internals", "internals", "internals", "unsupported", "unsupported",
                                                 "unsupported", "internals"]


ARTEFACTS_PAGE = r"""# Examples<a name="r_X-examples"></a>

```
select md5('\\'||'slashpass');

md5
--------------------------------
0c983d1a624280812631c5389e60d48c
```

```
drop function f_sqrt(int);
```

```
SHOW app_context.user_id;
```

```
select obj_description('public.sales'::regclass);
```

```
select sum(qtysold) / (count(*) - 2) from sales;
```

```
create table t (a int);
select count(*) / (count(*) - 0) from t;
```
"""


def test_what_the_corpus_lacks_is_not_the_emulators_failure(tmp_path: Path) -> None:
    # code blocks are SQL as written (two backslashes); a DROP FUNCTION of a function the page never makes, a context
    # variable it never sets, public.<TICKIT table> (the sample lives in its own schema): missing; a division by zero
    # on the sample's rows: Redshift raises it on those rows too; on a table the page made, an error
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "r_X_examples.md").write_text(ARTEFACTS_PAGE)
    outcomes = [o for o in sql_corpus.measure(tmp_path) if not o.example.setup]
    assert [(o.example.sql.split()[0].lower(), o.kind) for o in outcomes] == [
        ("select", "same"), ("drop", "missing"), ("show", "missing"), ("select", "missing"), ("select", "ran"),
        ("create", "ran"), ("select", "error")]


SCHEMAS_PAGE = """# CURRENT_SCHEMAS function<a name="r_CURRENT_SCHEMAS"></a>

## Examples<a name="r_CURRENT_SCHEMAS-examples"></a>

```
select current_schemas(false);

current_schemas
---------
{public}
```
"""


def test_the_sample_schema_behind_public_is_not_part_of_a_documented_search_path(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "r_CURRENT_SCHEMAS.md").write_text(SCHEMAS_PAGE)
    assert [outcome.kind for outcome in sql_corpus.measure(tmp_path)] == ["same"]


FAILING_PAGE = """# Examples with numeric types<a name="r_Examples_with_numeric_types201"></a>

```
create table film (language_id smallint);
```

The range for SMALLINT is -32768 to +32767, so Amazon Redshift returns an error.

```
insert into film(language_id) values(33000);
```

```
An error occurred when executing the SQL command:
insert into film(language_id) values(33000)

ERROR: smallint out of range [SQL State=22003]
```
"""


def test_a_block_that_shows_the_statement_before_it_failing_documents_its_error(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "r_Examples_with_numeric_types201.md").write_text(FAILING_PAGE)
    outcomes = sql_corpus.measure(tmp_path)
    assert [(o.example.sql.split()[0], o.kind) for o in outcomes] == [("create", "ran"), ("insert", "same")]
    assert outcomes[1].example.expected_error.startswith("ERROR: smallint out of range")


USERS_PAGE = """# CREATE USER<a name="r_CREATE_USER"></a>

## Examples<a name="r_CREATE_USER-examples"></a>

```
create user h13_corpus_user password 'abcD1234';
```

```
grant select on table event to h13_corpus_nobody;
```
"""


def test_postgres_groups_keep_their_users_to_themselves(tmp_path: Path) -> None:
    # Two pages create the same user: each runs on PostgreSQL as on a cluster of its own (roles are the server's);
    # a grant to a user no page creates is the corpus's lack, as a missing table is.
    (tmp_path / "docs").mkdir()
    for page in ("r_CREATE_USER.md", "r_CREATE_USER_again.md"):
        (tmp_path / "docs" / page).write_text(USERS_PAGE)
    outcomes = sql_corpus.measure(tmp_path, "postgres")
    assert [(o.example.sql.split()[0], o.kind) for o in outcomes] == [("create", "ran"), ("grant", "missing")] * 2
    assert 'user "h13_corpus_nobody" does not exist' in outcomes[1].detail


def test_a_timestamptz_matches_the_same_instant_in_another_time_zone() -> None:
    # r_AT_TIME_ZONE's outputs were printed in a session on Pacific time; the emulator's session is on UTC
    assert sql_corpus._cell_equal("2001-02-17 03:38:40+00", "2001-02-16 19:38:40-08")
    assert not sql_corpus._cell_equal("2001-02-17 03:38:40+00", "2001-02-16 19:38:41-08")
    assert not sql_corpus._cell_equal("2001-02-17 03:38:40", "2001-02-16 19:38:40-08")


def test_a_function_the_corpus_failed_to_create_is_missing_on_both_engines() -> None:
    lineage = sql_corpus.Lineage(functions={"exfunc_sum"})
    for message in ("Catalog Error: Scalar Function with name exfunc_sum does not exist!",
                    "function exfunc_sum(integer, integer) does not exist"):
        assert sql_corpus._corpus_lacks(message, "select exfunc_sum(1, 2)", lineage)
    assert not sql_corpus._corpus_lacks("function nosuch(integer) does not exist", "select nosuch(1)", lineage)
CATALOG_PAGE = """# PG_TABLE_DEF<a name="r_PG_TABLE_DEF"></a>

## Examples<a name="r_PG_TABLE_DEF-example"></a>

```
select "column", sortkey from pg_table_def where tablename = 'lineorder';

column | sortkey
-------+--------
lo_orderkey | 1
```

```
create temp table tempevent(like event);
```

```
select "column", "notnull" from pg_table_def where tablename = 'tempevent' and "column" = 'eventid';

column | notnull
-------+--------
eventid | t
```

```
show table public.category;
```
"""


def test_catalog_queries_read_the_tables_they_name(tmp_path: Path) -> None:
    # a table the page never creates is missing; a LIKE copy of a sample table shows the sample's definition;
    # public.category is not the sample's (it lives in its own schema)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "r_PG_TABLE_DEF.md").write_text(CATALOG_PAGE)
    assert [outcome.kind for outcome in sql_corpus.measure(tmp_path)] == ["missing", "ran", "ran", "missing"]


def test_an_rsql_variable_that_starts_the_statement_makes_it_a_template() -> None:
    # aws-samples/redshift-benchmarks' TPC-H queries: `:EXPLAIN` is rsql's variable, set to EXPLAIN or nothing
    assert sql_corpus._has_psql_variables(":EXPLAIN\nselect l_returnflag from lineitem")
    assert not sql_corpus._has_psql_variables("select '1'::int, x::varchar from t")


def test_refreshing_a_materialized_view_whose_create_was_refused_is_missing() -> None:
    lineage = sql_corpus.Lineage()
    lineage.record("CREATE MATERIALIZED VIEW mv77_01_good AUTO REFRESH YES AS SELECT 1 AS a", "unsupported")
    assert sql_corpus._corpus_lacks('materialized view "mv77_01_good" does not exist',
                                    "REFRESH MATERIALIZED VIEW mv77_01_good", lineage)
    lineage.record("CREATE MATERIALIZED VIEW mv_made AS SELECT 1 AS a", "ran")
    assert not sql_corpus._corpus_lacks('materialized view "mv_made" does not exist',
                                        "REFRESH MATERIALIZED VIEW mv_made", lineage)


CURSOR_PAGE = """# FETCH

## Examples

```
begin;

declare lollapalooza cursor for
select eventname, starttime from event
where eventname='Lollapalooza';

-- Fetch the next row:
fetch next from lollapalooza;

  eventname   |      starttime
--------------+---------------------
 Lollapalooza | 2008-10-06 14:00:00
```

```
select pg_last_copy_count();

pg_last_copy_count
--------------------
             192497
```
"""


def test_pages_beyond_the_sql_reference_and_what_they_read(tmp_path: Path) -> None:
    # fetch.md, PG_LAST_COPY_COUNT.md (no r_ prefix) are read for their documented outputs; a page without one
    # (a guide's prose) is not. A cursor over the TICKIT sample holds the sample's rows; the last COPY of a session
    # the page does not show is missing.
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "fetch.md").write_text(CURSOR_PAGE)
    (tmp_path / "docs" / "c_guide.md").write_text("# A guide\n\n## Example\n\n```\nselect 1;\n```\n")
    outcomes = sql_corpus.measure(tmp_path)
    assert [(o.example.location.split(":")[0], o.kind) for o in outcomes] == [
        ("fetch.md", "ran"), ("fetch.md", "ran"), ("fetch.md", "ran"), ("fetch.md", "missing")]


def test_sql_workbench_reporting_a_failure_without_its_error_documents_a_failure(tmp_path: Path) -> None:
    # JSON_ARRAY_LENGTH.md: the statement, SQL Workbench's line, the statement repeated (counted once)
    page = tmp_path / "JSON_ARRAY_LENGTH.md"
    page.write_text("# J\n\n## Examples\n\n```\nselect json_array_length('[1,2');\n \n"
                    "An error occurred when executing the SQL command:\nselect json_array_length('[1,2')\n```\n")
    [example] = sql_corpus.page_examples(page, "docs")
    assert example.sql.startswith("select json_array_length") and example.expected_error


def test_a_database_the_corpus_never_creates_is_missing() -> None:
    # a datashare's or a zero-ETL integration's database (the second corpus) is missing; one the page created
    # (cross-database_example.md's CREATE DATABASE db1) is the emulator's refusal of a cross-database query
    from shiftflow.dataapi.engines.duckdb import DuckDBEngine

    lineage, session = sql_corpus.Lineage(), sql_corpus.CorpusSession(DuckDBEngine())
    example = sql_corpus.Example("x", "x.sql:1", "select * from aurora_source.public.customers")
    assert sql_corpus._run_one(session, example, lineage).kind == "missing"
    lineage.own.add("aurora_source")
    assert sql_corpus._run_one(session, example, lineage).kind == "unsupported"
    session.close()


def test_a_null_row_the_page_prints_as_nothing_is_the_same(tmp_path: Path) -> None:
    # JSON_ARRAY_LENGTH.md: null_if_invalid's NULL, shown as a header and dashes with no row after them
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "JSON_ARRAY_LENGTH.md").write_text(
        "# J\n\n## Examples\n\n```\nselect json_array_length('[1,2',true);\n\njson_array_length\n"
        "-----------------\n```\n")
    assert [outcome.kind for outcome in sql_corpus.measure(tmp_path)] == ["same"]
