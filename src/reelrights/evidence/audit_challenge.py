"""Audit challenges (the auditor) and responses (the developer, on its own machine).

A challenge picks which committed manifest items the developer must open. It names no
checkpoint: its seed is SHA-256 over its own leaf hash and the log's signature on the first
checkpoint after it (:mod:`reelrights.core.audit_seed`), fixed by the log once the challenge is
logged, so neither the auditor nor the developer can wait for a convenient sample, and appends
by others cannot change it. Challenges logged before that rule (v1) named the latest checkpoint
and keep their rule (:func:`reelrights.core.sampling.challenge_indices`). An auditor has at
most one open challenge per run: a certificate or a withdrawal (``audit.withdrawn``, a failed
audit, :mod:`.audit_status`) closes it. Anyone can re-derive the indices from the log.

The response holds, for each sampled index, the item, its salt and its RFC 9162 inclusion proof
under the committed root, and optionally the item's media file, named relative to the
response's media folder. It goes to the auditor only: nothing about it is logged, and unsampled
items stay undisclosed (their salts too). A full audit (``samples >= count``) hands over every
item and salt instead of proofs.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from ..core.audit_seed import (
    WITNESS_WINDOW_S,
    challenge_seed,
    log_signature,
    seed_cosignatures,
    seeded_indices,
)
from ..core.checkpoint import Checkpoint
from ..core.commitment import (
    OPENING_HEADER_SIZE,
    SALT_SIZE,
    leaf_hashes,
    parse_opening_header,
    prove_many,
)
from ..core.cosignature import Cosignature, CosignedCheckpoint
from ..core.ids import new_id
from ..core.merkle import root_of
from ..core.note import NoteVerifier
from ..core.sampling import challenge_indices
from ..core.statements import open_leaf, parse_time
from ..errors import BadInput, Conflict, LogIntegrityError, NotFound, PolicyDenied
from ..home import Home
from ..ledger import Accepted, Ledger, applier, each_statement
from ..log.database_log import DatabaseLog
from ..registry.resolve import resolve_party
from ..registry.submit import submit_as
from ..store.evidence_tables import (
    audit_certificates,
    audit_challenges,
    audit_withdrawals,
    training_runs,
)
from ..store.tables import log_checkpoints, log_head, parties
from .audit_media import media_by_hash
from .manifest_scan import read_items
from .records import Run
from .runs import default_opening, resolve_run

__all__ = ["RESPONSE_FORMAT", "Challenge", "challenge_run", "load_challenge", "load_manifest",
           "open_challenge", "respond", "witnessed_history", "write_private"]

RESPONSE_FORMAT = "reelrights/audit-response/v2"


@dataclass(frozen=True)
class Challenge:
    """A logged challenge and the run it is about, with the seed anyone can re-derive."""

    id: str
    log_index: int
    auditor: str
    samples: int
    #: "v2": seed from the challenge's leaf and the next checkpoint's log signature;
    #: "v1": seed from the checkpoint the challenge named (logs from before that rule).
    rule: str
    #: The checkpoint the seed comes from: (origin, size, root hex).
    checkpoint: tuple[str, int, str]
    seed: bytes
    run: Run
    #: "v3": the witnesses' cosignatures that joined the seed (core.audit_seed).
    cosignatures: tuple[Cosignature, ...] = ()
    #: The public material the seed is re-derived from (v2, v3): the log's signed note of the
    #: first checkpoint after the challenge, then for each checkpoint a joined cosignature is
    #: on, the log's note of it with those cosignature lines (docs/audits.md).
    seed_notes: tuple[bytes, ...] = ()

    @property
    def full(self) -> bool:
        return self.samples >= self.run.count

    @property
    def method(self) -> str:
        return "full" if self.full else "sampled"

    def indices(self) -> list[int]:
        if self.rule == "v1":
            origin, size, root = self.checkpoint
            return challenge_indices(self.run.id, bytes.fromhex(self.run.root), self.run.count,
                                     origin, size, bytes.fromhex(root), self.samples)
        return seeded_indices(self.seed, self.run.count, self.samples)

    def checkpoint_json(self) -> dict[str, Any]:
        origin, size, root = self.checkpoint
        return {"origin": origin, "size": size, "root": root}

    def seed_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "seed": self.seed.hex(),
                               "checkpoint": self.checkpoint_json()}
        if self.cosignatures:
            out["cosignatures"] = [{"witness": c.witness, "timestamp": c.timestamp,
                                    "line": c.line} for c in self.cosignatures]
        return out

    def seed_record(self) -> dict[str, Any]:
        """What a certificate records of the seed, for anyone to re-derive it (v2, v3)."""
        return {"seed": self.seed.hex(),
                "notes": [n.decode("utf-8") for n in self.seed_notes]}


def log_verifier(log: DatabaseLog) -> NoteVerifier:
    vkey = log.verifier_key
    if vkey is None:
        raise BadInput("this log was opened without its key; open it from its home")
    return NoteVerifier(vkey)


def load_challenge(conn: Connection, log: DatabaseLog, ref: str,
                   witnessed: Sequence[CosignedCheckpoint] | None = None,
                   now: float | None = None) -> Challenge:
    """The logged challenge ``ref`` with its seed (see the module doc). With ``witnessed`` (the
    log's cosigned checkpoints, verified under the trusted witnesses' keys), the seed takes
    their cosignatures (rule v3, :mod:`reelrights.core.audit_seed`); BadInput while the
    challenge's witness window is still open."""
    row = conn.execute(select(audit_challenges).where(audit_challenges.c.id == ref)).first()
    if row is None:
        raise NotFound(f"no audit challenge {ref!r}; `reelrights audit challenge` logs one and "
                       "prints its id")
    run = resolve_run(conn, row.run_id)
    if row.checkpoint_size is not None:  # v1: the checkpoint it named
        named = (row.checkpoint_origin, int(row.checkpoint_size), row.checkpoint_root)
        return Challenge(row.id, row.log_index, row.auditor_id, row.samples, "v1", named, b"",
                         run)
    size = conn.scalar(select(func.min(log_checkpoints.c.size))
                       .where(log_checkpoints.c.size > row.log_index))
    if size is None:
        raise LogIntegrityError(f"the log holds no checkpoint after challenge {row.id} (log "
                                f"index {row.log_index}), but every batch ends in one; run "
                                "`reelrights log verify`")
    note = log.checkpoint(conn, int(size))
    signature = log_signature(note, log_verifier(log), int(size))
    cosigs = _seed_cosignatures(conn, log, row.log_index, witnessed, now)
    seed = challenge_seed(log.leaf_hash(conn, row.log_index), signature, cosigs)
    cp = Checkpoint.parse(note.split(b"\n\n", 1)[0] + b"\n")
    return Challenge(row.id, row.log_index, row.auditor_id, row.samples,
                     "v3" if cosigs else "v2", (cp.origin, cp.size, cp.root.hex()), seed, run,
                     tuple(cosigs), (note, *_cosigned_notes(conn, log, cosigs, witnessed or ())))


def _cosigned_notes(conn: Connection, log: DatabaseLog, cosigs: Sequence[Cosignature],
                    witnessed: Sequence[CosignedCheckpoint]) -> list[bytes]:
    """For each checkpoint size a joined cosignature is on: the log's note with those lines."""
    by_size: dict[int, list[str]] = {}
    for c in cosigs:
        size = next(cp.checkpoint.size for cp in witnessed if c in cp.cosignatures)
        by_size.setdefault(size, []).append(c.line)
    return [log.checkpoint(conn, size) + "".join(sorted(lines)).encode("utf-8")
            for size, lines in sorted(by_size.items())]


def witnessed_history(home_path: Path, log_vkey: str) -> list[CosignedCheckpoint]:
    """The log's cosigned checkpoints its witnessing collected (``<home>/cosigned.sqlite``,
    each line verified under its witness's key when stored, and again here): the ``witnessed``
    of :func:`load_challenge`. Empty when the log has no witnesses: the seed is then the
    log-only v2 seed."""
    from ..core.cosignature import open_cosigned
    from ..log.cosigned import COSIGNED_FILE, CosignedStore

    path = Path(home_path) / COSIGNED_FILE
    if not path.exists():
        return []
    store = CosignedStore(path)
    keys = store.witness_keys()
    return [open_cosigned(note, log_vkey, keys) for note, _ in store.history()] if keys else []


def _seed_cosignatures(conn: Connection, log: DatabaseLog, index: int,
                       witnessed: Sequence[CosignedCheckpoint] | None,
                       now: float | None) -> list[Cosignature]:
    if not witnessed:
        return []
    entry = next(iter(log.entries_between(conn, index, index + 1)))[2]
    _, log_time = open_leaf(entry)
    if log_time is None:  # a v1 entry: logged before log times, and before witnesses
        return []
    t = parse_time(log_time, f"log index {index} /log/time").timestamp()
    left = t + WITNESS_WINDOW_S - (time.time() if now is None else now)
    if left > 0:
        raise BadInput(f"the challenge's seed takes the witnesses' cosignatures made within "
                       f"{WITNESS_WINDOW_S} s of it; try again in {left:.0f} s")
    return seed_cosignatures(witnessed, index, t, WITNESS_WINDOW_S)


def open_challenge(conn: Connection, run_id: str, auditor_id: str) -> Any:
    """The auditor's open challenge of the run (no certificate, not withdrawn), or None."""
    closed = select(audit_certificates.c.challenge_id).union(
        select(audit_withdrawals.c.challenge_id))
    return conn.execute(select(audit_challenges.c.id, audit_challenges.c.log_index).where(
        audit_challenges.c.run_id == run_id, audit_challenges.c.auditor_id == auditor_id,
        audit_challenges.c.id.not_in(closed)).order_by(audit_challenges.c.log_index)).first()


# ---------------------------------------------------------------------------------------------
# The applier
# ---------------------------------------------------------------------------------------------

def _checkpoint_origin(note: bytes) -> str:
    return Checkpoint.parse(note.split(b"\n\n", 1)[0] + b"\n").origin


def _check_v1_checkpoint(conn: Connection, a: Accepted, training: Any) -> None:
    """The v1 rule: the named checkpoint covers the commitment and is the latest. Only logs
    that have not switched to v2 statements may still carry such a challenge."""
    cp = a.statement.body["checkpoint"]
    head = conn.execute(select(log_head.c.size, log_head.c.v2_from)
                        .where(log_head.c.id == 1)).one()
    if head.v2_from is not None and a.index >= head.v2_from:
        raise BadInput("a challenge names no checkpoint since the log runs v2 statements: drop "
                       "body.checkpoint (the log fixes the seed)")
    if cp["size"] <= training.log_index:
        raise Conflict(
            f"checkpoint size {cp['size']} was issued before the run's commitment (log index "
            f"{training.log_index}); the developer could have known it, so name a checkpoint "
            f"of size {training.log_index + 1} or more (the latest)")
    note = conn.execute(select(log_checkpoints.c.note, log_checkpoints.c.root)
                        .where(log_checkpoints.c.size == cp["size"])).first()
    if note is None or bytes(note.root).hex() != cp["root"] or \
            _checkpoint_origin(bytes(note.note)) != cp["origin"]:
        raise Conflict(f"the log issued no checkpoint {cp['origin']} size {cp['size']} with "
                       f"root {cp['root'][:16]}…; copy it from `reelrights log checkpoint`")
    if cp["size"] != head.size:
        raise Conflict(
            f"checkpoint size {cp['size']} is not the latest (the log is at {head.size}); a "
            "challenge must name the latest checkpoint, so re-run `audit challenge`")


@applier("audit.challenged")
@each_statement
def _apply_challenge(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    training = conn.execute(select(training_runs).where(training_runs.c.id == b["run"])).first()
    if training is None:
        raise NotFound(f"training run {b['run']} is not registered")
    auditor = conn.execute(select(parties.c.kind).where(parties.c.id == b["auditor"])).first()
    if auditor is None or auditor.kind != "auditor":
        raise PolicyDenied(f"{b['auditor']} is not a registered auditor; only a party of kind "
                           "auditor may challenge a run")
    if b["auditor"] == training.developer_id:
        raise PolicyDenied("a developer may not audit its own run; ask an independent auditor")
    if conn.execute(select(audit_challenges.c.id)
                    .where(audit_challenges.c.id == b["id"])).first() is not None:
        raise Conflict(f"challenge {b['id']} already exists")
    cp = b.get("checkpoint")
    if cp is not None:
        _check_v1_checkpoint(conn, a, training)
    else:
        pending = open_challenge(conn, b["run"], b["auditor"])
        if pending is not None:
            raise Conflict(
                f"auditor {b['auditor']} already has challenge {pending.id} (log "
                f"{pending.log_index}) open on run {b['run']}; certify it (`audit verify`) "
                f"or withdraw it (`audit withdraw {pending.id} --reason ...`) first")
    conn.execute(audit_challenges.insert().values(
        id=b["id"], run_id=b["run"], auditor_id=b["auditor"], samples=b["samples"],
        checkpoint_origin=cp and cp["origin"], checkpoint_size=cp and cp["size"],
        checkpoint_root=cp and cp["root"], log_index=a.index, challenged_at=a.time))
    return {"id": b["id"], "run": b["run"]}


# ---------------------------------------------------------------------------------------------
# The auditor's command
# ---------------------------------------------------------------------------------------------

def challenge_run(home: Home, ledger: Ledger, run: str, samples: int,
                  auditor: str) -> dict[str, Any]:
    """Log a challenge of ``samples`` items; its indices follow from the log once it is in."""
    if samples < 1:
        raise BadInput(f"--samples {samples} must be at least 1")
    with ledger.db.read() as conn:
        training = resolve_run(conn, run)
        auditor_id = resolve_party(conn, auditor).id
    body: dict[str, Any] = {"id": new_id("challenge"), "run": training.id,
                            "auditor": auditor_id, "samples": samples}
    receipt = submit_as(home, ledger, "audit.challenged", auditor_id, body)
    witnessed = witnessed_history(home.path, home.log_vkey())
    with ledger.db.read() as conn:
        try:
            ch = load_challenge(conn, ledger.log, body["id"], witnessed)
        except BadInput as exc:  # the witnesses' window is open: the seed is not fixed yet
            if not witnessed:
                raise
            return {"challenge": body["id"], "log_index": receipt.index, "run": training.id,
                    "auditor": auditor_id, "samples": samples, "method": "pending",
                    "checkpoint": None, "seed": None, "indices": [], "pending": exc.message}
    return {"challenge": ch.id, "log_index": receipt.index, "run": training.id,
            "auditor": auditor_id, "samples": samples, "method": ch.method,
            "checkpoint": ch.checkpoint_json(), "seed": ch.seed.hex(),
            "indices": ch.indices()}


# ---------------------------------------------------------------------------------------------
# The developer's response
# ---------------------------------------------------------------------------------------------

def load_manifest(manifest: Path, opening: Path | None = None) -> tuple[list[dict], bytes]:
    """The items (JSONL or Parquet) and the salts (16 bytes each) from the opening file."""
    opening = opening or default_opening(manifest)
    try:
        digest_now = _sha256_file(manifest)
        salts = opening.read_bytes()
    except FileNotFoundError as exc:
        raise NotFound(f"{exc.filename} does not exist; pass the manifest and the opening file "
                       "that `run commit` wrote (--opening FILE)") from None
    digest, count = parse_opening_header(salts, str(opening))
    if digest_now != digest:
        raise BadInput(f"{opening} belongs to another manifest than {manifest}; pass the pair "
                       "that `run commit` used")
    salts = salts[OPENING_HEADER_SIZE:]
    if len(salts) != count * SALT_SIZE:
        raise BadInput(f"{opening} is truncated: {len(salts) // SALT_SIZE} salts for {count} "
                       "items; restore it from your backup")
    items = read_items(manifest)
    if len(items) != count:
        raise BadInput(f"{manifest} has {len(items)} items but {opening} has {count} salts")
    return items, salts


def _sha256_file(path: Path) -> bytes:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.digest()


def respond(ledger: Ledger, challenge: str, manifest: Path, opening: Path | None = None,
            media_dir: Path | None = None, full: bool = False, *,
            witnessed: Sequence[CosignedCheckpoint] | None = None) -> dict[str, Any]:
    """Open the challenged items: item, salt and inclusion proof each (all items when full).
    ``witnessed``: the log's cosigned checkpoints (:func:`witnessed_history`), when it has
    witnesses."""
    with ledger.db.read() as conn:
        ch = load_challenge(conn, ledger.log, challenge, witnessed)
    if full and not ch.full:
        raise BadInput(f"challenge {ch.id} samples {ch.samples} of {ch.run.count} items; "
                       "--full answers only a full audit (challenge with --samples >= count)")
    items, salts = load_manifest(manifest, opening)
    if len(items) != ch.run.count:
        raise BadInput(f"{manifest} has {len(items)} items but run {ch.run.id} committed to "
                       f"{ch.run.count}; pass the manifest of that run")
    hashes = leaf_hashes(items, salts)
    if root_of(hashes).hex() != ch.run.root:
        raise BadInput(f"{manifest} with its opening file does not give run {ch.run.id}'s "
                       "committed root; pass the exact manifest and opening of that run")
    indices = ch.indices()
    proofs = [[] for _ in indices] if ch.full else prove_many(hashes, indices)
    media = media_by_hash(media_dir, {items[i]["sha256"] for i in indices}) if media_dir else {}
    opened = []
    for i, proof in zip(indices, proofs, strict=True):
        entry: dict[str, Any] = {"index": i, "salt": salts[i * SALT_SIZE:(i + 1) * SALT_SIZE].hex(),
                                 "item": items[i], "proof": [h.hex() for h in proof]}
        if items[i]["sha256"] in media:
            entry["media"] = media[items[i]["sha256"]]
        opened.append(entry)
    doc = {"format": RESPONSE_FORMAT, "challenge": ch.id, "run": ch.run.id,
           "root": ch.run.root, "count": ch.run.count, "method": ch.method, "items": opened}
    if media_dir is not None:
        doc["media_root"] = str(Path(media_dir).resolve())
    return doc


def write_private(path: Path, document: dict[str, Any]) -> None:
    """Write a private document (a response: items and salts) 0600, atomically, never over
    an existing file."""
    if path.exists():
        raise BadInput(f"{path} already exists; choose another -o file or remove it")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(document, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
