"""COPY from s3:// and UNLOAD to s3://, run through an engine session and a boto3 S3 client (moto offline).

Rows travel as bound string parameters (never pasted into SQL) and the engine casts them to the column types,
as Redshift does with its input fields. Options that would change results and are not implemented raise
NotSupportedLocally; options about credentials, region and cluster tuning are accepted and ignored.
"""

from __future__ import annotations

import bz2
import csv
import datetime as dt
import gzip
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from shiftflow.dataapi.engines.base import Column, EngineError, EngineSession, QueryResult
# Only the translator's model: translate() itself comes from the caller, so that s3io and the translate package
# do not import each other.
from shiftflow.dataapi.translate.model import EngineSql, LoadFailure, NotSupportedLocally, S3Command

Translate = Callable[[str, str], Any]  # translate(sql, engine name) -> EngineSql | TransactionControl | S3Command


# MAXERROR: a load with a bad record fails here whatever MAXERROR allows (loudly, never with rows missing).
_IGNORED = {"IAM_ROLE", "CREDENTIALS", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "SESSION_TOKEN", "REGION",
            "COMPUPDATE", "STATUPDATE", "MAXERROR", "ACCEPTANYDATE", "MAXFILESIZE", "ROWGROUPSIZE"}
_COPY_OPTIONS = _IGNORED | {"CSV", "JSON", "PARQUET", "DELIMITER", "QUOTE", "IGNOREHEADER", "NULL", "GZIP", "BZIP2",
                            "MANIFEST", "EMPTYASNULL", "BLANKSASNULL", "TRIMBLANKS", "IGNOREBLANKLINES",
                            "REMOVEQUOTES", "DATEFORMAT", "TIMEFORMAT", "ACCEPTINVCHARS", "ESCAPE"}
_UNLOAD_OPTIONS = _IGNORED | {"CSV", "JSON", "PARQUET", "DELIMITER", "HEADER", "PARALLEL", "ALLOWOVERWRITE",
                              "CLEANPATH", "MANIFEST", "GZIP", "BZIP2", "NULL", "ADDQUOTES", "EXTENSION"}
# Redshift datetime format elements -> strptime directives, longest first.
_FORMAT_ELEMENTS = (("YYYY", "%Y"), ("MONTH", "%B"), ("HH24", "%H"), ("HH12", "%I"), ("YY", "%y"), ("MON", "%b"),
                    ("MM", "%m"), ("DD", "%d"), ("HH", "%H"), ("MI", "%M"), ("SS", "%S"), ("AM", "%p"),
                    ("PM", "%p"))
_CHARACTER_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\", "'": "'", '"': '"', "|": "|"}
_STRING_TYPES = ("varchar", "bpchar", "char", "text", "character", "nvarchar", "nchar")
_MAX_PARAMETERS = 30_000  # per INSERT: PostgreSQL's limit is 65,535 bound values
_NOT_EMPTY = ("Specified unload destination on S3 is not empty. Consider using a different bucket / prefix, "
              "manually removing the target files in S3, or using the ALLOWOVERWRITE option.")


def run(command: S3Command, session: EngineSession, parameters: Mapping[str, str], s3_client: Any,
        translate: Translate) -> QueryResult:
    allowed = _COPY_OPTIONS if command.kind == "copy" else _UNLOAD_OPTIONS
    for name, value in command.options:
        if name not in allowed:
            raise NotSupportedLocally(f"{command.kind.upper()} option {name}")
        if name in {"DATEFORMAT", "TIMEFORMAT"}:
            _strptime_format(name, value)  # refuse what cannot be read before reading anything
    if command.kind == "copy":
        return _copy(command, session, s3_client, translate)
    return _unload(command, session, parameters, s3_client, translate)


# ---------------------------------------------------------------- COPY


def _split_url(url: str) -> tuple[str, str]:
    bucket, _, key = url[len("s3://") :].partition("/")
    return bucket, key


def _read(s3_client: Any, url: str) -> bytes:
    bucket, key = _split_url(url)
    return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()


def _keys(s3_client: Any, url: str) -> list[str]:
    """Every object whose key starts with the prefix, as Redshift's COPY reads them (directory markers aside)."""
    bucket, prefix = _split_url(url)
    urls: list[str] = []
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        urls += [f"s3://{bucket}/{item['Key']}" for item in page.get("Contents", []) if not item["Key"].endswith("/")]
    return sorted(urls)


def _source_urls(command: S3Command, s3_client: Any) -> list[str]:
    if command.has("MANIFEST"):
        manifest = json.loads(_read(s3_client, command.url))
        return [entry["url"] for entry in manifest.get("entries", [])]
    urls = _keys(s3_client, command.url)
    if not urls:
        raise EngineError(f"The specified S3 prefix '{_split_url(command.url)[1]}' does not exist")
    return urls


def _decompress(command: S3Command, data: bytes) -> bytes:
    if command.has("GZIP"):
        return gzip.decompress(data)
    if command.has("BZIP2"):
        return bz2.decompress(data)
    return data


def _copy(command: S3Command, session: EngineSession, s3_client: Any, translate: Translate) -> QueryResult:
    columns = _target_columns(command, session, translate)
    loaded = 0
    batch: list[Sequence[str | None]] = []
    rows_per_insert = max(1, _MAX_PARAMETERS // max(1, len(columns)))
    for url in _source_urls(command, s3_client):
        data = _decompress(command, _read(s3_client, url))
        for number, fields in _read_records(command, data, columns, url):
            if len(fields) != len(columns):
                reason = "Extra column(s) found" if len(fields) > len(columns) else "Delimiter not found"
                raise LoadFailure(f"Load into table '{command.table}' failed: {url} line {number} has "
                                  f"{len(fields)} fields, the table load expects {len(columns)}",
                                  filename=url, line_number=number, reason=reason)
            batch.append(fields)
            if len(batch) >= rows_per_insert:
                loaded += _insert_batch(command, session, columns, batch, url)
                batch = []
        if batch:
            loaded += _insert_batch(command, session, columns, batch, url)
            batch = []
    return QueryResult(rowcount=loaded)


def _read_records(command: S3Command, data: bytes, columns: list[Column], url: str) -> Iterator[tuple[int, list]]:
    """_records, with a field the reader refuses (a date not in DATEFORMAT ...) reported as a load failure."""
    number = 0
    try:
        for number, fields in _records(command, data, columns, url):
            yield number, fields
    except LoadFailure:
        raise
    except EngineError as error:
        raise LoadFailure(str(error), filename=url, line_number=number + 1, reason=str(error)[:100]) from None


def _insert_batch(command: S3Command, session: EngineSession, columns: list[Column], rows: list[Sequence],
                  url: str) -> int:
    try:
        return _insert(command, session, columns, rows)
    except EngineError as error:
        # The engine checks a batch of rows at once: which line it refused is unknown (-1, as Redshift shows it).
        raise LoadFailure(str(error), filename=url, line_number=-1, reason=str(error)[:100]) from None


def _target_columns(command: S3Command, session: EngineSession, translate: Translate) -> list[Column]:
    """The loaded columns with their types (the engine's own answer to SELECT ... LIMIT 0)."""
    listed = ", ".join(command.columns) if command.columns else "*"
    sql = translate(f"SELECT {listed} FROM {command.table} LIMIT 0", session.engine)
    assert isinstance(sql, EngineSql)
    return session.execute(sql.text, {}).columns


def _records(command: S3Command, data: bytes, columns: list[Column], url: str) -> Iterator[tuple[int, list]]:
    if command.has("JSON"):
        yield from _json_records(command, data, columns, url)
        return
    if command.has("PARQUET"):
        for number, row in enumerate(_parquet_rows(data), start=1):
            yield number, [None if value is None else _text(value) for value in row]
        return
    text = _decode(command, data, url)
    skip = int(command.option("IGNOREHEADER") or 0)
    if command.has("CSV"):  # the csv module, so quoted fields may hold delimiters and newlines
        reader = csv.reader(io.StringIO(text), delimiter=_character(command, "DELIMITER", ","),
                            quotechar=_character(command, "QUOTE", '"'))
        records, null = list(reader), command.option("NULL", "")
    else:  # Redshift's default text format: '|'-delimited, no quoting, \N for NULL
        delimiter = _character(command, "DELIMITER", "|")
        if command.has("ESCAPE"):
            records = _escaped_records(text, delimiter)
        else:
            records = [line.split(delimiter) for line in text.splitlines()]
        null = command.option("NULL", "\\N")
    for number, fields in enumerate(records[skip:], start=skip + 1):
        if fields in ([], [""]) and command.has("IGNOREBLANKLINES"):
            continue
        converted = [_field(command, value, column, null) for value, column in zip(fields, columns)]
        yield number, converted + fields[len(columns) :]  # extra fields kept so the count check reports them


def _field(command: S3Command, value: str, column: Column, null: str | None) -> str | None:
    if null and value == null:
        return None
    is_string = column.type_name.lower().startswith(_STRING_TYPES)
    if command.has("REMOVEQUOTES") and len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if is_string and command.has("TRIMBLANKS"):
        value = value.rstrip()
    if value == "":
        # Empty fields are NULL for every non-string type; strings stay '' unless EMPTYASNULL.
        return None if not is_string or command.has("EMPTYASNULL") else ""
    if is_string and command.has("BLANKSASNULL") and not value.strip():
        return None
    type_name = column.type_name.lower()
    if type_name == "date" and command.has("DATEFORMAT"):
        return _datetime_field(value, "DATEFORMAT", command.option("DATEFORMAT") or "", date_only=True)
    if type_name.startswith("timestamp") and command.has("TIMEFORMAT"):
        return _datetime_field(value, "TIMEFORMAT", command.option("TIMEFORMAT") or "", date_only=False)
    return value


def _character(command: S3Command, name: str, default: str) -> str:
    """A one-character option (DELIMITER, QUOTE) with Redshift's escapes decoded: '\\t' is a tab, '\\001' octal."""
    value = command.option(name)
    if not value:
        return default
    if value.startswith("\\") and len(value) > 1:
        if value[1:].isdigit() and len(value) == 4:
            value = chr(int(value[1:], 8))
        elif value[1:] in _CHARACTER_ESCAPES:
            value = _CHARACTER_ESCAPES[value[1:]]
    if len(value) != 1:
        raise EngineError(f"{name} must be a single character, got '{command.option(name)}'")
    return value


def _decode(command: S3Command, data: bytes, url: str) -> str:
    """UTF-8 text; ACCEPTINVCHARS ['c'] replaces each invalid sequence with c ('?' by default), as Redshift does."""
    if not command.has("ACCEPTINVCHARS"):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise EngineError(f"Invalid UTF-8 in {url} at byte {error.start} (use ACCEPTINVCHARS)") from None
    replacement = command.option("ACCEPTINVCHARS") or "?"
    return data.decode("utf-8", errors="replace").replace("\ufffd", replacement)


def _escaped_records(text: str, delimiter: str) -> list[list[str]]:
    """Text format with ESCAPE: a backslash makes the next character (delimiter, newline, backslash) plain data."""
    records: list[list[str]] = []
    fields: list[str] = []
    field: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            field.append(text[i + 1])
            i += 2
            continue
        if char == delimiter:
            fields.append("".join(field))
            field = []
        elif char == "\n":
            records.append([*fields, "".join(field)])
            fields, field = [], []
        elif char != "\r" or text[i + 1 : i + 2] != "\n":
            field.append(char)
        i += 1
    if field or fields:
        records.append([*fields, "".join(field)])
    return records


def _strptime_format(option: str, value: str) -> str | None:
    """Redshift's DATEFORMAT / TIMEFORMAT string as a strptime format; None for 'auto' and the epoch forms."""
    upper = value.upper()
    if upper in {"", "AUTO"}:
        return None
    if option == "TIMEFORMAT" and upper in {"EPOCHSECS", "EPOCHMILLISECS"}:
        return None
    result, i = [], 0
    while i < len(value):
        if upper.startswith(("SS.S", "SS,S"), i):  # fractional seconds: SS.SSS ... SS.SSSSSS
            j = i + 3
            while j < len(upper) and upper[j] == "S":
                j += 1
            result.append(f"%S{value[i + 2]}%f")
            i = j
            continue
        for element, directive in _FORMAT_ELEMENTS:
            if upper.startswith(element, i):
                result.append(directive)
                i += len(element)
                break
        else:
            if value[i].isalpha() and value[i] not in "Tt":  # T: ISO 8601's date-time separator
                raise NotSupportedLocally(f"{option} '{value}' (element at '{value[i:]}')")
            result.append("%%" if value[i] == "%" else value[i])
            i += 1
    return "".join(result)


def _datetime_field(value: str, option: str, form: str, date_only: bool) -> str:
    upper = form.upper()
    if upper in {"EPOCHSECS", "EPOCHMILLISECS"}:
        seconds = float(value) / (1000 if upper == "EPOCHMILLISECS" else 1)
        return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
    pattern = _strptime_format(option, form)
    if pattern is None:
        return value
    parsed = None
    for candidate in (pattern, pattern.replace(".%f", "").replace(",%f", "")):  # fractional seconds optional
        try:
            parsed = dt.datetime.strptime(value.strip(), candidate)
            break
        except ValueError:
            continue
    if parsed is None:
        raise EngineError(f"Invalid {'date' if date_only else 'timestamp'} value '{value}' for {option} "
                          f"'{form}'") from None
    return parsed.date().isoformat() if date_only else parsed.isoformat(sep=" ")


def _json_records(command: S3Command, data: bytes, columns: list[Column], url: str) -> Iterator[tuple[int, list]]:
    mode = (command.option("JSON") or "auto").strip().lower()
    if mode not in {"auto", "auto ignorecase"}:
        raise NotSupportedLocally(f"COPY JSON '{command.option('JSON')}' (only 'auto' and 'auto ignorecase')")
    decoder = json.JSONDecoder()
    text = data.decode("utf-8")
    position, number = 0, 0
    while True:  # a stream of JSON objects, one per line or simply concatenated, as Redshift accepts
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return
        try:
            record, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise EngineError(f"Invalid JSON in {url}: {error}") from None
        number += 1
        if not isinstance(record, dict):
            raise EngineError(f"{url} record {number}: a JSON object was expected")
        if mode == "auto ignorecase":
            record = {key.lower(): value for key, value in record.items()}
        names = [c.name.lower() if mode == "auto ignorecase" else c.name for c in columns]
        yield number, [_json_value(record.get(name)) for name in names]


def _json_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _parquet_rows(data: bytes) -> list[tuple]:
    """Parquet decoded by an in-memory DuckDB (already a dependency), whatever the target engine is."""
    import duckdb

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "part.parquet")
        with open(path, "wb") as handle:
            handle.write(data)
        with duckdb.connect() as reader:
            return reader.execute("SELECT * FROM read_parquet(?)", [path]).fetchall()


def _placeholder(engine: str, name: str) -> str:
    return f"${name}" if engine == "duckdb" else f"%({name})s"


def _insert(command: S3Command, session: EngineSession, columns: list[Column], rows: list[Sequence]) -> int:
    names = ", ".join(_quoted(c.name) for c in columns)
    values: list[str] = []
    parameters: dict[str, str | None] = {}
    for r, row in enumerate(rows):
        slots = []
        for c, value in enumerate(row):
            key = f"r{r}c{c}"
            parameters[key] = value
            slots.append(_placeholder(session.engine, key))
        values.append(f"({', '.join(slots)})")
    session.execute(f"INSERT INTO {command.table} ({names}) VALUES {', '.join(values)}", parameters)
    return len(rows)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------- UNLOAD


def _unload(command: S3Command, session: EngineSession, parameters: Mapping[str, str], s3_client: Any,
            translate: Translate) -> QueryResult:
    for name in ("ZSTD",):
        if command.has(name):
            raise NotSupportedLocally(f"UNLOAD option {name}")
    query = translate(command.query, session.engine)
    if not isinstance(query, EngineSql):
        raise NotSupportedLocally("UNLOAD of something other than a query")
    result = query.execute(session, {name: parameters[name] for name in query.parameter_names})
    bucket, prefix = _split_url(command.url)
    existing = _keys(s3_client, command.url)
    if existing and command.has("CLEANPATH"):
        for url in existing:
            s3_client.delete_object(Bucket=bucket, Key=_split_url(url)[1])
    elif existing and not command.has("ALLOWOVERWRITE"):
        raise EngineError(_NOT_EMPTY)
    body, extension = _render(command, result)
    if command.has("GZIP"):
        body, extension = gzip.compress(body), extension + ".gz"
    elif command.has("BZIP2"):
        body, extension = bz2.compress(body), extension + ".bz2"
    if command.option("EXTENSION"):
        extension = "." + command.option("EXTENSION").lstrip(".")
    parallel_off = (command.option("PARALLEL") or "ON").upper() in {"OFF", "FALSE"}
    key = f"{prefix}{'000' if parallel_off else '0000_part_00'}{extension}"
    s3_client.put_object(Bucket=bucket, Key=key, Body=body)
    if command.has("MANIFEST"):
        entry = {"url": f"s3://{bucket}/{key}", "meta": {"content_length": len(body), "record_count": len(result.rows)}}
        manifest = {"entries": [entry]}
        if (command.option("MANIFEST") or "").upper() == "VERBOSE":
            manifest["schema"] = {"elements": [{"name": c.name, "type": {"base": c.type_name}} for c in result.columns]}
        s3_client.put_object(Bucket=bucket, Key=f"{prefix}manifest", Body=json.dumps(manifest).encode())
    return QueryResult(rowcount=len(result.rows))


def _render(command: S3Command, result: QueryResult) -> tuple[bytes, str]:
    names = [c.name for c in result.columns]
    if command.has("PARQUET"):
        return _parquet_bytes(result), ".parquet"
    if command.has("JSON"):
        lines = [json.dumps(dict(zip(names, (_json_out(v) for v in row)))) for row in result.rows]
        return ("".join(line + "\n" for line in lines)).encode(), ".json"
    null = command.option("NULL", "")
    buffer = io.StringIO()
    if command.has("CSV"):
        quoting = csv.QUOTE_ALL if command.has("ADDQUOTES") else csv.QUOTE_MINIMAL
        writer = csv.writer(buffer, delimiter=_character(command, "DELIMITER", ","), quoting=quoting,
                            lineterminator="\n")
        if command.has("HEADER"):
            writer.writerow(names)
        writer.writerows([null if v is None else _text(v) for v in row] for row in result.rows)
        return buffer.getvalue().encode(), ""
    delimiter = _character(command, "DELIMITER", "|")
    quote = '"' if command.has("ADDQUOTES") else ""
    if command.has("HEADER"):
        buffer.write(delimiter.join(names) + "\n")
    for row in result.rows:
        buffer.write(delimiter.join(null if v is None else f"{quote}{_text(v)}{quote}" for v in row) + "\n")
    return buffer.getvalue().encode(), ""


def _text(value: Any) -> str:
    """A value as Redshift writes it in text output."""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time, Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _json_out(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return _text(value)


_DUCKDB_TYPES = {"int2": "SMALLINT", "int4": "INTEGER", "int8": "BIGINT", "float4": "FLOAT", "float8": "DOUBLE",
                 "bool": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMPTZ"}


def _parquet_bytes(result: QueryResult) -> bytes:
    import duckdb

    def column_type(index: int, column: Column) -> str:
        if column.type_name == "numeric":
            if column.precision:
                return f"DECIMAL({min(column.precision, 38)}, {column.scale})"
            # Precision unknown to the engine: the widest scale among the values themselves.
            scale = max((-row[index].as_tuple().exponent for row in result.rows
                         if isinstance(row[index], Decimal)), default=0)
            return f"DECIMAL(38, {max(scale, 0)})"
        return _DUCKDB_TYPES.get(column.type_name, "VARCHAR")

    with tempfile.TemporaryDirectory() as folder, duckdb.connect() as writer:
        definition = ", ".join(f"{_quoted(c.name)} {column_type(i, c)}" for i, c in enumerate(result.columns))
        writer.execute(f"CREATE TABLE unload ({definition})")
        if result.rows:
            slots = ", ".join("?" for _ in result.columns)
            writer.executemany(f"INSERT INTO unload VALUES ({slots})", [list(row) for row in result.rows])
        path = os.path.join(folder, "part.parquet")
        writer.execute(f"COPY unload TO '{path}' (FORMAT PARQUET)")
        with open(path, "rb") as handle:
            return handle.read()
