"""CREATE PROCEDURE on PostgreSQL: the plpgsql body is translated statement by statement, as top-level SQL is.

sqlglot keeps a `$$` body as one opaque string and cannot parse plpgsql control flow (IF, LOOP, RAISE, :=), so the
body is split with the project splitter and, in each piece:
- the SQL statement (from its first DML/DDL keyword, or SELECT / WITH, on) goes through the same rewrite as a
  top-level statement; what sqlglot cannot parse (plpgsql's SELECT INTO var ..., for one) is kept as written;
- declarations' types (`v varchar(max);`) and default values, assignments (`v := nvl(a, b)`) and the conditions of
  IF / ELSIF / WHILE are translated as expressions; RAISE's arguments, RETURN and EXECUTE's strings are not (dynamic
  SQL is run as written);
- COPY and UNLOAD fail as not supported locally: the emulator runs them itself, PostgreSQL would read a server file;
  ANALYZE, VACUUM and LOCK are plpgsql's NULL, as they are no-ops at the top level (`ANALYZE #temp` included).

Exception handlers follow Redshift, which has no subtransactions (stored-procedure-trapping-errors.md): "When entering
the exception-handling block, the current transaction is rolled back and a new transaction is created to run the
statements in the block. If the statements in the block run without error, the transaction is committed and the
exception is re-thrown." Each `EXCEPTION WHEN OTHERS THEN ...` handler is given that ROLLBACK, COMMIT and RAISE.
PostgreSQL runs the block itself as a subtransaction, in which it cannot end a transaction: a COMMIT, ROLLBACK or
TRUNCATE inside a block that has a handler (which Redshift runs) fails as not supported locally, and a handler
reached in a procedure called inside a transaction block fails with PostgreSQL's "invalid transaction termination".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.engines.base import EngineError, EngineSession, QueryResult
from shiftflow.dataapi.translate.commands.tokens import expanded, word
from shiftflow.dataapi.translate.model import EngineSql, NotSupportedLocally, SessionCommand
from shiftflow.sql.splitter import split_statements, tokenize

# REFRESH and SET: streaming ingestion runs REFRESH MATERIALIZED VIEW and SET enable_case_sensitive_identifier
# (the translator keeps other SETs as written).
_SQL_STARTS = {"INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "TRUNCATE", "MERGE", "SELECT", "WITH",
               "REFRESH", "SET"}
_S3_COMMANDS = {"COPY", "UNLOAD"}
# What translate() runs as a no-op at the top level (Redshift's storage and statistics, its locks): plpgsql's NULL.
_NO_OPS = {"ANALYZE", "VACUUM", "LOCK"}
_TRANSACTION_ENDS = {"COMMIT", "ROLLBACK", "TRUNCATE"}
# Words after which a plpgsql statement starts inside the same piece (`then n := 1`, `begin insert ...`).
_STATEMENT_AFTER = {"BEGIN", "THEN", "ELSE", "LOOP", "DECLARE"}
_CONDITION_ENDS = {"IF": "THEN", "ELSIF": "THEN", "ELSEIF": "THEN", "WHILE": "LOOP"}


@dataclass(frozen=True)
class BodyTranslator:
    """How pieces of a body are translated: sql(statement), expression(text) and data_type(text) return the
    PostgreSQL text, or None when the text is not something they can translate (it is then kept as written)."""

    sql: Callable[[str], str | None]
    expression: Callable[[str], str | None]
    data_type: Callable[[str], str | None]


def is_create_procedure(tokens: list[Token]) -> bool:
    names = [t.text.upper() for t in tokens[:5]]
    return bool(names) and names[0] == "CREATE" and "PROCEDURE" in names


def is_procedure_ddl(tokens: list[Token]) -> bool:
    """DROP PROCEDURE / ALTER PROCEDURE (r_DROP_PROCEDURE.md, r_ALTER_PROCEDURE.md)."""
    names = [t.text.upper() for t in tokens[:2]]
    return names in (["DROP", "PROCEDURE"], ["ALTER", "PROCEDURE"])


def rewrite_procedure(statement: str, tokens: list[Token], translator: BodyTranslator) -> str:
    """The statement with its body translated for PostgreSQL."""
    bodies = [t for t in tokens if t.token_type == TokenType.HEREDOC_STRING]
    if not bodies:  # AS '...' bodies: quoted plpgsql, rare in Redshift scripts; run as written
        return statement
    body_token = bodies[0]
    raw = statement[body_token.start : body_token.end + 1]
    tag = raw[: raw.index("$", 1) + 1]  # `$$` or `$name$`
    body = raw[len(tag) : len(raw) - len(tag)]
    new_body = _redshift_exception_handlers(_rewrite_body(body, translator))
    return statement[: body_token.start] + tag + new_body + tag + statement[body_token.end + 1 :]


def _rewrite_body(body: str, translator: BodyTranslator) -> str:
    pieces: list[str] = []
    position = 0
    declaring = False
    for piece in split_statements(body):
        start = body.index(piece.text, position)
        end = start + len(piece.text)
        pieces.append(body[position:start])
        rewritten, declaring = _rewrite_piece(piece.text, translator, declaring)
        pieces.append(rewritten)
        position = end
    pieces.append(body[position:])
    return "".join(pieces)


def _rewrite_piece(piece: str, translator: BodyTranslator, declaring: bool) -> tuple[str, bool]:
    """One `;`-terminated piece of the body, and whether the DECLARE section goes on after it."""
    tokens = _tokens(piece)
    if not tokens:
        return piece, declaring
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in the piece's text
    start = 0
    while start < len(tokens) and word(tokens[start]) in _STATEMENT_AFTER | {"EXCEPTION", "WHEN", "OTHERS"}:
        if word(tokens[start]) == "DECLARE":
            declaring = True
        elif word(tokens[start]) == "BEGIN":
            declaring = False
        start += 1
    edits += _conditions(piece, tokens, translator)
    for index in [start] + [i + 1 for i, t in enumerate(tokens[:-1]) if word(t) in {"THEN", "ELSE", "LOOP"}
                            and i + 1 > start]:
        if index >= len(tokens):
            continue
        statement_edit = _statement(piece, tokens, index, translator, declaring)
        if statement_edit is not None:
            edits.append(statement_edit)
            break  # a piece holds one statement after its structure words
    return _apply(piece, edits), declaring


def _statement(piece: str, tokens: list[Token], index: int, translator: BodyTranslator,
               declaring: bool) -> tuple[int, int, str] | None:
    first = word(tokens[index])
    if first in _S3_COMMANDS:
        raise NotSupportedLocally(f"{first} inside a stored procedure (the emulator runs {first} itself: "
                                  "run it as a statement of its own)")
    if first in _NO_OPS:
        if index + 1 < len(tokens) and word(tokens[index + 1]) == "COMPRESSION":
            raise NotSupportedLocally("ANALYZE COMPRESSION (a report of Redshift's column encodings)")
        return tokens[index].start, len(piece), "NULL"
    if first == "SELECT" and index + 2 < len(tokens) and tokens[index + 1].token_type == TokenType.INTO:
        return _select_into(piece, tokens, index, translator)
    if first in _SQL_STARTS:
        rewritten = translator.sql(piece[tokens[index].start :])
        return None if rewritten is None else (tokens[index].start, len(piece), rewritten)
    if index + 1 < len(tokens) and tokens[index + 1].token_type == TokenType.COLON_EQ:
        return _translated_tail(piece, tokens, index + 2, translator.expression)
    if declaring and tokens[index].token_type == TokenType.VAR:
        return _declaration(piece, tokens, index, translator)
    return None


def _select_into(piece: str, tokens: list[Token], index: int,
                 translator: BodyTranslator) -> tuple[int, int, str] | None:
    """plpgsql's `SELECT INTO target[, ...] expressions FROM ...`: the query translated, the target kept (sqlglot
    reads the target as a table of SELECT ... INTO and drops the expressions)."""
    end = index + 3
    while end + 1 < len(tokens) and tokens[end].token_type in (TokenType.COMMA, TokenType.DOT):
        end += 2
    if end >= len(tokens):
        return None
    rewritten = translator.sql("SELECT " + piece[tokens[end].start :])
    if rewritten is None or not rewritten.upper().startswith("SELECT "):
        return None
    target = piece[tokens[index + 2].start : tokens[end - 1].end + 1]
    return tokens[index].start, len(piece), f"SELECT INTO {target} {rewritten[len('SELECT '):]}"


def _declaration(piece: str, tokens: list[Token], index: int,
                 translator: BodyTranslator) -> tuple[int, int, str] | None:
    """`name [CONSTANT] type [NOT NULL] [{DEFAULT | := | =} expression]`: the type and the default translated."""
    type_start = index + 1
    if type_start < len(tokens) and word(tokens[type_start]) == "CONSTANT":
        type_start += 1
    if type_start >= len(tokens):
        return None
    type_end = len(tokens)
    for i in range(type_start, len(tokens)):
        if word(tokens[i]) in {"DEFAULT", "NOT"} or tokens[i].token_type in {TokenType.COLON_EQ, TokenType.EQ}:
            type_end = i
            break
    type_text = piece[tokens[type_start].start : tokens[type_end - 1].end + 1]
    if word(tokens[type_start]) in {"CURSOR", "REFCURSOR", "RECORD"} or "%" in type_text:
        return None
    new_type = translator.data_type(type_text)
    rest = piece[tokens[type_end - 1].end + 1 :]
    if type_end < len(tokens) and (word(tokens[type_end]) == "DEFAULT" or tokens[type_end].token_type in {
            TokenType.COLON_EQ, TokenType.EQ}):
        value = translator.expression(piece[tokens[type_end + 1].start :]) if type_end + 1 < len(tokens) else None
        if value is not None:
            rest = piece[tokens[type_end - 1].end + 1 : tokens[type_end + 1].start] + value
    if new_type is None:
        return None
    return tokens[type_start].start, len(piece), new_type + rest


def _translated_tail(piece: str, tokens: list[Token], index: int,
                     translate: Callable[[str], str | None]) -> tuple[int, int, str] | None:
    if index >= len(tokens):
        return None
    value = translate(piece[tokens[index].start :])
    return None if value is None else (tokens[index].start, len(piece), value)


def _conditions(piece: str, tokens: list[Token], translator: BodyTranslator) -> list[tuple[int, int, str]]:
    """The conditions of IF / ELSIF / WHILE in the piece, translated."""
    edits = []
    for i, token in enumerate(tokens):
        end_word = _CONDITION_ENDS.get(word(token))
        if end_word is None or (i > 0 and word(tokens[i - 1]) == "END"):
            continue
        for j in range(i + 1, len(tokens)):
            if word(tokens[j]) == end_word:
                if j > i + 1:
                    start, stop = tokens[i + 1].start, tokens[j - 1].end + 1
                    condition = translator.expression(piece[start:stop])
                    if condition is not None:
                        edits.append((start, stop, condition))
                break
    return edits


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Replace non-overlapping spans, last first, so that earlier offsets stay valid."""
    kept: list[tuple[int, int, str]] = []
    for edit in sorted(edits):
        if kept and edit[0] < kept[-1][1]:
            continue  # overlaps the previous one (a condition inside a rewritten statement): keep the first
        kept.append(edit)
    for start, stop, replacement in reversed(kept):
        text = text[:start] + replacement + text[stop:]
    return text


@dataclass
class _Block:
    begin: int  # token index of BEGIN
    exception: int = -1  # token index of EXCEPTION, if the block has a handler


def _redshift_exception_handlers(body: str) -> str:
    tokens = _tokens(body)
    stack: list[_Block | str] = []  # blocks, and "case" for CASE expressions (they end with END too)
    edits: list[tuple[int, int, str]] = []
    for i, token in enumerate(tokens):
        name = word(token)
        following = word(tokens[i + 1]) if i + 1 < len(tokens) else ""
        previous = word(tokens[i - 1]) if i > 0 else ""
        if name == "BEGIN":
            stack.append(_Block(i))
        elif name == "CASE" and previous != "END":
            stack.append("case")
        elif name == "EXCEPTION" and previous != "RAISE" and stack and isinstance(stack[-1], _Block):
            stack[-1].exception = i
        elif name == "END" and following not in {"IF", "LOOP"} and stack:
            block = stack.pop()
            if isinstance(block, _Block) and block.exception >= 0:
                edits += _handler_edits(tokens, block, i)
    return _apply(body, edits)


def _handler_edits(tokens: list[Token], block: _Block, end: int) -> list[tuple[int, int, str]]:
    for i in range(block.begin + 1, block.exception):
        if word(tokens[i]) in _TRANSACTION_ENDS and (tokens[i - 1].token_type == TokenType.SEMICOLON or word(
                tokens[i - 1]) in _STATEMENT_AFTER):
            raise NotSupportedLocally(f"{word(tokens[i])} inside a block with an EXCEPTION handler (PostgreSQL "
                                      "runs such a block as a subtransaction, which cannot end a transaction)")
    handler = [word(t) for t in tokens[block.exception + 1 : block.exception + 4]]
    if handler != ["WHEN", "OTHERS", "THEN"] or "WHEN" in (word(t) for t in tokens[block.exception + 4 : end]):
        return []  # Redshift supports only WHEN OTHERS: anything else is left for PostgreSQL to judge
    then = tokens[block.exception + 3]
    return [(then.end + 1, then.end + 1, " ROLLBACK;"),
            (tokens[end].start, tokens[end].start, "COMMIT; RAISE; ")]


def _tokens(text: str) -> list[Token]:
    return expanded(text, tokenize(text))


_OUT_MODES = ("SELECT p.proargmodes::text[], p.proargnames::text[], p.pronargs FROM pg_proc p JOIN pg_namespace n"
              " ON n.oid = p.pronamespace WHERE p.prokind = 'p' AND p.proname = %(name)s AND (n.nspname = %(schema)s"
              " OR (%(schema)s = '' AND pg_function_is_visible(p.oid)))")


@dataclass(frozen=True)
class PostgresCall(SessionCommand):
    """CALL on PostgreSQL with Redshift's arguments: Redshift's CALL passes the IN and INOUT arguments only
    (r_CALL_procedure.md, stored-procedure-create.md's test_sp2), PostgreSQL's wants one for each OUT argument too:
    a NULL is put in its place, found by the procedures of that name whose inputs are as many as the arguments.
    The OUT and INOUT arguments are the one row of the result; an OUT argument's column is column<n>, as the
    DuckDB engine names it (procedures/commands.py)."""

    head: str  # CALL name(
    name: tuple[str, ...]  # [schema,] name as PostgreSQL folds them
    arguments: tuple[str, ...]  # each argument's PostgreSQL text
    call: Callable[[EngineSql], SessionCommand]  # the CALL's run (streams landed first)
    parameter_names: tuple[str, ...] = ()
    session_scoped: bool = True  # a body can leave temp tables and settings behind

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        modes = self._modes(session, parameters)
        given = list(self.arguments)
        if modes is not None:
            given = iter(self.arguments)
            given = ["NULL" if mode == "o" else next(given) for mode, _ in modes]
        result = self.call(EngineSql(f"{self.head}{', '.join(given)})", self.parameter_names)).run(
            session, parameters, in_transaction)
        if modes is None or not result.columns:
            return result
        outputs = [mode for mode, _ in modes if mode in ("b", "o")]
        columns = [dataclasses.replace(column, name=f"column{index + 1}") if mode == "o" else column
                   for index, (column, mode) in enumerate(zip(result.columns, outputs))]
        return QueryResult(columns, result.rows, result.rowcount)

    def _modes(self, session: EngineSession, parameters: Mapping[str, str]) -> list[tuple[str, str]] | None:
        """(mode, name) of each argument of the procedure called, when it has OUT ones; None otherwise. A call
        giving values to OUT arguments fails as Redshift's (no procedure takes that many inputs)."""
        schema, name = (self.name[0], self.name[-1]) if len(self.name) > 1 else ("", self.name[-1])
        rows = session.execute(_OUT_MODES, {"name": name, "schema": schema}).rows
        inputs = [sum(m in ("i", "b") for m in modes) if modes else count for modes, _, count in rows]
        if len(self.arguments) not in inputs and any(modes and "o" in modes and len(modes) == len(self.arguments)
                                                     for modes, _, _ in rows):
            kinds = session.execute("SELECT " + ", ".join(f"pg_typeof({a})::text" for a in self.arguments),
                                    {n: parameters[n] for n in self.parameter_names}).rows[0]
            raise EngineError(f"procedure {name}({', '.join(kinds)}) does not exist")
        found = {tuple(zip(modes, names or [""] * len(modes))) for modes, names, _ in rows
                 if modes and "o" in modes and sum(m in ("i", "b") for m in modes) == len(self.arguments)}
        if len(found) > 1:
            raise NotSupportedLocally(f"CALL {name} where overloads of it with OUT arguments take as many inputs"
                                      " (PostgreSQL's CALL must place each OUT argument)")
        return list(next(iter(found))) if found else None
