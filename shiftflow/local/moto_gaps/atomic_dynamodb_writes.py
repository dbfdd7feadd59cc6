"""Gap 13: DynamoDB conditional writes are not atomic.

moto behaviour (checked against moto 5.2.5): ``DynamoDBBackend.update_item`` reads the item, evaluates the condition
and writes in separate steps, so two threads (two executions acquiring the job guard) can both pass the condition;
the response handler also copies the old item before the write.

Fix: runs each write request (``moto/dynamodb/responses.py DynamoHandler`` put_item, update_item, delete_item,
batch_write_item, transact_write_items) under one lock: as on DynamoDB, each item write (and each transaction) is
atomic.

To drop: when moto serialises conditional writes itself, delete this module and its entry in ``_activation.GAPS``;
tests/unit/local/moto_gaps/test_atomic_dynamodb_writes.py must still pass.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.responses import DynamoHandler

from shiftflow.local.moto_gaps._patcher import Patcher

_WRITES = ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items")


def apply(patcher: Patcher) -> None:
    lock = threading.Lock()

    def atomic(method: Callable[..., Any]) -> Callable[..., Any]:
        def write(self: DynamoHandler) -> Any:
            with lock:
                return method(self)

        return write

    for name in _WRITES:
        patcher.set(DynamoHandler, name, atomic(getattr(DynamoHandler, name)))
