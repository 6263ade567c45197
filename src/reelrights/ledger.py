"""Accepting signed statements: every state change in reelrights goes through :meth:`Ledger.submit`.

One call is one batch and one transaction:

1. decode each entry (canonical RFC 8785 bytes, envelope shape, at most 65,535 bytes);
2. check each body against its type in :mod:`reelrights.core.statement_types`;
3. verify each signature whose key is already known (a party's key never changes), with
   libsodium. Steps 1 to 3 run in a thread pool, a span of the batch per task: decoding holds
   the GIL but PyNaCl releases it, so while one thread decodes the other verifies;
4. lock the log head (serialising every writer), resolve the keys the workers did not know,
   from the registry or, for ``party.registered``, from the body itself (proof of possession),
   and verify those signatures too;
5. let the capability services apply their rows, run by run of the same type, in log order;
6. append the entries, the tiles they change and one signed checkpoint;
7. commit, then bring the static tile folder up to date.

Errors keep the order of the steps: the first undecodable entry of the batch, then the first
unknown actor, then the first bad signature, then the services' refusals. A failure anywhere
before the commit rolls everything back: no row, no entry, no tile, no checkpoint. The error
names the statement's position in the batch.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
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

#: SQLite, per write transaction (each one opens a new connection): a page cache that holds a
#: whole batch's working set (the default 2 MiB spills dirty pages into the WAL mid-batch), and
#: a WAL checkpoint every ~64 MiB instead of after every commit. Neither weakens durability:
#: synchronous=FULL still fsyncs the WAL at every commit.
_SQLITE_WRITE_PRAGMAS = ("PRAGMA cache_size=-262144", "PRAGMA wal_autocheckpoint=16384")


def _verify_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2,
                                   thread_name_prefix="reelrights-verify")
    return _pool


def _spans(n: int, per_worker: int = 4) -> list[tuple[int, int]]:
    """Split range(n) into a few spans per worker thread."""
    step = -(-n // ((os.cpu_count() or 2) * per_worker))
    return [(lo, min(lo + step, n)) for lo in range(0, n, step)]


def _signature_ok(stmt: SignedStatement, key: bytes) -> bool:
    try:
        verify_entry_signature(stmt, key)
    except SignatureError:
        return False
    return True


def verify_signatures(pairs: Sequence[tuple[SignedStatement, bytes]]) -> int | None:
    """Check every (statement, public key); return the position of the first bad one, or None."""
    def run(lo: int, hi: int) -> int | None:
        return next((i for i in range(lo, hi) if not _signature_ok(*pairs[i])), None)

    n = len(pairs)
    if n < _PARALLEL_MIN:
        return run(0, n)
    futures = [_verify_pool().submit(run, lo, hi) for lo, hi in _spans(n)]
    bad = [r for f in futures if (r := f.result()) is not None]
    return min(bad) if bad else None


@dataclass(slots=True)
class _Checked:
    """What one worker found in ``entries[lo:hi]``, before the write lock is taken."""

    stmts: list[SignedStatement] = field(default_factory=list)
    leaf_hashes: list[bytes] = field(default_factory=list)
    #: The first entry that failed to decode or to fit its type: (position, error).
    refused: tuple[int, ReelrightsError] | None = None
    #: The first entry whose signature failed under a key known before the batch.
    bad_signature: int | None = None
    #: Entries whose actor's key is not known yet: resolved under the lock.
    pending: list[int] = field(default_factory=list)
    #: Whether the span registers parties (their keys come from the batch itself).
    registers: bool = False


def _check_span(entries: Sequence[bytes], lo: int, hi: int, known: dict[str, bytes]) -> _Checked:
    """Decode, check and (where the key is already known) verify ``entries[lo:hi]``.

    Decoding and the schema walk hold the GIL, the signature check does not, so two workers
    keep two cores busy: while one decodes, the other verifies.
    """
    out = _Checked()
    for i in range(lo, hi):
        entry = entries[i]
        try:
            s = decode_entry(entry)
            t = check_body(s.type, s.version, s.body, s.actor)
        except ReelrightsError as exc:
            out.refused = (i, exc)  # the first refusal wins; the rest of the span is moot
            return out
        out.stmts.append(s)
        out.leaf_hashes.append(sha256(b"\x00" + entry).digest())
        if t.key_field is not None:
            out.registers = True
            key = base64.b64decode(s.body[t.key_field])
        else:
            key = known.get(s.actor)
        if key is None:
            out.pending.append(i)
        elif out.bad_signature is None and not _signature_ok(s, key):
            out.bad_signature = i
    return out


class Ledger:
    """The registry's write path over one database and one log."""

    def __init__(self, db: Database, log: LogStore, mirror_dir: Path | None = None) -> None:
        self.db = db
        self.log = log
        self.mirror_dir = mirror_dir
        self._keys: dict[str, bytes] = {}  # parties this ledger registered
        #: Every key known to be its party's registered key (keys never change): the above and
        #: those read from the registry. The workers verify with these before the lock.
        self._verified_keys: dict[str, bytes] = {}
        self._pin: Any = None  # SQLite: an idle connection, see _write()

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
        total = len(entries)
        spans = self._check(entries)
        for span in spans:
            if span.refused is not None:
                pos, exc = span.refused
                self._raise_at(pos, total, lambda: _raise(exc))
        stmts = [s for span in spans for s in span.stmts]
        leaf_hashes = [h for span in spans for h in span.leaf_hashes]
        with self._write() as conn:
            size, root = self.log.lock_head(conn)
            self._check_signatures(conn, stmts, spans)
            details = self._apply(conn, size, stmts)
            result = self.log.append(conn, size, root, entries, leaf_hashes,
                                     [(s.type, s.actor, s.time) for s in stmts])
        self._remember_keys(stmts)
        self._publish(result)
        return [Receipt(size + i, s.type, s.actor, leaf_hashes[i].hex(), details[i])
                for i, s in enumerate(stmts)]

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """``db.write()``, tuned for batches on SQLite.

        SQLite checkpoints the WAL into the database, and deletes it, whenever the last
        connection to the file closes: with one connection per transaction that is every batch,
        and every page a batch dirties is written twice. An idle connection kept open (it holds
        no transaction, so it blocks nothing) leaves checkpoints to ``wal_autocheckpoint``.
        """
        sqlite = self.db.dialect == "sqlite"
        if sqlite and self._pin is None and ":memory:" not in self.db.url:
            self._pin = self.db.engine.raw_connection()
        with self.db.write() as conn:
            if sqlite:
                for pragma in _SQLITE_WRITE_PRAGMAS:
                    conn.exec_driver_sql(pragma)
            yield conn

    def _check(self, entries: Sequence[bytes]) -> list[_Checked]:
        """Steps 1, 2 and most of 4, in the worker threads for a large batch."""
        known = self._verified_keys
        if len(entries) < _PARALLEL_MIN:
            return [_check_span(entries, 0, len(entries), known)]
        return [f.result() for f in [_verify_pool().submit(_check_span, entries, lo, hi, known)
                                     for lo, hi in _spans(len(entries))]]

    def _check_signatures(self, conn: Connection, stmts: list[SignedStatement],
                          spans: list[_Checked]) -> None:
        """Refuse the first bad signature (after the first unknown actor).

        The common case: the workers knew every actor's key and checked every signature. When an
        actor was new to them, or the batch registers parties (whose keys then serve the rest of
        the batch), the keys are resolved here for the whole batch and every signature checked
        again, in parallel.
        """
        if any(span.pending or span.registers for span in spans):
            keys = self._resolve_keys(conn, stmts)  # refuses unknown actors, in order
            bad = verify_signatures(list(zip(stmts, keys)))
            if bad is not None:
                self._raise_at(bad, len(stmts),
                               lambda: verify_entry_signature(stmts[bad], keys[bad]))
            return
        found = [span.bad_signature for span in spans if span.bad_signature is not None]
        if found:
            first = min(found)
            key = self._verified_keys[stmts[first].actor]
            self._raise_at(first, len(stmts), lambda: verify_entry_signature(stmts[first], key))

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
                    known[row.id] = self._verified_keys[row.id] = bytes(row.public_key)
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
                self._keys[s.actor] = self._verified_keys[s.actor] = base64.b64decode(
                    s.body[t.key_field])

    def _publish(self, result: AppendResult) -> None:
        if self.mirror_dir is not None:
            publish_batch(self.mirror_dir, result, self.log, self.db.read)


def _raise(exc: ReelrightsError) -> None:
    raise exc


def _unknown_actor(s: SignedStatement) -> None:
    raise SignatureError(f"actor {s.actor} is not a registered party; register it with "
                         "`reelrights party add` (or submit its party.registered statement) first")


def _chunks(items: list[str], n: int) -> list[list[str]]:
    return [items[i:i + n] for i in range(0, len(items), n)]



def at(position: int, exc: ReelrightsError) -> ReelrightsError:
    """Mark an applier's error with the statement's position in its run (for batch messages)."""
    exc.position = position  # type: ignore[attr-defined]
    return exc
