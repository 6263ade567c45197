"""Issue offline proof files (c2sp.org/tlog-proof, :mod:`reelrights.verify.tlog_proof`).

:func:`proof_file` takes a subject index and the related indices its verifier needs, adds the
key statements of every entry's signer (its ``party.registered`` entry and the key statements
it logged before that entry: docs/keys.md; the
``registry.established`` entry for the operator), and proves them all in the latest checkpoint
(or the one given). Whoever holds the log issues them; anyone verifies them with the log's
public key alone (:class:`reelrights.verify.Verifier`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from ..core.checkpoint import Checkpoint
from ..core.statement_types import OPERATOR
from ..core.statements import decode_entry
from ..errors import NotFound
from ..store.key_tables import key_events
from ..store.tables import log_entries, parties
from ..verify.tlog_proof import ProvenEntry, TlogProof, related_sorted
from .database_log import DatabaseLog

__all__ = ["key_index", "proof_file"]


def _checkpoint_size(note: bytes) -> int:
    split = note.rfind(b"\n\n")
    return Checkpoint.parse(note[: split + 1]).size


def key_index(conn: Connection, actor: str) -> int | None:
    if actor == OPERATOR:
        for idx, entry in conn.execute(select(log_entries.c.idx, log_entries.c.entry)
                                       .order_by(log_entries.c.idx).limit(64)):
            try:
                if decode_entry(bytes(entry)).type == "registry.established":
                    return int(idx)
            except Exception:  # noqa: BLE001 - a v1 entry before it
                continue
        return None
    found = conn.scalar(select(parties.c.log_index).where(parties.c.id == actor))
    return None if found is None else int(found)


def proof_file(conn: Connection, log: DatabaseLog, index: int, related: Iterable[int] = (), *,
               note: bytes | None = None) -> TlogProof:
    """The proof of entry ``index`` and of ``related`` ones (plus their signers' key
    statements) in the checkpoint ``note`` (default: the latest)."""
    note = note if note is not None else log.checkpoint(conn)
    size = _checkpoint_size(note)
    if not 0 <= index < size:
        raise NotFound(f"log index {index} is not in the latest checkpoint (size {size}) yet")
    wanted = {int(i) for i in related} - {index}
    todo = [index, *sorted(wanted)]
    entries: dict[int, bytes] = {}
    while todo:
        i = todo.pop()
        if i in entries:
            continue
        entries[i] = log.entry(conn, i)
        signer = decode_entry(entries[i]).actor
        k = key_index(conn, signer)
        if k is not None and k != i and k not in entries:
            todo.append(k)
        # the signer's key statements before it (rotations, recoveries: docs/keys.md)
        todo.extend(int(j) for j in conn.scalars(select(key_events.c.log_index).where(
            key_events.c.party_id == signer, key_events.c.log_index < i))
            if int(j) not in entries)
    proven = {i: ProvenEntry(i, e, tuple(bytes.fromhex(h) for h in
                                         log.inclusion(conn, i, size)["proof"]))
              for i, e in entries.items()}
    return TlogProof(proven.pop(index), note, related_sorted(list(proven.values())))
