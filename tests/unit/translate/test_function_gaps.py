"""Functions an engine lacks with Redshift's argument types (translate/functions/numbers.py, bytes.py, days.py,
regexps.py), on both engines, from the SQL reference's examples and documented outputs."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest

from shiftflow.dataapi.translate import NotSupportedLocally, translate
from tests.unit.translate.conftest import run_script


def _row(session, sql: str) -> tuple:
    return tuple(run_script(session, sql).rows[0])


def test_to_number_from_the_reference(session):
    result = run_script(session, "select to_number('12,454.8-', '99G999D9S'), to_number('$ 12,454.88', 'L 99G999D99')")
    assert result.rows[0] == (Decimal("-12454.8"), Decimal("12454.88"))
    assert [c.name for c in result.columns] == ["to_number", "to_number"]
    assert {c.type_name for c in result.columns} == {"numeric"}


def test_round_keeps_the_arguments_type(session):
    # r_ROUND.md: 28.05 rounds to 28, 28.1 and 30; "ROUND returns the same numeric data type as the input".
    result = run_script(session, "select round(28.05::numeric(5,2)), round(28.05::numeric(5,2), 1), "
                                 "round(28.05::numeric(5,2), -1), round(2.55::float8, 1)")
    assert result.rows[0] == (Decimal("28"), Decimal("28.1"), Decimal("30"), 2.6)
    assert [c.type_name for c in result.columns] == ["numeric", "numeric", "numeric", "float8"]
    # an integer stays one: AVG of an INTEGER is an integer (r_AVG.md), rounded to 2 places a BIGINT on both engines
    result = run_script(session, "create table tickets (n int); insert into tickets values (120), (135);"
                                 "select round(avg(n), 2), round(1234::int, -2), round(7::smallint, 1) from tickets")
    assert result.rows[0] == (127, 1200, 7)
    assert [c.type_name for c in result.columns] == ["int8", "int4", "int2"]


def test_md5_and_octet_length(session):
    # r_MD5.md and r_OCTET_LENGTH.md; a number is hashed as its text, as Redshift converts it to VARCHAR.
    assert _row(session, "select md5('Amazon Redshift'), md5(123) = md5('123'), octet_length('français'), "
                         "len('français')") == ("f7415e33f972c03abd4f3fed36748f7a", True, 9, 8)
    result = run_script(session, "create table t (s varchar(20)); insert into t values ('français'), ('abc');"
                                 "select octet_length(s) from t order by 1")
    assert result.rows == [(3,), (9,)] and result.columns[0].type_name == "int4"
    assert _row(session, "select repeat('ab', 3)") == ("ababab",)


def test_sha1_and_its_synonym_func_sha1(session):
    # SHA1.md's example, sha1('Amazon Redshift'), and FUNC_SHA1.md ("Synonym of SHA1 function"): SHA-1's 40 hex
    # digits (FIPS 180's vectors for '' and 'abc'; 1,000 bytes take 16 blocks); a number hashed as its text.
    result = run_script(session, "select sha1('Amazon Redshift'), func_sha1('Amazon Redshift'), sha1(''),"
                                 " func_sha1('abc'), sha1(repeat('a', 1000)), func_sha1(123) = sha1('123'),"
                                 " sha1('é')")
    assert result.rows == [("eeac5ed1e11cda66032c30ad77b25071b5487f55", "eeac5ed1e11cda66032c30ad77b25071b5487f55",
                            "da39a3ee5e6b4b0d3255bfef95601890afd80709", "a9993e364706816aba3e25717850c26c9cd0d89d",
                            "291e9a6c66994949b57ba5e650361e98fc36b1ba", True, hashlib.sha1("é".encode()).hexdigest())]
    assert [c.name for c in result.columns][:2] == ["sha1", "func_sha1"]


def test_next_day_from_the_reference(session):
    assert _row(session, "select next_day('2014-08-20'::date, 'Tuesday'), next_day('2014-08-20'::date, 'tu'), "
                         "next_day('2008-07-06'::timestamp, 'Monday')") == (
        dt.date(2014, 8, 26), dt.date(2014, 8, 26), dt.date(2008, 7, 7))
    # r_NEXT_DAY.md writes the date as text: select next_day('2014-08-20','Tuesday') is 2014-08-26
    assert _row(session, "select next_day('2014-08-20','Tuesday')") == (dt.date(2014, 8, 26),)


def test_regexp_parameters_from_the_reference(session):
    # REGEXP_SUBSTR.md: case-insensitive, case-sensitive and subexpression examples.
    assert _row(session, "SELECT regexp_substr('the fox', 'FOX', 1, 1, 'i')") == ("fox",)
    assert _row(session, "SELECT regexp_substr('THE SECRET CODE IS THE LOWERCASE PART OF 1931abc0EZ.', "
                         "'[a-z]+', 1, 1, 'c')") == ("abc",)
    assert _row(session, "select regexp_substr('This is a cat, this is a dog. This is a mouse.', "
                         "'this is a (\\\\w+)', 1, 2, 'ie')") == ("dog",)
    assert _row(session, "select regexp_count('abcabc', 'B', 1, 'i'), regexp_instr('abcb', 'B', 1, 2, 0, 'i'), "
                         "regexp_replace('abcb', 'B', 'x', 1, 'i')") == (2, 4, "axcx")


def test_regexp_substr_without_a_match_is_empty_and_an_ignored_occurrence_null(session):
    # REGEXP_SUBSTR.md: a position past the end gives "", an occurrence below 1 or past the length NULL
    assert _row(session, "select regexp_substr('abc', 'x'), regexp_substr('abc', 'x', 1, 1, 'i'), "
                         "regexp_substr('abc', 'b', 1, 2), regexp_substr('abc', 'b', 3), regexp_substr('abc', 'b', 9), "
                         "regexp_substr('abcb', 'b', 3), regexp_substr('abc', 'b', 1, 0), regexp_substr('a', 'a', 1, 2), "
                         "regexp_substr(null, 'x')") == ("", "", "", "", "", "b", None, None, None)


def test_pcre_look_ahead_runs_on_postgres_and_is_refused_on_duckdb(postgres_session):
    # REGEXP_SUBSTR.md's PCRE examples: the second word with a lowercase letter and a digit.
    sql = "SELECT regexp_substr('passwd7 plain A1234 a1234', '(?=[^ ]*[a-z])(?=[^ ]*[0-9])[^ ]+', 1, 2, '{}')"
    assert _row(postgres_session, sql.format("p")) == ("a1234",)
    assert _row(postgres_session, sql.format("ip")) == ("A1234",)
    with pytest.raises(NotSupportedLocally, match="PCRE pattern with look-around"):
        translate(sql.format("p"), "duckdb")


def test_a_pcre_pattern_without_look_around_runs_on_duckdb(duckdb_session):
    assert _row(duckdb_session, "select regexp_substr('Hello World', 'w\\\\w+', 1, 1, 'ip')") == ("World",)


def test_numeric_to_char_from_the_reference(session):
    # r_TO_CHAR.md: the sign at the end, the currency symbol, angle brackets; L is Redshift's $.
    assert _row(session, "select to_char(-125.8, '999D99S'), to_char(-125.88, '$S999D99'), "
                         "to_char(-125.88, '$999D99PR'), to_char(618.80, 'l99999D99')") == (
        "125.80-", "$-125.88", "$<125.88>", "$   618.80")


_TO_CHAR_VALUES = ["125.8", "-125.8", "0.5", "0", "5", "-5", "1234567", "12345", "-0.004", "999.995", "1.005",
                   "-1234.5", "0.05", "99.999"]
_TO_CHAR_FORMATS = ["999.99", "999D99S", "$S999D99", "$999D99PR", "0.99", "999", "099", "9,999,999", "FM999.99",
                    "S999", "999MI", "999PR", "FM9,999.00", "9G999D9S"]


def test_numeric_to_char_on_duckdb_prints_as_postgresql_does(duckdb_session, postgres_session):
    # PostgreSQL's to_char is Redshift's numeric format model; DuckDB's is compiled from it: both must agree.
    for model in _TO_CHAR_FORMATS:
        sql = "select " + ", ".join(f"to_char({value}, '{model}')" for value in _TO_CHAR_VALUES)
        assert _row(duckdb_session, sql) == _row(postgres_session, sql), model


def test_numeric_to_char_elements_duckdb_does_not_compile_are_refused():
    with pytest.raises(NotSupportedLocally, match="TO_CHAR numeric format '9.99EEEE' on the DuckDB engine"):
        translate("select to_char(x, '9.99EEEE') from t", "duckdb")


def test_double_precision_math_from_the_reference(session):
    # r_DLOG10.md: dlog10(100) is 2; r_DPOW.md, r_DEXP.md, r_DLOG1.md.
    result = run_script(session, "select dlog10(100), dpow(2, 3), dexp(0), dlog1(1)")
    assert result.rows[0] == (2.0, 8.0, 1.0, 0.0)
    assert [c.name for c in result.columns] == ["dlog10", "dpow", "dexp", "dlog1"]


def test_comparison_functions_from_the_reference(session):
    # r_INTERVAL_CMP.md: '3 days' < '1 year', '7 days' = '1 week'; r_DATE_CMP.md, r_TIMESTAMP_CMP_DATE.md.
    result = run_script(session, "select interval_cmp('3 days','1 year'), interval_cmp('7 days','1 week'),"
                                 " date_cmp('2008-01-04'::date, '2008-01-04'),"
                                 " date_cmp('2008-01-05'::date, '2008-01-04'),"
                                 " timestamp_cmp_date('2008-06-18 01:00'::timestamp, '2008-06-18'),"
                                 " date_cmp_timestamp('2008-06-18', '2008-06-18 01:00'::timestamp),"
                                 " date_cmp(null, '2008-01-04')")
    assert result.rows[0] == (-1, 0, 0, 1, 1, -1, None)
    assert result.columns[0].name == "interval_cmp" and {c.type_name for c in result.columns} == {"int4"}


def test_date_part_year_from_the_reference(session):
    # r_DATE_PART_YEAR.md: 2022.
    result = run_script(session, "SELECT DATE_PART_YEAR(date '2022-05-02')")
    assert result.rows[0] == (2022,) and result.columns[0].name == "date_part_year"


def test_text_to_int_alt_from_the_reference(session):
    # r_TEXT_TO_INT_ALT.md: a trailing sign, an exponent, the fraction truncated.
    assert _row(session, "select text_to_int_alt('123-'), text_to_int_alt('2147483647+'), "
                         "text_to_int_alt('-123E-2'), text_to_int_alt('123.123'), text_to_int_alt('')") == (
        -123, 2147483647, -1, 123, 0)
    result = run_script(session, "select text_to_int_alt('1')")
    assert (result.columns[0].name, result.columns[0].type_name) == ("text_to_int_alt", "int4")
    with pytest.raises(NotSupportedLocally, match="Teradata format phrase"):
        translate("select text_to_int_alt('123{', '999S')", session.engine)


def test_text_to_numeric_alt_rounds_half_to_even(session):
    # r_TEXT_TO_NUMERIC_ALT.md: '1.5' is 2, '2.51' is 3, '123.52501' with (10, 2) is 123.53.
    assert _row(session, "select text_to_numeric_alt('1.5'), text_to_numeric_alt('2.51'), "
                         "text_to_numeric_alt('123.52501', 10, 2), text_to_numeric_alt('2.5')") == (
        Decimal("2"), Decimal("3"), Decimal("123.53"), Decimal("2"))


def test_quote_ident_and_quote_literal_from_the_reference(session):
    # r_QUOTE_IDENT.md: "MLB" (upper case is quoted); r_QUOTE_LITERAL.md: '1' for a number.
    assert _row(session, "select quote_ident('MLB'), quote_ident('abc'), quote_ident('select'), "
                         "quote_ident('a\"b'), quote_literal(1), quote_literal('it''s')") == (
        '"MLB"', "abc", '"select"', '"a""b"', "'1'", "'it''s'")
    result = run_script(session, "select quote_ident('x'), quote_literal('x')")
    assert [c.name for c in result.columns] == ["quote_ident", "quote_literal"]


def test_ratio_to_report_from_the_reference(session):
    # r_WF_RATIO_TO_REPORT.md: a FLOAT8 share of the partition's sum.
    result = run_script(session, "create table w (s int, q decimal(10, 2)); "
                                 "insert into w values (1, 30), (1, 10), (2, 5), (2, 15);"
                                 "select s, ratio_to_report(q) over (partition by s) from w order by 1, 2")
    assert result.rows == [(1, 0.25), (1, 0.75), (2, 0.25), (2, 0.75)]
    assert (result.columns[1].name, result.columns[1].type_name) == ("ratio_to_report", "float8")


def test_text_plus_text_concatenates(session):
    # r_NVL2.md: firstname + ' ' + lastname; a number written as text stays arithmetic.
    result = run_script(session, "create table u (f varchar(10), l varchar(10)); insert into u values ('a', 'b');"
                                 "select (f + ' ' + l) as name, 1 + 2 from u")
    assert result.rows == [("a b", 3)]


def test_to_varbyte_and_getbit_from_the_reference(session):
    # r_TO_VARBYTE.md: 6162, 4d, 61, 04 (printed as hex); r_GETBIT.md: 4d is 01001101.
    assert _row(session, "select to_varbyte('6162', 'hex'), to_varbyte('01001101', 'binary'), to_varbyte('a', 'utf8'),"
                         " to_varbyte('4', 'hex')") == (b"ab", b"M", b"a", b"\x04")
    bits = ", ".join(f"getbit(from_hex('4d'), {i})" for i in range(7, -1, -1))
    assert _row(session, f"select {bits}") == (0, 1, 0, 0, 1, 1, 0, 1)
    assert _row(session, "select getbit(to_varbyte('0100', 'hex'), 8), getbit(to_varbyte('0100', 'hex'), 0)") == (1, 0)


def test_varbyte_operators_from_the_reference(session):
    # r_VARBYTE_OPERATORS.md: 'a'::varbyte is 61, 'b'::varbyte 62; r_LEN.md: len('aaa'::varbyte) is 3.
    result = run_script(session, "select 'a'::varbyte || 'b'::varbyte as concat, 'a'::varbyte + 'b'::varbyte as plus,"
                                 " 'a'::varbyte < 'b'::varbyte as less_than, 'a'::varbyte = 'b'::varbyte as equal,"
                                 " from_varbyte(~'a'::varbyte, 'binary'), from_varbyte('a'::varbyte & 'b'::varbyte,"
                                 " 'binary'), from_varbyte('a'::varbyte | 'b'::varbyte, 'binary'),"
                                 " len('aaa'::varbyte), to_hex(from_hex('6162') + to_varbyte('63', 'hex'))")
    assert result.rows[0] == (b"ab", b"ab", True, False, "10011110", "01100000", "01100011", 3, "616263")
    assert [c.name for c in result.columns][4:] == ["from_varbyte", "from_varbyte", "from_varbyte", "len", "to_hex"]


def test_from_varbyte_formats_from_the_reference(session):
    # r_FROM_VARBYTE.md: 'ab' as hex is 6162; 4d as binary is 01001101.
    assert _row(session, "select from_varbyte('ab', 'hex'), from_varbyte(from_hex('4d'), 'binary'),"
                         " from_varbyte(from_hex('4d01'), 'BINARY'), from_varbyte(from_hex('6162'), 'utf8')") == (
        "6162", "01001101", "0100110100000001", "ab")


def test_varbyte_columns_combine_on_postgres(postgres_session):
    run_script(postgres_session, "create table b (x varbyte, y varbyte);"
                                 " insert into b values (from_hex('61'), from_hex('62'))")
    assert _row(postgres_session, "select to_hex(x + y), from_varbyte(x & y, 'binary'), from_varbyte(x | y, 'binary'),"
                                  " from_varbyte(~x, 'binary') from b") == ("6162", "01100000", "01100011", "10011110")
