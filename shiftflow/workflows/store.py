"""Workflow configurations in the DynamoDB configuration table (key workflow_id), one item per workflow.

Items hold the configuration as native DynamoDB maps and lists, as seed 003 stores it, so the console shows the
same JSON a user wrote. Functions take a boto3 `dynamodb` client (low level) and the table name.
"""

from __future__ import annotations

import functools
import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiftflow.guard import plain
from shiftflow.workflows.errors import WorkflowNotFound
from shiftflow.workflows.model import Workflow
from shiftflow.workflows.validation import validate

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeSerializer


@functools.cache
def _serializer() -> TypeSerializer:
    # boto3 on first use, not on import: importing the CLI must not import boto3 (shiftflow.cli.startup)
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


def read_file(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except ValueError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None


def validate_file(path: Path, s3: Any = None, bucket: str | None = None) -> Workflow:
    """Validate a workflow file; with an s3 client and bucket, also that its scripts are staged."""
    return validate(read_file(path), s3, bucket)


def push(dynamodb: Any, table: str, workflow: Workflow) -> dict[str, Any]:
    """Store a validated workflow (replacing the previous version); returns the stored configuration."""
    config = workflow.to_config()
    dynamodb.put_item(TableName=table, Item=to_item(config))
    return config


def get_config(dynamodb: Any, table: str, workflow_id: str) -> dict[str, Any]:
    item = dynamodb.get_item(TableName=table, Key={"workflow_id": {"S": workflow_id}}, ConsistentRead=True).get("Item")
    if item is None:
        raise WorkflowNotFound(
            f"workflow {workflow_id}: no such workflow in {table}; push it first (shiftflow workflow push <file>)"
        )
    return from_item(item)


def show(dynamodb: Any, table: str, workflow_id: str) -> dict[str, Any]:
    """The stored configuration of one workflow, as JSON."""
    return get_config(dynamodb, table, workflow_id)


def list_workflows(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """One summary per stored workflow: id, description, stages, jobs; sorted by id."""
    summaries = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page.get("Items", []):
            config = from_item(item)
            stages = config.get("workflow_stages") or []
            summaries.append(
                {
                    "workflow_id": config.get("workflow_id"),
                    "workflow_description": config.get("workflow_description", ""),
                    "stages": len(stages),
                    "jobs": sum(len(stage.get("scripts") or []) for stage in stages if isinstance(stage, dict)),
                }
            )
    return sorted(summaries, key=lambda summary: str(summary["workflow_id"]))


def to_item(config: dict[str, Any]) -> dict[str, Any]:
    # DynamoDB numbers must be Decimal; floats (e.g. a scale factor 0.01) go through their text form.
    native = json.loads(json.dumps(config), parse_float=Decimal)
    return {key: _serializer().serialize(value) for key, value in native.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return _plain(plain(item))


def _plain(value: Any) -> Any:
    """Decimals back to int or float, so the configuration reads exactly as it was written."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
