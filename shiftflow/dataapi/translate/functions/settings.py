"""CURRENT_SETTING (r_CURRENT_SETTING.md), the function form of SHOW: it reads what SET recorded
(commands/settings.py). A tuning parameter (query_group ... unset by default) is read from the emulator's record on
both engines; any other is PostgreSQL's own current_setting. On DuckDB also search_path, timezone, and session
context variables (`app_context.user_id`; undefined, an error unless error_if_undefined is false); any other
parameter is refused there.
Same interface as the other families: HANDLERS, COLUMN_NAMES, DUCKDB_SETUP, POSTGRES_SETUP.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from shiftflow.dataapi.translate.commands.settings import (TUNING, duckdb_context_value, duckdb_tuning_value,
                                                         postgres_tuning_value)
from shiftflow.dataapi.translate.model import NotSupportedLocally


def _current_setting(node: exp.Anonymous, engine: str) -> exp.Expression:
    if not 1 <= len(node.expressions) <= 2:
        return node
    name, *flag = node.expressions
    if engine == "postgres":
        tuned = isinstance(name, exp.Literal) and name.is_string and name.this.lower() in TUNING and not flag
        return sqlglot.parse_one(postgres_tuning_value(name.this.lower()), read="postgres") if tuned else node
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


PARSER_FUNCTIONS: dict = {}
HANDLERS = {"current_setting": _current_setting}
COLUMN_NAMES = {"current_setting": "current_setting"}
DUCKDB_SETUP: tuple[str, ...] = ()
POSTGRES_SETUP: tuple[str, ...] = ()
