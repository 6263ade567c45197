"""Accepting signed statements: every state change in reelrights goes through :meth:`Ledger.submit`.

One call is one batch and one transaction:

1. decode each entry (canonical RFC 8785 bytes, envelope shape, at most 65,535 bytes);
2. check each body against its type in :mod:`reelrights.core.statement_types`;
3. lock the log head (serialising every writer), then resolve each actor's public key, from the
   registry or, for ``party.registered``, from the body itself (proof of possession);
4. verify every signature with libsodium, spread over a thread pool (PyNaCl releases the GIL,
   so both cores verify at once);
5. let the capability services apply their rows, run by run of the same type, in log order;
6. append the entries, the tiles they change and one signed checkpoint;
7. commit, then bring the static tile folder up to date.

A failure anywhere before the commit rolls everything back: no row, no entry, no tile, no
checkpoint. The error names the statement's position in the batch.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from .core.note import NoteSigner
from .core.statement_types import check_body, lookup
from .core.statements import SignedStatement, decode_entry, verify_entry_signature
from .errors import BadInput, ReelrightsError, SignatureError
from .home import Home
from .log.mirror import publish_batch
from .log.store import AppendResult, LogStore
from .store.db import Database
from .store.tables import parties

__all__ = ["Accepted", "Ledger", "Receipt", "applier", "at"]


@dataclass(frozen=True, slots=True)
class Accepted:
    """A statement that passed every check, with the log index it is about to take."""

    index: int
    statement: SignedStatement


@dataclass
class Receipt:
    """What the registry returns for each accepted statement."""

    index: int
    type: str
    actor: str
    leaf_hash: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "type": self.type, "actor": self.actor,
                "leaf_hash": self.leaf_hash, **self.details}


#: type name -> function applying a run of accepted statements; returns one details dict each.
Applier = Callable[[Connection, list[Accepted]], list[dict[str, Any]]]
_APPLIERS: dict[str, Applier] = {}


def applier(type_name: str) -> Callable[[Applier], Applier]:
    """Register the function that writes a statement type's registry rows."""
    def decorate(fn: Applier) -> Applier:
        _APPLIERS[type_name] = fn
        return fn
    return decorate


_PARALLEL_MIN = 64
_pool: ThreadPoolExecutor | None = None


def _verify_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2,
                                   thread_name_prefix="reelrights-verify")
    return _pool


def verify_signatures(pairs: Sequence[tuple[SignedStatement, bytes]]) -> int | None:
    """Check every (statement, public key); return the position of the first bad one, or None."""
    def run(lo: int, hi: int) -> int | None:
        for i in range(lo, hi):
            try:
                verify_entry_signature(pairs[i][0], pairs[i][1])
            except SignatureError:
                return i
        return None

    n = len(pairs)
    if n < _PARALLEL_MIN:
        return run(0, n)
    workers = os.cpu_count() or 2
    step = -(-n // (workers * 4))
    futures = [_verify_pool().submit(run, lo, min(lo + step, n)) for lo in range(0, n, step)]
    bad = [r for f in futures if (r := f.result()) is not None]
    return min(bad) if bad else None


class Ledger:
    """The registry's write path over one database and one log."""

    def __init__(self, db: Database, log: LogStore, mirror_dir: Path | None = None) -> None:
        self.db = db
        self.log = log
        self.mirror_dir = mirror_dir
        self._keys: dict[str, bytes] = {}

    @classmethod
    def open(cls, home: Home, *, publish: bool = True) -> Ledger:
        from . import services  # noqa: F401  (registers every capability's appliers)

        key = home.log_key()
        signer = NoteSigner(home.origin, key.seed)
        return cls(Database(home.database_url), LogStore(home.origin, signer),
                   home.log_dir if publish else None)

    # -- the write path ---------------------------------------------------------------------
    def submit(self, entries: Sequence[bytes]) -> list[Receipt]:
        """Accept a batch of signed statements, or refuse all of it."""
        if not entries:
            raise BadInput("nothing to submit; pass at least one signed statement")
        stmts = [self._decode(i, len(entries), e) for i, e in enumerate(entries)]
        leaf_hashes = [sha256(b"\x00" + e).digest() for e in entries]
        with self.db.write() as conn:
            size, root = self.log.lock_head(conn)
            keys = self._resolve_keys(conn, stmts)
            bad = verify_signatures(list(zip(stmts, keys)))
            if bad is not None:
                self._raise_at(bad, len(stmts), lambda: verify_entry_signature(stmts[bad], keys[bad]))
            details = self._apply(conn, size, stmts)
            result = self.log.append(conn, size, root, entries, leaf_hashes,
                                     [(s.type, s.actor, s.time) for s in stmts])
        self._remember_keys(stmts)
        self._publish(result)
        return [Receipt(size + i, s.type, s.actor, leaf_hashes[i].hex(), details[i])
                for i, s in enumerate(stmts)]

    def _decode(self, pos: int, total: int, entry: bytes) -> SignedStatement:
        def work() -> SignedStatement:
            s = decode_entry(entry)
            check_body(s.type, s.version, s.body, s.actor)
            return s
        return self._raise_at(pos, total, work)

    @staticmethod
    def _raise_at(pos: int, total: int, fn: Callable[[], Any]) -> Any:
        """Run ``fn``; if it fails in a batch of several, say which statement it was."""
        try:
            return fn()
        except ReelrightsError as exc:
            if total > 1:
                exc.message = f"statement {pos + 1} of {total}: {exc.message}"
                exc.args = (exc.message,)
            raise

    def _resolve_keys(self, conn: Connection, stmts: list[SignedStatement]) -> list[bytes]:
        known = dict(self._keys)
        missing = {s.actor for s in stmts if s.actor not in known} - {
            s.actor for s in stmts if s.type == "party.registered"}
        if missing:
            for chunk in _chunks(sorted(missing), 500):
                for row in conn.execute(select(parties.c.id, parties.c.public_key)
                                        .where(parties.c.id.in_(chunk))):
                    known[row.id] = bytes(row.public_key)
        out = []
        for i, s in enumerate(stmts):
            t = lookup(s.type, s.version)
            if t.key_field is not None:
                key = base64.b64decode(s.body[t.key_field])
                known.setdefault(s.actor, key)
                out.append(key)
                continue
            key = known.get(s.actor)
            if key is None:
                self._raise_at(i, len(stmts), lambda s=s: _unknown_actor(s))
            out.append(key)  # type: ignore[arg-type]
        return out

    def _apply(self, conn: Connection, size: int, stmts: list[SignedStatement]) -> list[dict]:
        details: list[dict] = []
        start = 0
        while start < len(stmts):
            end = start
            while end < len(stmts) and stmts[end].type == stmts[start].type:
                end += 1
            fn = _APPLIERS.get(stmts[start].type)
            if fn is None:
                raise BadInput(f"statement type {stmts[start].type} has no registry handler")
            run = [Accepted(size + i, stmts[i]) for i in range(start, end)]
            try:
                details.extend(fn(conn, run))
            except ReelrightsError as exc:
                pos = getattr(exc, "position", None)
                if len(stmts) > 1 and pos is not None:
                    exc.message = f"statement {start + pos + 1} of {len(stmts)}: {exc.message}"
                    exc.args = (exc.message,)
                raise
            start = end
        return details

    def _remember_keys(self, stmts: list[SignedStatement]) -> None:
        for s in stmts:
            t = lookup(s.type, s.version)
            if t.key_field is not None:
                self._keys[s.actor] = base64.b64decode(s.body[t.key_field])

    def _publish(self, result: AppendResult) -> None:
        if self.mirror_dir is not None:
            publish_batch(self.mirror_dir, result, self.log, self.db.read)


def _unknown_actor(s: SignedStatement) -> None:
    raise SignatureError(f"actor {s.actor} is not a registered party; register it with "
                         "`reelrights party add` (or submit its party.registered statement) first")


def _chunks(items: list[str], n: int) -> list[list[str]]:
    return [items[i:i + n] for i in range(0, len(items), n)]



def at(position: int, exc: ReelrightsError) -> ReelrightsError:
    """Mark an applier's error with the statement's position in its run (for batch messages)."""
    exc.position = position  # type: ignore[attr-defined]
    return exc
