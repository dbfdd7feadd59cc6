"""The local notification inbox on disk (<state>/notifications.json), and the template's own queues (the failure
queues where undelivered events land, <state>/queues/<name>.json): messages sent and not yet read survive a stop or a
kill of the local cloud.

Every topic of the template delivers to one SQS queue (shiftflow.local.runtime.NOTIFICATIONS_QUEUE), which moto keeps
in memory only, as it keeps every queue: a new behaviour of ours, hooked at moto's SQS queue model, where SNS
deliveries and SendMessage add a message and DeleteMessage removes one. After each change of a kept queue its
messages (bodies and message attributes) are saved whole, before the call that changed them returns; a cloud that
starts sends them to its new queue again.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shiftflow.durable_files import atomic_write

INBOX_FILE = "notifications.json"
QUEUES_FOLDER = "queues"


class InboxFile:
    def __init__(self, state_dir: Path, name: str = INBOX_FILE) -> None:
        self.path = state_dir / name
        self._lock = threading.Lock()

    def save(self, queue: Any) -> None:
        with self._lock:  # the messages read inside the lock: the file never goes back to an older queue
            messages = [{"body": message.body, "attributes": message.message_attributes}
                        for message in list(queue._messages)]
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps(messages).encode())

    def messages(self) -> list[tuple[str, dict[str, Any]]]:
        """(body, message attributes) of each saved message; a file of bodies alone (written before attributes
        were kept) is read too."""
        saved = json.loads(self.path.read_text()) if self.path.is_file() else []
        return [(item, {}) if isinstance(item, str) else (item["body"], item.get("attributes") or {}) for item in saved]

    def load(self) -> list[str]:
        return [body for body, _ in self.messages()]


def queue_file(queue_name: str) -> str:
    """Where a template queue's messages are kept, relative to the state folder."""
    return f"{QUEUES_FOLDER}/{queue_name}.json"


def restore(inbox: InboxFile, sqs: Any, queue_url: str) -> int:
    """Send the saved messages to the (new, empty) queue; returns how many."""
    messages = inbox.messages()
    for body, attributes in messages:
        sqs.send_message(QueueUrl=queue_url, MessageBody=body, MessageAttributes={
            name: {key: value[key] for key in ("DataType", "StringValue", "BinaryValue") if key in value}
            for name, value in attributes.items()})
    return len(messages)


@contextlib.contextmanager
def write_through(inbox: InboxFile, queue_name: str, others: dict[str, InboxFile] | None = None) -> Iterator[None]:
    """While the block runs, the queue `queue_name` (and each of `others`, by queue name) is saved after each change."""
    from moto.sqs.models import Queue

    kept = {queue_name: inbox, **(others or {})}
    original_add, original_delete = Queue.add_message, Queue.delete_message

    def add_message(self: Queue, message: Any) -> None:
        original_add(self, message)
        if self.name in kept:
            kept[self.name].save(self)

    def delete_message(self: Queue, receipt_handle: str) -> None:
        original_delete(self, receipt_handle)
        if self.name in kept:
            kept[self.name].save(self)

    Queue.add_message = add_message  # type: ignore[method-assign]
    Queue.delete_message = delete_message  # type: ignore[method-assign]
    try:
        yield
    finally:
        Queue.add_message, Queue.delete_message = original_add, original_delete  # type: ignore[method-assign]
