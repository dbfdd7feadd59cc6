"""Redshift stored procedures on the DuckDB engine, which has no procedural language: the PL/pgSQL body is read
in Python and interpreted, each SQL statement and expression in it going through the translator.

- parser.py: CREATE PROCEDURE and the body into syntax.py's form; what is outside Redshift's PL/pgSQL subset
  fails at CREATE with "not supported locally: <what>";
- variables.py: scopes, and variables bound into embedded SQL as parameters;
- interpreter.py: control flow, transactions, exception handlers, RAISE, cursors, nested calls;
- catalog.py: where definitions are kept (overloads by input argument types);
- commands.py: CREATE / DROP PROCEDURE and CALL as session commands.
PostgreSQL runs procedures itself (translate/procedures.py translates their bodies for it).
"""
