"""Gap 24 (shiftflow.local.moto_gaps.backend_lookup): an existing backend is found without moto's process-wide
backend lock; a new account's backend is still created (and registered for reset) by moto."""

from __future__ import annotations

import threading

import boto3
from moto import mock_aws
from moto.core.base_backend import BackendDict, backend_lock
from moto.sqs.models import sqs_backends

from shiftflow.local.moto_gaps import activate

ACCOUNT = "123456789012"


def test_an_existing_backend_is_found_while_another_thread_holds_the_backend_lock() -> None:
    with mock_aws(), activate(time_scale=1.0):
        boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="q")
        created = sqs_backends[ACCOUNT]
        found: list[object] = []
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with backend_lock:
                holding.set()
                release.wait(30)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert holding.wait(30)
            looker = threading.Thread(target=lambda: found.append(sqs_backends[ACCOUNT]))
            looker.start()
            looker.join(30)
            assert not looker.is_alive() and found == [created]  # found while the lock is held elsewhere
        finally:
            release.set()
            holder.join()


def test_a_new_account_is_created_by_moto_and_reset_with_the_mock() -> None:
    with mock_aws(), activate(time_scale=1.0):
        other = sqs_backends["210987654321"]
        assert other["us-east-1"].account_id == "210987654321" and sqs_backends in BackendDict._instances
        sqs_backends[ACCOUNT]["us-east-1"].create_queue("kept-until-reset")
        assert sqs_backends[ACCOUNT]["us-east-1"].list_queues(None)
    with mock_aws(), activate(time_scale=1.0):
        assert sqs_backends[ACCOUNT]["us-east-1"].list_queues(None) == []  # the reset's fresh backend
