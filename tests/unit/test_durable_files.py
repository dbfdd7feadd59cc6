"""shiftflow.durable_files: a reader of a RecordFolder racing its owner."""

from __future__ import annotations

from pathlib import Path

import pytest

from shiftflow.durable_files import RecordFolder


def test_a_record_removed_between_the_listing_and_the_read_is_gone_not_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = RecordFolder(tmp_path / "firings")
    records.save("a", {"n": 1})
    records.save("b", {"n": 2})
    listed = Path.glob

    def list_then_remove(self: Path, pattern: str):  # type: ignore[no-untyped-def]
        paths = list(listed(self, pattern))
        records.remove("a")  # the owner removes a record once the reader has listed the folder
        return iter(paths)

    monkeypatch.setattr(Path, "glob", list_then_remove)
    assert records.records() == [{"n": 2}]
