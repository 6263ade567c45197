"""Guild strikes: ``guild strike``, ``guild end-strike``, ``guild strikes`` and their appliers.

A guild on strike withholds its members' work: from the strike's first day until the day it
ends, no license that needs the guild's co-signature and no consent of one of its members is in
force for new runs and generations (SAG-AFTRA's rule during the 2023 strike: struck work is not
performed, and members' digital replicas are not used). ``check`` says so and names the strike;
a training run started during a strike is judged without those licenses (docs/rules.md,
"Strikes").

A strike's start cannot be backdated (a strike cannot reach into work already done) and neither
can its end (a strike cannot be shortened after the fact): both dates are at least the log time
minus the clock skew. Only the striking guild ends its strike, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from ..core.ids import new_id
from ..errors import BadInput, Conflict, NotFound, PolicyDenied
from ..home import Home
from ..ledger import Accepted, Ledger, Receipt, applier, each_statement
from ..registry.resolve import resolve_party
from ..registry.submit import submit_as
from ..store.db import Database
from ..store.tables import guild_members, guild_strikes, parties
from .consent import check_declared_effect, clock_skew_s

__all__ = ["Strike", "declare_strike", "end_strike", "list_strikes", "strikes_of_guilds",
           "strikes_of_member"]


@dataclass(frozen=True)
class Strike:
    id: str
    guild: str
    starts_on: str
    ends_on: str | None
    description: str
    log_index: int
    ended_index: int | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "guild": self.guild, "starts_on": self.starts_on,
                "ends_on": self.ends_on, "description": self.description,
                "log_index": self.log_index, "ended_index": self.ended_index}

    @property
    def message(self) -> str:
        until = f"until {self.ends_on}" if self.ends_on else "until the guild ends it"
        return (f"guild {self.guild} is on strike from {self.starts_on} {until} (strike "
                f"{self.id}, log {self.log_index})")


def _strike(row: Any) -> Strike:
    return Strike(row.id, row.guild_id, row.starts_on, row.ends_on, row.description,
                  row.log_index, row.ended_index)


def _on(day: date) -> Any:
    d = day.isoformat()
    return and_(guild_strikes.c.starts_on <= d,
                or_(guild_strikes.c.ends_on.is_(None), guild_strikes.c.ends_on > d))


def strikes_of_guilds(conn: Connection, guilds: list[str], day: date) -> list[Strike]:
    """The strikes of any of ``guilds`` in force on ``day``."""
    if not guilds:
        return []
    return [_strike(r) for r in conn.execute(
        select(guild_strikes).where(guild_strikes.c.guild_id.in_(sorted(guilds)), _on(day))
        .order_by(guild_strikes.c.log_index))]


def strikes_of_member(conn: Connection, member: str, day: date) -> list[Strike]:
    """The strikes in force on ``day`` of the guilds ``member`` belongs to."""
    return [_strike(r) for r in conn.execute(
        select(guild_strikes)
        .join(guild_members, guild_members.c.guild_id == guild_strikes.c.guild_id)
        .where(guild_members.c.member_id == member, _on(day))
        .order_by(guild_strikes.c.log_index))]


# -- appliers ---------------------------------------------------------------------------------
@applier("strike.declared")
@each_statement
def _apply_declared(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    kind = conn.scalar(select(parties.c.kind).where(parties.c.id == b["guild"]))
    if kind != "guild":
        raise PolicyDenied(f"{b['guild']} is not a registered guild; only a guild strikes")
    check_declared_effect(a, clock_skew_s(conn))
    if conn.execute(select(guild_strikes.c.id).where(guild_strikes.c.id == b["id"])).first():
        raise Conflict(f"strike {b['id']} is already declared")
    open_ = conn.execute(select(guild_strikes.c.id).where(
        guild_strikes.c.guild_id == b["guild"], guild_strikes.c.ends_on.is_(None))).first()
    if open_ is not None:
        raise Conflict(f"{b['guild']} is already on strike ({open_.id}); end it before "
                       "declaring another")
    conn.execute(guild_strikes.insert().values(
        id=b["id"], guild_id=b["guild"], starts_on=b["start"], ends_on=None,
        description=b["description"], log_index=a.index, ended_index=None))
    return {"id": b["id"], "guild": b["guild"], "start": b["start"]}


@applier("strike.ended")
@each_statement
def _apply_ended(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    row = conn.execute(select(guild_strikes).where(guild_strikes.c.id == b["strike"])).first()
    if row is None:
        raise NotFound(f"strike {b['strike']} is not declared; `reelrights guild strikes` "
                       "lists them")
    if a.statement.actor != row.guild_id:
        raise PolicyDenied(f"only {row.guild_id}, the striking guild, ends strike {row.id}; "
                           f"{a.statement.actor} cannot")
    if row.ends_on is not None:
        raise Conflict(f"strike {row.id} already ended on {row.ends_on}")
    check_declared_effect(a, clock_skew_s(conn))
    if b["end"] <= row.starts_on:
        raise BadInput(f"end {b['end']} is not after the strike's start {row.starts_on}; the "
                       "end is the first day members' work is back in force")
    conn.execute(update(guild_strikes).where(guild_strikes.c.id == row.id)
                 .values(ends_on=b["end"], ended_index=a.index))
    return {"id": row.id, "strike": row.id, "end": b["end"]}


# -- commands ---------------------------------------------------------------------------------
def declare_strike(home: Home, ledger: Ledger, guild: str, start: date,
                   description: str) -> Receipt:
    with ledger.db.read() as conn:
        g = resolve_party(conn, guild)
    if g.kind != "guild":
        raise PolicyDenied(f"{g.id} is a {g.kind}, not a guild; only a guild declares a strike")
    body = {"id": new_id("strike"), "guild": g.id, "start": start.isoformat(),
            "description": description}
    return submit_as(home, ledger, "strike.declared", g.id, body)


def end_strike(home: Home, ledger: Ledger, strike: str, end: date) -> Receipt:
    with ledger.db.read() as conn:
        row = conn.execute(select(guild_strikes).where(guild_strikes.c.id == strike)).first()
    if row is None:
        raise NotFound(f"strike {strike} is not declared; `reelrights guild strikes` lists them")
    return submit_as(home, ledger, "strike.ended", row.guild_id,
                     {"strike": row.id, "end": end.isoformat()})


def list_strikes(db: Database, guild: str | None = None) -> list[Strike]:
    with db.read() as conn:
        q = select(guild_strikes).order_by(guild_strikes.c.log_index)
        if guild is not None:
            q = q.where(guild_strikes.c.guild_id == resolve_party(conn, guild).id)
        return [_strike(r) for r in conn.execute(q)]
