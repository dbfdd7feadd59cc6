"""Embedded engines behind the Data API emulator."""

from __future__ import annotations

from pathlib import Path

from shiftflow.dataapi.engines.base import Engine

ENGINES = ("duckdb", "postgres")


def open_engine(name: str, directory: Path | None = None) -> Engine:
    """DuckDB (files in `directory`, or in memory) or PostgreSQL (a private pgserver in `directory`/postgres)."""
    if name == "duckdb":
        from shiftflow.dataapi.engines.duckdb import DuckDBEngine

        return DuckDBEngine(directory / "duckdb" if directory is not None else None)
    if name == "postgres":
        from shiftflow.dataapi.engines.postgres import PostgresEngine

        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)  # pgserver creates pgdata itself, not its parents
        return PostgresEngine(data_dir=directory / "postgres" if directory is not None else None)
    raise ValueError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")
