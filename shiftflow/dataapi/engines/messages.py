"""PostgreSQL's error texts in Redshift's words where the two differ: the one place both engines' messages pass
through last (engines/postgres.py for PostgreSQL's own, engines/duckdb_errors.py after it has put DuckDB's into
PostgreSQL's words).

- `relation "t" already exists` is `Relation "t" already exists` (r_enable_case_sensitive_identifier.md:
  `ERROR:  Relation "mixedcasedtable2" already exists`);
- a function Redshift lacks, which the translator called in a schema of no functions for PostgreSQL to name its
  argument types (translate/functions/known.py), is named as written: `function list_value(integer) does not exist`.
"""

from __future__ import annotations

import re

# The schema a call of a function Redshift lacks is looked up in on PostgreSQL (translate/functions/known.py): it
# holds none of those, so the engine names the argument types (every session may use it: the sessions' login role
# has no USAGE on pg_toast).
MISSING_SCHEMA = "information_schema"
_RULES = ((re.compile(r'^relation ("(?:[^"]|"")*") already exists$'), r"Relation \1 already exists"),
          (re.compile(rf"^function {MISSING_SCHEMA}\.(\S+?\(.*\) does not exist)$", re.S), r"function \1"))


def redshift_words(message: str) -> str:
    """`message`, a PostgreSQL error text, as Redshift words it."""
    for pattern, replacement in _RULES:
        message = pattern.sub(replacement, message)
    return message
