"""CHAR and VARCHAR as Redshift has them (r_Character_types, r_Examples_with_character_types, r_LEN, r_CAST_function,
r_SUBSTRING) through a boto3 client on both engines: what the Data API returns (blank padding, type names), what
a column refuses, grouping. Comparisons, LEN and NULLIF are tested on the engines in tests/unit/translate/test_strings.py."""

from __future__ import annotations

from typing import Any

from tests.unit.dataapi.conftest import rows
from tests.unit.dataapi.test_redshift_semantics import client, error, ok, postgres_engine, values  # noqa: F401

_ADDRESS = """create table address(address_id integer, address1 varchar(100), address2 varchar(50),
    district varchar(20), city_name char(20), state char(2), postal_code char(5))"""


def test_values_longer_than_the_column(client: Any) -> None:
    ok(client, _ADDRESS)
    assert "value too long for type character(20)" in error(
        client, "insert into address(city_name) values('City of South San Francisco')")
    ok(client, "insert into address(city_name) values('City of South San Francisco'::char(20))")
    assert values(client, "select city_name from address") == [["City of South San Fr"]]


def test_char_values_are_blank_padded_or_refused(client: Any) -> None:
    # r_Character_types.md: "If the string is shorter than the maximum length, CHAR values are padded with blanks"
    ok(client, "create table codes (c char(5), v varchar(3), n int)")
    ok(client, "insert into codes values ('ab', 'abc', 1), ('abc', 'x', 2), (null, null, 3)")
    expected = {
        "select c, len(c), v, len(v) from codes order by n": (
            ["bpchar", "int4", "varchar", "int4"], [["ab   ", 2, "abc", 3], ["abc  ", 3, "x", 1]]),
        "select * from codes order by n": (["bpchar", "varchar", "int4"], [["ab   ", "abc", 1], ["abc  ", "x", 2]]),
        "select codes.c as k, len(codes.c), x.v from codes join codes x using (n) order by n": (
            ["bpchar", "int4", "varchar"], [["ab   ", 2, "abc"], ["abc  ", 3, "x"]]),
    }
    for query, (types, records) in expected.items():
        result = client.get_statement_result(Id=ok(client, query)["Id"])
        assert [c["typeName"] for c in result["ColumnMetadata"]] == types, query
        assert [[next(iter(f.values())) for f in r] for r in result["Records"]][:2] == records, query
    assert values(client, "select c, len(c) from codes where c = 'ab' and c like 'ab%'") == [["ab   ", 2]]
    ok(client, "create table other (m int, w varchar(3))")
    ok(client, "insert into other values (1, 'one')")
    assert values(client, "select c, w from codes join other on n = m") == [["ab   ", "one"]]  # unqualified names
    # r_Character_types.md: a longer string is refused "unless the extra characters are all spaces (blanks), in
    # which case the string is truncated to the maximum length"; a CHAR value's blanks are its padding
    ok(client, "insert into codes values ('abc  ', 'ab   ', 4), ('x', 'abc  ', 5)")
    assert values(client, "select c, len(c), v, len(v) from codes where n >= 4 order by n") == [
        ["abc  ", 3, "ab ", 3], ["x    ", 1, "abc", 3]]
    if client.engine == "postgres":
        return
    # DuckDB has no blank-padded type: what it cannot store as Redshift would is refused (text it computes)
    assert "not supported locally: a character(5) value with trailing blanks" in error(
        client, "insert into codes (c) select 'abc  '")
    assert "not supported locally: blanks beyond the length of a character varying(3) value" in error(
        client, "insert into codes (v) select 'abc  '")
    assert "value too long for type character varying(3)" in error(client, "insert into codes (v) values ('abcd ')")


def test_casts_to_sized_text(client: Any) -> None:
    described = ok(client, "select cast(2008 as char(4)), cast('Fourscore and seven' as varchar(5)), len('cat'), "
                           "len('cat   ')")
    result = client.get_statement_result(Id=described["Id"])
    assert [c["name"] for c in result["ColumnMetadata"]] == ["bpchar", "varchar", "len", "len"]
    assert [next(iter(f.values())) for f in result["Records"][0]] == ["2008", "Fours", 3, 6]


def test_grouping_ignores_trailing_blanks(client: Any) -> None:
    ok(client, "create table words (w varchar(10), n int)")
    ok(client, "insert into words values ('a', 1), ('a  ', 2), ('b', 3), (null, 4)")
    grouped = values(client, "select w, count(*), sum(n) from words group by w order by 3, 2 desc")
    assert [[row[0].rstrip(" ") if row[0] else row[0], *row[1:]] for row in grouped] == [
        ["a", 2, 3], ["b", 1, 3], [None, 1, 4]]
    assert values(client, "select count(distinct w) from words") == [[2]]
    assert len(values(client, "select distinct w from words")) == 3
    assert values(client, "select distinct words.n / 2 as h from words order by h") == [[0], [1], [2]]
    assert [row[0].rstrip(" ") for row in values(
        client, "select distinct words.w from words where w is not null order by words.w")] == ["a", "b"]
    assert values(client, "select n, count(*) over (partition by w) from words order by n") == [
        [1, 2], [2, 2], [3, 1], [4, 1]]
    assert values(client, "select upper(w) as u, count(*) from words where w is not null group by 1 order by 2") == [
        ["B", 1], ["A", 2]]


def test_char_padding_follows_the_catalog(client: Any) -> None:
    ok(client, "create table remade (c char(4))")
    ok(client, "insert into remade values ('ab')")
    assert values(client, "select c from remade") == [["ab  "]]
    ok(client, "drop table remade")
    ok(client, "create table remade (c varchar(4))")  # the same name, no longer CHAR: nothing padded
    ok(client, "insert into remade values ('ab')")
    described = ok(client, "select c from remade")
    result = client.get_statement_result(Id=described["Id"])
    assert result["ColumnMetadata"][0]["typeName"] == "varchar"
    assert rows(client, described["Id"]) == [["ab"]]


def _typed(client: Any, sql: str) -> tuple[list[str], list[list[Any]]]:
    result = client.get_statement_result(Id=ok(client, sql)["Id"])
    return [c["typeName"] for c in result["ColumnMetadata"]], [
        [None if f.get("isNull") else next(iter(f.values())) for f in record] for record in result["Records"]]


_CODES = ("create table codes (c char(5), v varchar(5), n int)",
          "insert into codes values ('ab', 'xy ', 1), (null, 'q', 2)")


def test_char_values_reaching_the_output_through_expressions(client: Any) -> None:
    # r_Character_types.md: CHAR values "are padded with blanks"; a CASE / COALESCE choosing a CHAR value returns it
    # padded, a literal as written (PostgreSQL's bpchar of no length, which the PostgreSQL engine answers)
    for sql in _CODES:
        ok(client, sql)
    expected = {
        "select coalesce(c, 'z') from codes order by n": (["bpchar"], [["ab   "], ["z"]]),
        "select nvl(c, 'z'), nullif(c, 'zz') from codes order by n": (["bpchar", "bpchar"], [["ab   ", "ab   "],
                                                                                             ["z", None]]),
        "select case when n = 1 then c else 'q' end from codes order by n": (["bpchar"], [["ab   "], ["q"]]),
        "select case when n = 1 then c end, max(c) over () from codes order by n": (
            ["bpchar", "bpchar"], [["ab   ", "ab   "], [None, "ab   "]]),
        "select max(c), min(c) from codes": (["bpchar", "bpchar"], [["ab   ", "ab   "]]),
        # r_CAST_function.md: `cast(2008 as char(4))` is a bpchar; the value padded, its trailing blanks ignored
        "select c::char(6), cast(v as char(6)) from codes order by n": (
            ["bpchar", "bpchar"], [["ab    ", "xy    "], [None, "q     "]]),
        "select 'ab  '::char(5), len('ab  '::char(5)), 'ab  '::char(5) = 'ab'": (
            ["bpchar", "int4", "bool"], [["ab   ", 2, True]]),
        "select coalesce(c::char(3), 'z') from codes order by n": (["bpchar"], [["ab "], ["z"]]),
    }
    for query, answer in expected.items():
        assert _typed(client, query) == answer, query


def test_char_values_through_subqueries_ctes_views_and_unions(client: Any) -> None:
    for sql in _CODES:
        ok(client, sql)
    ok(client, "create view coded as select c, n from codes")
    ok(client, "create view renamed (k) as select max(c) from codes")
    padded = (["bpchar"], [["ab   "], [None]])
    for query in ("select x from (select c as x, n from codes) s order by n",
                  "with w as (select c, n from codes) select c from w order by n",
                  "with w as (select * from codes) select w.c from w order by n",
                  "select * from (select c from codes order by n) s",
                  "select c from coded order by n",
                  "select c from (select c, n from codes union select c, n from codes) u order by n",
                  "select c from codes union select c from codes order by 1",
                  "select c from codes union all select c from codes where n = 0 order by 1"):
        assert _typed(client, query) == padded, query
    assert _typed(client, "select * from coded order by n") == (["bpchar", "int4"], [["ab   ", 1], [None, 2]])
    assert _typed(client, "select k from renamed") == (["bpchar"], [["ab   "]])
    assert _typed(client, "select c from codes where n = 1 union all select 'x' order by 1") == (
        ["bpchar"], [["ab   "], ["x"]])
    assert _typed(client, "select c from codes where c like 'ab   ' union all select cast('x' as char(2))") == (
        ["bpchar"], [["ab   "], ["x "]])


def test_char_columns_of_tables_made_from_others(client: Any) -> None:
    # CREATE TABLE AS keeps the columns' types (r_CREATE_TABLE_AS.md), CREATE TABLE (LIKE) too; INSERT ... SELECT
    # stores a CHAR value into the column's type
    for sql in _CODES:
        ok(client, sql)
    ok(client, "create table copied as select c, v, n, v::char(4) as w from codes")
    assert _typed(client, "select c, v, w, len(c), len(w) from copied order by n") == (
        ["bpchar", "varchar", "bpchar", "int4", "int4"], [["ab   ", "xy ", "xy  ", 2, 2], [None, "q", "q   ", None, 1]])
    ok(client, "create table scratch as select * from copied where n = 1")
    assert _typed(client, "select * from scratch") == (
        ["bpchar", "varchar", "int4", "bpchar"], [["ab   ", "xy ", 1, "xy  "]])
    ok(client, "create table liked (like copied)")
    ok(client, "insert into liked select * from copied")
    assert _typed(client, "select c, w from liked order by n") == (["bpchar", "bpchar"], [["ab   ", "xy  "],
                                                                                         [None, "q   "]])
    ok(client, "create table wider (c char(8), v varchar(8))")
    ok(client, "insert into wider select c, c from codes")
    ok(client, "insert into wider select 'cd  '::char(5), 'cd  '::char(5)")
    assert _typed(client, "select c, v, len(v) from wider order by 1") == (
        ["bpchar", "varchar", "int4"], [["ab      ", "ab", 2], ["cd      ", "cd", 2], [None, None, None]])
    ok(client, "create table counted as select count(*) as k, max(v) as m from codes")  # no CHAR value: as it was
    assert _typed(client, "select * from counted") == (["int8", "varchar"], [[2, "xy "]])


def test_char_values_beside_other_text(client: Any) -> None:
    for sql in _CODES:
        ok(client, sql)
    mixed = ["select coalesce(c, v) from codes", "select case when n = 1 then c else v end from codes",
             "select c from codes union all select v from codes", "select c from codes union select 'ab'",
             "select x from (select coalesce(c, 'z') as x from codes) s"]
    if client.engine == "duckdb":  # Redshift documents no type for these, and DuckDB has none to resolve them to
        for query in mixed:
            assert "not supported locally: a CHAR(n) value beside other text" in error(client, query), query
        return
    for query in mixed:  # PostgreSQL resolves them with its own bpchar rules
        ok(client, query)


def test_concatenation_drops_the_blanks_of_char_values(client: Any) -> None:
    # r_Character_types.md: trailing blanks of CHAR values are "removed when you convert a CHAR value to another
    # string type": concatenated with other text, a CHAR value is that text without its blanks. Of CHAR values only,
    # r_concat_op.md / r_CONCAT.md ("the same type as the input arguments") show no example: refused on DuckDB.
    for sql in _CODES:
        ok(client, sql)
    assert values(client, "select c || 'x', c || v || '|', concat(c, 'y'), coalesce(c, '') || '|', 'x' || c || 'z'"
                          " from codes order by n") == [["abx", "abxy |", "aby", "ab|", "xabz"], [None, None, None, "|",
                                                                                                 None]]
    assert values(client, "select n, len(c || 'x') from codes where 'x' || c = 'xab'") == [[1, 3]]
    ok(client, "create table joined as select c || 'x' as k from codes")
    assert _typed(client, "select k from joined where k is not null") == (["varchar"], [["abx"]])
    ok(client, "update codes set v = c || 'x' where n = 1")
    assert values(client, "select v from codes where n = 1") == [["abx"]]
    if client.engine == "duckdb":
        for query in ("select c || c from codes", "select concat(c, c) from codes"):
            assert "not supported locally: CHAR(n) values concatenated with one another only" in error(
                client, query), query


