"""Ctrl-C while a command follows an execution: the command stops, saying how to follow the execution again."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console

from shiftflow.cli import progress, render


def test_ctrl_c_while_following_names_the_watch_command(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt
        yield  # a generator, as follow is

    monkeypatch.setattr(progress, "follow", interrupted)  # render imports it when it follows
    arn = "arn:aws:states:us-east-1:123456789012:execution:pipeline:run-1"
    connection = SimpleNamespace(client=lambda service: None, is_local=True)
    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        render.follow_to_end(connection, "pipeline", arn, Console(file=out, width=300))  # type: ignore[arg-type]
    assert f"the execution goes on: shiftflow watch {arn}" in out.getvalue()
