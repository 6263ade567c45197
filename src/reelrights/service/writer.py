"""What ``POST /v1/statements`` calls: :class:`WritePath`, one per server process.

A submission goes through, in order: the signing key's id (read from the entry's first bytes,
:mod:`.intake`), the address's token bucket, the allowlist, the key's token bucket
(:mod:`.limits`, :mod:`.allowlist`); then the ledger, in a thread: a single statement through the
:class:`~.coalesce.Coalescer` (group commit), a client's batch on its own (all or nothing). A
statement the ledger refuses as already logged gets its original receipt when it has the same
bytes (:mod:`.dedupe`). The answer carries the published checkpoint that includes every receipt:
it is given only after the commit (synchronous: SQLite ``synchronous=FULL``, PostgreSQL
``synchronous_commit``) and after the static folder holds that checkpoint (fsynced).

The signatures of a batch of :data:`COALESCED_PROCESS_MIN` statements or more are checked in
the ledger's worker processes (started with the write path), while this process's writer
thread decodes and applies the batch: Ed25519 here would hold the interpreter the event loop
needs.

The database unreachable (SQLAlchemy's ``OperationalError``, ``InterfaceError``) becomes
:class:`~reelrights.errors.Unavailable` (HTTP 503 with ``Retry-After``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from ..errors import (
    Conflict,
    RateLimited,
    ReelrightsError,
    Unavailable,
    disk_full,
)
from ..ledger import Ledger
from ..log import workers
from ..log.mirror import catch_up
from ..store.db import unavailable
from ..write.accepted import Receipt
from ..write.decode import raise_at
from .admission_gate import AdmissionGate
from .allowlist import Allowlist
from .coalesce import Coalescer, Result, submit_isolated
from .dedupe import is_replay, original_receipt
from .intake import key_id_of
from .limits import Buckets

__all__ = ["Outcome", "WritePath"]

T = TypeVar("T")
#: The fewest signatures of a batch checked in the worker processes (the ledger's default,
#: 512, suits a command-line batch; in a server, Ed25519 in this process would hold the
#: interpreter the event loop needs: 50-60 us a statement).
COALESCED_PROCESS_MIN = 8
#: How long a client is told to wait when the database is unreachable.
UNAVAILABLE_RETRY_S = 2


@dataclass
class Outcome:
    """The answer to a submission: its receipts and a published checkpoint including them."""

    receipts: list[Receipt]
    checkpoint: str
    #: The same bytes were logged before: these are the original receipts.
    duplicate: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"receipts": [r.to_json() for r in self.receipts], "checkpoint": self.checkpoint}

    def render(self) -> bytes:
        """``to_json()`` as compact JSON bytes; the checkpoint's string is encoded once for
        every answer that shares it (one committed batch)."""
        receipts = ",".join([_dumps(r.to_json()) for r in self.receipts])
        return f'{{"receipts":[{receipts}],"checkpoint":{_quoted(self.checkpoint)}}}'.encode()


_dumps = json.JSONEncoder(separators=(",", ":")).encode


@lru_cache(maxsize=8)
def _quoted(text: str) -> str:
    return _dumps(text)


class WritePath:
    """The write path of one server process (module doc)."""

    def __init__(self, ledger: Ledger, log_dir: Path, *, open_appends: bool = False,
                 coalesce_wait_s: float = 0.005, coalesce_max_entries: int = 1000,
                 key_rate: float = 200.0, key_burst: int = 400,
                 address_rate: float = 2000.0, address_burst: int = 4000,
                 inflight: int = 2, admission: bool = False) -> None:
        self.ledger, self.log_dir = ledger, log_dir
        self.executor = ThreadPoolExecutor(inflight + 2, thread_name_prefix="reelrights-write")
        # Coalesced batches are small: their signatures too go to the worker processes, off
        # the interpreter this process's event loop and writer threads share.
        ledger.appender.process_min = COALESCED_PROCESS_MIN
        self.executor.submit(workers.warm)
        self.coalescer = Coalescer(self._commit_coalesced, self.executor, wait_s=coalesce_wait_s,
                                   max_entries=coalesce_max_entries, inflight=inflight)
        operator = ledger.keys.registered.get("operator")
        gate = AdmissionGate if admission else Allowlist
        self.allowlist = None if open_appends or operator is None else gate(ledger.db, operator)
        self.keys = Buckets(key_rate, key_burst)
        self.addresses = Buckets(address_rate, address_burst)

    # -- what the route calls ---------------------------------------------------------------
    async def single(self, entry: bytes, address: str) -> Outcome:
        """One signed statement, committed with whatever else arrives meanwhile."""
        await self._admit(address, [entry])
        result, checkpoint = await self.coalescer.submit(entry)
        if isinstance(result, Exception):
            if is_replay(result):
                return await self._replayed([entry], result)
            raise result
        return Outcome([result], checkpoint)

    async def batch(self, entries: Sequence[bytes], address: str) -> Outcome:
        """A client's batch: every entry accepted, or none."""
        await self._admit(address, entries)
        try:
            receipts, checkpoint = await self._run(self._commit_batch, list(entries))
        except Conflict as exc:
            if is_replay(exc):
                return await self._replayed(entries, exc)
            raise
        return Outcome(receipts, checkpoint)

    async def aclose(self) -> None:
        await self.coalescer.aclose()
        self.executor.shutdown(wait=True)

    # -- before the ledger --------------------------------------------------------------------
    async def _admit(self, address: str, entries: Sequence[bytes]) -> None:
        wait = self.addresses.take(address)
        if wait:
            raise RateLimited(f"too many requests from {address}; retry after {wait} s", wait)
        total = len(entries)
        ids: list[str] = []
        for pos, entry in enumerate(entries):
            try:
                ids.append(key_id_of(entry))
            except ReelrightsError as exc:
                raise_at(pos, total, exc)
        if self.allowlist is not None:
            allowlist = self.allowlist
            for pos, (entry, kid) in enumerate(zip(entries, ids, strict=True)):
                if allowlist.allows(kid) and not allowlist.stale(kid):
                    continue
                if allowlist.stale(kid):
                    await self._run(allowlist.refresh)
                if not allowlist.allows(kid):
                    refusal = await self._run(allowlist.refusal, entry, kid)
                    if refusal is not None:
                        raise_at(pos, total, refusal)
        for kid in dict.fromkeys(ids):
            wait = self.keys.take(kid)
            if wait:
                raise RateLimited(f"too many requests signed by key id {kid}; retry after "
                                  f"{wait} s", wait)

    # -- in the ledger's threads --------------------------------------------------------------
    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, _database_errors, fn, *args)

    def _commit_coalesced(self, entries: list[bytes]) -> tuple[list[Result], str | None]:
        results = _database_errors(submit_isolated, self.ledger.submit, entries)
        done = [r.index for r in results if isinstance(r, Receipt)]
        return results, self._checkpoint(max(done) + 1) if done else None

    def _commit_batch(self, entries: list[bytes]) -> tuple[list[Receipt], str]:
        receipts = self.ledger.submit(entries)
        return receipts, self._checkpoint(receipts[-1].index + 1)

    def checkpoint_covering(self, size: int) -> str:
        """The published checkpoint once it covers ``size`` entries (blocking)."""
        return self._checkpoint(size)

    def _checkpoint(self, size: int) -> str:
        """The published checkpoint, once it covers ``size`` entries (it does after a submit;
        after another process's commit it may have to be brought up to date)."""
        path = self.log_dir / "checkpoint"
        try:
            text = path.read_text("utf-8")
            if int(text.split("\n", 2)[1]) >= size:
                return text
        except (OSError, IndexError, ValueError):
            pass
        catch_up(self.log_dir, self.ledger.log, self.ledger.db.read, size)
        return path.read_text("utf-8")

    async def _replayed(self, entries: Sequence[bytes], refusal: Exception) -> Outcome:
        """Entries refused as already logged: their original receipts if every one of them is
        logged with the same bytes; else the refusal (or the conflict of other bytes)."""
        def look_up() -> Outcome:
            receipts = []
            for pos, entry in enumerate(entries):
                try:
                    r = original_receipt(self.ledger.db, entry)
                except ReelrightsError as exc:
                    raise_at(pos, len(entries), exc)
                if r is None:
                    raise refusal
                receipts.append(r)
            return Outcome(receipts, self._checkpoint(max(r.index for r in receipts) + 1),
                           duplicate=True)
        return await self._run(look_up)


def _database_errors(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``, with the database's unavailability as :class:`Unavailable` and a full
    disk as :class:`~reelrights.errors.DiskFull`."""
    try:
        return fn(*args)
    except ReelrightsError:
        raise
    except Exception as exc:
        full = disk_full(exc, "the database")
        if full is not None:
            raise full from None
        reason = unavailable(exc)
        if reason is not None:
            raise Unavailable(
                f"the database is unreachable ({reason[:200]}); the statements may not be logged: "
                f"submit the same bytes again in {UNAVAILABLE_RETRY_S} s (a statement already "
                "logged gets its original receipt)", UNAVAILABLE_RETRY_S) from None
        raise
