"""Gap 4: a definite JSONPath (``$[0].v``, ``$.list[0].x``) returns a one-element list.

moto behaviour (checked against moto 5.2.5): ``.../asl/utils/json_path.py extract_json`` wraps the match of a path
that ends in (or passes through) an index in a list, so ``$[0].v`` gives ``[1]`` where AWS gives ``1``; and it
re-parses the path on every use.

Fix: replaces ``extract_json`` in every ``moto.stepfunctions.parser`` module that imported it by name: a path made
only of fields and single indexes is definite and yields the value itself, as Jayway JsonPath (AWS) does;
indefinite paths keep moto's behaviour. Parsed paths are cached.

To drop: when moto's ``extract_json`` returns the value of a definite path, delete this module and its entry in
``_activation.GAPS`` (the parse cache goes with it); tests/unit/local/moto_gaps/test_definite_jsonpath.py must still
pass.
"""

from __future__ import annotations

import importlib
import sys
import types
from functools import lru_cache
from typing import Any

from jsonpath_ng.ext import parse as jsonpath_parse
from jsonpath_ng.jsonpath import Child, Fields, Index, JSONPath, Root, This
from moto.stepfunctions.parser.asl.utils import json_path

from shiftflow.local.moto_gaps._patcher import Patcher


def _is_definite(expression: JSONPath) -> bool:
    """Jayway's rule: a path of plain fields and single indexes names one node; anything else is indefinite."""
    if isinstance(expression, (Root, This)):
        return True
    if isinstance(expression, Child):
        return _is_definite(expression.left) and _is_definite(expression.right)
    if type(expression) is Fields:
        return len(expression.fields) == 1 and expression.fields[0] != "*"
    if type(expression) is Index:
        return len(expression.indices) == 1
    return False


@lru_cache(maxsize=4096)
def _compiled_path(path: str) -> tuple[JSONPath, bool]:
    expression = jsonpath_parse(path)
    return expression, _is_definite(expression)


def extract_json(path: str, data: Any) -> Any:
    """moto's ``json_path.extract_json`` with AWS's definite-path rule and a parse cache."""
    expression, definite = _compiled_path(path)
    matches = expression.find(data)
    if definite:
        if not matches:
            raise json_path.NoSuchJsonPathError(json_path=path, data=data)
        return matches[0].value
    # Indefinite paths: moto's original logic, unchanged.
    if not matches:
        if json_path._contains_slice_or_wildcard_array(path):
            return []
        raise json_path.NoSuchJsonPathError(json_path=path, data=data)
    if (
        len(matches) > 1
        or isinstance(matches[0].path, Index)
        or (matches[0].context and isinstance(matches[0].context.path, Index))
    ):
        value = [match.value for match in matches]
        if json_path._is_singleton_array_access(path=path) and len(value) == 1:
            value = value[0]
        return value
    return matches[0].value


def _parser_modules() -> list[types.ModuleType]:
    return [
        module
        for name, module in list(sys.modules.items())
        if name.startswith("moto.stepfunctions.parser") and module is not None
    ]


def _import_jsonpath_users() -> None:
    # Modules that do ``from ...json_path import extract_json``: import them now so that rebind finds them all.
    base = "moto.stepfunctions.parser.asl.component."
    for name in (
        "common.string.string_expression",
        "common.timeouts.timeout",
        "common.timeouts.heartbeat",
        "common.path.input_path",
        "common.path.output_path",
        "intrinsic.argument.argument",
        "state.wait.wait_function.seconds_path",
        "state.state",
        "state.choice.comparison.operator.implementations.timestamp_operators",
        "state.choice.comparison.operator.implementations.boolean_equals",
        "state.choice.comparison.operator.implementations.numeric",
        "state.choice.comparison.operator.implementations.string_operators",
    ):
        importlib.import_module(base + name)


def apply(patcher: Patcher) -> None:
    _import_jsonpath_users()
    patcher.rebind(_parser_modules(), "extract_json", json_path.extract_json, extract_json)
