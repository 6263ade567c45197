"""The policy engine: may this licensee do this with this content, here, now?

The engine answers allow or deny for a licensee, an action and one asset, work or bundle, in a
context (model family, date, territory, performer, production, purpose). It returns the chain of
reasons:

1. **Where the content is licensed.** It finds the bundles that contain the item and the
   licenses on them held by the licensee. No such license means deny (closed world).
2. **Whether each license is in force.** It checks that every required guild has co-signed,
   by the date asked about, and that the license was not revoked by then.
3. **What the license's terms say.** It evaluates the ODRL policy:
   :func:`reelrights.core.odrl.evaluate`, with duties fulfilled through :class:`_Duties`.
4. **The performer's own consent.** A voice or likeness use, including a sound-alike or
   look-alike of a named performer, needs that performer's live consent, whatever any license
   says (:mod:`reelrights.core.labor_rules`).

:func:`check` answers for one item. :func:`check_manifest` answers for many items that share a
context. It caches one decision per distinct set of bundles, so a million items cost about a
million dictionary look-ups plus one evaluation per bundle set.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, select

from ..core.iri import asset_iri, bundle_iri, id_from_iri, model_family_iri, party_iri, work_iri
from ..core.odrl import Duty, DutyResult, Request, evaluate, parse_policy
from ..errors import BadInput, NotFound
from ..store.tables import bundle_assets, bundle_works, bundles, licenses, work_assets
from .licensing import license_status
from .registry import resolve_party, resolve_work

__all__ = ["CheckContext", "Verdict", "check", "check_manifest"]

ACTIONS = ("train", "fineTune", "generate", "synthesizeVoice", "synthesizeLikeness")


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

    def to_json(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "decision": "allow" if self.allowed else "deny",
                "item": self.item, "license": self.license, "consent": self.consent,
                "reasons": self.reasons}


class _Duties:
    """Fulfilment of a permission's duties, decided from the registry."""

    def __init__(self, conn: Connection, ctx: CheckContext, license_id: str) -> None:
        self.conn, self.ctx, self.license_id = conn, ctx, license_id
        self.consents: list[str] = []

    def fulfilled(self, duty: Duty, request: Request) -> DutyResult:
        if duty.name == "compensate":
            return DutyResult(True, f"compensation of {duty.fund_share}% of revenue accrues to "
                                    f"the creative fund under {self.license_id}")
        if duty.name == "attribute":
            return DutyResult(True, "attribution is carried by the training-run commitment and "
                                    "the outputs' provenance records")
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


def _consent(conn: Connection, ctx: CheckContext, performer: str):  # type: ignore[no-untyped-def]
    from .consent import find_consent

    kinds = {"synthesizeVoice": ("voice",), "synthesizeLikeness": ("likeness",)}.get(
        ctx.action, ("voice", "likeness"))  # generate naming a performer: either use counts
    results = [find_consent(conn, performer_id=performer, kind=kind, on=ctx.day,  # type: ignore[arg-type]
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
            targets: frozenset[str], item: str, cache: dict[str, tuple]) -> Verdict:
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
    if not bundle_ids:
        return Verdict(False, item, [*reasons, f"{item} is in no bundle licensed to "
                                                f"{ctx.licensee}: no license, no permission"])
    for lic in _licenses(conn, ctx.licensee, bundle_ids, cache):
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
        policy = cache.setdefault(f"policy:{lic.id}", (parse_policy(json.loads(lic.policy)),))[0]
        duties = _Duties(conn, ctx, lic.id)
        decision = evaluate(policy, _request(ctx, targets | {bundle_iri(lic.bundle_id)}), duties)
        lines = [f"license {lic.id} (log {lic.log_index}, policy {policy.uid}): {r}"
                 for r in decision.reasons]
        if decision.allowed:
            return Verdict(True, item, [*reasons, *lines], lic.id,
                           consent_id or (duties.consents[0] if duties.consents else None))
        reasons.extend(lines)
    return Verdict(False, item, reasons)


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
    """Allow or deny one asset (SHA-256), work or bundle, with the chain of reasons."""
    if sum(x is not None for x in (asset, work, bundle)) != 1:
        raise BadInput("name exactly one of --asset, --work or --bundle")
    if asset is not None:
        sha = asset.lower()
        bundle_ids = frozenset(conn.scalars(select(bundle_assets.c.bundle_id)
                                            .where(bundle_assets.c.sha256 == sha)))
        if not bundle_ids and conn.execute(select(work_assets.c.sha256)
                                           .where(work_assets.c.sha256 == sha)).first() is None:
            raise NotFound(f"asset {asset} is not registered; check the SHA-256")
        work_ids = conn.scalars(select(work_assets.c.work_id).where(work_assets.c.sha256 == sha))
        targets = frozenset({asset_iri(sha), *(work_iri(w) for w in work_ids)})
        return _decide(conn, ctx, bundle_ids, targets, f"asset {sha}", {})
    if work is not None:
        w = resolve_work(conn, work)
        bundle_ids = frozenset(conn.scalars(select(bundle_works.c.bundle_id)
                                            .where(bundle_works.c.work_id == w.id)))
        return _decide(conn, ctx, bundle_ids, frozenset({work_iri(w.id)}), f"work {w.id}", {})
    row = conn.execute(select(bundles.c.id).where(bundles.c.id == bundle)).first()
    if row is None:
        raise NotFound(f"no bundle {bundle!r}; `reelrights bundle list` shows them")
    return _decide(conn, ctx, frozenset({row.id}), frozenset({bundle_iri(row.id)}),
                   f"bundle {row.id}", {})


def check_manifest(conn: Connection, ctx: CheckContext,
                   hashes: Iterable[str]) -> Iterator[tuple[str, Verdict]]:
    """``(sha256, verdict)`` for many assets in one context, in input order.

    Items in the same set of licensed bundles share one :class:`Verdict` object: the decision
    and its reasons are the same for all of them.
    """
    cache: dict[Any, Any] = {}
    licensed = sorted({lic.bundle_id for lic in conn.execute(
        select(licenses.c.bundle_id).where(licenses.c.licensee_id == ctx.licensee))})
    # Most assets sit in one bundle: map them to that bundle's id (a shared string) and keep a
    # set only for the few in several, so a million members cost no million small sets.
    first: dict[str, str] = {}
    several: dict[str, set[str]] = {}
    if licensed:
        rows = conn.execute(select(bundle_assets.c.sha256, bundle_assets.c.bundle_id)
                            .where(bundle_assets.c.bundle_id.in_(licensed)))
        setdefault = first.setdefault
        for sha, bundle_id in rows:
            if setdefault(sha, bundle_id) != bundle_id:
                several.setdefault(sha, {first[sha]}).add(bundle_id)
    keys: dict[str | frozenset[str], frozenset[str]] = {}
    by_key: dict[Any, Verdict] = {}
    get = first.get
    for sha in hashes:
        key: Any = get(sha)
        if key is not None and several and sha in several:
            key = frozenset(several[sha])
        verdict = by_key.get(key)
        if verdict is None:
            bset = (frozenset() if key is None else key if isinstance(key, frozenset)
                    else frozenset({key}))
            keys[key] = bset
            targets = frozenset(bundle_iri(b) for b in bset) or frozenset({"urn:reelrights:none"})
            label = ", ".join(sorted(bset)) or "no licensed bundle"
            verdict = _decide(conn, ctx, bset, targets, label, cache)
            by_key[key] = verdict
        yield sha, verdict
