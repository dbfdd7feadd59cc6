"""Applying and undoing the gap patches: ``install`` / ``activate`` patch moto, the outermost end restores it."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from shiftflow.local.moto_gaps import (
    atomic_dynamodb_writes,
    atomic_execution_starts,
    backend_lookup,
    cached_service_models,
    choice_absent_variable,
    completion_events,
    definite_jsonpath,
    error_cause_sizes,
    execution_records,
    function_records,
    history_event_limit,
    jsonata_evaluation,
    kinesis_sequence_numbers,
    lambda_in_process,
    parse_cache,
    parser_error_names,
    path_runtime_errors,
    payload_size_limit,
    redrive_count,
    redshift_data_service_name,
    role_records,
    scaled_waits,
    schedule_records,
    sfn_start_execution,
    stack_resources,
    table_encryption_keys,
    timed_out_stop_dates,
    states_errors_in_branches,
    uncatchable_errors,
    stop_ends_callback_waits,
    stop_error_and_cause,
    early_task_success,
)
from shiftflow.local.moto_gaps._patcher import Patcher
from shiftflow.local.moto_gaps._version import check_moto_version

# In gap order; gap 11 (deferred_batch_models) acts once at import, not per activation.
GAPS: tuple[Callable[[Patcher], None], ...] = (
    lambda_in_process.apply,
    redshift_data_service_name.apply,
    sfn_start_execution.apply,
    definite_jsonpath.apply,
    execution_records.apply,
    jsonata_evaluation.apply,
    scaled_waits.apply,
    completion_events.apply,
    states_errors_in_branches.apply,
    parse_cache.apply,
    redrive_count.apply,
    atomic_dynamodb_writes.apply,
    uncatchable_errors.apply,
    path_runtime_errors.apply,
    choice_absent_variable.apply,
    payload_size_limit.apply,
    error_cause_sizes.apply,
    history_event_limit.apply,
    stop_ends_callback_waits.apply,
    stop_error_and_cause.apply,
    early_task_success.apply,
    cached_service_models.apply,
    backend_lookup.apply,
    parser_error_names.apply,
    atomic_execution_starts.apply,  # after execution_records: it wraps the named start
    function_records.apply,
    stack_resources.apply,  # its patches come on the first adoption (moto's CloudFormation is imported late)
    kinesis_sequence_numbers.apply,
    role_records.apply,
    table_encryption_keys.apply,
    timed_out_stop_dates.apply,  # after execution_records: it wraps its DescribeExecution
    schedule_records.apply,
)


class _State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.patcher: Patcher | None = None
        self.handlers_snapshot: lambda_in_process.HandlersSnapshot = ({}, {})
        self.records_snapshot: function_records.RecordsSnapshot = {}
        self.roles_snapshot: role_records.RecordsSnapshot = {}


_state = _State()


class Installation:
    """One activation of the patches; ``uninstall()`` undoes it (the last one restores moto's originals)."""

    def __init__(self, scale: float) -> None:
        self._scale = scale
        self._active = True

    def uninstall(self) -> None:
        with _state.lock:
            if not self._active:
                return
            self._active = False
            activations_left = scaled_waits.pop_time_scale(self._scale)
            if not activations_left and _state.patcher is not None:
                _state.patcher.restore()
                _state.patcher = None
                lambda_in_process.restore_lambda_handlers(_state.handlers_snapshot)
                function_records.restore_records(_state.records_snapshot)
                role_records.restore_records(_state.roles_snapshot)
                table_encryption_keys.forget_pending()
                schedule_records.forget_pending()


def install(time_scale: float = 1.0) -> Installation:
    """Apply all patches (idempotent; nested installs share them and stack their time scale)."""
    if time_scale < 0:
        raise ValueError("time_scale must be >= 0")
    check_moto_version()
    with _state.lock:
        if _state.patcher is None:
            patcher = Patcher()
            try:
                for apply in GAPS:
                    apply(patcher)
            except BaseException:
                patcher.restore()
                raise
            _state.patcher = patcher
            _state.handlers_snapshot = lambda_in_process.snapshot_lambda_handlers()
            _state.records_snapshot = function_records.snapshot_records()
            _state.roles_snapshot = role_records.snapshot_records()
        scaled_waits.push_time_scale(float(time_scale))
        return Installation(float(time_scale))


@contextlib.contextmanager
def activate(time_scale: float = 1.0) -> Iterator[Installation]:
    """Context manager around ``install``: patches moto on entry, restores it on exit.

    ``time_scale`` multiplies Wait state durations and Retry backoff intervals (0.001 turns a 60 s Wait into 60 ms).
    Lambda handlers (and function records) registered inside the block are forgotten when the outermost activation
    ends.
    """
    installation = install(time_scale=time_scale)
    try:
        yield installation
    finally:
        installation.uninstall()
