"""Work for whole batches in worker processes: Ed25519 signature checks, and leaf hashes for a
full verify of an SQLite log.

Why processes: libsodium's verify releases the GIL, but each call (about 70 µs) has to take the
GIL back before the next. While the ledger's writer thread runs Python (the appliers, the tiles,
SQLAlchemy), a verify thread waits up to the interpreter's switch interval (5 ms) for every
single call, so threads barely overlap the writer. A worker process has no GIL to wait for: it
checks a few thousand signatures in a tight loop while the writer applies the same batch.

Small jobs (fewer than :data:`PROCESS_MIN` signatures) stay in the calling thread: starting or
feeding a process would cost more than it saves. If the pool cannot start or breaks (a worker
killed), the job runs in the calling thread instead. A result is never guessed.

The workers are started with ``spawn`` and never import the caller's ``__main__``: a script
that submits a large batch without an ``if __name__ == "__main__":`` guard must not be run a
second time, writes and all, by its own workers (see :func:`_main_hidden`).

Only ``nacl`` runs in the workers; they receive ``signature || message`` and the public key,
and answer with the position of the first signature that does not verify.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError, CryptoError

from ..core.statement_types import Checker
from ..core.statements import SignedStatement, key_id_matches

__all__ = ["PROCESS_MIN", "SignatureJob", "check_signatures", "first_bad_signature",
           "first_refused_entry", "warm",
           "leaf_hash_ranges", "sqlite_leaf_hashes", "worker_cpu_seconds"]

#: Below this many signatures a job runs in the calling thread.
PROCESS_MIN = 512
#: Signatures per task: small enough that two workers share a batch evenly and start early.
_CHUNK = 1024

_pool: ProcessPoolExecutor | None = None
_pool_pid: int | None = None
_pool_lock = threading.Lock()


def first_bad_signature(signed: Sequence[bytes], keys: Sequence[bytes], offset: int = 0) -> int | None:
    """Position (plus ``offset``) of the first ``signature || message`` that fails, or None."""
    for i, (sm, pk) in enumerate(zip(signed, keys, strict=True)):
        try:
            crypto_sign_open(sm, pk)
        except (BadSignatureError, CryptoError, ValueError, TypeError):
            return offset + i
    return None



def first_refused_entry(entries: Sequence[bytes], keys: Sequence[bytes], offset: int = 0, *,
                        check_body: Checker) -> int | None:
    """Position (plus ``offset``) of the first entry that is not a canonical, well-formed signed
    statement of a known type, signed by ``keys[i]``; None when every entry passes.

    The full checks of :meth:`reelrights.ledger.Ledger.submit`, for its worker processes: the
    caller only needs a yes or no here, and words the error itself when the answer is no.
    ``check_body`` is the statement catalogue's check (the caller passes it, bound with
    :func:`functools.partial`: the log knows no statement types of its own).
    """
    from ..core.statements import decode_entry, verify_entry_signature

    for i, (entry, key) in enumerate(zip(entries, keys, strict=True)):
        try:
            s = decode_entry(entry)
            check_body(s.type, s.version, s.body, s.actor, sealed=s.sealed is not None)
            verify_entry_signature(s, key)
        except Exception:  # noqa: BLE001 - any failure is a refusal; the caller says why
            return offset + i
    return None


def _workers() -> ProcessPoolExecutor | None:
    """The shared pool (spawned on first use; a forked child starts its own)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            try:
                _pool = ProcessPoolExecutor(max_workers=os.cpu_count() or 2,
                                            mp_context=multiprocessing.get_context("spawn"))
                _pool_pid = os.getpid()
            except (OSError, ValueError, NotImplementedError):
                _pool = None
        return _pool


@contextmanager
def _main_hidden() -> Iterator[None]:
    """While workers may be started (ProcessPoolExecutor starts them on demand, inside
    ``submit``), hide ``__main__``'s file and spec, so that ``spawn`` does not import the
    caller's script in the worker. The workers need nothing from it: they run this module."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved: dict[str, Any] = {k: main.__dict__[k] for k in ("__file__", "__spec__")
                             if k in main.__dict__}
    main.__dict__.pop("__file__", None)
    if "__spec__" in saved:
        main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.update(saved)


def warm() -> None:
    """Start the worker processes now (each imports its modules: about half a second), so the
    first job that needs them does not wait for that. Blocking: run it in a thread."""
    pool = _workers()
    if pool is None:
        return
    try:
        with _main_hidden():
            jobs = [pool.submit(first_bad_signature, [], [], 0)
                    for _ in range(os.cpu_count() or 2)]
        for job in jobs:
            job.result()
    except (BrokenProcessPool, OSError, RuntimeError):
        _drop_pool()


def _drop_pool() -> None:
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None and _pool_pid == os.getpid():
        pool.shutdown(wait=False, cancel_futures=True)


atexit.register(_drop_pool)


class SignatureJob:
    """Signatures being checked in the background; :meth:`first_bad` waits for the answer.

    ``positions`` maps the job's items back to the caller's numbering (statement positions in
    the batch). ``background=False`` keeps a large job in the calling thread too (checked when
    the answer is asked for); ``process_min`` is the fewest signatures sent to the workers.
    """

    def __init__(self, signed: list[bytes], keys: list[bytes], positions: list[int], *,
                 known_bad: int | None = None,
                 check: Callable[[Sequence[bytes], Sequence[bytes], int], int | None]
                 = first_bad_signature, background: bool = True,
                 process_min: int = PROCESS_MIN) -> None:
        self._signed, self._keys, self._positions = signed, keys, positions
        self._check = check  # (items, keys, offset) -> first failing position or None
        self._known_bad = known_bad  # a position already known to fail (a key id mismatch)
        self._futures: list[tuple[int, Future[int | None]]] = []
        self._answered = False
        self._answer: int | None = None
        n = len(signed)
        if background and n >= process_min and (pool := _workers()) is not None:
            try:
                with _main_hidden():
                    for lo in range(0, n, _CHUNK):
                        hi = min(lo + _CHUNK, n)
                        self._futures.append((lo, pool.submit(check, signed[lo:hi],
                                                              keys[lo:hi], lo)))
            except (BrokenProcessPool, RuntimeError):
                _drop_pool()
                self._futures = []

    def first_bad(self) -> int | None:
        """The caller's position of the first bad signature, or None when all verify."""
        if not self._answered:
            self._answer, self._answered = self._first_bad(), True
        return self._answer

    def _first_bad(self) -> int | None:
        found: int | None = None
        if self._futures:
            for lo, future in self._futures:
                try:
                    bad = future.result()
                except (BrokenProcessPool, OSError, RuntimeError):
                    _drop_pool()
                    hi = min(lo + _CHUNK, len(self._signed))
                    bad = self._check(self._signed[lo:hi], self._keys[lo:hi], lo)
                if bad is not None:
                    found = bad if found is None else min(found, bad)
        else:
            found = self._check(self._signed, self._keys, 0)
        at = None if found is None else self._positions[found]
        if self._known_bad is not None and (at is None or self._known_bad < at):
            return self._known_bad
        return at

    def cancel(self) -> None:
        for _, future in self._futures:
            future.cancel()


def sqlite_leaf_hashes(path: str, lo: int, hi: int) -> tuple[bytes, int | None, str]:
    """Read entries ``lo <= idx < hi`` of the SQLite log at ``path`` (read-only) and hash them.

    Returns (the leaf hashes concatenated, the first failing index or None, why). Rows below
    the head never change, so reading them on a connection of its own sees what the caller's
    snapshot sees.
    """
    import sqlite3
    from hashlib import sha256

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    try:
        rows = db.execute("SELECT idx, leaf_hash, entry FROM log_entries "
                          "WHERE idx >= ? AND idx < ? ORDER BY idx", (lo, hi)).fetchall()
    finally:
        db.close()
    if not rows:
        return b"", lo, "missing"
    idxs, stored, entries = zip(*rows)
    if idxs[0] != lo or idxs[-1] != lo + len(idxs) - 1 or len(idxs) != hi - lo:
        gap = next((lo + k for k, idx in enumerate(idxs) if idx != lo + k), lo + len(idxs))
        return b"", gap, "missing"
    hashes = [sha256(b"\x00" + e).digest() for e in entries]
    if hashes != list(stored):
        bad = lo + next(k for k, (h, s) in enumerate(zip(hashes, stored)) if h != s)
        return b"", bad, "hash"
    return b"".join(hashes), None, ""


def leaf_hash_ranges(path: str, start: int, end: int, step: int = 32_768
                     ) -> list[tuple[int, int, Future[tuple[bytes, int | None, str]]]] | None:
    """Yield (lo, hi, future of :func:`sqlite_leaf_hashes`) in order, or None without a pool.

    All ranges are queued at once; the caller takes the answers in order while the workers
    run ahead.
    """
    pool = _workers()
    if pool is None:
        return None
    try:
        with _main_hidden():
            return [(lo, min(lo + step, end), pool.submit(sqlite_leaf_hashes, path, lo,
                                                          min(lo + step, end)))
                    for lo in range(start, end, step)]
    except (BrokenProcessPool, RuntimeError):
        _drop_pool()
        return None


def worker_cpu_seconds() -> float:
    """CPU seconds used so far by this process's worker processes (Linux /proc; 0 elsewhere).

    For benchmarks: the workers are not reaped, so ``os.times()`` does not count them.
    """
    pool = _pool
    if pool is None or _pool_pid != os.getpid():
        return 0.0
    total = 0
    for pid in list(getattr(pool, "_processes", {}) or {}):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def check_signatures(pairs: Sequence[tuple[SignedStatement, bytes]],
                     positions: Sequence[int] | None = None, *,
                     background: bool = True, process_min: int = PROCESS_MIN) -> SignatureJob:
    """Start checking every (statement, public key); positions name them in the caller's batch.

    A key id that does not match the key fails at once (no Ed25519 needed); the rest go to
    :class:`~reelrights.log.workers.SignatureJob` (worker processes for a large batch, unless
    ``background`` is False: then every signature is checked when the verdict is asked for).
    """
    pos = list(range(len(pairs))) if positions is None else list(positions)
    signed, keys, where = [], [], []
    mismatch = None
    for (s, key), p in zip(pairs, pos, strict=True):
        if key_id_matches(s, key):
            signed.append(s.signed_message())
            keys.append(key)
            where.append(p)
        elif mismatch is None:
            mismatch = p
    return SignatureJob(signed, keys, where, known_bad=mismatch, background=background,
                        process_min=process_min)
