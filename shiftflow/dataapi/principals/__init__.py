"""Redshift's users, groups, roles and privileges on the DuckDB engine: the catalog (catalog.py), the commands
that check and change it (commands.py), and who the session runs as and what each statement it runs needs
(access.py)."""
