"""Audit challenges (the auditor) and responses (the developer, on its own machine).

A challenge picks which committed manifest items the developer must open. Its indices come from
the log checkpoint the challenge names (:mod:`reelrights.core.sampling`), which must cover the
run's commitment (so the developer could not know it when it committed) and must be the latest
checkpoint when the challenge is logged (so the auditor cannot shop among old checkpoints for a
convenient sample). Anyone can re-derive the indices from the logged challenge.

The response holds, for each sampled index, the item, its salt and its RFC 9162 inclusion proof
under the committed root, and optionally the path of the item's media. It goes to the auditor
only: nothing about it is logged, and unsampled items stay undisclosed (their salts too). A full
audit (``samples >= count``) hands over every item and salt instead of proofs.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ..core import audit_types  # noqa: F401  (registers the audit statement types)
from ..core.checkpoint import Checkpoint
from ..core.commitment import (OPENING_HEADER_SIZE, SALT_SIZE, leaf_hashes,
                               parse_opening_header, prove_many)
from ..core.ids import new_id
from ..core.merkle import root_of
from ..core.sampling import challenge_indices
from ..errors import BadInput, Conflict, NotFound, PolicyDenied
from ..home import Home
from ..ledger import Accepted, Ledger, applier, at
from ..store.evidence_tables import audit_challenges, training_runs
from ..store.tables import log_checkpoints, log_head, parties
from .manifest_scan import read_items
from .registry import resolve_party, submit_as
from .runs import default_opening, resolve_run

__all__ = ["RESPONSE_FORMAT", "Challenge", "challenge_run", "load_challenge", "load_manifest",
           "respond", "write_private"]

RESPONSE_FORMAT = "reelrights/audit-response/v1"


@dataclass(frozen=True)
class Challenge:
    """A logged challenge and the run it is about, with the indices anyone can re-derive."""

    id: str
    log_index: int
    auditor: str
    samples: int
    origin: str
    size: int
    checkpoint_root: str
    run: Any  # the training_runs row

    @property
    def full(self) -> bool:
        return self.samples >= self.run.count

    @property
    def method(self) -> str:
        return "full" if self.full else "sampled"

    def indices(self) -> list[int]:
        return challenge_indices(self.run.id, bytes.fromhex(self.run.root), self.run.count,
                                 self.origin, self.size, bytes.fromhex(self.checkpoint_root),
                                 self.samples)

    def checkpoint_json(self) -> dict[str, Any]:
        return {"origin": self.origin, "size": self.size, "root": self.checkpoint_root}


def load_challenge(conn: Connection, ref: str) -> Challenge:
    row = conn.execute(select(audit_challenges).where(audit_challenges.c.id == ref)).first()
    if row is None:
        raise NotFound(f"no audit challenge {ref!r}; `reelrights audit challenge` logs one and "
                       "prints its id")
    return Challenge(row.id, row.log_index, row.auditor_id, row.samples, row.checkpoint_origin,
                     row.checkpoint_size, row.checkpoint_root, resolve_run(conn, row.run_id))


# ---------------------------------------------------------------------------------------------
# The applier
# ---------------------------------------------------------------------------------------------

def _checkpoint_origin(note: bytes) -> str:
    return Checkpoint.parse(note.split(b"\n\n", 1)[0] + b"\n").origin


@applier("audit.challenged")
def _apply_challenges(conn: Connection, run: list[Accepted]) -> list[dict[str, Any]]:
    out = []
    for pos, a in enumerate(run):
        b = a.statement.body
        cp = b["checkpoint"]
        training = conn.execute(select(training_runs).where(training_runs.c.id == b["run"])).first()
        if training is None:
            raise at(pos, NotFound(f"training run {b['run']} is not registered"))
        auditor = conn.execute(select(parties.c.kind).where(parties.c.id == b["auditor"])).first()
        if auditor is None or auditor.kind != "auditor":
            raise at(pos, PolicyDenied(f"{b['auditor']} is not a registered auditor; only a "
                                       "party of kind auditor may challenge a run"))
        if b["auditor"] == training.developer_id:
            raise at(pos, PolicyDenied("a developer may not audit its own run; ask an "
                                       "independent auditor"))
        if conn.execute(select(audit_challenges.c.id)
                        .where(audit_challenges.c.id == b["id"])).first() is not None:
            raise at(pos, Conflict(f"challenge {b['id']} already exists"))
        if cp["size"] <= training.log_index:
            raise at(pos, Conflict(
                f"checkpoint size {cp['size']} was issued before the run's commitment (log index "
                f"{training.log_index}); the developer could have known it, so name a checkpoint "
                f"of size {training.log_index + 1} or more (the latest)"))
        note = conn.execute(select(log_checkpoints.c.note, log_checkpoints.c.root)
                            .where(log_checkpoints.c.size == cp["size"])).first()
        if note is None or bytes(note.root).hex() != cp["root"] or \
                _checkpoint_origin(bytes(note.note)) != cp["origin"]:
            raise at(pos, Conflict(f"the log issued no checkpoint {cp['origin']} size "
                                   f"{cp['size']} with root {cp['root'][:16]}…; copy it from "
                                   "`reelrights log checkpoint`"))
        head = conn.execute(select(log_head.c.size).where(log_head.c.id == 1)).scalar_one()
        if cp["size"] != head:
            raise at(pos, Conflict(
                f"checkpoint size {cp['size']} is not the latest (the log is at {head}); a "
                "challenge must name the latest checkpoint, so re-run `audit challenge`"))
        conn.execute(audit_challenges.insert().values(
            id=b["id"], run_id=b["run"], auditor_id=b["auditor"], samples=b["samples"],
            checkpoint_origin=cp["origin"], checkpoint_size=cp["size"],
            checkpoint_root=cp["root"], log_index=a.index, challenged_at=a.time))
        out.append({"id": b["id"], "run": b["run"]})
    return out


# ---------------------------------------------------------------------------------------------
# The auditor's command
# ---------------------------------------------------------------------------------------------

def challenge_run(home: Home, ledger: Ledger, run: str, samples: int,
                  auditor: str) -> dict[str, Any]:
    """Log a challenge of ``samples`` items against the latest checkpoint; return its indices."""
    if samples < 1:
        raise BadInput(f"--samples {samples} must be at least 1")
    with ledger.db.read() as conn:
        training = resolve_run(conn, run)
        auditor_id = resolve_party(conn, auditor).id
        size, root = ledger.log.head(conn)
    body = {"id": new_id("challenge"), "run": training.id, "auditor": auditor_id,
            "samples": samples,
            "checkpoint": {"origin": ledger.log.origin, "size": size, "root": root.hex()}}
    receipt = submit_as(home, ledger, "audit.challenged", auditor_id, body)
    with ledger.db.read() as conn:
        ch = load_challenge(conn, body["id"])
    return {"challenge": ch.id, "log_index": receipt.index, "run": training.id,
            "auditor": auditor_id, "samples": samples, "method": ch.method,
            "checkpoint": ch.checkpoint_json(), "indices": ch.indices()}


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


def _media_by_hash(media_dir: Path, wanted: set[str]) -> dict[str, str]:
    """Files under ``media_dir`` whose SHA-256 is wanted (each file hashed once, streamed)."""
    found: dict[str, str] = {}
    for path in sorted(p for p in media_dir.rglob("*") if p.is_file()):
        digest = _sha256_file(path).hex()
        if digest in wanted:
            found.setdefault(digest, str(path.resolve()))
    return found


def respond(ledger: Ledger, challenge: str, manifest: Path, opening: Path | None = None,
            media_dir: Path | None = None, full: bool = False) -> dict[str, Any]:
    """Open the challenged items: item, salt and inclusion proof each (all items when full)."""
    with ledger.db.read() as conn:
        ch = load_challenge(conn, challenge)
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
    media = _media_by_hash(media_dir, {items[i]["sha256"] for i in indices}) if media_dir else {}
    opened = []
    for i, proof in zip(indices, proofs, strict=True):
        entry: dict[str, Any] = {"index": i, "salt": salts[i * SALT_SIZE:(i + 1) * SALT_SIZE].hex(),
                                 "item": items[i], "proof": [h.hex() for h in proof]}
        if items[i]["sha256"] in media:
            entry["media"] = media[items[i]["sha256"]]
        opened.append(entry)
    return {"format": RESPONSE_FORMAT, "challenge": ch.id, "run": ch.run.id,
            "root": ch.run.root, "count": ch.run.count, "method": ch.method, "items": opened}


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
