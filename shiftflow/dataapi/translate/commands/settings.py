"""SET, RESET and SHOW of Redshift's configuration parameters (r_SET.md, r_RESET.md, r_SHOW.md).

Parameters that only tune Redshift's workload management, caches and maintenance (query_group,
wlm_query_slot_count, enable_result_cache_for_session ...) change no result: SET records the value for SHOW and
does nothing else (enable_case_sensitive_identifier is recorded the same way; SUPER navigation reads it). The value lives in the engine session (a custom setting `shiftflow.<name>` on PostgreSQL, which
SET LOCAL and transactions scope as Redshift does; a variable on DuckDB), so SHOW answers what Redshift would.
Other parameters are the engine's: PostgreSQL runs them (and session context variables, `SET app.user_id TO 123`,
its custom settings) as written, except Redshift's own parameters that change results and that PostgreSQL does not
have (describe_field_name_in_uppercase, error_on_nondeterministic_update ...): SET, RESET and SHOW of those fail
with "not supported locally". DuckDB refuses them all, except search_path (a list of schemas, DEFAULT and RESET are
Redshift's '$user, public'; $user is left out, the emulator's DuckDB having no user schemas; a schema that does not
exist fails, where Redshift would skip it) and statement_timeout, which its engine session enforces (SessionTimeout;
PostgreSQL enforces its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.engines.base import EngineError, EngineSession, QueryResult
from shiftflow.dataapi.translate.commands.tokens import word
from shiftflow.dataapi.translate.model import EngineSql, NotSupportedLocally, SessionCommand


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
    # the value SET records here, when their statements run.
    "enable_case_sensitive_identifier": Tuning("off", "bool"),
}
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


def _enforced(name: str, sql: EngineSql, value: str) -> EngineSql | SessionTimeout:
    return SessionTimeout(sql, int(value)) if name in _DUCKDB_ENFORCED else sql


# Redshift's parameters (its configuration reference, r_<name>.md) that PostgreSQL does not have and that are not
# emulated: their values change results or errors (or only matter to Spectrum, datashares and geometry).
REDSHIFT_ONLY_PARAMETERS = frozenset("""cast_super_null_on_error datashare_break_glass_session_var
    default_geometry_encoding describe_field_name_in_uppercase downcase_delimited_identifier
    enable_case_sensitive_super_attribute error_on_nondeterministic_update json_serialization_enable
    json_serialization_parse_nested_strings navigate_super_null_on_error parse_super_null_on_error
    pg_federation_repeatable_read spectrum_enable_pseudo_columns enable_spectrum_oid spectrum_query_maxerror
    stored_proc_log_min_messages""".split())
# SHOW of Redshift's objects (SHOW TABLE, SHOW DATASHARES ... : r_SHOW_*.md), not of a parameter.
_SHOWN_OBJECTS = frozenset("""TABLE TABLES VIEW COLUMNS COLUMN SCHEMAS DATABASES DATASHARES EXTERNAL MODEL PROCEDURE
    FUNCTIONS GRANTS PARAMETERS""".split())

# What the DuckDB engine leaves to the tree translation (sqlglot's SET search_path / schema).
_DUCKDB_OWN = {"search_path", "schema"}


def setting_command(tokens: list[Token], engine: str) -> EngineSql | SessionTimeout | None:
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


def _set(tokens: list[Token], engine: str) -> EngineSql | SessionTimeout | None:
    name, local, i = _target(tokens)
    if name is None:
        return None
    _refuse_context_variable(name, engine)
    tuning = _tuning(name, engine)
    if i < len(tokens) and (tokens[i].token_type == TokenType.EQ or word(tokens[i]) == "TO"):
        i += 1
    values = tokens[i:]
    if engine == "duckdb" and name == "search_path":
        return _duckdb_search_path(values)
    if tuning is None:
        return _engine_own(f"SET {name}", name, engine)
    if len(values) == 1 and word(values[0]) == "DEFAULT" and values[0].token_type != TokenType.STRING:
        return _reset_one(name, local, engine)
    if len(values) != 1:
        raise NotSupportedLocally(f"SET {name} to a list of values")
    value = _checked(tuning, name, values[0].text)
    if engine == "postgres":
        return EngineSql(f"SET {'LOCAL ' if local else ''}{_guc(name)} TO {_literal(value)}".replace("%", "%%"))
    if local:
        raise NotSupportedLocally(f"SET LOCAL {name} on the DuckDB engine (it has no transaction-scoped settings)")
    return _enforced(name, EngineSql(f"SET VARIABLE {_variable(name)} = {_literal(value)}"), value)


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


def _reset(tokens: list[Token], engine: str) -> EngineSql | SessionTimeout | None:
    if len(tokens) == 2 and word(tokens[1]) == "ALL":
        if engine == "postgres":
            return None  # PostgreSQL's RESET ALL resets its own parameters and our shiftflow.* ones
        every = [*TUNING, *_DUCKDB_ENFORCED]
        return SessionTimeout(EngineSql(";\n".join(f"RESET VARIABLE {_variable(name)}" for name in every)), 0)
    name, i = _name(tokens, 1)
    if name is None or i != len(tokens):
        return None
    _refuse_context_variable(name, engine)
    if engine == "duckdb" and name == "search_path":
        return _duckdb_search_path([])
    if _tuning(name, engine) is None:
        return _engine_own(f"RESET {name}", name, engine)
    return _reset_one(name, False, engine)


def _reset_one(name: str, local: bool, engine: str) -> EngineSql | SessionTimeout:
    if engine == "postgres":  # an empty custom setting reads back as the default (see _show)
        return EngineSql(f"SET {'LOCAL ' if local else ''}{_guc(name)} TO ''")
    if local:
        raise NotSupportedLocally(f"SET LOCAL {name} on the DuckDB engine (it has no transaction-scoped settings)")
    return _enforced(name, EngineSql(f"RESET VARIABLE {_variable(name)}"), _tuning(name, engine).default)


def _show(tokens: list[Token], engine: str) -> EngineSql | None:
    if len(tokens) > 1 and word(tokens[1]) in _SHOWN_OBJECTS and tokens[1].token_type != TokenType.STRING:
        raise NotSupportedLocally(f"SHOW {word(tokens[1])} (Redshift's listing of its objects)")
    name, i = _name(tokens, 1)
    if name is None or i != len(tokens):
        return None
    if name == "all":
        raise NotSupportedLocally("SHOW ALL (the emulator does not have Redshift's parameter list)")
    _refuse_context_variable(name, engine)
    tuning = _tuning(name, engine)
    if tuning is None:
        if engine == "postgres":
            _engine_own(f"SHOW {name}", name, engine)
            return None
        raise NotSupportedLocally(f"SHOW {name} on the DuckDB engine")
    if engine == "postgres":
        value = f"nullif(current_setting({_literal(_guc(name))}, true), '')"
    else:
        value = f"getvariable({_literal(_variable(name))})"
    text = f'SELECT coalesce({value}, {_literal(tuning.default)}) AS "{name}"'
    return EngineSql(text.replace("%", "%%") if engine == "postgres" else text)


def _engine_own(what: str, name: str, engine: str) -> None:
    """A parameter that is not a tuning one: PostgreSQL has Redshift's (datestyle, timezone, statement_timeout ...)
    with their meaning; DuckDB has none of them."""
    if engine == "duckdb" and name not in _DUCKDB_OWN:
        raise NotSupportedLocally(f"{what} on the DuckDB engine")
    if name in REDSHIFT_ONLY_PARAMETERS:
        raise NotSupportedLocally(f"{what} (a Redshift parameter the PostgreSQL engine does not have)")


_DEFAULT_SEARCH_PATH = ("public",)  # Redshift's '$user, public', without $user (see the module's docstring)


def _duckdb_search_path(values: list[Token]) -> EngineSql:
    """SET search_path TO a, b: DuckDB takes the list as one text; DEFAULT (and RESET: no values) is public."""
    names = [value.text.lower() for value in values if value.token_type != TokenType.COMMA]
    if len(values) == 1 and word(values[0]) == "DEFAULT" and values[0].token_type != TokenType.STRING or not names:
        names = list(_DEFAULT_SEARCH_PATH)
    schemas = [name for name in names if name != "$user"]
    if any(not name.replace("_", "").replace("$", "").isalnum() for name in schemas):
        raise NotSupportedLocally("a search_path schema name with other characters than letters, digits, _ and $"
                                  " on the DuckDB engine")
    return EngineSql(f"SET search_path = {_literal(','.join(schemas or _DEFAULT_SEARCH_PATH))}")


def _refuse_context_variable(name: str, engine: str) -> None:
    """Session context variables (`app.user_id`): PostgreSQL has them (custom settings); DuckDB does not."""
    if "." in name and engine == "duckdb":
        raise NotSupportedLocally(f"session context variable {name} on the DuckDB engine")


def _guc(name: str) -> str:
    """PostgreSQL custom settings need a dotted name."""
    return f"shiftflow.{name}"


def _variable(name: str) -> str:
    return f"shiftflow_setting_{name}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
