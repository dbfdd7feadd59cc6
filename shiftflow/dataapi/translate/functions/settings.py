"""CURRENT_SETTING (r_CURRENT_SETTING.md), the function form of SHOW: it reads what SET recorded
(commands/settings.py); SET_CONFIG (r_SET_CONFIG.md), the function form of SET. A tuning parameter (query_group
... unset by default) is read from the emulator's record on both engines; any other is PostgreSQL's own
current_setting, whose second argument (missing_ok) is the negation of Redshift's error_if_undefined. On DuckDB
also search_path, timezone, and session context variables (`app_context.user_id`; undefined, an error unless
error_if_undefined is false); any other parameter is refused there.
Same interface as the other families: HANDLERS, COLUMN_NAMES, DUCKDB_SETUP, POSTGRES_SETUP.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from shiftflow.dataapi.translate.commands.settings import (REDSHIFT_ONLY_PARAMETERS, REFUSED_VALUES, TUNING,
                                                         checked_value, duckdb_context_value, duckdb_tuning_value,
                                                         postgres_setting_name, postgres_tuning_value)
from shiftflow.dataapi.translate.model import NotSupportedLocally


def _current_setting(node: exp.Anonymous, engine: str) -> exp.Expression:
    if not 1 <= len(node.expressions) <= 2:
        return node
    name, *flag = node.expressions
    if isinstance(name, exp.Literal) and name.this.startswith("shiftflow."):
        return node  # the emulator's own settings, read in PostgreSQL's words (functions/super.py): not a user's
    if engine == "postgres":
        tuned = isinstance(name, exp.Literal) and name.is_string and name.this.lower() in TUNING and not flag
        if tuned:
            return sqlglot.parse_one(postgres_tuning_value(name.this.lower()), read="postgres")
        if flag:  # Redshift's second argument is error_if_undefined, PostgreSQL's missing_ok: its negation
            return exp.Anonymous(this="current_setting", expressions=[name, exp.Not(this=exp.paren(flag[0].copy()))])
        return node
    if not (isinstance(name, exp.Literal) and name.is_string):
        raise NotSupportedLocally("current_setting() of a computed name on the DuckDB engine")
    parameter = name.this.lower()
    if "." in parameter:
        if flag and not isinstance(flag[0], exp.Boolean):
            raise NotSupportedLocally("current_setting() with a computed error_if_undefined on the DuckDB engine")
        value = duckdb_context_value(parameter, not flag or flag[0].this)
    else:
        value = duckdb_tuning_value(parameter)
        if value is None:
            raise NotSupportedLocally(f"current_setting('{parameter}') on the DuckDB engine")
    return sqlglot.parse_one(value, read="duckdb")


def _set_config(node: exp.Anonymous, engine: str) -> exp.Expression:
    """PostgreSQL: set_config of a tuning parameter sets the emulator's record of it (commands/settings.py), as SET
    does; is_local may be written 1 or 0. DuckDB runs `SELECT set_config(...)` as a statement (SetConfig); in any
    other query it is refused (rewrite.py)."""
    if engine != "postgres" or len(node.expressions) != 3:
        return node
    name, value, local = (argument.copy() for argument in node.expressions)
    if isinstance(local, exp.Literal) and not local.is_string and local.this in ("0", "1"):
        local = exp.Boolean(this=local.this == "1")
    if isinstance(name, exp.Literal) and name.is_string:
        parameter = name.this.lower()
        if parameter == "describe_field_name_in_uppercase":  # the engine session keeps it: SET's own
            raise NotSupportedLocally(f"set_config('{parameter}') on the PostgreSQL engine (use SET)")
        if parameter in REDSHIFT_ONLY_PARAMETERS:
            raise NotSupportedLocally(f"set_config('{parameter}') (a Redshift parameter the PostgreSQL engine does"
                                      " not have)")
        if parameter in TUNING:
            name = exp.Literal.string(postgres_setting_name(parameter))
            if isinstance(value, exp.Literal) and value.is_string:
                value = exp.Literal.string(checked_value(parameter, value.this))
            elif parameter in REFUSED_VALUES:
                raise NotSupportedLocally(f"set_config('{parameter}') with a computed value")
    return exp.Anonymous(this="set_config", expressions=[name, value, local])


PARSER_FUNCTIONS: dict = {}
HANDLERS = {"current_setting": _current_setting, "set_config": _set_config}
COLUMN_NAMES = {"current_setting": "current_setting", "set_config": "set_config"}
DUCKDB_SETUP: tuple[str, ...] = ()
POSTGRES_SETUP: tuple[str, ...] = ()
