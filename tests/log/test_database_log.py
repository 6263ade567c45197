"""The log kept in the database: proofs, checkpoints, the static mirror and batch atomicity.

Every test runs on SQLite and on PostgreSQL (the ``home``/``ledger`` fixtures), with real signed
statements submitted through :meth:`Ledger.submit`.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from reelrights.catalogue import check_body
from reelrights.core.checkpoint import open_checkpoint
from reelrights.core.ids import new_id
from reelrights.core.merkle import (
    MemoryTree,
    consistency_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from reelrights.core.note import NoteSigner, NoteVerifier
from reelrights.core.statements import make_leaf, make_statement, sign_statement
from reelrights.core.tiles import TILE_WIDTH, parse_tile_path
from reelrights.errors import (
    BadInput,
    Conflict,
    InvalidStatement,
    NotFound,
    PolicyDenied,
    ReelrightsError,
    SignatureError,
)
from reelrights.home import Home
from reelrights.keys import PartyKey
from reelrights.ledger import Ledger
from reelrights.log.mirror import export_log
from reelrights.log.tiled import DirTileSource, verify_tiled_log
from reelrights.log.verify import verify_log
from reelrights.registry.parties import register_party
from reelrights.registry.works import list_works
from reelrights.store.tables import log_checkpoints, log_entries, log_head, log_tiles, metadata

# --------------------------------------------------------------------------------------------
# Helpers: real parties, real signed statements
# --------------------------------------------------------------------------------------------

_counter = itertools.count()


class Party:
    """A party registered through the registry, with its key loaded from the home."""

    def __init__(self, home: Home, ledger: Ledger, kind: str = "studio", name: str = "Studio") -> None:
        receipt = register_party(home, ledger, kind, name)
        self.id: str = receipt.details["id"]
        self.key = home.party_key(self.id)
        self.index = receipt.index
        self.ledger = ledger
        self.replayable = b""

    def work(self, *, work_id: str | None = None, kind: str = "film", sha: str | None = None,
             size: int | None = None, owner: str | None = None) -> tuple[str, bytes]:
        """A signed work.registered statement: (work id, entry bytes)."""
        n = next(_counter)
        wid = work_id or new_id("work")
        body = {"id": wid, "kind": kind, "title": f"Work {n:06d}", "owner": owner or self.id,
                "assets": [{"sha256": sha or hashlib.sha256(b"asset %d %s" % (n, wid.encode())).hexdigest(),
                            "size": size or 1000 + n, "media_type": "video/mp4", "category": "video",
                            "name": f"w{n}.mp4"}]}
        return wid, sign_statement(self.ledger.new_statement("work.registered", owner or self.id, body), self.key)

    def credit(self, work: str, party: str, role: str = "performer", share: str = "0.5") -> bytes:
        body = {"work": work, "party": party, "role": role, "share": share}
        return sign_statement(self.ledger.new_statement("work.credited", self.id, body), self.key)


def new_party_statement(registry: str, kind: str = "performer", name: str = "Newcomer") -> tuple[str, PartyKey, bytes]:
    """A self-signed party.registered statement for a fresh key: (party id, key, entry)."""
    key = PartyKey.generate()
    pid = new_id("party")
    body = {"id": pid, "kind": kind, "name": name,
            "public_key": base64.b64encode(key.public_key_bytes).decode("ascii")}
    return pid, key, sign_statement(make_statement("party.registered", pid, body, registry=registry), key)


def vkey_of(home: Home) -> str:
    return NoteSigner(home.origin, home.log_key().seed).vkey


def file_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative POSIX path -> bytes)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def db_snapshot(ledger: Ledger) -> dict[str, Any]:
    """Row counts and full contents of every table, plus the head."""
    snap: dict[str, Any] = {}
    with ledger.db.read() as conn:
        for table in metadata.sorted_tables:
            rows = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                    for r in conn.execute(select(table))]
            snap[table.name] = (len(rows), sorted(rows, key=repr))
        snap["head"] = ledger.log.head(conn)
    return snap


def stored_entries(ledger: Ledger) -> list[tuple[int, bytes, bytes]]:
    with ledger.db.read() as conn:
        return [(int(r.idx), bytes(r.leaf_hash), bytes(r.entry)) for r in conn.execute(
            select(log_entries.c.idx, log_entries.c.leaf_hash, log_entries.c.entry).order_by(log_entries.c.idx))]


#: Batch sizes after the registry.established entry and the 3 one-statement party
#: registrations (sizes 1, 2, 3, 4): sizes 10, 27, 59, 109, 209, 255, 256 (a full tile exactly),
#: 257 (one past it), 287 and 300.
BATCHES = [6, 17, 32, 50, 100, 46, 1, 1, 30, 13]
#: Checkpoint sizes whose every index (inclusion) or old size (consistency) goes through DatabaseLog;
#: the other checkpoint sizes get a sample (every pair is covered from the stored tiles anyway).
EXHAUSTIVE_SIZES = {255, 256, 257, 300}


def _indices(size: int) -> list[int]:
    if size in EXHAUSTIVE_SIZES:
        return list(range(size))
    return sorted({0, size // 3, size // 2, size - 2, size - 1} - {-1})


def build_log(home: Home, ledger: Ledger, batches: list[int] = BATCHES) -> tuple[list[Party], list[int], list[bytes]]:
    """Register 3 parties, then submit ``batches`` of work registrations by rotating owners.

    Returns (parties, sizes after each batch, every entry in log order). The first size is the
    registry.established entry's batch, logged when the ledger was opened (sizes 1, 2, 3, 4
    before the first of ``batches``).
    """
    with ledger.db.read() as conn:
        sizes = [ledger.log.head(conn)[0]]
    assert sizes == [1], "a new log holds its registry.established entry alone"
    parties = []
    for kind, name in [("studio", "North"), ("studio", "South"), ("writer", "Pen")]:
        parties.append(Party(home, ledger, kind, name))
        sizes.append(parties[-1].index + 1)
    assert sizes == [1, 2, 3, 4]
    for batch in batches:
        owner = parties[(len(sizes) - 1) % 3]
        entries = [owner.work()[1] for _ in range(batch)]
        receipts = ledger.submit(entries)
        assert [r.index for r in receipts] == list(range(sizes[-1], sizes[-1] + batch))
        # Each leaf wraps the signed statement with the batch's log time (one per batch).
        assert {r.log_time for r in receipts} == {receipts[0].log_time} != {None}
        assert [r.leaf_hash for r in receipts] == [
            leaf_hash(make_leaf(e, receipts[0].log_time)).hex() for e in entries]
        sizes.append(sizes[-1] + batch)
    return parties, sizes, [e for _, _, e in stored_entries(ledger)]


# --------------------------------------------------------------------------------------------
# Proofs from the database
# --------------------------------------------------------------------------------------------


def test_inclusion_proofs_every_index_every_checkpoint(home: Home, ledger: Ledger) -> None:
    _, sizes, entries = build_log(home, ledger)
    n = sizes[-1]
    assert n == 300 and 256 in sizes and 257 in sizes
    tree = MemoryTree.from_entries(entries)
    verifier = NoteVerifier(vkey_of(home))
    checked = 0
    with ledger.db.read() as conn:
        for size in sizes:
            cp = open_checkpoint(ledger.log.checkpoint(conn, size), verifier, origin=home.origin)
            assert (cp.size, cp.root) == (size, tree.root(size))
            indices = _indices(size)
            for index in indices:
                # The head size is the default; older sizes go through --size.
                got = (ledger.log.inclusion(conn, index) if size == n
                       else ledger.log.inclusion(conn, index, size))
                proof = [bytes.fromhex(h) for h in got["proof"]]
                assert (got["index"], got["size"]) == (index, size)
                assert got["leaf_hash"] == leaf_hash(entries[index]).hex()
                assert proof == tree.inclusion_proof(index, size)
                verify_inclusion(leaf_hash(entries[index]), index, size, proof, cp.root)
                checked += 1
    assert checked == sum(len(_indices(s)) for s in sizes) > 1100


def test_inclusion_proof_fails_for_wrong_leaf_or_root(home: Home, ledger: Ledger) -> None:
    """The verification above can fail: a neighbour's leaf or another checkpoint's root is refused."""
    from reelrights.errors import ProofError

    _, sizes, entries = build_log(home, ledger, [40])
    with ledger.db.read() as conn:
        cp = open_checkpoint(ledger.log.checkpoint(conn), NoteVerifier(vkey_of(home)))
        old = open_checkpoint(ledger.log.checkpoint(conn, 3), NoteVerifier(vkey_of(home)))
        got = ledger.log.inclusion(conn, 17)
    proof = [bytes.fromhex(h) for h in got["proof"]]
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(entries[18]), 17, cp.size, proof, cp.root)
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(entries[17]), 17, cp.size, proof, old.root)


def test_consistency_proofs_every_pair(home: Home, ledger: Ledger) -> None:
    _, sizes, entries = build_log(home, ledger)
    n = sizes[-1]
    tree = MemoryTree.from_entries(entries)
    roots = [b""] + [tree.root(s) for s in range(1, n + 1)]
    verifier = NoteVerifier(vkey_of(home))
    with ledger.db.read() as conn:
        signed = {s: open_checkpoint(ledger.log.checkpoint(conn, s), verifier).root for s in sizes}
        assert signed == {s: roots[s] for s in sizes}
        # Every (old, new) pair, from the stored tiles (one tile reader per new size).
        pairs = 0
        for new in range(1, n + 1):
            reader = ledger.log.hash_reader(conn, new)
            for old in range(1, new + 1):
                proof = consistency_proof(old, new, reader)
                assert proof == tree.consistency_proof(old, new), (old, new)
                verify_consistency(old, new, proof, roots[old], roots[new])
                pairs += 1
        assert pairs == n * (n + 1) // 2
        # Through DatabaseLog.consistency: every old size up to each checkpointed new size, checked
        # against the signed roots wherever a checkpoint exists (both ends signed when old is too).
        for new in sizes:
            olds = (range(1, new + 1) if new in EXHAUSTIVE_SIZES
                    else sorted({s for s in sizes if s <= new} | {1, new // 2 or 1, new - 1 or 1}))
            for old in olds:
                got = (ledger.log.consistency(conn, old) if new == n
                       else ledger.log.consistency(conn, old, new))
                assert (got["old"], got["new"]) == (old, new)
                proof = [bytes.fromhex(h) for h in got["proof"]]
                assert proof == tree.consistency_proof(old, new)
                verify_consistency(old, new, proof, signed.get(old, roots[old]), signed[new])
        # A proof between two signed checkpoints does not verify against swapped roots.
        from reelrights.errors import ProofError

        got = ledger.log.consistency(conn, 59, 287)
        with pytest.raises(ProofError):
            verify_consistency(59, 287, [bytes.fromhex(h) for h in got["proof"]], signed[109], signed[287])


def test_proof_sizes_out_of_range(home: Home, ledger: Ledger) -> None:
    build_log(home, ledger, [5])
    with ledger.db.read() as conn:
        with pytest.raises(BadInput, match="--size 10 is out of range"):
            ledger.log.inclusion(conn, 0, 10)
        with pytest.raises(NotFound, match="log index 9 is not in a tree of size 9"):
            ledger.log.inclusion(conn, 9)
        with pytest.raises(NotFound, match="not in a tree of size 4"):
            ledger.log.inclusion(conn, 5, 4)
        with pytest.raises(BadInput, match="old size 6 must be between 1 and the new size 5"):
            ledger.log.consistency(conn, 6, 5)
        with pytest.raises(NotFound, match="no checkpoint was issued at size 5"):
            ledger.log.checkpoint(conn, 5)  # batch sizes are 1, 1, 1, 1, 5: sizes 1, 2, 3, 4, 9


# --------------------------------------------------------------------------------------------
# Checkpoints: one per batch
# --------------------------------------------------------------------------------------------


def test_one_checkpoint_per_batch_and_contiguous_indices(home: Home, ledger: Ledger) -> None:
    _, sizes, entries = build_log(home, ledger)
    tree = MemoryTree.from_entries(entries)
    verifier = NoteVerifier(vkey_of(home))
    with ledger.db.read() as conn:
        assert ledger.log.checkpoint_sizes(conn) == sizes
        rows = conn.execute(select(log_checkpoints).order_by(log_checkpoints.c.size)).all()
        assert [int(r.size) for r in rows] == sizes
        for r in rows:
            cp = open_checkpoint(bytes(r.note), verifier, origin=home.origin)
            assert cp.size == r.size and cp.root == bytes(r.root) == tree.root(int(r.size))
            assert bytes(r.note) == ledger.log.checkpoint(conn, int(r.size))
        head = conn.execute(select(log_head)).all()
        assert len(head) == 1
        assert (int(head[0].size), bytes(head[0].root)) == (sizes[-1], bytes(rows[-1].root))
        assert ledger.log.checkpoint(conn) == bytes(rows[-1].note)  # the latest is the head's
        idx = [int(i) for i in conn.scalars(select(log_entries.c.idx).order_by(log_entries.c.idx))]
        assert idx == list(range(sizes[-1]))
        assert conn.scalar(select(func.count()).select_from(log_entries)) == sizes[-1]
    assert [leaf_hash(e) for e in entries] == [h for _, h, _ in stored_entries(ledger)]
    # The mirror's checkpoint is the latest one.
    assert (home.log_dir / "checkpoint").read_bytes() == bytes(rows[-1].note)


# --------------------------------------------------------------------------------------------
# Export and mirror
# --------------------------------------------------------------------------------------------


def _stale_partials(mirror: dict[str, bytes], export: dict[str, bytes]) -> dict[str, bytes]:
    """Mirror files the export lacks: partial tiles/bundles superseded by a wider one."""
    return {k: v for k, v in mirror.items() if k not in export}


def test_export_verifies_and_matches_mirror(home: Home, ledger: Ledger, tmp_path: Path) -> None:
    _, sizes, entries = build_log(home, ledger)
    vkey = vkey_of(home)
    out = tmp_path / "export"
    with ledger.db.read() as conn:
        assert export_log(out, ledger.log, conn) == sizes[-1]
        note = ledger.log.checkpoint(conn)
    report = verify_tiled_log(DirTileSource(out), note, vkey)
    assert (report.size, report.entries_checked, report.origin) == (300, 300, home.origin)
    assert (out / "checkpoint").read_bytes() == note
    # The entries in the export are byte for byte the submitted ones.
    seen: list[bytes] = []
    verify_tiled_log(DirTileSource(out), note, vkey, entry_check=lambda i, e: seen.append(e))
    assert seen == entries
    # The mirror verifies too, and every exported file is in it with the same bytes.
    verify_tiled_log(DirTileSource(home.log_dir), (home.log_dir / "checkpoint").read_bytes(), vkey)
    mirror, export = file_tree(home.log_dir), file_tree(out)
    for name, data in export.items():
        assert mirror.get(name) == data, name
    # Anything extra in the mirror is an older partial version of a current edge tile (allowed
    # by C2SP tlog-tiles): a prefix of the current tile or bundle.
    for name, data in _stale_partials(mirror, export).items():
        level, index, width = parse_tile_path(name)
        assert width < TILE_WIDTH, name
        current = [k for k in export if k.startswith(name.rsplit("/", 1)[0] + "/")
                   or k == name.split(".p/")[0]]
        assert len(current) == 1, name
        assert export[current[0]].startswith(data), name


def test_mirror_identical_to_export_at_tile_boundary(home: Home, ledger: Ledger, tmp_path: Path) -> None:
    """When the log ends on a full tile no partial is left behind: the trees are identical."""
    build_log(home, ledger, [100, 152])  # 4 + 252 = 256
    out = tmp_path / "export"
    with ledger.db.read() as conn:
        assert export_log(out, ledger.log, conn) == 256
    assert file_tree(home.log_dir) == file_tree(out)
    assert "tile/0/000" in file_tree(out) and "tile/entries/000" in file_tree(out)
    assert sorted(k for k in file_tree(out) if ".p/" in k) == ["tile/1/000.p/1"]


# --------------------------------------------------------------------------------------------
# Batch atomicity: the 3rd statement fails, nothing at all is written
# --------------------------------------------------------------------------------------------


def _bad_signature(p: Party, q: Party) -> list[bytes]:
    good = [p.work()[1] for _ in range(5)]
    m = re.search(rb'"title":"Work (\d{6})"', good[2])
    assert m is not None
    forged = good[2].replace(m.group(0), m.group(0)[:-2] + b'X"')  # same length, still canonical
    assert forged != good[2]
    return [good[0], good[1], forged, good[3], good[4]]


def _wrong_key(p: Party, q: Party) -> list[bytes]:
    """Statement 3 claims p as its actor but is signed with q's key."""
    wid = new_id("work")
    body = {"id": wid, "kind": "film", "title": "Borrowed", "owner": p.id,
            "assets": [{"sha256": hashlib.sha256(wid.encode()).hexdigest(), "size": 5,
                        "media_type": "video/mp4", "category": "video", "name": "b.mp4"}]}
    stolen = sign_statement(p.ledger.new_statement("work.registered", p.id, body), q.key)
    return [p.work()[1], p.work()[1], stolen, p.work()[1]]


def _unknown_actor(p: Party, q: Party) -> list[bytes]:
    stranger = new_id("party")
    key = PartyKey.generate()
    body = {"id": new_id("work"), "kind": "film", "title": "Nobody's", "owner": stranger,
            "assets": [{"sha256": "ab" * 32, "size": 5, "media_type": "video/mp4",
                        "category": "video", "name": "n.mp4"}]}
    return [p.work()[1], q.work()[1], sign_statement(p.ledger.new_statement("work.registered", stranger, body), key),
            p.work()[1], q.work()[1], p.work()[1]]


def _invalid_body(p: Party, q: Party) -> list[bytes]:
    return [p.work()[1], p.work()[1], p.work(kind="banana")[1], p.work()[1], p.work()[1]]


def _duplicate_work_id(p: Party, q: Party) -> list[bytes]:
    wid, first = p.work()
    return [first, q.work()[1], p.work(work_id=wid)[1], q.work()[1]]


def _asset_size_conflict(p: Party, q: Party) -> list[bytes]:
    sha = hashlib.sha256(b"shared bytes").hexdigest()
    return [p.work(sha=sha, size=4096)[1], q.work()[1], q.work(sha=sha, size=4097)[1], p.work()[1]]


def _credit_by_non_owner(p: Party, q: Party) -> list[bytes]:
    """Two runs: works (statements 1-2), then a credit (statement 3) that q may not make."""
    w1, e1 = p.work()
    return [e1, p.work()[1], q.credit(w1, q.id), p.credit(w1, q.id)]


def _credit_unregistered_party(p: Party, q: Party) -> list[bytes]:
    """Three runs (work, party, credits); statement 3 credits a party nobody registered."""
    w1, e1 = p.work()
    pid, _, reg = new_party_statement(p.ledger.registry)
    return [e1, reg, p.credit(w1, new_id("party"), "writer", "0.5"), p.credit(w1, pid, "writer", "0.5")]


def _over_share_later_in_run(p: Party, q: Party) -> list[bytes]:
    """The credit run starts at statement 2; its second member (statement 3) is refused."""
    w1, e1 = p.work()
    pid, _, reg = new_party_statement(p.ledger.registry)
    return [e1, p.credit(w1, q.id, "writer", "0.7"), p.credit(w1, p.id, "writer", "2/5"), reg]


def _party_duplicate_key(p: Party, q: Party) -> list[bytes]:
    """Statement 3 registers a new party id with a key already registered to another party."""
    a = new_party_statement(p.ledger.registry, "writer", "A")
    b = new_party_statement(p.ledger.registry, "writer", "B")
    pid = new_id("party")
    body = {"id": pid, "kind": "writer", "name": "Copycat",
            "public_key": base64.b64encode(a[1].public_key_bytes).decode("ascii")}
    copy = sign_statement(p.ledger.new_statement("party.registered", pid, body), a[1])
    return [a[2], b[2], copy, new_party_statement(p.ledger.registry)[2]]


def _large_batch_bad_signature(p: Party, q: Party) -> list[bytes]:
    """100 statements: signatures are checked in parallel; the first bad one is reported."""
    batch = [p.work()[1] for _ in range(100)]
    for pos in (2, 40, 99):
        m = re.search(rb'"title":"Work (\d{6})"', batch[pos])
        assert m is not None
        batch[pos] = batch[pos].replace(m.group(0), m.group(0)[:-2] + b'Z"')
    return batch


def _oversized_entry(p: Party, q: Party) -> list[bytes]:
    return [p.work()[1], q.work()[1], b"{" + b" " * 70_000 + b"}", p.work()[1]]


def _non_canonical(p: Party, q: Party) -> list[bytes]:
    """Statement 3 is a correctly signed entry re-serialised with whitespace (not RFC 8785)."""
    import json

    entry = p.work()[1]
    return [q.work()[1], p.work()[1], json.dumps(json.loads(entry), indent=1).encode(), q.work()[1]]


def _replayed_statement(p: Party, q: Party) -> list[bytes]:
    """Statement 3 is byte for byte an entry already in the log (a replay)."""
    return [p.work()[1], q.work()[1], p.replayable, q.work()[1]]


def _duplicate_in_batch(p: Party, q: Party) -> list[bytes]:
    _, e = p.work()
    return [e, q.work()[1], e]


CASES = {
    "oversized_entry": (_oversized_entry, InvalidStatement, "over the 65535-byte limit"),
    "non_canonical": (_non_canonical, InvalidStatement, "signed statement"),
    # A statement id is logged once: a replay is refused before any registry rule is consulted
    # (earlier[3] sits at index 6, after the establishment, P, Q and earlier[0..2]).
    "replayed_statement": (_replayed_statement, Conflict,
                           "is already in the log at index 6: a statement is logged once"),
    "duplicate_in_batch": (_duplicate_in_batch, Conflict,
                           "appears twice in the batch (also as statement 1)"),
    "bad_signature": (_bad_signature, SignatureError, "does not verify"),
    "wrong_key": (_wrong_key, SignatureError, "not that party's registered key"),
    "unknown_actor": (_unknown_actor, SignatureError, "is not a registered party"),
    "invalid_body": (_invalid_body, InvalidStatement, "/statement/body/kind"),
    "duplicate_work_id": (_duplicate_work_id, Conflict, "already registered"),
    "asset_size_conflict": (_asset_size_conflict, Conflict, "is registered with size 4096"),
    "credit_by_non_owner": (_credit_by_non_owner, PolicyDenied, "only the owner"),
    "credit_unregistered_party": (_credit_unregistered_party, NotFound, "is not registered"),
    "over_share_later_in_run": (_over_share_later_in_run, Conflict, "would total 1.1, over 1"),
    "party_duplicate_key": (_party_duplicate_key, Conflict, "already belongs to another party"),
    "large_batch_bad_signature": (_large_batch_bad_signature, SignatureError, "does not verify"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_batch_refused_atomically(home: Home, ledger: Ledger, case: str) -> None:
    make, error, fragment = CASES[case]
    p, q = Party(home, ledger, "studio", "P"), Party(home, ledger, "studio", "Q")
    earlier = [p.work()[1] for _ in range(7)]
    ledger.submit(earlier)  # a partial tile to keep intact
    p.replayable = earlier[3]
    before_db = db_snapshot(ledger)
    before_mirror = file_tree(home.log_dir)
    batch = make(p, q)
    with pytest.raises(ReelrightsError) as err:
        ledger.submit(batch)
    assert type(err.value) is error, f"{type(err.value).__name__}: {err.value}"
    message = str(err.value)
    assert message.startswith(f"statement 3 of {len(batch)}: "), message
    assert fragment in message, message
    assert err.value.args == (message,)
    assert db_snapshot(ledger) == before_db
    assert file_tree(home.log_dir) == before_mirror
    # Nothing is poisoned: the batch without its bad statement goes through, and the log, its
    # tiles and the mirror verify.
    size = before_db["head"][0]
    receipts = ledger.submit([p.work()[1], q.work()[1]])
    assert [r.index for r in receipts] == [size, size + 1]
    with ledger.db.read() as conn:
        report = verify_log(conn, ledger.log, vkey_of(home), check_body=check_body)
        assert report.size == size + 2
        assert ledger.log.checkpoint_sizes(conn)[-2:] == [size, size + 2]
    verify_tiled_log(DirTileSource(home.log_dir), (home.log_dir / "checkpoint").read_bytes(), vkey_of(home))


def test_refused_batch_keeps_tiles_across_boundary(home: Home, ledger: Ledger) -> None:
    """A batch that would complete the first full tile is refused: no tile row changes, and the
    next accepted batch (from another Ledger, so the tile edge is reloaded) is correct."""
    p = Party(home, ledger)
    ledger.submit([p.work()[1] for _ in range(249)])  # size 251: establishment, p and 249 works
    before = db_snapshot(ledger)
    before_mirror = file_tree(home.log_dir)
    batch = [p.work()[1] for _ in range(20)]
    batch[2] = p.work(kind="banana")[1]
    with pytest.raises(InvalidStatement, match="^statement 3 of 20: "):
        ledger.submit(batch)
    batch = [p.work()[1] for _ in range(20)]
    batch[2] = p.work(work_id=list_works(ledger.db)[0].id)[1]
    with pytest.raises(Conflict, match="^statement 3 of 20: "):
        ledger.submit(batch)
    assert db_snapshot(ledger) == before
    assert file_tree(home.log_dir) == before_mirror
    with ledger.db.read() as conn:
        assert [(r.level, r.idx, r.width) for r in conn.execute(
            select(log_tiles.c.level, log_tiles.c.idx, log_tiles.c.width))] == [(0, 0, 251)]
    other = Ledger.open(home)
    try:
        other.submit([p.work()[1] for _ in range(20)])
    finally:
        other.db.dispose()
    ledger.submit([p.work()[1]])  # this ledger's cached edge is stale now: it must reload
    with ledger.db.read() as conn:
        assert verify_log(conn, ledger.log, vkey_of(home), check_body=check_body).size == 272
        assert sorted((r.level, r.idx, r.width) for r in conn.execute(
            select(log_tiles.c.level, log_tiles.c.idx, log_tiles.c.width))) == [(0, 0, 256), (0, 1, 16), (1, 0, 1)]
    verify_tiled_log(DirTileSource(home.log_dir), (home.log_dir / "checkpoint").read_bytes(), vkey_of(home))


def test_empty_batch_refused(home: Home) -> None:
    """An empty batch is refused and logs nothing: not on a log that has no entry yet (opened
    without establishing it), not on an established one (its registry.established entry only)."""
    bare = Ledger.open(home, establish=False)
    try:
        with pytest.raises(BadInput, match="nothing to submit"):
            bare.submit([])
        with bare.db.read() as conn:
            assert bare.log.head(conn)[0] == 0
            with pytest.raises(NotFound, match="no checkpoint yet"):
                bare.log.checkpoint(conn)
    finally:
        bare.db.dispose()
    ledger = Ledger.open(home)
    try:
        with pytest.raises(BadInput, match="nothing to submit"):
            ledger.submit([])
        with ledger.db.read() as conn:
            assert ledger.log.head_state(conn).size == ledger.log.head_state(conn).checkpoints == 1
            assert ledger.log.checkpoint_sizes(conn) == [1]
    finally:
        ledger.db.dispose()


def test_one_batch_across_several_tiles(home: Home, ledger: Ledger, tmp_path: Path) -> None:
    """A single batch that completes tile 0 and fills tiles 1 and 2 on its way (size 153 -> 903)."""
    _, sizes, entries = build_log(home, ledger, [149, 750])
    assert sizes[-2:] == [153, 903]
    vkey = vkey_of(home)
    tree = MemoryTree.from_entries(entries)
    with ledger.db.read() as conn:
        assert verify_log(conn, ledger.log, vkey, check_body=check_body).size == 903
        tiles = {(int(r.level), int(r.idx)): int(r.width) for r in conn.execute(
            select(log_tiles.c.level, log_tiles.c.idx, log_tiles.c.width))}
        assert tiles == {(0, 0): 256, (0, 1): 256, (0, 2): 256, (0, 3): 135, (1, 0): 3}
        for index in (0, 152, 153, 255, 256, 511, 512, 767, 768, 902):
            for size in (153, 903):
                if index < size:
                    got = ledger.log.inclusion(conn, index, size)
                    assert [bytes.fromhex(h) for h in got["proof"]] == tree.inclusion_proof(index, size)
        got = ledger.log.consistency(conn, 153)
        verify_consistency(153, 903, [bytes.fromhex(h) for h in got["proof"]], tree.root(153), tree.root())
        out = tmp_path / "export"
        export_log(out, ledger.log, conn)
    note = (home.log_dir / "checkpoint").read_bytes()
    assert open_checkpoint(note, NoteVerifier(vkey)).size == 903
    assert verify_tiled_log(DirTileSource(home.log_dir), note, vkey).entries_checked == 903
    mirror, export = file_tree(home.log_dir), file_tree(out)
    assert {k: v for k, v in mirror.items() if k in export} == export
    assert "tile/0/000.p/153" not in mirror  # superseded by the full tile 000


def test_cli_proofs_at_older_sizes(home: Home, ledger: Ledger) -> None:
    """`reelrights log inclusion INDEX --size S`, `log consistency OLD NEW` and `log checkpoint
    --size S` serve what DatabaseLog serves, and the proofs verify against the printed checkpoints."""
    import json

    from click.testing import CliRunner

    from reelrights.cli import cli

    _, sizes, entries = build_log(home, ledger, [6, 17, 32, 50, 100, 46, 1, 1, 30])
    tree = MemoryTree.from_entries(entries)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["--home", str(home.path), "log", *args])
        assert result.exit_code == 0, (result.output, result.exception)
        return result.stdout

    verifier = NoteVerifier(run("key").strip())
    for size in (10, 255, 256, 257, 287):
        cp = open_checkpoint(run("checkpoint", "--size", str(size)).encode(), verifier)
        assert (cp.size, cp.root) == (size, tree.root(size))
        for index in (0, size // 2, size - 1):
            got = json.loads(run("inclusion", str(index), "--size", str(size)))
            assert (got["index"], got["size"]) == (index, size)
            verify_inclusion(leaf_hash(entries[index]), index, size,
                             [bytes.fromhex(h) for h in got["proof"]], cp.root)
        latest = open_checkpoint(run("checkpoint").encode(), verifier)
        got = json.loads(run("consistency", str(size)))
        assert (got["old"], got["new"]) == (size, latest.size) == (size, 287)
        verify_consistency(size, 287, [bytes.fromhex(h) for h in got["proof"]], cp.root, latest.root)
    got = json.loads(run("consistency", "10", "256"))
    verify_consistency(10, 256, [bytes.fromhex(h) for h in got["proof"]], tree.root(10), tree.root(256))
    result = runner.invoke(cli, ["--home", str(home.path), "log", "inclusion", "3", "--size", "288"])
    assert result.exit_code == 2 and "--size 288 is out of range" in result.stderr


@pytest.mark.parametrize("case", ["bad_signature", "wrong_key", "unknown_actor", "large_batch_bad_signature",
                                  "credit_by_non_owner"])
def test_batch_refused_by_another_ledger(home: Home, ledger: Ledger, case: str) -> None:
    """The same refusals from a Ledger that has never seen p's and q's keys (another process):
    their keys are resolved from the registry under the lock instead of from its cache."""
    make, error, fragment = CASES[case]
    p, q = Party(home, ledger, "studio", "P"), Party(home, ledger, "studio", "Q")
    ledger.submit([p.work()[1] for _ in range(3)])
    before_db, before_mirror = db_snapshot(ledger), file_tree(home.log_dir)
    other = Ledger.open(home)
    try:
        batch = make(p, q)
        with pytest.raises(error) as err:
            other.submit(batch)
        assert str(err.value).startswith(f"statement 3 of {len(batch)}: ") and fragment in str(err.value)
        assert db_snapshot(ledger) == before_db
        assert file_tree(home.log_dir) == before_mirror
        other.submit([p.work()[1]])
    finally:
        other.db.dispose()
    with ledger.db.read() as conn:
        assert verify_log(conn, ledger.log, vkey_of(home), check_body=check_body).size == before_db["head"][0] + 1


def _forge(entry: bytes) -> bytes:
    m = re.search(rb'"title":"Work (\d{6})"', entry)
    assert m is not None
    return entry.replace(m.group(0), m.group(0)[:-2] + b'Q"')


@pytest.mark.parametrize("size", [5, 80])  # below and above the parallel threshold
@pytest.mark.parametrize("first", ["cached_key", "registry_key"])
def test_first_bad_signature_wins_whoever_knows_the_key(home: Home, ledger: Ledger, size: int, first: str) -> None:
    """p's key is cached by this ledger (checked before the lock); r's key only in the registry
    (r registered through another ledger: checked under the lock). Whichever bad signature comes
    first in the batch is the one reported."""
    p = Party(home, ledger, "studio", "P")
    other = Ledger.open(home)
    try:
        r = Party(home, other, "studio", "R")
    finally:
        other.db.dispose()
    assert r.id not in ledger.keys.registered and p.id in ledger.keys.registered  # the premise of the test
    batch = [(p if i % 2 else r).work()[1] for i in range(size)]
    early, late = (2, 4) if first == "cached_key" else (4, 2)
    # position 2 gets one party's statement, position 4 the other's (both forged)
    batch[early] = _forge(p.work()[1])
    batch[late] = _forge(r.work()[1])
    before = db_snapshot(ledger)
    with pytest.raises(SignatureError) as err:
        ledger.submit(batch)
    want = p.id if first == "cached_key" else r.id
    assert str(err.value).startswith(f"statement 3 of {size}: "), str(err.value)
    assert want in str(err.value)
    assert db_snapshot(ledger) == before


def test_refusals_are_reported_in_step_order(home: Home, ledger: Ledger) -> None:
    """A batch with several faults names the first fault of the earliest step (decoding, then
    unknown actors, then signatures, then registry rules), as ledger.py documents."""
    p = Party(home, ledger, "studio", "P")
    wid, first = p.work()
    _, stranger_key, _ = new_party_statement(p.ledger.registry)
    stranger = new_id("party")
    body = {"id": new_id("work"), "kind": "film", "title": "Nobody's", "owner": stranger,
            "assets": [{"sha256": "cd" * 32, "size": 5, "media_type": "video/mp4",
                        "category": "video", "name": "n.mp4"}]}
    unknown = sign_statement(ledger.new_statement("work.registered", stranger, body), stranger_key)
    duplicate = p.work(work_id=wid)[1]
    forged = _forge(p.work()[1])
    invalid = p.work(kind="banana")[1]
    ledger.submit([first])
    cases = [
        ([duplicate, forged, unknown, invalid], InvalidStatement, 4),
        ([duplicate, forged, unknown, p.work()[1]], SignatureError, 3),  # unknown actor
        ([duplicate, forged, p.work()[1]], SignatureError, 2),           # bad signature
        ([p.work()[1], duplicate, p.work()[1]], Conflict, 2),
    ]
    for batch, error, position in cases:
        with pytest.raises(error) as err:
            ledger.submit(batch)
        assert str(err.value).startswith(f"statement {position} of {len(batch)}: "), str(err.value)
