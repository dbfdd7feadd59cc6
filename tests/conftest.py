"""Shared test set-up: no real AWS credentials or endpoints are ever used."""

import os
from pathlib import Path
from types import ModuleType

import pytest

from shiftflow.local.functions import load_module

ROOT = Path(__file__).resolve().parents[1]
# A statement that runs for minutes on DuckDB unless it is cancelled (CancelStatement interrupts it at once).
SLOW_SQL = "select sum(a.range * b.range) from range(200000) a cross join range(200000) b;"

# Fake credentials and a fixed region before any boto3 client exists: nothing may reach AWS.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    POWERTOOLS_SERVICE_NAME="shiftflow-tests",
)


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
