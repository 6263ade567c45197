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
from ..store.tables import log_checkpoints, log_tiles
from .store import LogStore

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
    from ..ledger import verify_signatures  # the ledger's parallel verifier

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
    batch: list[tuple[int, bytes, bytes]] = []

    def flush() -> None:
        nonlocal next_cp, pos
        if not batch:
            return
        hashes = []
        for idx, stored, entry in batch:
            h = sha256(b"\x00" + entry).digest()
            if h != stored:
                raise LogIntegrityError(f"entry {idx}: its bytes do not hash to the stored leaf "
                                        "hash (the entry or its hash was altered)", idx)
            hashes.append(h)
        if signatures:
            _check_statements(batch, keys, verify_signatures)
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
            progress(len(batch))
        batch.clear()

    for item in log.entries_between(conn, 0, size):
        if item[0] != pos + len(batch):
            raise LogIntegrityError(f"entry {pos + len(batch)} is missing from the database", pos + len(batch))
        batch.append(item)
        if len(batch) >= chunk:
            flush()
    flush()
    if pos != size:
        raise LogIntegrityError(f"entry {pos} is missing: the head says {size} entries", pos)
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


def _check_statements(batch: list[tuple[int, bytes, bytes]], keys: dict[str, bytes],
                      verify_many: Callable) -> None:
    stmts: list[SignedStatement] = []
    pairs = []
    for idx, _, entry in batch:
        try:
            s = decode_entry(entry)
            t = check_body(s.type, s.version, s.body, s.actor)
        except ReelrightsError as exc:
            raise LogIntegrityError(f"entry {idx}: {exc.message}", idx) from None
        if t.key_field is not None:
            keys.setdefault(s.actor, base64.b64decode(s.body[t.key_field]))
        key = keys.get(s.actor)
        if key is None:
            raise LogIntegrityError(f"entry {idx}: actor {s.actor} was never registered "
                                    "earlier in the log", idx)
        stmts.append(s)
        pairs.append((s, key))
    bad = verify_many(pairs)
    if bad is not None:
        idx = batch[bad][0]
        raise LogIntegrityError(f"entry {idx}: the {stmts[bad].type} signature by "
                                f"{stmts[bad].actor} does not verify", idx)


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
        rows = {int(r.idx): bytes(r.hashes) for r in conn.execute(
            select(log_tiles.c.idx, log_tiles.c.hashes)
            .where(log_tiles.c.level == level, log_tiles.c.idx.in_(idxs)))}
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

