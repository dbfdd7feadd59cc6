"""Implicit conversion of string functions' arguments (functions/conversions.py), from the SQL reference's own
examples (r_SUBSTRING.md, r_STRPOS.md, r_REPEAT.md, r_DATE_TRUNC.md) on the rows their outputs show."""

from __future__ import annotations

import pytest

from tests.unit.translate.conftest import run_script

LISTING = """
create table listing (listid integer, listtime timestamp);
insert into listing values (1, '2008-01-24 06:43:29'), (2, '2008-03-05 12:25:29'), (3, '2008-11-01 07:35:33');
"""


def test_substring_of_a_timestamp_reads_its_text(duckdb_session) -> None:
    # r_SUBSTRING.md: "returns the month from the LISTTIME string in the LISTING table"
    run_script(duckdb_session, LISTING)
    for query in ("select listid, listtime, substring(listtime, 6, 2) as month from listing order by 1, 2, 3",
                  "select listid, listtime, substring(listtime from 6 for 2) as month from listing order by 1, 2, 3"):
        rows = run_script(duckdb_session, query).rows
        assert [(row[0], row[2]) for row in rows] == [(1, "01"), (2, "03"), (3, "11")]


def test_strpos_of_a_decimal_and_repeat_of_a_smallint(duckdb_session) -> None:
    # r_STRPOS.md: strpos(commission, '.') is 5 for a commission over 999.00; r_REPEAT.md: repeat(catid, 3)
    run_script(duckdb_session, "create table sales (commission decimal(8,2), catid smallint);"
                               "insert into sales values (1234.50, 10), (99.95, 1);")
    rows = run_script(duckdb_session, "select strpos(commission, '.'), repeat(catid, 3) from sales order by 1").rows
    assert rows == [(3, "111"), (5, "101010")]


def test_like_on_a_timestamp_matches_its_text(duckdb_session) -> None:
    # r_DATE_TRUNC.md: where saletime like '2008-09%'
    run_script(duckdb_session, "create table sales (saletime timestamp, pricepaid decimal(8,2));"
                               "insert into sales values ('2008-09-02 10:00:00', 10.00), ('2008-08-30 10:00:00', 5.00);")
    rows = run_script(duckdb_session, "select sum(pricepaid) from sales where saletime like '2008-09%'").rows
    assert [str(rows[0][0])] == ["10.00"]


def test_varbyte_arguments_fail_plainly(duckdb_session) -> None:
    # Redshift's string functions of a VARBYTE are VARBYTE (r_SUBSTRING.md): never the value's text instead.
    run_script(duckdb_session, "create table b (v varbyte(10)); insert into b values ('abc'::varbyte)")
    with pytest.raises(Exception, match="not supported locally: a string function of a VARBYTE value"):
        run_script(duckdb_session, "select substring(v, 2, 1) from b")


def test_text_arguments_are_left_as_written() -> None:
    from shiftflow.dataapi.translate import translate

    text = translate("select upper('x'), strpos(name || 'a', 'a'), substring(cast(n as varchar), 1, 2) from t",
                     "duckdb").text
    assert "SHIFTFLOW_TEXT" not in text.upper()


def test_substring_of_varbyte_from_the_reference(duckdb_session):
    # r_SUBSTRING.md: 616263, 616263, 63, 6263, 62 (the bytes printed as hex).
    result = run_script(duckdb_session, "select substring('abc'::varbyte, -3), substring('abc'::varbyte, 1),"
                                        " substring('abc'::varbyte, 3), substring('abc'::varbyte, 2, 10),"
                                        " substring('abc'::varbyte, 2, 1)")
    assert result.rows == [(b"abc", b"abc", b"c", b"bc", b"b")]
    assert {c.type_name for c in result.columns} == {"varbyte"}
