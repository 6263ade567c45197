"""The fast appender the ledger uses (:class:`BatchedAppender`).

* **Worker processes.** A batch of at least :data:`~reelrights.log.workers.PROCESS_MIN`
  statements first takes the quick road (:mod:`.roads`): this thread only parses and applies
  it while worker processes check every entry in full; smaller jobs and the ordinary road check
  signatures in the background (:mod:`reelrights.log.workers`) while the batch is applied.
* **A kept writer connection** on SQLite (:class:`~.connection.KeptConnection`).
* **Publishing in log order** across the threads that share the ledger
  (:class:`~.publish.OrderedPublisher`).
* **No cyclic garbage collection during a batch** (:func:`gc_paused`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlalchemy import Connection

from ..log.database_log import AppendResult, DatabaseLog
from ..log.workers import PROCESS_MIN
from ..store.db import Database
from .connection import KeptConnection
from .publish import OrderedPublisher

__all__ = ["BatchedAppender", "gc_paused"]


class BatchedAppender:
    """Kept connection, worker processes, ordered publishing, GC paused (module docstring)."""

    background = True
    #: A server lowers it for its small coalesced batches (:mod:`reelrights.service.writer`).
    process_min = PROCESS_MIN

    def __init__(self, db: Database, log: DatabaseLog, mirror_dir: Path | None) -> None:
        self.connection = KeptConnection(db)
        self.publisher = OrderedPublisher(mirror_dir, log, db.read)

    def around_batch(self) -> AbstractContextManager[None]:
        return gc_paused()

    def quick_first(self, entries: Sequence[bytes]) -> bool:
        return len(entries) >= PROCESS_MIN

    def transaction(self) -> AbstractContextManager[Connection]:
        return self.connection.transaction()

    def will_publish(self, result: AppendResult) -> int | None:
        return self.publisher.queue(result)

    def wont_publish(self, token: int | None) -> None:
        self.publisher.unqueue(token)

    def publish(self, result: AppendResult) -> None:
        self.publisher.publish(result)

    def close(self) -> None:
        self.connection.close()


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection during a batch.

    A batch allocates tens of thousands of small containers (parsed statements, row tuples),
    none of them in cycles, and each collection would walk them and, now and then, the whole
    heap: about 10% of a large batch's time. Collection resumes after the batch, and the next
    allocations trigger it as usual. (If another thread paused it too, the last one to finish
    turns it back on: at worst a collection is late, never skipped for good.)
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
