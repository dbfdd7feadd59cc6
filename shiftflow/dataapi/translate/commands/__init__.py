"""Redshift commands recognised from their leading tokens, each kind in its own module:

- s3: transaction control, COPY and UNLOAD;
- settings: SET / RESET / SHOW of the parameters that only tune Redshift (query_group, wlm_query_slot_count ...);
- append: ALTER TABLE ... APPEND FROM;
- cursors: DECLARE / FETCH / CLOSE on the DuckDB engine (PostgreSQL has Redshift's cursors itself);
- prepared: PREPARE / EXECUTE / DEALLOCATE on the DuckDB engine;
- comments: COMMENT ON on the DuckDB engine;
- functions: CREATE FUNCTION (SQL UDFs; Python UDFs are refused), DROP FUNCTION on DuckDB;
- inserts: INSERT ... VALUES / UPDATE ... SET of text by the target column's type (SUPER strings; DuckDB: date text).
- roles: users, groups and roles on PostgreSQL (GRANT ROLE, DROP ROLE ... FORCE, CREATE USER options);
- written: commands PostgreSQL runs as written, "not supported locally" where its grammar rejects them.
"""

from shiftflow.dataapi.translate.commands.s3 import parse_copy, parse_unload, transaction_control
from shiftflow.dataapi.translate.commands.tokens import expanded, word, words

__all__ = ["expanded", "parse_copy", "parse_unload", "transaction_control", "word", "words"]
