"""Datetime text Redshift reads in a form other than ISO, inserted into DATE / TIMESTAMP columns
(commands/inserts.py), from the reference's examples and documented outputs."""

from __future__ import annotations

import datetime

from tests.unit.translate.conftest import run_script


def test_dates_in_other_forms_land_as_the_dates_redshift_reads(session) -> None:
    # r_Examples_with_datetime_types.md: insert into datetable values ('Jun 1,2008','20081231') twice, then
    # select * from datetable order by 1 shows 2008-06-01 | 2008-12-31 on both rows.
    run_script(session, "create table datetable (start_date date, end_date date);"
                        "insert into datetable values ('Jun 1,2008','20081231');"
                        "insert into datetable values ('Jun 1,2008','20081231');")
    rows = run_script(session, "select * from datetable order by 1").rows
    assert rows == [(datetime.date(2008, 6, 1), datetime.date(2008, 12, 31))] * 2


def test_month_first_dates_and_text_columns_kept_as_written(session) -> None:
    # r_FROM_clause-pivot-unpivot-examples.md: INSERT INTO bookings VALUES (1, 'FOREST_L', '02/01/2023', 75.12)
    run_script(session, "CREATE TABLE bookings (booking_id int, hotel_code char(8), booking_date date, price decimal(4, 2));"
                        "INSERT INTO bookings VALUES (1, 'FOREST_L', '02/01/2023', 75.12), (2, 'FOREST_L', '02/02/2023', 75.00);"
                        "create table notes (note varchar(20), at timestamp);"
                        "insert into notes (at, note) values ('8/2/2003 10:00', '02/01/2023');")
    assert run_script(session, "select booking_date from bookings order by 1").rows == [
        (datetime.date(2023, 2, 1),), (datetime.date(2023, 2, 2),)]
    assert run_script(session, "select note, at from notes").rows == [
        ("02/01/2023", datetime.datetime(2003, 8, 2, 10, 0))]
    assert run_script(session, "select count(*) from bookings where booking_date = '2023-02-01'").rows == [(1,)]


def test_text_into_a_super_column_is_a_super_string(session) -> None:
    # r_is_varchar.md: INSERT INTO t VALUES ('abc') then SELECT s, is_varchar(s) shows "abc" | True; r_is_char.md
    # the same with 't'. ingest-super.md: without json_parse, "Amazon Redshift treats the value as a single string".
    run_script(session, "CREATE TABLE t(s super); INSERT INTO t VALUES ('abc');")
    assert run_script(session, "SELECT s, is_varchar(s) FROM t").rows == [('"abc"', True)]
    run_script(session, "CREATE TABLE c(s super); INSERT INTO c VALUES ('t');")
    assert run_script(session, "SELECT s, is_char(s) FROM c").rows == [('"t"', True)]
    run_script(session, """CREATE TABLE j(n int, s super, d date);
        INSERT INTO j (s, n) VALUES ('{"a":1}', 1), (json_parse('{"a":1}'), 2), ('5', 3), (5, 4), (null, 5);
        INSERT INTO j VALUES (6, TRUE, '8/2/2003');""")
    assert run_script(session, "SELECT n, s, json_typeof(s), d FROM j ORDER BY n").rows == [
        (1, '"{\\"a\\":1}"', "string", None), (2, '{"a":1}', "object", None), (3, '"5"', "string", None),
        (4, "5", "number", None), (5, None, None, None), (6, "true", "boolean", datetime.date(2003, 8, 2))]
    # r_is_boolean.md prints the SUPER TRUE as "true", quoted: a SUPER string would print so, and IS_BOOLEAN is
    # true only for JSON booleans (r_object_function.md prints {"b":true}): the quotes are the page's error.
    assert run_script(session, "SELECT s, is_boolean(s) FROM j WHERE n = 6").rows == [("true", True)]


def test_update_and_bound_text_into_a_super_column(session) -> None:
    run_script(session, "CREATE TABLE t(k int, s super, note varchar(10)); INSERT INTO t VALUES (1, 2, 'x'), (2, 3, 'y')")
    run_script(session, "UPDATE t SET s = '[1,2]', note = '[1]' WHERE k = 1")
    run_script(session, "UPDATE t SET s = :s WHERE k = 2", {"s": "null"})
    assert run_script(session, "SELECT k, s, json_typeof(s), note FROM t ORDER BY k").rows == [
        (1, '"[1,2]"', "string", "[1]"), (2, '"null"', "string", "y")]
    run_script(session, "INSERT INTO t (k, s) VALUES (3, :s)", {"s": '{"a": 1}'})
    assert run_script(session, "SELECT s, is_varchar(s) FROM t WHERE k = 3").rows == [('"{\\"a\\": 1}"', True)]
