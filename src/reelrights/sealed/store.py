"""The sealed body store: the openings of sealed statements, kept beside the log.

The ledger keeps each accepted sealed statement's opening (:func:`keep_bodies`, in the batch's
transaction), and the one place statements become rows records every sealed statement in the
``sealed_statements`` projection (:func:`record_sealed`). A replay (``rebuild``, ``log verify``)
opens sealed statements with a :data:`BodySource`; without one their projections say "body
unavailable" (:func:`body_state`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, select

from ..core.canonical import canonical_bytes
from ..core.sealed import Leaf, parse_opening
from ..core.statements import SignedStatement, decode_entry, utc_now
from ..errors import NotFound, VerificationError
from ..store.sealed_tables import sealed_bodies, sealed_statements
from ..store.tables import log_entries
from ..write.accepted import Accepted

__all__ = ["AVAILABLE", "ERASED", "UNAVAILABLE", "BodySource", "body_state", "database_source",
           "keep_bodies", "record_sealed", "stored_leaves"]

#: Statement id -> its opening's leaves, or None when this source holds no body for it.
BodySource = Callable[[str], "Sequence[Leaf] | None"]

AVAILABLE, ERASED, UNAVAILABLE = "available", "body erased", "body unavailable"


def record_sealed(conn: Connection, accepted: Sequence[Accepted]) -> None:
    """The ``sealed_statements`` rows of the sealed statements among ``accepted``."""
    rows = [{"statement_id": a.statement.id, "log_index": a.index, "type": a.statement.type,
             "actor": a.statement.actor, "root": a.statement.sealed["root"]}
            for a in accepted if a.statement.sealed is not None]
    if rows:
        conn.execute(sealed_statements.insert(), rows)


def keep_bodies(conn: Connection, accepted: Sequence[Accepted],
                openings: Sequence[Sequence[Leaf] | None]) -> None:
    """Keep the openings of the sealed statements among ``accepted`` (each was opened against its
    signed root before it was applied, so its leaves match)."""
    rows = []
    for a, leaves in zip(accepted, openings, strict=True):
        if a.statement.sealed is None or leaves is None:
            continue
        rows.append({"statement_id": a.statement.id, "log_index": a.index,
                     "root": a.statement.sealed["root"], "kept_at": utc_now(),
                     "leaves": canonical_bytes([leaf.to_json() for leaf in leaves])
                     .decode("utf-8")})
    if rows:
        conn.execute(sealed_bodies.insert(), rows)


def stored_leaves(conn: Connection, statement_id: str) -> list[Leaf] | None:
    """The kept opening of a sealed statement, or None (none kept, or erased)."""
    text = conn.scalar(select(sealed_bodies.c.leaves)
                       .where(sealed_bodies.c.statement_id == statement_id))
    return None if text is None else parse_opening(json.loads(text))


def database_source(conn: Connection) -> BodySource:
    """The bodies a database's sealed body store holds (an operator's, or a backup's)."""
    return lambda statement_id: stored_leaves(conn, statement_id)


def body_state(conn: Connection, statement_id: str) -> str | None:
    """Whether a sealed statement's body is here (:data:`AVAILABLE`), was erased
    (:data:`ERASED`) or is not in this registry (:data:`UNAVAILABLE`); None: not sealed."""
    row = conn.execute(select(sealed_statements.c.erased_at).where(
        sealed_statements.c.statement_id == statement_id)).first()
    if row is None:
        return None
    if row.erased_at is not None:
        return ERASED
    return AVAILABLE if stored_leaves(conn, statement_id) is not None else UNAVAILABLE


def body_state_at(conn: Connection, log_index: int) -> str | None:
    """:func:`body_state` of the statement at ``log_index``."""
    sid = conn.scalar(select(sealed_statements.c.statement_id)
                      .where(sealed_statements.c.log_index == log_index))
    return None if sid is None else body_state(conn, sid)


def opened(conn: Connection, s: SignedStatement) -> SignedStatement:
    """``s`` with its full body: as it is when in clear, else opened from the sealed body store
    (checked against its signed root). A body the store does not hold is refused, naming why."""
    if s.sealed is None or s.id is None:
        return s
    leaves = stored_leaves(conn, s.id)
    if leaves is None:
        state = body_state(conn, s.id) or UNAVAILABLE
        raise VerificationError(f"the {s.type} statement {s.id} is sealed and its {state}: "
                                "its private fields are not in this registry")
    from ..write.decode import open_sealed_statement

    return open_sealed_statement(s, leaves)


def logged_body(conn: Connection, index: int) -> dict[str, Any]:
    """The full body of the statement at log ``index`` (:func:`opened`)."""
    entry = conn.scalar(select(log_entries.c.entry).where(log_entries.c.idx == index))
    if entry is None:
        raise NotFound(f"log entry {index} does not exist")
    return opened(conn, decode_entry(bytes(entry))).body


def body_of(conn: Connection, statement_id: str) -> dict[str, Any] | None:
    """The opening as JSON (for a disclosure or an entitled reader), or None."""
    leaves = stored_leaves(conn, statement_id)
    return None if leaves is None else {"leaves": [leaf.to_json() for leaf in leaves]}
