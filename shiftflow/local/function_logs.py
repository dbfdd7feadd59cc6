"""The handlers' logs in CloudWatch Logs, as Lambda writes them: `aws logs tail /aws/lambda/<function> --follow`,
`filter-log-events` and `describe-log-groups` on the local endpoint show a run's functions as on AWS.

What Lambda does (Lambda developer guide, "Sending Lambda function logs to CloudWatch Logs" and "Log and monitor
Python Lambda functions"): a function's log group is `/aws/lambda/<function name>`, or its LoggingConfig's LogGroup;
each execution environment (one per concurrent invocation, reused by later ones) writes to a log stream of its own,
named `YYYY/MM/DD/[<version>]<32 hex>` after the day it started; what the function's code writes to stdout or stderr
is one log event per line, between the lines the runtime adds: `START RequestId: <id> Version: <version>`,
`END RequestId: <id>` and `REPORT RequestId: <id>\\tDuration: <ms> ms\\tBilled Duration: <ms> ms\\tMemory Size: <MB>
MB\\tMax Memory Used: <MB> MB\\t` (each message ends with its newline, as Lambda's do). An unhandled exception adds
the Python runtime's `[ERROR] <type>: <message>` event with its traceback; a timeout the line `<time> <id> Task timed
out after <s> seconds` and a REPORT ending `Status: timeout`. Lambda writes only what the function's role may:
logs:CreateLogStream and logs:PutLogEvents on the stream (and logs:CreateLogGroup for a group that does not exist);
without them the function's lines are not in CloudWatch Logs, as on AWS (said once in the cloud's log).

How: `sys.stdout` and `sys.stderr` are wrapped while the runtime runs (Powertools' stream handlers, created on the
wrapped stdout or re-pointed to the wrapper, included), and every write passes through unchanged, so the cloud's log
(`<state>/cloud.log`) keeps every line as before. A write made on the thread of an invocation
(moto_gaps.lambda_in_process binds it) is also kept for that invocation's stream, except while that thread is inside
an AWS call (`BaseClient._make_api_call`): moto and the Data API emulator serve in-process calls on the caller's
thread, and what they log is AWS's, not the function's. A thread never waits for CloudWatch: lines are queued, and
one flusher thread puts each stream's lines into moto's CloudWatch Logs backend every `FLUSH_SECONDS` (and at the
stop, so nothing queued is lost), in PutLogEvents batches within the API's limits (botocore's `logs` model, PutLogEvents: at most 10,000 events,
1,048,576 bytes counted as each message's UTF-8 bytes plus 26, one event at most 1 MB, chronological, within 24 hours):
a longer line is split into several events at character boundaries, never cut.

Not reproduced: lines written by a thread the handler starts (they stay in cloud.log only); Init Duration and the
XRAY TraceId line; Max Memory Used is the local cloud process's peak resident memory (every function shares it);
the JSON log format (LogFormat: JSON) and log levels of LoggingConfig. Kept as the cloud's other state is: every
event sent is appended to `<state>/logs/events.jsonl` (`state_dir`), and `restore` (`restore_later`: on the flusher's
thread, while the cloud already serves) puts them back in the next cloud's CloudWatch Logs, except those past their group's RetentionInDays (dropped then, not while a cloud runs).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shiftflow.durable_files import append_lines, read_lines, remove_partial_writes, replace_lines
from shiftflow.local.moto_gaps._patcher import Patcher
from shiftflow.local.thread_bindings import bound

log = logging.getLogger("shiftflow.cloud.logs")

FLUSH_SECONDS = 0.25
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
# "Each log event can be no larger than 1 MB", and the batch's byte count adds 26 to it: the longest message one
# PutLogEvents can carry.
MAX_MESSAGE_BYTES = MAX_BATCH_BYTES - EVENT_OVERHEAD_BYTES
MAX_BATCH_SPAN_MS = 24 * 3600 * 1000
KEPT_FILE = "logs/events.jsonl"  # in the state folder: every event sent, {"g": group, "s": stream, "t": ms, "m": text}
DAY_MS = 24 * 3600 * 1000

_bound = threading.local()  # .invocation: the InvocationLog whose lines this thread writes (None: none)


def _now_ms() -> int:
    return int(time.time() * 1000)


def split_message(message: str, limit: int = MAX_MESSAGE_BYTES) -> list[str]:
    """`message` as events of at most `limit` UTF-8 bytes each, cut between characters: nothing is dropped."""
    encoded = message.encode("utf-8")
    if len(encoded) <= limit:
        return [message]
    parts: list[str] = []
    start = 0
    while start < len(encoded):
        end = min(start + limit, len(encoded))
        while end < len(encoded) and (encoded[end] & 0xC0) == 0x80:  # not inside a multi-byte character
            end -= 1
        parts.append(encoded[start:end].decode("utf-8"))
        start = end
    return parts


def batches(events: list[tuple[int, str]]) -> list[list[dict[str, Any]]]:
    """PutLogEvents batches of (timestamp ms, message) in chronological order, each within the API's limits."""
    result: list[list[dict[str, Any]]] = []
    batch: list[dict[str, Any]] = []
    size = 0
    for timestamp, message in sorted(events, key=lambda event: event[0]):  # stable: a stream's lines keep order
        for part in split_message(message):
            part_size = len(part.encode("utf-8")) + EVENT_OVERHEAD_BYTES
            if batch and (len(batch) == MAX_BATCH_EVENTS or size + part_size > MAX_BATCH_BYTES
                          or timestamp - batch[0]["timestamp"] > MAX_BATCH_SPAN_MS):
                result.append(batch)
                batch, size = [], 0
            batch.append({"timestamp": timestamp, "message": part})
            size += part_size
    if batch:
        result.append(batch)
    return result


@dataclass
class _Stream:
    function_name: str
    group: str
    name: str
    pending: list[tuple[int, str]] = field(default_factory=list)
    state: str = "new"  # new, open (created), refused (the role may not write it)


class InvocationLog:
    """One invocation's lines, queued on its environment's stream; closed at its END (or its timeout)."""

    def __init__(self, logs: FunctionLogs, stream: _Stream, request_id: str) -> None:
        self._logs = logs
        self._stream = stream
        self.request_id = request_id
        self._partial = ""
        self._lock = threading.Lock()
        self.closed = False

    @contextlib.contextmanager
    def capturing(self) -> Iterator[None]:
        """What this thread writes to stdout or stderr inside the block is this invocation's."""
        with bound(_bound, "invocation", self):
            yield

    def write(self, text: str) -> None:
        """Text written by the function's code: one event per line (a last line without its newline waits)."""
        with self._lock:
            if self.closed:
                return
            lines = (self._partial + text).split("\n")
            self._partial = lines.pop()
            if lines:
                self._logs.queue(self._stream, [line + "\n" for line in lines])

    def line(self, message: str) -> None:
        """A line the runtime adds (START, END, REPORT ...), after what the code wrote before it."""
        with self._lock:
            if not self.closed:
                self._logs.queue(self._stream, [*self._flush_partial(), message + "\n"])

    def close(self, *messages: str) -> bool:
        """The invocation's last lines; False when it was closed already (its END was written)."""
        with self._lock:
            if self.closed:
                return False
            self._logs.queue(self._stream, [*self._flush_partial(), *(message + "\n" for message in messages)])
            self.closed = True
            return True

    def _flush_partial(self) -> list[str]:
        partial, self._partial = self._partial, ""
        return [partial] if partial else []


class _CapturingStream:
    """sys.stdout or sys.stderr: every write goes to the wrapped stream, and also to the bound invocation's log."""

    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped

    def write(self, text: str) -> int:
        written = self._wrapped.write(text)
        invocation = getattr(_bound, "invocation", None)
        if invocation is not None and text:
            invocation.write(text)
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


Authorizer = Callable[[str, str, str, bool], str | None]  # (function, group, stream, group exists) -> denied action


class FunctionLogs:
    """Use as a context manager around the handlers' runs: `invocation()` opens one invocation's log (called by
    moto_gaps.lambda_in_process); every line queued is in CloudWatch Logs within `FLUSH_SECONDS`, and at exit."""

    def __init__(self, account_id: str, region: str, authorize: Authorizer | None = None,
                 flush_seconds: float = FLUSH_SECONDS, state_dir: Path | None = None) -> None:
        """`state_dir`: keep every event sent in `<state_dir>/logs/events.jsonl`, for `restore` (None: not kept)."""
        self._account_id, self._region = account_id, region
        self._kept = state_dir / KEPT_FILE if state_dir is not None else None
        self._authorize = authorize
        self._flush_seconds = flush_seconds
        self._streams: dict[tuple[str, str], _Stream] = {}
        self._lock = threading.Lock()  # the streams' pending lines
        self._send_lock = threading.Lock()  # one sender at a time: a stream's batches stay in order
        self._restore_pending = False
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._restore: list[Callable[[], None]] = []
        self._patcher = Patcher()

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def __enter__(self) -> FunctionLogs:
        from shiftflow.local.moto_gaps import lambda_in_process

        self._wrap_streams()
        self._suspend_in_aws_calls()
        self._thread = threading.Thread(target=self._run, name="function-logs", daemon=True)
        self._thread.start()
        lambda_in_process.add_log_sink(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        from shiftflow.local.moto_gaps import lambda_in_process

        lambda_in_process.remove_log_sink(self)
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()  # whatever came in while the flusher stopped
        for restore in reversed(self._restore):
            restore()
        self._restore.clear()
        self._patcher.restore()

    def _wrap_streams(self) -> None:
        for name in ("stdout", "stderr"):
            wrapped = getattr(sys, name)
            proxy = _CapturingStream(wrapped)
            setattr(sys, name, proxy)
            repointed = _repoint_powertools_handlers(wrapped, proxy)

            def restore(name: str = name, wrapped: Any = wrapped, proxy: Any = proxy,
                        repointed: list[logging.StreamHandler] = repointed) -> None:
                if getattr(sys, name) is proxy:
                    setattr(sys, name, wrapped)
                for handler in repointed + _repoint_powertools_handlers(proxy, wrapped):
                    if handler.stream is proxy:
                        handler.setStream(wrapped)

            self._restore.append(restore)

    def _suspend_in_aws_calls(self) -> None:
        from botocore.client import BaseClient

        original = BaseClient.__dict__["_make_api_call"]

        def make_api_call(client: Any, operation_name: str, api_params: Any) -> Any:
            if getattr(_bound, "invocation", None) is None:
                return original(client, operation_name, api_params)
            with bound(_bound, "invocation", None):  # what AWS logs while it serves the call is not the function's
                return original(client, operation_name, api_params)

        self._patcher.set(BaseClient, "_make_api_call", make_api_call)

    # --- the handlers' side -----------------------------------------------------------------------------------

    def invocation(self, function_name: str, group: str, stream: str, request_id: str) -> InvocationLog:
        with self._lock:
            known = self._streams.setdefault((group, stream), _Stream(function_name, group, stream))
        return InvocationLog(self, known, request_id)

    def queue(self, stream: _Stream, messages: list[str]) -> None:
        now = _now_ms()
        with self._lock:
            stream.pending.extend((now, message) for message in messages)
        # No wake-up: the flusher sends every FLUSH_SECONDS, in one go for every stream.

    # --- the flusher -------------------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self._flush_seconds)
            self._wake.clear()
            if self._restore_pending:
                self._restore_pending = False
                try:
                    with self._send_lock:
                        restored = self.restore()
                    if restored:
                        log.info("function log events put back: %d", restored)
                except Exception:  # noqa: BLE001 - the cloud runs on without them
                    log.exception("could not put the kept function logs back into CloudWatch Logs")
            self.flush()

    def flush(self) -> None:
        """Send every queued line now."""
        with self._send_lock:
            with self._lock:
                ready = [(stream, stream.pending) for stream in self._streams.values() if stream.pending]
                for stream, _ in ready:
                    stream.pending = []
            for stream, events in ready:
                try:
                    self._send(stream, events)
                except Exception:  # noqa: BLE001 - logged (the lines are in the cloud's log); the others go on
                    log.exception("could not send %s's lines to CloudWatch Logs (%s, %s)", stream.function_name,
                                  stream.group, stream.name)

    def _send(self, stream: _Stream, events: list[tuple[int, str]]) -> None:
        # moto's backend itself, as the local cloud routes its events (shiftflow.local.cloud.events): a client's
        # call costs a few ms of the one core the handlers run on, and the batches keep PutLogEvents' limits anyway.
        from moto.logs.models import logs_backends

        backend = logs_backends[self._account_id][self._region]
        if stream.state == "new":
            self._open(backend, stream)
        if stream.state != "open":
            return
        for batch in batches(events):
            backend.put_log_events(stream.group, stream.name, batch)
            if self._kept is not None:  # after the put: the file never holds what CloudWatch Logs refused
                self._kept.parent.mkdir(parents=True, exist_ok=True)
                append_lines(self._kept, [{"g": stream.group, "s": stream.name, "t": event["timestamp"],
                                           "m": event["message"]} for event in batch])

    def restore_later(self) -> None:
        """`restore` on the flusher's thread, before its next send: a start does not wait for it (tens of
        thousands of kept events take seconds), and the lines of this cloud's invocations (in streams of their own)
        are sent after it."""
        self._restore_pending = True
        self._wake.set()

    def restore(self) -> int:
        """The events an earlier cloud sent, put back into their groups and streams (once the template's groups
        exist, with their retention), except those past their group's RetentionInDays, which are dropped from the
        file too. Returns how many were put back."""
        from moto.logs.models import logs_backends

        if self._kept is None:
            return 0
        remove_partial_writes(self._kept.parent)
        records = read_lines(self._kept)
        backend = logs_backends[self._account_id][self._region]
        now, kept = _now_ms(), []
        by_stream: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for record in records:
            if record["g"] not in backend.groups:
                backend.create_log_group(record["g"], {})
            retention = backend.groups[record["g"]].retention_in_days
            if retention and record["t"] < now - int(retention) * DAY_MS:
                continue
            kept.append(record)
            by_stream.setdefault((record["g"], record["s"]), []).append(
                {"timestamp": record["t"], "message": record["m"]})
        if len(kept) < len(records):
            replace_lines(self._kept, kept)
        for (group, name), events in by_stream.items():
            if name not in backend.groups[group].streams:
                backend.create_log_stream(group, name)
            # The stream's own put: moto's PutLogEvents refuses events older than 14 days, a group may keep more.
            backend.groups[group].streams[name].put_log_events(events)
        return len(kept)

    def _open(self, backend: Any, stream: _Stream) -> None:
        exists = stream.group in backend.groups
        denied = self._authorize(stream.function_name, stream.group, stream.name, exists) if self._authorize else None
        if denied is not None:
            stream.state = "refused"
            log.warning("function %s may not %s: its lines are not in CloudWatch Logs (as on AWS), only here",
                        stream.function_name, denied)
            return
        if not exists:  # Lambda creates the function's group on its first log line
            backend.create_log_group(stream.group, {})
        backend.create_log_stream(stream.group, stream.name)
        stream.state = "open"


def _repoint_powertools_handlers(old: Any, new: Any) -> list[logging.StreamHandler]:
    """Powertools loggers made before the wrap hold the stream they were made with: pointed at `new` instead."""
    loggers = [logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    repointed = []
    for logger in loggers:
        handler = getattr(logger, "powertools_handler", None)
        if isinstance(handler, logging.StreamHandler) and handler.stream is old:
            handler.setStream(new)
            repointed.append(handler)
    return repointed


def role_may_write(region: str, account_id: str) -> Authorizer:
    """What Lambda needs of the function's role to write its logs (Lambda developer guide, "Sending Lambda function
    logs to CloudWatch Logs": logs:CreateLogGroup, logs:CreateLogStream and logs:PutLogEvents), decided by its
    policies as enforced (shiftflow.local.iam); a handler outside the template's functions writes as the
    administrator."""

    def authorize(function_name: str, group: str, stream: str, group_exists: bool) -> str | None:
        from shiftflow.local.iam.enforcement import function_principal
        from shiftflow.local.iam.policy import Decision, evaluate

        principal = function_principal(function_name)
        if principal is None:
            return None
        group_arn = f"arn:aws:logs:{region}:{account_id}:log-group:{group}"
        needed = [("logs:CreateLogStream", f"{group_arn}:log-stream:{stream}"),
                  ("logs:PutLogEvents", f"{group_arn}:log-stream:{stream}")]
        if not group_exists:
            needed.insert(0, ("logs:CreateLogGroup", group_arn))
        for action, arn in needed:
            if evaluate(principal.role.statements, action, arn) is not Decision.ALLOWED:
                return f"{action} on {arn} (its role {principal.role.name})"
        return None

    return authorize
