"""Assemble the shared Lambda layer: the Lambda-safe parts of `shiftflow` plus pure-Python dependencies.

Run by the layer's Makefile (`sam build` -> `make build-SharedLayer`) with the project's virtual environment,
never with pip: every dependency is copied file by file from that environment, following each distribution's
RECORD, at the version pinned in requirements-dev.txt. The build fails when

- a listed distribution is missing, or installed at another version than the lock file pins;
- a distribution is not a pure-Python wheel (WHEEL tags other than py3-none-any / py2.py3-none-any), or any
  copied file is a compiled extension (.so, .pyd, .dylib, .dll).

That is what makes the layer valid for any python3.x runtime (python3.13 on Lambda) although it is built here
with Python 3.11, offline.

Then the layer's modules are compiled to bytecode for the functions' runtime (template.yaml's Globals Runtime,
python3.13), by an interpreter of that version: Lambda's /opt is read-only, so a layer without bytecode is
compiled again at every cold start (about 1 s of the handlers' imports instead of 0.35 s). The .pyc files are
"unchecked-hash" ones: valid whatever the modification times the layer's zip gives its sources (the layer never
changes once published). The interpreter is $LAYER_BYTECODE_PYTHON, else the first python3.X of that version found
on PATH or in pyenv's versions; none found builds sources alone with a warning, as LAYER_BYTECODE_PYTHON=none does (a layer of
sources alone); a LAYER_BYTECODE_PYTHON of another version fails the build.

Usage: python build_layer.py <project root> <destination python/ directory>
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
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
        # Console scripts live outside site-packages (../../bin); the environment's byte code is for its own
        # Python: the layer's is compiled for the functions' runtime afterwards (compile_bytecode).
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


def functions_runtime(template: Path) -> str:
    """The Runtime of template.yaml's Globals Function section (python3.13)."""
    found = re.search(r"^Globals:\n(?:[ \t].*\n|\n)*?[ \t]+Runtime:[ \t]*(python3\.\d+)", template.read_text(), re.MULTILINE)
    if not found:
        raise LayerBuildError(f"{template} sets no Globals Function Runtime: the layer's bytecode needs its version")
    return found.group(1)


def interpreter_version(interpreter: str) -> str | None:
    """`python3.13` for an interpreter that runs and is CPython 3.13; None for one that does not run."""
    try:
        done = subprocess.run([interpreter, "-I", "-c", "import sys; print('python%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def bytecode_interpreter(runtime: str, environment: dict[str, str]) -> str | None:
    """The interpreter that compiles the layer for `runtime`, or None when told to ship sources alone."""
    configured = environment.get("LAYER_BYTECODE_PYTHON", "")
    if configured.lower() == "none":
        return None
    version = runtime.removeprefix("python")
    pyenv_root = Path(environment.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates = [configured] if configured else [
        *filter(None, [shutil.which(runtime, path=environment.get("PATH"))]),
        *(str(path) for path in sorted(pyenv_root.glob(f"versions/{version}*/bin/{runtime}"), reverse=True)),
    ]
    for candidate in candidates:
        if interpreter_version(candidate) == runtime:
            return candidate
    if configured:
        raise LayerBuildError(f"LAYER_BYTECODE_PYTHON={configured} is not a {runtime} interpreter: set it to one, "
                              "or LAYER_BYTECODE_PYTHON=none for a layer of sources alone (slower cold starts)")
    # No interpreter of the runtime's version here (a machine with Python 3.11 alone): sources alone, said loudly.
    print(f"  warning: no {runtime} interpreter on PATH or in pyenv: the layer ships no bytecode (slower cold "
          f"starts); set LAYER_BYTECODE_PYTHON to a {runtime} to compile it", file=sys.stderr)
    return None


def compile_bytecode(destination: Path, interpreter: str) -> None:
    """Every module of the layer compiled by `interpreter` into __pycache__ (unchecked-hash .pyc files)."""
    done = subprocess.run([interpreter, "-I", "-m", "compileall", "-q", "-j", "0", "--invalidation-mode",
                           "unchecked-hash", str(destination)], capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise LayerBuildError(f"compiling the layer with {interpreter} failed: {(done.stdout + done.stderr)[-2000:]}")


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
        interpreter = bytecode_interpreter(functions_runtime(root / "template.yaml"), dict(os.environ))
        if interpreter is not None:
            compile_bytecode(destination, interpreter)
            print(f"  bytecode: compiled by {interpreter}")
    except LayerBuildError as error:
        print(f"layer build failed: {error}", file=sys.stderr)
        return 1
    print(f"shared layer: {total} files in {destination}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
