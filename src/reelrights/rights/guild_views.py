"""What a guild officer reads: the guild's agreements, and the co-signature queue (licenses that
wait for the guild, with the members they cover and the terms)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from ..registry.resolve import resolve_party
from ..store.db import Database
from ..store.resolve import find_many
from ..store.tables import (
    bundle_assets,
    bundle_works,
    credits,
    guild_agreements,
    guild_members,
    licenses,
    parties,
    work_assets,
    works,
)
from .licensing import LICENSE
from .records import License

__all__ = ["Agreement", "CoveredCredit", "QueuedLicense", "cosignature_queue", "list_agreements"]


@dataclass(frozen=True, slots=True)
class Agreement:
    id: str
    name: str
    covers: tuple[str, ...]
    fund_share: str
    effective: str | None
    expires: str | None
    log_index: int


@dataclass(frozen=True, slots=True)
class CoveredCredit:
    """A guild member credited, in a covered role, on a work the license's bundle holds."""

    member: str
    member_name: str
    work: str
    title: str
    role: str
    share: str


@dataclass(frozen=True, slots=True)
class QueuedLicense:
    license: License
    covered: tuple[CoveredCredit, ...]
    policy: dict[str, Any]


def list_agreements(db: Database, guild: str) -> list[Agreement]:
    with db.read() as conn:
        gid = resolve_party(conn, guild).id
        rows = conn.execute(select(guild_agreements).where(guild_agreements.c.guild_id == gid)
                            .order_by(guild_agreements.c.log_index)).all()
    return [Agreement(r.id, r.name, tuple(json.loads(r.covers)), r.fund_share, r.effective,
                      r.expires, r.log_index) for r in rows]


def cosignature_queue(db: Database, guild: str) -> list[QueuedLicense]:
    """Licenses not revoked that still miss this guild's co-signature, oldest first."""
    with db.read() as conn:
        gid = resolve_party(conn, guild).id
        covers = set()
        for r in conn.execute(select(guild_agreements.c.covers)
                              .where(guild_agreements.c.guild_id == gid)):
            covers |= set(json.loads(r.covers))
        members = {r.member_id for r in conn.execute(
            select(guild_members.c.member_id).where(guild_members.c.guild_id == gid))}
        # Only the licenses that can need this guild get their standing worked out: those that
        # named it at the grant, and those on a bundle holding (listed, or by an asset) a work
        # that credits a member in a covered role (licensing.cosigners_needed decides).
        theirs = select(credits.c.work_id).where(
            credits.c.party_id.in_(select(guild_members.c.member_id)
                                   .where(guild_members.c.guild_id == gid)),
            credits.c.role.in_(sorted(covers)))
        by_work = select(bundle_works.c.bundle_id).where(bundle_works.c.work_id.in_(theirs))
        by_asset = (select(bundle_assets.c.bundle_id)
                    .join(work_assets, work_assets.c.sha256 == bundle_assets.c.sha256)
                    .where(work_assets.c.work_id.in_(theirs)))
        named = licenses.c.required_cosigners.contains(f'"{gid}"')
        candidates = or_(named, licenses.c.bundle_id.in_(by_work),
                         licenses.c.bundle_id.in_(by_asset)) if covers else named
        waiting = [lic for lic in find_many(conn, LICENSE, licenses.c.revoked_index.is_(None),
                                            candidates)
                   if gid in lic.standing.missing_cosigners]
        out = []
        for lic in waiting:
            holding = (select(work_assets.c.work_id)
                       .join(bundle_assets, bundle_assets.c.sha256 == work_assets.c.sha256)
                       .where(bundle_assets.c.bundle_id == lic.bundle_id))
            listed = select(bundle_works.c.work_id).where(bundle_works.c.bundle_id == lic.bundle_id)
            rows = conn.execute(
                select(credits.c.party_id, credits.c.role, credits.c.share, works.c.id,
                       works.c.title, parties.c.name)
                .join(works, works.c.id == credits.c.work_id)
                .join(parties, parties.c.id == credits.c.party_id)
                .where(or_(credits.c.work_id.in_(holding), credits.c.work_id.in_(listed)))
                .order_by(works.c.title, parties.c.name)).all()
            covered = tuple(CoveredCredit(r.party_id, r.name, r.id, r.title, r.role, r.share)
                            for r in rows if r.party_id in members and r.role in covers)
            policy = json.loads(conn.execute(select(licenses.c.policy)
                                             .where(licenses.c.id == lic.id)).scalar_one())
            out.append(QueuedLicense(lic, covered, policy))
    return out
