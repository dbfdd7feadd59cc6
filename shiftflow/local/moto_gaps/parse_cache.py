"""Gap 10: every execution start re-parses its definition.

moto behaviour (checked against moto 5.2.5): each start parses the definition with ANTLR (0.03 s for run_sql_job,
0.75 s for the sales pipeline), and create_state_machine parses it once more to validate it.

Fix: memoizes ``.../asl/parse/asl_parser.py AmazonStateLanguageParser.parse`` by definition text (at most
``_PARSE_CACHE_SIZE`` definitions, oldest evicted; a syntax error is never cached). The evaluation components are
declarations (every per-run value lives in the execution's Environment; the mutable workers of Map and Parallel are
created per evaluation), so one parsed program serves every execution of a definition.

The programs are also kept on disk (``program_cache_dir()``: asl-programs/ in the user's cache folder,
shiftflow.user_cache), pickled, keyed by a digest of the definition,
the moto and Python versions and the source of every gap module: a program depends on nothing else, so the next
process (the local cloud's next start, every in-process runtime) loads it instead of parsing. An unreadable entry is
parsed again and replaced. A program loaded from disk comes without its ANTLR parse tree (the second item of
``parse``'s answer is None): only moto's static analysers read the tree, and moto's backend never calls them.

To drop: when moto caches parsed programs itself, delete this module and its entry in ``_activation.GAPS``;
tests/unit/local/moto_gaps/test_parse_cache.py must still pass. Re-check the "declarations only" premise above on
every moto upgrade: a component that keeps per-run state would make the cache share it between executions.
"""

from __future__ import annotations

import functools
import hashlib
import sys
import threading
from pathlib import Path
from typing import Any

import moto
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from shiftflow.local.moto_gaps._patcher import Patcher
from shiftflow.user_cache import load_entry, save_entry, user_cache_dir

_PARSE_CACHE_SIZE = 256


def program_cache_dir() -> Path:
    return user_cache_dir("asl-programs")


@functools.cache
def _code_digest() -> str:
    """What a parsed program depends on besides its definition: moto, Python, and the gaps' source."""
    digest = hashlib.sha256(f"{moto.__version__}\0{sys.version}".encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _entry(definition: str) -> Path:
    key = hashlib.sha256(f"{_code_digest()}\0{definition}".encode()).hexdigest()
    return program_cache_dir() / f"{key}.pickle"


def load_program(definition: str) -> Any | None:
    """The program of `definition` from disk, or None (never parsed with this code, or unreadable)."""
    return load_entry(_entry(definition))


def save_program(definition: str, program: Any) -> None:
    """Keep `program` on disk for the next process; a cache that cannot be written only costs the next parse."""
    save_entry(_entry(definition), program)


def apply(patcher: Patcher) -> None:
    original = AmazonStateLanguageParser.__dict__["parse"].__func__
    parsed: dict[str, Any] = {}
    lock = threading.Lock()

    def parse_or_load(definition: str) -> Any:
        program = load_program(definition)
        if program is not None:
            return program, None
        result = original(definition)  # a syntax error raises and is never cached
        save_program(definition, result[0])
        return result

    def parse(definition: str) -> Any:
        with lock:
            if definition in parsed:
                return parsed[definition]
        result = parse_or_load(definition)
        with lock:
            if len(parsed) >= _PARSE_CACHE_SIZE:
                parsed.pop(next(iter(parsed)))
            parsed[definition] = result
        return result

    patcher.set(AmazonStateLanguageParser, "parse", staticmethod(parse))
