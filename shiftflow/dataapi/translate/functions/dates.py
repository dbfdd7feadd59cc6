"""Redshift date and time functions (SQL reference: "Date and time functions").

- DATEADD: a TIME stays a TIME (wrapping past midnight), a DATE becomes a TIMESTAMP, text is read as a TIMESTAMP;
  adding years to 29 February gives 1 March when the result year has no 29 February (dateadd(year, 1,
  '2016-02-29') is 2017-03-01), while months clamp to the month's last day (dateadd(month, 12, '2016-02-29') is
  2017-02-28); ADD_MONTHS keeps a month's last day the last day (rewrite.py's add_months helper).
- DATEDIFF on TIME values counts boundaries within one day, of TIMETZ values with their times of day in UTC.
- EXTRACT gives an integer part alone: ms / us without the seconds (extract(ms from '12:08:43.101') is 101);
  DATE_PART (pgdate_part) a DOUBLE, with seconds and their fraction for sec, the fraction alone for ms / us.
- TO_CHAR and TO_DATE keep Redshift's format model (sqlglot's strftime mapping loses MONTH's case and padding, DY,
  ID ...): PostgreSQL's own to_char / to_date are Redshift's; on DuckDB the model is compiled (formats.py). TO_DATE
  without is_strict rolls a day or month past the end over (20010631 is 2001-07-01) for year / month / day models.
- DATE_CMP, TIMESTAMP_CMP, INTERVAL_CMP & co. (-1, 0 or 1; NULL when either is NULL) are PostgreSQL's own; on
  DuckDB a comparison of the two values as the function's argument types. DATE_PART_YEAR is the year, an INTEGER.
"""

from __future__ import annotations

import datetime
import zoneinfo

from sqlglot import exp

from shiftflow.dataapi.translate.functions.conversions import text_argument
from shiftflow.dataapi.translate.functions.formats import (date_rollover, duckdb_strptime, duckdb_to_char,
                                                          timestamp_rollover,
                                                            duckdb_to_date, is_numeric_model, uses_time_zone)
from shiftflow.dataapi.translate.functions.numbers import duckdb_numeric_to_char, postgres_numeric_model
from shiftflow.dataapi.translate.model import NotSupportedLocally

# Redshift's date part names and abbreviations ("Date parts for date or timestamp functions") -> one name each.
_DATEPARTS = {
    **dict.fromkeys(("millennium", "millennia", "mil", "mils"), "millennium"),
    **dict.fromkeys(("century", "centuries", "c", "cent", "cents"), "century"),
    **dict.fromkeys(("decade", "decades", "dec", "decs"), "decade"),
    **dict.fromkeys(("epoch",), "epoch"),
    **dict.fromkeys(("year", "years", "y", "yr", "yrs"), "year"),
    **dict.fromkeys(("quarter", "quarters", "qtr", "qtrs"), "quarter"),
    **dict.fromkeys(("month", "months", "mon", "mons"), "month"),
    **dict.fromkeys(("week", "weeks", "w"), "week"),
    **dict.fromkeys(("dayofweek", "dow", "dw", "weekday"), "dayofweek"),
    **dict.fromkeys(("dayofyear", "doy", "dy", "yearday"), "dayofyear"),
    **dict.fromkeys(("day", "days", "d"), "day"),
    **dict.fromkeys(("hour", "hours", "h", "hr", "hrs"), "hour"),
    **dict.fromkeys(("minute", "minutes", "m", "min", "mins"), "minute"),
    **dict.fromkeys(("second", "seconds", "s", "sec", "secs"), "second"),
    **dict.fromkeys(("millisecond", "milliseconds", "ms", "msec", "msecs", "msecond", "mseconds", "millisec",
                     "millisecs", "millisecon"), "millisecond"),
    **dict.fromkeys(("microsecond", "microseconds", "microsec", "microsecs", "microsecond", "usecond", "useconds",
                     "us", "usec", "usecs"), "microsecond"),
    **dict.fromkeys(("timezone",), "timezone"),
    **dict.fromkeys(("timezone_hour",), "timezone_hour"),
    **dict.fromkeys(("timezone_minute",), "timezone_minute"),
}
# sqlglot's names for EXTRACT fields (it spells them for each engine).
_EXTRACT_FIELDS = {"millennium": "MILLENNIUM", "century": "CENTURY", "decade": "DECADE", "epoch": "EPOCH",
                   "year": "YEAR", "quarter": "QUARTER", "month": "MONTH", "week": "WEEK", "dayofweek": "DOW",
                   "dayofyear": "DOY", "day": "DAY", "hour": "HOUR", "minute": "MINUTE", "second": "SECOND",
                   "millisecond": "MILLISECONDS", "microsecond": "MICROSECONDS", "timezone": "TIMEZONE",
                   "timezone_hour": "TIMEZONE_HOUR", "timezone_minute": "TIMEZONE_MINUTE"}
# DATEADD units as intervals: (interval unit, multiplier); year-like units go through shiftflow_add_years.
_INTERVALS = {"quarter": ("MONTH", 3), "month": ("MONTH", 1), "week": ("DAY", 7), "day": ("DAY", 1),
              "hour": ("HOUR", 1), "minute": ("MINUTE", 1), "second": ("SECOND", 1),
              "millisecond": ("MILLISECOND", 1), "microsecond": ("MICROSECOND", 1)}
_YEARS = {"year": 1, "decade": 10, "century": 100, "millennium": 1000}

_TEMPORAL_TYPES = {exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ,
                   exp.DataType.Type.DATETIME, exp.DataType.Type.TIME, exp.DataType.Type.TIMETZ}
_TEMPORAL_CALLS = (exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentDatetime, exp.DateTrunc, exp.TimestampTrunc,
                   exp.StrToTime, exp.StrToDate, exp.AtTimeZone, exp.Add, exp.Sub)


def datepart(node: exp.Expression | None) -> str:
    """The Redshift date part named by a DATEADD / DATEDIFF / DATE_PART argument (identifier, word or string)."""
    if node is None:
        return "day"
    text = node.name if isinstance(node, (exp.Column, exp.Var, exp.Literal, exp.Identifier)) else node.sql()
    part = _DATEPARTS.get(text.lower())
    if part is None:
        raise NotSupportedLocally(f"date part {text!r}")
    return part


def is_text(node: exp.Expression) -> bool:
    """A string literal or a bound parameter (bound values are strings)."""
    return (isinstance(node, exp.Literal) and node.is_string) or isinstance(node, exp.Placeholder)


def is_temporal(node: exp.Expression) -> bool:
    if isinstance(node, exp.Paren):
        return is_temporal(node.this)
    if isinstance(node, exp.Cast):
        return node.to.this in _TEMPORAL_TYPES
    return isinstance(node, _TEMPORAL_CALLS)


def is_time(node: exp.Expression) -> bool:
    """Visibly a TIME value: a TIME literal or cast."""
    if isinstance(node, exp.Paren):
        return is_time(node.this)
    return isinstance(node, exp.Cast) and node.to.this in {exp.DataType.Type.TIME, exp.DataType.Type.TIMETZ}


def timestamp_argument(node: exp.Expression) -> exp.Expression:
    """A datetime function's argument: text is read as a TIMESTAMP (an explicit cast, which types.py reads as
    Redshift reads its literals)."""
    return exp.cast(node, exp.DataType.Type.TIMESTAMP) if is_text(node) else node


def _datetime_operand(node: exp.Expression) -> exp.Expression:
    """DATEADD's operand: text as a TIMESTAMP; a column of unknown type through shiftflow_datetime (VARCHAR is read
    as a TIMESTAMP, dates, timestamps and times are kept)."""
    if is_text(node):
        return exp.cast(node, exp.DataType.Type.TIMESTAMP)
    if is_temporal(node):
        return node
    return exp.Anonymous(this="shiftflow_datetime", expressions=[node])


def _dateadd(node: exp.Expression, engine: str) -> exp.Expression:
    part = datepart(node.args.get("unit"))
    amount, operand = node.expression, _datetime_operand(node.this)
    if part in _YEARS:
        years = amount if _YEARS[part] == 1 else exp.Mul(this=amount, expression=exp.Literal.number(_YEARS[part]))
        return exp.Anonymous(this="shiftflow_add_years", expressions=[operand, exp.cast(years, "INT")])
    if part not in _INTERVALS:
        raise NotSupportedLocally(f"DATEADD by {part}")
    unit, factor = _INTERVALS[part]
    return exp.Paren(this=exp.Add(this=operand, expression=interval(amount, unit, factor)))


def interval(amount: exp.Expression, unit: str, factor: int = 1) -> exp.Expression:
    """`amount` units as an INTERVAL, for a literal amount or any integer expression."""
    if isinstance(amount, exp.Literal) and not amount.is_string:
        return exp.Interval(this=exp.Literal.string(str(int(amount.this) * factor)), unit=exp.var(unit))
    if isinstance(amount, exp.Neg) and isinstance(amount.this, exp.Literal):
        return exp.Interval(this=exp.Literal.string(str(-int(amount.this.this) * factor)), unit=exp.var(unit))
    one = exp.Interval(this=exp.Literal.string(str(factor)), unit=exp.var(unit))
    return exp.Paren(this=exp.Mul(this=one, expression=exp.Paren(this=amount)))


def _datediff(node: exp.Expression, engine: str) -> exp.Expression:
    """DATEDIFF counts unit boundaries crossed (DuckDB's date_diff does but for weeks; PostgreSQL runs
    shiftflow_datediff). TIME
    values are taken on one day (the engines cannot cast a TIME to a TIMESTAMP)."""
    for key in ("this", "expression"):
        value = node.args.get(key)
        if value is None:
            continue
        if is_text(value):
            node.set(key, exp.cast(value, exp.DataType.Type.TIMESTAMP))
        elif not is_temporal(value) or is_time(value):
            node.set(key, exp.Anonymous(this="shiftflow_datediff_operand", expressions=[value]))
    # Redshift datediff(unit, start, end) parses as DateDiff(this=end, expression=start).
    unit = node.args.get("unit")
    start, end = node.expression, node.this
    if engine != "postgres":
        if unit is not None and _DATEPARTS.get(unit.name.lower()) == "week":
            # DuckDB's date_diff('week') counts whole weeks (0 from a Sunday to the Monday after); the Mondays
            # crossed are the days between the weeks' starts over 7 (date_trunc('week'), as PostgreSQL's helper)
            starts = [exp.cast(exp.Anonymous(this="date_trunc", expressions=[exp.Literal.string("week"), value]),
                               exp.DataType.Type.DATE) for value in (start, end)]
            return exp.IntDiv(this=exp.Anonymous(this="date_diff", expressions=[exp.Literal.string("day"), *starts]),
                              expression=exp.Literal.number(7))
        return node
    return exp.Anonymous(this="shiftflow_datediff", expressions=[
        exp.Literal.string(unit.name.lower() if unit is not None else "day"), exp.cast(start, "TIMESTAMP"),
        exp.cast(end, "TIMESTAMP")])


def _extract_field(part: str, value: exp.Expression) -> exp.Expression:
    if value.is_type(exp.DataType.Type.TIMESTAMPTZ):
        # Both engines take a TIMESTAMPTZ's parts in the session's time zone (DuckDB's TimeZone, which SET timezone
        # sets: commands/settings.py), as Redshift does; sqlglot's DuckDB generator refuses a visibly typed one for
        # Snowflake's sake (its server time zone), which a parenthesis keeps it from seeing.
        value = exp.Paren(this=value)
    return exp.Extract(this=exp.var(_EXTRACT_FIELDS[part]), expression=value)


def _microseconds_of_second(value: exp.Expression) -> exp.Expression:
    return exp.Mod(this=exp.Paren(this=_extract_field("microsecond", value)), expression=exp.Literal.number(1000000))


def _extract(node: exp.Extract, engine: str) -> exp.Expression:
    """EXTRACT: an integer, the named part alone (seconds without their fraction, milliseconds without seconds)."""
    part, value = datepart(node.this), timestamp_argument(node.expression)
    if part == "second":
        field = exp.Floor(this=_extract_field("second", value))
    elif part == "millisecond":
        field = exp.Floor(this=exp.Div(this=_microseconds_of_second(value), expression=exp.Literal.number(1000)))
    elif part == "microsecond":
        field = _microseconds_of_second(value)
    elif part == "epoch":
        return exp.cast(exp.Floor(this=_extract_field("epoch", value)), "BIGINT")
    else:
        field = _extract_field(part, value)
    return exp.cast(field, "INT")


def _date_part(node: exp.Anonymous, engine: str) -> exp.Expression:
    """DATE_PART: a DOUBLE; seconds with their fraction, milliseconds and microseconds of the second."""
    if len(node.expressions) != 2:
        return node
    part, value = datepart(node.expressions[0]), timestamp_argument(node.expressions[1])
    if part == "second":
        field = exp.Div(this=exp.cast(_extract_field("microsecond", value), "DOUBLE"),
                        expression=exp.Literal.number(1000000))
    elif part == "millisecond":
        field = exp.Div(this=exp.cast(_microseconds_of_second(value), "DOUBLE"), expression=exp.Literal.number(1000))
    elif part == "microsecond":
        field = exp.cast(_microseconds_of_second(value), "DOUBLE")
    else:
        field = exp.cast(_extract_field(part, value), "DOUBLE")
    return exp.Paren(this=field)


def _format_model(node: exp.Anonymous, function: str) -> str:
    model = node.expressions[1] if len(node.expressions) > 1 else None
    if not (isinstance(model, exp.Literal) and model.is_string):
        raise NotSupportedLocally(f"{function} with a computed format on the DuckDB engine")
    return model.this


def _to_char(node: exp.Anonymous, engine: str) -> exp.Expression:
    if len(node.expressions) != 2:
        return node
    model = node.expressions[1]
    if isinstance(model, exp.Literal) and model.is_string and is_numeric_model(model.this):
        return _numeric_to_char(node.expressions[0], model.this, engine)
    value = timestamp_argument(node.expressions[0])
    if engine == "postgres":
        model = node.expressions[1]
        if isinstance(model, exp.Literal) and uses_time_zone(model.this):
            # Redshift prints a TIMESTAMP's zone as UTC (PostgreSQL prints none for a timestamp without zone).
            value = exp.cast(value, exp.DataType.Type.TIMESTAMPTZ)
        return exp.Anonymous(this="to_char", expressions=[value, model])
    return duckdb_to_char(value, _format_model(node, "TO_CHAR"))


def _numeric_to_char(value: exp.Expression, model: str, engine: str) -> exp.Expression:
    """TO_CHAR(number, model): PostgreSQL's own with L as Redshift's $; DuckDB's compiled (numbers.py)."""
    if engine == "postgres":
        return exp.Anonymous(this="to_char", expressions=[value, exp.Literal.string(postgres_numeric_model(model))])
    return duckdb_numeric_to_char(value, model)


def _to_date(node: exp.Anonymous, engine: str) -> exp.Expression:
    """TO_DATE(text, model [, is_strict]): the engines' to_date reject June 31 as Redshift's is_strict does;
    Redshift's default rolls it over to July 1, which date_rollover computes when the plain reading fails."""
    if len(node.expressions) not in (2, 3):
        return node
    text, model = node.expressions[0], node.expressions[1]
    strict = node.expressions[2] if len(node.expressions) == 3 else exp.false()
    if not isinstance(strict, exp.Boolean):
        raise NotSupportedLocally("TO_DATE with a computed is_strict")
    if engine == "postgres":
        plain: exp.Expression = exp.Anonymous(this="to_date", expressions=[text, model])
        attempt: exp.Expression = exp.Anonymous(this="shiftflow_try_to_date", expressions=[text.copy(), model.copy()])
    else:
        plain = duckdb_to_date(text, _format_model(node, "TO_DATE"))
        attempt = duckdb_to_date(text, _format_model(node, "TO_DATE"), attempt=True)
    if strict.this or not (isinstance(model, exp.Literal) and model.is_string):
        return plain
    rollover = date_rollover(text, model.this)
    if rollover is None:
        return plain
    # the plain reading last: when neither reading works, its error is the one the user sees
    return exp.Coalesce(this=attempt, expressions=[rollover, plain])


def _to_timestamp(node: exp.Anonymous, engine: str) -> exp.Expression:
    """TO_TIMESTAMP(text, model [, is_strict]): a TIMESTAMPTZ (r_TO_TIMESTAMP.md), read in UTC (Redshift sessions
    are UTC); a timestamp argument is read as its text (`to_timestamp(sysdate, 'YYYY-MM-DD HH24:MI:SS')`, its
    fraction past the model ignored). PostgreSQL's own to_timestamp reads as Redshift's with is_strict true; by
    default a field past its end counts on into the next (24:38:15 is the next day's 00:38:15), which
    formats.timestamp_rollover computes when the plain reading fails."""
    if len(node.expressions) not in (2, 3):
        return node
    strict = node.expressions[2] if len(node.expressions) == 3 else exp.false()
    if not isinstance(strict, exp.Boolean):
        raise NotSupportedLocally("TO_TIMESTAMP with a computed is_strict")
    text, model = text_argument(node.expressions[0]), node.expressions[1]
    if engine == "postgres":
        plain: exp.Expression = exp.Anonymous(this="to_timestamp", expressions=[text, model])
        attempt: exp.Expression = exp.Anonymous(this="shiftflow_try_to_timestamp",
                                                expressions=[text.copy(), model.copy()])
    else:
        read = _format_model(node, "TO_TIMESTAMP")
        plain = exp.Anonymous(this="timezone", expressions=[
            exp.Literal.string("UTC"), duckdb_strptime(text, read, "TO_TIMESTAMP")])
        attempt = exp.Anonymous(this="timezone", expressions=[
            exp.Literal.string("UTC"), duckdb_strptime(text, read, "TO_TIMESTAMP", attempt=True)])
    rollover = None
    if not strict.this and isinstance(model, exp.Literal) and model.is_string:
        rollover = timestamp_rollover(text, model.this)
    if rollover is None:
        return plain
    # the plain reading last: when neither reading works, its error is the one the user sees
    return exp.Coalesce(this=attempt, expressions=[rollover, plain])


# The comparison functions of "Date and time functions" and the types they read their arguments as.
_DATE, _TIMESTAMP, _TIMESTAMPTZ = exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ
_COMPARE_FUNCTIONS = {
    "date_cmp": (_DATE, _DATE), "date_cmp_timestamp": (_DATE, _TIMESTAMP),
    "date_cmp_timestamptz": (_DATE, _TIMESTAMPTZ),
    "timestamp_cmp": (_TIMESTAMP, _TIMESTAMP), "timestamp_cmp_date": (_TIMESTAMP, _DATE),
    "timestamp_cmp_timestamptz": (_TIMESTAMP, _TIMESTAMPTZ), "timestamptz_cmp": (_TIMESTAMPTZ, _TIMESTAMPTZ),
    "timestamptz_cmp_date": (_TIMESTAMPTZ, _DATE), "timestamptz_cmp_timestamp": (_TIMESTAMPTZ, _TIMESTAMP),
    "interval_cmp": (exp.DataType.Type.INTERVAL, exp.DataType.Type.INTERVAL)}


def _compare_values(node: exp.Anonymous, engine: str) -> exp.Expression:
    if engine != "duckdb" or len(node.expressions) != 2:
        return node
    types = _COMPARE_FUNCTIONS[node.name.lower()]
    first, second = (exp.cast(value, to) for value, to in zip(node.expressions, types))
    outcomes = ((exp.LT, -1), (exp.GT, 1), (exp.EQ, 0))  # NULL when either is NULL
    compared = exp.Case(ifs=[exp.If(this=comparison(this=first.copy(), expression=second.copy()),
                                    true=exp.Literal.number(result)) for comparison, result in outcomes])
    return exp.cast(compared, exp.DataType.Type.INT)


def _date_part_year(node: exp.Anonymous, engine: str) -> exp.Expression:
    if len(node.expressions) != 1:
        return node
    year = exp.Extract(this=exp.var("YEAR"), expression=exp.cast(node.expressions[0], _DATE))
    return exp.cast(year, exp.DataType.Type.INT)


def timeofday(zone: str) -> str:
    """TIMEOFDAY's text (r_TIMEOFDAY_function.md: 'Thu Sep 19 22:53:50.333525 2013 UTC'), PostgreSQL's: the clock
    when the statement runs (not the transaction's start), in the session's time zone, named by its abbreviation."""
    return datetime.datetime.now(zoneinfo.ZoneInfo(zone)).strftime("%a %b %d %H:%M:%S.%f %Y %Z")


def _timeofday(node: exp.Anonymous, engine: str) -> exp.Expression:
    """TIMEOFDAY() is PostgreSQL's own; on DuckDB, whose clock functions all give the transaction's start, a Python
    function (evaluated once per statement: DuckDB folds a call of constant arguments when it plans one)."""
    if engine == "postgres" or node.expressions:
        return node
    zone = exp.Anonymous(this="current_setting", expressions=[exp.Literal.string("TimeZone")])
    return exp.Anonymous(this="shiftflow_timeofday", expressions=[zone])


DUCKDB_FUNCTIONS = {"shiftflow_timeofday": (timeofday, ("VARCHAR",), "VARCHAR")}

HANDLERS = {**dict.fromkeys(_COMPARE_FUNCTIONS, _compare_values), "date_part_year": _date_part_year,
            "timeofday": _timeofday,
            exp.TsOrDsAdd: _dateadd, exp.DateAdd: _dateadd, exp.TsOrDsDiff: _datediff, exp.DateDiff: _datediff,
            exp.DatetimeDiff: _datediff, exp.TimestampDiff: _datediff,
            exp.Extract: _extract, "date_part": _date_part, "pgdate_part": _date_part, "to_char": _to_char,
            "to_date": _to_date, "to_timestamp": _to_timestamp}
PARSER_FUNCTIONS = {name: (lambda args, name=name: exp.Anonymous(this=name.lower(), expressions=args))
                    for name in ("DATE_PART", "PGDATE_PART", "TO_CHAR", "TO_DATE", "TO_TIMESTAMP")}
COLUMN_NAMES = {"date_part_year": "date_part_year", "timeofday": "timeofday",
                exp.TsOrDsAdd: "date_add", exp.DateAdd: "date_add", exp.Extract: "date_part",
                "date_part": "pgdate_part", "pgdate_part": "pgdate_part", "to_char": "to_char", "to_date": "to_date",
                "to_timestamp": "to_timestamp"}

DUCKDB_SETUP = (
    # DATEADD's operand: VARCHAR is read as a TIMESTAMP; dates, timestamps and times are added to as they are.
    "CREATE OR REPLACE TEMP MACRO shiftflow_datetime(x VARCHAR) AS CAST(x AS TIMESTAMP), (x) AS x",
    # Years from the first of the month, then the days: 29 February + 1 year is 1 March (Redshift's DATEADD).
    "CREATE OR REPLACE TEMP MACRO shiftflow_add_years(t, n) AS date_trunc('month', CAST(t AS TIMESTAMP))"
    " + to_years(n) + (CAST(t AS TIMESTAMP) - date_trunc('month', CAST(t AS TIMESTAMP)))",
    # DATEDIFF of TIME values on one day; a TIMETZ by its time of day in UTC (r_DATEDIFF_function.md: 20:00 PST to
    # 00:58 EST is 1 hour, 04:00 to 05:58 UTC). The session's time zone is UTC (setup.py).
    "CREATE OR REPLACE TEMP MACRO shiftflow_datediff_operand(x TIME) AS DATE '1970-01-01' + x,"
    " (x TIMETZ) AS DATE '1970-01-01' + CAST(CAST(DATE '1970-01-01' + x AS TIMESTAMP) AS TIME), (x) AS x",
    # TO_DATE's rollover (formats.date_rollover): regular expression groups, two-digit years as PostgreSQL reads
    # them, months and days past the end counted on.
    "CREATE OR REPLACE TEMP MACRO shiftflow_regexp_group(t, p, i) AS nullif(regexp_extract(t, p, i), '')",
    "CREATE OR REPLACE TEMP MACRO shiftflow_two_digit_year(y) AS CASE WHEN y < 70 THEN 2000 + y ELSE 1900 + y END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_date_rollover(y, m, d) AS"
    " CAST(make_date(y, 1, 1) + to_months(m - 1) + to_days(d - 1) AS DATE)",
    # TO_TIMESTAMP's (formats.timestamp_rollover): the day's seconds counted on from its midnight, a TIMESTAMPTZ.
    "CREATE OR REPLACE TEMP MACRO shiftflow_timestamp_rollover(d, s) AS"
    " timezone('UTC', CAST(d AS TIMESTAMP) + to_seconds(s))",
)
POSTGRES_SETUP = (
    "CREATE OR REPLACE FUNCTION public.shiftflow_datetime(x text) RETURNS timestamp LANGUAGE sql STABLE"
    " AS $f$ SELECT x::timestamp $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_datetime(x anyelement) RETURNS anyelement LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT x $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_add_years(t timestamp, n integer) RETURNS timestamp LANGUAGE sql"
    " IMMUTABLE AS $f$ SELECT date_trunc('month', t) + make_interval(years => n) + (t - date_trunc('month', t)) $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_datediff_operand(x time) RETURNS timestamp LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT DATE '1970-01-01' + x $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_datediff_operand(x timetz) RETURNS timestamp LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT DATE '1970-01-01' + (x AT TIME ZONE 'UTC')::time $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_datediff_operand(x anyelement) RETURNS anyelement LANGUAGE sql"
    " IMMUTABLE AS $f$ SELECT x $f$",
    """CREATE OR REPLACE FUNCTION public.shiftflow_try_to_date(t text, f text) RETURNS date LANGUAGE plpgsql STABLE
AS $f$ BEGIN RETURN to_date(t, f); EXCEPTION WHEN others THEN RETURN NULL; END $f$""",
    "CREATE OR REPLACE FUNCTION public.shiftflow_regexp_group(t text, p text, i integer) RETURNS text LANGUAGE sql"
    " IMMUTABLE AS $f$ SELECT (regexp_match(t, p))[i] $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_two_digit_year(y integer) RETURNS integer LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT CASE WHEN y < 70 THEN 2000 + y ELSE 1900 + y END $f$",
    """CREATE OR REPLACE FUNCTION public.shiftflow_try_to_timestamp(t text, f text) RETURNS timestamptz LANGUAGE plpgsql
STABLE AS $f$ BEGIN RETURN to_timestamp(t, f); EXCEPTION WHEN others THEN RETURN NULL; END $f$""",
    "CREATE OR REPLACE FUNCTION public.shiftflow_timestamp_rollover(d date, s integer) RETURNS timestamptz"
    " LANGUAGE sql IMMUTABLE AS $f$ SELECT (d + make_interval(secs => s)) AT TIME ZONE 'UTC' $f$",
    "CREATE OR REPLACE FUNCTION public.shiftflow_date_rollover(y integer, m integer, d integer) RETURNS date"
    " LANGUAGE sql IMMUTABLE AS $f$ SELECT (make_date(y, 1, 1) + make_interval(months => m - 1, days => d - 1))::date"
    " $f$",
)
