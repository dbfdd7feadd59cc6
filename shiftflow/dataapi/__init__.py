"""The Redshift Data API, offline: the service's contract over an embedded warehouse (DuckDB or PostgreSQL).

    emulator = DataApiEmulator()                         # DuckDB in memory; DuckDBEngine(path) keeps files
    with route_in_process(emulator):                     # boto3 redshift-data clients of this process
        boto3.client("redshift-data").execute_statement(...)
    server = start_server(emulator, port=4599)           # or: python -m shiftflow.dataapi.http --port 4599
    unsubscribe = emulator.subscribe(callback)           # WithEvent statements' status-change events

Exports resolve lazily so that importing one piece (e.g. the translator) does not load the others.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "DataApiEmulator": "shiftflow.dataapi.service",
    "status_change_event": "shiftflow.dataapi.events",
    "DuckDBEngine": "shiftflow.dataapi.engines.duckdb",
    "route_in_process": "shiftflow.dataapi.inprocess",
    "route_client": "shiftflow.dataapi.inprocess",
    "start_routing": "shiftflow.dataapi.inprocess",
    "stop_routing": "shiftflow.dataapi.inprocess",
    "start_server": "shiftflow.dataapi.http",
    "DataApiServer": "shiftflow.dataapi.http",
    "DataApiError": "shiftflow.dataapi.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)
