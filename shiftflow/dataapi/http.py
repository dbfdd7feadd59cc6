"""The emulator as a local HTTP endpoint speaking the Data API's JSON 1.1 protocol.

    python -m shiftflow.dataapi.http --port 4599 [--data-dir .shiftflow/warehouse]
    AWS_ENDPOINT_URL_REDSHIFT_DATA=http://127.0.0.1:4599 aws redshift-data execute-statement ...

Requests are POSTs to `/` with `X-Amz-Target: RedshiftData.<Operation>`; signatures are not checked. A thread per
connection, keep-alive, and a listen backlog deep enough for hundreds of clients connecting at once (a full backlog
drops connections, which a client with retries off sees as a failed call). The HTTP framing lives here; what a
body means (protocol.py) and what an operation does (service.py) do not.
"""

from __future__ import annotations

import argparse
import io
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shiftflow.dataapi.protocol import MAX_REQUEST_BYTES, error_answer, too_large
from shiftflow.dataapi.service import DataApiEmulator

log = logging.getLogger(__name__)


_CHUNK = 1 << 20


class _BadFraming(Exception):
    """The request's HTTP framing (Content-Length, chunks) cannot be read: HTTP's 400, the connection closes."""


# listen(2) backlog of an endpoint hundreds of clients connect to at once (the local cloud's too): with a shallow one
# the kernel drops their SYNs (each retried after 1 s, then 3 s) or their first request. The kernel caps it at
# net.core.somaxconn (4096 on current Linux).
LISTEN_BACKLOG = 4096


class WholeAnswerWriter(io.BufferedIOBase):
    """A request handler's `wfile` that sends what was written at the next flush, in one sendall: an answer's status
    line, headers and body leave together. A server killed (kill -9) while it answers then leaves its client the whole
    answer or none of it (a connection error the client can retry), never the headers without the body: botocore does
    not compare a body with its Content-Length (it turns urllib3's check off), so headers alone parse as an empty
    answer, a DescribeExecution without `status`. An interim `100 Continue` leaves at once (the client waits for it
    before it sends its body)."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._pending = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._pending += data
        if self._pending.startswith(b"HTTP/1.1 100 "):
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._pending:
            self._connection.sendall(self._pending)
            self._pending.clear()


def send_whole_answers(handler: Any) -> None:
    """Give `handler` (a StreamRequestHandler, once set up) a WholeAnswerWriter, without Nagle's algorithm (an answer
    is one send: nothing to coalesce, and a delayed ACK would hold it ~40 ms)."""
    handler.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
    handler.wfile = WholeAnswerWriter(handler.connection)


class DataApiServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, emulator: DataApiEmulator, host: str, port: int) -> None:
        super().__init__((host, port), _Handler)
        self.emulator = emulator
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self.thread is not None:
            self.thread.join()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: DataApiServer
    protocol_version = "HTTP/1.1"  # keep-alive: boto3 reuses its connection

    def setup(self) -> None:
        super().setup()
        send_whole_answers(self)  # headers and body in one send, without Nagle: else delayed ACKs add ~40 ms a call

    def do_POST(self) -> None:
        try:
            body, size = self._body()
        except _BadFraming as error:
            self.send_error(HTTPStatus.BAD_REQUEST, str(error))
            return
        if body is None:  # over the limit: what was sent is read and dropped, the connection closes after the answer
            self.close_connection = True
            self._answer(*error_answer(too_large(size)))
            return
        self._answer(*self.server.emulator.handle_json(self.headers.get("X-Amz-Target", ""), body))

    def _body(self) -> tuple[bytes | None, int]:
        """The request body (None when it is over MAX_REQUEST_BYTES) and its size."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._chunked_body()
        text = self.headers.get("Content-Length") or "0"
        if not (text.isascii() and text.isdigit()):
            raise _BadFraming(f"Content-Length {text!r} is not a number of bytes")
        length = int(text)
        if length > MAX_REQUEST_BYTES:
            self._discard(length)
            return None, length
        return self.rfile.read(length), length

    def _chunked_body(self) -> tuple[bytes | None, int]:
        parts: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                chunk = int(line, 16)
            except ValueError:
                raise _BadFraming(f"chunk size {line!r} is not hexadecimal") from None
            if chunk == 0:
                while self.rfile.readline(1024).strip():  # trailers, up to the blank line
                    pass
                return (b"".join(parts) if size <= MAX_REQUEST_BYTES else None), size
            size += chunk
            if size > MAX_REQUEST_BYTES:
                self._discard(chunk)
            else:
                parts.append(self.rfile.read(chunk))
            self.rfile.readline(16)  # the CRLF after the chunk

    def _discard(self, length: int) -> None:
        """Read what the client sends and keep none of it, so that it reads the answer instead of a reset."""
        while length > 0:
            data = self.rfile.read(min(length, _CHUNK))
            if not data:
                return
            length -= len(data)

    def _answer(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


def start_server(emulator: DataApiEmulator, port: int = 0, host: str = "127.0.0.1") -> DataApiServer:
    """Serve `emulator` on a background thread; port 0 picks a free port (see server.url). Stop with .stop()."""
    server = DataApiServer(emulator, host, port)
    server.thread = threading.Thread(target=server.serve_forever, name="dataapi-http", daemon=True)
    server.thread.start()
    return server


def serve_until_interrupted(emulator: DataApiEmulator, port: int, host: str = "127.0.0.1",
                            announce: Callable[[str], None] = print) -> None:
    """Serve `emulator` in the foreground until Ctrl-C, then close the server and the emulator."""
    server = DataApiServer(emulator, host, port)
    announce(server.url)
    try:
        with _terminate_as_interrupt():
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        emulator.close()


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (kill, a process manager stopping us) stops the server as Ctrl-C does: the engine closes, and with it
    the PostgreSQL server it started. Only kill -9 skips that; the next start then finds that server (see
    engines/postgres.py)."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shiftflow.dataapi.http",
                                     description="Serve the Redshift Data API emulator over HTTP.")
    parser.add_argument("--port", type=int, default=4599)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data-dir", default=None,
                        help="keep each database in <data-dir>/<database>.duckdb (default: in memory)")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)
    from shiftflow.dataapi.engines.duckdb import DuckDBEngine

    serve_until_interrupted(DataApiEmulator(DuckDBEngine(args.data_dir), workers=args.workers), args.port, args.host,
                            lambda url: print(f"Redshift Data API emulator on {url} (AWS_ENDPOINT_URL_REDSHIFT_DATA={url})",
                                              flush=True))


if __name__ == "__main__":
    main()
