"""An unaliased call's column is named after the function as written (PostgreSQL's rule, which Redshift follows),
with the names the SQL reference documents where Redshift names it otherwise: each case is the reference's example
and documented output (r_CHARINDEX.md, r_POSITION.md, r_STRPOS.md, r_MOD.md, r_LOG.md, r_TRIM.md, r_TO_HEX.md)."""

from __future__ import annotations

import pytest

from tests.unit.translate.conftest import run_script


@pytest.mark.parametrize(("query", "name", "value"), [
    ("select charindex('fish', 'dogfish')", "charindex", 4),
    ("select position('fish' in 'dogfish')", "position", 4),
    ("select strpos('dogfish', 'fish')", "strpos", 4),
    ("SELECT MOD(10, 4)", "mod", 2),
    ("select log(100)", "dlog10", 2),
    ("select trim('\"' FROM '\"dog\"')", "btrim", "dog"),
    ("select to_hex(2147676847)", "to_hex", "8002f2af"),
])
def test_documented_column_names(duckdb_session, query: str, name: str, value: object) -> None:
    result = run_script(duckdb_session, query)
    assert [column.name for column in result.columns] == [name]
    assert result.rows[0][0] == value


def test_an_operator_stays_unnamed(duckdb_session) -> None:
    assert [column.name for column in run_script(duckdb_session, "select 10 % 4").columns] == ["?column?"]


def test_nvl_is_named_coalesce(duckdb_session) -> None:
    # r_NVL_function.md: select nvl(start_date, end_date) ... is shown under "coalesce"
    run_script(duckdb_session, "create table datetable (start_date date, end_date date);"
                               "insert into datetable values ('2008-06-01', '2008-12-31');")
    assert [c.name for c in run_script(duckdb_session, "select nvl(start_date, end_date) from datetable").columns] \
        == ["coalesce"]


def test_at_time_zone_is_named_by_its_type(session) -> None:
    # r_AT_TIME_ZONE.md: a TIMESTAMP AT TIME ZONE is shown under "timestamptz", a TIMESTAMPTZ one under "timestamp"
    result = run_script(session, "SELECT TIMESTAMP '2001-02-16 20:38:40' AT TIME ZONE 'MST',"
                                 " TIMESTAMP WITH TIME ZONE '2001-02-16 20:38:40-05' AT TIME ZONE 'MST'")
    assert [column.name for column in result.columns] == ["timestamptz", "timestamp"]
    assert str(result.rows[0][1]) == "2001-02-16 18:38:40"
