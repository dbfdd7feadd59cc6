"""Materialized views: streaming ones (over a KINESIS or MSK external schema) and plain ones (over tables).

A refresh of a streaming view lands the stream's new records in the view's landing table (sources.pull), then moves
the view's position (last_seq) to the last of them: every record exactly once, whichever refreshes and producers run
at the same time, because the records and both positions commit in one transaction. A view whose expressions cannot
fail on a record (kind 'stream_view', catalog.py) is a SQL view over its landing table up to its position: the
refresh stores each record once and converts nothing; on DuckDB, such a view over an MSK topic (kind 'topic_view')
reads the warehouse's copy of the topic, made as records are put, and its refresh moves positions only
(topic_tables.py). Any other streaming view (kind 'stream') is a table into
which the refresh inserts the view's rows of the new records; a record its expressions cannot convert (invalid JSON
for JSON_PARSE, text for an integer cast) is skipped and logged in sys_stream_scan_errors, and the rest of the batch
loads (PostgreSQL: insert_converting halves the failing range; DuckDB: the view's rows under TRY, streaming.py).
A record larger than its VARBYTE column is skipped and logged by both kinds.
The refresh steps are SQL generated at CREATE time and kept in the views catalog: DuckDB runs them from here,
PostgreSQL from shiftflow_stream.refresh_view(), which procedure bodies call too (REFRESH inside CALL).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from shiftflow.dataapi.engines.base import EngineError, EngineSession, QueryResult
from shiftflow.dataapi.engines.messages import redshift_words
from shiftflow.dataapi.streams import catalog, sources, topic_tables
from shiftflow.dataapi.streams.catalog import (
    CONVERSION_ERROR,
    MAX_RECORD_BYTES,
    REFRESH_ROWS,
    SCAN_ERROR_COLUMNS,
    REFRESH_HISTORY,
    REFRESH_HISTORY_COLUMNS,
    SCHEMA,
    SIZE_ERROR,
    STREAM_COLUMNS,
)
from shiftflow.dataapi.translate.model import EngineSql, NotSupportedLocally, SessionCommand
from shiftflow.dataapi.translate.system import PARAMETER_PREFIX

INCREMENTAL = "Refresh successfully updated MV incrementally"
NO_NEW_DATA = "Stream returned no new data"
SKIPPED = "Some stream records were skipped"
RECOMPUTED = "Refresh successfully recomputed MV from scratch"
_DUCKDB_REFRESHES = threading.Lock()
STREAM_KINDS = ("stream", "stream_view", topic_tables.KIND)


def _steps(source: str, landing: str) -> list[str]:
    """What a streaming refresh runs after the view's insert (a 'stream' view's), with :low, :high and :mv bound."""
    columns = STREAM_COLUMNS[source]
    partition, position = columns.partition, columns.position
    where = f"ingest_seq > :low AND ingest_seq <= :high"
    view = f"(SELECT schema_name, stream_name FROM {SCHEMA}.views WHERE mv_name = :mv)"
    # The last record read: Kafka offsets are numbers; Kinesis sequence numbers are decimal strings of any length.
    last = (f"CAST(max(l.{position}) AS VARCHAR)" if source == "msk"
            else f"ltrim(max(lpad(l.{position}, 128, '0')), '0')")
    return [
        f"INSERT INTO {SCHEMA}.sys_stream_scan_errors ({SCAN_ERROR_COLUMNS}) SELECT v.schema_name, v.stream_name,"
        f" :mv, txid_current(), txid_current(), {columns.timestamp_type}, l.{columns.timestamp}, localtimestamp,"
        f" CAST(l.{partition} AS VARCHAR), CAST(l.{position} AS VARCHAR), {SIZE_ERROR},"
        f" 'Record size ' || CAST(l.record_bytes AS VARCHAR) || ' bytes exceeds the column''s maximum of"
        f" {MAX_RECORD_BYTES} bytes' FROM {SCHEMA}.{landing} l, {view} v WHERE {where}"
        f" AND l.record_bytes > {MAX_RECORD_BYTES}",
        # skipped: the records of this refresh logged in sys_stream_scan_errors (too large, or not converted)
        f"INSERT INTO {SCHEMA}.sys_stream_scan_states SELECT v.schema_name, v.stream_name, :mv, txid_current(),"
        f" txid_current(), localtimestamp, CAST(l.{partition} AS VARCHAR), {last}, count(*),"
        f" (SELECT count(*) FROM {SCHEMA}.sys_stream_scan_errors e WHERE e.mv_name = :mv"
        f" AND e.query_id = txid_current() AND e.partition_id = CAST(l.{partition} AS VARCHAR)),"
        f" sum(l.record_bytes), min(l.{columns.timestamp}), max(l.{columns.timestamp})"
        f" FROM {SCHEMA}.{landing} l, {view} v WHERE {where}"
        f" GROUP BY v.schema_name, v.stream_name, l.{partition}",
        f"UPDATE {SCHEMA}.views SET last_seq = :high WHERE mv_name = :mv",
    ]


def _positional(text: str) -> str:
    """A step for plpgsql's EXECUTE ... USING low, high, mv."""
    return (catalog.engine_sql(text, "postgres").replace("%(low)s", "$1").replace("%(high)s", "$2")
            .replace("%(mv)s", "$3").replace("%(shiftflow_low)s", "$1").replace("%(shiftflow_high)s", "$2")
            .replace("%%", "%"))


_MSK, _KINESIS = STREAM_COLUMNS["msk"], STREAM_COLUMNS["kinesis"]
# sys_mv_refresh_history's schema_name and mv_name of a view named `name` ([schema.]name, as CREATE stored it).
_HISTORY_SCHEMA = "CASE WHEN strpos({name}, '.') > 0 THEN split_part({name}, '.', 1) ELSE 'public' END"
_HISTORY_NAME = "CASE WHEN strpos({name}, '.') > 0 THEN split_part({name}, '.', 2) ELSE {name} END"
# The refreshing Data API session's process id (pg_backend_pid(), RedshiftPid), bound by the service.
_PID = PARAMETER_PREFIX + "pg_backend_pid"
POSTGRES_SETUP = (
    # The view's insert over the landed records (low, high]; a record its expressions cannot convert is skipped
    # and logged with the error's message: on an error the range is halved until the record is alone.
    f"""CREATE OR REPLACE FUNCTION {SCHEMA}.insert_converting(step text, v {SCHEMA}.views, low bigint, high bigint)
RETURNS void LANGUAGE plpgsql AS $f$
DECLARE middle bigint := low + (high - low) / 2; msk boolean := v.landing LIKE 'l_msk_%';
BEGIN
  BEGIN
    EXECUTE step USING low, high, v.mv_name;
    RETURN;
  EXCEPTION WHEN others THEN
    IF high - low > 1 THEN
      NULL;
    ELSE
      EXECUTE format('INSERT INTO {SCHEMA}.sys_stream_scan_errors ({SCAN_ERROR_COLUMNS})'
                     ' SELECT $2, $3, $1, txid_current(), txid_current(), %s, %I, localtimestamp,'
                     ' CAST(%I AS VARCHAR), CAST(%I AS VARCHAR), {CONVERSION_ERROR}, $4 FROM {SCHEMA}.%I'
                     ' WHERE ingest_seq = $5',
                     CASE WHEN msk THEN '{_MSK.timestamp_type}'
                          ELSE '{_KINESIS.timestamp_type}' END,
                     CASE WHEN msk THEN '{_MSK.timestamp}'
                          ELSE '{_KINESIS.timestamp}' END,
                     CASE WHEN msk THEN '{_MSK.partition}'
                          ELSE '{_KINESIS.partition}' END,
                     CASE WHEN msk THEN '{_MSK.position}'
                          ELSE '{_KINESIS.position}' END, v.landing)
        USING v.mv_name, v.schema_name, v.stream_name, left(SQLERRM, 128), high;
      RETURN;
    END IF;
  END;
  PERFORM {SCHEMA}.insert_converting(step, v, low, middle);
  PERFORM {SCHEMA}.insert_converting(step, v, middle, high);
END $f$""",
    f"DROP FUNCTION IF EXISTS {SCHEMA}.refresh_view(text, text)",  # the signature before pid
    f"""CREATE OR REPLACE FUNCTION {SCHEMA}.refresh_view(name text, refresh_type text DEFAULT 'Manual',
  pid integer DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $f$
DECLARE v {SCHEMA}.views; high bigint; skipped bigint; step text; result text; started timestamp := clock_timestamp();
BEGIN
  SELECT * INTO v FROM {SCHEMA}.views WHERE mv_name = name FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION 'materialized view "%" does not exist', name; END IF;
  IF v.kind = 'plain' THEN
    EXECUTE 'DELETE FROM ' || v.mv_name;
    EXECUTE v.refresh_sql::json->>0;
    result := '{RECOMPUTED}';
  ELSE
    EXECUTE format('SELECT coalesce(max(ingest_seq), $1) FROM {SCHEMA}.%I', v.landing) INTO high
      USING v.last_seq;
    IF high <= v.last_seq THEN
      result := '{NO_NEW_DATA}';
    ELSE
      IF v.kind = 'stream' THEN  -- the view's rows; a 'stream_view' reads its landing table
        PERFORM {SCHEMA}.insert_converting(v.refresh_sql::json->>0, v, v.last_seq, high);
      END IF;
      FOR step IN SELECT value FROM json_array_elements_text(v.refresh_sql::json) WITH ORDINALITY AS e(value, n)
                  WHERE n > CASE WHEN v.kind = 'stream' THEN 1 ELSE 0 END LOOP
        EXECUTE step USING v.last_seq, high, name;
      END LOOP;
      SELECT count(*) INTO skipped FROM {SCHEMA}.sys_stream_scan_errors e
        WHERE e.mv_name = name AND e.query_id = txid_current();
      result := CASE WHEN skipped > 0 THEN '{SKIPPED}' ELSE '{INCREMENTAL}' END;
    END IF;
  END IF;
  INSERT INTO {SCHEMA}.{REFRESH_HISTORY} ({REFRESH_HISTORY_COLUMNS}) VALUES (NULL, pid, txid_current(),
    current_database(), {_HISTORY_SCHEMA.format(name="name")}, to_regclass(name)::oid::bigint,
    {_HISTORY_NAME.format(name="name")}, refresh_type, result, started, clock_timestamp(),
    CAST(extract(epoch FROM clock_timestamp() - started) * 1000000 AS BIGINT));
  RETURN result;
END $f$""",
)


@dataclass(frozen=True)
class ViewDefinition:
    """What CREATE MATERIALIZED VIEW stores: the engine SQL of the refresh (a 'stream' view's insert, then the
    steps; a 'plain' view's insert)."""

    name: str
    kind: str  # "stream_view" | "topic_view" | "stream" | "plain" (catalog.py)
    schema_name: str
    stream_name: str
    landing: str
    refresh_sql: tuple[str, ...]
    auto_refresh: bool = False


def _view(session: EngineSession, name: str) -> tuple[str, str, str, str, str, int] | None:
    return catalog.one(session, f"SELECT kind, schema_name, stream_name, landing, refresh_sql, last_seq"
                                f" FROM {SCHEMA}.views WHERE mv_name = :mv", mv=name)


def _external_source(session: EngineSession, schema: str) -> str:
    row = catalog.one(session, f"SELECT source FROM {SCHEMA}.external_schemas WHERE schema_name = :schema",
                      schema=schema)
    if row is None:
        raise EngineError(f'schema "{schema}" does not exist')
    return str(row[0])


@dataclass(frozen=True)
class CreateExternalSchema(SessionCommand):
    name: str
    source: str  # "kinesis" | "msk"
    iam_role: str
    authentication: str = ""
    cluster_arn: str = ""
    if_not_exists: bool = False

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        def work() -> QueryResult:
            if catalog.one(session, f"SELECT 1 FROM {SCHEMA}.external_schemas WHERE schema_name = :schema",
                           schema=self.name) is not None:
                if self.if_not_exists:
                    return QueryResult(rowcount=0)
                raise EngineError(f'Schema "{self.name}" already exists')
            catalog.run(session, f"INSERT INTO {SCHEMA}.external_schemas VALUES (:schema, :source, :role, :auth,"
                                 " :arn)", schema=self.name, source=self.source, role=self.iam_role,
                        auth=self.authentication, arn=self.cluster_arn)
            return QueryResult(rowcount=0)

        return catalog.in_transaction(session, in_transaction, work)


@dataclass(frozen=True)
class CreateMaterializedView(SessionCommand):
    """`create` is the engine SQL that makes the (empty, for a stream) table; `view` what the catalog keeps;
    `names`: the names in a streaming view's query (which optional columns its landing table keeps)."""

    view: ViewDefinition
    create: str | EngineSql | SessionCommand  # a plain view's: run as its CREATE TABLE AS statement would be
    source: str = ""
    names: frozenset[str] | None = None

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        view = self.view

        def work() -> QueryResult:
            if _view(session, view.name) is not None:
                raise EngineError(redshift_words(f'relation "{view.name}" already exists'))
            if view.auto_refresh and not sources.current().auto_refresh:
                raise NotSupportedLocally("AUTO REFRESH YES outside the local runtime, which refreshes such views "
                                          "(here, refresh with REFRESH MATERIALIZED VIEW)")
            if view.kind == "stream":
                _external_source(session, view.schema_name)
                catalog.create_landing(session, self.source, view.name, self.names)
                _run_create(session, self.create, {"shiftflow_low": "0", "shiftflow_high": "0"})
            elif view.kind == topic_tables.KIND:
                _external_source(session, view.schema_name)
                topic_tables.create_records(session, view.landing)
                _run_create(session, self.create, {})
                ingester = topic_tables.ingester(session)
                if ingester is not None:  # its records start reaching the warehouse now
                    ingester.follow(view.stream_name)
            elif view.kind == "stream_view":
                _external_source(session, view.schema_name)
                catalog.create_landing(session, self.source, view.name, self.names)
                _run_create(session, self.create, {})
            else:
                _run_create(session, self.create, {})
            catalog.run(session, f"INSERT INTO {SCHEMA}.views VALUES (:mv, :kind, :schema, :stream, :landing,"
                                 " :sql, '', 0, :auto)", mv=view.name, kind=view.kind, schema=view.schema_name,
                        stream=view.stream_name, landing=view.landing, sql=json.dumps(list(view.refresh_sql)),
                        auto=str(view.auto_refresh).lower())
            return QueryResult(rowcount=0)

        return catalog.in_transaction(session, in_transaction, work)


def _run_create(session: EngineSession, create: str | EngineSql | SessionCommand, parameters: Mapping[str, str]) -> None:
    if isinstance(create, SessionCommand):
        create.run(session, parameters, True)
    elif isinstance(create, EngineSql):
        create.execute(session, parameters)
    else:
        session.execute(create, parameters)


@dataclass(frozen=True)
class RefreshMaterializedView(SessionCommand):
    name: str
    refresh_type: str = "Manual"  # "Auto": the AutoRefresher's, which is no Data API session (no process id)
    parameter_names: tuple[str, ...] = (_PID,)
    optional_parameter_names: tuple[str, ...] = (_PID,)  # inside a procedure: session_id NULL, as on PostgreSQL

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        pid = parameters.get(_PID)

        def work() -> QueryResult:
            return refresh(session, self.name, self.refresh_type, int(pid) if pid is not None else None)

        ingester = topic_tables.ingester(session)
        if ingester is not None:  # before this session reads anything: its transaction then sees the copy
            ingester.catch_up_view(self.name)
        if session.engine == "duckdb" and not in_transaction:
            # DuckDB fails the later of two writers of the same rows (a write-write conflict) where Redshift
            # makes it wait: refreshes of one process take turns (PostgreSQL's refresh locks the landing table).
            with _DUCKDB_REFRESHES:
                return catalog.in_transaction(session, in_transaction, work)
        return catalog.in_transaction(session, in_transaction, work)


def refresh(session: EngineSession, name: str, refresh_type: str = "Manual", pid: int | None = None) -> QueryResult:
    """REFRESH MATERIALIZED VIEW in the open transaction: land the stream's new records, then apply the view; `pid`
    is the refreshing session's process id (sys_mv_refresh_history's session_id)."""
    view = _view(session, name)
    if view is None:
        raise EngineError(f'materialized view "{name}" does not exist')
    kind, schema_name, stream_name, landing = view[0], view[1], view[2], view[3]
    if kind in STREAM_KINDS and kind != topic_tables.KIND:
        sources.pull(session, sources.current(), _external_source(session, schema_name), stream_name, landing)
    if session.engine == "postgres":
        catalog.run(session, f"SELECT {SCHEMA}.refresh_view(:mv, :kind, CAST(:pid AS INTEGER))", mv=name,
                    kind=refresh_type, pid=pid)
        return QueryResult(rowcount=0)
    started = time.perf_counter()
    start_time = datetime.now(timezone.utc).replace(tzinfo=None)
    status = _refresh_duckdb(session, name, view)
    duration = int((time.perf_counter() - started) * 1_000_000)
    # the end on the wall clock (DuckDB's localtimestamp is the transaction's start)
    end_time = start_time + timedelta(microseconds=duration)
    catalog.run(session, f"INSERT INTO {SCHEMA}.{REFRESH_HISTORY} ({REFRESH_HISTORY_COLUMNS}) VALUES (NULL,"
                         " CAST(:pid AS INTEGER), txid_current(), shiftflow_current_database(),"
                         f" {_HISTORY_SCHEMA.format(name=':mv')}, shiftflow_regclass_lookup(:mv),"
                         f" {_HISTORY_NAME.format(name=':mv')}, :kind, :status, CAST(:start AS TIMESTAMP),"
                         " CAST(:end AS TIMESTAMP), CAST(:duration AS BIGINT))", mv=name, kind=refresh_type,
                status=status, pid=pid, start=start_time.isoformat(), end=end_time.isoformat(), duration=duration)
    return QueryResult(rowcount=0)


def _refresh_duckdb(session: EngineSession, name: str, view: tuple[str, str, str, str, str, int]) -> str:
    kind, schema_name, stream_name, landing, refresh_sql, last_seq = view
    steps = json.loads(refresh_sql)
    if kind == topic_tables.KIND:
        read, skipped = topic_tables.refresh(session, name, schema_name, stream_name, landing)
        return NO_NEW_DATA if not read else SKIPPED if skipped else INCREMENTAL
    if kind == "plain":
        session.execute(f"DELETE FROM {name}", {})
        session.execute(steps[0], {})
        return RECOMPUTED
    high = catalog.one(session, f"SELECT coalesce(max(ingest_seq), CAST(:low AS BIGINT)) FROM {SCHEMA}.{landing}",
                       low=last_seq)[0]
    if int(high) <= int(last_seq):
        return NO_NEW_DATA
    values = {"low": str(last_seq), "high": str(high), "mv": name,
              "shiftflow_low": str(last_seq), "shiftflow_high": str(high)}
    checked = kind == "stream_view" or REFRESH_ROWS in steps[0]
    for number, step in enumerate(steps):
        try:
            session.execute(step, {key: value for key, value in values.items() if f"${key}" in step})
        except EngineError as error:
            if number == 0 and not checked:
                raise EngineError(f"{error} (not supported locally: skipping the records this materialized view's"
                                  " expressions cannot convert, on DuckDB, for a view that is not a lone SELECT"
                                  " ... FROM the stream [WHERE ...] or that calls volatile functions)") from error
            raise
    skipped = catalog.one(session, f"SELECT count(*) FROM {SCHEMA}.sys_stream_scan_errors WHERE mv_name = :mv"
                                   " AND query_id = txid_current()", mv=name)[0]
    return SKIPPED if int(skipped) else INCREMENTAL


@dataclass(frozen=True)
class DropMaterializedView(SessionCommand):
    name: str
    if_exists: bool = False

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        def work() -> QueryResult:
            if _view(session, self.name) is None:
                if self.if_exists:
                    return QueryResult(rowcount=0)
                raise EngineError(f'materialized view "{self.name}" does not exist')
            kind, landing = _view(session, self.name)[0], _view(session, self.name)[3]
            session.execute(f"DROP {'VIEW' if kind in ('stream_view', topic_tables.KIND) else 'TABLE'} {self.name}",
                            {})
            catalog.run(session, f"DELETE FROM {SCHEMA}.views WHERE mv_name = :mv", mv=self.name)
            if kind == topic_tables.KIND:  # the topic's copy stays: it is the warehouse's, not the view's
                topic_tables.drop_records(session, landing)
            elif landing:  # what the view read goes with it (a new view of the name starts at the beginning)
                session.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{landing}", {})
                catalog.run(session, f"DELETE FROM {SCHEMA}.pull_state WHERE landing = :landing", landing=landing)
            return QueryResult(rowcount=0)

        return catalog.in_transaction(session, in_transaction, work)


@dataclass(frozen=True)
class CallWithStreams(SessionCommand):
    """CALL on PostgreSQL: the streams of the database's streaming views are landed first, so that a REFRESH in the
    procedure's body (shiftflow_stream.refresh_view) sees them (a view shows them once it is refreshed: its
    position)."""

    call: str
    parameter_names: tuple[str, ...] = ()

    def run(self, session: EngineSession, parameters: Mapping[str, str], in_transaction: bool) -> QueryResult:
        streams = catalog.run(session, f"SELECT s.source, v.stream_name, v.landing FROM {SCHEMA}.views v"
                                       f" JOIN {SCHEMA}.external_schemas s ON s.schema_name = v.schema_name"
                                       " WHERE v.kind IN ('stream', 'stream_view')").rows
        if streams:
            def land() -> QueryResult:
                for source, stream, landing in streams:
                    sources.pull(session, sources.current(), source, stream, landing)
                return QueryResult(rowcount=0)

            catalog.in_transaction(session, in_transaction, land)
        return session.execute(self.call, parameters)


def step_texts(source: str, landing: str, view_insert: tuple[str, ...], engine: str) -> tuple[str, ...]:
    """The refresh of a streaming view in the engine's form (DuckDB: $name; PostgreSQL: $1 low, $2 high, $3 mv):
    the view's insert (PostgreSQL: one statement, run by insert_converting), then the catalog's steps."""
    steps = [catalog.engine_sql(step, engine) if engine == "duckdb" else _positional(step)
             for step in _steps(source, landing)]
    insert = view_insert if engine == "duckdb" else tuple(_positional_translated(text) for text in view_insert)
    return (*insert, *steps)


def _positional_translated(text: str) -> str:
    return text.replace("%(shiftflow_low)s", "$1").replace("%(shiftflow_high)s", "$2").replace("%%", "%")
