"""The one moto version these patches were checked against, and the check that refuses any other.

Every gap module replaces or wraps a private moto internal, so moto is pinned exactly. Importing the package runs
the check before any moto internal is imported.
"""

from __future__ import annotations

import moto

EXPECTED_MOTO_VERSION = "5.2.5"


class MotoVersionError(RuntimeError):
    """The installed moto is not the exact version these patches were written against."""


def check_moto_version(version: str | None = None) -> None:
    """Fail loudly when moto is not the pinned version: the patches touch its private internals."""
    found = moto.__version__ if version is None else version
    if found != EXPECTED_MOTO_VERSION:
        raise MotoVersionError(
            f"shiftflow.local.moto_gaps supports moto=={EXPECTED_MOTO_VERSION} only, found moto=={found}. "
            "Re-check every gap module in shiftflow/local/moto_gaps/ against the new moto (drop the ones it fixes), "
            "then update EXPECTED_MOTO_VERSION and the pin in requirements-dev."
        )


check_moto_version()
