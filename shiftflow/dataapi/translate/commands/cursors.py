"""Cursors: DECLARE name CURSOR FOR query, FETCH [NEXT | ALL | FORWARD [count | ALL]] FROM name, CLOSE name
(declare.md, fetch.md, close.md).

PostgreSQL has Redshift's cursors: only the query is translated. DuckDB has none: DECLARE materializes the query
into a temporary table (as Redshift materializes a cursor's result on its leader node) and the cursor's position
and transaction are session variables; FETCH reads the next rows in the query's order, CLOSE drops the table.
As on Redshift, a cursor lives in the transaction block that declared it: DECLARE outside one fails, and after
COMMIT or ROLLBACK the cursor no longer exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.engines.base import EngineError, EngineSession, QueryResult
from shiftflow.dataapi.translate.commands.tokens import word
from shiftflow.dataapi.translate.model import EngineSql, SessionCommand

_ALL = -1  # FETCH ALL / FORWARD ALL


def is_cursor_command(tokens: list[Token]) -> bool:
    verb = word(tokens[0])
    if verb == "DECLARE":
        return len(tokens) > 1
    return verb in {"FETCH", "CLOSE"}


def cursor_command(statement: str, tokens: list[Token], engine: str,
                   translate_query: Callable[[str], EngineSql]) -> EngineSql | SessionCommand:
    """`tokens` as commands.expanded() gives them."""
    verb = word(tokens[0])
    if verb == "DECLARE":
        name, query = _declaration(statement, tokens[1:])
        translated = translate_query(query)
        if engine == "postgres":
            return EngineSql(f"DECLARE {_quoted(name)} CURSOR FOR {translated.text}", translated.parameter_names,
                             session_scoped=True)
        return DeclareCursor(name, translated)
    if verb == "FETCH":
        count, name = _fetch(tokens[1:])
        if engine == "postgres":
            amount = "ALL" if count == _ALL else str(count)
            return EngineSql(f"FETCH FORWARD {amount} FROM {_quoted(name)}")
        return FetchCursor(name, count)
    name = _single_name(tokens[1:], "CLOSE")
    if engine == "postgres":
        return EngineSql(f"CLOSE {_quoted(name)}")
    return CloseCursor(name)


def _declaration(statement: str, tokens: list[Token]) -> tuple[str, str]:
    if len(tokens) < 4 or word(tokens[1]) != "CURSOR" or word(tokens[2]) != "FOR":
        raise _syntax(tokens[1] if len(tokens) > 1 else None)
    return tokens[0].text.lower(), statement[tokens[3].start :]


def _fetch(tokens: list[Token]) -> tuple[int, str]:
    words = [word(t) for t in tokens]
    if len(words) >= 2 and words[-2] in {"FROM", "IN"}:
        direction, name = words[:-2], tokens[-1].text.lower()
    else:
        raise _syntax(tokens[-1] if tokens else None)
    if direction in ([], ["NEXT"]):
        return 1, name
    if direction in (["ALL"], ["FORWARD", "ALL"]):
        return _ALL, name
    if direction == ["FORWARD"]:
        return 1, name
    if len(direction) == 2 and direction[0] == "FORWARD" and tokens[1].token_type == TokenType.NUMBER:
        return int(tokens[1].text), name
    raise _syntax(tokens[0])


def _single_name(tokens: list[Token], verb: str) -> str:
    if len(tokens) != 1:
        raise _syntax(tokens[1] if len(tokens) > 1 else None)
    return tokens[0].text.lower()


def _syntax(token: Token | None) -> EngineError:
    return EngineError(f'syntax error at or near "{token.text if token else ""}"')


# ---- DuckDB ----------------------------------------------------------------------------------------------------

class _Cursor(SessionCommand):
    session_scoped = True  # the cursor's table and variables stay in the engine session

    name: str

    @property
    def _table(self) -> str:
        return _quoted(f"shiftflow_cursor_{self.name}")

    def _variable(self, what: str) -> str:
        return f"shiftflow_cursor_{self.name}_{what}"

    def _open(self, session: EngineSession) -> tuple[int, int]:
        """The cursor's position and row count; fails as Redshift does when it is not open in this transaction."""
        state = session.execute(
            f"SELECT getvariable('{self._variable('transaction')}'), getvariable('{self._variable('position')}'),"
            f" getvariable('{self._variable('rows')}'), txid_current()", {}).rows[0]
        transaction, position, rows, current = state
        if transaction is None or int(transaction) != int(current):
            raise EngineError(f'cursor "{self.name}" does not exist')
        return int(position), int(rows)


@dataclass(frozen=True)
class DeclareCursor(_Cursor):
    name: str
    query: EngineSql

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return self.query.parameter_names

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        if not in_transaction:
            raise EngineError("DECLARE CURSOR can only be used in transaction blocks")
        transaction = session.execute("SELECT txid_current()", {}).rows[0][0]
        state = session.execute(f"SELECT getvariable('{self._variable('transaction')}')", {}).rows[0][0]
        if state is not None and int(state) == int(transaction):
            raise EngineError(f'cursor "{self.name}" already exists')
        session.execute(f"CREATE OR REPLACE TEMP TABLE {self._table} AS {self.query.text}",
                        {n: parameters[n] for n in self.query.parameter_names})
        rows = session.execute(f"SELECT count(*) FROM {self._table}", {}).rows[0][0]
        session.execute(f"SET VARIABLE {self._variable('transaction')} = {int(transaction)};\n"
                        f"SET VARIABLE {self._variable('position')} = 0;\n"
                        f"SET VARIABLE {self._variable('rows')} = {int(rows)}", {})
        return QueryResult(rowcount=0)


@dataclass(frozen=True)
class FetchCursor(_Cursor):
    name: str
    count: int

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        position, rows = self._open(session)
        if self.count == 0:  # FORWARD 0: the current row, if the cursor is on one
            first, last = (position, position) if 1 <= position <= rows else (1, 0)
            new_position = position
        else:
            first = position + 1
            last = rows if self.count == _ALL else min(position + self.count, rows)
            # Running off the end leaves the cursor after the last row.
            new_position = last if self.count != _ALL and position + self.count <= rows else rows + 1
        result = session.execute(f"SELECT * FROM {self._table} LIMIT {max(last - first + 1, 0)} "
                                 f"OFFSET {max(first - 1, 0)}", {})
        session.execute(f"SET VARIABLE {self._variable('position')} = {new_position}", {})
        return result


@dataclass(frozen=True)
class CloseCursor(_Cursor):
    name: str

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        self._open(session)
        session.execute(f"DROP TABLE IF EXISTS {self._table};\n"
                        f"RESET VARIABLE {self._variable('transaction')}", {})
        return QueryResult(rowcount=0)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
