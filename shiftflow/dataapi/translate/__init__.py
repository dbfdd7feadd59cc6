"""Redshift SQL made runnable on a local engine ("duckdb" or "postgres"), one statement at a time.

translate() turns one (already split) Redshift statement into one of:
- EngineSql: text in the engine's dialect with the engine's named placeholders ($name on DuckDB,
  %(name)s on psycopg, where every literal % is doubled), plus the names the session must bind;
- TransactionControl: BEGIN / COMMIT / ROLLBACK for the emulator to apply itself;
- S3Command: a COPY or UNLOAD for run_s3_command();
- SessionCommand: a statement that reads the session's catalog before it runs (ALTER TABLE APPEND, DuckDB's
  CREATE TABLE (LIKE ...) and cursors, queries over svv_table_info): run(session, parameters, in_transaction).
What cannot be emulated raises NotSupportedLocally, never a silently different result; text that does not parse
raises SqlSyntaxError (an EngineError), 'syntax error at or near "<token>"' with its position, as Redshift does.
Each kind of statement lives with its kind: commands/ (settings, append, like, cursors, prepared, comments
(COMMENT ON), functions (UDFs), inserts, s3, roles (users, groups and roles on PostgreSQL), written (commands
PostgreSQL runs as written)), system.py (system tables, pg_last_*; table_def.py: pg_table_def's rows; declarations.py: what Redshift keeps
of CREATE / ALTER TABLE), commands/show.py (SHOW TABLE), catalog.py
(comments read back: regclass, obj_description, col_description, pg_description; constraint views), char_columns.py (CHAR(n) padding on DuckDB),
grouping.py, pivots.py (PIVOT / UNPIVOT as plain aggregates and LATERAL VALUES), streaming.py (streaming ingestion),
procedures.py, views.py (views' dependencies), databases.py (three-part names: the connected database's prefix
cut, another database's refused), functions/ (function families), types.py,
decimals.py (DECIMAL quotients), rewrite.py (the tree pass).

Deliberate no-ops (they only maintain Redshift's storage and statistics, never a result): ANALYZE, VACUUM and
ALTER TABLE ... ALTER DISTKEY / SORTKEY / DISTSTYLE / ENCODE / COLUMN c ENCODE; SET of the parameters that only
tune Redshift (query_group, wlm_query_slot_count, enable_result_cache_for_session ...: SHOW answers what was set,
commands/settings.py); table attributes (ENCODE,
DISTKEY, SORTKEY, DISTSTYLE, BACKUP) and unenforced keys (PRIMARY KEY, UNIQUE, FOREIGN KEY, REFERENCES) are dropped
from the engine's DDL and kept as Redshift keeps them (declarations.py: pg_table_def, svv_table_info,
information_schema.table_constraints, SHOW TABLE and DROP CONSTRAINT read them); a PRIMARY KEY's columns are NOT NULL.
Known differences that remain (each fails loudly rather than returning a different value, unless noted):
- DuckDB cannot infer a type for a bound string in arithmetic (`n + :n`, `d + :days`): write `:n::int`.
- VARCHAR(n) / CHAR(n) lengths are checked in bytes by a CHECK added in CREATE TABLE (both engines) and in ALTER
  TABLE ADD COLUMN (PostgreSQL only: DuckDB cannot add a column with a CHECK, so that column accepts longer text).
  Tables made by CTAS on DuckDB have no VARCHAR length checks. DuckDB has no blank-padded type: a CHAR(n) value is
  stored unpadded, and one with trailing blanks, or text with blanks beyond the length (which Redshift drops), is
  refused by the column's check (types.py); CHAR values are padded where Redshift shows their blanks (the output,
  LIKE operands) from their lineage through expressions, subqueries, CTEs, views and set operations, a CTAS of
  CHAR values makes CHAR columns; a CHAR value beside other text in one value, or concatenated, fails
  (char_columns.py). Trailing
  blanks do not tell groups apart (GROUP BY, DISTINCT, COUNT(DISTINCT), PARTITION BY: grouping.py) on either
  engine; they still count in ORDER BY and UNION / INTERSECT / EXCEPT. PostgreSQL's || and CONCAT drop a CHAR
  value's blanks (bpchar is cast to text); r_CONCAT.md types the result as its inputs and does not say (noted).
- Text -> integer casts (`'12.5'::int`) raise as on Redshift; implicit ones (inserting '12.5' into an int column)
  still round on DuckDB.
- Redshift function behaviour lives in functions/ (one module per family: dates, formats, strings, aggregates,
  json, numbers, bytes, days, regexps, super, conversions, settings), type behaviour in types.py; each module's
  docstring says what it emulates and what it refuses.
- AVG of DECIMAL(p, s): both engines cut the value to scale s as Redshift's DECIMAL(38, s) (PostgreSQL's column
  metadata says numeric without a scale; DuckDB refuses an average beyond 15 significant digits). DECIMAL
  division has Redshift's type and truncated value on both engines (decimals.py; PostgreSQL refuses an operand
  whose precision the translator cannot tell; DuckDB asks the engine the operands' types when the statement runs,
  so text run without EngineSql.execute(), a cursor's query, divides as DuckDB does). A computed NUMERIC on
  PostgreSQL is reported with the largest scale of its values and no precision (engines/postgres.py). date - date is a
  BIGINT on DuckDB, and PostgreSQL's median / percentile_cont of a DECIMAL a DOUBLE (the differential check,
  tests/unit/dataapi/test_engine_differential.py, lists what still differs between the engines).
- Text read as a DATE / TIMESTAMP at run time (not a literal) must be ISO on DuckDB (it fails otherwise).
- Text literals and bound parameters written into a SUPER column are SUPER strings (commands/inserts.py); text read
  from a column or computed (INSERT ... SELECT) is parsed as JSON on DuckDB and refused by PostgreSQL.
- Lateral column aliases (`select a + 1 as b, b * 2 ...`) are inlined unless a FROM column has the name (aliases.py:
  a LateralAliases SessionCommand). Text or BOOLEAN compared with an integer follows Redshift's conversions
  (functions/comparisons.py); on DuckDB, a text column compared with an integer in a window's PARTITION BY /
  ORDER BY, or an enclosing query's column, is still converted to the integer, DuckDB's way ('03' = 3 there).
- COLLATE case_insensitive runs on DuckDB (NOCASE; REGEXP_* of a column against a pattern with letters tells a
  NOCASE value at run time, functions/regexps.py); PostgreSQL (no ICU, so no nondeterministic collation) runs
  an expression's in an equality or IN list as lower() of both sides and refuses it anywhere else and on columns.
  CREATE DATABASE ... COLLATE and CONNECT BY are refused.
- Emulated by session set-up helpers: is_valid_json, is_valid_json_array, json_array_length,
  json_extract_array_element_text, json_extract_path_text (null_if_invalid, a trailing BOOLEAN literal there; a valid non-array is an "invalid json array object"; nested
  values come back minified on DuckDB, as written on PostgreSQL), strtol (C strtol: the longest valid prefix),
  months_between (time of day in the fraction), add_months (a month's last day stays the last day).
  SUPER: JSON_PARSE values, columns of type SUPER, navigation, unnesting in FROM and lax casts, CAN_JSON_PARSE and
  FROM_VARBYTE (functions/super.py); streaming ingestion's statements (streaming.py, shiftflow/dataapi/streams/).
  Redshift-only functions without a local counterpart (IS_DECIMAL & co., which need SUPER's DECIMAL / FLOAT
  distinction, st_*, h3_*, pg_get_cols ...) fail with "not supported locally: <name>()" (rewrite.py lists them;
  date_cmp & co. run on PostgreSQL only); a function an engine has and Redshift does not (list_value, range,
  string_agg ...) is Redshift's `function f(types) does not exist` (functions/known.py: Redshift's function names
  as data), any other unknown function is left to the engine's "does not exist". A statement none of Redshift's
  commands starts (PRAGMA, INSTALL, FROM-first ...) is Redshift's syntax error at its first word.
  Emulated on both engines: CRC32, MURMUR3_32_HASH, FNV_HASH, FARMFINGERPRINT64 (functions/hashes.py), SHA1 /
  FUNC_SHA1 (bytes.py), SOUNDEX / DIFFERENCE (strings.py), GET_ARRAY_LENGTH / ARRAY_FLATTEN (super.py),
  JSON_SERIALIZE / JSON_SERIALIZE_TO_VARBYTE (json.py); the leader-node-only functions fail with Redshift's error
  next to a user table (functions/information.py).
- HyperLogLog (functions/hyperloglog.py): HLLSKETCH columns, HLL and the HLL_* functions; cardinalities exact up to
  366 distinct values (Redshift's sparse estimate), refused beyond; a sketch shown as text is refused.
- Views (views.py): DROP TABLE / VIEW refuses while a normal view reads the object (CASCADE drops it), checked by
  the emulator on DuckDB; late-binding views block no drop on DuckDB, and on PostgreSQL (which binds them) dropping
  what one reads is refused, as is one over a relation that does not exist yet on both engines.
- EXPLAIN is refused on both engines (neither plans as Redshift does). LOCK is a no-op (see translate()). DROP TABLE a, b is one drop per table on DuckDB: without IF EXISTS, a missing
  b fails the statement after a is dropped (a TRANSACTION batch rolls the drop of a back; a lone statement does not).
- COPY: DELIMITER / QUOTE escapes ('\\t', octal '\\001'), DATEFORMAT / TIMEFORMAT (YYYY YY MM MON MONTH DD HH24 HH12
  HH MI SS SS.SSS AM PM, 'epochsecs', 'epochmillisecs'), ESCAPE (text format), ACCEPTINVCHARS, NULL AS, EMPTYASNULL,
  BLANKSASNULL, REMOVEQUOTES, TRIMBLANKS are emulated; MAXERROR is accepted but a bad record always fails the load;
  TRUNCATECOLUMNS and other options fail with "not supported locally".
- getdate() is a TIMESTAMP in UTC truncated to the second, sysdate a TIMESTAMP with microseconds (columns named
  `timestamp`, current_date `date`), but both are the transaction's start: Redshift's getdate() is the statement's.
- Stored procedures: PostgreSQL runs them itself, the body translated (procedures.py; its dynamic SQL, EXECUTE
  '...', is not rewritten); on DuckDB the body is interpreted in Python, every statement in it, dynamic SQL
  included, translated as top-level SQL is (shiftflow/dataapi/procedures/).
- current_user / session_user / user are the request's database user (runner.database_user: its DbUser, its secret's
  username, else its caller's IAM identity's, IAMR:<role> for a role of the local runtime, IAM:local for the local
  administrator and a session no request named, on both engines); `select user` is named current_user, not user. current_database()
  is the request's Database. current_user_id is the admin user's id, 100 (functions/information.py).
- ResultRows: INSERT / UPDATE / DELETE / MERGE / COPY report their count, a query its rows, everything else 0 on
  both engines, CREATE TABLE AS included. Redshift's count for CREATE TABLE AS was not found documented: 0 is the
  emulator's choice (PostgreSQL would count the rows written).
- TRUNCATE commits the open transaction (EngineSql.commits; the emulator commits and begins anew), except inside a
  procedure body on PostgreSQL, where it stays part of the CALL's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import dataclasses
import functools
import itertools

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, TokenError, UnsupportedError
from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.translate.aliases import LateralAliases, inline_aliases, lateral_references, source_probes
from shiftflow.dataapi.translate.catalog import mentions_catalog, rewrite_catalog
from shiftflow.dataapi.translate.char_columns import (char_sources, char_table_as, char_values, mark_char_values,
                                                     run_with_char_values)
from shiftflow.dataapi.translate.commands import expanded, parse_copy, parse_unload, transaction_control, word
from shiftflow.dataapi.translate.commands.append import is_append, parse_append
from shiftflow.dataapi.translate.commands.comments import duckdb_comment, is_comment
from shiftflow.dataapi.translate.commands.cursors import cursor_command, is_cursor_command
from shiftflow.dataapi.translate.commands.functions import create_function, drop_function_macro, is_create_function
from shiftflow.dataapi.translate.commands.inserts import typed_write, writes_text
from shiftflow.dataapi.translate.decimals import marks_divisions, typed_divisions
from shiftflow.dataapi.translate.commands.like import LikeTable, like_clause
from shiftflow.dataapi.translate.commands.prepared import (is_prepared_statement_command, postgres_prepare,
                                                          prepared_statement_command)
from shiftflow.dataapi.translate.commands.roles import (is_role_command, names_principals,
                                                       postgres_owner_only_procedure, postgres_role_command,
                                                       with_principal_words)
from shiftflow.dataapi.translate.commands.settings import set_config_statement, setting_command
from shiftflow.dataapi.translate.commands.show import is_show_table, show_table
from shiftflow.dataapi.translate.commands.written import WrittenCommand
from shiftflow.dataapi.translate.functions import PARSER_FUNCTIONS
from shiftflow.dataapi.translate.functions.super import navigate
from shiftflow.dataapi.translate.databases import strip_connected_database
from shiftflow.dataapi.translate.model import (CASE_SENSITIVE_IDENTIFIERS, CURRENT_DATABASE, EngineSql,
                                              NotSupportedLocally, S3Command, SessionCommand, SqlSyntaxError,
                                              TransactionControl, unterminated_text)
from shiftflow.dataapi.translate.outer_joins import rewrite_outer_joins
from shiftflow.dataapi.translate.pivots import PivotSources, expand_pivots, pivot_probes, pivots
from shiftflow.dataapi.translate.procedures import (BodyTranslator, PostgresCall, is_create_procedure,
                                                   is_procedure_ddl, rewrite_procedure)
from shiftflow.dataapi.translate.rewrite import rewrite
from shiftflow.dataapi.translate.streaming import (call_with_streams, procedure_statement, stream_statement,
                                                   stream_system_tables)
from shiftflow.dataapi.translate.system import (EMULATED, SystemQuery, mentions_system_objects,
                                              refused_system_table, rewrite_system_tables)
from shiftflow.dataapi.translate.setup import (NO_OP, POSTGRES_DATABASE_SETUP, duckdb_functions, prepared_duckdb,
                                              register_duckdb_functions, session_setup)
from shiftflow.dataapi.principals.access import (Guarded, SessionAuthorization, acting_user, authorize,
                                                 session_authorization)
from shiftflow.dataapi.principals.commands import is_principal_command, principal_command
from shiftflow.dataapi.translate.commands.constraints import constraint_alter
from shiftflow.dataapi.translate.declarations import (Change, Declaring, alter_change, create_change, drop_change,
                                                     schema_change)
from shiftflow.dataapi.translate.tablepass import is_layout_only_alter, strip_unparsed_table_attributes
from shiftflow.dataapi.translate.types import default_decimal_sizes
from shiftflow.dataapi.translate.views import checked_alter, checked_drop, checked_schema_drop, late_binding_view
from shiftflow.sql.splitter import SqlSplitError, tokenize

if TYPE_CHECKING:
    from shiftflow.dataapi.engines.base import EngineSession, QueryResult

__all__ = ["EngineSql", "NotSupportedLocally", "POSTGRES_DATABASE_SETUP", "S3Command", "SessionCommand",
           "SqlSyntaxError", "TransactionControl", "clear_cache", "duckdb_functions", "prepared_duckdb", "register_duckdb_functions", "run_s3_command", "session_setup",
           "translate"]

ENGINES = ("duckdb", "postgres")


def _dialect() -> Dialect:
    """Redshift as sqlglot reads it, except that GETDATE() stays apart from CURRENT_TIMESTAMP: Redshift's getdate()
    is a TIMESTAMP truncated to the second, current_timestamp a TIMESTAMPTZ (rewrite.py gives each its value)."""
    from sqlglot.dialects.redshift import Redshift

    from shiftflow.sql.redshift_tokens import RedshiftDialect

    class ShiftflowRedshift(RedshiftDialect):
        class Parser(Redshift.Parser):
            FUNCTIONS = {**Redshift.Parser.FUNCTIONS,
                         "GETDATE": lambda args: exp.Anonymous(this="getdate", expressions=args),
                         # ADD_MONTHS is not DATEADD(month, ...): it keeps a month's last day the last day.
                         "ADD_MONTHS": lambda args: exp.Anonymous(this="add_months", expressions=args),
                         **PARSER_FUNCTIONS}  # functions/: calls whose Redshift meaning sqlglot would lose
            FUNCTION_PARSERS = {name: parse for name, parse in Redshift.Parser.FUNCTION_PARSERS.items()
                                if name not in PARSER_FUNCTIONS}

            def _parse_approximate_count(self) -> exp.Expression | None:
                # APPROXIMATE PERCENTILE_DISC(p) WITHIN GROUP (ORDER BY x [DESC]) stays the exact PERCENTILE_DISC
                # (functions/aggregates.py): sqlglot's approx_quantile(x, p) drops the order's direction.
                index = self._index
                call = self._parse_function()
                if isinstance(call, exp.WithinGroup) and isinstance(call.this, exp.PercentileDisc):
                    return call
                self._retreat(index)
                return super()._parse_approximate_count()

            def _parse_types(self, *args: Any, **kwargs: Any) -> exp.Expression | None:
                # BYTEA as written: sqlglot reads it as VARBYTE, but Redshift has no BYTEA (types.py refuses it).
                name = self._curr.text.lower() if self._curr is not None else ""
                node = super()._parse_types(*args, **kwargs)
                if name == "bytea" and isinstance(node, exp.DataType):
                    node.meta["written_type"] = "bytea"
                return node

            def _parse_function_call(self, *args: Any, **kwargs: Any) -> exp.Expression | None:
                # The name as written (strpos, charindex and position are one sqlglot class): Redshift names an
                # unaliased call's column after it (rewrite.py).
                name = self._curr.text if self._curr is not None else ""
                node = super()._parse_function_call(*args, **kwargs)
                if node is not None and name.isidentifier():
                    node.meta.setdefault("written_name", name.lower())
                return node

    return ShiftflowRedshift()


_REDSHIFT = _dialect()


def translate(statement: str, engine: str) -> EngineSql | TransactionControl | S3Command | SessionCommand:
    """One Redshift statement for `engine`; raises NotSupportedLocally for what cannot be emulated. With
    CASE_SENSITIVE_IDENTIFIERS set (the runner sets the session's enable_case_sensitive_identifier), quoted names
    keep their case."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {ENGINES}")
    return _translate_cached(statement, engine, CASE_SENSITIVE_IDENTIFIERS.get(), CURRENT_DATABASE.get())


def clear_cache() -> None:
    """Forget cached translations (benchmarks measure translation itself)."""
    _translate_cached.cache_clear()


@functools.lru_cache(maxsize=2048)  # pure function of its text: scripts rerun on a schedule translate once
def _translate_cached(statement: str, engine: str, case_sensitive: bool,
                      database: str | None) -> EngineSql | TransactionControl | S3Command | SessionCommand:
    translated = _translate_statement(statement, engine)
    if engine != "duckdb":  # PostgreSQL checks privileges itself
        if isinstance(translated, (EngineSql, SessionCommand)) and names_principals(statement):
            return with_principal_words(statement, tokenize(statement), translated)  # commands/roles.py
        return translated
    # principals/access.py: checked against the session's user (SET SESSION AUTHORIZATION) when it runs
    if isinstance(translated, EngineSql):
        return dataclasses.replace(translated, authorize=functools.partial(_authorize, statement))
    if isinstance(translated, SessionCommand) and not isinstance(translated, SessionAuthorization):
        return Guarded(translated, statement, translated.parameter_names,
                       getattr(translated, "session_scoped", False))
    return translated


def _authorize(statement: str, session: EngineSession) -> Any:
    return authorize(session, statement)


def _unguarded(statement: str, engine: str) -> EngineSql | TransactionControl | S3Command | SessionCommand:
    """translate() for a part of another statement, which is checked as a whole (a materialized view's query)."""
    translated = translate(statement, engine)
    if isinstance(translated, Guarded):
        return translated.inner
    return dataclasses.replace(translated, authorize=None) if isinstance(translated, EngineSql) else translated


def _translate_statement(statement: str, engine: str) -> EngineSql | TransactionControl | S3Command | SessionCommand:
    try:
        tokens = tokenize(statement)
    except SqlSplitError as error:
        raise unterminated_text(statement, error) from None
    if not tokens:
        raise NotSupportedLocally("an empty statement")
    named = strip_connected_database(statement, tokens)  # databases.py: three-part names
    if named is not statement:
        statement, tokens = named, tokenize(named)
    control = transaction_control(tokens)
    if control is not None:
        return control
    _refuse_other_commands(tokens)
    streaming = stream_statement(statement, tokens, engine, _unguarded, _parse)
    if streaming is not None:  # streaming.py: external schemas, materialized views, case-sensitive names
        return streaming
    verb = word(tokens[0])
    if verb in {"SET", "RESET"}:  # principals/access.py; PostgreSQL switches users itself (SET ROLE, setup.py)
        authorization = session_authorization(expanded(statement, tokens))
        if authorization is not None and engine == "duckdb":
            return authorization
        if authorization is not None:
            return EngineSql(_postgres_session_authorization(authorization).replace("%", "%%"), session_scoped=True)
    if verb in {"SET", "RESET"}:
        setting = setting_command(expanded(statement, tokens), engine) or _translate_tree(statement, tokens, engine)
        return dataclasses.replace(setting, session_scoped=True)
    if verb == "SHOW" and is_show_table(expanded(statement, tokens)):  # commands/show.py
        return show_table(expanded(statement, tokens))
    if verb == "SHOW":
        setting = setting_command(expanded(statement, tokens), engine)
        if setting is not None:
            return setting
    if verb == "COPY":
        return parse_copy(statement, tokens)
    if verb == "UNLOAD":
        return parse_unload(statement, tokens)
    if is_append(tokens):
        return parse_append(statement, tokens)
    if is_create_function(tokens):
        return create_function(statement, tokens, engine, lambda sql: _expression_sql(sql, engine),
                               lambda type_text: _type_sql(type_text, engine))
    if is_cursor_command(tokens):
        return cursor_command(statement, expanded(statement, tokens), engine, lambda query: _cursor_query(query, engine))
    if "acl" in statement.lower() and any(t.text.lower() in _PRIVILEGE_WORDS for t in expanded(statement, tokens)):
        system_table = next((t.text.lower() for t in tokens if refused_system_table(t.text.lower())), None)
        if system_table is not None:  # refused as system.py refuses it: Redshift's internals
            raise NotSupportedLocally(f"system table {system_table}")
        raise NotSupportedLocally("Redshift's privileges (the catalog's access lists, aclitem and its functions)")
    if is_comment(tokens):  # commands/comments.py: PostgreSQL's own syntax
        return duckdb_comment(statement, tokens) if engine == "duckdb" else _tokens_to_postgres(statement, tokens)
    if engine == "duckdb" and is_prepared_statement_command(tokens):
        return prepared_statement_command(statement, expanded(statement, tokens), lambda sql: translate(sql, engine),
                                          lambda values: _expressions_sql(values, engine))
    if engine == "postgres" and verb == "PREPARE" and is_prepared_statement_command(tokens):
        return postgres_prepare(statement, expanded(statement, tokens), lambda sql: translate(sql, engine))
    if engine == "postgres" and verb == "DEALLOCATE":  # PostgreSQL's own syntax (sqlglot would misread it)
        return dataclasses.replace(_tokens_to_postgres(statement, tokens), session_scoped=True)
    refused = _redshift_only(tokens)
    if refused:
        raise NotSupportedLocally(refused)
    if engine == "duckdb" and is_principal_command(tokens):  # shiftflow/dataapi/principals/: DuckDB has no users
        return principal_command(tokens, lambda query: _engine_query(query, engine))
    if engine == "postgres" and is_role_command(tokens):  # commands/roles.py: Redshift's words for PostgreSQL's
        text = postgres_role_command(statement, tokens)
        if text is not statement:
            return _written_command(text, tokenize(text))
    if is_layout_only_alter(tokens):  # declarations.py keeps what Redshift keeps of them
        return EngineSql(NO_OP[engine], declares=alter_change(tokens, None))
    if verb in {"ANALYZE", "VACUUM"}:
        return EngineSql(NO_OP[engine])
    if verb == "EXPLAIN":  # r_EXPLAIN.md: Redshift's steps (XN Seq Scan, DS_DIST_*), costs and distribution
        raise NotSupportedLocally("EXPLAIN statement (Redshift's query plan; neither engine plans as Redshift does)")
    if verb == "LOCK":
        # LOCK only orders concurrent Redshift transactions. The emulator runs each statement's batch in one engine
        # transaction and the engines serialize conflicting writes themselves (DuckDB fails the later writer,
        # PostgreSQL makes it wait): no lock of ours changes what the batch computes.
        return EngineSql(NO_OP[engine])
    if verb == "CALL" or is_create_procedure(tokens) or is_procedure_ddl(tokens):
        if engine == "duckdb":  # shiftflow/dataapi/procedures/: the body interpreted in Python
            from shiftflow.dataapi.procedures.commands import procedure_command

            return procedure_command(statement, tokens, lambda sql: translate(sql, "duckdb"),
                                     lambda select: _call_arguments(select))
        if verb == "CALL":
            return _call(statement, tokens)
        if is_procedure_ddl(tokens):  # DROP / ALTER PROCEDURE name(argument list): PostgreSQL's own syntax
            return _tokens_to_postgres(statement, tokens)
        if any(word(token) == "NONATOMIC" for token in tokens):
            raise NotSupportedLocally("NONATOMIC procedures (each statement committing on its own)")
        text = postgres_owner_only_procedure(rewrite_procedure(statement, tokens, _BODY_TRANSLATOR), tokens)
        return EngineSql(text.replace("%", "%%"))
    translated = _translate_tree(statement, tokens, engine)
    if verb == "TRUNCATE":  # "TRUNCATE commits the transaction in which it is run" (Redshift's TRUNCATE page)
        return EngineSql(translated.text, translated.parameter_names, commits=True)
    return translated


def run_s3_command(command: S3Command, session: EngineSession, parameters: Mapping[str, str],
                   s3_client: Any) -> QueryResult:
    """Run a COPY or UNLOAD through `session`, reading or writing objects with `s3_client`."""
    from shiftflow.dataapi import s3io  # csv, gzip, bz2 and the rest load only when a COPY or UNLOAD runs

    if acting_user(session) is not None:
        raise NotSupportedLocally(f"{command.kind.upper()} as a user who is not a superuser (SET SESSION"
                                  " AUTHORIZATION) on the DuckDB engine")

    return s3io.run(command, session, parameters, s3_client, translate)


# The catalog's access privileges (pg_class.relacl ...): scripts that read them need Redshift's users and grants
# (the engines' own lists name their roles, postgres=UC/postgres, or are empty on DuckDB).
_PRIVILEGE_WORDS = frozenset({"aclitem", "makeaclitem", "aclcontains", "aclexplode", "relacl", "nspacl", "proacl",
                              "datacl", "lanacl"})
# Redshift-only statements with no local meaning, by their leading words (CREATE OR REPLACE read as CREATE).
_DATASHARES = "datashares"
_REDSHIFT_ONLY = {("CREATE", "EXTERNAL"): "external schemas and tables (Redshift Spectrum)",
                  ("DROP", "EXTERNAL"): "external schemas and tables (Redshift Spectrum)",
                  ("CREATE", "LIBRARY"): "CREATE LIBRARY", ("CREATE", "MODEL"): "CREATE MODEL",
                  ("DROP", "MODEL"): "DROP MODEL", ("CREATE", "DATASHARE"): _DATASHARES,
                  ("ALTER", "DATASHARE"): _DATASHARES, ("DROP", "DATASHARE"): _DATASHARES,
                  ("DESC", "DATASHARE"): _DATASHARES,
                  # ANALYZE COMPRESSION reports Redshift's column encodings (r_ANALYZE_COMPRESSION.md)
                  ("ANALYZE", "COMPRESSION"): "ANALYZE COMPRESSION (a report of Redshift's column encodings)",
                  **{(verb, "IDENTITY"): "identity providers" for verb in ("CREATE", "ALTER", "DROP")},
                  **{(verb, "RLS"): "row-level security policies" for verb in ("CREATE", "ALTER", "DROP", "ATTACH",
                                                                              "DETACH")},
                  **{(verb, "MASKING"): "dynamic data masking policies" for verb in ("CREATE", "ALTER", "DROP",
                                                                                   "ATTACH", "DETACH")}}
# ALTER TABLE clauses only an external table takes (r_ALTER_TABLE_external-table.md).
_EXTERNAL_TABLE_CLAUSES = (("SET", "TABLE", "PROPERTIES"), ("SET", "LOCATION"), ("SET", "FILE", "FORMAT"),
                           ("ADD", "PARTITION"), ("ADD", "IF", "NOT", "EXISTS", "PARTITION"), ("DROP", "PARTITION"))
_ROW_LEVEL_SECURITY = ("ROW", "LEVEL", "SECURITY")


def _redshift_only(tokens: list[Token]) -> str | None:
    words = tuple(word(t) for t in tokens[:5])
    if words[1:3] == ("OR", "REPLACE"):
        words = words[:1] + words[3:]
    if words[1:3] == ("EXTERNAL", "FUNCTION"):
        return "Lambda UDFs (CREATE EXTERNAL FUNCTION)"
    if words[0] == "CANCEL":  # r_CANCEL.md: a running query of another session, by its process id
        return ("CANCEL of another session's query (cancel a Data API statement with CancelStatement)")
    if any(token.token_type == TokenType.CONNECT_BY for token in tokens):
        # r_CONNECT_BY_clause.md's own example is not consistent (its output has the fourth level that its
        # `where level < 4` excludes when LEVEL is 1 for the root, as the page says): no faithful translation.
        return "CONNECT BY (hierarchical queries)"
    if words[0] not in {"CREATE", "ALTER"}:
        return _REDSHIFT_ONLY.get(words[:2])
    every = [word(t) for t in tokens]
    if words[:2] in {("CREATE", "DATABASE"), ("ALTER", "DATABASE")}:
        if "COLLATE" in every:
            return f"{' '.join(words[:2])} ... COLLATE (a database whose text columns default to a collation)"
        if _has_clause(every, ("ISOLATION", "LEVEL")):  # r_CREATE_DATABASE.md: its transactions' isolation
            return f"{' '.join(words[:2])} ... ISOLATION LEVEL (Redshift's SNAPSHOT / SERIALIZABLE isolation)"
        if words[:2] == ("CREATE", "DATABASE") and "FROM" in every:
            following = every[every.index("FROM") + 1] if every.index("FROM") + 1 < len(every) else ""
            return _DATASHARES if following == "DATASHARE" else "CREATE DATABASE ... FROM (a zero-ETL integration)"
    if words[:2] in {("CREATE", "SCHEMA"), ("ALTER", "SCHEMA")} and any(
            every[i] == "QUOTA" and (every[i + 1] == "UNLIMITED" or tokens[i + 1].token_type == TokenType.NUMBER)
            for i in range(3, len(every) - 1)):
        return "schema QUOTA (Redshift's storage limits, which the engines do not measure alike)"
    if words[:3] == ("ALTER", "MATERIALIZED", "VIEW") and _has_clause(every, ("AUTO", "REFRESH")):
        return "ALTER MATERIALIZED VIEW ... AUTO REFRESH (set it in CREATE MATERIALIZED VIEW)"
    if words[:2] == ("ALTER", "TABLE"):
        if any(_has_clause(every, clause) for clause in _EXTERNAL_TABLE_CLAUSES):
            return "external schemas and tables (Redshift Spectrum)"
        if _has_clause(every, _ROW_LEVEL_SECURITY):
            return "row-level security (ALTER TABLE ... ROW LEVEL SECURITY)"
    return _REDSHIFT_ONLY.get(words[:2])


_PIVOT_TOKENS = frozenset({TokenType.PIVOT, TokenType.UNPIVOT})


def _has_clause(words: list[str], clause: tuple[str, ...]) -> bool:
    return any(tuple(words[i : i + len(clause)]) == clause for i in range(3, len(words)))


def _parse(text: str, tokens: list[Token] | None = None) -> exp.Expression:
    try:
        if tokens is None:
            tokens = tokenize(text)
        trees = [tree for tree in _REDSHIFT.parser().parse(tokens, text) if tree is not None]
    except SqlSplitError as error:
        raise unterminated_text(text, error) from None
    except TokenError as error:
        raise NotSupportedLocally(f"Redshift syntax the translator cannot tokenize ({error})") from None
    except ParseError as error:
        raise _syntax_error(tokens or [], error) from None
    if len(trees) != 1:
        raise NotSupportedLocally("more than one statement in one call (split the script first)")
    return trees[0]


# The statements of Redshift's SQL command reference, by their first word (cm_chap_SQLCommandRef.md).
_VERBS = frozenset("""ABORT ALTER ANALYZE ATTACH BEGIN CALL CANCEL CLOSE COMMENT COMMIT COPY CREATE DEALLOCATE DECLARE
    DELETE DESC DETACH DROP END EXECUTE EXPLAIN FETCH GRANT INSERT LOCK MERGE PREPARE REFRESH RESET REVOKE
    ROLLBACK SELECT SET SHOW START TRUNCATE UNLOAD UPDATE USE VACUUM WITH ( VALUES""".split())
# ATTACH / DETACH take a policy (r_ATTACH_MASKING_POLICY.md, r_ATTACH_RLS_POLICY.md), not DuckDB's database file.
_POLICY_WORDS = frozenset({"MASKING", "RLS"})


def _refuse_other_commands(tokens: list[Token]) -> None:
    """A statement that is none of Redshift's commands is Redshift's syntax error at its first word, also where
    an engine would run it: DuckDB's PRAGMA, INSTALL, LOAD, ATTACH 'file', SUMMARIZE, DESCRIBE, PIVOT, FROM-first
    queries; PostgreSQL's LOAD, CHECKPOINT, LISTEN ..."""
    if word(tokens[0]) not in _VERBS:
        raise SqlSyntaxError(tokens[0].text, tokens[0].start + 1)
    if word(tokens[0]) in {"ATTACH", "DETACH"} and (len(tokens) < 2 or word(tokens[1]) not in _POLICY_WORDS):
        after = tokens[1] if len(tokens) > 1 else tokens[0]
        raise SqlSyntaxError(after.text, after.start + 1)


# What CREATE, ALTER and DROP take in Redshift's command reference (r_CREATE_*.md ...), and the words before it.
_OBJECT_WORDS = frozenset("""DATABASE DATASHARE DEFAULT EXTERNAL FUNCTION GROUP IDENTITY LIBRARY MASKING MATERIALIZED
    MODEL PROCEDURE RLS ROLE SCHEMA TABLE USER VIEW TEMP TEMPORARY LOCAL OR SYSTEM PRIVILEGES""".split())


def _refuse_unknown_object(tokens: list[Token]) -> None:
    """CREATE / ALTER / DROP of no Redshift object (`create tabel t ...`) is Redshift's syntax error, not a
    statement to hand to the engine (sqlglot leaves such text as an opaque command)."""
    if len(tokens) > 1 and word(tokens[0]) in {"CREATE", "ALTER", "DROP"} and word(tokens[1]) not in _OBJECT_WORDS:
        raise SqlSyntaxError(tokens[1].text, tokens[1].start + 1)


def _syntax_error(tokens: list[Token], error: ParseError) -> SqlSyntaxError:
    """Redshift's message for text its parser rejects: the token it stopped at and its position. A statement
    that does not start with a command's name is rejected at its first word, as PostgreSQL's grammar does."""
    if tokens and word(tokens[0]) not in _VERBS:
        return SqlSyntaxError(tokens[0].text, tokens[0].start + 1)
    details = error.errors[0] if error.errors else {}
    for token in tokens:
        if (token.line, token.col) == (details.get("line"), details.get("col")):
            return SqlSyntaxError(token.text, token.start + 1)
    last = tokens[-1] if tokens else None
    return SqlSyntaxError(last.text if last else "", last.start + 1 if last else 1)


def _translate_tree(statement: str, tokens: list[Token], engine: str) -> EngineSql | SessionCommand:
    text = strip_unparsed_table_attributes(statement, tokens)
    tree = default_decimal_sizes(_parse(text, tokens if text is statement else None))
    change = _declaration_change(tree, tokens) if isinstance(tree, (exp.Create, exp.Alter, exp.Drop)) or (
        isinstance(tree, exp.Command) and word(tokens[0]) == "ALTER") else None
    translated = _translate_pivoting(statement, tokens, engine, tree)
    if change is None:
        return translated
    if isinstance(translated, EngineSql):
        return dataclasses.replace(translated, declares=change)
    return Declaring(translated, change)


def _declaration_change(tree: exp.Expression, tokens: list[Token]) -> Change | None:
    """What a CREATE TABLE, ALTER TABLE / SCHEMA or DROP TABLE / SCHEMA changes in the tables' declarations."""
    if isinstance(tree, exp.Create):
        return create_change(tree.copy(), tokens)
    if isinstance(tree, exp.Drop):
        return drop_change(tree.copy())
    return alter_change(tokens, tree.copy()) or schema_change(tokens)


def _translate_pivoting(statement: str, tokens: list[Token], engine: str,
                        tree: exp.Expression) -> EngineSql | SessionCommand:
    if any(t.token_type in _PIVOT_TOKENS for t in tokens) and pivots(tree):  # pivots.py: PIVOT / UNPIVOT as plain SQL, the inputs' columns read first where needed
        probed = pivot_probes(tree)
        if probed:
            expanded = functools.lru_cache(maxsize=8)(lambda columns: _translate_expanded(
                expand_pivots(tree.copy(), dict(columns)), statement, tokens, engine))
            probe_sql = tuple((index, _translate_parsed(probe, tokens, engine)) for index, probe in probed.items())
            # what the statement binds does not depend on the inputs' columns: an expansion without them tells
            names = [*expanded(tuple((index, ()) for index in probed)).parameter_names,
                     *(name for _, sql in probe_sql for name in sql.parameter_names)]
            return PivotSources(probe_sql, expanded, tuple(dict.fromkeys(names)))
        tree = expand_pivots(tree, {})
    return _translate_expanded(tree, statement, tokens, engine)


def _translate_expanded(tree: exp.Expression, statement: str, tokens: list[Token],
                        engine: str) -> EngineSql | SessionCommand:
    constraints = constraint_alter(tree, lambda query: _engine_query(query, engine))
    if constraints is not None:
        return constraints
    if isinstance(tree, exp.Command):
        _refuse_unknown_object(tokens)
        if engine == "postgres":  # PostgreSQL is Redshift's ancestor: let it run what sqlglot leaves opaque
            if word(tokens[0]) in {"SET", "RESET"}:  # session settings: EngineSql, which the session keeps
                return _tokens_to_postgres(statement, tokens)
            return _written_command(statement, tokens)
        raise NotSupportedLocally(f"{tree.name.upper()} statement on the DuckDB engine")
    if engine == "duckdb" and "set_config" in statement.lower():  # commands/settings.py: SET's function form
        set_config = set_config_statement(tree)
        if set_config is not None:
            return set_config
    if isinstance(tree, exp.Drop) and engine == "duckdb":
        if (tree.args.get("kind") or "").upper() == "DATABASE":
            raise NotSupportedLocally("DROP DATABASE on the DuckDB engine (each Data API database is its own DuckDB"
                                      " database)")
        dropped_macro = drop_function_macro(tree)
        if dropped_macro is not None:
            return dropped_macro
    if isinstance(tree, exp.Drop) and (tree.args.get("kind") or "").upper() in {"TABLE", "VIEW"}:
        dropped = _translate_parsed(tree.copy(), tokens, engine)  # views.py: Redshift's dependency check
        return checked_drop(tree, dropped, engine) if isinstance(dropped, EngineSql) else dropped
    if engine == "duckdb" and isinstance(tree, (exp.Drop, exp.Alter)):  # views.py: the views bound to it
        changed = _translate_parsed(tree.copy(), tokens, engine)
        return checked_alter(tree, checked_schema_drop(tree, changed, engine), engine)
    if isinstance(tree, exp.Create) and tree.args.get("no_schema_binding"):
        created = _translate_parsed(tree.copy(), tokens, engine)  # views.py: a late-binding view
        return late_binding_view(tree, created, engine) if isinstance(created, EngineSql) else created
    laterals = lateral_references(tree)  # aliases.py: select-list aliases referred to in the same list
    if any(laterals):
        plain = _translate_parsed(tree.copy(), tokens, engine)
        if not isinstance(plain, EngineSql):
            return plain
        probes = () if engine == "postgres" else tuple(
            None if probe is None else _translate_parsed(probe, tokens, engine)
            for probe in source_probes(tree, laterals))
        if not all(probe is None or isinstance(probe, EngineSql) for probe in probes):
            return plain  # a FROM of system tables: left to the engine
        inlined = functools.lru_cache(maxsize=8)(functools.partial(_inlined, tree, tokens, engine))
        return LateralAliases(plain, laterals, inlined, probes)
    return _translate_parsed(tree, tokens, engine)


def _inlined(tree: exp.Expression, tokens: list[Token], engine: str,
             names: tuple[frozenset[str], ...]) -> EngineSql:
    translated = _translate_parsed(inline_aliases(tree.copy(), names), tokens, engine)
    assert isinstance(translated, EngineSql)
    return translated


def _translate_parsed(tree: exp.Expression, tokens: list[Token], engine: str) -> EngineSql | SessionCommand:
    if any(token.token_type == TokenType.JOIN_MARKER for token in tokens):
        tree = rewrite_outer_joins(tree)  # outer_joins.py: `where a.x = b.x(+)`, before navigation rebuilds columns
    if mentions_catalog(tokens):  # catalog.py: comments read back, constraint views refused
        tree = rewrite_catalog(tree, engine)
    sources, lineages, checks = (), (), ()
    if engine == "duckdb":  # char_columns.py: CHAR(n) values padded in the output, LIKE and || operands
        sources, lineages, checks = mark_char_values(tree, char_sources(tree))
    tree, prelude = rewrite(navigate(stream_system_tables(tree), engine), engine)
    system_tables = rewrite_system_tables(tree, engine) if mentions_system_objects(tokens) else set()
    like = like_clause(tree) if engine == "duckdb" and isinstance(tree, exp.Create) else None
    if isinstance(tree, exp.Drop) and engine == "duckdb" and len(tree.args.get("tables") or []) > 1:
        # DuckDB drops one object per statement: DROP TABLE a, b becomes two drops, run in order.
        drops = []
        for table in tree.args["tables"]:
            one = tree.copy()
            one.set("tables", [table.copy()])
            drops.append(one)
        prelude += [_sql(drop, engine) for drop in drops[:-1]]
        tree = drops[-1]
    order = _placeholder_order(tokens)
    typed = isinstance(tree, (exp.Insert, exp.Update)) and writes_text(tree)  # commands/inserts.py
    written = tree.copy() if typed else tree
    generated = _generate(tree, prelude, engine, order)  # (on PostgreSQL it changes the tree's placeholders)
    if engine == "duckdb" and not prelude:
        generated = _typed_divisions(generated, tree)
    if typed:
        finished = _finished(tree, generated, sources, lineages, checks, system_tables, engine)
        if isinstance(finished, EngineSql):
            def generate(node: exp.Expression) -> EngineSql:
                sql = dataclasses.replace(finished, text=_generate(node.copy(), prelude, engine, order).text,
                                          typed_text=None)
                return _typed_divisions(sql, node) if engine == "duckdb" and not prelude else sql

            return typed_write(written, engine, generate)
    if like is not None:
        including = any(option.name.upper() == "INCLUDING" and option.text("value").upper() == "DEFAULTS"
                        for option in like.expressions)
        return LikeTable(generated, table=tree.this.this.sql("duckdb"), parent=_bare_name(like.this),
                         including_defaults=including)
    return _finished(tree, generated, sources, lineages, checks, system_tables, engine)


def _typed_divisions(generated: EngineSql, tree: exp.Expression) -> EngineSql:
    """DuckDB: the statement's divisions typed when it runs (decimals.py), when it has any that may be DECIMAL."""
    if not marks_divisions(tree):
        return generated
    divided, text = tree.copy(), generated.text
    return dataclasses.replace(generated, typed_text=lambda session, parameters: typed_divisions(
        session, divided, text, parameters, lambda node: _sql(node, "duckdb")))


def _finished(tree: exp.Expression, generated: EngineSql, sources: tuple[Any, ...], lineages: tuple[Any, ...],
              checks: tuple[Any, ...], system_tables: set[str], engine: str) -> EngineSql | SessionCommand:
    """The statement's EngineSql with what runs it: CHAR(n) values padded, system tables read from the catalog."""
    values = (char_values(tree, lineages, lambda node: _sql(node, engine)) if lineages else ()) + checks
    if sources and isinstance(tree, exp.Create):  # CREATE TABLE AS of CHAR values: CHAR columns
        return char_table_as(tree, generated, sources, values, lambda node: _sql(node, engine))
    from_catalog = tuple(sorted(name for name in system_tables if EMULATED[name].source == "catalog"))
    if from_catalog:
        return SystemQuery(generated, from_catalog)
    if system_tables:
        return generated
    if not (sources or values):
        return generated
    return dataclasses.replace(generated, char_sources=sources, char_operands=values, char_runner=run_with_char_values)


def _engine_query(query: str, engine: str) -> EngineSql:
    translated = _unguarded(query, engine)  # the emulator's own probe: the statement is checked
    assert isinstance(translated, EngineSql), f"{query!r} is not a plain query on {engine}"
    return translated


def _expression_sql(select: str, engine: str) -> str:
    """SELECT <expression> (one projection, no FROM) -> the engine's text of the expression, rewritten."""
    tree, _ = rewrite(_parse(select), engine)
    projection = tree.expressions[0]
    return _sql(projection.this if isinstance(projection, exp.Alias) else projection, engine)


def _expressions_sql(expressions: str, engine: str) -> list[str]:
    """`a, b, ...` -> the engine's text of each expression, rewritten."""
    tree, _ = rewrite(_parse(f"SELECT {expressions}"), engine)
    return [_sql(p.this if isinstance(p, exp.Alias) else p, engine) for p in tree.expressions]


def _type_sql(type_text: str, engine: str) -> str:
    cast = _expression_sql(f"SELECT CAST(NULL AS {type_text})", engine)
    return cast[cast.upper().index(" AS ") + 4 : -1]


def _cursor_query(query: str, engine: str) -> EngineSql:
    translated = translate(query, engine)
    if not isinstance(translated, EngineSql) or not translated.text.lstrip().upper().startswith(("SELECT", "WITH", "(")):
        raise NotSupportedLocally("a cursor over something other than a query")
    return translated


def _bare_name(table: exp.Table) -> str:
    return ".".join(part.name for part in table.parts)


def _placeholder_order(tokens: list[Token]) -> list[str]:
    """`:name` placeholders in order of first use (as shiftflow.sql.parameters reads them, from our tokens)."""
    names: list[str] = []
    for colon, name in zip(tokens, tokens[1:]):
        if colon.token_type == TokenType.COLON and name.start == colon.end + 1 and name.text.isidentifier():
            if name.text not in names:
                names.append(name.text)
    return names


def _generate(tree: exp.Expression, prelude: list[str], engine: str, order: list[str]) -> EngineSql:
    present = {p.name for p in tree.find_all(exp.Placeholder) if p.name}
    names = [name for name in order if name in present]  # order of first use
    names += sorted(present - set(names))
    if engine == "duckdb":
        _clocks_as_calls(tree)
        text = _sql(tree, "duckdb")
        return EngineSql(";\n".join([*prelude, text]), tuple(names))
    _qualify_postgres_helpers(tree)
    # psycopg reads every % as a placeholder marker: double them all, then put the placeholders in.
    for placeholder in list(tree.find_all(exp.Placeholder)):
        placeholder.replace(exp.var(f"\x00{placeholder.name}\x00"))
    text = _sql(tree, "postgres").replace("%", "%%")
    for name in names:
        text = text.replace(f"\x00{name}\x00", f"%({name})s")
    return EngineSql(text, tuple(names))


# DuckDB reads CURRENT_DATE, CURRENT_TIMESTAMP ... as a reference to a select item aliased with that name
# (`SELECT CURRENT_TIMESTAMP AS current_timestamp` fails binding); its function forms are the same clocks.
_CLOCK_CALLS = {exp.CurrentTimestamp: "get_current_timestamp", exp.CurrentDate: "current_date",
                exp.CurrentTime: "get_current_time", exp.Localtimestamp: "current_localtimestamp"}
_CLOCK_KEYWORDS = {"current_timestamp", "current_date", "current_time", "localtimestamp"}


def _clocks_as_calls(tree: exp.Expression) -> None:
    """DuckDB: the clock keywords as function calls, in a statement with an alias named like one of them."""
    if not any(alias.alias.lower() in _CLOCK_KEYWORDS for alias in tree.find_all(exp.Alias)):
        return
    for clock in list(tree.find_all(*_CLOCK_CALLS)):
        if not clock.args.get("this"):  # CURRENT_TIMESTAMP(3) and the like keep their own form
            clock.replace(exp.Anonymous(this=_CLOCK_CALLS[type(clock)], expressions=[]))


def _qualify_postgres_helpers(tree: exp.Expression) -> None:
    """The emulator's PostgreSQL helpers live in schema public (POSTGRES_DATABASE_SETUP): called by their full
    name, they are found after a script's `SET search_path TO its_schema` (as Redshift's built-ins are)."""
    for call in reversed(list(tree.find_all(exp.Anonymous))):  # innermost first: a replaced call is copied
        name = call.name.lower()
        if name.startswith("shiftflow_") and not isinstance(call.parent, exp.Dot):
            call.replace(exp.Dot(this=exp.to_identifier("public"), expression=call.copy()))


def _sql(tree: exp.Expression, engine: str) -> str:
    """Generate, refusing what sqlglot would otherwise drop with a mere warning (e.g. IGNORE NULLS)."""
    try:
        return tree.sql(dialect=engine, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as error:
        raise NotSupportedLocally(f"{str(error).strip()} ({engine} engine)") from None


def _tokens_to_postgres(statement: str, tokens: list[Token]) -> EngineSql:
    """Statements kept as written (CALL, commands sqlglot cannot model): only `:name` -> %(name)s and % -> %%."""
    if tokens[0].token_type == TokenType.COMMAND and len(tokens) > 1:
        # The tokenizer returns a command's arguments as one string token: tokenize them on their own.
        head, rest = statement[: tokens[0].end + 1], statement[tokens[0].end + 1 :]
        converted = _tokens_to_postgres(rest, tokenize(rest))
        return EngineSql(head.replace("%", "%%") + converted.text, converted.parameter_names)
    pieces: list[str] = []
    names: list[str] = []
    position = 0
    for colon, name in zip(tokens, tokens[1:]):
        if colon.token_type == TokenType.COLON and name.start == colon.end + 1 and name.text.isidentifier():
            pieces.append(statement[position : colon.start].replace("%", "%%"))
            pieces.append(f"%({name.text})s")
            position = name.end + 1
            if name.text not in names:
                names.append(name.text)
    pieces.append(statement[position:].replace("%", "%%"))
    return EngineSql("".join(pieces), tuple(names))


def _written_command(statement: str, tokens: list[Token]) -> WrittenCommand:
    """A command PostgreSQL runs as written (commands/written.py), named by its verb and object words."""
    translated = _tokens_to_postgres(statement, tokens)
    every = expanded(statement, tokens)
    objects = itertools.takewhile(lambda t: word(t) in _OBJECT_WORDS and t.token_type != TokenType.STRING, every[1:4])
    what = " ".join(word(t) for t in [every[0], *objects])
    return WrittenCommand(translated.text, what, translated.parameter_names)


def _call(statement: str, tokens: list[Token]) -> SessionCommand:
    """CALL name(arguments) on PostgreSQL: the arguments translated as any expression is (sysdate, getdate(),
    nvl ...), the OUT arguments Redshift's CALL leaves out given when it runs (procedures.PostgresCall)."""
    tokens = expanded(statement, tokens)
    while tokens and tokens[-1].token_type == TokenType.SEMICOLON:
        tokens = tokens[:-1]
    opening = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.L_PAREN), None)
    if opening is None or tokens[-1].token_type != TokenType.R_PAREN:
        return call_with_streams(_tokens_to_postgres(statement, tokens))
    name = [t.text if t.token_type == TokenType.IDENTIFIER else t.text.lower() for t in tokens[1:opening]
            if t.token_type != TokenType.DOT]
    head = statement[: tokens[opening].end + 1].replace("%", "%%")
    if opening + 1 == len(tokens) - 1:
        return PostgresCall(head, tuple(name), (), call_with_streams)
    arguments = statement[tokens[opening].end + 1 : tokens[-1].start]
    tree = _parse(f"SELECT {arguments}")
    tree, _ = rewrite(tree, "postgres")
    order = _placeholder_order(tokens)
    texts = tuple(_generate(exp.select(p.this if isinstance(p, exp.Alias) else p), [], "postgres", order)
                  .text[len("SELECT "):] for p in tree.expressions)
    names = _generate(tree, [], "postgres", order).parameter_names
    return PostgresCall(head, tuple(name), texts, call_with_streams, names)


def _call_arguments(select: str) -> EngineSql:
    """DuckDB: a CALL's arguments as one SELECT (sysdate, getdate(), :name parameters ...)."""
    translated = translate(select, "duckdb")
    if not isinstance(translated, EngineSql):
        raise NotSupportedLocally("CALL arguments that are not expressions")
    return translated


def _postgres_session_authorization(authorization: SessionAuthorization) -> str:
    """SET [LOCAL] SESSION AUTHORIZATION on PostgreSQL, whose sessions' login role is no superuser: the helper
    procedure (setup.py) that makes the session the user with SET ROLE."""
    name = "NULL" if authorization.user is None else "'" + authorization.user.replace("'", "''") + "'"
    return f"CALL public.shiftflow_session_authorization({name}, {str(authorization.local).lower()})"


def _procedure_sql(sql: str) -> str | None:
    """One SQL statement of a procedure body, rewritten for PostgreSQL; None when it is not plain SQL."""
    try:
        tokens = tokenize(sql)
        if word(tokens[0]) in {"SET", "RESET"}:  # as at the top level (the piece's semicolon is no part of it)
            authorization = session_authorization(expanded(sql, tokens))
            if authorization is not None:
                return _postgres_session_authorization(authorization) + (";" if sql.rstrip().endswith(";") else "")
        streaming = procedure_statement(sql, tokens)
        if streaming is not None or word(tokens[0]) == "SET" or is_comment(tokens):  # run as written
            return streaming
        tree = _parse(strip_unparsed_table_attributes(sql, tokens))
    except (NotSupportedLocally, SqlSyntaxError, SqlSplitError):
        return None
    if isinstance(tree, exp.Command):
        return None
    tree, _ = rewrite(navigate(tree, "postgres"), "postgres")
    return _sql(tree, "postgres")


def _procedure_expression(text: str) -> str | None:
    """A plpgsql expression (a condition, an assignment's value) rewritten for PostgreSQL; None: keep it."""
    try:
        return _expression_sql(f"SELECT {text}", "postgres")
    except (NotSupportedLocally, SqlSyntaxError, SqlSplitError, UnsupportedError):
        return None


def _procedure_type(text: str) -> str | None:
    try:
        return _type_sql(text, "postgres")
    except (NotSupportedLocally, SqlSyntaxError, SqlSplitError, UnsupportedError):
        return None


_BODY_TRANSLATOR = BodyTranslator(sql=_procedure_sql, expression=_procedure_expression, data_type=_procedure_type)
