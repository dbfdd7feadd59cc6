"""AUTO REFRESH YES: a thread of the local runtime that refreshes those views as records arrive (every `interval`
seconds it refreshes each of them; a refresh without new records costs one read of the stream's positions).
Its refreshes are refresh_type 'Auto' in sys_mv_refresh_history, as Redshift's auto refresh."""

from __future__ import annotations

import logging
import threading
from typing import Any

from shiftflow.dataapi.engines.base import EngineError
from shiftflow.dataapi.streams import catalog
from shiftflow.dataapi.streams.refresh import RefreshMaterializedView

log = logging.getLogger(__name__)


class AutoRefresher:
    def __init__(self, engine: Any, database: str, interval: float = 0.5) -> None:
        self.engine, self.database, self.interval = engine, database, interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="auto-refresh", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        session = self.engine.session(self.database)
        try:
            while not self._stopping.wait(self.interval):
                self.refresh_all(session)
        finally:
            session.close()

    def refresh_all(self, session: Any) -> None:
        rows = catalog.run(session, f"SELECT mv_name FROM {catalog.SCHEMA}.views WHERE auto_refresh").rows
        for (name,) in rows:
            try:
                RefreshMaterializedView(str(name), "Auto").run(session, {}, False)
            except EngineError as error:  # a failed auto refresh is retried at the next turn, as Redshift's
                log.warning("auto refresh of %s failed: %s", name, error)
