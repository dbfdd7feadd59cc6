"""Streaming ingestion's statements (r_CREATE_EXTERNAL_SCHEMA.md, materialized-view-*.md) as session commands:
CREATE EXTERNAL SCHEMA ... FROM KINESIS | MSK, CREATE / REFRESH / DROP MATERIALIZED VIEW, and, inside procedure
bodies, SET / RESET enable_case_sensitive_identifier (as statements, commands/settings.py records it; SUPER
navigation, functions/super.py, and stream views read it).

Materialized views over tables are plain: CREATE computes them, REFRESH recomputes them from scratch.
AUTO REFRESH YES views are refreshed by the local runtime's AutoRefresher (streams/auto.py); where none runs (a bare
emulator), AUTO REFRESH YES fails with "not supported locally".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import sqlglot
from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from shiftflow.dataapi.streams import catalog, topic_tables
from shiftflow.dataapi.streams.refresh import (
    CallWithStreams,
    CreateExternalSchema,
    CreateMaterializedView,
    DropMaterializedView,
    RefreshMaterializedView,
    ViewDefinition,
    step_texts,
)
from shiftflow.dataapi.engines.base import EngineSession
from shiftflow.dataapi.translate.commands import word
from shiftflow.dataapi.translate.char_columns import CharTableAs
from shiftflow.dataapi.translate.declarations import undeclared
from shiftflow.dataapi.translate.model import EngineSql, NotSupportedLocally, SessionCommand
from shiftflow.sql.splitter import tokenize

CASE_SETTING = "enable_case_sensitive_identifier"
_TRUE, _FALSE = {"ON", "TRUE", "1", "YES", "T"}, {"OFF", "FALSE", "0", "NO", "F"}

Translate = Callable[[str, str], object]
Parse = Callable[[str], exp.Expression]


def stream_statement(statement: str, tokens: list[Token], engine: str, translate: Translate,
                     parse: Parse) -> EngineSql | SessionCommand | None:
    """The statement as streaming ingestion runs it; None when it is none of its statements."""
    tokens = _expanded(statement, tokens)
    words = [word(token) for token in tokens]
    if words[:3] == ["CREATE", "EXTERNAL", "SCHEMA"] and ("KINESIS" in words or "MSK" in words):
        return _external_schema(tokens, words)
    if words[:3] == ["CREATE", "MATERIALIZED", "VIEW"]:
        return _create_view(statement, tokens, engine, translate, parse)
    if words[:3] in (["REFRESH", "MATERIALIZED", "VIEW"], ["DROP", "MATERIALIZED", "VIEW"]):
        return _refresh_or_drop(tokens, words)
    return None


def call_with_streams(call: EngineSql) -> SessionCommand:
    return CallWithStreams(call.text, call.parameter_names)


def procedure_statement(sql: str, tokens: list[Token]) -> str | None:
    """A statement of a procedure body that streaming ingestion runs itself, as plpgsql; None otherwise."""
    tokens = _expanded(sql, tokens)
    words = [word(token) for token in tokens]
    if words[:3] == ["REFRESH", "MATERIALIZED", "VIEW"]:
        name = _name(tokens[3:])
        return f"PERFORM {catalog.SCHEMA}.refresh_view('{name}')"
    if words[:1] in (["SET"], ["RESET"]) and CASE_SETTING.upper() in words[1:3]:
        value = _case_value(tokens, words)
        return f"PERFORM set_config('shiftflow.{CASE_SETTING}', '{value}', false)"
    return None


def _expanded(statement: str, tokens: list[Token]) -> list[Token]:
    """The tokenizer gives a command's (REFRESH ...) arguments as one string token: tokenize them too."""
    if tokens and tokens[0].token_type == TokenType.COMMAND and len(tokens) > 1:
        tokens = [tokens[0], *tokenize(statement[tokens[0].end + 1 :])]
    while tokens and tokens[-1].token_type == TokenType.SEMICOLON:
        tokens = tokens[:-1]
    return tokens


def _name(tokens: list[Token]) -> str:
    """A (schema-qualified) object name, folded as the translated DDL folds it."""
    parts = [token.text.lower() for token in tokens if token.token_type != TokenType.DOT]
    if not parts or len(parts) > 2 or any(not part.replace("_", "").replace("$", "").isalnum() for part in parts):
        raise NotSupportedLocally("a materialized view name that is not a plain [schema.]name")
    return ".".join(parts)


def _string(token: Token) -> str:
    if token.token_type != TokenType.STRING:
        raise NotSupportedLocally(f"{token.text} where a quoted string is expected")
    return token.text


def _external_schema(tokens: list[Token], words: list[str]) -> SessionCommand:
    i = 3
    if_not_exists = words[i : i + 3] == ["IF", "NOT", "EXISTS"]
    i += 3 if if_not_exists else 0
    name = tokens[i].text.lower()
    i += 1
    if words[i : i + 1] != ["FROM"]:
        raise NotSupportedLocally("CREATE EXTERNAL SCHEMA without FROM KINESIS | MSK")
    source = words[i + 1].lower()
    options: dict[str, str] = {}
    j = i + 2
    while j < len(tokens):
        key = words[j]
        if key in {"IAM_ROLE", "CLUSTER_ARN", "AUTHENTICATION_ARN", "URI"}:
            value = tokens[j + 1]
            options[key] = "default" if word(value) == "DEFAULT" else _string(value)
            j += 2
        elif key == "AUTHENTICATION":
            options[key] = words[j + 1].lower()
            j += 2
        else:
            raise NotSupportedLocally(f"CREATE EXTERNAL SCHEMA option {tokens[j].text}")
    if "IAM_ROLE" not in options:
        raise NotSupportedLocally("CREATE EXTERNAL SCHEMA without IAM_ROLE")
    if source == "msk":
        if options.get("AUTHENTICATION") not in {"none", "iam"}:
            raise NotSupportedLocally("MSK AUTHENTICATION other than none or iam (mtls)")
        if "CLUSTER_ARN" not in options:
            raise NotSupportedLocally("FROM MSK without CLUSTER_ARN")
    elif "AUTHENTICATION" in options or "CLUSTER_ARN" in options:
        raise NotSupportedLocally("AUTHENTICATION or CLUSTER_ARN with FROM KINESIS")
    return CreateExternalSchema(name, source, options["IAM_ROLE"], options.get("AUTHENTICATION", ""),
                                options.get("CLUSTER_ARN", ""), if_not_exists)


def _refresh_or_drop(tokens: list[Token], words: list[str]) -> SessionCommand:
    if words[0] == "REFRESH":
        if "RESTRICT" in words or "CASCADE" in words:
            raise NotSupportedLocally("REFRESH MATERIALIZED VIEW ... CASCADE / RESTRICT (nested views)")
        return RefreshMaterializedView(_name(tokens[3:]))
    if_exists = words[3:5] == ["IF", "EXISTS"]
    rest = tokens[5 if if_exists else 3 :]
    if rest and word(rest[-1]) in {"CASCADE", "RESTRICT"}:
        rest = rest[:-1]
    return DropMaterializedView(_name(rest), if_exists)


def _case_value(tokens: list[Token], words: list[str]) -> str:
    if words[0] == "RESET":
        return "off"
    values = [token for token in tokens[2:] if word(token) != "TO" and token.token_type != TokenType.EQ]
    text = words[-1] if len(values) == 1 else ""
    if text in _TRUE:
        return "on"
    if text in _FALSE or text == "DEFAULT":
        return "off"
    raise NotSupportedLocally(f"SET {CASE_SETTING} to {' '.join(t.text for t in values)!r} (true or false)")


def _create_view(statement: str, tokens: list[Token], engine: str, translate: Translate,
                 parse: Parse) -> SessionCommand:
    tree = parse(statement)
    if not isinstance(tree, exp.Create) or not isinstance(tree.expression, exp.Query):
        raise NotSupportedLocally("CREATE MATERIALIZED VIEW not of the form CREATE MATERIALIZED VIEW name AS SELECT")
    auto = any(isinstance(prop, exp.AutoRefreshProperty) and prop.this.name.upper() == "YES"
               for prop in (tree.args.get("properties") or exp.Properties(expressions=[])).expressions)
    name = _name(tokens[3 : 3 + _name_length(tokens[3:])])
    query = tree.expression
    # A stream is schema."name"; a.payload.x b in FROM unnests the SUPER column of alias a (super.py).
    aliases = {table.alias_or_name.lower() for table in query.find_all(exp.Table)}
    streams = [table for table in query.find_all(exp.Table) if table.db and isinstance(table.this, exp.Identifier)
               and not table.args.get("catalog") and table.db.lower() not in aliases]
    stream = streams[0] if len(streams) == 1 else None
    if stream is None:
        return _plain_view(name, query, engine, translate, auto)
    return _stream_view(name, query, stream, engine, translate, auto)


def _name_length(tokens: list[Token]) -> int:
    """How many tokens the view's name takes (name or schema . name)."""
    return 3 if len(tokens) > 2 and tokens[1].token_type == TokenType.DOT else 1


def _plain_view(name: str, query: exp.Query, engine: str, translate: Translate, auto: bool) -> SessionCommand:
    select = query.sql(dialect="redshift")
    # Run as the CREATE TABLE AS would be: CHAR(n) columns stay CHAR(n) (CharTableAs), quotients typed (decimals.py).
    create = undeclared(translate(f"CREATE TABLE {name} AS {select}", engine))
    insert = translate(f"INSERT INTO {name} {select}", engine)
    if not isinstance(create, (EngineSql, CharTableAs)) or not isinstance(insert, EngineSql) or create.parameter_names:
        raise NotSupportedLocally("a materialized view whose query needs parameters")
    text = insert.text if engine == "duckdb" else insert.text.replace("%%", "%")
    view = ViewDefinition(name, "plain", "", "", "", (text,), auto)
    return CreateMaterializedView(view, create)


def _stream_view(name: str, query: exp.Query, stream: exp.Table, engine: str, translate: Translate,
                 auto: bool) -> SessionCommand:
    """The view's query over the landed records (Redshift's metadata columns plus refresh_time)."""
    schema_name = stream.db.lower()
    # The stream's name as written: topic and stream names are case sensitive (the seed sets
    # enable_case_sensitive_identifier for "ORDERTOPIC"; a folded name finds no stream and fails).
    stream_name = stream.name if stream.this.quoted else stream.name.lower()
    lone = _lone_select(query)
    reads_landing = lone is not None and _cannot_fail(lone)
    # The names the query uses: its landing table keeps the optional metadata columns among them (all for a *).
    names = None if query.find(exp.Star) else frozenset(
        identifier.name.lower() for identifier in query.find_all(exp.Identifier))
    # Which source the schema is is known when the command runs; both translations are made now.
    definitions = {}
    for source in ("kinesis", "msk"):
        landing = catalog.landing_name(source, name)
        over_topic = reads_landing and source == "msk" and engine == "duckdb"
        if over_topic:  # the warehouse's copy of the topic up to the view's positions (topic_tables.py)
            landed = topic_tables.records(landing, names)
        elif reads_landing:  # the records the view's position covers; its refresh converts nothing
            position = f"(SELECT last_seq FROM {catalog.SCHEMA}.views WHERE mv_name = {exp.Literal.string(name).sql()})"
            landed = catalog.landed_records(source, landing, f"ingest_seq <= {position}", names)
        else:
            landed = catalog.landed_records(source, landing, "ingest_seq > :shiftflow_low::BIGINT"
                                                             " AND ingest_seq <= :shiftflow_high::BIGINT", names)
        over_landed = query.copy()
        for table in over_landed.find_all(exp.Table):
            if table.db and table.name == stream.name:
                alias = table.alias or stream.name.lower()
                table.replace(exp.Subquery(this=exp.maybe_parse(landed, dialect="redshift"),
                                           alias=exp.TableAlias(this=exp.to_identifier(alias))))
        if over_topic:
            _read_precomputed(over_landed)
        select = over_landed.sql(dialect="redshift")
        if reads_landing:
            view_select = translate(select, engine)
            if not isinstance(view_select, EngineSql) or view_select.parameter_names:
                raise NotSupportedLocally("this materialized view's query")
            view = ViewDefinition(name, topic_tables.KIND if over_topic else "stream_view", schema_name,
                                  stream_name, landing, () if over_topic else step_texts(source, landing, (), engine),
                                  auto)
            definitions[source] = CreateMaterializedView(view, f"CREATE VIEW {name} AS {view_select.text}", source,
                                                         names)
            continue
        create = _view_table(translate(f"CREATE TABLE {name} AS {select}", engine))
        insert = translate(f"INSERT INTO {name} {select}", engine)
        if not isinstance(create, EngineSql) or not isinstance(insert, EngineSql):
            raise NotSupportedLocally("this materialized view's query")
        checked = _checked_insert(name, over_landed, source, engine, translate) if engine == "duckdb" else None
        view = ViewDefinition(name, "stream", schema_name, stream_name, landing,
                              step_texts(source, landing, checked or (insert.text,), engine), auto)
        definitions[source] = CreateMaterializedView(view, create.text, source, names)
    return _StreamViewBySource(definitions["kinesis"], definitions["msk"])


_ROWS = catalog.REFRESH_ROWS


def _read_precomputed(query: exp.Expression) -> None:
    """A topic view's CAN_JSON_PARSE(kafka_value) reads the answer computed when the record arrived, and its guarded
    JSON_PARSE(kafka_value) the value's text (topic_tables.py: the same answers, without decoding each record)."""
    for call in list(query.find_all(exp.Anonymous)):
        argument = call.expressions[0] if len(call.expressions) == 1 else None
        if not isinstance(argument, exp.Column) or argument.name.lower() != "kafka_value":
            continue
        if call.name.lower() == "shiftflow_can_json_parse":
            call.replace(exp.column(topic_tables.VALUE_PARSES, table=argument.table or None))
        elif call.name.lower() == "json_parse":
            argument.set("this", exp.to_identifier(topic_tables.VALUE_TEXT))


def _lone_select(query: exp.Expression) -> exp.Select | None:
    """The view's query when it is SELECT expressions FROM the stream [WHERE ...] and nothing else."""
    if not isinstance(query, exp.Select) or any(query.args.get(key) for key in (
            "joins", "group", "having", "qualify", "distinct", "limit", "order", "laterals", "with", "windows")):
        return None
    if any(isinstance(node, (exp.AggFunc, exp.Window, exp.Star, exp.Subquery, exp.Lateral, exp.Unnest))
           for projection in query.expressions for node in projection.walk()):
        return None
    return query


def _cannot_fail(select: exp.Select) -> bool:
    """The guide's pattern, SELECT metadata columns, JSON_PARSE(v) ... WHERE CAN_JSON_PARSE(v) [AND ...], or
    CASE WHEN CAN_JSON_PARSE(v) THEN JSON_PARSE(v) END in the select: no record can fail it, and its refresh is one
    plain insert (no TRY rows table)."""
    where = select.args.get("where")
    guarded = set()
    if where is not None:
        for condition in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
            column = _can_json_parse_of(condition)
            if column is not None:
                guarded.add(column)
    for projection in select.expressions:
        value = projection.this if isinstance(projection, exp.Alias) else projection
        if isinstance(value, exp.Column):
            continue
        if not (_json_parse_of(value, guarded) or _guarded_json_parse(value)):
            return False
    return where is None or all(
        isinstance(node, (exp.Column, exp.Identifier, exp.And, exp.Anonymous, exp.Where))
        and (not isinstance(node, exp.Anonymous) or node.name.lower() == "shiftflow_can_json_parse")
        for node in where.walk())


def _can_json_parse_of(node: exp.Expression) -> str | None:
    """The column of CAN_JSON_PARSE(column), else None."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "shiftflow_can_json_parse" and \
            len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Column):
        return node.expressions[0].name.lower()
    return None


def _json_parse_of(node: exp.Expression, columns: set[str]) -> bool:
    """JSON_PARSE(column) of one of `columns`."""
    return (isinstance(node, exp.Anonymous) and node.name.lower() == "json_parse" and len(node.expressions) == 1
            and isinstance(node.expressions[0], exp.Column) and node.expressions[0].name.lower() in columns)


def _guarded_json_parse(node: exp.Expression) -> bool:
    """CASE WHEN CAN_JSON_PARSE(c) THEN JSON_PARSE(c) END (the seed's and this project's view): it cannot fail."""
    if not isinstance(node, exp.Case) or node.args.get("this") is not None or len(node.args.get("ifs") or []) != 1:
        return False
    default = node.args.get("default")
    if default is not None and not isinstance(default, exp.Null):
        return False
    condition = node.args["ifs"][0]
    column = _can_json_parse_of(condition.this)
    return column is not None and _json_parse_of(condition.args["true"], {column})


def _volatile_macros() -> set[str]:
    """The DuckDB helper macros that call a volatile function (error(), getvariable(), ...), which DuckDB's TRY
    refuses, directly or through another helper."""
    import re

    from shiftflow.dataapi.translate.setup import DUCKDB_SESSION_SETUP

    bodies = {match.group(1).lower(): text.lower() for text in DUCKDB_SESSION_SETUP
              if (match := re.match(r"CREATE OR REPLACE TEMP MACRO (\w+)", text))}
    volatile = {"error", "getvariable", "random", "now", "current_timestamp", "gen_random_uuid", "nextval", "uuid"}
    while True:
        more = {name for name, body in bodies.items() if name not in volatile
                and any(re.search(rf"\b{callee}\b", body) for callee in volatile)}
        if not more:
            return volatile
        volatile |= more


def _checked_insert(name: str, query: exp.Query, source: str, engine: str,
                    translate: Translate) -> tuple[str, ...] | None:
    """DuckDB: the view's insert that skips the records its expressions cannot convert and logs them in
    sys_stream_scan_errors (as Redshift's refresh does), in three statements: each landed record's WHERE and row
    under DuckDB's TRY (an error makes NULL, where a failing statement would abort the transaction) into
    shiftflow_refresh_rows, the rows that converted into the view, the others into sys_stream_scan_errors.
    None when the query is not a lone SELECT ... FROM the stream [WHERE] or calls something volatile (TRY refuses
    it): such a view's refresh fails on a record it cannot convert."""
    select = _lone_select(query)
    if select is None:
        return None
    stream_columns = catalog.STREAM_COLUMNS[source]
    alias = select.args["from_"].this.alias_or_name
    outputs = [exp.alias_(projection.copy(), f"shiftflow_c{number}", quoted=False)
               for number, projection in enumerate(select.expressions)]
    where = select.args.get("where")
    keep = where.this.copy() if where is not None else exp.true()
    landed = select.args["from_"].this.copy()
    if not isinstance(landed, exp.Subquery) or not isinstance(landed.this, exp.Select):
        return None
    landed.this.select("ingest_seq", copy=False)  # where each row comes from (the records' order)
    probe = exp.Select(expressions=[*outputs, exp.alias_(keep, "shiftflow_keep")]).from_(landed)
    translated = translate(probe.sql(dialect="redshift"), engine)
    if not isinstance(translated, EngineSql) or set(translated.parameter_names) != {"shiftflow_low",
                                                                                      "shiftflow_high"}:
        return None
    parsed = sqlglot.parse_one(translated.text, dialect="duckdb")
    if not isinstance(parsed, exp.Select):
        return None
    volatile = _volatile_macros()
    columns = {projection.alias: projection.this for projection in parsed.expressions}
    if any(isinstance(node, exp.Func) and (node.sql_name().lower() in volatile or (
            isinstance(node, exp.Anonymous) and node.name.lower() in volatile)) or isinstance(
            node, (exp.CurrentTimestamp, exp.Rand))
           for value in columns.values() for node in value.walk()):
        return None
    row = ", ".join(f"c{number} := {columns[f'shiftflow_c{number}'].sql(dialect='duckdb')}"
                    for number in range(len(outputs)))
    source_sql = parsed.args["from_"].this.sql(dialect="duckdb")
    inner = (f"SELECT *, TRY(struct_pack(k := {columns['shiftflow_keep'].sql(dialect='duckdb')})) AS shiftflow_w"
             f" FROM {source_sql}")
    rows = (f"CREATE OR REPLACE TEMP TABLE {_ROWS} AS SELECT {stream_columns.partition} AS shiftflow_partition,"
            f" {stream_columns.position} AS shiftflow_position,"
            f" {stream_columns.timestamp_type} AS shiftflow_timestamp_type,"
            f" {stream_columns.timestamp} AS shiftflow_timestamp, shiftflow_w,"
            f" CASE WHEN shiftflow_w.k THEN TRY(struct_pack({row})) END AS shiftflow_r"
            f" FROM ({inner}) AS {exp.to_identifier(alias).sql(dialect='duckdb')}")
    insert = (f"INSERT INTO {name} SELECT " + ", ".join(f"shiftflow_r.c{number}" for number in range(len(outputs)))
              + f" FROM {_ROWS} WHERE shiftflow_r IS NOT NULL")
    errors = (f"INSERT INTO {catalog.SCHEMA}.sys_stream_scan_errors ({catalog.SCAN_ERROR_COLUMNS})"
              " SELECT v.schema_name, v.stream_name, $mv, txid_current(), txid_current(), shiftflow_timestamp_type,"
              " shiftflow_timestamp, localtimestamp, CAST(shiftflow_partition AS VARCHAR),"
              " CAST(shiftflow_position AS VARCHAR),"
              f" {catalog.CONVERSION_ERROR}, {exp.Literal.string(catalog.CONVERSION_REASON).sql(dialect='duckdb')}"
              f" FROM {_ROWS},"
              f" (SELECT schema_name, stream_name FROM {catalog.SCHEMA}.views WHERE mv_name = $mv) v"
              " WHERE shiftflow_w IS NULL OR (shiftflow_w.k AND shiftflow_r IS NULL)")
    return rows, insert, errors, f"DROP TABLE {_ROWS}"


class _StreamViewBySource(SessionCommand):
    """CREATE MATERIALIZED VIEW over an external schema: the Kinesis or MSK form, as the schema is."""

    def __init__(self, kinesis: CreateMaterializedView, msk: CreateMaterializedView) -> None:
        self.kinesis, self.msk = kinesis, msk

    def run(self, session, parameters, in_transaction):  # type: ignore[no-untyped-def]
        from shiftflow.dataapi.streams.refresh import _external_source

        source = _external_source(session, self.kinesis.view.schema_name)
        command = self.kinesis if source == "kinesis" else self.msk
        stream = command.view.stream_name
        if stream != stream.lower() and not _case_sensitive(session):
            command = _with_stream(command, stream.lower())  # "ORDERTOPIC" folds to ordertopic
        return command.run(session, parameters, in_transaction)


def _case_sensitive(session) -> bool:  # type: ignore[no-untyped-def]
    setting = (f"getvariable('shiftflow_setting_{CASE_SETTING}')" if session.engine == "duckdb"
               else f"current_setting('shiftflow.{CASE_SETTING}', true)")
    row = session.execute(f"SELECT {setting}", {}).rows[0]
    return str(row[0]).strip() == "on"


_QUOTED_MIXED_CASE = re.compile(r'"[^"]*[A-Z][^"]*"')


def case_sensitive_identifiers(session: EngineSession, statement: str) -> bool:
    """Whether the statement is to be translated with enable_case_sensitive_identifier on: only a statement with a
    quoted name holding a capital letter can differ, and only for those is the session's setting read."""
    return bool(_QUOTED_MIXED_CASE.search(statement)) and _case_sensitive(session)


def _with_stream(command: CreateMaterializedView, stream: str) -> CreateMaterializedView:
    return replace(command, view=replace(command.view, stream_name=stream))


def stream_system_tables(tree: exp.Expression) -> exp.Expression:
    """sys_mv_refresh_history & co. read from where the emulator keeps them (before system.py, which refuses the
    system tables it does not emulate and leaves schema-qualified ones alone)."""
    for table in tree.find_all(exp.Table):
        name = table.name.lower()
        if not table.db and name in catalog.SYSTEM_TABLES:
            table.set("db", exp.to_identifier(catalog.SCHEMA))
            if name in catalog.STORED_AS:
                if not table.alias:  # sys_mv_refresh_history.status still names its column
                    table.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
                table.set("this", exp.to_identifier(catalog.STORED_AS[name]))
    return tree


def _view_table(create: object) -> object:
    """The CREATE TABLE AS of a materialized view's table. The view's rows are written by its refresh steps, not by
    a CREATE's fill: of a CharTableAs (a query that may hold CHAR values) only the plain CREATE is kept, and a CAST
    to CHAR(n) in the view's query is refused, as the view's table would not keep its width. A view keeps no table
    declarations (declarations.py): only the CREATE is kept."""
    create = undeclared(create)
    if not isinstance(create, CharTableAs):
        return create
    if create.casts_to_char():
        raise NotSupportedLocally("a CAST to CHAR(n) in a materialized view's query on the DuckDB engine")
    return create.sql
