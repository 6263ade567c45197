"""Publishing committed batches to the static folder in log order, across threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy import Connection

from ..log.database_log import AppendResult, DatabaseLog
from ..log.mirror import publish_batch

__all__ = ["PUBLISH_WAIT_S", "OrderedPublisher"]

#: How long a committed batch waits for this ledger's earlier batches to be published.
PUBLISH_WAIT_S = 30.0


class OrderedPublisher:
    """Brings the static folder up to each batch, in log order.

    Several threads may submit through one ledger: while one batch holds the log head, the next
    is decoded and its signatures checked. So batches can commit out of publishing order; a batch
    waits for this ledger's earlier batches, so that each one writes its own tiles and bundles
    from memory instead of the later one finding a gap and re-reading it from the database.
    (Batches of other processes cannot be waited for: :func:`~reelrights.log.mirror.publish_batch`
    fills such gaps.) The wait is bounded, so a thread that died between its commit and its
    publish stalls nobody.
    """

    def __init__(self, mirror_dir: Path | None, log: DatabaseLog,
                 read: Callable[[], AbstractContextManager[Connection]]) -> None:
        self.mirror_dir, self.log, self.read = mirror_dir, log, read
        #: First indices of batches appended (committed or about to be) but not yet published.
        self._unpublished: set[int] = set()
        self._published = threading.Condition()

    def queue(self, result: AppendResult) -> int | None:
        """Note, while the batch holds the log head, that it will be published."""
        if self.mirror_dir is None:
            return None
        with self._published:
            self._unpublished.add(result.first_index)
        return result.first_index

    def unqueue(self, first: int | None) -> None:
        """The batch was rolled back: it will never be published."""
        if first is not None:
            with self._published:
                self._unpublished.discard(first)
                self._published.notify_all()

    def publish(self, result: AppendResult) -> None:
        """After the commit: wait (bounded) for the earlier batches, then publish this one."""
        if self.mirror_dir is None:
            return
        first = result.first_index
        try:
            with self._published:
                self._published.wait_for(lambda: min(self._unpublished, default=first) >= first,
                                         timeout=PUBLISH_WAIT_S)
            publish_batch(self.mirror_dir, result, self.log, self.read)
        finally:
            self.unqueue(first)
