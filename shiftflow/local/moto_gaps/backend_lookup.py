"""Gap 24: every lookup of a moto backend takes one process-wide lock.

moto behaviour (checked against moto 5.2.5): ``moto/core/base_backend.py BackendDict.__getitem__`` calls
``_create_account_specific_backend``, which takes the module's ``backend_lock`` (one RLock for every service), copies
the dict's keys and scans ``BackendDict._instances`` on every call, also when the account's backend exists. Every
request and every ASL task looks backends up several times: a parallel stage of 500 jobs (some 1,500 threads) made
about 30,000 lookups queued on that lock, each waiting a quarter of a second on average under load.

Fix: ``BackendDict.__getitem__`` returns an account's backend without the lock once it exists; only its creation
takes moto's path. Creation registers the dict in ``_instances`` under the same lock, and ``BackendDict.reset`` clears
the dicts under it, so an account found in the dict is one created (and registered) since the last reset.

To drop: when moto's lookup of an existing backend takes no lock, delete this module and its entry in
``_activation.GAPS``; tests/unit/local/moto_gaps/test_backend_lookup.py must still pass.
"""

from __future__ import annotations

from typing import Any

from moto.core.base_backend import BackendDict

from shiftflow.local.moto_gaps._patcher import Patcher


def apply(patcher: Patcher) -> None:
    original = BackendDict.__getitem__

    def __getitem__(self: BackendDict, account_id: str) -> Any:  # noqa: N807
        backend = dict.get(self, account_id)
        return backend if backend is not None else original(self, account_id)

    patcher.set(BackendDict, "__getitem__", __getitem__)
