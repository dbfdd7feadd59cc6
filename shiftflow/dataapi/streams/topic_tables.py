"""MSK topics in a DuckDB warehouse: the records are copied into the warehouse as they are put, so that REFRESH of a
view that cannot fail on a record (kind 'topic_view', chosen in translate/streaming.py) moves positions only.

- Topic tables `shiftflow_stream.k_<hash>`, one per topic and topic id (topics.py: a topic deleted and created again
  has a new id, and its own table, kept: a view may still read it): every record of the topic with Redshift's MSK columns, its text
  (`value_text`, a UTF-8 value), its bytes otherwise (`value_bytes`), its size and whether CAN_JSON_PARSE accepts
  it (`value_parses`, computed by the view's own CAN_JSON_PARSE macro when the record arrives); topic_ingest holds,
  per topic, id and partition, the last offset copied and where the partition file's next line starts, written in
  the same transaction as the records.
- The copying: TopicIngester, one per database (DuckDBSession.services), follows the topics that topic views read
  (a look at the partition files' sizes every POLL_SECONDS) and copies new lines in one bulk statement per partition
  (DuckDB reads the file: sources.topic_batches / batch_file). A REFRESH first copies what has not been copied yet
  (in the ingester's session, so that the refreshing transaction sees it when it has read nothing yet): the view
  still gets every record put before the REFRESH.
- A view's records: `shiftflow_stream.<landing>`, a DuckDB view over the topic tables up to the offsets its
  refreshes reached, re-created by each refresh in its transaction (a refresh that fails or is killed leaves it and
  the positions as they were); each record's refresh_time is that of the refresh that reached it: topic_batches keeps
  the batches, and the view finds a record's by a search over the offsets written in it (an ASOF join past
  CASE_LIMIT batches of a partition). The records of a topic deleted and created again stay in the views that read
  them, whose next refresh reads the new topic from its beginning.

Why a copy at put time rather than at refresh time: landing a million small records at REFRESH cost as much as the
typed load over them (docs/streaming.md); reading the topic files at query time instead loses DuckDB's skipping of
row groups by offset, which the scheduled load's "records past the watermark" query needs.
"""

from __future__ import annotations

import logging
import os
import threading
import zlib
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from shiftflow.dataapi.engines.base import SERVICE_FACTORIES, EngineError, EngineSession, QueryResult
from shiftflow.dataapi.streams import catalog, sources
from shiftflow.dataapi.streams.catalog import MAX_RECORD_BYTES, SCAN_ERROR_COLUMNS, SCHEMA, SIZE_ERROR

log = logging.getLogger(__name__)

KIND = "topic_view"
SERVICE = "topic_ingester"
POLL_SECONDS = 0.2
CASE_LIMIT = 256  # past this many batches in a partition, refresh_time comes from an ASOF join
# The columns a topic view's query reads besides Redshift's: the value's text, which its guarded JSON_PARSE reads
# instead of kafka_value's bytes (the same answer for a record CAN_JSON_PARSE accepts: UTF-8 text), and the
# precomputed CAN_JSON_PARSE(kafka_value) its WHERE reads (translate/streaming.py).
VALUE_TEXT, VALUE_PARSES = "shiftflow_value_text", "shiftflow_value_parses"

_COPY = (
    "INSERT INTO $table SELECT CAST($shard AS BIGINT), CAST(o AS BIGINT), make_timestamp(t * 1000), from_base64(k),"
    " s, from_base64(v), CAST(h AS JSON), coalesce(strlen(s), octet_length(from_base64(v)), 0),"
    f" shiftflow_can_json_parse({sources.DUCKDB_VALUE})"
    f" FROM read_json($path, format = 'newline_delimited', columns = {sources.DUCKDB_FIELDS}, ignore_errors = true)"
    " WHERE CAST(o AS BIGINT) <= CAST($last AS BIGINT)")
# Redshift's MSK columns of a view's records, from a topic table's.
_RECORD_COLUMNS = {"kafka_partition": "kafka_partition", "kafka_offset": "kafka_offset",
                   "kafka_timestamp_type": "CAST('C' AS VARCHAR)", "kafka_timestamp": "kafka_timestamp",
                   "kafka_key": "kafka_key", "kafka_value": "coalesce(encode(value_text), value_bytes)",
                   "kafka_headers": "kafka_headers", VALUE_TEXT: "value_text", VALUE_PARSES: "value_parses"}
_NO_RECORDS = ("SELECT CAST(NULL AS BIGINT) AS kafka_partition, CAST(NULL AS BIGINT) AS kafka_offset,"
               " CAST(NULL AS VARCHAR) AS kafka_timestamp_type, CAST(NULL AS TIMESTAMP) AS kafka_timestamp,"
               " CAST(NULL AS BLOB) AS kafka_key, CAST(NULL AS BLOB) AS kafka_value, CAST(NULL AS JSON) AS"
               f" kafka_headers, CAST(NULL AS VARCHAR) AS {VALUE_TEXT}, CAST(NULL AS BOOLEAN) AS {VALUE_PARSES},"
               " CAST(NULL AS TIMESTAMP) AS refresh_time WHERE false")


def _string(text: str) -> str:
    return exp.Literal.string(text).sql(dialect="duckdb")


def table_name(topic: str, topic_id: str) -> str:
    return f"{SCHEMA}.k_{zlib.crc32(f'{topic}/{topic_id}'.encode()):08x}"


def _create_table(session: EngineSession, table: str) -> None:
    schema, name = table.split(".")
    if catalog.one(session, "SELECT 1 FROM duckdb_tables() WHERE schema_name = :schema AND table_name = :name",
                   schema=schema, name=name) is not None:
        return  # no CREATE at each copy: a DDL statement makes every session read the catalog again
    # The record's bytes uncompressed: DuckDB's compression of a million distinct values costs more than writing them.
    session.execute(f"CREATE TABLE IF NOT EXISTS {table} (kafka_partition BIGINT, kafka_offset BIGINT,"
                    " kafka_timestamp TIMESTAMP, kafka_key BLOB USING COMPRESSION uncompressed,"
                    " value_text VARCHAR USING COMPRESSION uncompressed,"
                    " value_bytes BLOB USING COMPRESSION uncompressed, kafka_headers JSON, record_bytes BIGINT,"
                    " value_parses BOOLEAN)", {})


def copy_new_records(session: EngineSession, topic: str) -> int:
    """Copy the topic's records not yet in the warehouse, in a transaction of `session` of its own; how many."""
    store = sources.current().topics
    if not store.exists(topic):
        return 0
    topic_id = store.topic_id(topic)
    table = table_name(topic, topic_id)

    def work() -> QueryResult:
        _create_table(session, table)
        rows = catalog.run(session, f"SELECT partition_id, last_offset, byte_position FROM {SCHEMA}.topic_ingest"
                                    " WHERE topic = :topic AND topic_id = :id", topic=topic, id=topic_id).rows
        copied_to = {str(partition): (str(last), int(position)) for partition, last, position in rows}
        copied = 0
        for batch in sources.topic_batches(store, topic, copied_to):
            with sources.batch_file(batch) as path:
                copied += session.execute(_COPY.replace("$table", table), {"shard": batch.shard, "path": str(path),
                                                                           "last": batch.position}).rowcount
            catalog.run(session, f"DELETE FROM {SCHEMA}.topic_ingest WHERE topic = :topic AND topic_id = :id"
                                 " AND partition_id = CAST(:shard AS BIGINT)", topic=topic, id=topic_id,
                        shard=batch.shard)
            catalog.run(session, f"INSERT INTO {SCHEMA}.topic_ingest VALUES (:topic, :id, CAST(:shard AS BIGINT),"
                                 " CAST(:last AS BIGINT), CAST(:position AS BIGINT))", topic=topic, id=topic_id,
                        shard=batch.shard, last=batch.position, position=batch.byte_position)
        if store.exists(topic) and store.topic_id(topic) != topic_id:
            raise _CreatedAgain  # deleted and created again meanwhile: those lines may be the new topic's
        return QueryResult(rowcount=copied)

    try:
        return catalog.in_transaction(session, False, work).rowcount
    except _CreatedAgain:
        return 0


class _CreatedAgain(Exception):
    pass


class TopicIngester:
    """Copies the records of the topics it follows into the warehouse as they arrive (one session of its own)."""

    def __init__(self, open_session: Callable[[], EngineSession]) -> None:
        self._open = open_session
        self._session: EngineSession | None = None
        self._lock = threading.Lock()  # one copy at a time: the session is not shared
        self._topics: dict[str, tuple[int, ...]] = {}  # followed topics and the file sizes last copied up to
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._views_read = False

    def follow(self, topic: str) -> None:
        with self._lock:
            self._topics.setdefault(topic, ())
        self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and self._topics and not self._stopping.is_set():
                self._thread = threading.Thread(target=self._run, name="topic-ingester", daemon=True)
                self._thread.start()

    def catch_up_view(self, name: str) -> None:
        """Before a REFRESH of `name`: copy its topic's new records, when it is a topic view (looked up in the
        ingester's session: the refreshing one must read nothing before)."""
        with self._lock:
            try:
                row = catalog.one(self._opened(), f"SELECT stream_name FROM {SCHEMA}.views WHERE mv_name = :mv"
                                                  f" AND kind = '{KIND}'", mv=name)
            except EngineError as error:
                log.debug("looking up materialized view %s: %s", name, error)
                return
            if row is not None:
                self._topics.setdefault(str(row[0]), ())
                self._copy(str(row[0]))
        self._start()

    def before_transaction(self) -> None:
        """DuckDBSession.begin, before a transaction starts (BEGIN, a batch, CALL): the followed topics' new records, so that a REFRESH
        in it sees every record put before it began."""
        with self._lock:
            if not self._views_read:  # a reopened warehouse: follow the topics its views read
                self._views_read = False
                try:
                    rows = catalog.run(self._opened(), f"SELECT DISTINCT stream_name FROM {SCHEMA}.views"
                                                       f" WHERE kind = '{KIND}'").rows
                except EngineError as error:
                    log.debug("reading the topic views: %s", error)
                    rows = []
                for (topic,) in rows:
                    self._topics.setdefault(str(topic), ())
            for topic, copied_sizes in list(self._topics.items()):
                if _file_sizes(topic) != copied_sizes:
                    self._copy(topic)
        self._start()

    def _opened(self) -> EngineSession:
        if self._stopping.is_set():
            raise EngineError("the warehouse is closed")
        if self._session is None:
            self._session = self._open()
            self._session.services = {}  # type: ignore[attr-defined]  # its own BEGIN waits for no copy
        return self._session

    def _copy(self, topic: str) -> None:
        """Copy the topic's new records; a copy that fails (a topic deleted meanwhile, a file cut short) is
        retried at the next look and fails no caller: a REFRESH then reads what the copy holds."""
        sizes = _file_sizes(topic)
        try:
            copy_new_records(self._opened(), topic)
        except (EngineError, OSError, ValueError, KeyError) as error:
            log.debug("copying topic %s into the warehouse: %s", topic, error)
            return
        self._topics[topic] = sizes

    def _run(self) -> None:
        while not self._stopping.wait(POLL_SECONDS):
            with self._lock:
                for topic, copied_sizes in list(self._topics.items()):
                    if self._stopping.is_set():
                        return
                    if _file_sizes(topic) != copied_sizes:
                        self._copy(topic)

    def copied(self, topic: str) -> bool:
        """Whether the warehouse holds every record the topic's files had when it last looked."""
        with self._lock:
            return topic in self._topics and self._topics[topic] == _file_sizes(topic)

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None


def _file_sizes(topic: str) -> tuple[int, ...]:
    store = sources.current().topics
    try:
        meta = os.stat(store.partition_file(topic, 0).parent / "topic.json")
        files = sorted(store.partition_file(topic, 0).parent.glob("partition-*.jsonl"))
        return (meta.st_ino, *(os.stat(path).st_size for path in files))
    except (OSError, ValueError):
        return ()


def ingester(session: EngineSession) -> TopicIngester | None:
    """The database's ingester (each database of a DuckDB engine has one: SERVICE_FACTORIES; others None)."""
    services: dict[str, Any] = getattr(session, "services", None) or {}
    return services.get(SERVICE)  # type: ignore[no-any-return]


SERVICE_FACTORIES[SERVICE] = TopicIngester


def records(landing: str, names: frozenset[str] | None) -> str:
    """The records a view's query reads, in Redshift SQL: the metadata columns (those its query names among the
    optional ones), refresh_time and the two precomputed columns."""
    columns = ", ".join(catalog.landed_columns("msk", "duckdb", names))
    return f"SELECT {columns}, refresh_time, {VALUE_TEXT}, {VALUE_PARSES} FROM {SCHEMA}.{landing}"


def create_records(session: EngineSession, landing: str) -> None:
    """The records of a view no refresh has read: none."""
    session.execute(f"CREATE OR REPLACE VIEW {SCHEMA}.{landing} AS {_NO_RECORDS}", {})


def drop_records(session: EngineSession, landing: str) -> None:
    session.execute(f"DROP VIEW IF EXISTS {SCHEMA}.{landing}", {})
    catalog.run(session, f"DELETE FROM {SCHEMA}.topic_batches WHERE landing = :landing", landing=landing)


def refresh(session: EngineSession, name: str, schema_name: str, topic: str, landing: str) -> tuple[int, int]:
    """Move the view's positions to what the warehouse has of the topic (in the open transaction): how many records
    it read, and how many of them it skipped (larger than their VARBYTE column, logged in sys_stream_scan_errors)."""
    store = sources.current().topics
    if not store.exists(topic):
        raise EngineError(f"topic {topic} does not exist in the local MSK cluster")
    topic_id = store.topic_id(topic)
    table = table_name(topic, topic_id)
    tips = dict(catalog.run(session, f"SELECT partition_id, last_offset FROM {SCHEMA}.topic_ingest"
                                     " WHERE topic = :topic AND topic_id = :id", topic=topic, id=topic_id).rows)
    reached = dict(catalog.run(session, f"SELECT CAST(shard AS BIGINT), max(last_offset) FROM {SCHEMA}.topic_batches"
                                        " WHERE landing = :landing AND topic_id = :id GROUP BY shard",
                               landing=landing, id=topic_id).rows)
    ranges = {int(partition): (int(reached.get(partition, -1)), int(tip)) for partition, tip in tips.items()
              if int(tip) > int(reached.get(partition, -1))}
    if not ranges:
        return 0, 0
    new = " OR ".join(f"(kafka_partition = {partition} AND kafka_offset > {low} AND kafka_offset <= {high})"
                      for partition, (low, high) in sorted(ranges.items()))
    catalog.run(session, f"INSERT INTO {SCHEMA}.sys_stream_scan_errors ({SCAN_ERROR_COLUMNS}) SELECT :schema,"
                         " :stream, :mv, txid_current(), txid_current(), 'C', kafka_timestamp, localtimestamp,"
                         f" CAST(kafka_partition AS VARCHAR), CAST(kafka_offset AS VARCHAR), {SIZE_ERROR},"
                         " 'Record size ' || CAST(record_bytes AS VARCHAR) || ' bytes exceeds the column''s maximum"
                         f" of {MAX_RECORD_BYTES} bytes' FROM {table} WHERE ({new})"
                         f" AND record_bytes > {MAX_RECORD_BYTES}", schema=schema_name, stream=topic, mv=name)
    catalog.run(session, f"INSERT INTO {SCHEMA}.sys_stream_scan_states SELECT :schema, :stream, :mv,"
                         " txid_current(), txid_current(), localtimestamp, CAST(kafka_partition AS VARCHAR),"
                         " CAST(max(kafka_offset) AS VARCHAR), count(*),"
                         f" count_if(record_bytes > {MAX_RECORD_BYTES}), sum(record_bytes),"
                         f" min(kafka_timestamp), max(kafka_timestamp) FROM {table} WHERE {new}"
                         " GROUP BY kafka_partition", schema=schema_name, stream=topic, mv=name)
    counted = catalog.one(session, f"SELECT coalesce(sum(scanned_rows), 0), coalesce(sum(skipped_rows), 0) FROM"
                                   f" {SCHEMA}.sys_stream_scan_states WHERE mv_name = :mv"
                                   " AND query_id = txid_current()", mv=name)
    for partition, (low, high) in sorted(ranges.items()):
        catalog.run(session, f"INSERT INTO {SCHEMA}.topic_batches VALUES (:landing, :topic, :id, :shard,"
                             " CAST(:first AS BIGINT), CAST(:last AS BIGINT), localtimestamp)", landing=landing,
                    topic=topic, id=topic_id, shard=partition, first=low + 1, last=high)
    _recreate_records(session, landing)
    return int(counted[0]), int(counted[1])


def _search(batches: list[tuple[int, str]]) -> str:
    """refresh_time of a record by its offset among its partition's batches (first offset, time), sorted."""
    def among(low: int, high: int) -> str:
        if low == high:
            return f"TIMESTAMP {_string(batches[low][1])}"
        middle = (low + high + 1) // 2
        return (f"CASE WHEN kafka_offset < {int(batches[middle][0])} THEN {among(low, middle - 1)}"
                f" ELSE {among(middle, high)} END")

    return among(0, len(batches) - 1)


def _recreate_records(session: EngineSession, landing: str) -> None:
    rows = catalog.run(session, f"SELECT topic, topic_id, shard, first_offset, last_offset,"
                                f" CAST(refresh_time AS VARCHAR) FROM {SCHEMA}.topic_batches WHERE landing = :landing"
                                " ORDER BY topic_id, CAST(shard AS BIGINT), first_offset", landing=landing).rows
    parts: dict[tuple[str, str, int], list[tuple[int, int, str]]] = {}
    for topic, topic_id, shard, first, last, time in rows:
        parts.setdefault((str(topic), str(topic_id), int(shard)), []).append((int(first), int(last), str(time)))
    selects = []
    for (topic, topic_id, partition), batches in parts.items():
        last = max(batch[1] for batch in batches)
        if len(batches) <= CASE_LIMIT:
            refresh_time, source = _search([(first, time) for first, _, time in batches]), table_name(topic, topic_id)
        else:
            refresh_time = "batch_time"
            source = (f"{table_name(topic, topic_id)} ASOF LEFT JOIN (SELECT first_offset, refresh_time AS batch_time"
                      f" FROM {SCHEMA}.topic_batches WHERE landing = {_string(landing)} AND topic_id ="
                      f" {_string(topic_id)} AND shard = {_string(str(partition))}) AS batches"
                      " ON kafka_offset >= batches.first_offset")
        columns = ", ".join(f"{expression} AS {column}" for column, expression in _RECORD_COLUMNS.items())
        selects.append(f"SELECT {columns}, CAST({refresh_time} AS TIMESTAMP) AS refresh_time FROM {source}"
                       f" WHERE kafka_partition = {partition} AND kafka_offset <= {last}"
                       f" AND record_bytes <= {MAX_RECORD_BYTES}")
    session.execute(f"CREATE OR REPLACE VIEW {SCHEMA}.{landing} AS {' UNION ALL '.join(selects) or _NO_RECORDS}", {})
