"""Gap 10: every execution start re-parses its definition.

moto behaviour (checked against moto 5.2.5): each start parses the definition with ANTLR (0.03 s for run_sql_job,
0.75 s for the sales pipeline), and create_state_machine parses it once more to validate it.

Fix: memoizes ``.../asl/parse/asl_parser.py AmazonStateLanguageParser.parse`` by definition text (at most
``_PARSE_CACHE_SIZE`` definitions, oldest evicted; a syntax error is never cached). The evaluation components are
declarations (every per-run value lives in the execution's Environment; the mutable workers of Map and Parallel are
created per evaluation), so one parsed program serves every execution of a definition.

Known limit: the first parse of each definition still costs its ANTLR time once per process.

To drop: when moto caches parsed programs itself, delete this module and its entry in ``_activation.GAPS``;
tests/unit/local/moto_gaps/test_parse_cache.py must still pass. Re-check the "declarations only" premise above on
every moto upgrade: a component that keeps per-run state would make the cache share it between executions.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from shiftflow.local.moto_gaps._patcher import Patcher

_PARSE_CACHE_SIZE = 256


def apply(patcher: Patcher) -> None:
    original = AmazonStateLanguageParser.__dict__["parse"].__func__
    parsed: dict[str, Any] = {}
    lock = threading.Lock()

    def parse(definition: str) -> Any:
        with lock:
            if definition in parsed:
                return parsed[definition]
        result = original(definition)  # a syntax error raises and is never cached
        with lock:
            if len(parsed) >= _PARSE_CACHE_SIZE:
                parsed.pop(next(iter(parsed)))
            parsed[definition] = result
        return result

    patcher.set(AmazonStateLanguageParser, "parse", staticmethod(parse))
