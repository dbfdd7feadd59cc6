"""Command output in these tests is read as text: a wide console so that no table cell is cut to fit 80 columns."""

import pytest


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture(autouse=True, scope="session")
def in_process_commands():
    """Commands invoked in these tests' own process run the local assembly in-process (one per command), so that
    no test leaves a background local cloud behind; tests/integration/test_local_cloud.py starts and stops its own.
    Session-wide: module-scoped fixtures run commands too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHIFTFLOW_LOCAL_MODE", "in-process")
        yield
