"""The registry's establishment: the operator's ``registry.established`` statement.

Applying it brings the compare-and-swap state (``current_facts``) up to date with the v1 entries
logged before it, so that the first v2 revocation of a v1 license names the v1 grant by its log
index (``{"index": N}``). A replay of the log does the same, so the table stays a projection.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from ..admission import SUBJECTS
from ..core.statements import decode_entry
from ..ledger import Accepted, applier, each_statement
from ..store.tables import current_facts, log_entries

__all__ = ["apply_established"]


@applier("registry.established")
@each_statement
def apply_established(conn: Connection, a: Accepted) -> dict[str, Any]:
    current: dict[str, int] = {}
    rows = conn.execute(select(log_entries.c.idx, log_entries.c.entry)
                        .where(log_entries.c.idx < a.index,
                               log_entries.c.type.in_(sorted(SUBJECTS)))
                        .order_by(log_entries.c.idx))
    for idx, entry in rows:
        s = decode_entry(bytes(entry))
        current[SUBJECTS[s.type].subject(s.body)] = int(idx)
    if current:
        conn.execute(current_facts.insert(), [
            {"subject": subj, "statement_id": None, "log_index": idx}
            for subj, idx in current.items()])
    return {"registry": a.statement.registry, "v1_entries": a.index}
