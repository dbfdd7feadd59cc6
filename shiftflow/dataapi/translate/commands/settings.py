"""SET, RESET and SHOW of Redshift's configuration parameters (r_SET.md, r_RESET.md, r_SHOW.md).

Parameters that only tune Redshift's workload management, caches and maintenance (query_group,
wlm_query_slot_count, enable_result_cache_for_session ...) change no result: SET records the value for SHOW and
does nothing else (enable_case_sensitive_identifier and enable_case_sensitive_super_attribute are recorded the same
way; SUPER navigation reads them; describe_field_name_in_uppercase too, and kept on the engine session, whose results
described() names in upper case while it is on). The
value lives in the engine session (a custom setting `shiftflow.<name>` on PostgreSQL, which SET LOCAL and
transactions scope as Redshift does; a variable on DuckDB), so SHOW answers what Redshift would.
Other parameters are the engine's: PostgreSQL runs them (and session context variables, `SET app.user_id TO 123`,
its custom settings) as written, except Redshift's own parameters that change results and that PostgreSQL does not
have (describe_field_name_in_uppercase, error_on_nondeterministic_update ...): SET, RESET and SHOW of those fail
with "not supported locally". On DuckDB:
- statement_timeout: recorded, and enforced by the engine session (SessionTimeout; PostgreSQL enforces its own);
- search_path: the listed schemas that exist when the SET runs ('$user' and missing ones are skipped, as Redshift
  skips them); SHOW prints the list as Redshift does ("$user", public, enterprise);
- timezone: a zone name (DuckDB's TimeZone: TIMESTAMPTZ values print in it), DEFAULT for UTC, an ISO offset
  ('-8:00' is UTC-8), an INTERVAL ('-8 hours') or a POSIX 'PST8' (positive west of UTC) as the zone Etc/GMT+8
  (whole hours only: results are read through Python's tz database); SHOW prints that name (Redshift's text for
  an offset is not documented).
  PostgreSQL reads an ISO offset string as POSIX (8 hours east): it gets the INTERVAL form instead;
- seed: DuckDB's setseed (random() then repeats its sequence, not Redshift's);
- datestyle: SHOW answers Redshift's default, ISO, MDY (SET datestyle is refused: DuckDB prints ISO only);
- session context variables (`app_context.user_id`, a dot in the name) are DuckDB variables holding the text;
  current_setting() reads them and the tuning parameters (functions/settings.py).
Other parameters are refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.engines.base import Column, EngineError, EngineSession, QueryResult
from shiftflow.dataapi.translate.commands.tokens import word
from shiftflow.dataapi.translate.model import EngineSql, NotSupportedLocally, SessionCommand
from shiftflow.sql.splitter import tokenize


@dataclass(frozen=True)
class Tuning:
    """A parameter that only tunes Redshift: its default as SHOW prints it, and the values it accepts."""

    default: str
    kind: str  # "text" | "bool" | "int" | "number"
    low: float = 0
    high: float = 0


# The defaults are the ones the parameters' pages document (query_group: SHOW's example prints "unset").
TUNING = {
    "query_group": Tuning("unset", "text"),
    "wlm_query_slot_count": Tuning("1", "int", 1, 50),
    "enable_result_cache_for_session": Tuning("on", "bool"),
    "analyze_threshold_percent": Tuning("10", "number", 0, 100),
    "enable_vacuum_boost": Tuning("off", "bool"),
    "mv_enable_aqmv_for_session": Tuning("on", "bool"),
    "max_concurrency_scaling_clusters": Tuning("1", "int", 0, 10),
    # Not only tuning: SUPER navigation (functions/super.py) and streaming ingestion's views (streaming.py) read
    # the values SET records here, when their statements run.
    "enable_case_sensitive_identifier": Tuning("off", "bool"),
    "enable_case_sensitive_super_attribute": Tuning("off", "bool"),
    # Result column names in upper case when on: the engine session keeps it (FieldNameCase, described()).
    "describe_field_name_in_uppercase": Tuning("off", "bool"),
    # Its default (off) is the engines' behaviour; on (an UPDATE ... FROM matching a row twice fails) is refused.
    "error_on_nondeterministic_update": Tuning("off", "bool"),
}
REFUSED_VALUES = {"error_on_nondeterministic_update": ("on", "the emulator does not check an UPDATE's matches per"
                                                              " row")}
_TRUE, _FALSE = {"on", "true", "1", "yes", "t"}, {"off", "false", "0", "no", "f"}
# Parameters PostgreSQL has itself and the DuckDB engine session enforces: recorded as a tuning one is, and applied.
_DUCKDB_ENFORCED = {"statement_timeout": Tuning("0", "int", 0, 2_147_483_647)}  # milliseconds, 0: no limit


def _tuning(name: str, engine: str) -> Tuning | None:
    return TUNING.get(name) or (_DUCKDB_ENFORCED.get(name) if engine == "duckdb" else None)


@dataclass(frozen=True)
class SessionTimeout(SessionCommand):
    """SET / RESET statement_timeout on DuckDB: the value recorded for SHOW, and the engine session told to
    interrupt a statement that runs longer (r_statement_timeout.md)."""

    sql: EngineSql
    milliseconds: int
    session_scoped: bool = True

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        result = session.execute(self.sql.text, {})
        session.set_statement_timeout(self.milliseconds)  # type: ignore[attr-defined]  # the DuckDB session's
        return result


_UPPERCASE = "describe_field_name_in_uppercase"
_UPPERCASE_ATTRIBUTE = "shiftflow_field_names_in_uppercase"  # on the engine session object


@dataclass(frozen=True)
class FieldNameCase(SessionCommand):
    """SET / RESET describe_field_name_in_uppercase (r_describe_field_name_in_uppercase.md): the value recorded for
    SHOW, and kept on the engine session, whose results described() names in upper case while it is on. Refused in
    a transaction block, whose ROLLBACK would undo the recorded value and not the session's."""

    sql: EngineSql
    upper: bool
    session_scoped: bool = True

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        if in_transaction and getattr(session, _UPPERCASE_ATTRIBUTE, False) != self.upper:
            raise NotSupportedLocally(f"SET {_UPPERCASE} in a transaction block")
        result = session.execute(self.sql.text, {})
        setattr(session, _UPPERCASE_ATTRIBUTE, self.upper)
        return result


def described(session: EngineSession, result: QueryResult) -> QueryResult:
    """A statement's result as the session describes it: column names in upper case while
    describe_field_name_in_uppercase is on (the runner, and the SQL corpus harness, call this on each result)."""
    if not result.columns or not getattr(session, _UPPERCASE_ATTRIBUTE, False):
        return result
    return replace(result, columns=[replace(column, name=column.name.upper()) for column in result.columns])


def _enforced(name: str, sql: EngineSql, value: str) -> EngineSql | SessionCommand:
    if name == _UPPERCASE:
        return FieldNameCase(sql, value == "on")
    return SessionTimeout(sql, int(value)) if name in _DUCKDB_ENFORCED else sql


# Redshift's parameters (its configuration reference, r_<name>.md) that PostgreSQL does not have and that are not
# emulated: their values change results or errors (or only matter to Spectrum, datashares and geometry).
REDSHIFT_ONLY_PARAMETERS = frozenset("""cast_super_null_on_error datashare_break_glass_session_var
    default_geometry_encoding downcase_delimited_identifier
    json_serialization_enable
    json_serialization_parse_nested_strings navigate_super_null_on_error parse_super_null_on_error
    pg_federation_repeatable_read spectrum_enable_pseudo_columns enable_spectrum_oid spectrum_query_maxerror
    stored_proc_log_min_messages""".split())
# SHOW of Redshift's objects (SHOW TABLE, SHOW DATASHARES ... : r_SHOW_*.md), not of a parameter.
_SHOWN_OBJECTS = frozenset("""TABLE TABLES VIEW COLUMNS COLUMN SCHEMAS DATABASES DATASHARES EXTERNAL MODEL PROCEDURE
    FUNCTIONS GRANTS PARAMETERS""".split())

_LISTING = "Redshift's listing of its objects"
# r_SHOW_TABLE.md, r_SHOW_VIEW.md: DDL text the emulator cannot write as Redshift does.
_SHOWN_DEFINITIONS = {
    "TABLE": "Redshift's DDL text, with column encodings, distribution and sort keys the emulator does not keep",
    "VIEW": "Redshift's normalized text of the view's query, which the emulator does not have"}

# What the DuckDB engine leaves to the tree translation (sqlglot's SET schema).
_DUCKDB_OWN = {"schema"}
_DEFAULT_SEARCH_PATH = "$user, public"  # SHOW search_path's default (r_search_path.md)


@dataclass(frozen=True)
class SearchPath(SessionCommand):
    """SET search_path on DuckDB: its schemas that exist now, in order (DuckDB refuses a missing one)."""

    schemas: tuple[str, ...]  # as Redshift reads them: names folded, '$user' kept
    session_scoped: bool = True

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        existing = {row[0] for row in session.execute(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()", {}).rows}
        kept = [name for name in self.schemas if name in existing]
        if not kept:
            raise NotSupportedLocally("a search_path without an existing schema on the DuckDB engine")
        path = ",".join('"' + name.replace('"', '""') + '"' for name in kept)
        shown = ", ".join(_shown_name(name) for name in self.schemas)
        session.execute(f"SET search_path = {_literal(path)}", {})
        session.execute(f"SET VARIABLE {_variable('search_path')} = {_literal(shown)}", {})
        return QueryResult()


def _shown_name(name: str) -> str:
    plain = name.replace("_", "a").isalnum() and name == name.lower() and not name[:1].isdigit()
    return name if plain else '"' + name.replace('"', '""') + '"'


def _search_path(values: list[Token]) -> SearchPath | EngineSql:
    """SET search_path TO a, 'b', ... on DuckDB (DEFAULT: public)."""
    if len(values) == 1 and word(values[0]) == "DEFAULT" and values[0].token_type != TokenType.STRING:
        return EngineSql(f"SET search_path = 'public';\nRESET VARIABLE {_variable('search_path')}")
    names = [token.text if token.token_type in (TokenType.STRING, TokenType.IDENTIFIER) else token.text.lower()
             for token in values[::2]]
    if any(token.token_type != TokenType.COMMA for token in values[1::2]) or not names:
        raise EngineError(f'syntax error at or near "{values[-1].text if values else "search_path"}"')
    return SearchPath(tuple(names))


# r_timezone_config.md's forms besides a zone name: an ISO-8601 offset ('-8:00', '+7:30': positive east of UTC), an
# INTERVAL ('-8 hours', '30 minutes'), a POSIX STDoffset[DST] ('PST8', 'EST5EDT': positive west of UTC).
_ISO_OFFSET = re.compile(r"(?P<sign>[+-])(?P<hours>\d{1,2})(?::(?P<minutes>\d{2}))?")
_INTERVAL_PART = re.compile(r"\s*(?P<number>[+-]?\d+)\s*(?P<unit>hours?|hrs?|h|minutes?|mins?|m)\b", re.I)
_POSIX = re.compile(r"(?P<std>[a-z]{3,})(?P<offset>[+-]?\d{1,2})(?P<dst>[a-z]{3,})?", re.I)


def _interval_minutes(text: str) -> int | None:
    """An INTERVAL time zone's offset in minutes east of UTC ('-8 hours', '1 hour 30 minutes', '-8:00')."""
    iso = _ISO_OFFSET.fullmatch(text.strip() if text.strip()[:1] in "+-" else "+" + text.strip())
    if iso:
        return _iso_minutes(iso)
    position, minutes = 0, 0
    for part in _INTERVAL_PART.finditer(text):
        if part.start() != position:
            return None
        minutes += int(part.group("number")) * (60 if part.group("unit").lower().startswith("h") else 1)
        position = part.end()
    return minutes if position and not text[position:].strip() else None


def _iso_minutes(match: re.Match[str]) -> int:
    minutes = int(match.group("hours")) * 60 + int(match.group("minutes") or 0)
    return -minutes if match.group("sign") == "-" else minutes


def _offset_minutes(values: list[Token]) -> int | None:
    """The offset east of UTC that SET timezone's value names, when it is an ISO offset or an INTERVAL."""
    if len(values) >= 2 and word(values[0]) == "INTERVAL" and values[1].token_type == TokenType.STRING:
        minutes = _interval_minutes(values[1].text)
        if minutes is None or len(values) not in (2, 5):  # INTERVAL '...' [HOUR TO MINUTE]
            raise NotSupportedLocally(f"SET timezone INTERVAL '{values[1].text}'")
        return minutes
    iso = _ISO_OFFSET.fullmatch(values[0].text) if len(values) == 1 else None
    return _iso_minutes(iso) if iso and values[0].token_type == TokenType.STRING else None


def _hours_minutes(minutes: int) -> str:
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _timezone(values: list[Token]) -> EngineSql:
    """SET timezone on DuckDB: a zone name; an offset or a POSIX STDoffset as tzdata's Etc/GMT-n zone."""
    if len(values) == 1 and word(values[0]) == "DEFAULT" and values[0].token_type != TokenType.STRING:
        return EngineSql("SET TimeZone = 'UTC'")
    offset = _offset_minutes(values)
    posix = _POSIX.fullmatch(values[0].text) if len(values) == 1 else None
    if offset is None and posix and not posix.group("dst"):
        offset = -60 * int(posix.group("offset"))  # POSIX offsets are positive west of UTC
    if offset is not None:
        if offset % 60:  # results are read through Python's tz database, whose fixed zones are whole hours
            raise NotSupportedLocally(f"SET timezone to an offset of {_hours_minutes(offset)} on the DuckDB engine"
                                      " (whole hours only)")
        hours = offset // 60  # Etc/GMT+8 is UTC-8: tzdata's names follow POSIX's sign
        return EngineSql(f"SET TimeZone = 'Etc/GMT{'+' if hours <= 0 else '-'}{abs(hours)}'")
    if len(values) != 1 or not values[0].text.replace("/", "").replace("_", "").replace("-", "").replace("+", "") \
            .isalnum() or values[0].text[:1] in "+-" or values[0].text[:1].isdigit():
        raise NotSupportedLocally(f"SET timezone to {' '.join(t.text for t in values)} on the DuckDB engine")
    return EngineSql(f"SET TimeZone = {_literal(values[0].text)}")  # PST8PDT and the like are tzdata's names


def _postgres_timezone(values: list[Token]) -> EngineSql | None:
    """SET timezone on PostgreSQL: an ISO offset or INTERVAL as PostgreSQL's INTERVAL form (it would read '-8:00'
    as POSIX, 8 hours east); anything else as written (None)."""
    offset = _offset_minutes(values)
    if offset is None:
        return None
    return EngineSql(f"SET TIME ZONE INTERVAL '{_hours_minutes(offset)}' HOUR TO MINUTE")


def setting_command(tokens: list[Token], engine: str) -> EngineSql | SessionCommand | None:
    """SET / RESET / SHOW (tokens as commands.expanded() gives them) of a tuning parameter as engine SQL;
    None: the engine's own parameter, for the tree translation (PostgreSQL then runs it as written)."""
    while tokens[-1].token_type == TokenType.SEMICOLON:  # `SET x TO y;`: the semicolon is no value
        tokens = tokens[:-1]
    verb = word(tokens[0])
    if verb == "SET":
        return _set(tokens, engine)
    if verb == "RESET":
        return _reset(tokens, engine)
    return _show(tokens, engine)


def _target(tokens: list[Token]) -> tuple[str | None, bool, int]:
    """SET [SESSION | LOCAL] name: the parameter's name (lower case; None when not a plain name), whether LOCAL,
    and the index of the token after the name."""
    i, local = 1, False
    if i < len(tokens) and word(tokens[i]) in {"SESSION", "LOCAL"} and len(tokens) > i + 1 \
            and tokens[i + 1].token_type not in {TokenType.EQ} and word(tokens[i + 1]) != "TO":
        local, i = word(tokens[i]) == "LOCAL", i + 1
    name, i = _name(tokens, i)
    return name, local, i


def _name(tokens: list[Token], i: int) -> tuple[str | None, int]:
    """A parameter (`query_group`) or context variable (`app.user_id`, one dot) starting at tokens[i]."""
    if i >= len(tokens) or tokens[i].token_type in {TokenType.STRING, TokenType.NUMBER}:
        return None, i
    parts = [tokens[i].text.lower()]
    i += 1
    if i + 1 < len(tokens) and tokens[i].token_type == TokenType.DOT:
        parts.append(tokens[i + 1].text.lower())
        i += 2
    return ".".join(parts), i


def _set(tokens: list[Token], engine: str) -> EngineSql | SessionCommand | None:
    name, local, i = _target(tokens)
    if name is None:
        return None
    if name == "time" and i < len(tokens) and word(tokens[i]) == "ZONE":  # SET TIME ZONE value
        name, i = "timezone", i + 1
    tuning = _tuning(name, engine)
    if i < len(tokens) and (tokens[i].token_type == TokenType.EQ or word(tokens[i]) == "TO"):
        i += 1
    values = tokens[i:]
    if engine == "postgres" and name == "timezone" and values:
        return _postgres_timezone(values)
    if engine == "duckdb" and name in _DUCKDB_SETTINGS:
        if local:
            raise NotSupportedLocally(f"SET LOCAL {name} on the DuckDB engine (it has no transaction-scoped settings)")
        return _DUCKDB_SETTINGS[name](values)
    if engine == "duckdb" and "." in name:
        return _context_variable(name, local, values)
    if tuning is None:
        return _engine_own(f"SET {name}", name, engine)
    if len(values) == 1 and word(values[0]) == "DEFAULT" and values[0].token_type != TokenType.STRING:
        return _reset_one(name, local, engine)
    if len(values) != 1:
        raise NotSupportedLocally(f"SET {name} to a list of values")
    value = _refuse_value(name, _checked(tuning, name, values[0].text))
    if engine == "postgres":
        setting = postgres_setting_name(name)
        sql = EngineSql(f"SET {'LOCAL ' if local else ''}{setting} TO {_literal(value)}".replace("%", "%%"))
        if name == _UPPERCASE and local:
            raise NotSupportedLocally(f"SET LOCAL {name}")
        return _enforced(name, sql, value) if name == _UPPERCASE else sql
    if local:
        raise NotSupportedLocally(f"SET LOCAL {name} on the DuckDB engine (it has no transaction-scoped settings)")
    return _enforced(name, EngineSql(f"SET VARIABLE {_variable(name)} = {_literal(value)}"), value)


def _seed(values: list[Token]) -> EngineSql:
    written = "".join(token.text for token in values)  # .25 is two tokens
    if written.upper() == "DEFAULT":
        raise NotSupportedLocally("SET seed TO DEFAULT / RESET seed on the DuckDB engine")
    try:
        seed = float(written)
    except ValueError:
        seed = 2.0
    if not 0 <= seed <= 1:  # r_SET.md: "SET SEED takes a numeric value between 0 and 1"
        raise _invalid("seed", written)
    return EngineSql(f"SET VARIABLE shiftflow_seed = setseed({seed!r})")


_DUCKDB_SETTINGS = {"search_path": _search_path, "timezone": _timezone, "seed": _seed}


def _context_variable(name: str, local: bool, values: list[Token]) -> EngineSql:
    """SET app_context.user_id TO value on DuckDB: a variable holding the value's text."""
    if local:
        raise NotSupportedLocally(f"SET LOCAL {name} on the DuckDB engine (it has no transaction-scoped settings)")
    if len(values) != 1 or values[0].token_type not in (TokenType.STRING, TokenType.NUMBER, TokenType.VAR):
        raise NotSupportedLocally(f"SET {name} to a list of values")
    return EngineSql(f"SET VARIABLE {context_variable(name)} = {_literal(values[0].text)}")


def context_variable(name: str) -> str:
    """The DuckDB variable that holds a session context variable (a quoted name: it has a dot)."""
    return '"shiftflow_context_' + name.lower().replace('"', '""') + '"'


def checked_value(name: str, value: str) -> str:
    """A tuning parameter's value as SHOW prints it; a value it refuses fails as Redshift's SET does (one the
    emulator cannot follow, with "not supported locally")."""
    return _refuse_value(name, _checked(TUNING[name], name, value))


def _refuse_value(name: str, value: str) -> str:
    if name in REFUSED_VALUES and value == REFUSED_VALUES[name][0]:
        raise NotSupportedLocally(f"SET {name} TO {value} ({REFUSED_VALUES[name][1]})")
    return value


def _checked(tuning: Tuning, name: str, value: str) -> str:
    """The value as SHOW prints it; a value the parameter refuses fails as Redshift's SET does."""
    if tuning.kind == "text":
        return value
    lowered = value.lower()
    if tuning.kind == "bool":
        if lowered in _TRUE | _FALSE:
            return "on" if lowered in _TRUE else "off"
        raise _invalid(name, value)
    try:
        number = int(value) if tuning.kind == "int" else float(value)
    except ValueError:
        raise _invalid(name, value) from None
    if not tuning.low <= number <= tuning.high:
        raise _invalid(name, value)
    return value


def _invalid(name: str, value: str) -> EngineError:
    return EngineError(f'invalid value for parameter "{name}": "{value}"')


def _reset(tokens: list[Token], engine: str) -> EngineSql | SessionCommand | None:
    if len(tokens) == 2 and word(tokens[1]) == "ALL":
        if engine == "postgres":  # PostgreSQL's RESET ALL resets its own parameters and our shiftflow.* ones
            return FieldNameCase(EngineSql("RESET ALL"), False)
        every = [*TUNING, *_DUCKDB_ENFORCED]
        return _ResetAll(SessionTimeout(EngineSql(";\n".join(f"RESET VARIABLE {_variable(name)}" for name in every)),
                                        0))
    name, i = _name(tokens, 1)
    if name is None or i != len(tokens):
        return None
    if engine == "duckdb" and name in _DUCKDB_SETTINGS:
        return _DUCKDB_SETTINGS[name]([Token(TokenType.DEFAULT, "DEFAULT")])
    if engine == "duckdb" and "." in name:
        return EngineSql(f"RESET VARIABLE {context_variable(name)}")
    if _tuning(name, engine) is None:
        return _engine_own(f"RESET {name}", name, engine)
    return _reset_one(name, False, engine)


@dataclass(frozen=True)
class _ResetAll(SessionCommand):
    """RESET ALL on DuckDB: every recorded value and the statement timeout, and the result column names' case."""

    timeout: SessionTimeout
    session_scoped: bool = True

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        if in_transaction and getattr(session, _UPPERCASE_ATTRIBUTE, False):
            raise NotSupportedLocally(f"RESET ALL in a transaction block (it resets {_UPPERCASE})")
        result = self.timeout.run(session, parameters, in_transaction)
        setattr(session, _UPPERCASE_ATTRIBUTE, False)
        return result


def _reset_one(name: str, local: bool, engine: str) -> EngineSql | SessionCommand:
    if engine == "postgres":  # an empty custom setting reads back as the default (see _show)
        sql = EngineSql(f"SET {'LOCAL ' if local else ''}{postgres_setting_name(name)} TO ''")
        return FieldNameCase(sql, False) if name == _UPPERCASE else sql
    if local:
        raise NotSupportedLocally(f"SET LOCAL {name} on the DuckDB engine (it has no transaction-scoped settings)")
    return _enforced(name, EngineSql(f"RESET VARIABLE {_variable(name)}"), _tuning(name, engine).default)


def _show(tokens: list[Token], engine: str) -> EngineSql | None:
    if len(tokens) > 1 and word(tokens[1]) in _SHOWN_OBJECTS and tokens[1].token_type != TokenType.STRING:
        shown = word(tokens[1])
        raise NotSupportedLocally(f"SHOW {shown} ({_SHOWN_DEFINITIONS.get(shown, _LISTING)})")
    name, i = _name(tokens, 1)
    if name is None or i != len(tokens):
        return None
    if name == "all":
        raise NotSupportedLocally("SHOW ALL (the emulator does not have Redshift's parameter list)")
    if engine == "postgres":
        if name not in TUNING:
            _engine_own(f"SHOW {name}", name, engine)
            return None
        return EngineSql(f'SELECT {postgres_tuning_value(name)} AS "{name}"'.replace("%", "%%"))
    if "." in name:
        return EngineSql(f'SELECT {duckdb_context_value(name, True)} AS "{name}"')
    value = duckdb_tuning_value(name)
    if value is None:
        raise NotSupportedLocally(f"SHOW {name} on the DuckDB engine")
    return EngineSql(f'SELECT {value} AS "{name}"')


def _engine_own(what: str, name: str, engine: str) -> None:
    """A parameter that is not a tuning one: PostgreSQL has Redshift's (datestyle, timezone, statement_timeout ...)
    with their meaning; DuckDB has none of them."""
    if engine == "duckdb" and name not in _DUCKDB_OWN:
        raise NotSupportedLocally(f"{what} on the DuckDB engine")
    if name in REDSHIFT_ONLY_PARAMETERS:
        raise NotSupportedLocally(f"{what} (a Redshift parameter the PostgreSQL engine does not have)")


def postgres_setting_name(name: str) -> str:
    """The custom setting that records a tuning parameter on PostgreSQL (custom settings need a dotted name)."""
    return f"shiftflow.{name}"


def _variable(name: str) -> str:
    return f"shiftflow_setting_{name}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_DUCKDB_SHOWN = {"search_path": f"coalesce(getvariable({_literal(_variable('search_path'))}),"
                                 f" {_literal(_DEFAULT_SEARCH_PATH)})",
                 "timezone": "current_setting('TimeZone')",
                 "datestyle": "'ISO, MDY'"}  # Redshift's default (r_datestyle.md); SET datestyle is refused


def duckdb_context_value(name: str, error_if_undefined: bool) -> str:
    """A session context variable's value on DuckDB; undefined, PostgreSQL's error (or NULL when not asked to)."""
    value = f"getvariable({_literal(context_variable(name)[1:-1])})"
    if not error_if_undefined:
        return value
    message = _literal(f'unrecognized configuration parameter "{name}"')
    return f"coalesce({value}, error({message}))"


def postgres_tuning_value(name: str) -> str:
    """A tuning parameter's value as SHOW prints it, on PostgreSQL (an empty custom setting is the default)."""
    value = f"nullif(current_setting({_literal(postgres_setting_name(name))}, true), '')"
    return f"coalesce({value}, {_literal(TUNING[name].default)})"


def duckdb_tuning_value(name: str) -> str | None:
    """A tuning parameter's value as SHOW prints it, on DuckDB; None: not a tuning parameter."""
    if name in _DUCKDB_SHOWN:
        return _DUCKDB_SHOWN[name]
    tuning = _tuning(name, "duckdb")
    if tuning is None:
        return None
    return f"coalesce(getvariable({_literal(_variable(name))}), {_literal(tuning.default)})"


# ---- SET_CONFIG on DuckDB (r_SET_CONFIG.md) --------------------------------------------------------------------

_PARAMETER_NAME = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?")
_LOCAL_FLAGS = {"true": True, "1": True, "false": False, "0": False}


@dataclass(frozen=True)
class SetConfig(SessionCommand):
    """`SELECT set_config('name', 'value', is_local)` on DuckDB, where a query cannot change a setting: the SET it
    stands for, then the new value as the function's one row. is_local: the value lasts for the transaction, which
    outside a transaction block is the statement itself (nothing to keep); inside one, DuckDB has no
    transaction-scoped settings."""

    setting: EngineSql | SessionCommand
    value: str
    local: bool
    column: str = "set_config"
    session_scoped: bool = True

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        if self.local and in_transaction:
            raise NotSupportedLocally("set_config(..., true) in a transaction block on the DuckDB engine (it has no"
                                      " transaction-scoped settings)")
        if not self.local:
            if isinstance(self.setting, SessionCommand):
                self.setting.run(session, {}, in_transaction)
            else:
                session.execute(self.setting.text, {})
        return QueryResult([Column(self.column, "varchar", 65535)], [(self.value,)], 1)


def set_config_statement(tree: exp.Expression) -> SetConfig | None:
    """A query that is only `SELECT set_config('name', 'value', is_local)` (literals), as SetConfig; None for any
    other query."""
    if not isinstance(tree, exp.Select) or len(tree.expressions) != 1 or any(
            tree.args.get(part) for part in ("from_", "joins", "where", "group", "having", "order", "limit", "with_")):
        return None
    projection = tree.expressions[0]
    call = projection.this if isinstance(projection, exp.Alias) else projection
    if not (isinstance(call, exp.Anonymous) and call.name.lower() == "set_config" and len(call.expressions) == 3):
        return None
    name, value, local = call.expressions
    flag = local.this.lower() if isinstance(local, exp.Literal) else ("true" if local.this else "false") \
        if isinstance(local, exp.Boolean) else ""
    if not all(isinstance(v, exp.Literal) and v.is_string for v in (name, value)) or flag not in _LOCAL_FLAGS \
            or not _PARAMETER_NAME.fullmatch(name.this.lower()):
        raise NotSupportedLocally("set_config() with computed arguments on the DuckDB engine")
    setting = setting_command(tokenize(f"SET {name.this.lower()} TO {_literal(value.this)}"), "duckdb")
    if setting is None:
        raise NotSupportedLocally(f"set_config('{name.this.lower()}') on the DuckDB engine")
    parameter = name.this.lower()
    shown = checked_value(parameter, value.this) if parameter in TUNING else value.this
    return SetConfig(setting, shown, _LOCAL_FLAGS[flag], projection.alias or "set_config")
