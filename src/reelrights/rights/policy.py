"""The policy engine: may this licensee do this with this content, here, now?

The engine answers allow or deny for a licensee, an action and one asset, work or bundle, in a
context (model family, date, territory, performer, production, purpose). It returns the chain of
reasons:

1. **Where the content is licensed.** It finds the bundles that contain the item and the
   licenses on them held by the licensee. No such license means deny (closed world).
2. **Whether each license is in force.** It checks that every required guild has co-signed,
   by the date asked about, and that the license was not revoked by then.
3. **What the license's terms say.** It evaluates the ODRL policy:
   :func:`reelrights.core.odrl.evaluate`, with duties fulfilled through :class:`_Duties`, which
   looks each one up: ``compensate`` in the fund's record of the license's share,
   ``attribute`` in the credits and ownership of the bundle's works, ``obtainConsent`` in the
   consents.
4. **Ownership disputes.** An open dispute over any asset of the item suspends every license
   of it, licenses in force included; a decided one suspends the losing party's licenses
   (:mod:`.disputes`). The reasons name the dispute.
5. **Declared preferences.** A use that a rights holder's recorded preference disallows
   (AIPREF, Content Signals, RSL, IPTC, CAWG, TDMRep: :mod:`reelrights.preferences`) is denied
   unless the permitting license is a contract of that rights holder (granted or co-signed by
   it): contracts override preferences, preferences bind everyone else.
6. **The performer's own consent.** A voice or likeness use, including a sound-alike or
   look-alike of a named performer, needs that performer's live consent, whatever any license
   says (:mod:`reelrights.core.labor_rules`).

:func:`check` answers for one item. :func:`check_manifest` answers for many items that share a
context. It caches one decision per distinct set of bundles, so a million items cost about a
million dictionary look-ups plus one evaluation per bundle set. Every deny carries at least one
reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, select

from ..core.iri import asset_iri, bundle_iri, id_from_iri, model_family_iri, party_iri, work_iri
from ..core.odrl import Duty, DutyResult, Request, evaluate, parse_policy
from ..errors import BadInput, NotFound
from ..registry.resolve import resolve_party, resolve_work
from ..store.dispute_tables import disputes
from ..store.fund_tables import fund_terms
from ..store.tables import (
    bundle_assets,
    bundle_works,
    credits,
    licenses,
    parties,
    work_assets,
    works,
)
from .disputes import Block, dispute_blocks
from .licensing import SEALED_TERMS, LicenseStatus, license_status

if TYPE_CHECKING:
    from .consent import ConsentCheck

__all__ = ["CheckContext", "Verdict", "check", "check_manifest"]

ACTIONS = ("train", "fineTune", "generate", "ground", "style", "synthesizeVoice",
           "synthesizeLikeness")


@dataclass(frozen=True)
class CheckContext:
    licensee: str                      # party id
    action: str
    model_family: str | None = None
    on: date | None = None
    territory: str | None = None
    performer: str | None = None       # party id
    production: str | None = None
    purpose: str | None = None

    @property
    def day(self) -> date:
        return self.on or datetime.now(UTC).date()

    @property
    def end_of_day(self) -> str:
        return f"{self.day.isoformat()}T23:59:59.999999Z"


@dataclass
class Verdict:
    allowed: bool
    item: str
    reasons: list[str] = field(default_factory=list)
    license: str | None = None
    consent: str | None = None
    #: "Affected by" marks: facts logged after a verdict already logged (a certificate, a run's
    #: commitment) over this item, that would have changed it (:func:`reelrights.evidence.marks.affected_by`).
    affected_by: list[dict[str, Any]] = field(default_factory=list)
    #: Statement disputes standing (open or upheld) over facts the verdict relied on: a party
    #: disowns a statement logged in its name (docs/keys.md). Shown, not decided on.
    disputed: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"allowed": self.allowed, "decision": "allow" if self.allowed else "deny",
               "item": self.item, "license": self.license, "consent": self.consent,
               "reasons": self.reasons}
        if self.affected_by:
            out["affected_by"] = self.affected_by
        if self.disputed:
            out["disputed"] = self.disputed
        return out


class _Duties:
    """Fulfilment of a permission's duties, decided from the registry."""

    def __init__(self, conn: Connection, ctx: CheckContext, license_id: str) -> None:
        self.conn, self.ctx, self.license_id = conn, ctx, license_id
        self.consents: list[str] = []

    def fulfilled(self, duty: Duty, request: Request) -> DutyResult:
        if duty.name == "compensate":
            return _compensation_recorded(self.conn, self.license_id, duty)
        if duty.name == "attribute":
            return _attribution_recorded(self.conn, self.license_id, duty)
        if duty.name == "obtainConsent":
            performer = id_from_iri(duty.consenting_party or "", "party")
            if performer is None:
                return DutyResult(False, f"obtainConsent names {duty.consenting_party}, which is "
                                         "not a registered party")
            result = _consent(self.conn, self.ctx, performer)
            if result.ok and result.consent_id:
                self.consents.append(result.consent_id)
            return DutyResult(result.ok, "; ".join(result.reasons))
        return DutyResult(False, f"duty {duty.name} is not supported")


#: The creative fund as ``compensatedParty`` (the profile's example); absent means the fund too.
CREATIVE_FUND_IRI = "urn:reelrights:party:creative-fund"


def _compensation_recorded(conn: Connection, license_id: str, duty: Duty) -> DutyResult:
    """``compensate`` holds when the fund will pay what the duty says: the compensated party is
    the creative fund (or a registered fund party), and the fund share the fund records for the
    license (its allocation's share, docs/fund.md R-FUND) is this duty's share."""
    from ..fund.allocation import _compensate_share

    lic = conn.execute(select(licenses.c.policy).where(licenses.c.id == license_id)).first()
    if lic is None:
        return DutyResult(False, f"compensate not recorded: license {license_id} is not granted")
    party = duty.compensated_party
    if party not in (None, CREATIVE_FUND_IRI):
        pid = id_from_iri(party, "party")
        kind = conn.scalar(select(parties.c.kind).where(parties.c.id == pid)) if pid else None
        if kind != "fund":
            return DutyResult(False, f"compensatedParty {party} is not the creative fund or a "
                                     "registered fund party, so no fund records its share")
    recorded = _compensate_share(lic.policy)
    if duty.share is None or recorded != duty.share:
        pct = float(recorded * 100)
        return DutyResult(False, f"the fund records {pct:g}% for {license_id} (the training "
                                 f"permission's compensate duty), not the {duty.fund_share}% "
                                 "this duty requires")
    terms = conn.scalar(select(fund_terms.c.log_index).where(fund_terms.c.license_id == license_id)
                        .order_by(fund_terms.c.log_index.desc()).limit(1))
    how = f"fund.terms at log {terms}" if terms is not None else "the default fund terms"
    return DutyResult(True, f"the fund records {duty.fund_share}% of revenue for {license_id} "
                            f"({how})")


def _attribution_recorded(conn: Connection, license_id: str, duty: Duty) -> DutyResult:
    """``attribute`` holds when the attributed party (default: the licensor) is recorded on the
    content: credited on a work of the bundle, or the registered owner of one."""
    lic = conn.execute(select(licenses.c.bundle_id, licenses.c.licensor_id)
                       .where(licenses.c.id == license_id)).first()
    if lic is None:
        return DutyResult(False, f"attribute not recorded: license {license_id} is not granted")
    party = id_from_iri(duty.attributed_party, "party") if duty.attributed_party else \
        lic.licensor_id
    if party is None:
        return DutyResult(False, f"attributedParty {duty.attributed_party} is not a registered "
                                 "party, so no credit can record it")
    in_bundle = select(bundle_works.c.work_id).where(bundle_works.c.bundle_id == lic.bundle_id)
    credit = conn.execute(select(credits.c.work_id, credits.c.role).where(
        credits.c.party_id == party, credits.c.work_id.in_(in_bundle)).limit(1)).first()
    if credit is not None:
        return DutyResult(True, f"{party} is credited as {credit.role} on {credit.work_id}")
    owned = conn.scalar(select(works.c.id).where(works.c.owner_id == party,
                                                 works.c.id.in_(in_bundle)).limit(1))
    if owned is not None:
        return DutyResult(True, f"{party} is the registered owner of {owned}")
    return DutyResult(False, f"{party} is neither credited on nor the owner of any work in "
                             f"bundle {lic.bundle_id}; credit it with `reelrights work credit`")


#: The consent each action needs; generate naming a performer: either use counts.
_CONSENT_KINDS: dict[str, tuple[Literal["voice", "likeness"], ...]] = {
    "synthesizeVoice": ("voice",), "synthesizeLikeness": ("likeness",)}


def _consent(conn: Connection, ctx: CheckContext, performer: str) -> ConsentCheck:
    from .consent import ConsentCheck, find_consent
    from .strikes import strikes_of_member

    struck = strikes_of_member(conn, performer, ctx.day)
    if struck:  # a striking guild's members' consents are not in force (SAG-AFTRA's rule)
        return ConsentCheck(False, None, None, tuple(
            f"{s.message}: no consent of its member {performer} is in force for new runs "
            "and generations while it lasts" for s in struck))

    kinds = _CONSENT_KINDS.get(ctx.action, ("voice", "likeness"))
    results = [find_consent(conn, performer_id=performer, kind=kind, on=ctx.day,
                            production=ctx.production, model_family=ctx.model_family,
                            licensee_id=ctx.licensee, territory=ctx.territory, medium=None)
               for kind in kinds]
    return next((r for r in results if r.ok), results[0])


def _request(ctx: CheckContext, targets: frozenset[str]) -> Request:
    return Request(ctx.action, next(iter(sorted(targets))), targets=targets,
                   assignee=party_iri(ctx.licensee), date_time=ctx.day,
                   spatial=ctx.territory,
                   model_family=model_family_iri(ctx.model_family) if ctx.model_family else None,
                   performer=party_iri(ctx.performer) if ctx.performer else None,
                   production=ctx.production, purpose=ctx.purpose)


def _decide(conn: Connection, ctx: CheckContext, bundle_ids: frozenset[str],
            targets: frozenset[str], item: str, cache: dict[str, tuple],
            blocks: tuple[Block, ...] = (), works_: frozenset[str] = frozenset()) -> Verdict:
    """The verdict for one item. ``blocks`` are the disputes over the item's assets: an open
    one suspends every license of them, a decided one the losing party's licenses. ``works_``
    are the works the item holds, whose declared preferences apply."""
    reasons: list[str] = []
    # The performer's own consent comes first: no license can waive it.
    from ..core.labor_rules import consent_required

    consent_id = None
    needed, why = consent_required(ctx.action, ctx.performer)
    if needed:
        if ctx.performer is None:
            return Verdict(False, item, [why])
        result = _consent(conn, ctx, ctx.performer)
        reasons.append(why)
        reasons.extend(result.reasons)
        if not result.ok:
            return Verdict(False, item, reasons)
        consent_id = result.consent_id
    reasons.extend(dict.fromkeys(b.message for b in blocks if b.party is None))
    if not bundle_ids:
        return Verdict(False, item, [*reasons, f"{item} is in no bundle licensed to "
                                                f"{ctx.licensee}: no license, no permission"])
    held = _licenses(conn, ctx.licensee, bundle_ids, cache)
    if not held:
        reasons.append(f"{ctx.licensee} holds no license on {_bundles_text(bundle_ids)}, the "
                       f"bundles holding {item}: no license, no permission (closed world)")
    for lic in held:
        suspended = [b for b in blocks if b.blocks(lic.licensor_id)]
        if suspended:
            reasons.extend(b.message for b in suspended if b.party is not None)
            reasons.append(f"license {lic.id} (log {lic.log_index}) is suspended: disputed "
                           f"({', '.join(dict.fromkeys(b.dispute for b in suspended))})")
            continue
        struck = _strikes(conn, lic, ctx, cache)
        if struck:
            reasons.extend(f"license {lic.id} (log {lic.log_index}) is not in force: {s.message};"
                           " it needs that guild's co-signature, and no license covering the "
                           "guild's members' work is in force while it lasts" for s in struck)
            continue
        status = license_status(conn, lic, ctx.end_of_day)
        if lic.granted_at > ctx.end_of_day:
            reasons.append(f"license {lic.id} (log {lic.log_index}) was granted after "
                           f"{ctx.day}")
            continue
        if status["revoked"]:
            reasons.append(f"license {lic.id} (log {lic.log_index}) was revoked at "
                           f"{status['revoked_at']}: {status['revoke_reason']}")
            continue
        if status["missing_cosigners"]:
            reasons.append(f"license {lic.id} (log {lic.log_index}) is not in force: missing "
                           f"co-signature of {', '.join(status['missing_cosigners'])}")
            continue
        if lic.policy == SEALED_TERMS:
            reasons.append(f"license {lic.id} (log {lic.log_index}) is sealed and this registry "
                           "holds no body for it (body unavailable or erased): its terms cannot "
                           "be judged here")
            continue
        policy = cache.setdefault(f"policy:{lic.id}", (parse_policy(json.loads(lic.policy)),))[0]
        duties = _Duties(conn, ctx, lic.id)
        decision = evaluate(policy, _request(ctx, targets | {bundle_iri(lic.bundle_id)}), duties)
        lines = [f"license {lic.id} (log {lic.log_index}, policy {policy.uid}): {r}"
                 for r in decision.reasons]
        if decision.allowed:
            standing = _preferences_against(conn, ctx, lic, status, works_, cache)
            if standing is not None:
                reasons.extend([*lines, *standing])
                continue
            lines += cache.get(f"pref-ok:{lic.id}", ())
            return Verdict(True, item, [*reasons, *lines], lic.id,
                           consent_id or (duties.consents[0] if duties.consents else None))
        reasons.extend(lines or [f"license {lic.id} (log {lic.log_index}, policy {policy.uid}) "
                                 f"permits no {ctx.action} here"])
    return Verdict(False, item, reasons)


def _strikes(conn: Connection, lic: Any, ctx: CheckContext, cache: dict) -> list:
    """The strikes on ``ctx.day`` of the guilds ``lic`` needs (cached per license)."""
    from .licensing import cosigners_needed
    from .strikes import strikes_of_guilds

    key = f"strikes:{lic.id}"
    if key not in cache:
        cache[key] = strikes_of_guilds(conn, cosigners_needed(conn, lic), ctx.day)
    return cache[key]


def _preferences_against(conn: Connection, ctx: CheckContext, lic: Any, status: LicenseStatus,
                         works_: frozenset[str], cache: dict[str, Any]) -> list[str] | None:
    """None when no declared preference stands against the use under ``lic``; else the reasons
    it is denied. A preference gives way to a license of its declarer (granted or co-signed
    by it); the lines saying so are left in ``cache["pref-ok:<license>"]``."""
    if not works_:
        return None
    from ..preferences.declared import preference_denials

    denials = preference_denials(conn, ctx.action, works_, ctx.end_of_day)
    contract = {lic.licensor_id, *status["cosigned_by"]}
    standing = [d for d in denials if d.preference.declarer not in contract]
    cache[f"pref-ok:{lic.id}"] = tuple(
        f"preference: {d.message()}; overridden by license {lic.id}, a contract of "
        f"{d.preference.declarer} (contracts override preferences)" for d in denials
        if d.preference.declarer in contract)
    if not standing:
        return None
    return [f"preference: {d.message()}, which disallows {ctx.action}; license {lic.id} is a "
            f"contract of {lic.licensor_id}, not of {d.preference.declarer}, so it does not "
            "override that preference (only the declarer's own license or co-signature does)"
            for d in standing]


def _bundles_text(bundle_ids: frozenset[str]) -> str:
    ids = sorted(bundle_ids)
    return f"bundle {ids[0]}" if len(ids) == 1 else f"bundles {', '.join(ids)}"


def _licenses(conn: Connection, licensee: str, bundle_ids: frozenset[str], cache: dict) -> list:
    key = f"licenses:{licensee}"
    if key not in cache:
        cache[key] = conn.execute(select(licenses).where(licenses.c.licensee_id == licensee)
                                  .order_by(licenses.c.log_index)).all()
    return [lic for lic in cache[key] if lic.bundle_id in bundle_ids]


def resolve_context(conn: Connection, *, licensee: str, action: str,
                    model_family: str | None = None, on: date | None = None,
                    territory: str | None = None, performer: str | None = None,
                    production: str | None = None, purpose: str | None = None) -> CheckContext:
    if action not in ACTIONS:
        raise BadInput(f"--action {action!r} is not one of {', '.join(ACTIONS)}")
    return CheckContext(resolve_party(conn, licensee).id, action, model_family, on,
                        territory.upper() if territory else None,
                        resolve_party(conn, performer).id if performer else None,
                        production, purpose)


def check(conn: Connection, ctx: CheckContext, *, asset: str | None = None,
          work: str | None = None, bundle: str | None = None) -> Verdict:
    """Allow or deny one asset (SHA-256), work or bundle, with the chain of reasons, and the
    "affected by" marks that late facts left on logged verdicts over it."""
    verdict, shas, bundle_ids = _check(conn, ctx, asset=asset, work=work, bundle=bundle)
    from ..evidence.marks import affected_by

    marks = affected_by(conn, assets=shas, bundles_=bundle_ids,
                        licenses_=[verdict.license] if verdict.license else [])
    if bundle is None:  # an asset or a work: marks over its own assets (or over no asset)
        mine = set(shas)
        marks = [m for m in marks if m.get("asset") is None or m["asset"] in mine]
    verdict.affected_by = marks
    from ..identity.statement_disputes import disputes_relied_on

    verdict.disputed = disputes_relied_on(conn, license_id=verdict.license,
                                          consent_id=verdict.consent, shas=shas,
                                          bundle_ids=bundle_ids)
    return verdict


def _check(conn: Connection, ctx: CheckContext, *, asset: str | None, work: str | None,
           bundle: str | None) -> tuple[Verdict, list[str], frozenset[str]]:
    if sum(x is not None for x in (asset, work, bundle)) != 1:
        raise BadInput("name exactly one of --asset, --work or --bundle")
    at_time = ctx.end_of_day
    if asset is not None:
        sha = asset.lower()
        bundle_ids = frozenset(conn.scalars(select(bundle_assets.c.bundle_id)
                                            .where(bundle_assets.c.sha256 == sha)))
        if not bundle_ids and conn.execute(select(work_assets.c.sha256)
                                           .where(work_assets.c.sha256 == sha)).first() is None:
            raise NotFound(f"asset {asset} is not registered; check the SHA-256")
        work_ids = list(conn.scalars(select(work_assets.c.work_id)
                                     .where(work_assets.c.sha256 == sha)))
        targets = frozenset({asset_iri(sha), *(work_iri(w) for w in work_ids)})
        return _decide(conn, ctx, bundle_ids, targets, f"asset {sha}", {},
                       tuple(dispute_blocks(conn, [sha], at_time)),
                       frozenset(work_ids)), [sha], bundle_ids
    if work is not None:
        w = resolve_work(conn, work)
        bundle_ids = frozenset(conn.scalars(select(bundle_works.c.bundle_id)
                                            .where(bundle_works.c.work_id == w.id)))
        shas = list(conn.scalars(select(work_assets.c.sha256)
                                 .where(work_assets.c.work_id == w.id)))
        return _decide(conn, ctx, bundle_ids, frozenset({work_iri(w.id)}), f"work {w.id}", {},
                       tuple(dispute_blocks(conn, shas, at_time)),
                       frozenset({w.id})), shas, bundle_ids
    from .bundles import resolve_bundle

    assert bundle is not None  # exactly one of the three is named (checked above)
    row = resolve_bundle(conn, bundle)  # an id, NAME@VERSION, or NAME (its latest version)
    shas = list(conn.scalars(select(bundle_assets.c.sha256)
                             .where(bundle_assets.c.bundle_id == row.id)))
    held = frozenset(conn.scalars(select(bundle_works.c.work_id)
                                  .where(bundle_works.c.bundle_id == row.id)))
    return (_decide(conn, ctx, frozenset({row.id}), frozenset({bundle_iri(row.id)}),
                    f"bundle {row.id}", {}, tuple(dispute_blocks(conn, shas, at_time)), held),
            shas, frozenset({row.id}))


def licensed_membership(conn: Connection, licensed: list[str]
                        ) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Which of the ``licensed`` bundles hold each asset: ``first`` maps an asset to one of
    them, ``several`` (few) to all of them when it is in more than one. Most assets sit in one
    bundle: mapping them to that bundle's id (a shared string) and keeping a set only for the
    few in several means a million members cost no million small sets."""
    first: dict[str, str] = {}
    several: dict[str, set[str]] = {}
    if licensed:
        rows = conn.execute(select(bundle_assets.c.sha256, bundle_assets.c.bundle_id)
                            .where(bundle_assets.c.bundle_id.in_(licensed)))
        setdefault = first.setdefault
        for sha, bundle_id in rows:
            if setdefault(sha, bundle_id) != bundle_id:
                several.setdefault(sha, {first[sha]}).add(bundle_id)
    return first, several


def check_manifest(conn: Connection, ctx: CheckContext,
                   hashes: Iterable[str]) -> Iterator[tuple[str, Verdict]]:
    """``(sha256, verdict)`` for many assets in one context, in input order.

    Items in the same set of licensed bundles share one :class:`Verdict` object: the decision
    and its reasons are the same for all of them.
    """
    cache: dict[Any, Any] = {}
    first, several = licensed_membership(conn, sorted({lic.bundle_id for lic in conn.execute(
        select(licenses.c.bundle_id).where(licenses.c.licensee_id == ctx.licensee))}))
    # Disputed assets (few) get a verdict of their own, with their disputes.
    blocked: dict[str, list[Block]] = {}
    for b in dispute_blocks(conn, conn.scalars(select(disputes.c.asset).union(
            select(disputes.c.first_asset))), ctx.end_of_day):
        blocked.setdefault(b.sha256, []).append(b)
    # Assets of works someone declared a preference about (few) get a verdict of their own.
    from ..preferences.declared import preferred_assets

    preferred = preferred_assets(conn)
    keys: dict[str | frozenset[str], frozenset[str]] = {}
    by_key: dict[Any, Verdict] = {}
    get = first.get
    for sha in hashes:
        key: Any = get(sha)
        if key is not None and several and sha in several:
            key = frozenset(several[sha])
        if (blocked and sha in blocked) or (preferred and sha in preferred):
            yield sha, _decide(conn, ctx, _bundle_set(key), _targets(key), f"asset {sha}", cache,
                               tuple(blocked.get(sha, ())),
                               frozenset(preferred.get(sha, ())))
            continue
        verdict = by_key.get(key)
        if verdict is None:
            bset = _bundle_set(key)
            keys[key] = bset
            label = ", ".join(sorted(bset)) or "no licensed bundle"
            verdict = _decide(conn, ctx, bset, _targets(key), label, cache)
            by_key[key] = verdict
        yield sha, verdict


def _bundle_set(key: Any) -> frozenset[str]:
    return frozenset() if key is None else key if isinstance(key, frozenset) else frozenset({key})


def _targets(key: Any) -> frozenset[str]:
    return frozenset(bundle_iri(b) for b in _bundle_set(key)) or frozenset({"urn:reelrights:none"})
