"""Compiled regular expressions kept across processes, in the user's cache (shiftflow.user_cache).

A command's process compiles about 140 patterns while it imports botocore, urllib3, rich and typer and makes its
first client (urllib3's URL and IPv6 patterns, botocore's endpoint rules ...): about 40 ms CPU of `shiftflow status`
(benchmarks/status_latency.py), all in Python's pure-Python pattern parser and compiler. What that compiler hands to
the C engine (`_sre.compile`: the final flags, the opcode list, the group count and names) depends only on the
pattern, its flags and the Python version, so it is kept, keyed by those, and a pattern met again is given to the C
engine at once: the same Pattern object (Pattern equality compares the opcodes; `install` checks it on probes
before changing anything). An unreadable or foreign cache file is ignored and replaced, and a pattern not in it
is compiled as Python compiles it: a cold cache costs only the compilation it would have cost anyway. The one
difference: a pattern's compile-time warnings (a deprecated escape) are given when it is first compiled, not by
every process.

It replaces `re._compiler.compile` (the function `re.compile` calls on a miss of its own in-process cache), a
private name of CPython 3.11+: when it is missing, or the probes do not compile the same, nothing is changed.
"""

from __future__ import annotations

import atexit
import re
import sys
from typing import Any

from shiftflow.user_cache import load_entry, save_entry, user_cache_dir

CACHE_KIND = "regex"
# Far more than a command and the local cloud's start compile (about 150 and 1,500). A file that would grow past
# it (patterns made from data, libraries upgraded) starts over with the patterns of the process saving it.
MAX_PATTERNS = 4096
_PROBES = ((r"(?P<name>[a-z]+)-(\d{2,})?$", re.IGNORECASE), (rb"^\s*(?:a|b)+?(?=c)", 0), (r"(?x) \[ (?P<x>.) \]", 0))

_DEBUG = int(re.DEBUG)  # an int: `flags & re.DEBUG` would make a RegexFlag (an Enum call) for every pattern
_known: dict[tuple[Any, int], tuple[Any, ...]] = {}
_added: dict[tuple[Any, int], tuple[Any, ...]] = {}
_used: set[tuple[Any, int]] = set()
_original: Any = None


def cache_file() -> Any:
    import _sre

    version = "-".join(map(str, sys.version_info[:3]))
    return user_cache_dir(CACHE_KIND) / f"{sys.implementation.name}-{version}-{_sre.MAGIC}-{_sre.CODESIZE}.pickle"


def install() -> bool:
    """From now on in this process, patterns are compiled through the cache, which is saved at exit when new ones
    were compiled. False (nothing changed) when this Python's compiler is not the one relied on."""
    global _original
    if _original is not None:
        return True
    compiler = getattr(re, "_compiler", None)
    original = getattr(compiler, "compile", None)
    if original is None or not all(_engine_pattern(pattern, flags) == original(pattern, flags)
                                   for pattern, flags in _PROBES):
        return False
    loaded = load_entry(cache_file())
    if isinstance(loaded, dict):
        _known.update(loaded)
    _original = original
    compiler.compile = _compile  # type: ignore[union-attr]
    atexit.register(save)
    return True


def _compile(pattern: Any, flags: int = 0) -> Any:
    """`re._compiler.compile` through the cache: a str or bytes pattern (not a parsed one, not DEBUG)."""
    if not isinstance(pattern, (str, bytes)) or int(flags) & _DEBUG:
        return _original(pattern, flags)
    import _sre

    key = (pattern, int(flags))
    known = _known.get(key)
    if known is not None:
        try:
            compiled = _sre.compile(pattern, *known)
            _used.add(key)
            return compiled
        except (TypeError, ValueError, RuntimeError):  # not what this engine takes (a foreign entry): compiled afresh
            del _known[key]
    arguments = _engine_arguments(pattern, int(flags))
    if len(_added) < MAX_PATTERNS:  # a long-lived process compiling patterns made from data keeps only so many
        _added[key] = arguments
    return _sre.compile(pattern, *arguments)


def _engine_arguments(pattern: str | bytes, flags: int) -> tuple[Any, ...]:
    """What re._compiler.compile gives _sre.compile after `pattern` (its own steps, in its own order)."""
    from re import _compiler, _parser  # type: ignore[attr-defined]

    parsed = _parser.parse(pattern, flags)
    # The compiler's own opcode generation; as plain ints (its opcodes are named int constants, not picklable).
    code = [int(item) for item in _compiler._code(parsed, flags)]  # noqa: SLF001
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    return flags | parsed.state.flags, code, parsed.state.groups - 1, groupindex, tuple(indexgroup)


def _engine_pattern(pattern: str | bytes, flags: int) -> Any:
    import _sre

    return _sre.compile(pattern, *_engine_arguments(pattern, flags))


def save() -> None:
    """The patterns this process compiled added to the cache file, with those another process saved meanwhile.
    (Copies first: another thread may be compiling.)"""
    added, used = dict(_added), set(_used)
    if not added:
        return
    entry = cache_file()
    current = load_entry(entry)
    merged = {**current, **added} if isinstance(current, dict) else added
    if len(merged) > MAX_PATTERNS:
        merged = {**{key: _known[key] for key in used if key in _known}, **added}
    save_entry(entry, dict(list(merged.items())[:MAX_PATTERNS]))
    _known.update(added)
    _used.update(added)
    for key in added:
        _added.pop(key, None)
