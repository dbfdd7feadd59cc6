"""The PostgreSQL catalog as Redshift answers it, where the engines' own would differ (r_COMMENT.md, the
information_schema and pg_catalog pages).

- pg_namespace on DuckDB: the user's schemas, owned by the admin user (public by rdsdb), as system.py's pg_user
  lists them; DuckDB's own view has its main schema and owner 0.
- Comments (COMMENT ON TABLE / COLUMN / VIEW ... IS 'text' | NULL): PostgreSQL keeps and reads them itself. DuckDB
  keeps them too, but its pg_description lists every table and column, commented or not, and it has no regclass,
  obj_description or col_description: there 'name'::regclass is the table's oid (looked up as a name is: a
  temporary table first, then the search path's schemas; 'relation "name" does not exist' otherwise),
  obj_description(oid) and col_description(oid, column number) read DuckDB's catalog, and pg_description holds
  the commented tables, views and columns alone, classoid 1259 (pg_class) as on Redshift.
- Constraints: Redshift records PRIMARY KEY, UNIQUE and FOREIGN KEY without enforcing them; the translator drops
  them from the engine's DDL (the engines would enforce them), keeps them in declarations.py, and adds CHECKs of
  its own (VARCHAR(n) byte lengths), which Redshift does not have. information_schema.table_constraints answers
  from the kept ones (system.py); the other views that list constraints (pg_constraint with its attribute numbers
  and pg_get_constraintdef, key_column_usage ...) would answer otherwise than Redshift: reading them fails with
  "not supported locally".
- Redshift's own catalog columns (pg_attribute.attencodingtype, attsortkeyord, attisdistkey, pg_class.reldiststyle,
  pg_attrdef.adsrc) are refused: the engines have none.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlglot
from sqlglot import exp
from sqlglot.tokens import Token

from shiftflow.dataapi.translate.model import NotSupportedLocally
from shiftflow.dataapi.translate.system import refused_system_table

_CONSTRAINT_VIEWS = {("information_schema", name) for name in (
    "key_column_usage", "referential_constraints", "constraint_column_usage",
    "constraint_table_usage", "check_constraints")} | {("pg_catalog", "pg_constraint"), ("", "pg_constraint")}
_DUCKDB_COMMENT_WORDS = {"pg_description", "regclass", "obj_description", "col_description"}
# Redshift's own columns of the PostgreSQL catalog (its encodings, distribution and sort keys; pg_attrdef.adsrc, which
# PostgreSQL dropped): the engines have no such column.
_REDSHIFT_COLUMNS = {"attencodingtype": "pg_attribute", "attsortkeyord": "pg_attribute",
                     "attisdistkey": "pg_attribute", "reldiststyle": "pg_class", "adsrc": "pg_attrdef"}
_WORDS = {name for _, name in _CONSTRAINT_VIEWS} | _DUCKDB_COMMENT_WORDS | {"pg_namespace"} | set(_REDSHIFT_COLUMNS)

# pg_description on DuckDB: the commented objects alone (its own view lists every one, NULL when uncommented).
_DUCKDB_DESCRIPTIONS = """
    SELECT table_oid AS objoid, 1259 AS classoid, 0 AS objsubid, comment AS description
    FROM duckdb_tables() WHERE comment IS NOT NULL
    UNION ALL SELECT view_oid, 1259, 0, comment FROM duckdb_views() WHERE NOT internal AND comment IS NOT NULL
    UNION ALL SELECT table_oid, 1259, column_index, comment FROM duckdb_columns()
    WHERE NOT internal AND comment IS NOT NULL"""


# pg_namespace on DuckDB: the database's schemas but DuckDB's main and the emulator's own (shiftflow_*), owned as on
# Redshift: public by the superuser rdsdb (usesysid 1), the others by the admin user who created them (100, the
# session's: system.py's pg_user). DuckDB's own view says 0 for every owner.
_DUCKDB_NAMESPACES = """
    SELECT oid, schema_name AS nspname, CASE WHEN schema_name = 'public' THEN 1 ELSE 100 END AS nspowner,
    NULL AS nspacl FROM duckdb_schemas() WHERE database_name NOT IN ('system', 'temp') AND schema_name <> 'main'
    AND NOT starts_with(schema_name, 'shiftflow_')"""
_DUCKDB_VIEWS = {"pg_description": _DUCKDB_DESCRIPTIONS, "pg_namespace": _DUCKDB_NAMESPACES}


def mentions_catalog(tokens: Iterable[Token]) -> bool:
    """Whether any word of the statement is one this module rewrites: most statements skip its tree pass."""
    return any(token.text.lower() in _WORDS for token in tokens)


def rewrite_catalog(tree: exp.Expression, engine: str) -> exp.Expression:
    """Refuse the constraint views and Redshift's own catalog columns; on DuckDB, comments read back as Redshift
    reads them (run before rewrite())."""
    # a statement that also reads a system table is refused for it (system.py: Redshift's internals)
    reads_system = any(refused_system_table(table.name.lower()) for table in tree.find_all(exp.Table))
    for column in [] if reads_system else tree.find_all(exp.Column):
        owner = _REDSHIFT_COLUMNS.get(column.name.lower())
        if owner is not None:
            raise NotSupportedLocally(f"{owner}.{column.name.lower()} (Redshift's own catalog column; pg_table_def"
                                      " and svv_table_info answer the tables' declared encodings and keys)")
    for table in list(tree.find_all(exp.Table)):
        key = (table.db.lower(), table.name.lower())
        if key in _CONSTRAINT_VIEWS:
            name = ".".join(part for part in key if part)
            raise NotSupportedLocally(f"{name} (the emulator keeps the PRIMARY KEY, UNIQUE and FOREIGN KEY"
                                      " declarations Redshift records, but not as this view's attribute numbers,"
                                      " oids and definitions: read information_schema.table_constraints)")
        if engine == "duckdb" and key[0] in ("", "pg_catalog") and key[1] in _DUCKDB_VIEWS:
            table.replace(exp.Subquery(this=sqlglot.parse_one(_DUCKDB_VIEWS[key[1]], read="duckdb"),
                                       alias=exp.TableAlias(this=exp.to_identifier(table.alias_or_name))))
    if engine != "duckdb":
        return tree
    for cast in list(tree.find_all(exp.Cast)):
        if cast.to.this == exp.DataType.Type.USERDEFINED and cast.to.text("kind").lower() == "regclass" \
                or cast.to.sql().lower() == "regclass":
            cast.replace(exp.Anonymous(this="shiftflow_regclass", expressions=[cast.this]))
    for call in list(tree.find_all(exp.Anonymous)):
        name = call.name.lower()
        if name == "obj_description" and 1 <= len(call.expressions) <= 2:
            _replace_call(call, exp.Anonymous(this="shiftflow_obj_description", expressions=call.expressions[:1]))
        elif name == "col_description" and len(call.expressions) == 2:
            _replace_call(call, exp.Anonymous(this="shiftflow_col_description", expressions=call.expressions))
    return tree


def _replace_call(call: exp.Anonymous, helper: exp.Expression) -> None:
    """An unaliased projection keeps the function's name as its column's."""
    name = call.name.lower()
    call.replace(exp.alias_(helper, name, quoted=True) if isinstance(call.parent, exp.Select) else helper)


_DUCKDB_RELATIONS = ("(SELECT table_oid AS oid, schema_name, table_name AS name, temporary FROM duckdb_tables()"
                     " UNION ALL SELECT view_oid, schema_name, view_name, temporary FROM duckdb_views()"
                     " WHERE NOT internal)")
DUCKDB_SETUP = (
    # 'schema.name' or 'name' (a temporary relation first, then the search path's schemas), as Redshift resolves it
    "CREATE OR REPLACE TEMP MACRO shiftflow_regclass_lookup(text) AS (SELECT oid FROM " + _DUCKDB_RELATIONS +
    " WHERE name = lower(CASE WHEN contains(text, '.') THEN split_part(text, '.', 2) ELSE text END)"
    " AND CASE WHEN contains(text, '.') THEN schema_name = lower(split_part(text, '.', 1))"
    " ELSE temporary OR list_contains(current_schemas(false), schema_name) END"
    " ORDER BY temporary DESC, list_position(current_schemas(false), schema_name) LIMIT 1)",
    "CREATE OR REPLACE TEMP MACRO shiftflow_regclass(text) AS CASE WHEN text IS NULL THEN NULL"
    " WHEN shiftflow_regclass_lookup(text) IS NULL THEN error('relation \"' || text || '\" does not exist')"
    " ELSE shiftflow_regclass_lookup(text) END",
    "CREATE OR REPLACE TEMP MACRO shiftflow_obj_description(o) AS (SELECT comment FROM (SELECT table_oid AS oid,"
    " comment FROM duckdb_tables() UNION ALL SELECT view_oid, comment FROM duckdb_views()) WHERE oid = o LIMIT 1)",
    "CREATE OR REPLACE TEMP MACRO shiftflow_col_description(o, n) AS (SELECT comment FROM duckdb_columns()"
    " WHERE table_oid = o AND column_index = n)",
)
