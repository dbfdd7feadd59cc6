"""Redshift string behaviour on both engines, from the SQL reference's examples (r_Character_types,
r_Examples_with_character_types, r_NULLIF_function, r_LEN, r_SUBSTRING, r_CONCAT, r_CAST_function)."""

from __future__ import annotations

import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate import translate
from tests.unit.translate.conftest import run_script


def _refused_on_duckdb(session, statement: str, instead: str) -> None:
    """DuckDB has no blank-padded type: a CHAR value with trailing blanks is refused there (types.py)."""
    if session.engine == "duckdb":
        with pytest.raises(EngineError, match="not supported locally: a character"):
            run_script(session, statement)
        statement = instead
    run_script(session, statement)


def test_trailing_blanks_are_insignificant_in_comparisons(session):
    run_script(session, """
        create table address (address_id integer, address1 varchar(100), city_name char(20));
        insert into address (address1, city_name) values ('9516 Magnolia Boulevard', 'Augusta');
    """)
    _refused_on_duckdb(session,
                       "insert into address (address1, city_name) values ('9516 Magnolia Boulevard  ', 'Augusta  ')",
                       "insert into address (address1, city_name) values ('9516 Magnolia Boulevard  ', 'Augusta')")
    counted = run_script(session, """
        select count(*), count(case when city_name = 'Augusta' then 1 end),
               count(case when address1 in ('x', '9516 Magnolia Boulevard ') then 1 end),
               count(case address1 when '9516 Magnolia Boulevard' then 1 end)
        from address where address1 = '9516 Magnolia Boulevard'
    """)
    assert counted.rows == [(2, 2, 2, 2)]
    assert run_script(session, "select length(address1) from address order by 1").rows == [(23,), (25,)]
    joined = run_script(session, "select count(*) from address a join address b on a.address1 = b.address1")
    assert joined.rows == [(4,)]
    assert run_script(session, "select 'abc' = 'abc  ', 'abc' < 'abc ', 'abc ' >= 'abc'").rows == [(True, False, True)]
    between = run_script(session, """
        select count(case when address1 between '9516 Magnolia Boulevard' and '9516 Magnolia Boulevard' then 1 end),
               count(case when address1 is not distinct from '9516 Magnolia Boulevard' then 1 end)
        from address
    """)
    assert between.rows == [(2, 2)]


def test_bound_values_compare_with_trimmed_columns(session):
    result = run_script(session, """
        create table t (id int, name varchar(10)); insert into t values (1, 'a  '), (2, 'b');
        select id from t where name = :name or id = :id order by id
    """, {"name": "a", "id": "2"})
    assert result.rows == [(1,), (2,)]


def test_updates_and_numbers_are_left_alone(session):
    result = run_script(session, """
        create table t (id int, name varchar(10)); insert into t values (1, 'a'), (2, 'b ');
        update t set name = 'c  ' where id = 1;
        select id, name, name = 'c' from t where id in (1, 2) and '5' = 5 order by id
    """)
    assert result.rows == [(1, "c  ", True), (2, "b ", False)]


def test_nullif_ignores_trailing_blanks(session):
    run_script(session, "create table nulliftest (c1 char(2), c2 char(2))")
    _refused_on_duckdb(session, "insert into nulliftest values ('a', 'a ')", "insert into nulliftest values ('a', 'a')")
    result = run_script(session, """
        insert into nulliftest values ('b', 'b');
        select nullif(c1, c2) from nulliftest
    """)
    assert result.rows == [(None,), (None,)]
    assert result.columns[0].name == "c1"  # "the column name of the first expression"
    assert run_script(session, "select nullif('', ''), nullif('x', 'y')").rows == [(None, "x")]


def test_len_counts_trailing_blanks_of_varchar_only(session):
    result = run_script(session, """
        select len('cat'), len('cat   '), len('français'), length('abc'), len(cast('abc' as char(5)))
    """)
    assert result.rows == [(3, 6, 8, 3, 3)]
    assert [c.name for c in result.columns] == ["len", "len", "len", "length", "len"]
    assert {c.type_name for c in result.columns} == {"int4"}


def test_substring_documented_examples(session):
    result = run_script(session, """
        select substring('caterpillar', 6, 4), substring('caterpillar', 6, 8), substring('caterpillar', -2, 6),
               substring('caterpillar', -5, 4), substring('caterpillar', 0), substr('caterpillar', -3),
               substring('caterpillar' from 0 for 3)
    """)
    assert result.rows == [("pill", "pillar", "cat", "", "caterpillar", "caterpillar", "ca")]


def test_concat_documented_examples_and_null(session):
    result = run_script(session, """
        select concat('December 25, ', '2008'), concat('Thursday, ', concat('December 25, ', '2008')),
               concat('a', null), concat(null, 'a'), concat(1, 2)
    """)
    assert result.rows == [("December 25, 2008", "Thursday, December 25, 2008", None, None, "12")]
    assert result.columns[0].name == "concat"


def test_cast_to_a_sized_string_truncates(session):
    result = run_script(session, """
        select cast('abcdefgh' as varchar(5)), 'City of South San Francisco'::char(20), cast('ab' as varchar(5)),
               cast(12345678 as varchar(3))
    """)
    assert [value.rstrip() for value in result.rows[0]] == ["abcde", "City of South San Fr", "ab", "123"]


def test_duckdb_refuses_a_multibyte_cut_it_cannot_count_in_bytes(duckdb_session):
    with pytest.raises(EngineError, match="not supported locally: multibyte text cast to VARCHAR\\(5\\)"):
        run_script(duckdb_session, "select cast('françaisé' as varchar(5))")


def test_backslash_escapes_a_quote_in_literals(session):
    assert run_script(session, r"select 'it\'s', 'a\\b'").rows == [("it's", "a\\b")]


def test_comparisons_translate_only_where_text_may_be_compared():
    text = translate("select * from a join b on a.id = b.id where a.n > 1 and a.s = 'x  '", "postgres").text
    assert "a.n > 1" in text and "public.shiftflow_rtrim(a.s) = 'x'" in text


def test_trailing_blanks_against_subqueries_and_in_merge(session):
    result = run_script(session, """
        create table t (id int, s varchar(5)); insert into t values (1, 'a '), (2, 'b'), (3, 'c');
        merge into t using (select 3 as id, 'z ' as s) u on t.id = u.id when matched then update set s = u.s;
        select id, s from t where s in (select 'a') or s = any (select 'z') or id = all (select 2) order by 1
    """)
    assert result.rows == [(1, "a "), (2, "b"), (3, "z ")]
    inner = run_script(session, """
        create table u (v varchar(5)); insert into u values ('a  '), ('z');
        select id from t where s in (select v from u) and s = any (select v as w from u) order by 1
    """)
    assert inner.rows == [(1,), (3,)]


def test_collations_from_the_reference(duckdb_session):
    # r_COLLATE.md: a case_sensitive column finds 'john' alone; collate(col1, 'case_insensitive') both.
    run_script(duckdb_session, "CREATE TABLE T (col1 Varchar(20) COLLATE case_sensitive);"
                               "INSERT INTO T VALUES ('john'),('JOHN');"
                               "create table T1 (col1 varchar(20) collate case_insensitive); insert into T1 select * from T")

    def rows(where: str) -> list:
        return sorted(run_script(duckdb_session, f"SELECT * FROM {where}").rows)

    assert rows("T WHERE col1 = 'john'") == [("john",)]
    assert rows("T WHERE collate(col1, 'case_insensitive') = 'john'") == [("JOHN",), ("john",)]
    assert rows("T1 WHERE col1 = 'john'") == [("JOHN",), ("john",)]
    assert rows("T1 WHERE col1 collate case_sensitive = 'john'") == [("john",)]
    with pytest.raises(EngineError, match='collation "xx" does not exist'):
        translate("select 'a' collate xx", "duckdb")
