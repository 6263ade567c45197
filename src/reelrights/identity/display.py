"""Parties as they are shown: every name with its verified domain or attesting guild beside it
(``party list``, ``party show``, ``GET /v1/parties/{id}``), and the look-alikes of a name."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the list commands import this module: what it reads is imported when used
    from ..store.db import Database

__all__ = ["display_names", "parties_shown", "party_shown", "shown_json", "shown_name"]


def shown_name(name: str, label: str) -> str:
    """How a party's name is displayed: ``Northlight Pictures [northlight.example]``."""
    return f"{name} [{label}]"


def parties_shown(db: Database, kind: str | None = None, now: str | None = None, *,
                  pending: bool = False) -> list[dict[str, Any]]:
    """``party list``: each party with its identity and the name as shown (``pending``: only
    those not admitted)."""
    from ..core.statements import utc_now
    from ..registry.parties import list_parties
    from .status import identities

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

    from ..core.names import skeleton
    from ..core.statements import utc_now
    from ..registry.parties import party_detail
    from ..store.tables import parties
    from .status import identities

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


def display_names(db: Database, ids: Iterable[str | None],
                  now: str | None = None) -> dict[str, str]:
    """:func:`reelrights.registry.labels.display_names` (the name beside each id a listing
    prints), each party's with its verification beside it: ``Northlight Pictures
    [northlight.example]``."""
    from ..core.statements import utc_now
    from ..registry.labels import display_names as plain
    from .status import identities

    wanted = list(ids)
    names = plain(db, wanted)
    party_ids = [i for i in names if i.startswith("pty_")]
    if party_ids:
        with db.read() as conn:
            found = identities(conn, party_ids, now or utc_now())
        for i in party_ids:
            names[i] = shown_name(names[i], found[i].label)
    return names


def shown_json(db: Database, value: dict[str, Any], now: str | None = None) -> dict[str, Any]:
    """A ``show --json`` document with ``<field>_shown`` beside every ``<field>_name`` whose
    ``<field>`` is a party id (``owner_name`` -> ``owner_shown``), at any depth: how an HTTP
    lookup shows each party it names."""
    from ..core.statements import utc_now
    from .status import identities

    found: list[tuple[dict[str, Any], str]] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for k in list(v):
                if k.endswith("_name") and isinstance(v.get(k[:-5]), str) \
                        and v[k[:-5]].startswith("pty_"):
                    found.append((v, k[:-5]))
                walk(v[k])
        elif isinstance(v, list):
            for item in v:
                walk(item)

    walk(value)
    if found:
        with db.read() as conn:
            ids = identities(conn, [d[f] for d, f in found], now or utc_now())
        for d, f in found:
            d[f"{f}_shown"] = shown_name(d[f"{f}_name"], ids[d[f]].label)
    return value
