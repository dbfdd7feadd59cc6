"""shiftflow.cli.typer_coercion: every parameter of every command coerces a value as typer itself does, pydantic is
left unimported when no value needs it, and without the typer names it relies on typer is left as it is."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import typer.core
import typer.main

from shiftflow.cli import typer_coercion
from shiftflow.cli.app import CommandGroup, app
from tests.conftest import ROOT


def _every_command() -> list[Any]:
    """Every click command of the CLI, the lazy sub-apps' included."""
    group = typer.main.get_command(app)
    found: list[Any] = []

    def walk(command: Any) -> None:
        found.append(command)
        if hasattr(command, "list_commands"):
            ctx = command.context_class(command)
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name))

    walk(group)
    assert any(name in {c.name for c in found} for name in CommandGroup.LAZY_SUBAPPS)
    return found


def _samples(param: Any) -> list[Any]:
    """The default and values as the command line gives them (text), typed values, out-of-range numbers."""
    annotation = param.type_descriptor.annotation
    values: list[Any] = [param.default, None, "text", "", "7", "-3", "."]
    if annotation in (int, float):
        values += [0, 1, 5, 10**9, -1, 2.5, True]
    if isinstance(annotation, type) and issubclass(annotation, Path):
        values += [Path("."), Path("/nonexistent/folder"), ROOT / "template.yaml"]
    if param.multiple:
        values += [(), ("a", "b"), ["a"], ("a", 1)]
    return values


def _outcome(runtime: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    try:
        coerced = runtime.coerce(value, param=param, ctx=ctx)
    except Exception as error:  # noqa: BLE001 - the same refusal is expected from both
        return "error", (type(error).__name__, str(error))
    return "value", (type(coerced), coerced)


def test_every_parameter_coerces_every_value_as_typer_does() -> None:
    typer_build = typer.core.build_runtime_param
    if isinstance(typer_build, typer_coercion._DeferringBuilder):  # noqa: SLF001 - installed by another test's process
        typer_build = typer_build.build
    from typer._param_types import coerce_cli_path

    checked = 0
    for command in _every_command():
        ctx = command.context_class(command)
        for param in command.params:
            if not hasattr(param, "type_descriptor"):
                continue  # click's own --help
            deferred = typer_coercion.DeferredCoercion(param.type_descriptor, typer_build, coerce_cli_path)
            for value in _samples(param):
                if param.type_descriptor.annotation is bool and isinstance(value, bool):
                    continue  # typer never coerces a bool flag's bool
                real = typer_build(param.type_descriptor)
                assert _outcome(deferred, value, param, ctx) == _outcome(real, value, param, ctx), \
                    (command.name, param.name, value)
                checked += 1
    assert checked > 500


def test_a_command_parsed_with_defaults_and_plain_values_imports_no_pydantic() -> None:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import sys
        from shiftflow.cli import typer_coercion
        print(typer_coercion.defer_pydantic_coercion())
        import typer.main
        from shiftflow.cli.app import app
        group = typer.main.get_command(app)
        ctx = group.make_context("shiftflow", ["status", "sales_data_pipeline", "--json"])
        status = group.get_command(ctx, "status")
        print(sorted(status.make_context("status", ["sales_data_pipeline", "--json"], parent=ctx).params.items()))
        print("pydantic" in sys.modules)
        history = group.get_command(ctx, "history")
        history.make_context("history", ["--limit", "3"], parent=ctx)  # text to an int: typer's own coercion
        print("pydantic" in sys.modules)
    """)], capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                          timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "True"
    assert lines[1] == str(sorted({"job": "sales_data_pipeline", "stack": None, "local": False, "project": Path("."),
                                   "verbose": False, "as_json": True}.items()))
    assert lines[2:] == ["False", "True"]


def test_without_the_typer_names_it_relies_on_typer_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    original = typer.core.build_runtime_param
    monkeypatch.setattr(typer.core, "build_runtime_param", original)  # restored after the test
    monkeypatch.setitem(sys.modules, "typer._param_types", None)  # another typer: the name is gone
    assert typer_coercion.defer_pydantic_coercion() is False
    assert typer.core.build_runtime_param is original
    monkeypatch.delitem(sys.modules, "typer._param_types")
    monkeypatch.delattr(typer.core, "build_runtime_param")
    assert typer_coercion.defer_pydantic_coercion() is False
    assert not hasattr(typer.core, "build_runtime_param")


def test_installed_the_cli_still_parses_and_refuses_as_typer_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    monkeypatch.setattr(typer.core, "build_runtime_param", typer.core.build_runtime_param)  # restored after
    assert typer_coercion.defer_pydantic_coercion() is True
    assert typer_coercion.defer_pydantic_coercion() is True  # once only
    assert isinstance(typer.core.build_runtime_param, typer_coercion._DeferringBuilder)  # noqa: SLF001
    assert not isinstance(typer.core.build_runtime_param.build, typer_coercion._DeferringBuilder)  # noqa: SLF001
    refused = CliRunner().invoke(app, ["history", "--limit", "0"])
    assert refused.exit_code == 2 and "--limit" in refused.output
    assert CliRunner().invoke(app, ["version"]).exit_code == 0
