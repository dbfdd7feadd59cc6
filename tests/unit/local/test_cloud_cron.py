"""EventBridge cron expressions (shiftflow.local.cloud.cron): the examples of the EventBridge user guide's "Cron
expressions reference", its wildcards, and the expressions PutRule refuses, refused with its message."""

from __future__ import annotations

import datetime

import pytest

from shiftflow.local.cloud.cron import InvalidScheduleExpression, ScheduleNotSupported, parse_cron
from shiftflow.local.cloud.schedules import Rate, schedule_timing

UTC = datetime.timezone.utc
# Wednesday 2 December 2026, 09:07 UTC
NOW = datetime.datetime(2026, 12, 2, 9, 7, 30, tzinfo=UTC)


def _firings(expression: str, count: int, start: datetime.datetime = NOW) -> list[str]:
    cron, moment, found = parse_cron(expression), start, []
    for _ in range(count):
        moment = cron.next_after(moment)
        found.append(moment.strftime("%a %Y-%m-%d %H:%M"))
    return found


@pytest.mark.parametrize(("expression", "expected"), [
    ("cron(0 10 * * ? *)", ["Wed 2026-12-02 10:00", "Thu 2026-12-03 10:00"]),  # 10:00 every day
    ("cron(15 12 * * ? *)", ["Wed 2026-12-02 12:15", "Thu 2026-12-03 12:15"]),
    ("cron(0 18 ? * MON-FRI *)", ["Wed 2026-12-02 18:00", "Thu 2026-12-03 18:00", "Fri 2026-12-04 18:00",
                                  "Mon 2026-12-07 18:00"]),
    ("cron(0 8 1 * ? *)", ["Fri 2027-01-01 08:00", "Mon 2027-02-01 08:00"]),  # 8:00 on the first of the month
    ("cron(0/15 * * * ? *)", ["Wed 2026-12-02 09:15", "Wed 2026-12-02 09:30"]),
    ("cron(0/5 8-17 ? * MON-FRI *)", ["Wed 2026-12-02 09:10", "Wed 2026-12-02 09:15"]),
    ("cron(0 9 ? * 2#1 *)", ["Mon 2026-12-07 09:00", "Mon 2027-01-04 09:00"]),  # the first Monday of the month
    ("cron(1/10 9 * * ? *)", ["Wed 2026-12-02 09:11", "Wed 2026-12-02 09:21"]),  # the guide's 1/10: 11, 21, 31 ...
    ("cron(0 12 L * ? *)", ["Thu 2026-12-31 12:00", "Sun 2027-01-31 12:00", "Sun 2027-02-28 12:00"]),
    ("cron(0 12 ? * L *)", ["Sat 2026-12-05 12:00", "Sat 2026-12-12 12:00"]),  # the last day of the week
    # 3W: the weekday nearest the 3rd (January 3, 2027 is a Sunday: Monday the 4th; April 3 a Saturday: Friday 2nd)
    ("cron(0 6 3W * ? 2027)", ["Mon 2027-01-04 06:00", "Wed 2027-02-03 06:00", "Wed 2027-03-03 06:00",
                               "Fri 2027-04-02 06:00"]),
    ("cron(0 6 1W * ? 2027)", ["Fri 2027-01-01 06:00", "Mon 2027-02-01 06:00", "Mon 2027-03-01 06:00",
                               "Thu 2027-04-01 06:00", "Mon 2027-05-03 06:00"]),  # May 1 is a Saturday: Monday 3rd
    ("cron(30 4 29 FEB ? *)", ["Tue 2028-02-29 04:30", "Sun 2032-02-29 04:30"]),
    ("cron(0 0 ? JAN,JUL SUN,SAT 2027-2028)", ["Sat 2027-01-02 00:00", "Sun 2027-01-03 00:00"]),
])
def test_the_guides_expressions_fire_when_documented(expression: str, expected: list[str]):
    assert _firings(expression, len(expected)) == expected


def test_a_cron_whose_years_have_passed_fires_no_more():
    assert parse_cron("cron(0 0 1 1 ? 2026)").next_after(NOW) is None


@pytest.mark.parametrize("expression", [
    "cron(0 3 * * * *)",  # day-of-month and day-of-week both set
    "cron(0 3 ? * ? *)",  # both ?
    "cron(7 20 * * 1-7 *)",
    "cron(0 3 * * ?)",  # five fields (Unix cron)
    "cron(*/1 * * * *)",
    "cron(60 * * * ? *)", "cron(0 24 * * ? *)", "cron(0 0 32 * ? *)", "cron(0 0 ? 13 * *)", "cron(0 0 ? * 8 *)",
    "cron(0 0 ? * 0 *)",  # Sunday is 1, not 0
    "cron(0 0 * * ? 1969)",
    "cron(0 0 ? * 3#1,6#3 *)",  # one d#k alone
    "cron(0 0 ? * 2#6 *)",
    "cron(0 0 ? * MON/2 *)",  # no / in day-of-week
    "cron(0/0 * * * ? *)",
    "cron(a * * * ? *)",
    "cron 0 3 * * ? *",
    "every day",
    "rate(1 minutes)", "rate(5 minute)", "rate(0 hours)",
])
def test_expressions_eventbridge_refuses_are_refused_with_its_message(expression: str):
    with pytest.raises(InvalidScheduleExpression, match=r"^Parameter ScheduleExpression is not valid\. "):
        schedule_timing(expression)


@pytest.mark.parametrize("expression", ["cron(0 0 LW * ? *)", "cron(0 0 L-3 * ? *)", "cron(0 0 ? * 6L *)",
                                        "cron(0 0 ? * FRI-MON *)", "at(2026-12-24T18:00:00)"])
def test_quartz_forms_the_guide_does_not_document_are_not_supported_locally(expression: str):
    with pytest.raises(ScheduleNotSupported, match="^not supported locally: "):
        schedule_timing(expression)


def test_rate_and_cron_both_give_timings():
    assert schedule_timing("rate(5 minutes)") == Rate(300.0)
    assert schedule_timing(" cron(0 3 * * ? *) ").next_after(NOW) == datetime.datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


# ---- ScheduleExpressionTimezone (EventBridge Scheduler user guide, "Schedule types": time zones, daylight saving)

def _instants(expression: str, zone: str, start: datetime.datetime, count: int) -> list[str]:
    timing, moment, found = schedule_timing(expression, zone), start, []
    for _ in range(count):
        moment = timing.next_after(moment)
        found.append(moment.strftime("%m-%d %H:%MZ"))
    return found


def test_a_cron_in_a_time_zone_fires_on_its_wall_clock_through_the_seasons():
    # 09:00 in Paris on weekdays: 08:00 UTC in winter (CET), 07:00 UTC from the last Sunday of March (CEST).
    assert _instants("cron(0 9 ? * MON-FRI *)", "Europe/Paris", datetime.datetime(2027, 3, 25, 12, tzinfo=UTC),
                     3) == ["03-26 08:00Z", "03-29 07:00Z", "03-30 07:00Z"]


def test_a_time_the_spring_change_skips_does_not_fire():
    # New York skips 02:00-03:00 on 14 March 2027: 02:30 that day does not exist.
    assert _instants("cron(30 2 * * ? *)", "America/New_York", datetime.datetime(2027, 3, 13, tzinfo=UTC),
                     2) == ["03-13 07:30Z", "03-15 06:30Z"]


def test_a_time_the_autumn_change_repeats_fires_once():
    # New York lives 01:00-02:00 twice on 1 November 2026 (EDT, then EST): 01:30 fires the first time only.
    start = datetime.datetime(2026, 10, 31, 12, tzinfo=UTC)
    assert _instants("cron(30 1 * * ? *)", "America/New_York", start, 2) == ["11-01 05:30Z", "11-02 06:30Z"]
    between = datetime.datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # 01:00 EST, the second time round
    assert _instants("cron(30 1 * * ? *)", "America/New_York", between, 1) == ["11-02 06:30Z"]
    # Every half hour by the wall clock: the repeated hour is not run again.
    assert _instants("cron(0/30 * * * ? *)", "America/New_York", datetime.datetime(2026, 11, 1, 4, 45, tzinfo=UTC),
                     4) == ["11-01 05:00Z", "11-01 05:30Z", "11-01 07:00Z", "11-01 07:30Z"]


def test_a_rate_is_a_fixed_duration_in_any_zone():
    assert schedule_timing("rate(1 day)", "America/New_York") == Rate(86400.0)


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(InvalidScheduleExpression, match="ScheduleExpressionTimezone 'Mars/Olympus'"):
        schedule_timing("cron(0 9 * * ? *)", "Mars/Olympus")


def test_time_zones_come_from_the_pinned_tzdata_when_the_system_has_none():
    """A fresh machine may lack /usr/share/zoneinfo: the zones then come from the tzdata package (requirements)."""
    import zoneinfo

    zoneinfo.reset_tzpath(to=[])
    try:
        zoneinfo.ZoneInfo.clear_cache()
        assert _instants("cron(0 9 ? * MON-FRI *)", "Europe/Paris", datetime.datetime(2027, 3, 26, tzinfo=UTC),
                         1) == ["03-26 08:00Z"]
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()
