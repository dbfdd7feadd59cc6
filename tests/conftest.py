"""Shared test set-up: no real AWS credentials or endpoints are ever used."""

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from shiftflow.local.functions import load_module

ROOT = Path(__file__).resolve().parents[1]
# A statement that runs for minutes unless it is cancelled (CancelStatement interrupts it at once), in Redshift's
# SQL, which the translator runs (DuckDB's range() is not Redshift's): ten digits joined eleven times, 10^11 rows.
SLOW_SQL = ("with d(x) as (select 0 union all select 1 union all select 2 union all select 3 union all select 4"
            " union all select 5 union all select 6 union all select 7 union all select 8 union all select 9)"
            " select count(*) from d a, d b, d c, d e, d f, d g, d h, d i, d j, d k, d l"
            " where a.x * b.x + c.x * e.x + f.x * g.x + h.x * i.x + j.x * k.x * l.x = 7;")

# Fake credentials and a fixed region before any boto3 client exists: nothing may reach AWS.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    POWERTOOLS_SERVICE_NAME="shiftflow-tests",
)


# The AWS CLI the development environment installs (requirements-dev.in), beside this interpreter: a fresh machine's
# PATH need not have one, nor the environment's bin folder.
AWS_CLI = str(Path(sys.executable).with_name("aws"))


def aws_cli(endpoint_url: str, *args: str, binary_as_text: bool = False) -> subprocess.CompletedProcess:
    """The real AWS CLI against `endpoint_url` (AWS_ENDPOINT_URL, as an outsider sets it), dummy credentials, no
    config file or pager. binary_as_text: blob arguments are their text (version 2 takes base64 unless told)."""
    assert Path(AWS_CLI).is_file(), "the AWS CLI is part of the development environment (make setup)"
    if binary_as_text and _aws_cli_major() == 2:
        args = (*args, "--cli-binary-format", "raw-in-base64-out")
    environment = {**os.environ, "AWS_ENDPOINT_URL": endpoint_url, "AWS_ACCESS_KEY_ID": "testing",
                   "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": "",
                   "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    environment.pop("AWS_SESSION_TOKEN", None)
    # Set by a local runtime running in this process (shiftflow.local.runtime._fake_credentials), not by an outsider.
    environment.pop("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", None)
    return subprocess.run([AWS_CLI, *args], capture_output=True, text=True, env=environment, timeout=120)


def _aws_cli_major() -> int:
    version = subprocess.run([AWS_CLI, "--version"], capture_output=True, text=True, timeout=60)
    return 2 if (version.stdout + version.stderr).startswith("aws-cli/2") else 1


def load_function(name: str) -> ModuleType:
    """Import functions/<name>/app.py afresh (each function's module is called app, as SAM lays them out)."""
    return load_module(ROOT / "functions" / name)


@pytest.fixture
def lambda_context():
    class Context:
        function_name = "test-function"
        memory_limit_in_mb = 128
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
        aws_request_id = "00000000-0000-0000-0000-000000000000"

        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 60_000

    return Context()


def staged_stage_input(runtime: Any, workflow_id: str, execution_id: str, stage: dict[str, Any],
                       stage_token_seed: str) -> dict[str, Any]:
    """The input of a workflow_stage execution as the workflow starts it (the stage's number), its plan staged in
    the run plan table as LoadWorkflow stages it: for tests that run a stage without its workflow."""
    from shiftflow.workflows import plan_table

    run_plan = {"workflow_execution_id": execution_id, "stages": [{"settled": [], **stage}]}
    plan_table.stage(runtime.client("dynamodb"), runtime.table_names["RunPlanTable"], run_plan,
                     "2026-12-01T00:00:00.000Z")
    return {"workflow_id": workflow_id, "workflow_execution_id": execution_id,
            "stage": {"number": stage["number"], "run": stage["run"]}, "stage_token_seed": stage_token_seed}
