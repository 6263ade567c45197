"""Licenses on bundles, guild agreements and membership, co-signature and revocation.

A license is an ODRL 2.2 Agreement under the reelrights profile, signed by the bundle's owner.
It comes into force only after every guild whose members are credited, in a role the guild's
agreement covers, on any work that holds one of the bundle's assets has co-signed it: credits
follow the asset into every work and bundle that contains it, and a credit recorded after the
grant adds its guild too (:func:`cosigners_needed`). The registry computes that set of guilds
itself and refuses a grant that names a different one. Revocation applies from the revoking
statement's time on. Expiry is written into the policy, as ``dateTime`` constraints.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict

from sqlalchemy import Connection, Select, or_, select

from ..core.ids import new_id
from ..core.iri import bundle_iri, party_iri, work_iri
from ..core.odrl import InvalidPolicy, Policy, parse_policy
from ..errors import BadInput, Conflict, NotFound, PolicyDenied
from ..home import Home
from ..ledger import Accepted, Ledger, Receipt, applier, each_statement
from ..registry.records import LogEvent
from ..registry.resolve import resolve_party
from ..registry.submit import submit_as
from ..store.db import Database
from ..store.resolve import Kind, StoredRow, find_many, resolve, resolve_row, widen
from ..store.tables import (
    bundle_assets,
    bundle_works,
    bundles,
    credits,
    guild_agreements,
    guild_members,
    license_cosigns,
    licenses,
    log_entries,
    parties,
    work_assets,
)
from .records import License, LicenseDetail, LicenseStanding

__all__ = ["LICENSE", "add_agreement", "add_member", "cosign_body", "cosign_license",
           "cosigners_needed", "grant_license",
           "license_detail",
           "LicenseStatus", "license_standing", "license_status", "list_licenses",
           "required_cosigners", "resolve_license", "revoke_license"]


# ---------------------------------------------------------------------------------------------
# Rules shared by the appliers and the commands
# ---------------------------------------------------------------------------------------------

def required_cosigners(conn: Connection, bundle_id: str) -> list[str]:
    """Guilds that must co-sign: a member credited, in a role they cover, on any work that holds
    any asset of the bundle. Credits follow the asset: the same bytes re-registered as another,
    uncredited work (or bundled by hash) still carry the credits of every work that holds them."""
    holding = (select(work_assets.c.work_id)
               .join(bundle_assets, bundle_assets.c.sha256 == work_assets.c.sha256)
               .where(bundle_assets.c.bundle_id == bundle_id))
    listed = select(bundle_works.c.work_id).where(bundle_works.c.bundle_id == bundle_id)
    credited = conn.execute(
        select(credits.c.party_id, credits.c.role)
        .where(or_(credits.c.work_id.in_(holding), credits.c.work_id.in_(listed)))).all()
    if not credited:
        return []
    roles_by_party: dict[str, set[str]] = {}
    for r in credited:
        roles_by_party.setdefault(r.party_id, set()).add(r.role)
    guilds = set()
    rows = conn.execute(
        select(guild_members.c.guild_id, guild_members.c.member_id, guild_agreements.c.covers)
        .join(guild_agreements, guild_agreements.c.guild_id == guild_members.c.guild_id)
        .where(guild_members.c.member_id.in_(sorted(roles_by_party)))).all()
    for m in rows:
        if roles_by_party[m.member_id] & set(json.loads(m.covers)):
            guilds.add(m.guild_id)
    return sorted(guilds)


def cosigners_needed(conn: Connection, lic: StoredRow) -> list[str]:
    """The guilds a license needs: those named at its grant, and any guild that covers a member
    credited since on a work holding one of the bundle's assets (no license on a bundle holding
    a credited asset is in force without the covering guild)."""
    return sorted(set(json.loads(lic.required_cosigners)) | set(required_cosigners(conn,
                                                                                   lic.bundle_id)))


def check_policy_binds(policy: Policy, conn: Connection, bundle_id: str, licensor: str,
                       licensee: str) -> None:
    """The policy must be an Agreement between these parties about this bundle."""
    if policy.type != "Agreement":
        raise InvalidPolicy(f"a license must be an ODRL Agreement, not {policy.type}", "/@type",
                            'set "@type": "Agreement"')
    if policy.assigner != {party_iri(licensor)}:
        raise InvalidPolicy(f"assigner must be {party_iri(licensor)} (the bundle's owner)",
                            "/assigner")
    if policy.assignee != {party_iri(licensee)}:
        raise InvalidPolicy(f"assignee must be {party_iri(licensee)} (the licensee)", "/assignee")
    allowed = {bundle_iri(bundle_id)} | {work_iri(w) for w in conn.scalars(
        select(bundle_works.c.work_id).where(bundle_works.c.bundle_id == bundle_id))}
    for rule in (*policy.permissions, *policy.prohibitions):
        if not rule.targets:
            raise InvalidPolicy(f"has no target; name {bundle_iri(bundle_id)}",
                                rule.pointer + "/target")
        extra = sorted(rule.targets - allowed)
        if extra:
            raise InvalidPolicy(f"target {extra[0]} is not this bundle or one of its works; "
                                f"use {bundle_iri(bundle_id)}", rule.pointer + "/target")


# ---------------------------------------------------------------------------------------------
# Appliers
# ---------------------------------------------------------------------------------------------

def _party(conn: Connection, party_id: str) -> Any:
    return conn.execute(select(parties.c.id, parties.c.kind, parties.c.name)
                        .where(parties.c.id == party_id)).first()


@applier("guild.agreement")
@each_statement
def _apply_agreement(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    guild = _party(conn, b["guild"])
    if guild is None or guild.kind != "guild":
        raise PolicyDenied(f"{b['guild']} is not a registered guild; only a guild registers a "
                           "collective agreement")
    if conn.execute(select(guild_agreements.c.id)
                    .where(guild_agreements.c.id == b["id"])).first() is not None:
        raise Conflict(f"agreement {b['id']} already exists")
    conn.execute(guild_agreements.insert().values(
        id=b["id"], guild_id=b["guild"], name=b["name"], covers=json.dumps(sorted(b["covers"])),
        fund_share=b["fund_share"], effective=b.get("effective"), expires=b.get("expires"),
        log_index=a.index))
    return {"id": b["id"]}


@applier("guild.member")
@each_statement
def _apply_member(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    guild = _party(conn, b["guild"])
    if guild is None or guild.kind != "guild":
        raise PolicyDenied(f"{b['guild']} is not a registered guild")
    member = _party(conn, b["member"])
    if member is None:
        raise NotFound(f"party {b['member']} is not registered")
    if conn.execute(select(guild_members.c.member_id).where(
            guild_members.c.guild_id == b["guild"],
            guild_members.c.member_id == b["member"])).first() is not None:
        raise Conflict(f"{b['member']} is already a member of {b['guild']}")
    conn.execute(guild_members.insert().values(guild_id=b["guild"], member_id=b["member"],
                                               since=b.get("since"), log_index=a.index))
    return {"guild": b["guild"], "member": b["member"]}


@applier("license.granted")
@each_statement
def _apply_grant(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    bundle = conn.execute(select(bundles.c.id, bundles.c.owner_id)
                          .where(bundles.c.id == b["bundle"])).first()
    if bundle is None:
        raise NotFound(f"bundle {b['bundle']} is not registered")
    if bundle.owner_id != b["licensor"]:
        raise PolicyDenied(f"only the bundle's owner {bundle.owner_id} may license "
                           f"{b['bundle']}, not {b['licensor']}")
    licensee = _party(conn, b["licensee"])
    if licensee is None or licensee.kind != "developer":
        raise BadInput(f"licensee {b['licensee']} must be a registered developer")
    if conn.execute(select(licenses.c.id).where(licenses.c.id == b["id"])).first():
        raise Conflict(f"license {b['id']} already exists")
    if "policy" not in b:  # sealed, replayed without its body: the public facts only
        return _grant_without_terms(conn, a)
    policy = parse_policy(b["policy"])
    check_policy_binds(policy, conn, b["bundle"], b["licensor"], b["licensee"])
    need = required_cosigners(conn, b["bundle"])
    if sorted(b["required_cosigners"]) != need:
        raise Conflict(f"required_cosigners must be {need} (guilds whose members are credited "
                       "on the bundle in roles they cover)")
    conn.execute(licenses.insert().values(
        id=b["id"], bundle_id=b["bundle"], licensor_id=b["licensor"],
        licensee_id=b["licensee"], policy=json.dumps(b["policy"], sort_keys=True),
        policy_uid=policy.uid, required_cosigners=json.dumps(need), log_index=a.index,
        granted_at=a.time))
    return {"id": b["id"], "required_cosigners": need, "policy_uid": policy.uid}


def _grant_without_terms(conn: Connection, a: Accepted) -> dict[str, Any]:
    """A sealed license replayed without its body (a rebuild from tiles, a replica): who
    licensed which bundle to whom and when stands; its terms read "body unavailable"."""
    b = a.statement.body
    conn.execute(licenses.insert().values(
        id=b["id"], bundle_id=b["bundle"], licensor_id=b["licensor"],
        licensee_id=b["licensee"], policy=SEALED_TERMS, policy_uid="",
        required_cosigners=json.dumps(sorted(b["required_cosigners"])), log_index=a.index,
        granted_at=a.time))
    return {"id": b["id"], "required_cosigners": sorted(b["required_cosigners"])}


#: ``licenses.policy`` of a sealed license whose terms this registry does not hold.
SEALED_TERMS = "null"


def _registered_license(conn: Connection, license_id: str) -> Any:
    lic = conn.execute(select(licenses).where(licenses.c.id == license_id)).first()
    if lic is None:
        raise NotFound(f"license {license_id} is not registered; `reelrights license list` "
                       "shows the licenses")
    return lic


@applier("license.cosigned")
@each_statement
def _apply_cosign(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    lic = _registered_license(conn, b["license"])
    if b["guild"] not in cosigners_needed(conn, lic):
        raise PolicyDenied(f"{b['guild']} is not a required co-signer of {b['license']}; none "
                           "of its covered members is credited")
    agr = conn.execute(select(guild_agreements.c.guild_id)
                       .where(guild_agreements.c.id == b["agreement"])).first()
    if agr is None or agr.guild_id != b["guild"]:
        raise BadInput(f"agreement {b['agreement']} is not {b['guild']}'s agreement")
    if lic.revoked_at is not None:
        raise Conflict(f"license {b['license']} was revoked; it cannot be co-signed")
    if conn.execute(select(license_cosigns.c.guild_id).where(
            license_cosigns.c.license_id == b["license"],
            license_cosigns.c.guild_id == b["guild"])).first():
        raise Conflict(f"{b['guild']} already co-signed {b['license']}")
    conn.execute(license_cosigns.insert().values(
        license_id=b["license"], guild_id=b["guild"], agreement_id=b["agreement"],
        log_index=a.index, cosigned_at=a.time))
    return {"license": b["license"], "guild": b["guild"]}


@applier("license.revoked")
@each_statement
def _apply_revoke(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    lic = _registered_license(conn, b["license"])
    if a.statement.actor != lic.licensor_id:
        raise PolicyDenied(f"only the licensor {lic.licensor_id} may revoke {b['license']}")
    if lic.revoked_at is not None:
        raise Conflict(f"license {b['license']} was already revoked at {lic.revoked_at}")
    conn.execute(licenses.update().where(licenses.c.id == b["license"]).values(
        revoked_at=a.time, revoked_index=a.index, revoke_reason=b["reason"]))
    return {"license": b["license"], "revoked_at": a.time}


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------

def add_agreement(home: Home, ledger: Ledger, guild: str, name: str, covers: list[str],
                  fund_share: str, effective: str | None = None,
                  expires: str | None = None) -> Receipt:
    with ledger.db.read() as conn:
        guild_id = resolve_party(conn, guild).id
    body: dict[str, Any] = {"id": new_id("agreement"), "guild": guild_id, "name": name,
                            "covers": sorted(set(covers)), "fund_share": fund_share}
    if effective:
        body["effective"] = effective
    if expires:
        body["expires"] = expires
    return submit_as(home, ledger, "guild.agreement", guild_id, body)


def add_member(home: Home, ledger: Ledger, guild: str, member: str,
               since: str | None = None) -> Receipt:
    with ledger.db.read() as conn:
        guild_id = resolve_party(conn, guild).id
        member_id = resolve_party(conn, member).id
    body = {"guild": guild_id, "member": member_id, **({"since": since} if since else {})}
    return submit_as(home, ledger, "guild.member", guild_id, body)


def grant_license(home: Home, ledger: Ledger, bundle: str, licensee: str,
                  policy: dict[str, Any], *, sealed: bool = False) -> Receipt:
    from .bundles import resolve_bundle

    with ledger.db.read() as conn:
        b = resolve_bundle(conn, bundle)
        licensee_id = resolve_party(conn, licensee).id
        parsed = parse_policy(policy)  # refuse a bad policy before anything is signed
        check_policy_binds(parsed, conn, b.id, b.owner_id, licensee_id)
        need = required_cosigners(conn, b.id)
    body = {"id": new_id("license"), "bundle": b.id, "licensor": b.owner_id,
            "licensee": licensee_id, "policy": policy, "required_cosigners": need}
    return submit_as(home, ledger, "license.granted", b.owner_id, body, sealed=sealed)


def cosign_body(db: Database, license_ref: str, guild: str) -> dict[str, Any]:
    """The ``license.cosigned`` body the guild signs (its latest agreement); the CLI and the
    browser sign this same body."""
    with db.read() as conn:
        lic = resolve_license(conn, license_ref)
        guild_id = resolve_party(conn, guild).id
        agr = conn.execute(select(guild_agreements.c.id).where(
            guild_agreements.c.guild_id == guild_id).order_by(
            guild_agreements.c.log_index.desc())).first()
    if agr is None:
        raise NotFound(f"{guild_id} has no collective agreement; register one with "
                       "`reelrights guild agreement add` first")
    return {"license": lic.id, "guild": guild_id, "agreement": agr.id}


def cosign_license(home: Home, ledger: Ledger, license_ref: str, guild: str) -> Receipt:
    body = cosign_body(ledger.db, license_ref, guild)
    return submit_as(home, ledger, "license.cosigned", body["guild"], body)


def revoke_license(home: Home, ledger: Ledger, license_ref: str, reason: str) -> Receipt:
    with ledger.db.read() as conn:
        lic = resolve_license(conn, license_ref)
    return submit_as(home, ledger, "license.revoked", lic.licensor_id,
                     {"license": lic.id, "reason": reason})


# ---------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------

def _licenses_with_names() -> Select[tuple[object, ...]]:
    licensor, licensee = parties.alias("licensor"), parties.alias("licensee")
    return (select(licenses, bundles.c.name.label("bundle_name"),
                   bundles.c.version.label("bundle_version"),
                   licensor.c.name.label("licensor_name"), licensee.c.name.label("licensee_name"))
            .join(bundles, bundles.c.id == licenses.c.bundle_id, isouter=True)
            .join(licensor, licensor.c.id == licenses.c.licensor_id, isouter=True)
            .join(licensee, licensee.c.id == licenses.c.licensee_id, isouter=True))


def _load_license(conn: Connection, row: StoredRow) -> License:
    return License.from_row(row, license_standing(conn, row))


#: How the resolver finds a license (by id) and reads it: with its bundle's and parties' names,
#: and its standing now.
LICENSE: Kind[License] = Kind(
    noun="license", table=licenses, load=_load_license, source=_licenses_with_names,
    missing="no license {ref!r}; `reelrights license list` shows them")


def resolve_license(conn: Connection, ref: str) -> License:
    """A license by id, with its standing now."""
    return resolve(conn, LICENSE, ref)


class LicenseStatus(TypedDict):
    """A license's standing at one time (the policy engine and the audits judge by it)."""

    in_force: bool
    missing_cosigners: list[str]
    revoked: bool
    revoked_at: str | None
    revoke_reason: str | None
    cosigned_by: list[str]


def license_status(conn: Connection, lic: StoredRow, at_time: str | None = None, *,
                   need: list[str] | None = None) -> LicenseStatus:
    """Whether the license is in force at ``at_time`` (RFC 3339; default: now), and why not
    (``need``: its :func:`cosigners_needed`, when the caller has them already)."""
    need = cosigners_needed(conn, lic) if need is None else need
    signed = {r.guild_id: r for r in conn.execute(
        select(license_cosigns).where(license_cosigns.c.license_id == lic.id))}
    missing = [g for g in need if g not in signed or (at_time and signed[g].cosigned_at > at_time)]
    revoked = lic.revoked_at is not None and (at_time is None or lic.revoked_at <= at_time)
    return {"in_force": not missing and not revoked, "missing_cosigners": missing,
            "revoked": revoked, "revoked_at": lic.revoked_at, "revoke_reason": lic.revoke_reason,
            "cosigned_by": sorted(signed)}


def license_standing(conn: Connection, lic: StoredRow) -> LicenseStanding:
    """The standing of the license row ``lic`` now (what ``license list`` shows)."""
    need = cosigners_needed(conn, lic)
    status = license_status(conn, lic, need=need)
    return LicenseStanding(tuple(need), status["in_force"],
                           tuple(status["missing_cosigners"]), status["revoked"],
                           tuple(status["cosigned_by"]))


def list_licenses(db: Database, licensee: str | None = None,
                  bundle: str | None = None, *, licensor: str | None = None) -> list[License]:
    with db.read() as conn:
        where = []
        if licensee:
            where.append(licenses.c.licensee_id == resolve_party(conn, licensee).id)
        if licensor:
            where.append(licenses.c.licensor_id == resolve_party(conn, licensor).id)
        if bundle:
            where.append(licenses.c.bundle_id == bundle)
        return find_many(conn, LICENSE, *where)


def license_ids(db: Database, *, licensor: str | None = None,
                licensee: str | None = None) -> list[str]:
    """The ids of the licenses ``licensor`` granted or ``licensee`` holds, in log order (for a
    page that reads each one as its reader may see it: no standing worked out here)."""
    with db.read() as conn:
        where = []
        if licensor:
            where.append(licenses.c.licensor_id == resolve_party(conn, licensor).id)
        if licensee:
            where.append(licenses.c.licensee_id == resolve_party(conn, licensee).id)
        return list(conn.scalars(select(licenses.c.id).where(*where)
                                 .order_by(licenses.c.log_index)))


def license_detail(db: Database, ref: str, *, public: bool = False) -> LicenseDetail:
    """The license, its policy, and its full history from the log (grant, co-signs, revocation).
    A sealed license's policy is shown when this registry holds its body, unless ``public``
    (a read for anyone: the terms then stay sealed; docs/sealed.md)."""
    from ..sealed.store import AVAILABLE, body_state_at

    with db.read() as conn:
        row = resolve_row(conn, LICENSE, ref)
        sealed = body_state_at(conn, row.log_index)
        lic = LICENSE.to_record(conn, row)
        indices = [lic.log_index, *[r.log_index for r in conn.execute(
            select(license_cosigns.c.log_index).where(license_cosigns.c.license_id == lic.id))]]
        if lic.revoked_index is not None:
            indices.append(lic.revoked_index)
        history = tuple(LogEvent.from_row(r) for r in conn.execute(
            select(log_entries.c.idx, log_entries.c.type, log_entries.c.actor, log_entries.c.time)
            .where(log_entries.c.idx.in_(indices)).order_by(log_entries.c.idx)))
    policy = json.loads(row.policy)
    if sealed == AVAILABLE:
        sealed = "sealed"
        if public:
            policy = None
    return widen(lic, LicenseDetail, policy=policy, history=history, sealed=sealed)
