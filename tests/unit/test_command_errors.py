"""A command's unexpected error: one line on stderr (exit 2), and its traceback kept in the state folder, so an
intermittent failure can be read after the fact (it is gone by the time --verbose runs)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import typer

from shiftflow.cli import common


def test_an_unexpected_error_keeps_its_traceback_in_the_state_folder(monkeypatch: Any, tmp_path: Path,
                                                                       capsys: Any) -> None:
    @contextmanager
    def connected(*args: Any, **kwargs: Any) -> Any:
        yield object()

    monkeypatch.setattr(common, "connect", connected)
    monkeypatch.setenv("SHIFTFLOW_STATE_DIR", str(tmp_path / "state"))
    for attempt in range(2):
        with pytest.raises(typer.Exit) as exited:
            with common.session(None, False, tmp_path, None, False):
                {}["status"]  # noqa: B018 - the failure under test
        assert exited.value.exit_code == common.EXIT_CANNOT_RUN
    printed = " ".join(capsys.readouterr().err.split())
    kept = tmp_path / "state" / common.COMMAND_ERRORS
    assert "KeyError on the local runtime: 'status'" in printed and f"traceback is in {kept}" in printed
    log = kept.read_text()
    assert log.count("Traceback (most recent call last)") == 2 and "KeyError: 'status'" in log
    assert "test_an_unexpected_error_keeps_its_traceback_in_the_state_folder" in log  # where it was raised


def test_a_stacks_error_keeps_nothing_locally(monkeypatch: Any, tmp_path: Path) -> None:
    @contextmanager
    def connected(*args: Any, **kwargs: Any) -> Any:
        yield object()

    monkeypatch.setattr(common, "connect", connected)
    monkeypatch.setenv("SHIFTFLOW_STATE_DIR", str(tmp_path / "state"))
    with pytest.raises(typer.Exit):
        with common.session("prod", False, tmp_path, None, False):
            raise RuntimeError("boom")
    assert not (tmp_path / "state").exists()
