"""What a party's identity is now, and the label shown beside its name everywhere.

``pending`` (registered, not admitted), ``admitted`` or ``lapsed``: a domain whose last
re-verification failed, or whose last successful verification is more than
:data:`~.admission_types.REVERIFY_DAYS` days old (overdue), computed at read time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, select

from ..core.statements import parse_time, utc_now
from ..store.identity_tables import party_admissions
from ..store.tables import parties
from .admission_types import REVERIFY_DAYS

__all__ = ["Identity", "identities", "labelled"]


@dataclass(frozen=True)
class Identity:
    """A party's verified identity (``status`` pending when it has none)."""

    party: str
    status: str
    method: str | None = None
    domain: str | None = None
    guild: str | None = None
    guild_name: str | None = None
    guild_domain: str | None = None
    reference: str | None = None
    admitted_index: int | None = None
    verified_at: str | None = None
    #: When the domain must be verified again (lapsed past it).
    due_at: str | None = None
    #: Why it lapsed (a failed re-verification's reason, or "overdue").
    lapse: str | None = None

    @property
    def label(self) -> str:
        """The words beside the party's name: its domain, its guild, or how else it stands."""
        if self.status == "pending":
            return "NOT ADMITTED"
        if self.method == "domain":
            return f"{self.domain}" + (", LAPSED" if self.status == "lapsed" else "")
        if self.method == "guild":
            return f"member of {self.guild_name} ({self.guild_domain or self.guild})"
        return "checked by the operator"

    def to_json(self) -> dict[str, Any]:
        out = {"status": self.status, "label": self.label}
        for name in ("method", "domain", "guild", "guild_name", "guild_domain", "reference",
                     "admitted_index", "verified_at", "due_at", "lapse"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


def _due(verified_at: str) -> str:
    return (parse_time(verified_at) + timedelta(days=REVERIFY_DAYS)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def identities(conn: Connection, party_ids: Iterable[str],
               now: str | None = None) -> dict[str, Identity]:
    """The identity of each of ``party_ids`` (pending where not admitted), as of ``now``."""
    now = now or utc_now()
    wanted = sorted(set(party_ids))
    rows: dict[str, Any] = {}
    for k in range(0, len(wanted), 500):
        for row in conn.execute(select(party_admissions).where(
                party_admissions.c.party_id.in_(wanted[k:k + 500]))):
            rows[row.party_id] = row
    guild_ids = sorted({r.guild_id for r in rows.values() if r.guild_id})
    guilds = {g.id: g for g in conn.execute(
        select(parties.c.id, parties.c.name, party_admissions.c.domain)
        .join(party_admissions, party_admissions.c.party_id == parties.c.id, isouter=True)
        .where(parties.c.id.in_(guild_ids)))} if guild_ids else {}
    out: dict[str, Identity] = {}
    for pid in wanted:
        r = rows.get(pid)
        if r is None:
            out[pid] = Identity(pid, "pending")
            continue
        due = _due(r.verified_at) if r.method == "domain" and r.verified_at else None
        lapse = r.lapse_reason if r.lapsed_index is not None else \
            ("overdue: not re-verified since " + r.verified_at) if due and now > due else None
        g = guilds.get(r.guild_id)
        out[pid] = Identity(pid, "lapsed" if lapse else "admitted", r.method, r.domain,
                            r.guild_id, g.name if g else None, g.domain if g else None,
                            r.reference, int(r.admitted_index), r.verified_at, due, lapse)
    return out


def labelled(conn: Connection, party_id: str, name: str, now: str | None = None) -> str:
    """``name [label]``: how a party is shown wherever its name is."""
    return f"{name} [{identities(conn, [party_id], now)[party_id].label}]"
