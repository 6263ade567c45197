"""Parties as they are shown: every name with its verified domain or attesting guild beside it
(``party list``, ``party show``, ``GET /v1/parties/{id}``), and the look-alikes of a name."""

from __future__ import annotations

from typing import Any

from ..core.names import skeleton
from ..core.statements import utc_now
from ..registry.parties import list_parties, party_detail
from ..store.db import Database
from .status import identities

__all__ = ["parties_shown", "party_shown", "shown_name"]


def shown_name(name: str, label: str) -> str:
    """How a party's name is displayed: ``Northlight Pictures [northlight.example]``."""
    return f"{name} [{label}]"


def parties_shown(db: Database, kind: str | None = None, now: str | None = None, *,
                  pending: bool = False) -> list[dict[str, Any]]:
    """``party list``: each party with its identity and the name as shown (``pending``: only
    those not admitted)."""
    rows = [p.to_json() for p in list_parties(db, kind)]
    with db.read() as conn:
        found = identities(conn, [r["id"] for r in rows], now or utc_now())
    for r in rows:
        ident = found[r["id"]]
        r["identity"] = ident.to_json()
        r["shown_as"] = shown_name(r["name"], ident.label)
    return [r for r in rows if r["identity"]["status"] == "pending"] if pending else rows


def party_shown(db: Database, ref: str, now: str | None = None) -> dict[str, Any]:
    """``party show``: the party, its identity, and every party whose name can be mistaken for
    its own (same Unicode TR 39 skeleton), each shown with its own identity."""
    from sqlalchemy import select

    from ..store.tables import parties

    out = party_detail(db, ref).to_json()
    wanted = skeleton(out["name"])
    with db.read() as conn:
        others = [(r.id, r.name) for r in conn.execute(
            select(parties.c.id, parties.c.name).order_by(parties.c.log_index))
            if r.id != out["id"] and skeleton(r.name) == wanted]
        found = identities(conn, [out["id"], *(i for i, _ in others)], now or utc_now())
    ident = found[out["id"]]
    out["identity"] = ident.to_json()
    out["shown_as"] = shown_name(out["name"], ident.label)
    out["lookalikes"] = [{"id": i, "name": n, "shown_as": shown_name(n, found[i].label),
                          "identity": found[i].to_json()} for i, n in others]
    return out
