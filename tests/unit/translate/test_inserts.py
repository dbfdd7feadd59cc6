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
