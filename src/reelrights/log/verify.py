"""Verify the whole log held in the database, step by step:

1. every entry's bytes hash to its stored RFC 9162 leaf hash;
2. every entry is a well-formed signed statement whose body fits its type, and its signature
   verifies under the actor's key *as the log itself registered it* (keys are replayed from the
   ``party.registered`` entries, so nothing outside the log is trusted);
3. the tiles recomputed from the leaves equal the stored tiles, full and partial;
4. every checkpoint ever issued is signed by the log key, names this origin, and its root equals
   the tree recomputed at its size. Recomputing the tree at every checkpoint's size proves that all
   the checkpoints are consistent with one another, which is stronger than a chain of proofs;
5. the head equals the last checkpoint.

The first failure raises :class:`~reelrights.errors.LogIntegrityError` naming the leaf index
(or the checkpoint size) and why.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256

from sqlalchemy import Connection, select

from ..core.checkpoint import open_checkpoint
from ..core.note import NoteVerifier
from ..core.statement_types import check_body
from ..core.statements import SignedStatement, decode_entry
from ..core.tiles import TILE_WIDTH, TileBuilder
from ..errors import LogIntegrityError, ReelrightsError, SignatureError
from ..store.tables import log_checkpoints
from .store import LogStore, _driver_sql

__all__ = ["LogReport", "verify_log"]


@dataclass
class LogReport:
    origin: str
    size: int
    root: str
    checkpoints: int
    signatures: int
    seconds: float

    def summary(self) -> str:
        sig = f", {self.signatures} signatures" if self.signatures else " (tree only)"
        return (f"ok: {self.origin} size {self.size} root {self.root[:16]}…: {self.size} entries"
                f"{sig}, {self.checkpoints} checkpoints consistent, tiles match "
                f"({self.seconds:.2f}s)")


def verify_log(conn: Connection, log: LogStore, vkey: str, *, signatures: bool = True,
               progress: Callable[[int], None] | None = None, chunk: int = 16_384) -> LogReport:
    started = time.perf_counter()
    verifier = NoteVerifier(vkey)
    size, head_root = log.head(conn)
    cps = [(int(r.size), bytes(r.root), bytes(r.note)) for r in conn.execute(
        select(log_checkpoints.c.size, log_checkpoints.c.root, log_checkpoints.c.note)
        .order_by(log_checkpoints.c.size))]
    keys: dict[str, bytes] = {}
    builder = TileBuilder(0, {})
    next_cp = 0
    pos = 0
    sha = sha256
    for idxs, stored, entries in log.entry_columns(conn, 0, size, chunk=chunk):
        if idxs[0] != pos or idxs[-1] != pos + len(idxs) - 1:  # indices are unique and sorted
            gap = next(pos + k for k, idx in enumerate(idxs) if idx != pos + k)
            raise LogIntegrityError(f"entry {gap} is missing from the database", gap)
        hashes = [sha(b"\x00" + e).digest() for e in entries]
        if hashes != stored:
            bad = pos + next(k for k, (h, s) in enumerate(zip(hashes, stored)) if h != s)
            raise LogIntegrityError(f"entry {bad}: its bytes do not hash to the stored leaf "
                                    "hash (the entry or its hash was altered)", bad)
        if signatures:
            _check_statements(pos, entries, keys)
        # Append in pieces that end exactly at checkpoint sizes, and compare roots there.
        base, i = pos, 0
        while i < len(hashes):
            stop = len(hashes)
            if next_cp < len(cps) and cps[next_cp][0] <= base + stop:
                stop = cps[next_cp][0] - base
            changed = builder.append(hashes[i:stop])
            _compare_full_tiles(conn, changed)
            pos += stop - i
            i = stop
            while next_cp < len(cps) and cps[next_cp][0] == pos:
                _check_checkpoint(cps[next_cp], builder.root(), verifier, log.origin)
                next_cp += 1
        if progress:
            progress(len(entries))
    if pos != size:
        raise LogIntegrityError(f"entry {pos} is missing: the head says {size} entries", pos)
    if _max_index(conn) >= size:
        raise LogIntegrityError(f"entry {size}: rows exist at or beyond the head (size {size}); "
                                "they were written outside the log's append path", size)
    if builder.root() != head_root:
        raise LogIntegrityError(f"the head's root differs from the tree recomputed at size {size}", size)
    if next_cp != len(cps):
        bad = cps[next_cp][0]
        raise LogIntegrityError(f"checkpoint at size {bad} is beyond the log's {size} entries", bad)
    if cps and cps[-1][0] != size:
        raise LogIntegrityError(f"the head (size {size}) is not the last checkpoint "
                                f"(size {cps[-1][0]})", size)
    _compare_edge_tiles(conn, builder)
    return LogReport(log.origin, size, head_root.hex(), len(cps),
                     size if signatures else 0, time.perf_counter() - started)


def _decode_span(entries: list[bytes], lo: int, hi: int, known: dict[str, bytes]) -> tuple:
    """Decode and type-check ``entries[lo:hi]``; verify those whose actor's key is in ``known``.

    Returns (statements, types, first refusal as (position, error) or None, first bad signature
    or None, positions left to the caller because their actor was not in ``known``).
    """
    from ..ledger import _signature_ok

    stmts, types, pending = [], [], []
    bad = None
    for i in range(lo, hi):
        try:
            s = decode_entry(entries[i])
            t = check_body(s.type, s.version, s.body, s.actor)
        except ReelrightsError as exc:
            return stmts, types, (i, exc), bad, pending
        stmts.append(s)
        types.append(t)
        key = known.get(s.actor)
        if key is None:
            pending.append(i)
        elif bad is None and not _signature_ok(s, key):
            bad = i
    return stmts, types, None, bad, pending


def _check_statements(first: int, entries: list[bytes], keys: dict[str, bytes]) -> None:
    """Decode, type-check and verify one chunk; ``keys`` replays the log's registrations.

    Workers decode and verify in parallel with the keys known before the chunk (a key, once
    registered, never changes); the entries whose actor they did not know are replayed here in
    log order and verified afterwards. Errors come in the same order as a sequential pass: the
    first undecodable entry or unknown actor, then the first bad signature.
    """
    from ..ledger import _PARALLEL_MIN, _spans, _verify_pool, verify_signatures

    known = dict(keys)
    n = len(entries)
    spans = ([(0, n)] if n < _PARALLEL_MIN else _spans(n))
    results = [_verify_pool().submit(_decode_span, entries, lo, hi, known) for lo, hi in spans]
    stmts: list[SignedStatement] = []
    bad: list[int] = []
    pending: list[int] = []
    for future in results:
        span_stmts, span_types, refused, span_bad, span_pending = future.result()
        for s, t in zip(span_stmts, span_types, strict=True):
            if t.key_field is not None:
                keys.setdefault(s.actor, base64.b64decode(s.body[t.key_field]))
            if s.actor not in keys:
                idx = first + len(stmts)
                raise LogIntegrityError(f"entry {idx}: actor {s.actor} was never registered "
                                        "earlier in the log", idx)
            stmts.append(s)
        if refused is not None:
            idx = first + refused[0]
            raise LogIntegrityError(f"entry {idx}: {refused[1].message}", idx)
        if span_bad is not None:
            bad.append(span_bad)
        pending.extend(span_pending)
    late = verify_signatures([(stmts[i], keys[stmts[i].actor]) for i in pending])
    if late is not None:
        bad.append(pending[late])
    if bad:
        i = min(bad)
        raise LogIntegrityError(f"entry {first + i}: the {stmts[i].type} signature by "
                                f"{stmts[i].actor} does not verify", first + i)


def _check_checkpoint(cp: tuple[int, bytes, bytes], root: bytes, verifier: NoteVerifier,
                      origin: str) -> None:
    size, stored_root, note = cp
    try:
        parsed = open_checkpoint(note, verifier)
    except (SignatureError, ReelrightsError) as exc:
        raise LogIntegrityError(f"checkpoint at size {size}: {exc.message}", size) from None
    if parsed.origin != origin or parsed.size != size:
        raise LogIntegrityError(f"checkpoint at size {size} names {parsed.origin} size "
                                f"{parsed.size}", size)
    if parsed.root != root or stored_root != root:
        raise LogIntegrityError(f"checkpoint at size {size} has a root that differs from the tree "
                                "recomputed at that size: the log was rewritten (a fork)", size)


def _compare_tiles(conn: Connection, want: dict[tuple[int, int], bytes]) -> None:
    by_level: dict[int, list[int]] = {}
    for level, idx in want:
        by_level.setdefault(level, []).append(idx)
    for level, idxs in by_level.items():
        idxs_set = set(idxs)
        # The tiles a piece of the log completes are consecutive: one range query per level.
        rows = {int(i): bytes(h) for i, h in conn.exec_driver_sql(_driver_sql(
            conn, "SELECT idx, hashes FROM log_tiles WHERE level = ? AND idx >= ? AND idx <= ?"),
            (level, min(idxs), max(idxs))) if int(i) in idxs_set}
        for idx in sorted(idxs):
            expected = want[(level, idx)]
            got = rows.get(idx)
            if got is None:
                raise LogIntegrityError(f"tile {level}/{idx} is missing from the database",
                                        (idx * TILE_WIDTH) << (8 * level))
            got = got[: len(expected)]
            if got != expected:
                at = next(i for i in range(0, len(expected), 32)
                          if got[i:i + 32] != expected[i:i + 32]) // 32
                first = (idx * TILE_WIDTH + at) << (8 * level)
                raise LogIntegrityError(f"entry {first}: stored tile {level}/{idx} differs at "
                                        f"hash {at} from the tree recomputed from the entries",
                                        first)


def _compare_full_tiles(conn: Connection, changed: dict[tuple[int, int], bytes]) -> None:
    full = {k: v for k, v in changed.items() if len(v) == 32 * TILE_WIDTH}
    if full:
        _compare_tiles(conn, full)


def _compare_edge_tiles(conn: Connection, builder: TileBuilder) -> None:
    n = builder.size
    edge = builder.edge()
    want = {}
    for level, data in edge.items():
        if data:
            want[(level, (n >> (8 * level)) // TILE_WIDTH)] = data
    if want:
        _compare_tiles(conn, want)



def _max_index(conn: Connection) -> int:
    from sqlalchemy import func

    from ..store.tables import log_entries

    value = conn.execute(select(func.max(log_entries.c.idx))).scalar()
    return -1 if value is None else int(value)
