"""Verify the whole log held in the database, step by step:

1. every entry's bytes hash to its stored RFC 9162 leaf hash;
2. every entry is a well-formed signed statement whose body fits its type, and its signature
   verifies under the actor's key *as the log itself registered it* (keys are replayed from the
   ``party.registered`` entries, so nothing outside the log is trusted), and the log's own
   rules hold: v1 entries only before the ``registry.established`` statement, which must name
   this log's origin and the key it is verified with; from there on v2 entries of that registry
   only, log times that never decrease, signed times within the allowed window of their log
   time, and no statement id twice;
3. the tiles recomputed from the leaves equal the stored tiles, full and partial;
4. every checkpoint ever issued is signed by the log key, names this origin, and its root equals
   the tree recomputed at its size. Recomputing the tree at every checkpoint's size proves that all
   the checkpoints are consistent with one another, which is stronger than a chain of proofs;
5. the head equals the last checkpoint, and the head's count of checkpoints issued
   (``log_head.checkpoints``) equals the number of checkpoint rows, so a deleted row is noticed;
6. every ``log_tiles`` row is a tile of the tree with exactly its width and length (checked
   first, from the rows' widths and lengths alone), and no tile is missing.

Every cell is read with its SQL type checked (:mod:`.stored_rows`). The first failure raises
:class:`~reelrights.errors.LogIntegrityError` naming the leaf index (or the checkpoint size, or
the table, row and column of a wrong-typed cell) and why.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from hashlib import sha256
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Connection

from ..core.checkpoint import open_checkpoint
from ..core.key_history import DEFAULT_ROTATION_WAIT_S, KEY_TYPES, KeyHistory
from ..core.note import NoteVerifier
from ..core.statement_types import OPERATOR, Checker
from ..core.statements import SignedStatement, decode_entry, parse_time
from ..core.tiles import TILE_WIDTH, TileBuilder
from ..errors import LogIntegrityError, ReelrightsError, SignatureError
from .database_log import DatabaseLog
from .stored_rows import (
    check_tile_rows,
    entry_columns,
    first_wrong_entry_cell,
    read_checkpoints,
    read_head,
    tile_contents,
)
from .workers import check_signatures

if TYPE_CHECKING:
    from .workers import SignatureJob

__all__ = ["LogReport", "StatementRules", "check_statements", "verify_log"]


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


def verify_log(conn: Connection, log: DatabaseLog, vkey: str, *, check_body: Checker,
               signatures: bool = True,
               progress: Callable[[int], None] | None = None, chunk: int = 16_384) -> LogReport:
    started = time.perf_counter()
    verifier = NoteVerifier(vkey)
    head = read_head(conn)
    size, head_root = head.size, head.root
    cps = read_checkpoints(conn)
    check_tile_rows(conn, size)
    keys = StatementRules(verifier.vkey, log.origin, check_body)
    builder = TileBuilder(0, {})
    next_cp = 0
    pos = 0
    sha = sha256
    pending: _Signatures | None = None  # the previous chunk's signatures, still being checked
    done = None if signatures else _tree_from_workers(conn, log, size, cps, builder, verifier,
                                                      progress)
    if done is not None:
        pos, next_cp = done
    try:
        for idxs, stored, entries in entry_columns(conn, pos, size, chunk=chunk):
            pos, next_cp, pending = _verify_chunk(
                conn, log, pos, idxs, stored, entries, cps, next_cp, builder, keys, verifier,
                signatures, pending, sha)
            if progress:
                progress(len(entries))
    except LogIntegrityError:
        if pending is not None:
            pending.finish()  # an earlier bad signature is the first failure
        raise
    if pending is not None:
        pending.finish()
        pending = None
    keys.end_of_batches()
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
    if head.checkpoints != len(cps):
        what = "deleted" if head.checkpoints > len(cps) else "added outside the append path"
        raise LogIntegrityError(f"log_head counts {head.checkpoints} checkpoints issued, but "
                                f"log_checkpoints holds {len(cps)} rows: a checkpoint row was "
                                f"{what}", None)
    _compare_edge_tiles(conn, builder)
    return LogReport(log.origin, size, head_root.hex(), len(cps),
                     size if signatures else 0, time.perf_counter() - started)


class _Digest(Protocol):
    def digest(self) -> bytes: ...


def _verify_chunk(conn: Connection, log: DatabaseLog, pos: int, idxs: list[int],
                  stored: list[bytes], entries: list[bytes], cps: list[tuple[int, bytes, bytes]],
                  next_cp: int, builder: TileBuilder, keys: StatementRules,
                  verifier: NoteVerifier, signatures: bool, pending: _Signatures | None,
                  sha: Callable[[bytes], _Digest]) -> tuple[int, int, _Signatures | None]:
    """One chunk of entries: indices, leaf hashes, statements, tiles and checkpoints.

    Returns the new position, the next checkpoint to check and this chunk's signature check
    (still running); the previous chunk's is finished here, once this chunk is decoded.
    """
    if idxs[0] != pos or idxs[-1] != pos + len(idxs) - 1:  # indices are unique and sorted
        gap = next(pos + k for k, idx in enumerate(idxs) if idx != pos + k)
        raise LogIntegrityError(f"entry {gap} is missing from the database", gap)
    hashes = [sha(b"\x00" + e).digest() for e in entries]
    if hashes != stored:
        bad = pos + next(k for k, (h, s) in enumerate(zip(hashes, stored)) if h != s)
        raise LogIntegrityError(f"entry {bad}: its bytes do not hash to the stored leaf "
                                "hash (the entry or its hash was altered)", bad)
    current = _check_statements(pos, entries, keys) if signatures else None
    if pending is not None:
        pending.finish()
    try:
        pos, next_cp = _append_hashes(conn, log, pos, hashes, cps, next_cp, builder, verifier)
    except LogIntegrityError:
        if current is not None:
            current.finish()  # a bad signature in this chunk names the entry itself
        raise
    return pos, next_cp, current


def _append_hashes(conn: Connection, log: DatabaseLog, pos: int, hashes: list[bytes],
                   cps: list[tuple[int, bytes, bytes]], next_cp: int, builder: TileBuilder,
                   verifier: NoteVerifier) -> tuple[int, int]:
    """Grow the tree by ``hashes``, in pieces that end exactly at checkpoint sizes; compare the
    completed tiles with the stored ones and each checkpoint's root with the tree's."""
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
    return pos, next_cp


#: Tree-only verification of an SQLite file this large hashes the leaves in worker processes.
_WORKER_MIN = 65_536


def _sqlite_path(conn: Connection) -> str | None:
    url = conn.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or ":memory:" in url.database \
            or url.database.startswith("file:"):
        return None
    return url.database


def _tree_from_workers(conn: Connection, log: DatabaseLog, size: int,
                       cps: list[tuple[int, bytes, bytes]],
                       builder: TileBuilder, verifier: NoteVerifier,
                       progress: Callable[[int], None] | None) -> tuple[int, int] | None:
    """Tree-only verify of a large SQLite log: worker processes read and hash the leaves (two
    cores instead of one), this thread builds the tree from their hashes, in log order.
    Returns (position, next checkpoint), or None when no worker process is available."""
    from .workers import leaf_hash_ranges

    path = _sqlite_path(conn)
    if path is None or size < _WORKER_MIN:
        return None
    ranges = leaf_hash_ranges(path, 0, size)
    if ranges is None:
        return None
    pos = next_cp = 0
    try:
        for lo, hi, future in ranges:
            try:
                data, bad, why = future.result()
            except (TypeError, ValueError, OverflowError, MemoryError) as exc:
                # A worker met a cell it could not hash: name it.
                raise (first_wrong_entry_cell(conn, lo, hi) or LogIntegrityError(
                    f"entries {lo} to {hi - 1} could not be read ({exc})", lo)) from None
            if bad is not None:
                wrong = first_wrong_entry_cell(conn, bad, bad + 1)
                if wrong is not None:
                    raise wrong
                if why == "missing":
                    raise LogIntegrityError(f"entry {bad} is missing from the database", bad)
                raise LogIntegrityError(f"entry {bad}: its bytes do not hash to the stored leaf "
                                        "hash (the entry or its hash was altered)", bad)
            hashes = [data[k:k + 32] for k in range(0, len(data), 32)]
            pos, next_cp = _append_hashes(conn, log, pos, hashes, cps, next_cp, builder,
                                          verifier)
            if progress:
                progress(hi - lo)
    finally:
        for _, _, future in ranges:
            future.cancel()
    return pos, next_cp


class StatementRules(dict[str, bytes]):
    """What verifying the statements carries from entry to entry, in log order: the keys the
    log registered (this is the dict: actor -> key; the operator's is the log's key), and the
    v2 rules from the log's ``registry.established`` statement on: its registry, the last log
    time (never decreasing), the signed-time bounds and the statement ids seen (each once).

    ``vkey`` is the note verifier key the log is verified with and ``origin`` the log's origin:
    the ``registry.established`` statement must name exactly these (its ``log_key`` and
    ``origin``), so a log cannot be established for another key or another log. ``check_body``
    is the statement catalogue's check of a body and its signer (the caller's: the log knows
    no statement types of its own)."""

    def __init__(self, vkey: str, origin: str, check_body: Checker) -> None:
        verifier = NoteVerifier(vkey)
        super().__init__({OPERATOR: verifier.public_key})
        self.vkey = verifier.vkey  # normalised, as format_vkey writes it
        self.origin = origin
        self.check_body = check_body
        self.registry: str | None = None
        self.skew = self.window = timedelta(0)
        self.last_time: str | None = None
        self.ids: set[int] = set()
        #: The parties' keys over time, replayed from the key statements (docs/keys.md).
        self.history = KeyHistory()
        #: Parties whose key was made in a browser, waiting for their key.recovery.set in the
        #: same batch: party -> (index, log time) of the registration (docs/web.md).
        self.browser_made: dict[str, tuple[int, str]] = {}

    def key_of(self, idx: int, s: SignedStatement, key_field: str | None) -> bytes | None:
        """The key the entry at ``idx`` must be signed with: the one its body registers, its
        actor's registered key, or the key its ``key`` names when that key is in force at
        this index and log time (:mod:`reelrights.core.key_history`); a key statement is
        applied to the history. None: the actor was never registered."""
        actor = s.actor
        if key_field is not None or actor == OPERATOR:
            if s.key_seq:
                raise LogIntegrityError(f"entry {idx}: a {s.type} statement names key seq "
                                        f"{s.key_seq}; it is signed with key 0", idx)
            if key_field is not None:
                self.setdefault(actor, base64.b64decode(s.body[key_field]))
            return self.get(actor)
        is_key = s.type in KEY_TYPES
        if not s.key_seq and not is_key and actor not in self.history.parties:
            return self.get(actor)
        if s.log_time is None:
            raise LogIntegrityError(f"entry {idx}: a v1 {s.type} statement names key seq "
                                    f"{s.key_seq} (key numbers and key statements are v2 "
                                    "only)", idx)
        registered = self.get(actor)
        if registered is None:
            return None
        try:
            key = self.history.signer(s.type, actor, s.key_seq, idx, s.log_time, registered)
            if is_key:
                self.history.apply(s.type, actor, s.registry or "", s.key_seq, s.body, idx,
                                   s.log_time, registered)
        except ReelrightsError as exc:
            raise LogIntegrityError(f"entry {idx}: {exc.message}", idx) from None
        return key

    def check(self, idx: int, s: SignedStatement) -> None:
        """The log's own rules for the entry at ``idx`` (raises LogIntegrityError)."""
        if s.log_time is None:
            if self.registry is not None:
                raise LogIntegrityError(f"entry {idx}: a v1 entry after the registry was "
                                        "established (v2 only from there on)", idx)
            return
        if self.registry is None:
            if s.type != "registry.established" or s.body.get("v1_entries") != idx:
                raise LogIntegrityError(f"entry {idx}: a v2 entry before the registry's "
                                        "registry.established statement", idx)
            if s.body["log_key"] != self.vkey:
                raise LogIntegrityError(f"entry {idx}: the registry.established statement names "
                                        f"the log key {s.body['log_key']!r}, not the key the "
                                        f"log is verified with ({self.vkey!r})", idx)
            if s.body["origin"] != self.origin:
                raise LogIntegrityError(f"entry {idx}: the registry.established statement names "
                                        f"the origin {s.body['origin']!r}, not this log's "
                                        f"({self.origin!r})", idx)
            self.registry = s.registry
            self.skew = timedelta(seconds=s.body["clock_skew_s"])
            self.window = timedelta(seconds=s.body["submission_window_s"])
            self.history.wait_s = s.body.get("key_rotation_wait_s", DEFAULT_ROTATION_WAIT_S)
        elif s.registry != self.registry:
            raise LogIntegrityError(f"entry {idx}: signed for registry {s.registry!r}, not this "
                                    f"log's {self.registry!r}", idx)
        elif s.type == "registry.established":
            raise LogIntegrityError(f"entry {idx}: a second registry.established", idx)
        if self.last_time is not None and s.log_time < self.last_time:
            raise LogIntegrityError(f"entry {idx}: log time {s.log_time} is before the previous "
                                    f"entry's {self.last_time} (log times never decrease)", idx)
        self.last_time = s.log_time
        t, signed = parse_time(s.log_time), parse_time(s.time)
        if not t - self.window <= signed <= t + self.skew:
            raise LogIntegrityError(f"entry {idx}: signed time {s.time} is outside the allowed "
                                    f"window around its log time {s.log_time}", idx)
        if s.id is None:
            raise LogIntegrityError(f"entry {idx}: a statement without an id after the registry "
                                    "was established", idx)
        if self.browser_made or s.type == "party.registered":
            self._recovery_first(idx, s)
        key = int(s.id[4:].translate(_B32_DIGITS), 32)
        if key in self.ids:
            raise LogIntegrityError(f"entry {idx}: statement {s.id} was logged before (a "
                                    "replay)", idx)
        self.ids.add(key)


    def _recovery_first(self, idx: int, s: SignedStatement) -> None:
        """A key made in a browser (``party.registered`` with ``key_origin`` browser) signs
        its ``key.recovery.set`` next, in the same batch (the same log time), and nothing
        before it (docs/web.md; the write path's rule, write/keys.py)."""
        for actor, (at, log_time) in list(self.browser_made.items()):
            if s.actor == actor:
                if s.type != "key.recovery.set" or s.log_time != log_time:
                    raise LogIntegrityError(f"entry {idx}: {actor}'s key was made in a browser "
                                            f"(entry {at}) and signs {s.type} before its "
                                            "recovery key is set", idx)
                del self.browser_made[actor]
            elif s.log_time != log_time:
                self.end_of_batches()
        if s.type == "party.registered" and s.body.get("key_origin") == "browser":
            self.browser_made[s.actor] = (idx, s.log_time or "")

    def end_of_batches(self) -> None:
        """At a batch's end (a checkpoint): no browser-made key still waits for its recovery
        key."""
        for actor, (at, _) in self.browser_made.items():
            raise LogIntegrityError(f"entry {at}: {actor}'s key was made in a browser, and its "
                                    "batch sets no recovery key (key.recovery.set)", at)


#: Statement ids' base32 symbols (``234567a…z``, in ASCII order) as base-32 digits for int().
_B32_DIGITS = str.maketrans("234567abcdefghijklmnopqrstuvwxyz", "0123456789abcdefghijklmnopqrstuv")


def _check_statements(first: int, entries: list[bytes], keys: StatementRules) -> _Signatures:
    """Decode and type-check one chunk in log order, replaying the log's registrations into
    ``keys`` and checking the log's own rules (v1 before the registry's establishment, v2 after:
    its registry, log times that never decrease, signed times in bounds, each statement once),
    and start checking its signatures (in worker processes for a large chunk).

    Decoding holds the GIL, so it runs here; the signatures are checked while the caller hashes
    this chunk and decodes the next. Call :meth:`_Signatures.finish` for the verdict.
    """
    pairs: list[tuple[SignedStatement, bytes]] = []
    for k, entry in enumerate(entries):
        idx = first + k
        try:
            s = decode_entry(entry)
            t = keys.check_body(s.type, s.version, s.body, s.actor, sealed=s.sealed is not None)
        except ReelrightsError as exc:
            raise LogIntegrityError(f"entry {idx}: {exc.message}", idx) from None
        keys.check(idx, s)
        key = keys.key_of(idx, s, t.key_field)
        if key is None:
            raise LogIntegrityError(f"entry {idx}: actor {s.actor} was never registered "
                                    "earlier in the log", idx)
        pairs.append((s, key))
        if s.type == "registry.established" and "operator_key" in s.body:
            # Signed with the log's key, it hands the operator's statements to another key.
            keys[OPERATOR] = base64.b64decode(s.body["operator_key"])
    return _Signatures(first, [s for s, _ in pairs], check_signatures(pairs))


def check_statements(first: int, entries: list[bytes], rules: StatementRules) -> None:
    """Check the entries from index ``first`` on as :func:`verify_log` does (body, the log's
    rules, the signature under the key the log registered), carrying on from ``rules``: a
    replica's incremental sync seeds it with the keys, registry and last log time it already
    holds. Raises LogIntegrityError naming the first bad entry."""
    _check_statements(first, entries, rules).finish()
    rules.end_of_batches()  # a sync ends at a checkpoint, which ends a batch


@dataclass
class _Signatures:
    first: int
    stmts: list[SignedStatement]
    job: SignatureJob

    def finish(self) -> None:
        i = self.job.first_bad()
        if i is not None:
            s = self.stmts[i]
            raise LogIntegrityError(f"entry {self.first + i}: the {s.type} signature by "
                                    f"{s.actor} does not verify", self.first + i)


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
    """Stored tiles equal, byte for byte and length for length, the tiles recomputed."""
    by_level: dict[int, list[int]] = {}
    for level, idx in want:
        by_level.setdefault(level, []).append(idx)
    for level, idxs in by_level.items():
        # The tiles a piece of the log completes are consecutive: one range query per level.
        rows = tile_contents(conn, level, min(idxs), max(idxs))
        for idx in sorted(idxs):
            expected = want[(level, idx)]
            got = rows.get(idx)
            if got is None:
                raise LogIntegrityError(f"tile {level}/{idx} is missing from the database",
                                        (idx * TILE_WIDTH) << (8 * level))
            if got != expected:
                n = min(len(got), len(expected))
                at = next((i for i in range(0, n, 32) if got[i:i + 32] != expected[i:i + 32]),
                          None)
                into = at if at is not None else n if len(got) < len(expected) else 0
                first = (idx * TILE_WIDTH + into // 32) << (8 * level)
                if at is None:  # one is a prefix of the other
                    raise LogIntegrityError(f"entry {first}: stored tile {level}/{idx} is "
                                            f"{len(got)} bytes, want {len(expected)}", first)
                raise LogIntegrityError(f"entry {first}: stored tile {level}/{idx} differs at "
                                        f"hash {at // 32} from the tree recomputed from the "
                                        "entries", first)


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
    value = conn.exec_driver_sql("SELECT MAX(idx) FROM log_entries").scalar()
    return -1 if value is None else int(value)
