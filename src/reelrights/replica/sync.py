"""Keep a replica up to date from a log's tiles: :func:`sync`.

A party's home that follows a server (:mod:`.remote`) holds the log's public key, pinned when
it joined (``log.vkey``), and a read-only replica of the registry. Each sync:

1. takes the new checkpoint (``/checkpoint``, or the one a submission's answer carried) and
   checks its signature with the pinned key and its origin;
2. compares it with what the replica synced before: the same size must have the same root; a
   smaller checkpoint must be a prefix of ours (a stale cache: nothing to do); a larger one must
   be consistent with ours, by a consistency proof read from the source's tiles (RFC 9162)
   checked against our root and the new signed root;
3. fetches the new entries (entry bundles), recomputes the tree from our right edge plus their
   leaf hashes and requires the signed root;
4. checks every new statement as ``log verify`` does (body, the log's rules, the signature
   under the key the log itself registered), and replays them through the registry's appliers
   (:func:`.replay.replay`, continuing from the replica's state), in one transaction that also
   stores the tiles they change and the checkpoint;
5. brings the home's static ``log/`` folder up to the new size.

Any disagreement in 1 to 3 is a split view: the log showed this replica one history before and
another now. The sync refuses it (VerificationError, exit 1) and writes nothing, so the replica
keeps the history it verified.

A v2 audit challenge's seed comes from the first checkpoint the log issued after it
(:mod:`reelrights.evidence.audit_challenge`). A replica only sees the checkpoints it synced to,
so for each new challenge the sync asks the source for that checkpoint
(``checkpoint_after``, when the source has it: :class:`reelrights.client.Client` does), checks
its signature and its root against the tree, and stores it.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..catalogue import check_body
from ..core.checkpoint import Checkpoint, open_checkpoint
from ..core.key_history import DEFAULT_ROTATION_WAIT_S
from ..core.merkle import consistency_proof, range_hash, verify_consistency
from ..core.note import NoteVerifier
from ..core.statement_types import OPERATOR
from ..core.statements import decode_entry, open_leaf
from ..core.tiles import TILE_WIDTH, TileBuilder, TileHashReader
from ..errors import BadInput, LogIntegrityError, ProofError, ReelrightsError, VerificationError
from ..home import Home
from ..log.database_log import DatabaseLog, leaf_hashes_of
from ..log.mirror import export_log
from ..log.tiled import TileSource, read_bundle, read_tile
from ..log.verify import StatementRules, check_statements
from ..store.db import Database
from ..store.tables import log_checkpoints, log_entries, parties
from ..write.keys import load_key_history
from .replay import replay

__all__ = ["SplitView", "SyncReport", "sync"]


class SplitView(VerificationError):
    """The log shows this replica a history that contradicts the one it synced before."""


@dataclass(frozen=True)
class SyncReport:
    """What a sync did: the sizes before and after, the root, and the entries replayed."""

    origin: str
    old_size: int
    size: int
    root: str
    seconds: float

    @property
    def entries(self) -> int:
        return self.size - self.old_size

    def summary(self) -> str:
        if not self.entries:
            return f"up to date: {self.origin} size {self.size}"
        return (f"synced {self.entries} entries: {self.origin} size {self.old_size} -> "
                f"{self.size} ({self.seconds:.2f}s)")

    def to_json(self) -> dict[str, Any]:
        return {"origin": self.origin, "old_size": self.old_size, "size": self.size,
                "entries": self.entries, "root": self.root, "seconds": round(self.seconds, 3)}


def sync(home: Home, source: TileSource, *, checkpoint: bytes | None = None,
         db: Database | None = None) -> SyncReport:
    """Bring ``home``'s replica up to ``checkpoint`` (default: the source's latest), verified as
    the module doc says. ``db`` is the home's database when the caller has it open. Another
    process syncing the same home at the same time makes this one start over (three times at
    most)."""
    for _ in range(2):
        try:
            return _sync(home, source, checkpoint, db)
        except _Moved:
            continue
    return _sync(home, source, checkpoint, db)


class _Moved(BadInput):
    """The replica's head moved while this sync fetched: another command synced it."""


def _sync(home: Home, source: TileSource, checkpoint: bytes | None,
          db: Database | None) -> SyncReport:
    started = time.perf_counter()
    vkey = home.log_vkey()
    verifier = NoteVerifier(vkey)
    note = checkpoint if checkpoint is not None else source.read("checkpoint")
    cp = open_checkpoint(note, verifier)
    if cp.origin != home.origin:
        raise SplitView(f"the server's checkpoint is for log {cp.origin!r}, but {home.path} "
                        f"follows {home.origin!r}; check --server (a home follows one log)")
    own = db is None
    database = db or Database(home.database_url)
    log = DatabaseLog(home.origin, None, vkey=vkey)
    try:
        with database.read() as conn:
            old_size, old_root = log.head(conn)
            if cp.size <= old_size:
                _check_prefix(log, conn, cp, old_size, old_root)
                return SyncReport(cp.origin, old_size, old_size, old_root.hex(),
                                  time.perf_counter() - started)
            edge = log.edge_tiles(conn, old_size)
        if old_size:
            _check_consistency(source, old_size, old_root, cp)
        leaves = _fetch_entries(source, old_size, cp.size)
        hashes = leaf_hashes_of(leaves)
        extra = _challenge_checkpoints(source, verifier, cp, old_size, leaves)
        roots = _roots_at(old_size, edge, hashes, {cp.size, *extra})
        if roots[cp.size] != cp.root:
            raise SplitView(_split(cp, f"its {cp.size - old_size} new entries, appended to the "
                                       f"{old_size} synced before, hash to another root"))
        history = [(cp.size, cp.root, note, _log_time(leaves[-1]))]
        for size, extra_note in extra.items():
            extra_cp = Checkpoint.parse(extra_note.split(b"\n\n", 1)[0] + b"\n")
            if extra_cp.root != roots[size]:
                raise SplitView(_split(extra_cp, "its root is not the tree's at that size"))
            history.append((size, extra_cp.root, extra_note,
                            _log_time(leaves[size - old_size - 1])))
        with database.write() as conn:
            if log.head(conn) != (old_size, old_root):
                raise _Moved(f"{home.path}'s replica changed while it was being synced "
                             "(another command synced it); run the command again")
            known = [(int(r.size), bytes(r.root), bytes(r.note), r.issued_at) for r in
                     conn.execute(select(log_checkpoints.c.size, log_checkpoints.c.root,
                                         log_checkpoints.c.note, log_checkpoints.c.issued_at))]
            _check_new_statements(conn, log, vkey, home.origin, old_size, leaves)
            from ..sealed.copies import home_source  # this party's own sealed bodies

            report = replay(conn, leaves, checkpoints=known + history, origin=home.origin,
                            start=old_size, edge=edge, bodies=home_source(home))
            if report.root != cp.root:  # the same leaves as above: never, short of a bug
                raise LogIntegrityError(_split(cp, "the replayed tree's root differs"), None)
            log.upsert_tiles(conn, report.tiles)
        with database.read() as conn:
            export_log(home.log_dir, log, conn, since=old_size)
    finally:
        if own:
            database.dispose()
    return SyncReport(cp.origin, old_size, cp.size, cp.root.hex(), time.perf_counter() - started)


def _split(cp: Checkpoint, why: str) -> str:
    return (f"split view: the log's checkpoint {cp.origin} size {cp.size} (root "
            f"{cp.root.hex()[:16]}…) contradicts what this home synced before: {why}; the "
            "server shows different histories to different parties. Nothing was synced; keep "
            "this home as evidence and tell the log's operator and auditors")


def _check_prefix(log: DatabaseLog, conn: Any, cp: Checkpoint, size: int, root: bytes) -> None:
    """A checkpoint no larger than the replica's tree must be a prefix of it."""
    if cp.size == size:
        ours = root
    elif cp.size == 0:
        ours = b""
    else:
        ours = range_hash(0, cp.size, log.hash_reader(conn, size))
    if cp.size and ours != cp.root:
        raise SplitView(_split(cp, f"this home's tree has root {ours.hex()[:16]}… at that size"))


def _check_consistency(source: TileSource, old_size: int, old_root: bytes,
                       cp: Checkpoint) -> None:
    """RFC 9162 consistency of our tree with the new signed one, proved from the source's
    tiles."""
    reader = TileHashReader(cp.size, lambda level, index, width: read_tile(source, level, index,
                                                                           width))
    try:
        proof = consistency_proof(old_size, cp.size, reader)
        verify_consistency(old_size, cp.size, proof, old_root, cp.root)
    except (ProofError, LogIntegrityError) as exc:
        raise SplitView(_split(cp, f"it is not consistent with the tree of size {old_size} "
                                   f"synced before ({exc.message})")) from None


def _fetch_entries(source: TileSource, start: int, end: int) -> list[bytes]:
    """Entries ``start`` to ``end - 1`` from the source's entry bundles."""
    out: list[bytes] = []
    for tindex in range(start // TILE_WIDTH, (end + TILE_WIDTH - 1) // TILE_WIDTH):
        base = tindex * TILE_WIDTH
        width = min(TILE_WIDTH, end - base)
        entries, why = read_bundle(source, tindex, width)
        if why is not None or len(entries) != width:
            bad = base + min(len(entries), width)
            raise LogIntegrityError(f"entry {bad}: the server's entry bundle {tindex} is "
                                    f"malformed: {why or f'{len(entries)} entries, want {width}'}",
                                    bad)
        out.extend(entries[max(start - base, 0):])
    return out


def _roots_at(start: int, edge: dict[int, bytes], hashes: list[bytes],
              sizes: set[int]) -> dict[int, bytes]:
    """The tree's root at each of ``sizes``, appending ``hashes`` to our right edge."""
    builder = TileBuilder(start, edge)
    roots: dict[int, bytes] = {}
    for size in sorted(sizes):
        builder.append(hashes[builder.size - start: size - start])
        roots[size] = builder.root()
    return roots


def _challenge_checkpoints(source: TileSource, verifier: NoteVerifier, cp: Checkpoint,
                           start: int, leaves: list[bytes]) -> dict[int, bytes]:
    """For each new v2 audit challenge, the first checkpoint after it (size -> signed note),
    when the source can say and it is not ``cp`` itself."""
    after: Callable[[int], bytes | None] | None = getattr(source, "checkpoint_after", None)
    if after is None:
        return {}
    out: dict[int, bytes] = {}
    for k, leaf in enumerate(leaves):
        if b'"audit.challenged"' not in leaf:
            continue
        index = start + k
        try:
            s = decode_entry(leaf)
        except ReelrightsError:
            continue  # the statement checks name it
        if s.type != "audit.challenged" or s.registry is None or \
                any(index < size for size in out):
            continue
        note = after(index)
        if note is None:
            continue
        found = open_checkpoint(note, verifier, origin=cp.origin)
        if not index < found.size <= cp.size:
            raise SplitView(_split(found, f"the server named it as the first checkpoint after "
                                          f"entry {index}, which it cannot be"))
        if found.size != cp.size:
            out[found.size] = note
    return out


def _log_time(leaf: bytes) -> str:
    try:
        _, log_time = open_leaf(leaf)
    except ReelrightsError:
        return ""
    return log_time or ""


def _check_new_statements(conn: Any, log: DatabaseLog, vkey: str, origin: str, start: int,
                          leaves: list[bytes]) -> None:
    """The new entries checked as ``log verify`` checks every entry, carrying on from the
    replica's state: the keys its log registered, its registry's rules, its last log time, and
    the statement ids it holds (each logged once)."""
    rules = StatementRules(vkey, origin, check_body)
    for party_id, key in conn.execute(select(parties.c.id, parties.c.public_key)):
        rules[party_id] = bytes(key)
    head = log.head_state(conn)
    if head.registry is not None and head.v2_from is not None:
        established = decode_entry(log.entry(conn, head.v2_from))
        rules.registry = head.registry
        rules.skew = _seconds(established.body["clock_skew_s"])
        rules.window = _seconds(established.body["submission_window_s"])
        rules.last_time = head.time
        if "operator_key" in established.body:  # the operator's statements: its own key
            rules[OPERATOR] = base64.b64decode(established.body["operator_key"])
        # The parties' keys over time, as the replica's own key statements built them.
        rules.history = load_key_history(conn, head.registry, established.body.get(
            "key_rotation_wait_s", DEFAULT_ROTATION_WAIT_S))
    check_statements(start, leaves, rules)
    ids = [s_id for s_id in (_statement_id(leaf) for leaf in leaves) if s_id]
    for chunk in range(0, len(ids), 500):
        seen = conn.execute(select(log_entries.c.idx, log_entries.c.statement_id).where(
            log_entries.c.statement_id.in_(ids[chunk:chunk + 500]))).first()
        if seen is not None:
            raise LogIntegrityError(f"statement {seen.statement_id} (log index {seen.idx}) is "
                                    "logged again among the new entries (a replay)", seen.idx)


def _statement_id(leaf: bytes) -> str | None:
    try:
        return decode_entry(leaf).id
    except ReelrightsError:
        return None


def _seconds(value: int) -> Any:
    from datetime import timedelta

    return timedelta(seconds=int(value))
