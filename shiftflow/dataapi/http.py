"""The emulator as a local HTTP endpoint speaking the Data API's JSON 1.1 protocol.

    python -m shiftflow.dataapi.http --port 4599 [--data-dir .shiftflow/warehouse]
    AWS_ENDPOINT_URL_REDSHIFT_DATA=http://127.0.0.1:4599 aws redshift-data execute-statement ...

Requests are POSTs to `/` with `X-Amz-Target: RedshiftData.<Operation>`; signatures are not checked.
"""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shiftflow.dataapi.service import DataApiEmulator

log = logging.getLogger(__name__)


class DataApiServer(ThreadingHTTPServer):
    daemon_threads = True

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


class _Handler(BaseHTTPRequestHandler):
    server: DataApiServer
    protocol_version = "HTTP/1.1"  # keep-alive: boto3 reuses its connection
    # Headers and body leave in one send, without Nagle: else delayed ACKs add ~40 ms to every call.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        target = self.headers.get("X-Amz-Target", "")
        status, headers, payload = self.server.emulator.handle_json(target, body)
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
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        emulator.close()


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
