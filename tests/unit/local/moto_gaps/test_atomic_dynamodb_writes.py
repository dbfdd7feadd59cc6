"""Gap 13 (shiftflow.local.moto_gaps.atomic_dynamodb_writes): conditional writes are atomic across threads."""

from __future__ import annotations

import time
from typing import Any

import boto3
from moto import mock_aws

from shiftflow.local.moto_gaps import activate
from tests.unit.local.moto_gaps.conftest import REGION


def test_gap_13_a_conditional_write_is_atomic_under_concurrent_threads(monkeypatch) -> None:
    """Eight threads take one guard at once: exactly one write passes its condition. moto reads, checks and writes
    in separate steps; a slow condition check (20 ms) makes the interleaving that broke the guard certain."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import moto.dynamodb.models as dynamodb_models

    original_parser = dynamodb_models.create_condition_expression_parser

    def slow_parser(*args: Any, **kwargs: Any) -> Any:
        parser = original_parser(*args, **kwargs)
        parse = parser.parse

        def parse_slowly() -> Any:
            condition = parse()
            check = condition.expr

            def expr(item: Any) -> bool:
                time.sleep(0.02)
                return check(item)

            condition.expr = expr
            return condition

        parser.parse = parse_slowly
        return parser

    monkeypatch.setattr(dynamodb_models, "create_condition_expression_parser", slow_parser)
    with mock_aws(), activate():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(TableName="guard", BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "JobID", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "JobID", "AttributeType": "S"}])
        start = threading.Barrier(8)

        def acquire(owner: int) -> bool:
            start.wait()
            try:
                dynamodb.update_item(
                    TableName="guard", Key={"JobID": {"S": "sales"}},
                    UpdateExpression="SET JobState = :running, OwnerId = :owner",
                    ConditionExpression="attribute_not_exists(JobID) OR JobState = :ready",
                    ExpressionAttributeValues={":running": {"S": "Running"}, ":ready": {"S": "Ready"},
                                               ":owner": {"N": str(owner)}})
            except dynamodb.exceptions.ConditionalCheckFailedException:
                return False
            return True

        with ThreadPoolExecutor(max_workers=8) as pool:
            taken = list(pool.map(acquire, range(8)))
    assert taken.count(True) == 1
