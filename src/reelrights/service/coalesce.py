"""Group commit: concurrent single submissions share one batch, one transaction, one fsync.

:class:`Coalescer` collects the entries that arrive while the ledger is busy (or, when it is
idle, for at most ``wait_s``) and submits them together, up to ``inflight`` batches at a time
(while one holds the log head, the next is decoded and its signatures checked, and the one
before is written to the static folder). So many small clients get a batch's throughput.

A client's batch is all or nothing (:meth:`reelrights.ledger.Ledger.submit`); a coalesced one
must not be: strangers share it. :func:`submit_isolated` submits it whole; when the ledger
refuses the statement at position ``p`` (its message says "statement p+1 of n: ..."), nothing
was written, so it drops that entry and submits the rest again, at most :data:`MAX_DROPS`
times (past that, each remaining entry alone). Each dropped entry is then submitted alone,
after the others have committed: its answer (a receipt, or the ledger's own refusal, worded as
for a single statement) is exactly what it would have got on its own. A good batch costs
nothing extra; each refused entry costs one rolled-back attempt of the batch.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

from ..errors import DiskFull, ReelrightsError, Unavailable
from ..write.accepted import Receipt

__all__ = ["MAX_DROPS", "Coalescer", "Result", "submit_isolated"]

#: Entries dropped from one coalesced batch before the rest are submitted one by one.
MAX_DROPS = 16
_POSITION = re.compile(r"^statement (\d+) of (\d+): ")

#: What one entry gets: its receipt, or the error refusing it (as if submitted alone).
Result = Receipt | Exception


def submit_isolated(submit: Callable[[Sequence[bytes]], list[Receipt]],
                    entries: Sequence[bytes]) -> list[Result]:
    """Submit ``entries`` as one batch where possible, each refused entry answered alone (see
    the module doc). ``submit`` is :meth:`~reelrights.ledger.Ledger.submit` (all or nothing)."""
    results: list[Result | None] = [None] * len(entries)
    live = list(range(len(entries)))
    dropped: list[int] = []
    while live:
        if len(live) == 1 or len(dropped) >= MAX_DROPS:
            dropped.extend(live)
            break
        try:
            receipts = submit([entries[i] for i in live])
        except (Unavailable, DiskFull):
            raise  # not the entries' fault: the whole batch fails, nothing is written
        except ReelrightsError as exc:
            m = _POSITION.match(exc.message)
            if m is None or int(m.group(2)) != len(live) or not 0 < int(m.group(1)) <= len(live):
                dropped.extend(live)  # no position: every entry alone
                break
            dropped.append(live.pop(int(m.group(1)) - 1))
            continue
        for i, r in zip(live, receipts, strict=True):
            results[i] = r
        break
    for i in sorted(dropped):
        try:
            results[i] = submit([entries[i]])[0]
        except ReelrightsError as exc:  # (the others' receipts stand even if this one fails)
            results[i] = exc
    return [r for r in results if r is not None]


class Coalescer:
    """Concurrent submissions of one process, committed in shared batches (module doc).

    ``commit(entries)`` runs in ``executor`` and returns one result per entry and whatever the
    batch shares (the checkpoint); an exception from it (the database unreachable) answers
    every entry of the batch.
    """

    def __init__(self, commit: Callable[[list[bytes]], tuple[list[Result], Any]],
                 executor: Executor, *, wait_s: float, max_entries: int,
                 inflight: int = 2) -> None:
        self.commit, self.executor = commit, executor
        self.wait_s, self.max_entries = wait_s, max_entries
        self._pending: list[tuple[bytes, asyncio.Future[tuple[Result, Any]]]] = []
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(inflight)
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        #: The sizes of the latest batches (the tests and the benchmark see coalescing).
        self.sizes: deque[int] = deque(maxlen=10_000)

    async def submit(self, entry: bytes) -> tuple[Result, Any]:
        """The entry's result and the batch's shared part, once its batch is committed."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        fut: asyncio.Future[tuple[Result, Any]] = asyncio.get_running_loop().create_future()
        self._pending.append((entry, fut))
        self._wake.set()
        return await fut

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            idle = not self._slots.locked()
            await self._slots.acquire()
            if idle and len(self._pending) < self.max_entries and self.wait_s > 0:
                await asyncio.sleep(self.wait_s)  # the ledger was idle: wait for company
            take = self._pending[:self.max_entries]
            del self._pending[:self.max_entries]
            if not self._pending:
                self._wake.clear()
            if not take:
                self._slots.release()
                continue
            task = asyncio.get_running_loop().create_task(self._commit(take))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _commit(self, take: list[tuple[bytes, asyncio.Future[tuple[Result, Any]]]]) -> None:
        try:
            self.sizes.append(len(take))
            loop = asyncio.get_running_loop()
            results, shared = await loop.run_in_executor(self.executor, self.commit,
                                                         [e for e, _ in take])
            for (_, fut), r in zip(take, results, strict=True):
                if not fut.done():
                    fut.set_result((r, shared))
        except BaseException as exc:  # noqa: BLE001 - every waiter hears of it
            for _, fut in take:
                if not fut.done():
                    fut.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self._slots.release()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for task in list(self._running):
            await asyncio.gather(task, return_exceptions=True)
