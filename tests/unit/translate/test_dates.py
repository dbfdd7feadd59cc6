"""Redshift date and time functions on both engines, from the SQL reference's own examples and documented outputs
(r_DATEADD_function, r_ADD_MONTHS, r_DATEDIFF_function, r_EXTRACT_function, r_DATE_PART_function,
r_Dateparts_for_datetime_functions, r_TO_CHAR, r_TO_DATE_function, r_Date_and_time_literals)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.statements import text_value
from shiftflow.dataapi.translate import NotSupportedLocally, translate
from shiftflow.dataapi.translate.types import iso_datetime
from tests.unit.translate.conftest import run_script


def _names(result):
    return [column.name for column in result.columns]


def _types(result):
    return [column.type_name for column in result.columns]


def test_dateadd_documented_examples(session):
    result = run_script(session, """
        select dateadd(month, 18, '2008-02-28'), dateadd(m, 30, '2008-02-28'),
               dateadd(month, 12, '2016-02-29'), dateadd(year, 1, '2016-02-29'),
               dateadd(month, 1, '2008-04-30'), add_months('2008-04-30', 1), add_months('2008-03-31', 1)
    """)
    assert result.rows[0] == (dt.datetime(2009, 8, 28), dt.datetime(2008, 2, 28, 0, 30), dt.datetime(2017, 2, 28),
                              dt.datetime(2017, 3, 1), dt.datetime(2008, 5, 30), dt.datetime(2008, 5, 31),
                              dt.datetime(2008, 4, 30))
    assert _names(result)[:5] == ["date_add"] * 5
    assert _types(result)[0] == "timestamp"


def test_dateadd_years_and_months_at_month_ends(session):
    # Years from 29 February roll to 1 March unless the result year has a 29 February; months clamp.
    result = run_script(session, """
        create table days (d date, t timestamp);
        insert into days values ('2016-02-29', '2016-02-29 10:30:00'), ('2015-03-31', '2015-01-31 23:59:59');
        select dateadd(year, 1, d), dateadd(y, 4, d), dateadd(yr, -1, t), dateadd(month, 1, t),
               dateadd(qtr, 4, d), dateadd(decade, 1, d), dateadd(day, -1, d) from days order by d
    """)
    assert result.rows == [
        (dt.datetime(2016, 3, 31), dt.datetime(2019, 3, 31), dt.datetime(2014, 1, 31, 23, 59, 59),
         dt.datetime(2015, 2, 28, 23, 59, 59), dt.datetime(2016, 3, 31), dt.datetime(2025, 3, 31),
         dt.datetime(2015, 3, 30)),
        (dt.datetime(2017, 3, 1), dt.datetime(2020, 2, 29), dt.datetime(2015, 3, 1, 10, 30),
         dt.datetime(2016, 3, 29, 10, 30), dt.datetime(2017, 2, 28), dt.datetime(2026, 3, 1),
         dt.datetime(2016, 2, 28))]


def test_dateadd_and_datediff_on_time(session):
    run_script(session, """
        create table time_test (time_val time);
        insert into time_test values ('20:00:00'), ('00:00:00.5550'), ('00:58:00')
    """)
    result = run_script(session, "select dateadd(minute, 5, time_val) as minplus5 from time_test order by 1")
    assert result.rows == [(dt.time(0, 5, 0, 555000),), (dt.time(1, 3),), (dt.time(20, 5),)]
    assert _types(result) == ["time"]
    literal = run_script(session, "select dateadd(hour, 8, time '13:24:55'), dateadd(hour, 12, time '13:24:55')")
    assert literal.rows[0] == (dt.time(21, 24, 55), dt.time(1, 24, 55))
    differences = run_script(session, """
        select datediff(hour, time '10:00', time '13:24:55'), datediff(minute, time_val, time '21:00')
        from time_test where time_val = '20:00:00'
    """)
    assert differences.rows == [(3, 60)]


def test_dateadd_reads_text_columns_as_timestamps(session):
    result = run_script(session, """
        create table t (s varchar(30)); insert into t values ('2008-01-01 10:00');
        select dateadd(day, 2, s), dateadd(hour, n, s) from t, (select 3 as n) k
    """)
    assert result.rows == [(dt.datetime(2008, 1, 3, 10), dt.datetime(2008, 1, 1, 13))]


def test_extract_gives_the_part_alone(session):
    result = run_script(session, """
        select extract(minute from timestamp '2009-09-09 12:08:43'), extract(ms from timestamp '2009-09-09 12:08:43.101'),
               extract(ms from time '18:25:33.123456'), extract(sec from timestamp '2009-09-21 11:10:03.189717'),
               extract(century from timestamp '2000-12-16 12:21:13'),
               extract(century from timestamp '2001-12-16 12:21:13'), extract(hour from time '20:00:00')
    """)
    assert result.rows[0] == (8, 101, 123, 3, 20, 21, 20)
    assert _names(result) == ["date_part"] * 7 and _types(result) == ["int4"] * 7


def test_date_part_documented_examples(session):
    result = run_script(session, """
        select date_part(minute, timestamp '20230104 04:05:06.789'), date_part(week, timestamp '20220502 04:05:06.789'),
               date_part(day, timestamp '20220502 04:05:06.789'), date_part(dayofweek, timestamp '20220502 04:05:06.789'),
               date_part(century, timestamp '20220502 04:05:06.789'),
               date_part(millennium, timestamp '20220502 04:05:06.789'),
               date_part(microsecond, timestamp '20220502 04:05:06.789'), date_part(month, date '20220502'),
               date_part(w, timestamp '2008-06-17 09:44:54'), date_part(sec, timestamp '2009-09-21 11:10:03.189717'),
               date_part(epoch, timestamp '2008-01-01 20:00:00'), date_part(dow, timestamp '2008-01-05 14:00:00')
    """)
    assert result.rows[0] == pytest.approx((5, 18, 2, 1, 21, 3, 789000, 5, 25, 3.189717, 1199217600, 6))
    assert _names(result) == ["pgdate_part"] * 12 and _types(result) == ["float8"] * 12


def test_to_char_documented_examples(session):
    result = run_script(session, """
        select to_char(timestamp '2009-12-31 23:15:59', 'MONTH-DY-DD-YYYY HH12:MIPM'),
               to_char(timestamp '2009-12-31 23:15:59', 'DDD'), to_char(timestamp '2022-05-16 23:15:59', 'ID'),
               to_char(date '2009-12-31', 'MONTH'), to_char(timestamp '2008-01-25 14:30:00', 'HH12:MI:SS'),
               to_char(timestamp '2008-01-25 14:30:00', 'MON-DD-YYYY HH12:MIPM'),
               to_char(timestamp '2009-12-31 23:15:59', 'HH24:MI:SS'), to_char(timestamp '2008-02-18 02:36:48', 'cc'),
               to_char(timestamp '2008-01-25 14:30:00', 'HH12:MI:SS TZ'),
               to_char(timestamp '2015-04-10 18:45:09.325143', 'HH24:MI:SS.MS'),
               to_char(timestamp '2015-04-10 18:45:09.325143', 'HH24:MI:SS:US'),
               to_char(timestamp '2008-01-25 14:30:00', 'Mon DD, YYYY'), to_char(timestamp '2008-01-25 14:30:00', 'Day'),
               to_char(timestamp '2008-01-25 14:30:00', 'FMDay, FMDDth FMMonth')
    """)
    assert result.rows[0] == ("DECEMBER -THU-31-2009 11:15PM", "365", "1", "DECEMBER ", "02:30:00",
                              "JAN-25-2008 02:30PM", "23:15:59", "21", "02:30:00 UTC", "18:45:09.325",
                              "18:45:09:325143", "Jan 25, 2008", "Friday   ", "Friday, 25th January")
    assert _names(result)[0] == "to_char" and _types(result)[0] == "varchar"


_MODELS = ["MONTH-DY-DD-YYYY HH12:MIPM", "Month month MON Mon mon DAY Day day DY Dy dy", "YYYY YYY YY Y Y,YYY IYYY IY",
           "DDD DD D ID IDDD W WW IW Q CC J RM rm", "HH HH12 HH24 MI SS MS US SSSS AM pm A.M. p.m. AD bc",
           "FMMonth FMDDth, YYYY \"at\" FMHH12 am", "DDTH ddth FMDDth yyyy-mm-dd hh24:mi:ss", "\"Q\"Q \"W\"W"]
_STAMPS = ["2009-12-31 23:15:59", "2008-01-01 00:05:00.5", "2022-05-16 12:00:00.123456", "2021-01-03 01:02:03",
           "2000-02-29 11:59:59", "2012-11-22 13:00:00", "2011-08-13 00:00:00"]


def test_duckdb_to_char_matches_postgres_whose_model_is_redshifts(duckdb_session, postgres_session):
    query = "select " + ", ".join(f"to_char(timestamp '{stamp}', '{model}')" for stamp in _STAMPS for model in _MODELS)
    assert run_script(duckdb_session, query).rows == run_script(postgres_session, query).rows


# Numeric models DuckDB compiles are test_function_gaps.py's; the ones it cannot are refused.
@pytest.mark.parametrize("statement", ["select to_char(-125.8, '999D99th')", "select to_char(d, f) from t",
                                       "select to_char(125, 'RN9')"])
def test_duckdb_refuses_to_char_it_cannot_emulate(statement):
    with pytest.raises(NotSupportedLocally, match="^not supported locally: TO_CHAR"):
        translate(statement, "duckdb")


def test_numeric_to_char_runs_on_postgres(postgres_session):
    result = run_script(postgres_session, "select to_char(-125.8, '999D99S'), to_char(-125.88, '$S999D99')")
    assert result.rows[0] == ("125.80-", "$-125.88")


def test_to_date_documented_examples(session):
    result = run_script(session, """
        select to_date('02 Oct 2001', 'DD Mon YYYY'), to_date('March2010', 'MonthYYYY'),
               to_date('20010630', 'YYYYMMDD', TRUE)
    """)
    assert result.rows[0] == (dt.date(2001, 10, 2), dt.date(2010, 3, 1), dt.date(2001, 6, 30))
    assert _names(result) == ["to_date"] * 3 and _types(result) == ["date"] * 3
    # "The result is July 1, 2001, because there are only 30 days in June" (is_strict false, the default) ...
    rolled = run_script(session, """
        select to_date('20010631', 'YYYYMMDD', FALSE), to_date('20010631', 'YYYYMMDD'), to_date('31 Jun 01', 'DD Mon YY'),
               to_date(null, 'YYYYMMDD')
    """)
    assert rolled.rows[0] == (dt.date(2001, 7, 1), dt.date(2001, 7, 1), dt.date(2001, 7, 1), None)
    # ... "an error because there are only 30 days in June" with is_strict true; text that does not read fails.
    for statement in ("select to_date('20010631', 'YYYYMMDD', TRUE)", "select to_date('2001xx06', 'YYYYMMDD')"):
        with pytest.raises(EngineError):
            run_script(session, statement)


def test_datetime_literals_redshift_accepts(session):
    result = run_script(session, """
        select '20200430 04:05:06.789'::timestamp, '8/2/2003'::date, '12-31-2008'::date, cast('January 8, 1999' as date),
               '2000-Jan-31'::date, '31-Jan-2000'::date, '080215'::date, '2008.366'::date, '01/02/00'::date,
               timestamp '1999-01-08 04:05 PM', datediff(day, '8/2/2003', '12-31-2003')
    """)
    assert result.rows[0] == (dt.datetime(2020, 4, 30, 4, 5, 6, 789000), dt.date(2003, 8, 2), dt.date(2008, 12, 31),
                              dt.date(1999, 1, 8), dt.date(2000, 1, 31), dt.date(2000, 1, 31), dt.date(2008, 2, 15),
                              dt.date(2008, 12, 31), dt.date(2000, 1, 2), dt.datetime(1999, 1, 8, 16, 5), 151)


def test_today_and_now(session):
    result = run_script(session, """
        select dateadd(day, 1, 'today') = dateadd(day, 1, trunc(getdate())), dateadd(day, 1, 'now') > getdate()
    """)
    assert result.rows[0] == (True, True)


def test_iso_datetime_reads_redshift_text():
    assert iso_datetime("12/31/2008 11:59:59 PM", with_zone=False) == "2008-12-31 23:59:59"
    assert iso_datetime("1/8/1999 040506", with_zone=False) == "1999-01-08 04:05:06"
    assert iso_datetime("2008-01-01 10:00:00-08", with_zone=True) == "2008-01-01 10:00:00-08"
    assert iso_datetime("2008-01-01 10:00:00-08", with_zone=False) == "2008-01-01 10:00:00"
    assert iso_datetime("31/12/2008", with_zone=False) is None  # not a month first: left for the engine to refuse
    assert iso_datetime("garbage", with_zone=False) is None


def test_datediff_arguments_are_rewritten_too(session):
    # The arguments of DATEDIFF get their own Redshift meaning (trunc(sysdate) is a date on PostgreSQL as well).
    result = run_script(session, """
        select datediff(day, trunc(sysdate), dateadd(day, 3, trunc(sysdate))), datediff(week, d, d + 14),
               datediff(month, '2008-01-31', d)
        from (select date '2022-05-02' as d) t
    """)
    assert result.rows == [(3, 2, 172)]


def test_to_timestamp_is_a_timestamptz_in_utc(session) -> None:
    # r_TO_TIMESTAMP.md: SELECT TO_TIMESTAMP('2017','YYYY') is 2017-01-01 00:00:00+00
    result = run_script(session, "SELECT TO_TIMESTAMP('2017','YYYY')")
    assert [column.name for column in result.columns] == ["to_timestamp"]
    assert result.columns[0].type_name == "timestamptz"
    assert result.rows[0][0] == dt.datetime(2017, 1, 1, tzinfo=dt.timezone.utc)


def test_add_months_inside_trunc(session):
    # r_ADD_MONTHS.md: trunc(add_months(caldate, 12)); the last day of February stays the month's last day.
    result = run_script(session, "select trunc(add_months('2008-02-29'::date, 12)),"
                                 " add_months(add_months('2008-01-31'::date, 1), 1)")
    assert result.rows == [(dt.date(2009, 2, 28), dt.datetime(2008, 3, 31))]


def test_a_column_compared_with_date_text_in_another_form(duckdb_session):
    # r_interval_literals.md: where caldate='12-31-2008'; text columns still compare as text.
    run_script(duckdb_session, "create table date (caldate date, t timestamp, s varchar(20));"
                               "insert into date values ('2008-12-31', '2008-12-31 10:00', '12-31-2008'),"
                               " ('2008-12-30', '2008-12-30 10:00', 'x')")
    assert run_script(duckdb_session, "select caldate + interval '1 second' as dateplus from date"
                                      " where caldate='12-31-2008'").rows == [(dt.datetime(2008, 12, 31, 0, 0, 1),)]
    assert run_script(duckdb_session, "select s from date where s = '12-31-2008'").rows == [("12-31-2008",)]
    assert run_script(duckdb_session, "select count(*) from date where '12/30/2008' < caldate").rows == [(1,)]
    assert run_script(duckdb_session, "select count(*) from date where t >= 'Dec 31, 2008 09:00'").rows == [(1,)]
    assert run_script(duckdb_session, "select caldate from date where caldate between '12/30/2008'"
                                      " and 'Dec 31, 2008' order by 1").rows == [
        (dt.date(2008, 12, 30),), (dt.date(2008, 12, 31),)]
    assert "typeof" not in translate("select 1 from date where caldate = '2008-12-31'", "duckdb").text.lower()


def test_timetz_literals_and_columns_from_the_reference(session):
    # r_DATE-CONCATENATE_function.md, r_DATEADD_function.md, r_DATEDIFF_function.md, r_EXTRACT_function.md.
    row = run_script(session, "select date '2000-01-01' + timetz '20:00:00 PST' as ts,"
                              " dateadd(hour, 2, timetz '13:24:55 PST'),"
                              " datediff(hours, timetz '20:00:00 PST', timetz '00:58:00 EST') as numhours,"
                              " extract(ms from timetz '18:25:33.123456 EST'),"
                              " extract(timezone_hour from timetz '1.12.1997 07:37:16.00 PDT')").rows[0]
    assert text_value(row[0], "timestamptz") == "2000-01-02 04:00:00+00"
    assert text_value(row[1], "timetz") == "23:24:55+00"
    assert row[2:] == (1, 123, -7)
    run_script(session, "create table timetz_test (timetz_val timetz);"
                        " insert into timetz_test values ('04:00:00+00'), ('00:00:00.5550+00'), ('05:58:00+00')")
    rows = run_script(session, "select dateadd(minute, 5, timetz_val) as minplus5_tz, extract(hour from timetz_val),"
                               " datediff(hours, timetz '20:00:00 PST', timetz_val) as numhours,"
                               " date '2000-01-01' + timetz_val as ts from timetz_test").rows
    assert [(text_value(r[0], "timetz"), r[1], r[2], text_value(r[3], "timestamptz")) for r in rows] == [
        ("04:05:00+00", 4, 0, "2000-01-01 04:00:00+00"), ("00:05:00.555+00", 0, -4, "2000-01-01 00:00:00.555+00"),
        ("06:03:00+00", 5, 1, "2000-01-01 05:58:00+00")]


def test_extract_from_a_timestamptz_literal(session):
    # r_EXTRACT_function.md: extract(year from timestamptz '1.12.1997 07:37:16.00 PST') is 1997; the parts are the
    # session time zone's (UTC here, as a Redshift session starts)
    result = run_script(session, "select extract(year from timestamptz '1.12.1997 07:37:16.00 PST'),"
                                 " extract(hour from timestamptz '1.12.1997 07:37:16.00 PST')")
    assert [int(value) for value in result.rows[0]] == [1997, 15]


def test_timeofday_is_the_statements_clock_as_text(session):
    # r_TIMEOFDAY_function.md: 'Thu Sep 19 22:53:50.333525 2013 UTC', the current statement's time even within a
    # transaction block
    run_script(session, "begin")
    first = run_script(session, "select timeofday()")
    second = first
    for _ in range(10_000):  # until the clock's microseconds move on (a frozen value never does)
        second = run_script(session, "select timeofday()")
        if second.rows != first.rows:
            break
    run_script(session, "end")
    assert first.columns[0].name == "timeofday"
    assert re.fullmatch(r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d\.\d{6} \d{4} UTC", first.rows[0][0])
    assert first.rows[0][0] != second.rows[0][0]


def test_datediff_in_weeks_counts_the_week_boundaries_crossed(session):
    # r_DATEDIFF_function.md: "the number of date part boundaries that are crossed" (datediff(year) of 12-31-2008
    # and 01-01-2009 is 1); a week starts on Monday (date_trunc('week')). A Saturday and the Monday after: 1; a Monday
    # and the Sunday of its week: 0; the page's own example: 52.
    result = run_script(session, """
        select datediff(week, '2026-08-15'::date, '2026-08-17'::date), datediff(week, '2026-08-16', '2026-08-17'),
               datediff(w, '2026-08-10'::date, '2026-08-16 23:00'::timestamp), datediff(week, '2026-08-17', '2026-08-15'),
               datediff(week,'2009-01-01','2009-12-31')
    """)
    assert result.rows == [(1, 1, 0, -1, 52)]


def test_convert_timezone_reads_text_as_redshift_reads_timestamps(session):
    # CONVERT_TIMEZONE.md: select convert_timezone('EST', 'PST', '20080305 12:25:29') is 2008-03-05 09:25:29
    assert run_script(session, "select convert_timezone('EST', 'PST', '20080305 12:25:29')").rows == [
        (dt.datetime(2008, 3, 5, 9, 25, 29),)]
