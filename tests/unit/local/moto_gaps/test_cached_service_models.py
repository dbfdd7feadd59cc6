"""Gap 23 (shiftflow.local.moto_gaps.cached_service_models): moto's models come from one cached Loader."""

from __future__ import annotations

from moto.core import utils
from moto.core.base_backend import AccountSpecificBackend
from moto.core.loaders import Loader as MotoLoader
from moto.core.loaders import moto_root

from shiftflow.aws_clients import CachedData
from shiftflow.local.moto_gaps import activate


def test_moto_loads_its_models_once_through_the_cache_and_gets_what_its_own_loader_gives() -> None:
    plain = MotoLoader(extra_search_paths=[moto_root])
    with activate(time_scale=1.0):
        loader = utils.create_loader()
        assert loader is utils.create_loader() and isinstance(loader, CachedData)
        for service, kind in (("dynamodb", "service-2"), ("stepfunctions", "paginators-1")):
            assert utils._load_service_model(service, kind) == plain.load_service_model(service, kind)
        session = AccountSpecificBackend.get_session()
        assert session is AccountSpecificBackend.get_session()
        assert isinstance(session.get_component("data_loader"), CachedData)
        assert "eu-west-1" in session.get_available_regions("dynamodb")
    assert not isinstance(utils.create_loader(), CachedData)
