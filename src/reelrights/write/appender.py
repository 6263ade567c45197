"""Where a ledger's batches run: the :class:`Appender` interface and its reference implementation.

The ledger states the steps of a batch (:meth:`reelrights.ledger.Ledger.submit`); an appender
supplies the machinery they run on: the write transaction, whether signatures are checked in
the background, whether a large batch first tries the quick road (:mod:`.roads`), what happens
around a batch, and how the static folder is brought up to date after the commit.

:class:`SequentialAppender` is the plain reference: a new connection per batch, every check in
the calling thread, the ordinary road only, the folder published as soon as the batch commits.
:class:`~.batched.BatchedAppender` is the fast one; both give the same receipts, rows, tiles and
checkpoints for the same batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection

from ..log.database_log import AppendResult, DatabaseLog
from ..log.mirror import publish_batch
from ..log.workers import PROCESS_MIN
from ..store.db import Database

__all__ = ["Appender", "AppenderFactory", "SequentialAppender"]


class Appender(Protocol):
    """The machinery under a ledger's write path."""

    #: Whether signature checks may run in the background (worker processes for large jobs)
    #: while the batch is applied; else each is checked when its verdict is asked for.
    background: bool
    #: The fewest signatures a background check sends to the worker processes (fewer are
    #: checked in the calling thread); see :mod:`reelrights.log.workers`.
    process_min: int

    def around_batch(self) -> AbstractContextManager[None]:
        """Entered around each :meth:`~reelrights.ledger.Ledger.submit`."""

    def quick_first(self, entries: Sequence[bytes]) -> bool:
        """Whether this batch first tries the quick road."""

    def transaction(self) -> AbstractContextManager[Connection]:
        """One batch's write transaction: committed at the end, rolled back if it raises."""

    def will_publish(self, result: AppendResult) -> int | None:
        """Called under the head lock once the batch is appended; returns a token."""

    def wont_publish(self, token: int | None) -> None:
        """The batch with ``token`` was rolled back."""

    def publish(self, result: AppendResult) -> None:
        """After the commit: bring the static folder up to this batch."""

    def close(self) -> None:
        """Release what is kept between batches."""


#: Makes a ledger's appender from (database, log, static folder or None).
AppenderFactory = Callable[[Database, DatabaseLog, "Path | None"], Appender]


class SequentialAppender:
    """The reference appender: nothing kept, nothing in the background, nothing reordered."""

    background = False
    process_min = PROCESS_MIN

    def __init__(self, db: Database, log: DatabaseLog, mirror_dir: Path | None) -> None:
        self.db, self.log, self.mirror_dir = db, log, mirror_dir

    def around_batch(self) -> AbstractContextManager[None]:
        return nullcontext()

    def quick_first(self, entries: Sequence[bytes]) -> bool:
        return False

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.db.write() as conn:
            yield conn

    def will_publish(self, result: AppendResult) -> int | None:
        return None

    def wont_publish(self, token: int | None) -> None:
        pass

    def publish(self, result: AppendResult) -> None:
        if self.mirror_dir is not None:
            publish_batch(self.mirror_dir, result, self.log, self.db.read)

    def close(self) -> None:
        pass
