"""Redshift SQL made runnable on a local engine ("duckdb" or "postgres"), one statement at a time.

translate() turns one (already split) Redshift statement into one of:
- EngineSql: text in the engine's dialect with the engine's named placeholders ($name on DuckDB,
  %(name)s on psycopg, where every literal % is doubled), plus the names the session must bind;
- TransactionControl: BEGIN / COMMIT / ROLLBACK for the emulator to apply itself;
- S3Command: a COPY or UNLOAD for run_s3_command().
What cannot be emulated raises NotSupportedLocally, never a silently different result.

Deliberate no-ops (they only maintain Redshift's storage and statistics, never a result): ANALYZE, VACUUM and
ALTER TABLE ... ALTER DISTKEY / SORTKEY / DISTSTYLE / ENCODE / COLUMN c ENCODE; table attributes (ENCODE,
DISTKEY, SORTKEY, DISTSTYLE, BACKUP) and unenforced keys (PRIMARY KEY, UNIQUE, FOREIGN KEY, REFERENCES) are dropped.
Known differences that remain (each fails loudly rather than returning a different value, unless noted):
- DuckDB cannot infer a type for a bound string in arithmetic (`n + :n`, `d + :days`): write `:n::int`.
- VARCHAR(n) / CHAR(n) lengths are checked in bytes by a CHECK added in CREATE TABLE (both engines) and in ALTER
  TABLE ADD COLUMN (PostgreSQL only: DuckDB cannot add a column with a CHECK, so that column accepts longer text).
  Tables made by CTAS or CREATE TABLE (LIKE ...) on DuckDB have no length checks; DuckDB does not pad char(n), and
  a CHAR(n) value keeps the trailing blanks it was written with there (comparisons ignore them, LEN counts them).
- Text -> integer casts (`'12.5'::int`) raise as on Redshift; implicit ones (inserting '12.5' into an int column)
  still round on DuckDB.
- Redshift function behaviour lives in functions/ (one module per family: dates, formats, strings, aggregates,
  json), type behaviour in types.py; each module's docstring says what it emulates and what it refuses.
- AVG of DECIMAL(p, s): PostgreSQL cuts the value to scale s as Redshift's DECIMAL(38, s) (the column metadata
  says numeric without a scale); DuckDB fails with "not supported locally" when the query runs (its decimal
  division is floating point, and neither a macro nor the translator can learn the argument's scale). Numeric
  division keeps more decimals than Redshift on both engines.
- Text read as a DATE / TIMESTAMP at run time (not a literal) must be ISO on DuckDB (it fails otherwise).
- Emulated by session set-up helpers: is_valid_json, is_valid_json_array, json_array_length,
  json_extract_array_element_text (null_if_invalid; a valid non-array is an "invalid json array object"; nested
  values come back minified on DuckDB, as written on PostgreSQL), strtol (C strtol: the longest valid prefix),
  months_between (time of day in the fraction), add_months (a month's last day stays the last day).
  Redshift-only functions without a local counterpart (ratio_to_report, the SUPER family but json_parse and json_typeof, hll, fnv_hash,
  st_* ...) fail with "not supported locally: <name>()" (rewrite.py lists them; date_cmp & co. run on PostgreSQL
  only); any other unknown function is left to the engine's "does not exist".
- LOCK is a no-op (see translate()). DROP TABLE a, b is one drop per table on DuckDB: without IF EXISTS, a missing
  b fails the statement after a is dropped (a TRANSACTION batch rolls the drop of a back; a lone statement does not).
- COPY: DELIMITER / QUOTE escapes ('\\t', octal '\\001'), DATEFORMAT / TIMEFORMAT (YYYY YY MM MON MONTH DD HH24 HH12
  HH MI SS SS.SSS AM PM, 'epochsecs', 'epochmillisecs'), ESCAPE (text format), ACCEPTINVCHARS, NULL AS, EMPTYASNULL,
  BLANKSASNULL, REMOVEQUOTES, TRIMBLANKS are emulated; MAXERROR is accepted but a bad record always fails the load;
  TRUNCATECOLUMNS and other options fail with "not supported locally".
- getdate() is a TIMESTAMP in UTC truncated to the second, sysdate a TIMESTAMP with microseconds (columns named
  `timestamp`, current_date `date`), but both are the transaction's start: Redshift's getdate() is the statement's.
- Dynamic SQL inside procedures (EXECUTE '...') is not rewritten.
- current_user / session_user / user are the request's DbUser (without one, IAM:local: the emulator knows neither the
  caller's IAM identity nor a secret's username); `select user` is named current_user, not user. current_database()
  is the request's Database. current_user_id fails with "not supported locally".
- ResultRows: INSERT / UPDATE / DELETE / MERGE / COPY report their count, a query its rows, everything else 0 on
  both engines, CREATE TABLE AS included. Redshift's count for CREATE TABLE AS was not found documented: 0 is the
  emulator's choice (PostgreSQL would count the rows written).
- TRUNCATE commits the open transaction (EngineSql.commits; the emulator commits and begins anew), except inside a
  procedure body on PostgreSQL, where it stays part of the CALL's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import functools

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, TokenError, UnsupportedError
from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.translate.commands import parse_copy, parse_unload, transaction_control, word
from shiftflow.dataapi.translate.functions import PARSER_FUNCTIONS
from shiftflow.dataapi.translate.model import EngineSql, NotSupportedLocally, S3Command, TransactionControl
from shiftflow.dataapi.translate.procedures import is_create_procedure, rewrite_procedure
from shiftflow.dataapi.translate.rewrite import rewrite
from shiftflow.dataapi.translate.setup import NO_OP, POSTGRES_DATABASE_SETUP, session_setup
from shiftflow.dataapi.translate.tablepass import is_layout_only_alter, strip_unparsed_table_attributes
from shiftflow.sql.splitter import SqlSplitError, tokenize

if TYPE_CHECKING:
    from shiftflow.dataapi.engines.base import EngineSession, QueryResult

__all__ = ["EngineSql", "NotSupportedLocally", "POSTGRES_DATABASE_SETUP", "S3Command", "TransactionControl",
           "clear_cache", "run_s3_command", "session_setup", "translate"]

ENGINES = ("duckdb", "postgres")


def _dialect() -> Dialect:
    """Redshift as sqlglot reads it, except that GETDATE() stays apart from CURRENT_TIMESTAMP: Redshift's getdate()
    is a TIMESTAMP truncated to the second, current_timestamp a TIMESTAMPTZ (rewrite.py gives each its value)."""
    from sqlglot.dialects.redshift import Redshift

    class ShiftflowRedshift(Redshift):
        class Parser(Redshift.Parser):
            FUNCTIONS = {**Redshift.Parser.FUNCTIONS,
                         "GETDATE": lambda args: exp.Anonymous(this="getdate", expressions=args),
                         # ADD_MONTHS is not DATEADD(month, ...): it keeps a month's last day the last day.
                         "ADD_MONTHS": lambda args: exp.Anonymous(this="add_months", expressions=args),
                         **PARSER_FUNCTIONS}  # functions/: calls whose Redshift meaning sqlglot would lose
            FUNCTION_PARSERS = {name: parse for name, parse in Redshift.Parser.FUNCTION_PARSERS.items()
                                if name not in PARSER_FUNCTIONS}

    return ShiftflowRedshift()


_REDSHIFT = _dialect()
_PROCEDURES_ON_DUCKDB = "stored procedures on the DuckDB engine (use the PostgreSQL engine)"


def translate(statement: str, engine: str) -> EngineSql | TransactionControl | S3Command:
    """One Redshift statement for `engine`; raises NotSupportedLocally for what cannot be emulated."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {ENGINES}")
    return _translate_cached(statement, engine)


def clear_cache() -> None:
    """Forget cached translations (benchmarks measure translation itself)."""
    _translate_cached.cache_clear()


@functools.lru_cache(maxsize=2048)  # pure function of its text: scripts rerun on a schedule translate once
def _translate_cached(statement: str, engine: str) -> EngineSql | TransactionControl | S3Command:
    try:
        tokens = tokenize(statement)
    except SqlSplitError as error:
        raise NotSupportedLocally(f"SQL that cannot be tokenized ({error})") from None
    if not tokens:
        raise NotSupportedLocally("an empty statement")
    control = transaction_control(tokens)
    if control is not None:
        return control
    verb = word(tokens[0])
    if verb == "COPY":
        return parse_copy(statement, tokens)
    if verb == "UNLOAD":
        return parse_unload(statement, tokens)
    if verb in {"ANALYZE", "VACUUM"} or is_layout_only_alter(tokens):
        return EngineSql(NO_OP[engine])
    if verb == "LOCK":
        # LOCK only orders concurrent Redshift transactions. The emulator runs each statement's batch in one engine
        # transaction and the engines serialize conflicting writes themselves (DuckDB fails the later writer,
        # PostgreSQL makes it wait): no lock of ours changes what the batch computes.
        return EngineSql(NO_OP[engine])
    refused = _redshift_only(tokens)
    if refused:
        raise NotSupportedLocally(refused)
    if verb == "CALL" or is_create_procedure(tokens):
        if engine == "duckdb":
            raise NotSupportedLocally(_PROCEDURES_ON_DUCKDB)
        if verb == "CALL":
            return _tokens_to_postgres(statement, tokens)
        if any(word(token) == "NONATOMIC" for token in tokens):
            raise NotSupportedLocally("NONATOMIC procedures (each statement committing on its own)")
        text = rewrite_procedure(statement, tokens, _procedure_sql)
        return EngineSql(text.replace("%", "%%"))
    translated = _translate_tree(statement, tokens, engine)
    if verb == "TRUNCATE":  # "TRUNCATE commits the transaction in which it is run" (Redshift's TRUNCATE page)
        return EngineSql(translated.text, translated.parameter_names, commits=True)
    return translated


def run_s3_command(command: S3Command, session: EngineSession, parameters: Mapping[str, str],
                   s3_client: Any) -> QueryResult:
    """Run a COPY or UNLOAD through `session`, reading or writing objects with `s3_client`."""
    from shiftflow.dataapi import s3io  # csv, gzip, bz2 and the rest load only when a COPY or UNLOAD runs

    return s3io.run(command, session, parameters, s3_client, translate)


# Redshift-only statements with no local meaning, by their leading words.
_REDSHIFT_ONLY = {("CREATE", "EXTERNAL"): "external schemas and tables (Redshift Spectrum)",
                  ("DROP", "EXTERNAL"): "external schemas and tables (Redshift Spectrum)",
                  ("CREATE", "LIBRARY"): "CREATE LIBRARY", ("CREATE", "MODEL"): "CREATE MODEL",
                  ("CREATE", "DATASHARE"): "datashares", ("ALTER", "DATASHARE"): "datashares"}


def _redshift_only(tokens: list[Token]) -> str | None:
    words = [word(t) for t in tokens]
    if words[:2] == ["ALTER", "TABLE"] and "APPEND" in words:
        return "ALTER TABLE ... APPEND FROM"
    return _REDSHIFT_ONLY.get(tuple(words[:2]))


def _parse(text: str, tokens: list[Token] | None = None) -> exp.Expression:
    try:
        if tokens is None:
            tokens = tokenize(text)
        trees = [tree for tree in _REDSHIFT.parser().parse(tokens, text) if tree is not None]
    except (ParseError, TokenError, SqlSplitError) as error:
        first_line = str(error).splitlines()[0]
        raise NotSupportedLocally(f"Redshift syntax the translator cannot parse ({first_line})") from None
    if len(trees) != 1:
        raise NotSupportedLocally("more than one statement in one call (split the script first)")
    return trees[0]


def _translate_tree(statement: str, tokens: list[Token], engine: str) -> EngineSql:
    text = strip_unparsed_table_attributes(statement, tokens)
    tree = _parse(text, tokens if text is statement else None)
    if isinstance(tree, exp.Command):
        if engine == "postgres":  # PostgreSQL is Redshift's ancestor: let it run what sqlglot leaves opaque
            return _tokens_to_postgres(statement, tokens)
        raise NotSupportedLocally(f"{tree.name.upper()} statement on the DuckDB engine")
    if isinstance(tree, (exp.Grant, exp.Revoke)) and engine == "duckdb":
        raise NotSupportedLocally("GRANT / REVOKE on the DuckDB engine (it has no users or privileges)")
    tree, prelude = rewrite(tree, engine)
    if isinstance(tree, exp.Drop) and engine == "duckdb" and len(tree.args.get("tables") or []) > 1:
        # DuckDB drops one object per statement: DROP TABLE a, b becomes two drops, run in order.
        drops = []
        for table in tree.args["tables"]:
            one = tree.copy()
            one.set("tables", [table.copy()])
            drops.append(one)
        prelude += [_sql(drop, engine) for drop in drops[:-1]]
        tree = drops[-1]
    return _generate(tree, prelude, engine, _placeholder_order(tokens))


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
        text = _sql(tree, "duckdb")
        return EngineSql(";\n".join([*prelude, text]), tuple(names))
    # psycopg reads every % as a placeholder marker: double them all, then put the placeholders in.
    for placeholder in list(tree.find_all(exp.Placeholder)):
        placeholder.replace(exp.var(f"\x00{placeholder.name}\x00"))
    text = _sql(tree, "postgres").replace("%", "%%")
    for name in names:
        text = text.replace(f"\x00{name}\x00", f"%({name})s")
    return EngineSql(text, tuple(names))


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


def _procedure_sql(sql: str) -> str | None:
    """One SQL statement of a procedure body, rewritten for PostgreSQL; None when it is not plain SQL."""
    try:
        tokens = tokenize(sql)
        tree = _parse(strip_unparsed_table_attributes(sql, tokens))
    except (NotSupportedLocally, SqlSplitError):
        return None
    if isinstance(tree, exp.Command):
        return None
    tree, _ = rewrite(tree, "postgres")
    return _sql(tree, "postgres")
