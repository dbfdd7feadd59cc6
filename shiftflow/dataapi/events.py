"""The Data API's EventBridge events: "Redshift Data Statement Status Change" for a WithEvent statement that ends."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from shiftflow.dataapi.statements import Statement

log = logging.getLogger(__name__)

Subscriber = Callable[[dict[str, Any]], None]


def status_change_event(statement: Statement, account_id: str, region: str) -> dict[str, Any]:
    """EventBridge's "Redshift Data Statement Status Change" event for an ended statement: the detail has exactly
    the keys of AWS's (Redshift management guide, data-api-monitoring-events); a failed statement's error is not in
    it, its reader describes the statement for that."""
    request = statement.request
    resources = []  # a SecretArn-only target names its cluster inside the secret: no resource to show
    if request.get("WorkgroupName"):
        resources.append(f"arn:aws:redshift-serverless:{region}:{account_id}:workgroup/{request['WorkgroupName']}")
    elif request.get("ClusterIdentifier"):
        resources.append(f"arn:aws:redshift:{region}:{account_id}:cluster:{request['ClusterIdentifier']}")
    last = statement.subs[-1]
    rows = sum(max(sub.result_rows, 0) for sub in statement.subs)
    detail = {
        "principal": f"arn:aws:iam::{account_id}:user/{request.get('DbUser') or 'local'}",
        "statementName": statement.name,
        "statementId": statement.id,
        "redshiftQueryId": last.query_id if last.query_id > 0 else -1,
        "state": statement.status,
        "rows": rows,
        "expireAt": int((statement.updated_at + timedelta(hours=24)).timestamp()),
    }
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Redshift Data Statement Status Change",
        "source": "aws.redshift-data", "account": account_id,
        "time": statement.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
        "resources": resources, "detail": detail,
    }


class EventSubscribers:
    """Who hears of ended WithEvent statements (the local runtime routes them as EventBridge would)."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id, self.region = account_id, region
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(event)` when a WithEvent statement ends; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def emit(self, statement: Statement) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        if not subscribers:
            return
        event = status_change_event(statement, self.account_id, self.region)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:  # delivery is best effort, as on EventBridge: one bad subscriber must not stop others
                log.exception("Data API event subscriber failed")
