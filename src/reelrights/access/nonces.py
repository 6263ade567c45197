"""The replay guard of signed reads: each (key, nonce) is used once, across every process.

A nonce is recorded in ``read_nonces`` (migration 0014) in its own short transaction; the
primary key refuses a second use, whichever server process (or host, on PostgreSQL) sees it.
A row is kept while its signature could still be accepted (until ``created`` + the window) and
pruned after that; expired rows go in the same transaction as a new one, at most once a second
per process.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from ..errors import ReplayedNonce
from ..store.access_tables import read_nonces
from ..store.db import Database

__all__ = ["NonceBook"]


class NonceBook:
    """Records nonces in one database; :meth:`use` refuses a nonce already used by its key."""

    #: Seconds between two prunes of expired rows by one process.
    PRUNE_EVERY_S = 1.0

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._pruned = 0.0

    def use(self, key_id: str, nonce: str, expires_at: int, now: float | None = None) -> None:
        """Record ``nonce`` of ``key_id`` until ``expires_at`` (Unix seconds), or raise
        :class:`~reelrights.errors.ReplayedNonce` when that key already used it."""
        now = time.time() if now is None else now
        with self._lock:
            prune = now - self._pruned >= self.PRUNE_EVERY_S
            if prune:
                self._pruned = now
        try:
            with self.db.write() as conn:
                if prune:
                    conn.execute(delete(read_nonces).where(read_nonces.c.expires_at < int(now)))
                conn.execute(insert(read_nonces).values(key_id=key_id, nonce=nonce,
                                                        expires_at=expires_at))
        except IntegrityError:
            raise ReplayedNonce(
                f"the request signature's nonce {nonce!r} was already used by key {key_id}: a "
                "replayed request is refused; sign each request anew with a fresh nonce") from None

    def count(self) -> int:
        """Rows kept now (tests and operators)."""
        from sqlalchemy import func, select

        with self.db.read() as conn:
            return int(conn.scalar(select(func.count()).select_from(read_nonces)) or 0)
