"""Redshift functions and names the PostgreSQL engine lacked (and the DuckDB engine had), on both engines, from the
SQL reference's examples and documented outputs."""

from __future__ import annotations

import datetime as dt

from tests.unit.translate.conftest import run_script

_SALES = ("create table s (commission decimal(8,2), listtime timestamp, catid smallint, salesid integer);"
          "insert into s values (10.50, '2008-09-18 02:36:48', 3, 21), (109.20, '2008-01-24 06:43:29', 9, 72);")


def test_string_functions_read_numbers_and_datetimes_as_text(session):
    # r_LTRIM.md, r_SUBSTRING.md, r_REPEAT.md, r_REVERSE.md, r_DATE_TRUNC.md (saletime like '2008-09%').
    result = run_script(session, _SALES + "select ltrim(listtime, '2008-'), substring(listtime, 6, 2), repeat(catid, 3),"
                                          " reverse(salesid), listtime like '2008-09%' from s order by 1")
    assert result.rows == [("1-24 06:43:29", "01", "999", "27", False), ("9-18 02:36:48", "09", "333", "12", True)]


def test_grouped_position_of_a_number_with_its_count(session):
    # r_CHARINDEX.md: the unaliased projections named charindex and count, the count not a nested aggregate.
    result = run_script(session, _SALES + "select distinct charindex('.', commission), count (charindex('.', commission))"
                                          " from s where charindex('.', commission) > 2 group by charindex('.', commission)"
                                          " order by 1,2")
    assert [c.name for c in result.columns] == ["charindex", "count"]
    assert result.rows == [(3, 1), (4, 1)]


def test_unaliased_calls_are_named_as_written(session):
    # r_CHARINDEX.md, r_STRPOS.md, r_MOD.md, r_LOG.md (dlog10), r_SQRT.md (a DOUBLE PRECISION: 4, not 4.000...).
    result = run_script(session, "select charindex('fish', 'dogfish'), strpos('dogfish', 'fish'), mod(10, 4),"
                                 " log(100), sqrt(round(16.4))")
    assert [c.name for c in result.columns] == ["charindex", "strpos", "mod", "dlog10", "sqrt"]
    assert result.rows == [(4, 4, 2, 2.0, 4.0)]
    assert result.columns[4].type_name == "float8"


def test_a_cast_of_a_cast_is_named_by_its_type(session):
    result = run_script(session, "select 5::varchar::int, '7'::int")
    assert [c.name for c in result.columns] == ["int4", "int4"]


def test_hex_functions(session):
    # r_TO_HEX.md and r_FROM_HEX.md.
    assert run_script(session, "select to_hex(2147676847), to_hex('abc'::varbyte), from_hex('6162')").rows == [
        ("8002f2af", "616263", b"ab")]


def test_add_months_inside_trunc(session):
    # r_ADD_MONTHS.md: trunc(add_months(caldate, 12)); a month's last day stays the last day.
    assert run_script(session, "select trunc(add_months('2008-02-29'::date, 12))").rows == [(dt.date(2009, 2, 28),)]


def test_is_array(session):
    # r_is_array.md
    assert run_script(session, "select is_array(json_parse('[1,2]')), is_array(json_parse('{\"a\": 1}'))").rows == [
        (True, False)]


def test_postgres_numbers_and_booleans_in_a_super_column(postgres_session):
    # r_IS_BIGINT.md, r_decimal_precision.md: INSERT INTO t VALUES (5) into t(s super).
    result = run_script(postgres_session, "create table t (s super); insert into t values (5), (3.14159), (true);"
                                          " insert into t values (2.22::float); select s from t")
    assert result.rows == [("5",), ("3.14159",), ("true",), ("2.22",)]


def test_postgres_varbyte_to_text_and_its_string_functions(postgres_session):
    # r_TO_HEX.md: 'abc'::varbyte::varchar is abc (its UTF-8); r_SUBSTRING.md: substring of a VARBYTE is VARBYTE.
    result = run_script(postgres_session, "select 'abc'::varbyte::varchar, substring('abc'::varbyte, 2, 1)")
    assert result.rows == [("abc", b"b")] and result.columns[0].name == "varchar"


def test_postgres_char_like_keeps_its_padding(postgres_session):
    # The text conversion leaves text types as they are: a CHAR(4) column's LIKE reads its padding, as before.
    result = run_script(postgres_session, "create table c (c char(4)); insert into c values ('ab');"
                                          " select c like 'ab', c like 'ab  ', upper(c) from c")
    assert result.rows == [(False, True, "AB")]


def test_postgres_catalog_char_groups(postgres_session):
    # pg_class.relkind is PostgreSQL's one-byte "char": grouping by it (admin views) ignores trailing blanks too.
    result = run_script(postgres_session, "select relkind, count(*) from pg_class where relname = 'pg_class' group by relkind")
    assert result.rows == [("r", 1)]


def test_postgres_text_plus_text_concatenates(postgres_session):
    # r_NVL2.md: firstname + ' ' + lastname; a number plus an untyped literal stays an addition.
    result = run_script(postgres_session, "create table u (firstname varchar(10), lastname varchar(10), n int);"
                                          " insert into u values ('Ann', 'Lee', 5);"
                                          " select firstname + ' ' + lastname, n + '1', 'a' + 'b' from u")
    assert result.rows == [("Ann Lee", 6, "ab")]
