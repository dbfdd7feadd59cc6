"""EventBridge cron expressions, `cron(minutes hours day-of-month month day-of-week year)`, as the EventBridge user
guide documents them ("Cron expressions reference"): day-of-week 1-7 = SUN-SAT, one of day-of-month and day-of-week
`?`, `L` and `nW` in day-of-month, `L` and `n#k` in day-of-week (then alone in its field). The fields are wall-clock
times in UTC, or in the schedule's ScheduleExpressionTimezone (EventBridge Scheduler, "Schedule types": daylight
saving time is followed; a time the spring change skips does not fire, a time the autumn change repeats fires once,
the first time).

A small parser of our own: the PyPI libraries for AWS's syntax are not in the project's environment, and the one
most used (pyawscron 1.0.7) has open crashes on documented forms (a day-of-month step past February, a
day-of-week range) and accepts `* * SAT` (both day fields set), which EventBridge refuses; croniter and its kin
parse Unix cron (5 fields, Sunday = 0, no `?` rule), not AWS's. Forms that Quartz (AWS's model) has and the guide
does not document (`LW`, `L-3`, `6L`, a wrapping range `FRI-MON`) are refused as "not supported locally" rather than
guessed.
"""

from __future__ import annotations

import calendar
import datetime
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

INVALID = "Parameter ScheduleExpression is not valid."  # EventBridge's PutRule ValidationException message
_MONTHS = {name: number for number, name in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}
_DAYS = {name: number for number, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}


class InvalidScheduleExpression(ValueError):
    """An expression EventBridge refuses; the message starts with EventBridge's own."""


def time_zone(name: str) -> datetime.tzinfo:
    """The IANA time zone of a ScheduleExpressionTimezone (system zoneinfo, else the pinned tzdata package)."""
    if name == "UTC":
        return datetime.timezone.utc
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidScheduleExpression(f"ScheduleExpressionTimezone {name!r} is not a time zone EventBridge "
                                        "Scheduler knows: an IANA name such as Europe/Paris") from error


class ScheduleNotSupported(ValueError):
    """A schedule the local cloud cannot run (a form the guide does not document, say); the message starts with
    "not supported locally"."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]
    steps: bool  # "/" allowed (every field but day-of-week)


_FIELDS = [_Field("minutes", 0, 59, {}, True), _Field("hours", 0, 23, {}, True),
           _Field("day-of-month", 1, 31, {}, True), _Field("month", 1, 12, _MONTHS, True),
           _Field("day-of-week", 1, 7, _DAYS, False), _Field("year", 1970, 2199, {}, True)]


@dataclass(frozen=True)
class Cron:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    days: frozenset[int] | None  # day-of-month values; None: day-of-month is "?"
    last_day: bool  # day-of-month L
    nearest_weekday: int | None  # day-of-month nW
    weekdays: frozenset[int] | None  # day-of-week values (1 = SUN); None: day-of-week is "?"
    nth_weekday: tuple[int, int] | None  # day-of-week d#k: the k-th weekday d of the month
    zone: datetime.tzinfo = datetime.timezone.utc  # the wall clock the fields are read on

    def next_after(self, moment: datetime.datetime) -> datetime.datetime | None:
        """The first firing strictly after `moment`, as a UTC time, or None when the years run out."""
        moment = moment.astimezone(datetime.timezone.utc)
        # From a little before the moment's wall time: an autumn change repeats up to an hour (two, in a few past
        # zones), and the firings of that span are ruled out by their instant, not by their wall time.
        start = moment.astimezone(self.zone).replace(tzinfo=None, second=0, microsecond=0) - _REPEATED_SPAN
        for wall in self._wall_times(start):
            firing = _instant(wall, self.zone)
            if firing is not None and firing > moment:
                return firing
        return None

    def _wall_times(self, start: datetime.datetime) -> Iterator[datetime.datetime]:
        """Every matching wall-clock time from `start` on, in order."""
        day = start.date()
        while day.year <= max(self.years):
            if day.year not in self.years:
                day = datetime.date(day.year + 1, 1, 1)
                continue
            if day.month not in self.months:
                day = (datetime.date(day.year, day.month, 1) + datetime.timedelta(days=32)).replace(day=1)
                continue
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        wall = datetime.datetime(day.year, day.month, day.day, hour, minute)
                        if wall >= start:
                            yield wall
            day += datetime.timedelta(days=1)

    def _day_matches(self, day: datetime.date) -> bool:
        days_in_month = calendar.monthrange(day.year, day.month)[1]
        weekday = day.isoweekday() % 7 + 1  # ISO Monday = 1 ... Sunday = 7 -> AWS Sunday = 1 ... Saturday = 7
        if self.weekdays is not None:
            return weekday in self.weekdays
        if self.nth_weekday is not None:
            wanted, nth = self.nth_weekday
            return weekday == wanted and (day.day - 1) // 7 + 1 == nth
        if self.last_day:
            return day.day == days_in_month
        if self.nearest_weekday is not None:
            return day.day == _nearest_weekday(day.year, day.month, self.nearest_weekday, days_in_month)
        return self.days is not None and day.day in self.days


_REPEATED_SPAN = datetime.timedelta(hours=3)


def _instant(wall: datetime.datetime, zone: datetime.tzinfo) -> datetime.datetime | None:
    """The UTC instant of a wall-clock time in `zone`: the first of two when the autumn change repeats it, None when
    the spring change skips it."""
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(datetime.timezone.utc)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return instant


def _nearest_weekday(year: int, month: int, target: int, days_in_month: int) -> int | None:
    """The weekday (Monday-Friday) nearest to day `target`, within the month (Quartz's W)."""
    if target > days_in_month:
        return None
    weekday = datetime.date(year, month, target).isoweekday()
    if weekday == 6:  # Saturday: the Friday before, or the Monday after when the 1st
        return target - 1 if target > 1 else target + 2
    if weekday == 7:  # Sunday: the Monday after, or the Friday before when the last day
        return target + 1 if target < days_in_month else target - 2
    return target


def parse_cron(expression: str, zone: datetime.tzinfo = datetime.timezone.utc) -> Cron:
    """`cron(...)` read on the wall clock of `zone` -> Cron; InvalidScheduleExpression or ScheduleNotSupported
    otherwise."""
    text = expression.strip()
    if not (text.startswith("cron(") and text.endswith(")")):
        raise _invalid(expression, "a cron expression is cron(<6 fields>)")
    fields = text[len("cron("):-1].split()
    if len(fields) != 6:
        raise _invalid(expression, f"6 fields (minutes hours day-of-month month day-of-week year), not {len(fields)}")
    minutes, hours, day_of_month, month, day_of_week, year = fields
    if (day_of_month == "?") == (day_of_week == "?"):
        raise _invalid(expression, "exactly one of day-of-month and day-of-week must be ?")
    cron = {"last_day": False, "nearest_weekday": None, "nth_weekday": None, "days": None, "weekdays": None}
    if day_of_month != "?":
        cron.update(_day_of_month(expression, day_of_month))
    if day_of_week != "?":
        cron.update(_day_of_week(expression, day_of_week))
    return Cron(expression=text, minutes=_values(expression, minutes, _FIELDS[0]),
                hours=_values(expression, hours, _FIELDS[1]), months=_values(expression, month, _FIELDS[3]),
                years=_values(expression, year, _FIELDS[5]), zone=zone, **cron)


def _day_of_month(expression: str, text: str) -> dict[str, object]:
    upper = text.upper()
    if upper == "L":
        return {"last_day": True}
    if upper.endswith("W") and upper[:-1].isdigit():
        day = int(upper[:-1])
        if not 1 <= day <= 31:
            raise _invalid(expression, f"day-of-month {text}: 1-31")
        return {"nearest_weekday": day}
    if "L" in upper or "W" in upper:
        raise _not_supported(expression, f"day-of-month {text!r} (the guide documents L and nW)")
    return {"days": _values(expression, text, _FIELDS[2])}


def _day_of_week(expression: str, text: str) -> dict[str, object]:
    upper = text.upper()
    if "#" in upper:
        day, _, nth = upper.partition("#")
        if "," in upper or not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise _invalid(expression, f"day-of-week {text}: one d#k alone in its field, k from 1 to 5")
        return {"nth_weekday": (_value(expression, day, _FIELDS[4]), int(nth))}
    if upper == "L":
        return {"weekdays": frozenset({7})}  # the last day of the week: Saturday
    if "L" in upper:  # no day name has an L
        raise _not_supported(expression, f"day-of-week {text!r} (the guide documents L and d#k)")
    return {"weekdays": _values(expression, text, _FIELDS[4])}


def _values(expression: str, text: str, field: _Field) -> frozenset[int]:
    values: set[int] = set()
    for part in text.upper().split(","):
        span, slash, step_text = part.partition("/")
        if slash and (not field.steps or not step_text.isdigit() or int(step_text) < 1):
            raise _invalid(expression, f"{field.name} {text}: " + (
                "no / in this field" if not field.steps else "a step is a positive number"))
        step = int(step_text) if slash else 1
        if span == "*":
            low, high = field.low, field.high
        elif "-" in span:
            first, _, last = span.partition("-")
            low, high = _value(expression, first, field), _value(expression, last, field)
            if low > high:
                raise _not_supported(expression, f"{field.name} range {span} that wraps around")
        else:
            low = _value(expression, span, field)
            high = field.high if slash else low
        values.update(range(low, high + 1, step))
    return frozenset(values)


def _value(expression: str, text: str, field: _Field) -> int:
    if text in field.names:
        return field.names[text]
    if not text.isdigit() or not field.low <= int(text) <= field.high:
        raise _invalid(expression, f"{field.name} {text!r}: {field.low}-{field.high}"
                       + (f" or {next(iter(field.names))}-{list(field.names)[-1]}" if field.names else ""))
    return int(text)


def _invalid(expression: str, reason: str) -> InvalidScheduleExpression:
    return InvalidScheduleExpression(f"{INVALID} {expression!r}: {reason}")


def _not_supported(expression: str, what: str) -> ScheduleNotSupported:
    return ScheduleNotSupported(f"not supported locally: schedule expression {expression!r}: {what}")
