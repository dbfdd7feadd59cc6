"""The Makefile's commands as `make -n` prints them (nothing runs): deploy stages the scripts after sam deploy,
for the stack and region samconfig.toml gives each environment; test runs on both cores."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def planned_commands(target: str, tmp_path: Path, *variables: str) -> list[str]:
    # VENV in tmp_path: the setup steps are printed too, never run. Not the flags of a `make test` running this.
    environment = {name: value for name, value in os.environ.items() if name not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "-C", str(ROOT), target, f"BIN={BIN}", f"VENV={tmp_path}", *variables],
        capture_output=True, text=True, timeout=60, check=True, env=environment)
    return [line.strip() for line in result.stdout.splitlines()]


@pytest.mark.parametrize(
    ("env", "sync"),
    [
        ("default", f"{BIN}/shiftflow scripts sync --stack shiftflow"),
        ("dev", f"{BIN}/shiftflow scripts sync --stack shiftflow-dev"),
        ("prod", f"AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1 {BIN}/shiftflow scripts sync --stack shiftflow-prod"),
    ],
)
def test_deploy_stages_the_scripts_of_the_stack_it_deployed(tmp_path, env, sync):
    commands = planned_commands("deploy", tmp_path, f"ENV={env}")
    deploy = commands.index(f"{BIN}/sam deploy --config-env {env}")
    assert commands[deploy + 1:] == [sync]


def test_make_test_runs_the_suite_on_two_workers(tmp_path):
    assert planned_commands("test", tmp_path)[-1] == f"{BIN}/pytest -q -n 2 --dist loadfile"
