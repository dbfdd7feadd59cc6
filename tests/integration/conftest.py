"""Command output in these tests is read as text: a wide console so that no table cell is cut to fit 80 columns."""

import pytest


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
