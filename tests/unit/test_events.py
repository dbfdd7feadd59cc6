"""Every function has a `sam local invoke -e events/<name>.json` event, every state machine an input."""

import json
from pathlib import Path

import pytest

from tests.conftest import load_function

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(path.name for path in (ROOT / "functions").iterdir() if (path / "app.py").is_file())
MACHINES = sorted(path.name.removesuffix(".asl.json") for path in (ROOT / "statemachine").glob("*.asl.json"))


@pytest.mark.parametrize("name", FUNCTIONS + MACHINES)
def test_event_exists_and_is_a_json_object(name):
    event = json.loads((ROOT / "events" / f"{name}.json").read_text())
    assert isinstance(event, dict) and event


def test_describe_failure_event_explains_a_failed_child_job(lambda_context):
    event = json.loads((ROOT / "events" / "describe_failure.json").read_text())
    result = load_function("describe_failure").lambda_handler(event, lambda_context)
    assert result["failed_step"] == "load_item_dimension" and "division by zero" in result["message"]
