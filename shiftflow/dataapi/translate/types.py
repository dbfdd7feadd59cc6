"""Redshift data type behaviour the engines lack (SQL reference: "Data types").

CAST(x AS VARCHAR(n)) and CAST(x AS CHAR(n)) keep the first n characters (Redshift counts bytes: text whose first
n characters are longer than n bytes fails with "not supported locally" on DuckDB, whose strings have no length;
PostgreSQL truncates by characters).

VARBYTE(n) (VARBINARY, BINARY VARYING) holds at most n bytes (r_VARBYTE_type.md): neither engine's binary type takes
a length, so a column gets a CHECK of its byte length (not a column DuckDB's ALTER TABLE ADD COLUMN adds: it cannot
add a CHECK); a cast to VARBYTE(n) is refused (what Redshift does with a longer value is not documented).

Datetime literals: Redshift reads date, time and timestamp text as PostgreSQL does with DateStyle MDY
('20200430 04:05:06.789', '8/2/2003', '12-31-2008', 'January 8, 1999', '2000-Jan-31', '2008.366' ...,
'today', 'now'). PostgreSQL sessions run with DateStyle 'ISO, MDY'; for DuckDB, which reads ISO text only, the
literals cast to a datetime type are rewritten to ISO here (text that is read at run time still has to be ISO there:
DuckDB then fails rather than guess). A column compared with such a literal (`caldate = '12-31-2008'`, a form with
separators or a month's name) compares as the column's type says: a DATE or TIMESTAMP with the ISO value, anything
else with the text as written (the translation cannot see the column's type; the engine's typeof() can).
TIMETZ literals keep their own zone, as an offset ('20:00:00 PST' is 20:00:00-08: date '2000-01-01' plus it is
2000-01-02 04:00:00+00, and EXTRACT reads it unconverted, r_EXTRACT_function.md); a TIMETZ value is printed in UTC
(statements.py), and DATEDIFF counts its UTC time of day (functions/dates.py).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlglot import exp

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate.functions.information import refuse_on_compute_nodes
from shiftflow.dataapi.translate.model import NotSupportedLocally

CHAR_TYPES = {exp.DataType.Type.CHAR, exp.DataType.Type.NCHAR, exp.DataType.Type.BPCHAR}


def char_width(data_type: exp.DataType) -> int | None:
    """n of CHAR(n) / NCHAR(n) / BPCHAR(n); None for any other type."""
    size = data_type.expressions[0].this if data_type.this in CHAR_TYPES and len(data_type.expressions) == 1 else None
    return int(size.this) if isinstance(size, exp.Literal) and not size.is_string else None


_MONTHS = {name: number for number, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], start=1) for name in names}
_MONTH = "(?P<mname>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_SEP = r"[-/. ]"
_DATES = [re.compile(pattern, re.I) for pattern in (
    r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})",
    r"(?P<m>\d{1,2})(?P<s>[-/.])(?P<d>\d{1,2})(?P=s)(?P<y>\d{4}|\d{2})(?!\d)",
    r"(?P<y>\d{4})[/.](?P<m>\d{1,2})[/.](?P<d>\d{1,2})",
    r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})",
    r"(?P<yy>\d{2})(?P<m>\d{2})(?P<d>\d{2})(?!\d)",
    r"(?P<y>\d{4})\.(?P<doy>\d{3})",
    rf"{_MONTH}{_SEP}?(?P<d>\d{{1,2}}),?{_SEP}?(?P<y>\d{{4}})",
    rf"(?P<d>\d{{1,2}}){_SEP}?{_MONTH}{_SEP}?(?P<y>\d{{4}})",
    rf"(?P<y>\d{{4}}){_SEP}?{_MONTH}{_SEP}?(?P<d>\d{{1,2}})",
)]
_TIME = re.compile(r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?\s*(?P<ampm>[ap]\.?m\.?)?"
                   r"|(?P<h2>\d{2})(?P<mi2>\d{2})(?P<s2>\d{2})(?:\.(?P<f2>\d{1,6}))?", re.I)
_ZONE = re.compile(r"\s*(?P<zone>z|utc|gmt|[+-]\d{1,2}(?::?\d{2})?|[a-z]{3,5})?\s*$", re.I)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?")
_TEMPORAL = {exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ,
             exp.DataType.Type.DATETIME}


def _year(match: re.Match[str]) -> int:
    text = match.group("y") if "y" in match.groupdict() and match.group("y") else match.group("yy")
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900  # PostgreSQL's rule for two-digit years
    return year


def _dates(text: str) -> list[tuple[date, str]]:
    """Each way `text` starts with a date: the date and what follows it."""
    found = []
    for pattern in _DATES:
        match = pattern.match(text)
        if match is None:
            continue
        groups = match.groupdict()
        try:
            if groups.get("doy"):
                day = date(_year(match), 1, 1) + timedelta(days=int(groups["doy"]) - 1)
            else:
                month = _MONTHS[groups["mname"].lower()] if groups.get("mname") else int(groups["m"])
                day = date(_year(match), month, int(groups["d"]))
        except (ValueError, KeyError):
            continue
        found.append((day, text[match.end():]))
    return found


def _time(text: str) -> tuple[str, str] | None:
    """HH:MM:SS[.ffffff] at the start of `text` (after optional blanks or T) and what follows it."""
    stripped = text.lstrip(" T")
    match = _TIME.match(stripped)
    if match is None:
        return None
    hour = int(match.group("h") or match.group("h2"))
    minute = int(match.group("mi") or match.group("mi2"))
    second = int(match.group("s") or match.group("s2") or 0)
    fraction = match.group("f") or match.group("f2") or ""
    meridiem = (match.group("ampm") or "").lower().replace(".", "")
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    text_time = f"{hour:02d}:{minute:02d}:{second:02d}" + (f".{fraction}" if fraction else "")
    return text_time, stripped[match.end():]


def iso_datetime(text: str, with_zone: bool) -> str | None:
    """`text` as an ISO date or timestamp when Redshift reads it as one, None when it cannot tell."""
    value = text.strip()
    if _ISO.fullmatch(value):
        return value
    for day, rest in _dates(value):
        result = day.isoformat()
        if rest.strip():
            timed = _time(rest)
            if timed is None:
                continue
            clock, rest = timed
            result += " " + clock
        zone = _ZONE.fullmatch(rest)
        if zone is None:
            continue
        if zone.group("zone") and with_zone:
            offset = zone.group("zone")[0] in "+-"
            result += zone.group("zone") if offset else " " + zone.group("zone")
        return result
    return None


_SIZED_TEXT = {exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR, exp.DataType.Type.BPCHAR,
               exp.DataType.Type.NVARCHAR, exp.DataType.Type.NCHAR}


def _text_size(data_type: exp.DataType) -> exp.Expression | None:
    if data_type.this not in _SIZED_TEXT or len(data_type.expressions) != 1:
        return None
    size = data_type.expressions[0].this
    return size if isinstance(size, exp.Literal) and not size.is_string else None  # not varchar(max)


# Functions Redshift types INTEGER that DuckDB answers as BIGINT (the Data API would say int8, not int4).
_INTEGER_RESULTS = (exp.StrPosition, exp.Grouping, exp.RegexpCount)


def _visibly_date(node: exp.Expression) -> bool:
    return isinstance(node, exp.CurrentDate) or (isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DATE)


def _integer_result(node: exp.Expression) -> bool:
    if isinstance(node, exp.Sub):  # x - <a date> is date - date, a number of days
        return _visibly_date(node.expression)
    return isinstance(node, _INTEGER_RESULTS) or (isinstance(node, exp.Window) and isinstance(node.this, exp.Ntile))


def integer_results(tree: exp.Expression, engine: str) -> exp.Expression:
    """DuckDB: position(), ntile(), grouping(), regexp_count() and date - date are INTEGER, as on Redshift (run
    after the rewrite pass: these casts need no text check)."""
    if engine != "duckdb":
        return tree
    for node in list(tree.find_all(*_INTEGER_RESULTS, exp.Window, exp.Sub)):
        if _integer_result(node) and not isinstance(node.parent, exp.Cast):
            node.replace(exp.cast(node.copy(), exp.DataType.Type.INT))
    return tree


_TYPE_WORDS = {exp.DataType.Type.VARCHAR: "character varying", exp.DataType.Type.NVARCHAR: "character varying",
               **dict.fromkeys(CHAR_TYPES, "character")}


def duckdb_length_checks(value: exp.Expression, kind: exp.DataType) -> list[exp.If]:
    """The CHECK of a VARCHAR(n) / CHAR(n) column on DuckDB, whose strings have no length, as CASE branches that
    fail: Redshift refuses more than n bytes, but drops blanks beyond n (DuckDB cannot change the value a CHECK
    sees: refused). DuckDB has no blank-padded type either: a CHAR(n) value is stored as written, unpadded, and
    one with trailing blanks is refused (Redshift's LEN would not count them, DuckDB's would).

    The byte length is tested first and the blanks trimmed only for a value over n: trimming every value (a new
    string per row and column) made an insert into a table of six VARCHAR(n) columns 4x slower than without the
    CHECKs (1,000,000 rows: 1.5 s against 0.35 s; with the length first, 0.35 s)."""
    size = kind.expressions[0].this
    words = f"{_TYPE_WORDS[kind.this]}({size.this})"
    fail = lambda text: exp.Anonymous(this="error", expressions=[exp.Literal.string(text)])  # noqa: E731
    length = lambda text: exp.Anonymous(this="strlen", expressions=[text])  # noqa: E731
    trimmed = exp.Anonymous(this="rtrim", expressions=[value.copy(), exp.Literal.string(" ")])
    over = exp.Case(ifs=[exp.If(this=exp.GT(this=length(trimmed), expression=size.copy()),
                                true=fail(f"value too long for type {words}"))],
                    default=fail(f"not supported locally: blanks beyond the length of a {words} value on the DuckDB "
                                 "engine (Redshift drops them)"))
    ifs = [exp.If(this=exp.GT(this=length(value.copy()), expression=size.copy()), true=over)]
    if kind.this in CHAR_TYPES:
        ends_blank = exp.Anonymous(this="suffix", expressions=[value.copy(), exp.Literal.string(" ")])
        ifs.append(exp.If(this=ends_blank, true=fail(
            f"not supported locally: a {words} value with trailing blanks on the DuckDB engine (Redshift pads CHAR "
            "values and LEN ignores the blanks; DuckDB has no blank-padded type)")))
    return ifs


def char_column_check(column: str, width: int) -> str:
    """DuckDB: the CHECK condition of a CHAR(width) column named `column` (as a CREATE TABLE gets it; CREATE TABLE
    AS of CHAR values adds it, char_columns.py)."""
    kind = exp.DataType.build(f"CHAR({width})")
    ifs = duckdb_length_checks(exp.column(column, quoted=True), kind)
    return exp.Case(ifs=ifs, default=exp.true()).sql("duckdb")


_VARBYTE_TYPES = {exp.DataType.Type.VARBINARY, exp.DataType.Type.BINARY}
_TEXT_TYPES = {exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR, exp.DataType.Type.BPCHAR,
               exp.DataType.Type.NVARCHAR, exp.DataType.Type.NCHAR, exp.DataType.Type.TEXT}


def _varbyte_text(tree: exp.Expression, engine: str) -> exp.Expression:
    """A VARBYTE cast to VARCHAR / CHAR is its bytes read as UTF-8 (r_VARBYTE_type.md: "When casting with CHAR and
    VARCHAR the UTF-8 format is used"), not PostgreSQL's \\x hex text nor DuckDB's escapes (\\x22 for a double
    quote); a VARBYTE it can see (a cast)."""
    for cast in list(tree.find_all(exp.Cast)):
        inner = cast.this
        if cast.to.this in _TEXT_TYPES and isinstance(inner, exp.Cast) and inner.to.this in _VARBYTE_TYPES:
            cast.set("this", exp.Anonymous(this="decode", expressions=[inner]) if engine == "duckdb" else
                     exp.Anonymous(this="convert_from", expressions=[inner, exp.Literal.string("UTF8")]))
    return tree


def default_decimal_sizes(tree: exp.Expression) -> exp.Expression:
    """DECIMAL / NUMERIC written without a precision is DECIMAL(18, 0) on Redshift ("The default precision, if not
    specified, is 18 ... The default scale, if not specified, is 0", r_Numeric_types201.md): DuckDB would make it
    DECIMAL(18, 3) and PostgreSQL an unbounded numeric, keeping digits Redshift rounds away. Applied to the types
    the statement writes, before the translator adds casts of its own."""
    for data_type in tree.find_all(exp.DataType):
        if data_type.this == exp.DataType.Type.DECIMAL and not data_type.expressions:
            data_type.set("expressions", [exp.DataTypeParam(this=exp.Literal.number(18)),
                                          exp.DataTypeParam(this=exp.Literal.number(0))])
    return tree


def rewrite_types(tree: exp.Expression, engine: str) -> exp.Expression:
    """DuckDB: casts to VARCHAR(n) / CHAR(n) truncate to n characters, as Redshift's do; a CHAR(n) value is held
    without its trailing blanks, as DuckDB holds CHAR(n) columns (char_columns.py pads it where Redshift shows
    them). Both: VARBYTE to text."""
    tree = _varbyte_text(tree, engine)
    if engine == "postgres":
        return tree
    for cast in list(tree.find_all(exp.Cast)):
        size = _text_size(cast.to)
        if size is None or isinstance(cast.parent, exp.ColumnDef):
            continue
        prefix = exp.Anonymous(this="shiftflow_text_prefix", expressions=[
            cast.this.copy(), size.copy(), exp.Literal.string(cast.to.sql())])
        cast.replace(exp.Anonymous(this="rtrim", expressions=[prefix, exp.Literal.string(" ")])
                     if cast.to.this in CHAR_TYPES else prefix)
    return tree


DUCKDB_SETUP = (
    # CAST(x AS VARCHAR(n)) on DuckDB: the first n characters, which must be n bytes at most (Redshift counts
    # bytes). The value (often a navigation: a parse of a document) is computed once, as a lambda's argument.
    "CREATE OR REPLACE TEMP MACRO shiftflow_text_prefix(x, n, type_name) AS list_transform("
    "[left(CAST(x AS VARCHAR), n)], lambda shiftflow_k: CASE WHEN strlen(shiftflow_k) > n"
    " THEN error('not supported locally: multibyte text cast to ' || type_name || ' (Redshift counts bytes)"
    " on the DuckDB engine') ELSE shiftflow_k END)[1]",
)


_SPECIAL = {"today": "CAST(CURRENT_DATE AS TIMESTAMP)", "tomorrow": "CAST(CURRENT_DATE AS TIMESTAMP) + INTERVAL 1 DAY",
            "yesterday": "CAST(CURRENT_DATE AS TIMESTAMP) - INTERVAL 1 DAY",
            "now": "CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS TIMESTAMP)"}


# Time zone abbreviations (PostgreSQL's default set, which Redshift reads) as UTC offsets, for TIMETZ literals.
_ZONE_OFFSETS = {"utc": "+00", "gmt": "+00", "z": "+00", "ut": "+00", "pst": "-08", "pdt": "-07", "mst": "-07",
                 "mdt": "-06", "cst": "-06", "cdt": "-05", "est": "-05", "edt": "-04", "akst": "-09",
                 "akdt": "-08", "hst": "-10", "ast": "-04", "adt": "-03", "nst": "-03:30", "ndt": "-02:30",
                 "bst": "+01", "cet": "+01", "cest": "+02", "eet": "+02", "eest": "+03", "wet": "+00",
                 "west": "+01", "ist": "+02", "jst": "+09", "kst": "+09", "aest": "+10", "aedt": "+11",
                 "acst": "+09:30", "awst": "+08", "nzst": "+12", "nzdt": "+13", "msk": "+03"}
_TIMETZ_ZONE = re.compile(r"\s*(?P<zone>[+-]\d{1,2}(?::?\d{2})?|[a-z]{1,5})?\s*$", re.I)


def timetz_text(text: str) -> str | None:
    """A TIMETZ literal as HH:MM:SS[.f]+-HH[:MM], the time of day in its own zone: Redshift's zone abbreviations
    (PST ...) as offsets, none as UTC; a date before it is ignored, as PostgreSQL does ('1.12.1997 07:37:16 PDT').
    None when it cannot tell (a zone's full name: its offset depends on the date)."""
    value = text.strip()
    for _, rest in [*_dates(value), (None, value)]:
        timed = _time(rest)
        if timed is None:
            continue
        clock, rest = timed
        zone = _TIMETZ_ZONE.fullmatch(rest)
        if zone is None:
            continue
        written = zone.group("zone") or "utc"
        offset = written if written[0] in "+-" else _ZONE_OFFSETS.get(written.lower())
        return None if offset is None else clock + offset
    return None


def normalize_timetz_literals(tree: exp.Expression) -> exp.Expression:
    """Both engines: TIMETZ literals with their zone as an offset (DuckDB reads offsets only; PostgreSQL would read a
    literal without a zone in the session's, which is UTC here too)."""
    for cast in list(tree.find_all(exp.Cast)):
        literal = cast.this
        if cast.to.this == exp.DataType.Type.TIMETZ and isinstance(literal, exp.Literal) and literal.is_string:
            normalized = timetz_text(literal.this)
            if normalized is not None:
                literal.replace(exp.Literal.string(normalized))
    return tree


def normalize_datetime_literals(tree: exp.Expression, engine: str) -> exp.Expression:
    """DuckDB: text literals cast to DATE / TIMESTAMP (TIMESTAMP '...' included) rewritten to ISO text; TIMETZ
    literals with an offset (both engines)."""
    tree = normalize_timetz_literals(tree)
    if engine != "duckdb":
        return tree
    for cast in list(tree.find_all(exp.Cast)):
        literal = cast.this
        if not (isinstance(literal, exp.Literal) and literal.is_string) or cast.to.this not in _TEMPORAL:
            continue
        special = _SPECIAL.get(literal.this.strip().lower())
        if special is not None:
            value = exp.maybe_parse(special, dialect="duckdb")
            literal.replace(value)
            continue
        iso = iso_datetime(literal.this, with_zone=cast.to.this == exp.DataType.Type.TIMESTAMPTZ)
        if iso is not None and iso != literal.this:
            literal.replace(exp.Literal.string(iso))
    for convert in tree.find_all(exp.ConvertTimezone):  # its text is cast to TIMESTAMP only when generated
        literal = convert.args.get("timestamp")
        iso = iso_datetime(literal.this, with_zone=False) if isinstance(literal, exp.Literal) and (
            literal.is_string) else None
        if iso is not None and iso != literal.this:
            literal.replace(exp.Literal.string(iso))
    for between in list(tree.find_all(exp.Between)):
        bounds = (between.args.get("low"), between.args.get("high"))
        if any(_other_datetime_form(bound) for bound in bounds):  # x BETWEEN a AND b is x >= a AND x <= b
            value = between.this
            between.replace(exp.Paren(this=exp.And(this=exp.GTE(this=value.copy(), expression=bounds[0].copy()),
                                                   expression=exp.LTE(this=value.copy(), expression=bounds[1].copy()))))
    for comparison in list(tree.find_all(*_COMPARISONS)):
        _datetime_text_comparison(comparison)
    return tree


_COMPARISONS = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE)
_FLIPPED = {exp.EQ: exp.EQ, exp.NEQ: exp.NEQ, exp.LT: exp.GT, exp.LTE: exp.GTE, exp.GT: exp.LT, exp.GTE: exp.LTE}
_DATE_WORDS = re.compile(r"[-/.]|[a-z]{3}", re.I)  # separators or a month's name: not a number's digits


def _other_datetime_form(node: exp.Expression | None) -> bool:
    """A text literal Redshift reads as a date or timestamp, written in another form than ISO (with separators or
    a month's name)."""
    if not (isinstance(node, exp.Literal) and node.is_string and _DATE_WORDS.search(node.this)):
        return False
    timestamp = iso_datetime(node.this, with_zone=False)
    return timestamp is not None and timestamp != node.this


def _datetime_text_comparison(comparison: exp.Binary) -> None:
    """`x op 'date text in another form than ISO'`: by x's type at run time (see the module's docstring)."""
    kind, value, literal = type(comparison), comparison.this, comparison.expression
    if isinstance(value, exp.Literal):
        kind, value, literal = _FLIPPED[kind], literal, value
    if not _other_datetime_form(literal) or isinstance(value, exp.Literal):
        return
    timestamp = iso_datetime(literal.this, with_zone=False) or literal.this
    zoned = iso_datetime(literal.this, with_zone=True) or timestamp
    typeof = exp.Anonymous(this="typeof", expressions=[value.copy()])
    branches = []
    for type_name, to, iso in (("TIMESTAMP WITH TIME ZONE", exp.DataType.Type.TIMESTAMPTZ, zoned),
                               ("TIMESTAMP", exp.DataType.Type.TIMESTAMP, timestamp),
                               ("DATE", exp.DataType.Type.DATE, timestamp)):
        typed = kind(this=exp.TryCast(this=value.copy(), to=exp.DataType.build(to)),
                     expression=exp.cast(exp.Literal.string(iso), to))
        branches.append(exp.If(this=exp.EQ(this=typeof.copy(), expression=exp.Literal.string(type_name)), true=typed))
    as_text = kind(this=exp.cast(value.copy(), exp.DataType.Type.VARCHAR), expression=literal.copy())
    comparison.replace(exp.Paren(this=exp.Case(ifs=branches, default=as_text)))


def sized_varbytes(tree: exp.Expression, engine: str) -> exp.Expression:
    """VARBYTE(n) as an unsized binary type, its columns checked for n bytes (see the module's docstring)."""
    for data_type in list(tree.find_all(exp.DataType)):
        if data_type.this != exp.DataType.Type.VARBINARY or len(data_type.expressions) != 1:
            continue
        size = data_type.expressions[0].this
        data_type.set("expressions", [])
        if not (isinstance(size, exp.Literal) and not size.is_string):
            continue
        column = data_type.parent
        if isinstance(column, exp.Cast):
            raise NotSupportedLocally(f"a cast to VARBYTE({size.this}) (a binary type with a length)")
        if not isinstance(column, exp.ColumnDef) or (engine == "duckdb" and isinstance(column.parent, exp.Alter)):
            continue
        message = exp.Literal.string(f"value too long for type varbyte({size.this})")
        fail = (exp.Anonymous(this="error", expressions=[message]) if engine == "duckdb"
                else exp.Anonymous(this="shiftflow_raise", expressions=[message]))
        too_long = exp.GT(this=exp.Anonymous(this="octet_length", expressions=[exp.column(column.name, quoted=True)]),
                          expression=size.copy())
        check = exp.Case(ifs=[exp.If(this=too_long, true=fail)], default=exp.true())
        column.set("constraints", [*(column.args.get("constraints") or []),
                                   exp.ColumnConstraint(kind=exp.CheckColumnConstraint(this=check))])
    return tree


# PostgreSQL types a Redshift table cannot have (c_unsupported-postgresql-datatypes.md), by the name Redshift's
# error gives them: `Column "pgmigrations.id" has unsupported type "serial".` (as reported in salsita/node-pg-migrate
# issue 767 and dresende/node-orm2 issue 650), BYTEA too (the page lists it; VARBYTE's aliases are VARBINARY and
# BINARY VARYING, r_VARBYTE_type.md). INTERVAL is left to the engines (newer Redshift releases have INTERVAL columns).
_UNSUPPORTED_COLUMN_TYPES = {
    exp.DataType.Type.SERIAL: "serial", exp.DataType.Type.BIGSERIAL: "bigserial",
    exp.DataType.Type.SMALLSERIAL: "smallserial", exp.DataType.Type.MONEY: "money", exp.DataType.Type.JSON: "json",
    exp.DataType.Type.JSONB: "jsonb", exp.DataType.Type.UUID: "uuid", exp.DataType.Type.XML: "xml",
    exp.DataType.Type.BIT: "bit", exp.DataType.Type.INET: "inet", exp.DataType.Type.NAME: "name",
}
_UNSUPPORTED_NAMED_TYPES = {"oid", "regclass", "regproc", "regtype", "xid", "cid", "tid", '"char"', "txid_snapshot"}


def _unsupported_type_name(kind: exp.DataType) -> str | None:
    if _written_bytea(kind):
        return "bytea"
    if kind.this == exp.DataType.Type.ARRAY:
        return kind.sql(dialect="postgres").lower()
    if kind.this in _UNSUPPORTED_COLUMN_TYPES:
        return _UNSUPPORTED_COLUMN_TYPES[kind.this]
    written = kind.sql(dialect="redshift").lower()
    return written if written in _UNSUPPORTED_NAMED_TYPES else None


# Types Redshift's catalog does not have at all (PostgreSQL added them after 8.0, Redshift's base; SERIAL is no type
# but a column shorthand): a cast to one fails as PostgreSQL words a missing type.
_MISSING_TYPES = {exp.DataType.Type.UUID: "uuid", exp.DataType.Type.JSON: "json", exp.DataType.Type.JSONB: "jsonb",
                  exp.DataType.Type.XML: "xml", exp.DataType.Type.SERIAL: "serial",
                  exp.DataType.Type.BIGSERIAL: "bigserial", exp.DataType.Type.SMALLSERIAL: "smallserial",
                  exp.DataType.Type.HSTORE: "hstore", exp.DataType.Type.INT4RANGE: "int4range",
                  exp.DataType.Type.INT8RANGE: "int8range", exp.DataType.Type.NUMRANGE: "numrange",
                  exp.DataType.Type.TSRANGE: "tsrange", exp.DataType.Type.TSTZRANGE: "tstzrange",
                  exp.DataType.Type.DATERANGE: "daterange"}
# PostgreSQL 8.0's types that Redshift does not support for data (c_unsupported-postgresql-datatypes.md: "some
# queries that use unsupported data types will run on the leader node but not on the compute nodes"). The object
# identifier types, name and "char" are left alone: Redshift's own catalog queries cast to them.
_LEADER_NODE_TYPES = {exp.DataType.Type.MONEY: "money", exp.DataType.Type.INET: "inet", exp.DataType.Type.BIT: "bit",
                      exp.DataType.Type.POINT: "point"}


def refuse_unsupported_casts(tree: exp.Expression, engine: str) -> None:
    """A cast to a type Redshift does not have fails as on Redshift: `type "uuid" does not exist`; one to a type
    only its leader node has (MONEY, INET, BIT, BYTEA, arrays) fails with Redshift's leader-node error in a
    statement the compute nodes run, and on DuckDB (which has none of them) is not supported locally."""
    for cast in tree.find_all(exp.Cast):  # TryCast is a Cast
        kind = cast.to
        if not isinstance(kind, exp.DataType):
            continue
        if kind.this in _MISSING_TYPES:
            raise EngineError(f'type "{_MISSING_TYPES[kind.this]}" does not exist')
        leader_only = (_LEADER_NODE_TYPES.get(kind.this) or ("bytea" if _written_bytea(kind) else None)
                       or (kind.sql(dialect="postgres").lower() if kind.this == exp.DataType.Type.ARRAY else None))
        if leader_only is None:
            continue
        refuse_on_compute_nodes(tree)
        if engine == "duckdb":
            raise NotSupportedLocally(f'a cast to {leader_only.upper()} on the DuckDB engine (a PostgreSQL type only'
                                      " Redshift's leader node has; the PostgreSQL engine runs it)")


_MONTH_UNITS = re.compile(r"\b(?:y|yr|yrs|years?|mons?|months?|qtrs?|quarters?|decs?|decades?|c|cent|cents|"
                          r"century|centuries|mils?|millenni(?:um|a))\b", re.I)


def _interval_of_months(node: exp.Expression) -> bool:
    """An interval value built of literals only, one of them counting months or years."""
    if isinstance(node, exp.Paren | exp.Neg):
        return _interval_of_months(node.this)
    if isinstance(node, exp.Add | exp.Sub):
        return all(isinstance(side, exp.Interval | exp.Paren | exp.Neg | exp.Add | exp.Sub)
                   for side in (node.this, node.expression)) and (
            _interval_of_months(node.this) or _interval_of_months(node.expression))
    return isinstance(node, exp.Interval) and bool(_MONTH_UNITS.search(f"{node.this.name} {node.text('unit')}"))


def refuse_printed_month_intervals(tree: exp.Expression, engine: str) -> None:
    """DuckDB's client returns an INTERVAL as a timedelta, a month as 30 days: an interval of months selected as a
    value is not supported locally on DuckDB (Redshift prints `1 mon`; statements.py prints the days)."""
    if engine != "duckdb" or not isinstance(tree, exp.Query):
        return
    for select in [tree] if isinstance(tree, exp.Select) else tree.find_all(exp.Select):
        for projection in select.expressions:
            if _interval_of_months(projection.unalias()):
                raise NotSupportedLocally("an INTERVAL of months or years as a result value on the DuckDB engine"
                                          " (its client gives it as days; the PostgreSQL engine prints it)")


def _written_bytea(kind: exp.DataType) -> bool:
    """BYTEA as written (sqlglot reads it as VARBYTE, which Redshift has: the parser marks the name it saw)."""
    return kind.meta.get("written_type") == "bytea" if kind.meta else False


def refuse_unsupported_column_types(tree: exp.Expression) -> None:
    """CREATE TABLE and ALTER TABLE ADD COLUMN with a column of a type Redshift does not have fail as on Redshift
    (both engines would make it)."""
    if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema):
        table, columns = tree.this.this, [c for c in tree.this.expressions if isinstance(c, exp.ColumnDef)]
    elif isinstance(tree, exp.Alter):
        table, columns = tree.this, [c for c in tree.args.get("actions") or [] if isinstance(c, exp.ColumnDef)]
    else:
        return
    for column in columns:
        kind = column.args.get("kind")
        unsupported = _unsupported_type_name(kind) if isinstance(kind, exp.DataType) else None
        if unsupported is not None:
            raise EngineError(f'Column "{table.name}.{column.name}" has unsupported type "{unsupported}".')
