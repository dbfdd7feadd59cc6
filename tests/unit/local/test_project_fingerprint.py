"""The project's fingerprint every command compares with what it last pushed to its local cloud."""

from __future__ import annotations

import os
from pathlib import Path

from shiftflow.local.cloud.project import project_fingerprint


def test_the_fingerprint_lists_the_files_of_scripts_and_workflows_with_their_size_and_time(tmp_path: Path) -> None:
    (tmp_path / "scripts" / "sales").mkdir(parents=True)
    (tmp_path / "workflows").mkdir()
    (tmp_path / "scripts" / "sales" / "load.sql").write_text("select 1;")
    (tmp_path / "workflows" / "daily.json").write_text("{}")
    (tmp_path / "scripts" / "gone.sql").symlink_to(tmp_path / "missing.sql")  # a dangling link: no file
    (tmp_path / "other.txt").write_text("not synced")
    stamp = os.stat(tmp_path / "scripts" / "sales" / "load.sql").st_mtime_ns
    fingerprint = project_fingerprint(tmp_path)
    assert [entry[0] for entry in fingerprint] == ["scripts/sales/load.sql", "workflows/daily.json"]
    assert fingerprint[0][1:] == [9, stamp]
    (tmp_path / "scripts" / "sales" / "load.sql").write_text("select 22;")
    assert project_fingerprint(tmp_path) != fingerprint
