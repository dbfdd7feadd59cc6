"""Compiled patterns kept across processes (shiftflow.regex_cache): the same Pattern objects cold and warm, a
damaged cache ignored and replaced, a bounded file, and only a command's process uses it."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ROOT

# Patterns of every kind the parser handles: flags inline and given, named groups, bytes, look-arounds,
# repetitions, character classes, Unicode, conditionals, the patterns of the libraries a command imports.
PATTERNS = """[
    (r"(?P<name>[a-z]+)-(\\d{2,})?$", 0), (r"(?i)straße|ǅ", 0), (rb"^\\s*(?:GET|POST) (?P<path>\\S+)", 0),
    (r"(?<=a)b(?!c)(?<!d)", re.MULTILINE | re.DOTALL), (r"(?x) \\[ (?P<x>.) \\] # comment", 0),
    (r"(a)?(?(1)b|c)", 0), (r"[^\\W\\d_]{1,3}?\\b", re.ASCII), (rb"[\\x00-\\x7f]+", re.IGNORECASE),
    (r"(?:(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)", 0), (r"\\A\\Z", re.VERBOSE),
]"""
PROBE = f"""
import re, sys
from shiftflow import regex_cache
print(regex_cache.install())
patterns = {PATTERNS}
import urllib3, rich.text  # the libraries' own patterns, through the cache
same = [regex_cache._compile(p, f) == regex_cache._original(p, f) for p, f in patterns]
compiled = [re.compile(p, f) for p, f in patterns]
print(all(same), compiled[2].match(b"  GET /a").group("path") == b"/a", compiled[1].search("STRASSE") is None)
print(len(regex_cache._known), len(regex_cache._added))
"""


def _python(code: str, cache: Path) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SHIFTFLOW_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\n")


def _cache_file(cache: Path) -> Path:
    (file,) = (cache / "regex").iterdir()
    return file


def test_patterns_are_the_same_compiled_cold_and_read_from_the_cache(tmp_path: Path) -> None:
    installed, checks, cold = _python(PROBE, tmp_path)[:3]
    assert installed == "True" and checks == "True True True"
    known, added = map(int, cold.split())
    assert known == 0 and added > 20  # urllib3's and rich's patterns, and the probes
    saved = pickle.loads(_cache_file(tmp_path).read_bytes())
    assert len(saved) == added
    installed, checks, warm = _python(PROBE, tmp_path)[:3]
    assert installed == "True" and checks == "True True True"
    assert warm.split() == [str(added), "0"]  # every pattern read from the cache, nothing new to save


def test_a_damaged_cache_is_ignored_and_replaced(tmp_path: Path) -> None:
    _python(PROBE, tmp_path)
    file = _cache_file(tmp_path)
    file.write_bytes(b"not a pickle")
    assert _python(PROBE, tmp_path)[1] == "True True True"
    assert isinstance(pickle.loads(file.read_bytes()), dict)
    # A readable file whose entries the engine refuses: each such pattern compiled afresh.
    entries = pickle.loads(file.read_bytes())
    file.write_bytes(pickle.dumps({key: (0, [12345], 0, {}, ()) for key in entries}))
    assert _python(PROBE, tmp_path)[1] == "True True True"


def test_the_cache_file_stays_bounded(tmp_path: Path) -> None:
    done = _python("""
        import re
        from shiftflow import regex_cache
        regex_cache.MAX_PATTERNS = 50
        regex_cache.install()
        for number in range(80):
            re.compile(f"made from data {number}")
        regex_cache.save()
        print(len(regex_cache._known))
    """, tmp_path)
    assert len(pickle.loads(_cache_file(tmp_path).read_bytes())) == 50
    assert int(done[0]) <= 50


def test_only_a_command_process_compiles_through_the_cache(tmp_path: Path) -> None:
    imported = _python("""
        import re
        from re import _compiler
        original = _compiler.compile
        import shiftflow.cli.app
        print(_compiler.compile is original)
    """, tmp_path)
    assert imported[0] == "True"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SHIFTFLOW_CACHE_DIR": str(tmp_path)}
    version = subprocess.run([sys.executable, "-m", "shiftflow.cli.app", "version"], capture_output=True, text=True,
                             env=env, cwd=ROOT, timeout=120)
    assert version.returncode == 0 and version.stdout.startswith("shiftflow ")
    assert len(pickle.loads(_cache_file(tmp_path).read_bytes())) > 20  # typer's and rich's patterns, at least
