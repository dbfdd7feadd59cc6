"""Gap 23: moto reads botocore's data afresh for every service model it loads.

moto behaviour (checked against moto 5.2.5): ``moto.core.utils._load_service_model`` makes a new botocore Loader
(``moto.core.loaders.create_loader``) for each model it loads (a service's model, its paginators), and each new Loader
walks botocore's data folder to list the services (about 900 directory listings) and parses the model's JSON again;
the region lists of moto's backends come from a botocore Session of their own
(``AccountSpecificBackend.get_session``), which parses endpoints.json (1.2 MB) again. A local cloud's start made
five such Loaders: about a tenth of its start-up time.

Fix: ``moto.core.utils.create_loader`` gives one Loader for the process, moto's own (its search path, its extras)
reading botocore's data through the on-disk cache of shiftflow.aws_clients (``CachedData``);
``AccountSpecificBackend.get_session`` gives one botocore Session whose clients read through the same cache. What
they load is unchanged: the same files, parsed the same way, kept keyed by each file's path, size and time.

To drop: when moto shares one Loader, delete this module and its entry in ``_activation.GAPS``;
tests/unit/local/moto_gaps/test_cached_service_models.py must still pass.
"""

from __future__ import annotations

import functools

from botocore.session import Session
from moto.core import utils
from moto.core.base_backend import AccountSpecificBackend
from moto.core.loaders import Loader as MotoLoader
from moto.core.loaders import moto_root

from shiftflow.aws_clients import CachedData, use_cached_data
from shiftflow.local.moto_gaps._patcher import Patcher


class CachedMotoLoader(CachedData, MotoLoader):
    """moto's Loader through the cache."""


@functools.cache
def shared_loader() -> CachedMotoLoader:
    return CachedMotoLoader(extra_search_paths=[moto_root])


@functools.cache
def shared_session() -> Session:
    session = Session()
    use_cached_data(session)
    return session


def apply(patcher: Patcher) -> None:
    patcher.set(utils, "create_loader", shared_loader)
    patcher.set(AccountSpecificBackend, "get_session", classmethod(lambda cls: shared_session()))
