"""What a `shiftflow` process does before its command and after it, so that a command against a running local
cloud costs little more than Python, botocore and its HTTP calls (benchmarks/status_latency.py measures it).

Only the command's own process does this (the console script, `main`, and `python -m shiftflow.cli.app`), and first,
before the CLI's modules are imported: the collector deferred (shiftflow.collector) and the compiled patterns read
from the user's cache (shiftflow.regex_cache) while those imports run. Importing the CLI, as the tests do, changes
nothing, and the in-process mode, whose moto may use the optional libraries, keeps them.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

# Optional imports botocore tries on its import, that a command never uses: about a third of botocore's import time.
# - urllib3.contrib.pyopenssl: botocore only takes `orig_util_SSLContext` from it, which is urllib3's own
#   SSLContext unless pyOpenSSL was injected into urllib3, which no shiftflow process does; without the module
#   botocore takes that same class from urllib3.util.ssl_.
# - awscrt: the AWS CRT gives botocore SigV4a (multi-region access points), EventBridge global endpoints and the
#   CRC64NVME checksum, none of which a command calls. Without it botocore runs as with its own opt-out,
#   BOTO_DISABLE_CRT=true; BOTO_DISABLE_CRT=false keeps the CRT.
PYOPENSSL = "urllib3.contrib.pyopenssl"
CRT = "awscrt"


def unused_optional_imports(environment: dict[str, str]) -> list[str]:
    """The optional modules a command's process does without, given its environment."""
    keep_crt = environment.get("BOTO_DISABLE_CRT", "").lower() == "false"
    return [PYOPENSSL] if keep_crt else [PYOPENSSL, CRT]


def main() -> None:
    """The `shiftflow` console script: the start-up choices made before the CLI's modules are imported (their
    imports are most of a command's start), then the command."""
    begin()
    from shiftflow.cli.app import main as command

    command()


def begin() -> None:
    """What the command's process does first, before the CLI's imports where it can (`main`, and
    `python -m shiftflow.cli.app`), else before typer parses its arguments (shiftflow.cli.app.main). Once per
    process: a second call changes nothing."""
    from shiftflow import collector, regex_cache

    collector.pause()  # until connected: shiftflow.cli.common.session resumes it
    regex_cache.install()
    skip_unused_optional_imports()
    from shiftflow.cli.typer_coercion import defer_pydantic_coercion

    defer_pydantic_coercion()


def skip_unused_optional_imports() -> None:
    """Before botocore is imported: make its optional imports of unused modules fail at once (a None entry in
    sys.modules is Python's way to say a module is absent), so that botocore takes its fallbacks."""
    from shiftflow.cli.connection import in_process_mode

    if in_process_mode() or "botocore.compat" in sys.modules:
        return  # moto runs in this process, or botocore already chose
    for name in unused_optional_imports(dict(os.environ)):
        sys.modules.setdefault(name, None)  # type: ignore[assignment]


def exit_without_teardown(code: int) -> NoReturn:
    """End the process with `code` once its output is out, without the interpreter's teardown (freeing every
    module and object: about 0.15 s after boto3 and typer). Safe because nothing is left to do: stdout and stderr
    are flushed, the atexit handlers (logging's flush, temporary folders) have run, and no other thread is alive;
    files are written by `with` blocks (shiftflow.durable_files.atomic_write). Otherwise the normal exit."""
    if threading.active_count() > 1:
        sys.exit(code)  # a thread may still have work: the normal exit joins it
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)  # a closed or broken stream: the normal exit reports it as Python does
    atexit._run_exitfuncs()  # noqa: SLF001 - the handlers the normal exit would run
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code)
