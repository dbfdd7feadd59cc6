"""The local notification inbox on disk (<state>/notifications.json): notifications sent and not yet read survive
a stop or a kill of the local cloud.

Every topic of the template delivers to one SQS queue (shiftflow.local.runtime.NOTIFICATIONS_QUEUE), which moto keeps
in memory only: a new behaviour of ours, hooked at moto's SQS queue model, where SNS deliveries and SendMessage add a
message and DeleteMessage removes one. After each change the queue's message bodies are saved whole, before the call
that changed them returns; a cloud that starts sends them to its new inbox again.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shiftflow.local.cloud.files import atomic_write

INBOX_FILE = "notifications.json"


class InboxFile:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / INBOX_FILE
        self._lock = threading.Lock()

    def save(self, queue: Any) -> None:
        with self._lock:  # the bodies read inside the lock: the file never goes back to an older queue
            bodies = [message.body for message in list(queue._messages)]
            atomic_write(self.path, json.dumps(bodies).encode())

    def load(self) -> list[str]:
        return json.loads(self.path.read_text()) if self.path.is_file() else []


def restore(inbox: InboxFile, sqs: Any, queue_url: str) -> int:
    """Send the saved notifications to the (new, empty) inbox queue; returns how many."""
    bodies = inbox.load()
    for body in bodies:
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    return len(bodies)


@contextlib.contextmanager
def write_through(inbox: InboxFile, queue_name: str) -> Iterator[None]:
    from moto.sqs.models import Queue

    original_add, original_delete = Queue.add_message, Queue.delete_message

    def add_message(self: Queue, message: Any) -> None:
        original_add(self, message)
        if self.name == queue_name:
            inbox.save(self)

    def delete_message(self: Queue, receipt_handle: str) -> None:
        original_delete(self, receipt_handle)
        if self.name == queue_name:
            inbox.save(self)

    Queue.add_message = add_message  # type: ignore[method-assign]
    Queue.delete_message = delete_message  # type: ignore[method-assign]
    try:
        yield
    finally:
        Queue.add_message, Queue.delete_message = original_add, original_delete  # type: ignore[method-assign]
