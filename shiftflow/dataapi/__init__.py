"""The Redshift Data API, offline: the service's contract over an embedded warehouse (DuckDB or PostgreSQL)."""
