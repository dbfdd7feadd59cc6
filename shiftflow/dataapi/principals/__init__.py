"""Redshift's users, groups, roles and privileges on the DuckDB engine: the catalog (catalog.py) and the commands
that check and change it (commands.py)."""
