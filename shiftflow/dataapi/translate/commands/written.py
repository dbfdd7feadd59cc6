"""Commands the PostgreSQL engine runs as written: the statements sqlglot cannot model (ALTER DATABASE, CREATE
GROUP, ALTER DEFAULT PRIVILEGES ...), which PostgreSQL, Redshift's ancestor, mostly has with Redshift's meaning.

Where PostgreSQL's grammar rejects one (SQLSTATE 42601), the text is Redshift syntax PostgreSQL lacks (`ALTER
DATABASE d COLLATE CASE_INSENSITIVE`, `ALTER MATERIALIZED VIEW v AUTO REFRESH YES` ...): it fails with "not
supported locally: <its leading words> (...)" and PostgreSQL's message, as the DuckDB engine refuses every such
command, rather than with a syntax error Redshift would not raise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shiftflow.dataapi.engines.base import EngineError, EngineSession, QueryResult
from shiftflow.dataapi.translate.model import NotSupportedLocally, SessionCommand

_SYNTAX_ERROR = "42601"


@dataclass(frozen=True)
class WrittenCommand(SessionCommand):
    text: str  # PostgreSQL's text: placeholders %(name)s, every literal % doubled
    what: str  # the command's leading words, as the refusal names it
    parameter_names: tuple[str, ...] = ()

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        try:
            return session.execute(self.text, parameters)
        except EngineError as error:
            if error.code != _SYNTAX_ERROR:
                raise
            raise NotSupportedLocally(f"{self.what} with Redshift syntax the PostgreSQL engine does not have "
                                      f"(PostgreSQL: {str(error).strip()})") from None
