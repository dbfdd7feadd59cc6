"""What `make setup` does last: the user's cache (shiftflow.user_cache) filled for this project, so that a fresh
clone's first command does not fill it while the user waits.

    python -m shiftflow.local.warm_caches [--project .]

The local cloud's start parses every state machine of template.yaml with moto's ANTLR parser (about 1.1 s CPU on
an empty cache: the costliest part of a first `make demo`), reads botocore's data files (its services' models,
endpoints.json) and compiles about 550 regular expressions. All are kept in the user's cache, keyed by what they
are derived from: a pattern by its text, flags and the Python version (shiftflow.regex_cache), a program by its
definition's text (as deployed, substitutions applied) with the moto and Python versions and the patches' source
(shiftflow.local.moto_gaps.parse_cache), a data file by its path, size and modification time
(shiftflow.aws_clients). A template or ASL file changed after setup is a different key: it is parsed when first
deployed, never served from an earlier entry. Warming deploys the project once in-process, as the local cloud
deploys it, in a state folder of its own that is removed after (the project's .shiftflow/ is not touched).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from shiftflow.user_cache import user_cache_dir


def warm(project_root: Path) -> None:
    """Deploy the project's template in-process once: every cache its deployment reads is filled."""
    from shiftflow.local.runtime import LocalRuntime

    with tempfile.TemporaryDirectory(prefix="shiftflow-warm-") as state_dir, \
            LocalRuntime(project_root.resolve(), state_dir=Path(state_dir), persist=False, log_level="WARNING"):
        pass


def main(argv: list[str] | None = None) -> None:
    from shiftflow import regex_cache

    regex_cache.install()  # saved at exit, as in a command's process
    parser = argparse.ArgumentParser(prog="python -m shiftflow.local.warm_caches", description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path("."))
    warm(parser.parse_args(argv).project)
    print(f"shiftflow caches warmed in {user_cache_dir('')}")


if __name__ == "__main__":
    main()
