"""Assemble the shared Lambda layer: the Lambda-safe parts of `shiftflow` plus pure-Python dependencies.

Run by the layer's Makefile (`sam build` -> `make build-SharedLayer`) with the project's virtual environment,
never with pip: every dependency is copied file by file from that environment, following each distribution's
RECORD, at the version pinned in requirements-dev.txt. The build fails when

- a listed distribution is missing, or installed at another version than the lock file pins;
- a distribution is not a pure-Python wheel (WHEEL tags other than py3-none-any / py2.py3-none-any), or any
  copied file is a compiled extension (.so, .pyd, .dylib, .dll).

That is what makes the layer valid for any python3.x runtime (python3.13 on Lambda) although it is built here
with Python 3.11, offline.

Usage: python build_layer.py <project root> <destination python/ directory>
"""

from __future__ import annotations

import re
import shutil
import sys
from importlib import metadata
from pathlib import Path, PurePosixPath

# The parts of the `shiftflow` package the functions import; dataapi, local and cli stay out (DuckDB, moto, typer).
SHIFTFLOW_PARTS = (
    "shiftflow/__init__.py", "shiftflow/lambda_logs.py", "shiftflow/sql", "shiftflow/jobs", "shiftflow/workflows",
    "shiftflow/guard.py", "shiftflow/heal.py",
)
COMPILED_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
PURE_TAGS = {"py3-none-any", "py2.py3-none-any"}


class LayerBuildError(RuntimeError):
    pass


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_list(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def locked_versions(lock_file: Path) -> dict[str, str]:
    pins = {}
    for line in read_list(lock_file):
        name, sep, version = line.partition("==")
        if sep:
            pins[canonical(name)] = version.strip()
    return pins


def wheel_tags(dist: metadata.Distribution) -> set[str]:
    wheel = dist.read_text("WHEEL") or ""
    tags = {line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")}
    # A py2 + py3 universal wheel lists both tags; either way it is pure Python.
    if {"py2-none-any", "py3-none-any"} <= tags:
        tags = {"py2.py3-none-any"}
    return tags


def installed(name: str) -> metadata.Distribution:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError as error:
        raise LayerBuildError(f"{name} is not installed in {sys.prefix}: run `make setup`") from error


def copy_distribution(dist: metadata.Distribution, pinned: str | None, destination: Path) -> int:
    """Copy one installed distribution's files (per its RECORD) into `destination`; the number of files copied."""
    name = dist.metadata["Name"]
    if pinned is None:
        raise LayerBuildError(f"{name} is not pinned in requirements-dev.txt: pin it before shipping it in the layer")
    if dist.version != pinned:
        raise LayerBuildError(f"{name} {dist.version} is installed but requirements-dev.txt pins {pinned}: run `make setup`")
    tags = wheel_tags(dist)
    if not tags or not tags <= PURE_TAGS:
        raise LayerBuildError(f"{name} {dist.version} is not a pure-Python wheel (tags {sorted(tags)}): it cannot go in the layer")
    copied = 0
    for relative in dist.files or []:
        parts = PurePosixPath(str(relative)).parts
        # Console scripts live outside site-packages (../../bin); byte code is rebuilt by the runtime.
        if parts[0] == ".." or "__pycache__" in parts or relative.suffix == ".pyc":
            continue
        if relative.suffix in COMPILED_SUFFIXES:
            raise LayerBuildError(f"{name} {dist.version} contains a compiled extension {relative}: it cannot go in the layer")
        source = Path(dist.locate_file(relative))
        target = destination / Path(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        copied += 1
    return copied


def copy_shiftflow(root: Path, destination: Path) -> int:
    copied = 0
    for part in SHIFTFLOW_PARTS:
        source = root / part
        files = [source] if source.is_file() else sorted(source.rglob("*.py"))
        if not files or not source.exists():
            raise LayerBuildError(f"{source} is missing: the layer needs {part}")
        for file in files:
            if "__pycache__" in file.parts:
                continue
            target = destination / file.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, target)
            copied += 1
    return copied


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    root, destination = Path(argv[1]).resolve(), Path(argv[2])
    layer_dir = Path(__file__).resolve().parent
    pins = locked_versions(root / "requirements-dev.txt")
    try:
        destination.mkdir(parents=True, exist_ok=True)
        total = copy_shiftflow(root, destination)
        for name in read_list(layer_dir / "packages.txt"):
            copied = copy_distribution(installed(name), pins.get(canonical(name)), destination)
            print(f"  {name}=={pins[canonical(name)]}: {copied} files")
            total += copied
    except LayerBuildError as error:
        print(f"layer build failed: {error}", file=sys.stderr)
        return 1
    print(f"shared layer: {total} files in {destination}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
