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
    if client.engine == "postgres":
        ok(client, "insert into codes values ('abc  ', 'x', 4)")
        assert values(client, "select c, len(c) from codes where n = 4") == [["abc  ", 3]]
        return
    # DuckDB has no blank-padded type: what it cannot store as Redshift would is refused
    assert "not supported locally: a character(5) value with trailing blanks" in error(
        client, "insert into codes (c) values ('abc  ')")
    assert "not supported locally: blanks beyond the length of a character varying(3) value" in error(
        client, "insert into codes (v) values ('abc  ')")
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
