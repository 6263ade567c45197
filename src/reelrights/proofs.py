"""Proof files for the artifacts reelrights hands out: which entries each one's verifier needs.

A proof file (:func:`reelrights.log.proof_files.proof_file`) carries its subject and the related
entries its verifier (:mod:`reelrights.verify.artifacts`) checks against; this module decides
them from the subject's own signed body, using the registry's tables only to find an id's log
index (the verifier proves every entry, so a wrong index fails there, never passes):

* a license statement: the grant, every co-signature and the revocation;
* an audit certificate: the run commitment it certifies;
* an output record: its run commitment and its certificate;
* a run commitment: the grant of every license its usage names.

The signers' ``party.registered`` statements are always added.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from .core.ids import ID_PATTERNS
from .core.statements import decode_entry
from .errors import BadInput, NotFound
from .ledger import Ledger
from .log.proof_files import proof_file
from .store.evidence_tables import audit_certificates, audit_challenges, training_runs
from .store.fund_tables import fund_statements
from .store.provenance_tables import outputs
from .store.tables import license_cosigns, licenses, log_entries
from .verify.tlog_proof import TlogProof

__all__ = ["COSIGNED_WAIT_S", "issue_cosigned_proof", "issue_proof", "proof_index"]

#: How long an output's embedded proof waits for a witness-cosigned checkpoint.
COSIGNED_WAIT_S = 5.0


def _index_of(conn: Connection, table: Any, ident: object) -> list[int]:
    if type(ident) is not str:
        return []
    found = conn.scalar(select(table.c.log_index).where(table.c.id == ident))
    return [] if found is None else [int(found)]


def _certificate_challenge(conn: Connection, cert: object) -> list[int]:
    """The log index of the challenge certificate ``cert`` answers (its seed is verified)."""
    if type(cert) is not str:
        return []
    challenge = conn.scalar(select(audit_certificates.c.challenge_id)
                            .where(audit_certificates.c.id == cert))
    return _index_of(conn, audit_challenges, challenge)


def _license_history(conn: Connection, lic: object) -> list[int]:
    row = conn.execute(select(licenses.c.log_index, licenses.c.revoked_index)
                       .where(licenses.c.id == lic)).first() if type(lic) is str else None
    if row is None:
        return []
    out = [int(row.log_index)] + ([int(row.revoked_index)] if row.revoked_index is not None
                                  else [])
    out += [int(i) for i in conn.scalars(select(license_cosigns.c.log_index)
                                         .where(license_cosigns.c.license_id == lic))]
    return out


def related_indices(conn: Connection, entry: bytes) -> list[int]:
    """The log indices the verifier of ``entry``'s statement needs beside it (signers' keys
    excepted: :func:`proof_file` adds them)."""
    s = decode_entry(entry)
    b = s.body
    if s.type == "license.granted":
        return _license_history(conn, b.get("id"))
    if s.type in ("license.cosigned", "license.revoked"):
        return _license_history(conn, b.get("license"))
    if s.type == "audit.certified":  # the run, and the challenge whose seed it records
        return (_index_of(conn, training_runs, b.get("run"))
                + _index_of(conn, audit_challenges, b.get("challenge")))
    if s.type == "output.registered":
        return (_index_of(conn, training_runs, b.get("run"))
                + _index_of(conn, audit_certificates, b.get("certificate"))
                + _certificate_challenge(conn, b.get("certificate")))
    if s.type == "run.committed":
        return [i for line in b.get("usage", []) for i in
                _index_of(conn, licenses, line.get("license"))]
    return []


_BY_PREFIX = {"license": licenses, "certificate": audit_certificates, "output": outputs,
              "run": training_runs}


def proof_index(conn: Connection, ref: str) -> int:
    """The log index of ``ref``: an index, or the id of a license, certificate, output, run or
    royalty statement."""
    if re.fullmatch(r"0|[1-9][0-9]{0,17}", ref):
        return int(ref)
    for pattern, table in [*((ID_PATTERNS[k], t) for k, t in _BY_PREFIX.items()),
                           (r"fst_[a-z2-7]{16}", fund_statements)]:
        if re.fullmatch(pattern, ref):
            found = _index_of(conn, table, ref)
            if not found:
                raise NotFound(f"{ref} is not in this registry's log")
            return found[0]
    raise BadInput(f"{ref!r} is neither a log index nor a license, certificate, output, run or "
                   "royalty statement id")


def issue_proof(ledger: Ledger, ref: str | int, *, note: bytes | None = None) -> TlogProof:
    """The proof file of ``ref`` (a log index or an id), in the latest checkpoint."""
    with ledger.db.read() as conn:
        index = ref if isinstance(ref, int) else proof_index(conn, ref)
        entry = conn.scalar(select(log_entries.c.entry).where(log_entries.c.idx == index))
        if entry is None:
            raise NotFound(f"log index {index} does not exist")
        return proof_file(conn, ledger.log, index, related_indices(conn, bytes(entry)),
                          note=note)


def issue_cosigned_proof(ledger: Ledger, index: int, home_path: Path, *,
                         wait_s: float = COSIGNED_WAIT_S) -> TlogProof:
    """The proof of ``index`` in a witness-cosigned checkpoint that holds it, if the log's
    witnessing (``<home>/cosigned.sqlite``, :mod:`reelrights.log.cosigned`) has one within
    ``wait_s`` seconds; else in the log-only latest checkpoint, which a verifier upgrades online
    (``reelrights verify FILE --server URL``). A log without witnesses waits for nothing."""
    import time

    from .log.cosigned import COSIGNED_FILE, CosignedStore

    path = Path(home_path) / COSIGNED_FILE
    if not path.exists():
        return issue_proof(ledger, index)
    store = CosignedStore(path)
    deadline = time.monotonic() + wait_s
    while True:
        note = store.latest()
        if note is not None and _size_of(note) > index:
            return issue_proof(ledger, index, note=note)
        if time.monotonic() >= deadline:
            return issue_proof(ledger, index)
        time.sleep(0.2)


def _size_of(note: bytes) -> int:
    from .core.checkpoint import Checkpoint

    return Checkpoint.parse(note[: note.rfind(b"\n\n") + 1]).size
