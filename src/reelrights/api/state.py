"""What one server process keeps between requests: the home, its ledger, the write coalescer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

if TYPE_CHECKING:
    from ..home import Home
    from ..ledger import Ledger
    from ..log.cosigned import CosignedStore
    from .app import ServiceConfig

__all__ = ["ServiceState"]


class ServiceState:
    """Opened at the application's start (lifespan), closed at its end.

    The ledger is synchronous (SQLAlchemy); routes call it through :meth:`call`, which runs it in
    the thread pool so the event loop keeps serving reads."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.home: Home | None = None
        self.ledger: Ledger | None = None
        #: The witnesses' cosignatures the log collected (None: it has no witnesses).
        self.cosigned: CosignedStore | None = None
        #: Set by each concern at start (e.g. the write coalescer, tile caches).
        self.parts: dict[str, Any] = {}

    async def start(self) -> None:
        from ..home import Home
        from ..ledger import Ledger
        from ..operate import check_published

        self.home = Home.open(self.config.home)
        # Never fork: refuse to start on a database behind the log it already published.
        await run_in_threadpool(check_published, self.home,
                                published=self.config.extra.get("published", ()))
        self.ledger = await run_in_threadpool(Ledger.open, self.home)
        self._start_witnessing()

    def _start_witnessing(self) -> None:
        """The log's witnessing task (when witnesses are configured), and the cosignatures
        ``GET /checkpoint`` appends (when any were collected)."""
        from ..log.cosigned import COSIGNED_FILE, CosignedStore

        assert self.home is not None and self.ledger is not None
        cfg = self.config
        if cfg.witnesses:
            from ..log.serving import LogServer
            from ..service.witnessing import start_witnessing

            task = start_witnessing(self.home.path, self.home.log_vkey(),
                                    LogServer(self.ledger.db, self.ledger.log),
                                    [(u, v) for u, v in cfg.witnesses],
                                    interval_s=cfg.witness_interval_s,
                                    refresh_s=cfg.witness_refresh_s)
            self.parts["witnessing"] = task
            self.cosigned = task.store
        elif (self.home.path / COSIGNED_FILE).exists():
            self.cosigned = CosignedStore(self.home.path / COSIGNED_FILE)

    async def stop(self) -> None:
        for part in reversed(list(self.parts.values())):
            close = getattr(part, "aclose", None)
            if close is not None:
                await close()
        if self.ledger is not None:
            self.ledger.close()

    async def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(fn, *args, **kwargs)
