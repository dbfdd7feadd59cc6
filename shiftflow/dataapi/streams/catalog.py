"""Where the emulator keeps streaming ingestion's state, in the warehouse itself (schema shiftflow_stream), so that a
refresh moves its positions in the same transaction as the rows it lands: a refresh that fails or is killed leaves
both as they were.

- external_schemas: CREATE EXTERNAL SCHEMA ... FROM KINESIS | MSK;
- views: materialized views, the SQL their refresh runs and their position (last_seq: the last landed record they
  show). Kinds: 'stream_view', a view whose expressions cannot fail on a record (the guide's JSON_PARSE guarded by
  CAN_JSON_PARSE, metadata columns): a SQL view over its landing table up to its position, the records stored once;
  'topic_view', the same over an MSK topic on DuckDB, whose records are copied into the warehouse as they are put
  and read from there (topic_tables.py); 'stream', any other view over a stream: a table of the rows its refresh
  converted; 'plain', a view over tables;
- landing tables l_<hash>: one per streaming view (each reads the stream on its own, as on Redshift), every record
  read so far with Redshift's metadata columns, an ingest_seq in reading order and the refresh_time of the refresh
  that read it; pull_state: per landing table and shard or partition, where the next read starts;
- sys_mv_refresh_history (kept as mv_refresh_history: an earlier layout of the same name may be left in a warehouse),
  sys_stream_scan_states, sys_stream_scan_errors: what Redshift's system views show, their documented columns in
  their documented order.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shiftflow.dataapi.engines.base import EngineError, EngineSession, QueryResult

SCHEMA = "shiftflow_stream"
# The system views streaming ingestion answers, by the name Redshift gives them.
SYSTEM_TABLES = ("sys_mv_refresh_history", "sys_stream_scan_states", "sys_stream_scan_errors")
# Where each is kept in SCHEMA, when not under its own name.
STORED_AS = {"sys_mv_refresh_history": "mv_refresh_history"}
REFRESH_HISTORY = STORED_AS["sys_mv_refresh_history"]
# SYS_MV_REFRESH_HISTORY.md's columns, in its order (a refresh's row: refresh.py).
REFRESH_HISTORY_COLUMNS = ("user_id, session_id, transaction_id, database_name, schema_name, mv_id, mv_name,"
                           " refresh_type, status, start_time, end_time, duration")
MAX_RECORD_BYTES = 1_024_000  # a record larger than the VARBYTE column (VARBYTE(1024000)) is skipped and logged
# sys_stream_scan_errors' error_code of a record too large for its column, and of one the view's expressions
# cannot convert (Redshift documents no code values: these are the emulator's own).
SIZE_ERROR, CONVERSION_ERROR = 1, 2
CONVERSION_REASON = "The materialized view's expressions could not convert the record"
REFRESH_ROWS = "shiftflow_refresh_rows"  # DuckDB: a refresh's converted records (TEMP, dropped by the refresh)

_TABLES = (
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.external_schemas (schema_name VARCHAR PRIMARY KEY, source VARCHAR,"
    " iam_role VARCHAR, authentication VARCHAR, cluster_arn VARCHAR)",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.views (mv_name VARCHAR PRIMARY KEY, kind VARCHAR, schema_name VARCHAR,"
    " stream_name VARCHAR, landing VARCHAR, refresh_sql VARCHAR, parameter_names VARCHAR, last_seq BIGINT,"
    " auto_refresh BOOLEAN)",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.pull_state (landing VARCHAR, shard VARCHAR, position VARCHAR,"
    " byte_position BIGINT, PRIMARY KEY (landing, shard))",
    # Topic views on DuckDB (topic_tables.py): how far each topic table holds its topic, and the batches each
    # view's refreshes read (its positions, and its records' refresh_time).
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.topic_ingest (topic VARCHAR, topic_id VARCHAR, partition_id BIGINT,"
    " last_offset BIGINT, byte_position BIGINT)",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.topic_batches (landing VARCHAR, topic VARCHAR, topic_id VARCHAR,"
    " shard VARCHAR, first_offset BIGINT, last_offset BIGINT, refresh_time TIMESTAMP)",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{REFRESH_HISTORY} (user_id INTEGER, session_id INTEGER,"
    " transaction_id BIGINT, database_name VARCHAR, schema_name VARCHAR, mv_id BIGINT, mv_name VARCHAR,"
    " refresh_type VARCHAR, status VARCHAR, start_time TIMESTAMP, end_time TIMESTAMP, duration BIGINT)",
    # r_SYS_STREAM_SCAN_STATES's columns, in its order.
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.sys_stream_scan_states (external_schema_name VARCHAR, stream_name VARCHAR,"
    " mv_name VARCHAR, transaction_id BIGINT, query_id BIGINT, record_time TIMESTAMP, partition_id VARCHAR,"
    " latest_position VARCHAR, scanned_rows BIGINT, skipped_rows BIGINT, scanned_bytes BIGINT,"
    " stream_record_time_min TIMESTAMP, stream_record_time_max TIMESTAMP)",
    # r_SYS_STREAM_SCAN_ERRORS.md's columns, in its order.
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.sys_stream_scan_errors (external_schema_name VARCHAR, stream_name VARCHAR,"
    " mv_name VARCHAR, transaction_id BIGINT, query_id BIGINT, stream_timestamp_type CHAR(1),"
    " stream_timestamp TIMESTAMP, record_time TIMESTAMP, partition_id VARCHAR, \"position\" VARCHAR,"
    " error_code INTEGER, error_reason VARCHAR)",
)
DUCKDB_SETUP = (f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}", *_TABLES)
# Every user's CALL reads which streams feed a procedure's views (refresh.CallWithStreams).
POSTGRES_SETUP = (f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}", *_TABLES, f"GRANT USAGE ON SCHEMA {SCHEMA} TO PUBLIC",
                  f"GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO PUBLIC")

_PLACEHOLDER = re.compile(r"(?<!:):([a-z_]+)")


def engine_sql(text: str, engine: str) -> str:
    """Our own catalog SQL, written with :name placeholders, in the engine's placeholder style."""
    if engine == "duckdb":
        return _PLACEHOLDER.sub(r"$\1", text)
    return _PLACEHOLDER.sub(r"%(\1)s", text.replace("%", "%%"))


def run(session: EngineSession, text: str, **parameters: Any) -> QueryResult:
    names = set(_PLACEHOLDER.findall(text))
    values = {name: None if parameters[name] is None else str(parameters[name]) for name in names}
    return session.execute(engine_sql(text, session.engine), values)


def one(session: EngineSession, text: str, **parameters: Any) -> Any:
    rows = run(session, text, **parameters).rows
    return rows[0] if rows else None


def in_transaction(session: EngineSession, in_transaction: bool, work) -> QueryResult:  # type: ignore[no-untyped-def]
    """Run work() in the caller's transaction, else in one of its own."""
    if in_transaction:
        return work()
    session.begin()
    try:
        result = work()
    except BaseException:
        try:
            session.rollback()
        except EngineError:
            pass
        raise
    session.commit()
    return result


def landing_name(source: str, view: str) -> str:
    """The landing table of a streaming view over a Kinesis stream or an MSK topic."""
    return f"l_{source}_{zlib.crc32(view.encode()):08x}"


@dataclass(frozen=True)
class StreamColumns:
    """The metadata columns of a source that say where a record is and when it arrived."""

    partition: str
    position: str
    timestamp_type: str  # an expression: Kinesis records have none
    timestamp: str


STREAM_COLUMNS = {
    "kinesis": StreamColumns("shard_id", "sequence_number", "CAST(NULL AS CHAR(1))", "approximate_arrival_timestamp"),
    "msk": StreamColumns("kafka_partition", "kafka_offset", "kafka_timestamp_type", "kafka_timestamp"),
}
# What a refresh writes into sys_stream_scan_errors, in this order: the view's schema and stream, the view, the
# transaction (also the query id), stream_timestamp_type, stream_timestamp, record_time, partition_id, position,
# error_code, error_reason.
SCAN_ERROR_COLUMNS = ("external_schema_name, stream_name, mv_name, transaction_id, query_id, stream_timestamp_type,"
                      " stream_timestamp, record_time, partition_id, \"position\", error_code, error_reason")


def landed_records(source: str, landing: str, where: str, names: frozenset[str] | None) -> str:
    """The records of a landing table a view's query reads (the metadata columns it keeps, landed_columns, and
    refresh_time), those within the VARBYTE size and `where`, in Redshift SQL."""
    columns = ", ".join(landed_columns(source, "duckdb", names))
    return (f"SELECT {columns}, refresh_time FROM {SCHEMA}.{landing} WHERE {where}"
            f" AND record_bytes <= {MAX_RECORD_BYTES}")


def landing_columns(source: str, engine: str) -> Mapping[str, str]:
    """Redshift's metadata columns of a stream, as the engine stores them (VARBYTE: BLOB / BYTEA; SUPER: JSON)."""
    varbyte, super_ = ("BLOB", "JSON") if engine == "duckdb" else ("BYTEA", "JSON")
    if source == "kinesis":
        return {"approximate_arrival_timestamp": "TIMESTAMP", "partition_key": "VARCHAR(256)",
                "shard_id": "CHAR(20)", "sequence_number": "VARCHAR(128)", "kinesis_data": varbyte}
    return {"kafka_partition": "BIGINT", "kafka_offset": "BIGINT", "kafka_timestamp_type": "CHAR(1)",
            "kafka_timestamp": "TIMESTAMP", "kafka_key": varbyte, "kafka_value": varbyte, "kafka_headers": super_}


# Kept only for a view whose query names them (a record's key and headers): writing them costs about a third of
# landing a million small records, and the views of the guide and the seed read neither.
OPTIONAL_COLUMNS = frozenset({"kafka_key", "kafka_headers"})


def landed_columns(source: str, engine: str, names: frozenset[str] | None) -> dict[str, str]:
    """The metadata columns a view's landing table keeps: those but the optional ones its query does not name
    (`names`: the lower-case names in the query; None, as for a query with *: all)."""
    return {column: kind for column, kind in landing_columns(source, engine).items()
            if names is None or column not in OPTIONAL_COLUMNS or column in names}


# DuckDB: the record's bytes are stored as they are. Its dictionary + FSST compression of a million distinct
# values costs three times the rest of the landing (a refresh writes every record once; the file is larger).
_UNCOMPRESSED = {"kafka_key", "kafka_value", "kinesis_data", "partition_key"}


def create_landing(session: EngineSession, source: str, view: str, names: frozenset[str] | None) -> str:
    name = landing_name(source, view)
    columns = ", ".join(
        f"{column} {kind}" + (" USING COMPRESSION uncompressed" if session.engine == "duckdb" and column in
                              _UNCOMPRESSED else "")
        for column, kind in landed_columns(source, session.engine, names).items())
    session.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{name} (ingest_seq BIGINT, {columns},"
                    " record_bytes BIGINT, refresh_time TIMESTAMP)", {})
    return name
