"""What a translated Redshift statement becomes: engine SQL, a transaction control, an S3 command or a session
command; and the errors translation reports (not supported locally, a syntax error)."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

from shiftflow.dataapi.engines.base import EngineError, EngineSession, QueryResult


# enable_case_sensitive_identifier of the session a statement is translated for (translate() sets it while it
# translates): quoted names keep their case (rewrite.py).
CASE_SENSITIVE_IDENTIFIERS: ContextVar[bool] = ContextVar("case_sensitive_identifiers", default=False)
# The database the statement's session is connected to (the request's Database; the runner sets it while a
# statement translates and runs): three-part names that give it are the connected database's objects (databases.py).
CURRENT_DATABASE: ContextVar[str | None] = ContextVar("current_database", default=None)


class SuperuserSetup(str):
    """Set-up SQL (a POSTGRES_SETUP statement) that only the server's superuser may run: an aggregate whose state is
    internal, a cast between built-in types. The PostgreSQL engine runs it on its superuser's connection, with
    search_path pg_catalog (names of the emulator's objects are written schema-qualified), and the rest of the
    set-up as the sessions' login role, which is no superuser (engines/postgres.py)."""

    __slots__ = ()


class NotSupportedLocally(Exception):
    """Redshift accepts the statement but no local engine can give the same result; str() is what the user sees."""

    def __init__(self, what: str) -> None:
        super().__init__(f"not supported locally: {what}")
        self.what = what


@dataclass(frozen=True)
class EngineSql:
    """SQL in the engine's own dialect; `parameter_names` are the placeholders the session binds by name."""

    text: str
    parameter_names: tuple[str, ...] = ()
    # Redshift commits the open transaction when this statement runs (TRUNCATE): the emulator commits after it
    # and opens a new transaction for the rest of the batch.
    commits: bool = False
    # It leaves state in the engine session that the next Data API call must not see (a SET, an open cursor):
    # the session serves no other call, as one made temp tables (each call is its own Redshift session).
    session_scoped: bool = False
    # DuckDB: each output column's lineage, padded when it is a CHAR(n) value (char_columns.py); run the statement
    # with execute() for them to be.
    char_sources: tuple[Any, ...] = ()
    # DuckDB: the values marked in the text (LIKE operands, CASE / COALESCE operands of the output), padded when
    # they are CHAR(n) values (char_columns.py); likewise only through execute().
    char_operands: tuple[Any, ...] = ()
    # What runs it when it has either (char_columns.run_with_char_values).
    char_runner: Callable[[EngineSession, EngineSql, Mapping[str, str]], QueryResult] | None = None
    # DuckDB: the text to run instead, typed from what the engine binds (decimals.py: DECIMAL quotients); likewise
    # only through execute().
    typed_text: Callable[[EngineSession, Mapping[str, str]], str] | None = None
    # DuckDB: the check of the session's user's privileges (principals/access.py), run first; it returns what to
    # run once the statement ran (the owner of what it created recorded), or None.
    authorize: Callable[[EngineSession], Callable[[EngineSession], None] | None] | None = field(default=None,
                                                                                              compare=False)
    # CREATE / ALTER / DROP TABLE: its change to the declarations Redshift keeps and the engines drop
    # (declarations.Change: `before` read before the statement runs, `after` applied once it ran); likewise only
    # through execute().
    declares: Any = None

    def execute(self, session: EngineSession, parameters: Mapping[str, str]) -> QueryResult:
        """Run on `session` with `parameters` bound (the names in parameter_names)."""
        if self.declares is not None:
            state = self.declares.before(session)
            result = replace(self, declares=None).execute(session, parameters)
            self.declares.after(session, state)
            return result
        after = None if self.authorize is None else self.authorize(session)
        sql = self if self.typed_text is None else replace(self, text=self.typed_text(session, parameters),
                                                           typed_text=None)
        if sql.char_runner is None:
            result = session.execute(sql.text, parameters)
        else:
            result = sql.char_runner(session, sql, parameters)
        if after is not None:
            after(session)
        return result


@dataclass(frozen=True)
class TransactionControl:
    action: str  # "begin" | "commit" | "rollback"


@dataclass(frozen=True)
class S3Command:
    """A parsed COPY (s3 -> table) or UNLOAD (query -> s3); run it with run_s3_command."""

    kind: str  # "copy" | "unload"
    url: str  # the s3:// source (copy) or target prefix (unload)
    table: str = ""  # copy: the target table as written (already quoted for the engine)
    columns: tuple[str, ...] = ()  # copy: the column list, if any
    query: str = ""  # unload: the Redshift query inside UNLOAD ('...')
    options: tuple[tuple[str, str], ...] = ()  # upper-case option name -> value ("" for flags)

    def option(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.options:
            if key == name:
                return value
        return default

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.options)


class SqlSyntaxError(EngineError):
    """Text Redshift's parser rejects: reported as Redshift does, with the 1-based character position."""

    def __init__(self, near: str, position: int) -> None:
        super().__init__(f'syntax error at or near "{near}"\n  Position: {position}')
        self.near, self.position = near, position


_MISSING_DELIMITER = re.compile(r"Missing (\S+) from \d+:(\d+)")
_UNTERMINATED = {"'": "quoted string", '"': "quoted identifier"}


def unterminated_text(statement: str, error: Exception) -> SqlSyntaxError:
    """The syntax error Redshift reports for text the tokenizer cannot end (shiftflow.sql's SqlSplitError): an
    unterminated quoted string, quoted identifier, dollar-quoted string or comment, at the 1-based position where
    it starts."""
    cause = error.__cause__.__cause__ if error.__cause__ is not None else None
    match = _MISSING_DELIMITER.search(str(cause or ""))
    if match:
        delimiter, start = match.group(1), int(match.group(2))
        what = _UNTERMINATED.get(delimiter, "dollar-quoted string" if delimiter.startswith("$") else "")
        if what and statement[start:start + len(delimiter)] == delimiter:
            return _unterminated(what, statement[start:], start + 1)
    comment = statement.rfind("/*")
    if comment >= 0 and "*/" not in statement[comment:]:
        return _unterminated("/* comment", statement[comment:], comment + 1)
    return SqlSyntaxError("", len(statement) + 1)


def _unterminated(what: str, near: str, position: int) -> SqlSyntaxError:
    syntax_error = SqlSyntaxError(near, position)
    syntax_error.args = (f'unterminated {what} at or near "{near}"\n  Position: {position}',)
    return syntax_error


class LoadFailure(EngineError):
    """A COPY stopped at a record it cannot load: what stl_load_errors shows about it."""

    def __init__(self, message: str, *, filename: str, line_number: int, reason: str, raw_line: str = "",
                 colname: str = "", column_type: str = "", raw_field_value: str = "") -> None:
        super().__init__(message)
        self.filename, self.line_number, self.reason, self.raw_line = filename, line_number, reason, raw_line
        self.colname, self.column_type, self.raw_field_value = colname, column_type, raw_field_value


class SessionCommand(ABC):
    """A statement whose engine SQL depends on what the session's catalog holds (ALTER TABLE APPEND matches
    columns by name, svv_table_info counts rows), or that runs several engine statements (REFRESH MATERIALIZED VIEW
    reads the stream, then lands its records): run() reads the catalog, then runs the SQL it builds.
    `parameter_names` are the placeholders it needs bound, as EngineSql's; those also in `optional_parameter_names`
    are bound where the caller knows them (the service does) and left out elsewhere (a procedure's statement)."""

    parameter_names: tuple[str, ...] = ()
    optional_parameter_names: tuple[str, ...] = ()

    @abstractmethod
    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult: ...


class AroundStatement(SessionCommand):
    """A session command around one translated statement, `inner` (a dataclass field of the subclass): its
    placeholders and session scope are the inner statement's, as is what it is (its text ...); run_inner() runs
    it."""

    inner: EngineSql | SessionCommand

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    @property
    def parameter_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.inner.parameter_names

    @property
    def optional_parameter_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return getattr(self.inner, "optional_parameter_names", ())

    @property
    def session_scoped(self) -> bool:
        return getattr(self.inner, "session_scoped", False)

    def run_inner(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        if isinstance(self.inner, SessionCommand):
            return self.inner.run(session, parameters, in_transaction)
        return self.inner.execute(session, parameters)
