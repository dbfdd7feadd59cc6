"""What a translated Redshift statement becomes: engine SQL, a transaction control, or an S3 command."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shiftflow.dataapi.engines.base import EngineSession, QueryResult


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
    # It leaves state in the engine session that the next Data API call must not see (a SET): the session serves
    # no other call, as one that made temp tables (each call is its own Redshift session).
    session_scoped: bool = False


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


class SessionCommand(ABC):
    """A statement that runs more than one engine statement, some built from what the session's catalog holds
    (REFRESH MATERIALIZED VIEW reads the stream, then lands its records): run() does it all in the session.
    `parameter_names` are the placeholders it needs bound, as EngineSql's."""

    parameter_names: tuple[str, ...] = ()

    @abstractmethod
    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult: ...
