"""Import a SAM function's handler from its CodeUri folder, as the Lambda runtime would (`app.lambda_handler`)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any


def load_module(code_dir: Path, module: str = "app") -> ModuleType:
    """A fresh import of `<code_dir>/<module>.py` under a name unique to the folder (every function has an app.py)."""
    path = code_dir / f"{module.replace('.', '/')}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no handler module at {path}")
    name = f"shiftflow_function_{code_dir.name}_{module.replace('.', '_')}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def load_handler(code_dir: Path, handler: str) -> Callable[[Any, Any], Any]:
    """`handler` as in the template: `<module>.<function>`."""
    module, _, function = handler.rpartition(".")
    return getattr(load_module(code_dir, module), function)
