"""Making a disclosure of a sealed statement (the file :mod:`reelrights.core.sealed_disclosure`
checks): the log leaf, the signer's registration, both inclusion proofs under the latest signed
checkpoint, and the chosen leaves with their proofs under the statement's root."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from ..core.sealed import Leaf, disclose
from ..core.sealed_disclosure import FORMAT
from ..core.statements import SignedStatement, decode_entry
from ..errors import BadInput, NotFound
from ..log.database_log import DatabaseLog
from ..store.fund_tables import fund_statements, revenue_reports
from ..store.key_tables import key_events
from ..store.tables import licenses, log_entries, parties
from .store import UNAVAILABLE, BodySource, body_state

__all__ = ["find_sealed", "make_disclosure"]

#: Ids a sealed statement may be named by, besides its own stm_ id.
_BY_RECORD = {"lic": licenses, "rev": revenue_reports, "fst": fund_statements}


def find_sealed(conn: Connection, ref: str) -> tuple[int, SignedStatement]:
    """(log index, statement) of a sealed statement named by its statement id, or by the id of
    the license, revenue report or royalty statement it made."""
    table = _BY_RECORD.get(ref.split("_", 1)[0])
    if table is not None:
        index = conn.scalar(select(table.c.log_index).where(table.c.id == ref))
    elif ref.startswith("stm_"):
        index = conn.scalar(select(log_entries.c.idx).where(log_entries.c.statement_id == ref))
    else:
        raise BadInput(f"{ref!r} is not a statement, license, report or royalty statement id")
    if index is None:
        raise NotFound(f"no statement {ref} in this registry's log")
    s = decode_entry(bytes(conn.execute(select(log_entries.c.entry)
                                        .where(log_entries.c.idx == index)).scalar_one()))
    if s.sealed is None:
        raise BadInput(f"{ref} is not sealed: its body is public in the log already")
    return int(index), s


def make_disclosure(conn: Connection, log: DatabaseLog, ref: str, paths: Sequence[str],
                    bodies: Sequence[BodySource]) -> dict[str, Any]:
    """A disclosure of the fields at ``paths`` (a field's path discloses all its rows) of the
    sealed statement ``ref``, with its body from the first of ``bodies`` that holds it."""
    index, s = find_sealed(conn, ref)
    assert s.id is not None
    leaves: Sequence[Leaf] | None = None
    for source in bodies:
        leaves = source(s.id)
        if leaves is not None:
            break
    if leaves is None:
        state = body_state(conn, s.id) or UNAVAILABLE
        raise NotFound(f"{ref}: {state} here; a disclosure needs the body (the signer's home, "
                       "a party it was sent to, or the registry's sealed store)")
    shown = disclose(leaves, paths)
    signer_index = conn.scalar(select(parties.c.log_index).where(parties.c.id == s.actor))
    if signer_index is None:
        raise NotFound(f"the signer {s.actor} is not registered here")
    note = log.checkpoint(conn)
    size = int(note.split(b"\n", 2)[1])

    def proven(i: int) -> dict[str, Any]:
        leaf = conn.execute(select(log_entries.c.entry)
                            .where(log_entries.c.idx == i)).scalar_one()
        return {"leaf": bytes(leaf).decode("utf-8"), "index": i,
                "proof": log.inclusion(conn, i, size)["proof"]}

    # The signer's key statements before it (rotations, recoveries: docs/keys.md), and the
    # registry's establishment (its rotation wait) when there are any.
    keys = [int(i) for i in conn.scalars(select(key_events.c.log_index).where(
        key_events.c.party_id == s.actor, key_events.c.log_index < index)
        .order_by(key_events.c.log_index))]
    if keys:
        from ..core.statement_types import OPERATOR
        from ..log.proof_files import key_index

        established = key_index(conn, OPERATOR)
        keys = ([] if established is None else [established]) + keys
    doc = {"disclosure": FORMAT, "checkpoint": note.decode("utf-8"),
           "statement": proven(index), "signer": proven(int(signer_index)),
           "leaves": [d.to_json() for d in shown]}
    if keys:
        doc["keys"] = [proven(i) for i in keys]
    return doc
