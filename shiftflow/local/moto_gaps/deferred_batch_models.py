"""Gap 11: importing the Step Functions interpreter costs 0.8 s of EC2 models.

moto behaviour (checked against moto 5.2.5): the interpreter's Batch integration imports ``moto.batch.utils`` for an
enum, ``moto/batch/__init__.py`` imports ``moto.batch.models``, and that imports ``moto.ec2`` (its region and
instance-type tables).

Fix: ``defer_batch_models`` registers the package ``moto.batch`` without running its ``__init__``; its one export,
``batch_backends``, is loaded from ``moto.batch.models`` when first asked for (a mocked Batch still works). It runs
once, when ``shiftflow.local.moto_gaps`` is imported and before any moto internal is, and is not undone by the end of
an activation (moto.batch stays a lazy package; nothing else about it changes).

To drop: when ``moto/batch/__init__.py`` no longer imports its models eagerly (or the interpreter no longer imports
moto.batch), delete this module and its call in ``shiftflow/local/moto_gaps/__init__.py``;
tests/unit/local/moto_gaps/test_deferred_batch_models.py must still pass.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import moto


def defer_batch_models() -> None:
    """The package moto.batch, registered without importing its models (and EC2's) until they are used."""
    if "moto.batch" in sys.modules:
        return
    spec = importlib.util.find_spec("moto.batch")
    package = importlib.util.module_from_spec(spec)  # __path__ set, __init__ not run

    def __getattr__(name: str) -> Any:  # PEP 562: what moto/batch/__init__.py would have imported
        return getattr(importlib.import_module("moto.batch.models"), name)

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules["moto.batch"] = package
    moto.batch = package  # type: ignore[attr-defined]  # `import moto.batch; moto.batch.x` works as before
