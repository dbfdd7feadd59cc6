"""Redshift json functions."""

from __future__ import annotations

HANDLERS: dict = {}
PARSER_FUNCTIONS: dict = {}
COLUMN_NAMES: dict = {}
DUCKDB_SETUP: tuple[str, ...] = ()
POSTGRES_SETUP: tuple[str, ...] = ()
