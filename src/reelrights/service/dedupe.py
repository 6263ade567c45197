"""A statement submitted again: its original receipt, or a conflict.

Keyed by the hash of the signed statement: the log holds each statement id once, so the entry
logged under the submitted statement's id is looked up and its signed statement (the leaf
without the log's time) compared with the submitted bytes by SHA-256. The same bytes get the
original receipt (index, leaf hash, log time); the same id with other bytes is a conflict.

Only looked up when the ledger refuses a statement id as already logged: a new statement costs
nothing here.
"""

from __future__ import annotations

from hashlib import sha256

from sqlalchemy import select

from ..core.statements import open_leaf, read_entry
from ..errors import Conflict
from ..store.db import Database
from ..store.tables import log_entries
from ..write.accepted import Receipt

__all__ = ["is_replay", "original_receipt"]


def is_replay(exc: Exception) -> bool:
    """Whether the ledger refused a statement because its id is logged, or twice in a batch."""
    return isinstance(exc, Conflict) and (" is already in the log at index " in exc.message
                                          or " appears twice in the batch " in exc.message)


def original_receipt(db: Database, entry: bytes) -> Receipt | None:
    """The receipt of the logged entry with ``entry``'s statement id, if it holds the same bytes;
    None if no entry has that id; :class:`Conflict` if one has it with other bytes."""
    try:
        sid = read_entry(entry).id
    except Exception:  # noqa: BLE001 - not a statement: nothing of it can be logged
        return None
    if sid is None:
        return None
    with db.read() as conn:
        row = conn.execute(select(log_entries.c.idx, log_entries.c.leaf_hash, log_entries.c.type,
                                  log_entries.c.actor, log_entries.c.entry)
                           .where(log_entries.c.statement_id == sid)).first()
    if row is None:
        return None
    envelope, log_time = open_leaf(bytes(row.entry))
    if sha256(envelope).digest() != sha256(entry).digest():
        raise Conflict(
            f"statement {sid} is already in the log at index {row.idx} with other bytes "
            f"(SHA-256 {sha256(envelope).hexdigest()}, not {sha256(entry).hexdigest()}): "
            "a statement id is logged once; sign a new statement, with a new id")
    return Receipt(int(row.idx), row.type, row.actor, bytes(row.leaf_hash).hex(), {}, sid,
                   log_time)
