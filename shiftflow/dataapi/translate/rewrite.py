"""The AST rewrite pass: a Redshift tree (parsed with read="redshift") made runnable on DuckDB or PostgreSQL.

sqlglot's own redshift -> duckdb/postgres generation already handles nvl, nvl2, decode, len, charindex, dateadd,
date_trunc, top, `::` casts, convert_timezone. What it leaves wrong is fixed here; Redshift function behaviour is in
functions/ (run first, by rewrite_functions) and type behaviour in types.py.
"""

from __future__ import annotations

import re

from sqlglot import exp

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.translate.commands.inserts import refuse_multi_row_subqueries
from shiftflow.dataapi.translate.databases import refuse_other_databases
from shiftflow.dataapi.translate.declarations import primary_key_columns
from shiftflow.dataapi.translate.decimals import duckdb_decimal_divisions, postgres_decimal_divisions
from shiftflow.dataapi.translate.functions import HANDLED_NAMES, column_name, rewrite_functions
from shiftflow.dataapi.translate.functions.hyperloglog import refuse_misused_sketches, sketch_type
from shiftflow.dataapi.translate.functions.information import refuse_leader_node_functions
from shiftflow.dataapi.translate.functions.known import refuse_engine_functions
from shiftflow.dataapi.translate.grouping import rewrite_grouping
from shiftflow.dataapi.translate.model import CASE_SENSITIVE_IDENTIFIERS, NotSupportedLocally
from shiftflow.dataapi.translate.types import (duckdb_length_checks, integer_results, normalize_datetime_literals,
                                              refuse_printed_month_intervals, refuse_unsupported_casts,
                                              refuse_unsupported_column_types, rewrite_types, sized_varbytes)
from shiftflow.dataapi.translate.views import mark_late_binding

# Physical-layout properties that Redshift uses for storage only: dropping them never changes a result.
_LAYOUT_PROPERTIES = (exp.DistStyleProperty, exp.DistKeyProperty, exp.SortKeyProperty, exp.BackupProperty)
# Constraints Redshift accepts but never enforces; the engines would enforce them and reject Redshift-valid data.
_UNENFORCED_COLUMN_CONSTRAINTS = (exp.EncodeColumnConstraint, exp.PrimaryKeyColumnConstraint,
                                  exp.UniqueColumnConstraint, exp.Reference)
_UNENFORCED_TABLE_CONSTRAINTS = (exp.PrimaryKey, exp.UniqueColumnConstraint, exp.ForeignKey)
_UNSUPPORTED_TYPES = {exp.DataType.Type.GEOMETRY: "GEOMETRY type", exp.DataType.Type.GEOGRAPHY: "GEOGRAPHY type"}
# Expressions whose value is a date or timestamp: trunc() of one of them is a date cast.
_TEMPORAL = (exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentDatetime, exp.DateAdd, exp.TsOrDsAdd, exp.DateTrunc,
             exp.TimestampTrunc, exp.StrToTime, exp.StrToDate, exp.ConvertTimezone, exp.AtTimeZone)
_DUCKDB_UNSIZED = {exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR, exp.DataType.Type.BPCHAR,
                   exp.DataType.Type.NVARCHAR, exp.DataType.Type.NCHAR, exp.DataType.Type.TEXT}
_TEMPORAL_TYPES = {exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ,
                   exp.DataType.Type.DATETIME}


def _refuse_case_insensitive_match(identifier: exp.Identifier, engine: str) -> None:
    """DuckDB matches names regardless of case, quoted ones too: a case-sensitive name would find "orderid" for
    "OrderID", where Redshift finds nothing. A column's label (AS "OrderID") only names the result."""
    if engine == "duckdb" and not isinstance(identifier.parent, exp.Alias):
        raise NotSupportedLocally(f'the case-sensitive name "{identifier.name}" (enable_case_sensitive_identifier'
                                  " on) on the DuckDB engine, whose names match regardless of case (use the"
                                  " PostgreSQL engine)")


def _keep_set_defaults(update: exp.Update) -> None:
    """UPDATE ... SET c = DEFAULT (c_Examples_of_UPDATE_statements.md): the keyword, which sqlglot reads as a column
    named default (DuckDB's generator would quote it)."""
    for assignment in update.expressions:
        value = assignment.expression if isinstance(assignment, exp.EQ) else None
        if isinstance(value, exp.Column) and not value.table and value.this.name.lower() == "default" and (
                not value.this.quoted):
            value.replace(exp.var("DEFAULT"))


def rewrite(tree: exp.Expression, engine: str) -> tuple[exp.Expression, list[str]]:
    """The rewritten tree and any statements the engine must run first (DuckDB identity sequences)."""
    prelude: list[str] = []
    refuse_other_databases(tree)  # databases.py: the connected database's prefix is cut already
    refuse_multi_row_subqueries(tree)  # commands/inserts.py
    refuse_leader_node_functions(tree)  # functions/information.py
    refuse_engine_functions(tree, engine, _TRANSLATED)  # functions/known.py: engines' functions Redshift lacks
    sensitive = CASE_SENSITIVE_IDENTIFIERS.get()
    for identifier in tree.find_all(exp.Identifier):
        # Redshift folds every identifier, quoted ones too, unless enable_case_sensitive_identifier is on (then a
        # quoted name keeps its case): result columns are named in lower case, "Sales" and sales are one table.
        if sensitive and identifier.quoted and identifier.name != identifier.name.lower():
            _refuse_case_insensitive_match(identifier, engine)
            continue
        identifier.set("this", identifier.name.lower())
    refuse_unsupported_column_types(tree)  # types.py
    refuse_unsupported_casts(tree, engine)  # types.py
    refuse_printed_month_intervals(tree, engine)  # types.py
    if isinstance(tree, exp.Alter) and engine == "postgres":
        # DuckDB cannot add a column with a CHECK constraint: its ADD COLUMN varchar(n) stays unchecked.
        for action in tree.args.get("actions") or []:
            if isinstance(action, exp.ColumnDef):
                _add_length_check(action, engine)
    if isinstance(tree, exp.Create):
        _rewrite_create(tree, engine, prelude)
    if isinstance(tree, exp.Update):
        _keep_set_defaults(tree)
    for select in tree.find_all(exp.Select):
        _keep_column_names(select, engine)
    tree = rewrite_functions(tree, engine)  # functions/: one module per family of Redshift functions
    refuse_misused_sketches(tree)  # functions/hyperloglog.py
    tree = rewrite_grouping(tree)  # grouping.py: trailing blanks do not tell groups apart
    tree = sized_varbytes(rewrite_types(tree, engine), engine)  # types.py
    for call in list(tree.find_all(exp.Anonymous)):
        if call.name.lower() == "getdate" and not call.expressions:
            # getdate(): the statement's start as a TIMESTAMP (no time zone) in UTC, truncated to the second.
            now = exp.Paren(this=exp.AtTimeZone(this=exp.CurrentTimestamp(), zone=exp.Literal.string("UTC")))
            call.replace(exp.cast(exp.Anonymous(this="date_trunc", expressions=[exp.Literal.string("second"), now]),
                                  exp.DataType.Type.TIMESTAMP))
    tree = _rewrite_each_node(tree, engine)
    # decimals.py: Redshift's DECIMAL quotient (DuckDB: marked here, typed when the statement runs)
    tree = postgres_decimal_divisions(tree) if engine == "postgres" else duckdb_decimal_divisions(tree)
    for call in tree.find_all(exp.Anonymous):
        name = call.name.lower()
        if name in _SERVER_FILE_FUNCTIONS:
            raise EngineError(f"function {name} does not exist")
        if name in _INTERNAL_FUNCTIONS:
            raise NotSupportedLocally(f"{name}() ({_INTERNAL_FUNCTIONS[name]})")
        if name in _REDSHIFT_ONLY_FUNCTIONS or (engine == "duckdb" and name in _POSTGRES_ONLY_FUNCTIONS):
            raise NotSupportedLocally(f"{name}() (a Redshift function the {engine} engine does not have)")
    return integer_results(normalize_datetime_literals(tree, engine), engine), prelude


# Redshift functions that neither engine has and the translator does not emulate: refused by name rather than left
# to the engine's "function does not exist" (sqlglot's own rewrites, e.g. nvl or charindex, are not calls by name).
_REDSHIFT_ONLY_FUNCTIONS = frozenset("""
    ratio_to_report approximate_percentile_disc
    is_decimal is_fp is_float decimal_precision decimal_scale
    object_transform explode_array
    texttoint texttonumericalt
    last_user_query_id
    slice_num pg_get_late_binding_view_cols pg_get_cols has_assumerole_privilege
    st_geomfromtext st_geomfromwkt st_geomfromwkb st_geogfromtext st_makepoint st_astext st_asgeojson st_distance
    st_contains st_within st_intersects st_area st_length st_buffer st_transform st_setsrid st_srid st_x st_y
    h3_fromlatlng h3_fromlong h3_frompoint h3_polyfill h3_toparent h3_tochildren h3_resolution
    change_query_priority change_session_priority change_user_priority default_iam_role explain_model
""".split())
# PostgreSQL's functions over the server's own files (Redshift has none of them): on the PostgreSQL engine they
# would read the machine's files (pg_read_file('/etc/passwd')), since the emulator's roles may do so.
_SERVER_FILE_FUNCTIONS = frozenset("""
    pg_read_file pg_read_binary_file pg_ls_dir pg_stat_file lo_import lo_export pg_ls_logdir pg_ls_waldir
    pg_ls_tmpdir pg_ls_archive_statusdir pg_ls_logicalsnapdir pg_ls_logicalmapdir pg_ls_replslotdir
    pg_file_write pg_file_rename pg_file_unlink pg_logdir_ls pg_current_logfile pg_reload_conf pg_rotate_logfile
""".split())
# Redshift functions whose values come from Redshift's internals, which its pages do not document (r_SIZE.md: a
# SUPER value's in-memory size, 4 bytes for true and for NULL; r_CHECKSUM.md: the hash of its hash indexes), and
# those that act on Redshift's sessions (PG_CANCEL_BACKEND.md, PG_TERMINATE_BACKEND.md).
_INTERNAL_FUNCTIONS = {"size": "the byte size of Redshift's in-memory SUPER encoding, which is not documented",
                       "checksum": "Redshift's internal hash for its hash indexes, which is not documented",
                       # a session's process id is the Data API's (pg_backend_pid), not the engine's: PostgreSQL's
                       # own functions would look for a server process of that id
                       "pg_cancel_backend": "cancel another session's query: cancel a Data API statement with"
                                            " CancelStatement",
                       "pg_terminate_backend": "end another session: the emulator's sessions are the Data API's"}
# Redshift functions that PostgreSQL has with the same meaning but DuckDB does not.
_POSTGRES_ONLY_FUNCTIONS = frozenset("""
    has_function_privilege has_column_privilege
    has_any_column_privilege has_language_privilege has_assumerole_privilege
    set_config
""".split())  # DuckDB's has_*_privilege answer true whatever the catalog holds (catalog.py reads comments)
# Redshift functions the translator rewrites or refuses by name itself.
_TRANSLATED = HANDLED_NAMES | _REDSHIFT_ONLY_FUNCTIONS | frozenset(_INTERNAL_FUNCTIONS) | _POSTGRES_ONLY_FUNCTIONS


# Projections that the rewrite turns into other calls, and the column name Redshift gives them unaliased.
_COLUMN_NAMES = {exp.ApproxDistinct: "count", exp.Avg: "avg", exp.Trunc: "trunc", exp.TsOrDsDiff: "datediff",
                 exp.DateDiff: "datediff", exp.FromBase: "strtol", exp.MonthsBetween: "months_between",
                 exp.Median: "median", exp.LastDay: "last_day", exp.CurrentUser: "current_user",
                 exp.SessionUser: "session_user", exp.CurrentDatabase: "current_database",
                 exp.CurrentSchemas: "current_schemas"}
# Redshift functions that run as a shiftflow_<name> helper of the session set-up, with their number of arguments:
# the last one of the JSON functions (null_if_invalid) is optional and defaults to false.
_HELPERS = {"is_valid_json": (1, 1), "is_valid_json_array": (1, 1), "json_array_length": (1, 2),
            "json_extract_array_element_text": (2, 3), "add_months": (2, 2)}


def _keep_column_names(select: exp.Select, engine: str) -> None:
    """Unaliased projections get the column name Redshift gives them (results, CTAS, outer queries):
    `select avg(x)` is avg after its rewrite. Every other computed projection is named by PostgreSQL's rule, which
    Redshift follows, from the call as written: DuckDB names columns by their text (count_star()), and PostgreSQL
    would name the call the rewrite made (mod(10, 4) is 10 % 4, charindex() position())."""
    for projection in select.expressions:
        if isinstance(projection, (exp.Alias, exp.Column, exp.Star)):
            continue
        call = projection.this if isinstance(projection, exp.Window) else projection
        name = column_name(call) or _COLUMN_NAMES.get(type(call)) or _clock_column_name(call) \
            or _at_time_zone_column_name(call)
        if name is None and isinstance(call, exp.Anonymous) and call.name.lower() in _HELPERS:
            name = call.name.lower()
        if name is None:
            name = _redshift_column_name(projection)
        if name is not None and not (name == "?column?" and engine == "postgres"):  # PostgreSQL's own name
            projection.replace(exp.alias_(projection.copy(), name, quoted=True))


def _clock_column_name(node: exp.Expression) -> str | None:
    """Redshift names getdate() and sysdate `timestamp`, current_date `date` (and DuckDB cannot alias
    CURRENT_TIMESTAMP or CURRENT_DATE with their own name: it reads the name as a reference to the alias)."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "getdate":
        return "timestamp"
    if isinstance(node, exp.CurrentTimestamp):
        return "timestamp" if node.args.get("sysdate") else "timestamptz"
    if isinstance(node, exp.CurrentDate):
        return "date"
    return None


def _at_time_zone_column_name(node: exp.Expression) -> str | None:
    """Redshift names `x AT TIME ZONE z` by its type (r_AT_TIME_ZONE.md): timestamptz of a TIMESTAMP x, timestamp of
    a TIMESTAMPTZ one (PostgreSQL names it timezone); when x's type is not written, the engine's name stays."""
    if not isinstance(node, exp.AtTimeZone):
        return None
    operand = node.this
    while isinstance(operand, exp.Paren):
        operand = operand.this
    if not isinstance(operand, exp.Cast):
        return None
    return {exp.DataType.Type.TIMESTAMP: "timestamptz",
            exp.DataType.Type.TIMESTAMPTZ: "timestamp"}.get(operand.to.this)


def _redshift_column_name(node: exp.Expression) -> str:
    if isinstance(node, (exp.Paren, exp.Window, exp.IgnoreNulls, exp.RespectNulls)):
        return _redshift_column_name(node.this)
    if isinstance(node, exp.Column):
        return node.name
    if isinstance(node, exp.Cast):  # a cast of a cast is named by its own type, as PostgreSQL names it
        inner = _redshift_column_name(node.this)
        if inner != "?column?" and not isinstance(node.this, exp.Cast):
            return inner
        return _CAST_NAMES.get(node.to.this, node.to.this.value.lower())
    if isinstance(node, exp.Case):
        return "case"
    written = node.meta.get("written_name") if isinstance(node, (exp.Func, exp.Binary)) else None
    if written:  # mod(10, 4) is mod, charindex(...) charindex (a % b stays ?column?)
        return _WRITTEN_NAMES.get(written, written)
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return "?column?"


# Calls Redshift names otherwise than as written (r_TRIM.md: btrim; r_LOG.md: dlog10; r_NVL_function.md: coalesce;
# r_DECODE_expression.md: case).
_WRITTEN_NAMES = {"trim": "btrim", "log": "dlog10", "nvl": "coalesce", "decode": "case"}
_CAST_NAMES = {exp.DataType.Type.INT: "int4", exp.DataType.Type.BIGINT: "int8", exp.DataType.Type.SMALLINT: "int2",
               exp.DataType.Type.VARCHAR: "varchar", exp.DataType.Type.TEXT: "text",
               exp.DataType.Type.DOUBLE: "float8", exp.DataType.Type.FLOAT: "float4",
               exp.DataType.Type.DECIMAL: "numeric", exp.DataType.Type.BOOLEAN: "bool",
               exp.DataType.Type.CHAR: "bpchar", exp.DataType.Type.BPCHAR: "bpchar",
               exp.DataType.Type.VARBINARY: "varbyte"}


def _rewrite_create(create: exp.Create, engine: str, prelude: list[str]) -> None:
    mark_late_binding(create)  # CREATE VIEW ... WITH NO SCHEMA BINDING (views.py)
    properties = create.args.get("properties")
    if properties:
        kept = [p for p in properties.expressions if not isinstance(p, _LAYOUT_PROPERTIES)]
        create.set("properties", exp.Properties(expressions=kept) if kept else None)
    schema = create.this if isinstance(create.this, exp.Schema) else None
    if schema is None or create.args.get("kind") != "TABLE":
        return
    table = schema.this
    if engine == "postgres":
        for like in schema.find_all(exp.LikeProperty):
            _like_with_identity(like)
    _primary_keys_not_null(schema)
    kept_items = []
    for item in schema.expressions:
        if isinstance(item, _UNENFORCED_TABLE_CONSTRAINTS):
            continue
        if isinstance(item, exp.Constraint) and all(
                isinstance(e, _UNENFORCED_TABLE_CONSTRAINTS) for e in item.expressions):
            continue
        if isinstance(item, exp.ColumnDef):
            _rewrite_column(item, table, create, engine, prelude)
            _add_length_check(item, engine)
        kept_items.append(item)
    schema.set("expressions", kept_items)


def _primary_keys_not_null(schema: exp.Schema) -> None:
    """A PRIMARY KEY's columns are NOT NULL in Redshift (r_SHOW_TABLE.md: `a int PRIMARY KEY` shows as
    `a integer NOT NULL`), though the key itself is not enforced."""
    keys = primary_key_columns(schema)
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef) and item.name.lower() in keys and not any(
                isinstance(c.args.get("kind"), exp.NotNullColumnConstraint) and not c.args["kind"].args.get("allow_null")
                for c in item.args.get("constraints") or []):
            item.append("constraints", exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))


def _rewrite_column(column: exp.ColumnDef, table: exp.Table, create: exp.Create, engine: str,
                    prelude: list[str]) -> None:
    constraints = []
    for constraint in column.args.get("constraints") or []:
        kind = constraint.args.get("kind")
        if isinstance(kind, _UNENFORCED_COLUMN_CONSTRAINTS):
            continue
        if isinstance(kind, exp.AutoIncrementColumnConstraint):  # a bare IDENTITY: seed 1, step 1 (the
            kind = exp.GeneratedAsIdentityColumnConstraint(this=False)  # r_CREATE_TABLE_examples.md output)
            constraint = exp.ColumnConstraint(kind=kind)
        if isinstance(kind, exp.GeneratedAsIdentityColumnConstraint):
            if engine == "postgres":
                kind.set("this", False)  # BY DEFAULT: Redshift lets COPY / EXPLICIT_IDS supply values
                start = kind.args.get("start")
                if start is not None and not (isinstance(start, exp.Literal) and int(start.this) >= 1):
                    kind.set("minvalue", start.copy())  # a seed of 0 or below (PostgreSQL's minimum is 1)
            else:
                constraint = exp.ColumnConstraint(kind=exp.DefaultColumnConstraint(
                    this=_identity_sequence(column, table, kind, create, prelude)))
        constraints.append(constraint)
    column.set("constraints", constraints)


_LENGTH_TYPES = {exp.DataType.Type.VARCHAR: "character varying", exp.DataType.Type.NVARCHAR: "character varying",
                 exp.DataType.Type.CHAR: "character", exp.DataType.Type.NCHAR: "character",
                 exp.DataType.Type.BPCHAR: "character"}


def _add_length_check(column: exp.ColumnDef, engine: str) -> None:
    """Redshift's VARCHAR(n) / CHAR(n) hold at most n bytes and reject longer values. DuckDB strings have no length
    and PostgreSQL counts characters, not bytes: a CHECK on the byte length fails the insert or update with
    Redshift's message (the DuckDB engine shows the CHECK's own error message alone)."""
    kind = column.args.get("kind")
    if not isinstance(kind, exp.DataType) or kind.this not in _LENGTH_TYPES or len(kind.expressions) != 1:
        return
    size = kind.expressions[0].this
    if not (isinstance(size, exp.Literal) and not size.is_string):
        return  # varchar(max)
    message = exp.Literal.string(f"value too long for type {_LENGTH_TYPES[kind.this]}({size.this})")
    value = exp.column(column.name, quoted=True)
    if engine == "duckdb":
        ifs = duckdb_length_checks(value, kind)
    else:
        too_long = exp.GT(this=exp.Anonymous(this="octet_length", expressions=[value]), expression=size.copy())
        ifs = [exp.If(this=too_long, true=exp.Anonymous(this="shiftflow_raise", expressions=[message]))]
    check = exp.Case(ifs=ifs, default=exp.true())
    constraints = list(column.args.get("constraints") or [])
    constraints.append(exp.ColumnConstraint(kind=exp.CheckColumnConstraint(this=check)))
    column.set("constraints", constraints)


def _identity_sequence(column: exp.ColumnDef, table: exp.Table, identity: exp.Expression, create: exp.Create,
                       prelude: list[str]) -> exp.Expression:
    """DuckDB has no IDENTITY: a sequence per column, created just before the table, feeds its default."""
    name = f"{table.name}_{column.name}_identity_seq".replace('"', "")
    schema = f'"{table.db}".' if table.db else ""
    start = identity.args.get("start") or exp.Literal.number(1)
    step = identity.args.get("increment") or exp.Literal.number(1)
    verb = "CREATE SEQUENCE IF NOT EXISTS" if create.args.get("exists") else "CREATE OR REPLACE SEQUENCE"
    # Redshift's seed may be 0 or negative (IDENTITY(0, 1): r_CREATE_TABLE_examples.md); DuckDB's sequences start
    # at 1 at the least unless given the BIGINT range.
    prelude.append(f'{verb} {schema}"{name}" START WITH {start.sql()} INCREMENT BY {step.sql()}'
                   " MINVALUE -9223372036854775808 MAXVALUE 9223372036854775807")
    return exp.func("nextval", exp.Literal.string(f"{schema}\"{name}\""))


def _like_with_identity(like: exp.LikeProperty) -> None:
    """PostgreSQL's LIKE copies NOT NULL but not IDENTITY, leaving a column that rejects every insert; nor CHECKs,
    and the only ones a Redshift table has are the translator's VARCHAR(n) / CHAR(n) lengths, part of the type.
    (DuckDB has no LIKE: commands/like.py.)"""
    options = like.expressions
    written = " ".join(option.sql().upper() for option in options)
    for wanted in ("IDENTITY", "CONSTRAINTS"):
        if wanted not in written:
            options = [*options, exp.Property(this="INCLUDING", value=exp.var(wanted))]
    like.set("expressions", options)


def _rewrite_each_node(tree: exp.Expression, engine: str) -> exp.Expression:
    """_rewrite_node on every node once, top down, the children of a replacement included: sqlglot's transform
    skips the subtree of a node it replaces, so trunc(add_months(...)) kept add_months as written. A replacement
    itself, and the original node when the replacement wraps it, are not rewritten again."""
    root = tree
    done: list[exp.Expression] = []  # keeps the visited nodes alive, so that their ids stay theirs
    visited: set[int] = set()
    pending = [tree]
    while pending:
        node = pending.pop()
        if id(node) not in visited:
            parent, arg_key, index = node.parent, node.arg_key, node.index
            replacement = _rewrite_node(node, engine)
            visited.update((id(node), id(replacement)))
            done += (node, replacement)
            if replacement is not node:
                if node is root:
                    root = replacement
                elif parent is not None and arg_key:
                    parent.set(arg_key, replacement, index)
                node = replacement
        else:
            done.append(node)
        pending.extend(reversed(list(node.iter_expressions())))
    return root


def _rewrite_node(node: exp.Expression, engine: str) -> exp.Expression:
    if isinstance(node, exp.Anonymous) and node.name.lower() in _HELPERS:
        return _helper_call(node)
    if isinstance(node, (exp.CurrentUser, exp.SessionUser)):  # the request's DbUser (engines/*.py set_user)
        return exp.Anonymous(this="shiftflow_current_user" if isinstance(node, exp.CurrentUser)
                             else "shiftflow_session_user", expressions=[])
    if isinstance(node, exp.CurrentDatabase):  # the request's Database
        return exp.Anonymous(this="shiftflow_current_database", expressions=[])
    if isinstance(node, exp.CurrentSchemas):  # the text '{public}', without the engine's own schemas
        return exp.Anonymous(this="shiftflow_current_schemas", expressions=[node.this or exp.false()])
    if isinstance(node, exp.Column) and not node.table and node.name in _CLUSTER_IDENTITY:
        raise NotSupportedLocally(f"{node.name} (the emulator has no AWS account or Redshift namespace)")
    if isinstance(node, exp.FromBase):  # strtol(text, base)
        return exp.Anonymous(this="shiftflow_strtol", expressions=[node.this, node.expression])
    if isinstance(node, exp.MonthsBetween):
        # sqlglot's DuckDB form drops the time of day and PostgreSQL has no months_between.
        return exp.Anonymous(this="shiftflow_months_between",
                             expressions=[exp.cast(node.this, exp.DataType.Type.TIMESTAMP),
                                          exp.cast(node.expression, exp.DataType.Type.TIMESTAMP)])
    if isinstance(node, exp.Cast) and engine == "duckdb" and node.to.this in _INTEGER_TYPES:
        return _checked_integer_cast(node)
    if isinstance(node, exp.ApproxDistinct) and engine == "postgres":
        # APPROXIMATE COUNT(DISTINCT x): PostgreSQL has no estimator; the exact count is within its error bound.
        return exp.Count(this=exp.Distinct(expressions=[node.this]))
    if isinstance(node, exp.DataType):
        return _rewrite_type(node, engine)
    if isinstance(node, exp.WidthBucket) and engine == "duckdb":
        raise NotSupportedLocally("width_bucket() (a Redshift function the duckdb engine does not have)")
    if isinstance(node, exp.Table) and node.name.startswith("#"):
        node.this.set("quoted", True)  # Redshift #name temp tables: keep the name, quoted for the engine
        return node
    if isinstance(node, exp.CurrentTimestamp) and node.args.get("sysdate"):
        # sysdate: the transaction's start as a timestamp without time zone, in UTC.
        # Parenthesised: PostgreSQL rejects a bare AT TIME ZONE in a column DEFAULT.
        return exp.Paren(this=exp.AtTimeZone(this=exp.CurrentTimestamp(), zone=exp.Literal.string("UTC")))
    if isinstance(node, exp.Trunc) and not node.args.get("decimals"):
        return _rewrite_trunc(node, engine)
    if isinstance(node, exp.Div) and engine == "duckdb":
        return _checked_division(node)
    if isinstance(node, exp.Insert) and isinstance(node.parent, exp.When):
        return _merge_insert(node)
    if isinstance(node, (exp.Like, exp.ILike)) and engine == "duckdb" and not isinstance(node.parent, exp.Escape):
        return _like_escape(node)
    if isinstance(node, exp.SimilarTo) and engine == "duckdb":
        return _similar_to_regex(node)
    if isinstance(node, (exp.Collate, exp.CollateColumnConstraint)):
        return _collation(node, engine)
    if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)) and engine == "postgres":
        # PostgreSQL's date_trunc of a date picks the timestamptz overload; Redshift's returns a timestamp.
        if not (isinstance(node.this, exp.Cast) and node.this.to.this == exp.DataType.Type.TIMESTAMP):
            node.set("this", exp.cast(node.this, exp.DataType.Type.TIMESTAMP))
        return node
    return node


def _helper_call(node: exp.Anonymous) -> exp.Expression:
    """A Redshift function the session set-up defines as shiftflow_<name>; a call with another number of
    arguments is left to fail in the engine."""
    name = node.name.lower()
    fewest, most = _HELPERS[name]
    arguments = list(node.expressions)
    if not fewest <= len(arguments) <= most:
        return node
    if name == "add_months":
        # Redshift's ADD_MONTHS keeps a month's last day the last day (DATEADD does not): a TIMESTAMP.
        arguments = [exp.cast(arguments[0], exp.DataType.Type.TIMESTAMP),
                     exp.cast(arguments[1], exp.DataType.Type.INT)]
    arguments += [exp.false()] * (most - len(arguments))  # null_if_invalid defaults to false
    return exp.Anonymous(this=f"shiftflow_{name}", expressions=arguments)


# r_CURRENT_AWS_ACCOUNT.md, r_CURRENT_NAMESPACE.md: `select user, current_aws_account`
_CLUSTER_IDENTITY = frozenset({"current_aws_account", "current_namespace"})
_INTEGER_TYPES = {exp.DataType.Type.SMALLINT, exp.DataType.Type.INT, exp.DataType.Type.BIGINT,
                  exp.DataType.Type.TINYINT}


_NEVER_TEXT = (exp.Sum, exp.Avg, exp.Count, exp.Stddev, exp.StddevPop, exp.StddevSamp, exp.Variance,
               exp.VariancePop, exp.Round, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)


def _checked_integer_cast(node: exp.Cast) -> exp.Expression:
    """Redshift refuses text that is not an integer ('12.5'::int: invalid input syntax); DuckDB rounds it.
    shiftflow_integer_text() (session set-up) checks VARCHAR operands and passes any other type through."""
    operand = node.this
    if isinstance(operand, exp.Literal) and not operand.is_string:
        return node
    if isinstance(operand, exp.Cast) and operand.to.this not in _DUCKDB_UNSIZED:
        return node
    if isinstance(operand, exp.Anonymous) and operand.name in ("shiftflow_integer_text", "shiftflow_super_integer"):
        return node  # already an integer (super.py's lax cast of a SUPER value)
    if isinstance(operand, _NEVER_TEXT):
        # A number: DuckDB binds the macro's VARCHAR overload for an aggregate (cast(stddev(x) as integer) then
        # failed as text); Redshift rounds it, as the cast does.
        return node
    node.set("this", exp.Anonymous(this="shiftflow_integer_text", expressions=[operand]))
    return node


def _like_escape(node: exp.Expression) -> exp.Expression:
    """Redshift's LIKE escapes with backslash by default; DuckDB's has no escape character unless told."""
    pattern = node.expression
    if isinstance(pattern, exp.Literal) and "\\" not in pattern.this:
        return node
    return exp.Escape(this=node, expression=exp.Literal.string("\\"))


def _similar_to_regex(node: exp.SimilarTo) -> exp.Expression:
    """DuckDB reads a SIMILAR TO pattern as a plain regular expression (`%` is not a wildcard there):
    translate the SQL pattern to the regular expression PostgreSQL and Redshift build from it."""
    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string) or isinstance(node.parent, exp.Escape):
        raise NotSupportedLocally("SIMILAR TO with a computed pattern or ESCAPE on the DuckDB engine")
    regex: list[str] = []
    text, i, in_bracket = pattern.this, 0, False
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            regex.append(re.escape(text[i + 1]))
            i += 2
            continue
        if in_bracket:
            in_bracket = char != "]"
            regex.append(char)
        elif char == "[":
            in_bracket = True
            regex.append(char)
        elif char == "%":
            regex.append(".*")
        elif char == "_":
            regex.append(".")
        elif char in "|*+?{}(),0123456789":
            regex.append(char)
        else:
            regex.append(re.escape(char))
        i += 1
    return exp.func("regexp_full_match", node.this, exp.Literal.string("".join(regex)))


# Redshift's two collations (r_COLLATE.md, r_CREATE_TABLE_NEW.md) as DuckDB's: binary is its default. PostgreSQL's
# case-insensitive collations need ICU (a nondeterministic collation), which the bundled server is built without (nor
# has it citext): there only an equality of an expression's collation is lower() of both sides.
_COLLATIONS = {"duckdb": {"case_sensitive": "binary", "cs": "binary", "case_insensitive": "nocase", "ci": "nocase"},
               "postgres": {"case_sensitive": "default", "cs": "default"}}


def _collation(node: exp.Expression, engine: str) -> exp.Expression:
    """COLLATE case_insensitive (a column's, or an expression's: x COLLATE ..., collate(x, '...'))."""
    written = node.expression if isinstance(node, exp.Collate) else node.this
    name = written.name.lower() if isinstance(written, (exp.Literal, exp.Var, exp.Column, exp.Identifier)) else ""
    if name not in _COLLATIONS["duckdb"]:
        raise EngineError(f'collation "{name or written.sql()}" does not exist')  # Redshift has these two only
    if name not in _COLLATIONS[engine]:
        lowered = _case_insensitive_equality(node) if engine == "postgres" else None
        if lowered is not None:
            return lowered
        raise NotSupportedLocally(f"the case-insensitive collation (COLLATE {name}) on the {engine} engine (use the"
                                  " DuckDB engine)")
    collation = exp.column(exp.to_identifier(_COLLATIONS[engine][name], quoted=True))
    if isinstance(node, exp.Collate):
        return exp.Collate(this=node.this, expression=collation)
    return exp.CollateColumnConstraint(this=collation)


def _case_insensitive_equality(node: exp.Expression) -> exp.Expression | None:
    """PostgreSQL: `x COLLATE case_insensitive = y` (or <>, or IN a list) as lower(x) = lower(y), the other side(s)
    lowered too (r_COLLATE.md's example); None where lower() is not the collation's answer (an order, a column's
    collation)."""
    if not isinstance(node, exp.Collate):
        return None
    comparison, operand = node.parent, node
    if isinstance(comparison, (exp.EQ, exp.NEQ)):
        others = [side for side in (comparison.this, comparison.expression) if side is not operand]
    elif isinstance(comparison, exp.In) and comparison.this is operand and not comparison.args.get("query"):
        others = list(comparison.expressions)
    else:
        return None
    for other in others:  # (each side already without trailing blanks: strings.py)
        other.replace(exp.Lower(this=other.copy()))
    return exp.Lower(this=node.this)


def _rewrite_type(node: exp.DataType, engine: str) -> exp.DataType:
    if node.this in _UNSUPPORTED_TYPES:
        raise NotSupportedLocally(_UNSUPPORTED_TYPES[node.this])
    if node.this == exp.DataType.Type.HLLSKETCH:
        return sketch_type(node, engine)
    if node.this == exp.DataType.Type.SUPER:  # the engine's JSON value, as JSON_PARSE makes it (functions/super.py)
        return exp.DataType.build("JSON")
    params = node.expressions
    if params and any(isinstance(p.this, exp.Var) and p.this.name.upper() == "MAX" for p in params):
        node.set("expressions", [])  # varchar(max): both engines' varchar is unbounded
    if engine == "duckdb" and node.this in {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}:
        node.set("expressions", [])  # float(20): DuckDB's floats take no precision
    if engine == "duckdb" and node.this in _DUCKDB_UNSIZED:
        # DuckDB strings have no length (it would print VARCHAR(20) as TEXT(20), which it rejects).
        node.set("this", exp.DataType.Type.VARCHAR)
        node.set("expressions", [])
    return node


def _is_temporal(node: exp.Expression) -> bool:
    if isinstance(node, exp.Paren):
        return _is_temporal(node.this)
    if isinstance(node, _TEMPORAL):
        return True
    return isinstance(node, exp.Cast) and node.to.this in _TEMPORAL_TYPES


# Aggregates and window functions that return one of their argument's values, and that trunc() commutes with
# (trunc never reorders values): trunc(max(x)) is max(trunc(x)).
_VALUE_PICKERS = (exp.Max, exp.Min, exp.AnyValue, exp.FirstValue, exp.LastValue, exp.Lag, exp.Lead)
_NUMERIC_AGGREGATES = (exp.Sum, exp.Count, exp.Stddev, exp.StddevPop, exp.StddevSamp, exp.Variance, exp.VariancePop)


def _rewrite_trunc(node: exp.Trunc, engine: str) -> exp.Expression:
    """trunc(timestamp) is a date in Redshift, trunc(number) a number: a date cast when the argument is visibly
    temporal, otherwise shiftflow_trunc(), a helper the session set-up defines per argument type."""
    argument = node.this
    if _is_temporal(argument):
        return exp.cast(argument, exp.DataType.Type.DATE)
    if engine == "duckdb":
        aggregate = _trunc_of_aggregate(argument)
        if aggregate is not None:
            return aggregate
    return exp.Anonymous(this="shiftflow_trunc", expressions=[argument])


def _trunc_of_aggregate(argument: exp.Expression) -> exp.Expression | None:
    """DuckDB picks shiftflow_trunc's overload wrongly for an aggregate or window argument ("multiple overloads"):
    trunc moves inside one that picks a value, a number's is DuckDB's own trunc, any other is refused."""
    call = argument.this if isinstance(argument, exp.Window) else argument
    if not isinstance(call, (exp.AggFunc, exp.Window, *_VALUE_PICKERS)):
        return None
    if isinstance(call, _VALUE_PICKERS) and not (isinstance(call, (exp.Lag, exp.Lead)) and call.args.get("default")):
        value = call.this.expressions[0] if isinstance(call.this, exp.Distinct) else call.this
        value.replace(exp.Anonymous(this="shiftflow_trunc", expressions=[value.copy()]))
        return argument
    if isinstance(call, _NUMERIC_AGGREGATES):
        return exp.Anonymous(this="trunc", expressions=[argument])
    raise NotSupportedLocally(f"trunc() of {call.sql(dialect='redshift').split('(')[0].lower()}(...) on the DuckDB"
                              " engine (it cannot tell a date from a number there)")


def _checked_division(node: exp.Div) -> exp.Expression:
    """DuckDB divides decimals and floats by zero into inf/NULL; Redshift raises. Integer division by zero already
    raises in DuckDB (error_on_division_by_zero), and integer_division=true keeps int / int an integer."""
    divisor = node.expression
    if isinstance(divisor, exp.Literal) and not divisor.is_string and float(divisor.this) != 0:
        return node
    if isinstance(divisor, exp.Placeholder):
        return node  # a bound string divisor already raises on zero, and a CASE would make it VARCHAR
    if isinstance(divisor, exp.Nullif) and divisor.expression == exp.Literal.number(0):
        return node  # NULLIF(x, 0) is never zero
    # error() is volatile, which DuckDB refuses in a window's ORDER BY / PARTITION BY: there a failing cast raises
    # (its message says "division by zero" too), an INTEGER, which keeps the CASE the divisor's type.
    failing_cast = exp.cast(exp.cast(exp.Literal.string("division by zero"), exp.DataType.Type.DOUBLE),
                            exp.DataType.Type.INT)
    failure = failing_cast if _in_window_spec(node) else exp.func("error", exp.Literal.string("division by zero"))
    check = exp.Case(ifs=[exp.If(this=exp.EQ(this=divisor.copy(), expression=exp.Literal.number(0)), true=failure)],
                     default=divisor)
    node.set("expression", check)
    return node


def _in_window_spec(node: exp.Expression) -> bool:
    child, parent = node, node.parent
    while parent is not None:
        if isinstance(parent, exp.Window):
            return child.arg_key in ("order", "partition_by")
        child, parent = parent, parent.parent
    return False


def _merge_insert(node: exp.Insert) -> exp.Expression:
    """sqlglot parses MERGE ... WHEN NOT MATCHED THEN INSERT VALUES (...) as a call named `values`."""
    target = node.this
    if isinstance(target, exp.Tuple) and len(target.expressions) == 1:
        inner = target.expressions[0]
        if isinstance(inner, exp.Anonymous) and inner.name.lower() == "values":
            node.set("this", None)
            node.set("expression", exp.Tuple(expressions=inner.expressions))
    return node
