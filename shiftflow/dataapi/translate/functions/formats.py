"""Redshift's datetime format model (SQL reference: "Datetime format strings", PostgreSQL's to_char model) compiled
into DuckDB expressions: TO_CHAR into a concatenation of formatted parts, TO_DATE into a strptime format.

Names follow the case of the pattern (MONTH, Month, month) and are blank-padded to 9 characters unless FM comes
first; numbers are zero-padded unless FM; TH / th after a number adds its ordinal suffix; "quoted" text and
any other character are copied. TIMESTAMP values print their zone as UTC (Redshift sessions are UTC).
"""

from __future__ import annotations

import re

from sqlglot import exp

from shiftflow.dataapi.translate.model import NotSupportedLocally

# Longest first: the model is read left to right, taking the longest pattern at each position.
_PATTERNS = sorted("""
    HH24 HH12 HH MI SSSSS SSSS SS MS US AM PM A.M. P.M. am pm a.m. p.m. Y,YYY YYYY YYY YY Y IYYY IYY IY I
    BC AD B.C. A.D. bc ad b.c. a.d. MONTH Month month MON Mon mon MM DAY Day day DY Dy dy DDD IDDD DD D ID
    W WW IW CC J Q RM rm TZ tz OF
""".split(), key=len, reverse=True)
# Numeric format models hold 9 or 0 digit positions (or are a Roman numeral); datetime models never do.
_NUMERIC_MODEL = re.compile(r'^[^"]*[90]|^\s*(FM)?RN\s*$', re.I)


def is_numeric_model(model: str) -> bool:
    """A TO_CHAR format model for numbers (numbers.py), not for datetimes."""
    return bool(_NUMERIC_MODEL.search(model))


def _anon(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _text(value: exp.Expression) -> exp.Expression:
    return exp.cast(value, exp.DataType.Type.VARCHAR)


def _padded(number: exp.Expression, width: int, fill: bool) -> exp.Expression:
    text = _text(number)
    return text if fill or width <= 1 else _anon("lpad", text, exp.Literal.number(width), exp.Literal.string("0"))


def _strftime(value: exp.Expression, code: str) -> exp.Expression:
    return _anon("strftime", value, exp.Literal.string(code))


def _name(name: exp.Expression, pattern: str, width: int, fill: bool) -> exp.Expression:
    """A month or day name in the pattern's case: MONTH upper, Month capitalised, month lower; padded unless FM."""
    if pattern.isupper():
        name = _anon("upper", name)
    elif pattern.islower():
        name = _anon("lower", name)
    if fill or width == 0:
        return name
    return _anon("rpad", name, exp.Literal.number(width), exp.Literal.string(" "))


def _meridiem(value: exp.Expression, pattern: str) -> exp.Expression:
    morning, evening = ("A.M.", "P.M.") if "." in pattern else ("AM", "PM")
    if pattern.islower():
        morning, evening = morning.lower(), evening.lower()
    before_noon = exp.LT(this=_anon("hour", value), expression=exp.Literal.number(12))
    return exp.Case(ifs=[exp.If(this=before_noon, true=exp.Literal.string(morning))],
                    default=exp.Literal.string(evening))


def _era(value: exp.Expression, pattern: str) -> exp.Expression:
    after, before = ("A.D.", "B.C.") if "." in pattern else ("AD", "BC")
    if pattern.islower():
        after, before = after.lower(), before.lower()
    return exp.Case(ifs=[exp.If(this=exp.GT(this=_anon("year", value), expression=exp.Literal.number(0)),
                                true=exp.Literal.string(after))], default=exp.Literal.string(before))


def _number(value: exp.Expression, pattern: str) -> tuple[exp.Expression, int] | None:
    """A numeric pattern: its value and its zero-padded width."""
    hour12 = exp.Paren(this=exp.Add(this=exp.Mod(this=exp.Paren(this=exp.Add(
        this=_anon("hour", value), expression=exp.Literal.number(11))), expression=exp.Literal.number(12)),
        expression=exp.Literal.number(1)))
    year = _anon("year", value)
    iso_year = _anon("isoyear", value)
    numbers: dict[str, tuple[exp.Expression, int]] = {
        "HH24": (_anon("hour", value), 2), "HH12": (hour12, 2), "HH": (hour12, 2), "MI": (_anon("minute", value), 2),
        "SS": (_anon("second", value), 2), "MS": (_anon("millisecond", value) % exp.Literal.number(1000), 3),
        "US": (_anon("microsecond", value) % exp.Literal.number(1000000), 6),
        "SSSS": (_anon("hour", value) * exp.Literal.number(3600) + _anon("minute", value) * exp.Literal.number(60)
                 + _anon("second", value), 1),
        "YYYY": (year, 4), "YYY": (year % exp.Literal.number(1000), 3), "YY": (year % exp.Literal.number(100), 2),
        "Y": (year % exp.Literal.number(10), 1), "IYYY": (iso_year, 4), "IYY": (iso_year % exp.Literal.number(1000), 3),
        "IY": (iso_year % exp.Literal.number(100), 2), "I": (iso_year % exp.Literal.number(10), 1),
        "MM": (_anon("month", value), 2), "DDD": (_anon("dayofyear", value), 3), "DD": (_anon("day", value), 2),
        "D": (_anon("dayofweek", value) + exp.Literal.number(1), 1), "ID": (_anon("isodow", value), 1),
        "W": (_week_of(_anon("day", value)), 1), "WW": (_week_of(_anon("dayofyear", value)), 2),
        "IW": (_anon("week", value), 2),
        "IDDD": ((_anon("week", value) - exp.Literal.number(1)) * exp.Literal.number(7) + _anon("isodow", value), 3), "CC": (_anon("century", value), 2), "Q": (_anon("quarter", value), 1),
        "J": (exp.cast(_anon("julian", exp.cast(value, exp.DataType.Type.DATE)), "BIGINT"), 1),
    }
    numbers["SSSSS"] = numbers["SSSS"]
    return numbers.get(pattern.upper()) if pattern.upper() in numbers else None


def _week_of(day: exp.Expression) -> exp.Expression:
    """Week number of a day number counted from 1: days 1-7 are week 1."""
    days_before = exp.Paren(this=exp.Sub(this=day, expression=exp.Literal.number(1)))
    return exp.Paren(this=exp.Add(this=exp.IntDiv(this=days_before, expression=exp.Literal.number(7)),
                                  expression=exp.Literal.number(1)))


def _ordinal(number: exp.Expression, upper: bool) -> exp.Expression:
    """1st 2nd 3rd 4th ... 11th 12th 13th ... 21st: the suffix TH / th asks for."""
    suffixes = ["TH", "ST", "ND", "RD"] if upper else ["th", "st", "nd", "rd"]
    last_two = exp.Mod(this=number, expression=exp.Literal.number(100))
    last = exp.Mod(this=number, expression=exp.Literal.number(10))
    teen = exp.Between(this=last_two, low=exp.Literal.number(11), high=exp.Literal.number(13))
    ifs = [exp.If(this=teen, true=exp.Literal.string(suffixes[0]))]
    ifs += [exp.If(this=exp.EQ(this=last.copy(), expression=exp.Literal.number(digit)),
                   true=exp.Literal.string(suffixes[digit])) for digit in (1, 2, 3)]
    return exp.Case(ifs=ifs, default=exp.Literal.string(suffixes[0]))


_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]


def _piece(value: exp.Expression, pattern: str, fill: bool) -> exp.Expression:
    upper = pattern.upper()
    if upper in {"MONTH", "DAY"}:
        name = _anon("monthname" if upper == "MONTH" else "dayname", value)
        return _name(name, pattern, 9, fill)
    if upper in {"MON", "DY"}:
        return _name(_strftime(value, "%b" if upper == "MON" else "%a"), pattern, 0, fill)
    if upper in {"AM", "PM", "A.M.", "P.M."}:
        return _meridiem(value, pattern)
    if upper in {"AD", "BC", "A.D.", "B.C."}:
        return _era(value, pattern)
    if upper == "Y,YYY":
        year = _anon("year", value)
        return _anon("printf", exp.Literal.string("%d,%03d"), exp.IntDiv(this=year, expression=exp.Literal.number(1000)),
                     year.copy() % exp.Literal.number(1000))
    if upper == "RM":
        roman = _anon("list_extract", exp.Array(expressions=[exp.Literal.string(r) for r in _ROMAN]),
                      _anon("month", value))
        return _name(roman, pattern, 4, fill)
    if upper == "TZ":
        return exp.Literal.string("UTC" if pattern == "TZ" else "utc")
    if upper == "OF":
        return exp.Literal.string("+00")
    number = _number(value, pattern)
    if number is None:
        raise NotSupportedLocally(f"the datetime format pattern {pattern} on the DuckDB engine")
    return _padded(*number, fill=fill)


def _tokens(model: str) -> list[tuple[str, str, bool]]:
    """The model as (kind, text, fill) items: kind "pattern", "th" (ordinal suffix) or "text"."""
    items: list[tuple[str, str, bool]] = []
    i, fill = 0, False
    while i < len(model):
        if model.startswith(("FM", "fm"), i):
            fill, i = True, i + 2
            continue
        if model.startswith(("TM", "tm", "FX", "fx"), i):  # translation / exact mode: no effect here
            i += 2
            continue
        if model[i] == '"':
            end = i + 1
            text = []
            while end < len(model) and model[end] != '"':
                if model[end] == "\\" and end + 1 < len(model):
                    end += 1
                text.append(model[end])
                end += 1
            items.append(("text", "".join(text), False))
            i = end + 1
            continue
        if items and items[-1][0] == "pattern" and model.startswith(("TH", "th"), i):
            items.append(("th", model[i : i + 2], False))
            i += 2
            continue
        pattern = next((p for p in _PATTERNS if model.startswith(p, i) or (
            p.isupper() and _number_pattern(p) and model[i : i + len(p)].upper() == p)), None)
        if pattern is None:
            items.append(("text", model[i], False))
            i += 1
            continue
        items.append(("pattern", model[i : i + len(pattern)] if _number_pattern(pattern) else pattern, fill))
        fill = False
        i += len(pattern)
    return items


def _number_pattern(pattern: str) -> bool:
    return pattern.upper() not in {"MONTH", "MON", "DAY", "DY", "AM", "PM", "A.M.", "P.M.", "BC", "AD", "B.C.",
                                   "A.D.", "RM", "TZ"}


def uses_time_zone(model: str) -> bool:
    return any(kind == "pattern" and text.upper() in {"TZ", "OF"} for kind, text, _ in _tokens(model))


def duckdb_to_char(value: exp.Expression, model: str) -> exp.Expression:
    """TO_CHAR(value, model) on DuckDB."""
    if is_numeric_model(model):  # dates.to_char sends these to numbers.py
        raise NotSupportedLocally("TO_CHAR with a numeric format on the DuckDB engine")
    items = _tokens(model)
    timestamp = exp.cast(value, exp.DataType.Type.TIMESTAMP)
    pieces: list[exp.Expression] = []
    for index, (kind, text, fill) in enumerate(items):
        if kind == "text":
            if pieces and isinstance(pieces[-1], exp.Literal):
                pieces[-1] = exp.Literal.string(pieces[-1].this + text)
            else:
                pieces.append(exp.Literal.string(text))
        elif kind == "th":
            number = _number(timestamp, items[index - 1][1])
            if number is not None:
                pieces.append(_ordinal(number[0], text == "TH"))
        else:
            pieces.append(_piece(timestamp.copy(), text, fill))
    if not pieces:
        return exp.Literal.string("")
    result = pieces[0]
    for piece in pieces[1:]:
        result = exp.DPipe(this=result, expression=piece, safe=True)
    return exp.Paren(this=result)


# TO_DATE patterns as strptime codes (DuckDB reads month and day names in any case).
_STRPTIME = {"YYYY": "%Y", "YY": "%y", "MM": "%m", "DD": "%d", "DDD": "%j", "MONTH": "%B", "MON": "%b",
             "DAY": "%A", "DY": "%a", "HH24": "%H", "HH12": "%I", "HH": "%I", "MI": "%M", "SS": "%S", "MS": "%g",
             "US": "%f", "AM": "%p", "PM": "%p"}


def duckdb_to_date(text: exp.Expression, model: str, attempt: bool = False) -> exp.Expression:
    """TO_DATE(text, model) on DuckDB: strptime with the model's codes, as a DATE (try_strptime: NULL when the
    text does not read)."""
    return exp.cast(duckdb_strptime(text, model, "TO_DATE", attempt), exp.DataType.Type.DATE)


def duckdb_strptime(text: exp.Expression, model: str, function: str, attempt: bool = False) -> exp.Expression:
    """DuckDB's strptime (a TIMESTAMP) reading `text` written in the datetime format `model`."""
    codes = []
    for kind, value, _ in _tokens(model):
        if kind == "pattern":
            code = _STRPTIME.get(value.upper())
            if code is None:
                raise NotSupportedLocally(f"{function} pattern {value} on the DuckDB engine")
            codes.append(code)
        elif kind == "text":
            codes.append(value.replace("%", "%%"))
    return _anon("try_strptime" if attempt else "strptime", text.copy(), exp.Literal.string("".join(codes)))


# TO_DATE fields whose overflow Redshift rolls over when is_strict is false (June 31 is July 1).
_DATE_FIELDS = {"YYYY": r"(\d{4})", "YY": r"(\d{2})", "MM": r"(\d{1,2})", "DD": r"(\d{1,2})", "MON": r"([A-Za-z]{3})",
                "MONTH": r"([A-Za-z]+)"}


# TO_TIMESTAMP's time fields, whose overflow (24:38:15) it likewise counts on into the next day.
_TIME_FIELDS = {"HH24": r"(\d{1,2})", "MI": r"(\d{1,2})", "SS": r"(\d{1,2})"}


def date_fields(model: str, known: dict[str, str] = _DATE_FIELDS,
                rest: str = r"\s*$") -> tuple[str, list[str]] | None:
    """A regular expression reading text written in `model` and the pattern each group holds, when the model is
    made of `known` fields (year, month and day) and literal text only (None otherwise); `rest` is what may
    follow."""
    parts, fields = [r"^\s*"], []
    for kind, value, _ in _tokens(model):
        if kind == "pattern":
            key = value.upper()
            if key not in known:
                return None
            parts.append(known[key])
            fields.append(key)
        elif kind == "text":
            parts.append("".join(c if c.isalnum() or c == " " else "\\" + c for c in value))
    parts.append(rest)
    if not {"YYYY", "YY"} & set(fields) or not {"MM", "MON", "MONTH"} & set(fields):
        return None
    return "".join(parts), fields


def date_rollover(text: exp.Expression, model: str) -> exp.Expression | None:
    """The date `text` names in `model`, a day or month past the end counted on into the next (Redshift's TO_DATE
    with is_strict false); None when the model has other fields than year, month and day."""
    found = date_fields(model)
    return None if found is None else _rollover(text, *found)


def timestamp_rollover(text: exp.Expression, model: str) -> exp.Expression | None:
    """The TIMESTAMP `text` names in `model`, any field past its end counted on into the next (TO_TIMESTAMP with
    is_strict false: '2011-12-18 24:38:15' is 2011-12-19 00:38:15, r_TO_TIMESTAMP.md); text after the model's
    last field is ignored, as TO_TIMESTAMP ignores it. None when the model has other fields than year, month, day,
    HH24, MI and SS."""
    found = date_fields(model, {**_DATE_FIELDS, **_TIME_FIELDS}, rest="")
    if found is None:
        return None
    pattern, fields = found
    date = _rollover(text, pattern, fields)
    if date is None:
        return None
    seconds: exp.Expression = exp.Literal.number(0)
    for field, scale in (("HH24", 3600), ("MI", 60), ("SS", 1)):
        if field in fields:
            value = _anon("shiftflow_regexp_group", text.copy(), exp.Literal.string(pattern),
                          exp.Literal.number(fields.index(field) + 1))
            seconds = exp.Add(this=seconds, expression=exp.Mul(this=exp.cast(value, "INT"),
                                                               expression=exp.Literal.number(scale)))
    return _anon("shiftflow_timestamp_rollover", date, seconds)


def _rollover(text: exp.Expression, pattern: str, fields: list[str]) -> exp.Expression | None:

    def group(field: str) -> exp.Expression | None:
        if field not in fields:
            return None
        return _anon("shiftflow_regexp_group", text.copy(), exp.Literal.string(pattern),
                     exp.Literal.number(fields.index(field) + 1))

    def number(value: exp.Expression) -> exp.Expression:
        return exp.cast(value, "INT")

    year = number(group("YYYY")) if "YYYY" in fields else _anon("shiftflow_two_digit_year", number(group("YY")))
    if "MM" in fields:
        month = number(group("MM"))
    else:
        name = group("MON") or group("MONTH")
        place = _anon("strpos", exp.Literal.string("janfebmaraprmayjunjulaugsepoctnovdec"),
                      _anon("lower", _anon("left", name, exp.Literal.number(3))))
        month = number(exp.IntDiv(this=exp.Paren(this=exp.Nullif(this=place, expression=exp.Literal.number(0)) +
                                                 exp.Literal.number(2)), expression=exp.Literal.number(3)))
    day = number(group("DD")) if "DD" in fields else exp.Literal.number(1)
    return _anon("shiftflow_date_rollover", year, month, day)
