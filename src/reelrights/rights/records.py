"""The rights records: bundles, licenses, consents and disputes, as ``bundle``, ``license``,
``consent`` and ``dispute`` list and show print them.

As in :mod:`reelrights.registry.records`: immutable values read from rows (``from_row``),
attributes named as the columns (``owner_id``), ``to_json`` with the published keys
(``owner``), and the names a listing shows beside ids joined in the same read (a license's
``bundle_name``, ``licensee_name``). The :class:`~reelrights.store.resolve.Kind` of each says how
it is found: a bundle by id, ``NAME@VERSION`` or name (its latest version); the others by id.
A license's kind, ``LICENSE``, lives in :mod:`reelrights.rights.licensing`, beside the standing
it computes for each license it reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Select, select

from ..errors import BadInput
from ..registry.records import LogEvent
from ..store.dispute_tables import disputes
from ..store.resolve import JsonObject, Kind, StoredRow
from ..store.tables import bundles, consents, parties

__all__ = ["BUNDLE", "CONSENT", "DISPUTE", "Bundle", "BundleContributor",
           "BundleDetail", "BundleVersion", "BundleWork", "Consent", "ConsentDetail",
           "ConsentEvent", "Dispute", "DisputeDetail", "License", "LicenseDetail",
           "LicenseStanding"]


# -- bundles -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Bundle:
    """One bundle version; ``totals`` as signed (assets, video_ms, audio_ms, ...)."""

    id: str
    owner_id: str
    name: str
    version: str
    predecessor_id: str | None
    root: str
    totals: dict[str, int]
    description: str | None
    log_index: int
    created_at: str
    owner_name: str | None = None

    @classmethod
    def from_row(cls, row: StoredRow) -> Bundle:
        """From a ``bundles`` row, with ``owner_name`` when the read joined it."""
        return cls(row.id, row.owner_id, row.name, row.version, row.predecessor_id, row.root,
                   json.loads(row.totals), row.description, row.log_index, row.created_at,
                   getattr(row, "owner_name", None))

    def to_json(self) -> JsonObject:
        return {"id": self.id, "owner": self.owner_id, "name": self.name,
                "version": self.version, "predecessor": self.predecessor_id, "root": self.root,
                "totals": dict(self.totals), "log_index": self.log_index,
                "created_at": self.created_at,
                **({"description": self.description} if self.description else {})}


@dataclass(frozen=True, slots=True)
class BundleWork:
    """A work of the bundle: ``listed`` whole, or only contributing assets listed by hash."""

    id: str
    title: str
    kind: str
    listed: bool

    def to_json(self) -> JsonObject:
        return {"id": self.id, "title": self.title, "kind": self.kind, "listed": self.listed}


@dataclass(frozen=True, slots=True)
class BundleContributor:
    party: str
    name: str | None
    roles: tuple[str, ...]

    def to_json(self) -> JsonObject:
        return {"party": self.party, "name": self.name, "roles": list(self.roles)}


@dataclass(frozen=True, slots=True)
class BundleVersion:
    """One link of a bundle name's version chain."""

    id: str
    version: str
    predecessor: str | None
    root: str
    log_index: int
    created_at: str

    @classmethod
    def from_row(cls, row: StoredRow) -> BundleVersion:
        return cls(row.id, row.version, row.predecessor_id, row.root, row.log_index,
                   row.created_at)

    def to_json(self) -> JsonObject:
        return {"id": self.id, "version": self.version, "predecessor": self.predecessor,
                "root": self.root, "log_index": self.log_index, "created_at": self.created_at}


@dataclass(frozen=True, slots=True)
class BundleDetail(Bundle):
    """``bundle show``: the version with its works, contributors, version chain and leaf."""

    leaf_hash: str = ""
    works: tuple[BundleWork, ...] = ()
    direct_assets: tuple[str, ...] = ()
    contributors: tuple[BundleContributor, ...] = ()
    versions: tuple[BundleVersion, ...] = ()
    successor: str | None = None
    latest: bool = True

    def to_json(self) -> JsonObject:
        return {**Bundle.to_json(self), "owner_name": self.owner_name,
                "leaf_hash": self.leaf_hash, "works": [w.to_json() for w in self.works],
                "direct_assets": list(self.direct_assets),
                "contributors": [c.to_json() for c in self.contributors],
                "versions": [v.to_json() for v in self.versions], "successor": self.successor,
                "latest": self.latest}


def _bundles_with_owner() -> Select[tuple[object, ...]]:
    return (select(bundles, parties.c.name.label("owner_name"))
            .join(parties, parties.c.id == bundles.c.owner_id, isouter=True))


def _bundle_by_label(conn: Connection, kind: Kind[Bundle], ref: str) -> StoredRow | None:
    """``NAME@VERSION`` (one owner's), else ``NAME``: the latest version, when one owner has
    bundles of that name."""
    name, at_sign, version = ref.rpartition("@")
    if at_sign and name:
        rows = conn.execute(kind.query().where(bundles.c.name == name,
                                               bundles.c.version == version)
                            .order_by(bundles.c.log_index)).all()
        if len(rows) == 1:
            return rows[0]
        if len(rows) > 1:
            raise BadInput(f"{len(rows)} owners have a bundle {ref!r}; use the id "
                           f"({', '.join(r.id for r in rows)})")
    rows = conn.execute(kind.query().where(bundles.c.name == ref)
                        .order_by(bundles.c.log_index.desc())).all()
    latest: dict[str, str] = {}
    for r in rows:
        latest.setdefault(r.owner_id, r.id)
    if len(latest) > 1:
        raise BadInput(f"{len(latest)} owners have a bundle named {ref!r}; use the id "
                       f"({', '.join(latest.values())})")
    return rows[0] if rows else None


BUNDLE: Kind[Bundle] = Kind(
    noun="bundle", table=bundles, record=Bundle.from_row, source=_bundles_with_owner,
    by_label=_bundle_by_label,
    missing="no bundle {ref!r}; `reelrights bundle list` shows ids, names and versions "
            "(name a version as NAME@VERSION)")


# -- licenses ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LicenseStanding:
    """Whether a license is in force now, and why not: the guilds it needs (named at the grant
    or credited since), those that have not co-signed, and revocation."""

    required_cosigners: tuple[str, ...]
    in_force: bool
    missing_cosigners: tuple[str, ...]
    revoked: bool
    cosigned_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class License:
    """A license on a bundle and its standing now, with the bundle's name and version and the
    parties' names beside their ids."""

    id: str
    bundle_id: str
    licensor_id: str
    licensee_id: str
    policy_uid: str
    log_index: int
    granted_at: str
    revoked_at: str | None
    revoked_index: int | None
    revoke_reason: str | None
    standing: LicenseStanding
    bundle_name: str | None = None
    bundle_version: str | None = None
    licensor_name: str | None = None
    licensee_name: str | None = None

    @classmethod
    def from_row(cls, row: StoredRow, standing: LicenseStanding) -> License:
        """From a ``licenses`` row (names when the read joined them) and its standing, which
        needs more than the row (:func:`reelrights.rights.licensing.license_standing`)."""
        return cls(row.id, row.bundle_id, row.licensor_id, row.licensee_id, row.policy_uid,
                   row.log_index, row.granted_at, row.revoked_at, row.revoked_index,
                   row.revoke_reason, standing, getattr(row, "bundle_name", None),
                   getattr(row, "bundle_version", None), getattr(row, "licensor_name", None),
                   getattr(row, "licensee_name", None))

    def to_json(self) -> JsonObject:
        s = self.standing
        return {"id": self.id, "bundle": self.bundle_id, "licensor": self.licensor_id,
                "licensee": self.licensee_id, "policy_uid": self.policy_uid,
                "required_cosigners": list(s.required_cosigners), "log_index": self.log_index,
                "granted_at": self.granted_at, "in_force": s.in_force,
                "missing_cosigners": list(s.missing_cosigners), "revoked": s.revoked,
                "revoked_at": self.revoked_at, "revoke_reason": self.revoke_reason,
                "cosigned_by": list(s.cosigned_by)}


@dataclass(frozen=True, slots=True)
class LicenseDetail(License):
    """``license show``: the license, its ODRL policy and its history from the log."""

    policy: JsonObject | None = None
    history: tuple[LogEvent, ...] = ()
    #: A sealed license: where its terms are (docs/sealed.md): "sealed" (held by the registry,
    #: shown only to its parties), "body unavailable", "body erased"; None: in clear.
    sealed: str | None = None

    def to_json(self) -> JsonObject:
        out = {**License.to_json(self), "policy": self.policy,
               "history": [h.to_json() for h in self.history]}
        if self.sealed is not None:
            out["sealed"] = self.sealed
        return out


# -- consents ------------------------------------------------------------------------------------

def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class Consent:
    """A performer's consent; ``status`` (active, pending, expired, revoked) is as of the day
    it was read."""

    id: str
    performer_id: str
    signed_by: str
    kinds: tuple[str, ...]
    description: str
    production: str | None
    model_family: str | None
    licensee_id: str | None
    media: tuple[str, ...]
    territory: tuple[str, ...]
    start: str
    end: str
    compensation_ref: str
    represented_by: str
    post_mortem_representative: str | None
    log_index: int
    granted_at: str
    revoked_at: str | None
    revoked_index: int | None
    revoke_reason: str | None
    status: str
    performer_name: str | None = None

    @classmethod
    def from_row(cls, row: StoredRow, today: date | None = None) -> Consent:
        """From a ``consents`` row; ``status`` as of ``today`` (default: today, UTC)."""
        on = today or datetime.now(UTC).date()
        if row.revoked_at is not None and on >= _parse_time(row.revoked_at).date():
            status = "revoked"
        elif on > date.fromisoformat(row.end):
            status = "expired"
        elif on < date.fromisoformat(row.start):
            status = "pending"
        else:
            status = "active"
        return cls(row.id, row.performer_id, row.signed_by, tuple(json.loads(row.kinds)),
                   row.description, row.production, row.model_family, row.licensee_id,
                   tuple(json.loads(row.media)), tuple(json.loads(row.territory)), row.start,
                   row.end, row.compensation_ref, row.represented_by,
                   row.post_mortem_representative, row.log_index, row.granted_at, row.revoked_at,
                   row.revoked_index, row.revoke_reason, status,
                   getattr(row, "performer_name", None))

    def to_json(self) -> JsonObject:
        out: JsonObject = {
            "id": self.id, "performer": self.performer_id, "signed_by": self.signed_by,
            "kinds": list(self.kinds), "description": self.description,
            "media": list(self.media), "territory": list(self.territory), "start": self.start,
            "end": self.end, "compensation_ref": self.compensation_ref,
            "represented_by": self.represented_by, "log_index": self.log_index,
            "granted_at": self.granted_at, "status": self.status}
        for key, value in (("production", self.production), ("model_family", self.model_family),
                           ("licensee", self.licensee_id),
                           ("post_mortem_representative", self.post_mortem_representative)):
            if value is not None:
                out[key] = value
        if self.revoked_at is not None:
            out.update(revoked_at=self.revoked_at, revoked_index=self.revoked_index,
                       revoke_reason=self.revoke_reason)
        return out


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One event of a consent's history: granted, revoked (with the reason), or the
    performer's death (with its date)."""

    event: str
    log_index: int
    actor: str | None
    time: str | None = None
    date: str | None = None
    reason: str | None = None

    def to_json(self) -> JsonObject:
        out: JsonObject = {"event": self.event, "log_index": self.log_index}
        if self.time is not None:
            out["time"] = self.time
        if self.date is not None:
            out["date"] = self.date
        out["actor"] = self.actor
        if self.event == "revoked":
            out["reason"] = self.reason
        return out


@dataclass(frozen=True, slots=True)
class ConsentDetail(Consent):
    """``consent show``: the consent and its history, in log order."""

    history: tuple[ConsentEvent, ...] = ()

    def to_json(self) -> JsonObject:
        return {**Consent.to_json(self), "history": [e.to_json() for e in self.history]}


def _consents_with_performer() -> Select[tuple[object, ...]]:
    return (select(consents, parties.c.name.label("performer_name"))
            .join(parties, parties.c.id == consents.c.performer_id, isouter=True))


CONSENT: Kind[Consent] = Kind(
    noun="consent", table=consents, record=Consent.from_row, source=_consents_with_performer,
    missing="no consent {ref!r}; `reelrights consent list` shows the consents on file")


# -- disputes ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Dispute:
    """An ownership dispute over an asset, with both parties' names."""

    id: str
    kind: str
    asset: str
    first_asset: str
    first_owner_id: str
    first_owner_name: str | None
    first_work_id: str
    first_log_index: int
    claimant_id: str
    claimant_name: str | None
    claimant_work_id: str | None
    matched_ms: int | None
    duration_ms: int | None
    opened_by: str
    log_index: int
    opened_at: str
    status: str
    outcome: str | None
    closed_index: int | None
    closed_at: str | None
    close_reason: str | None

    @classmethod
    def from_row(cls, row: StoredRow) -> Dispute:
        """From a ``disputes`` row with ``first_owner_name`` and ``claimant_name`` joined."""
        return cls(row.id, row.kind, row.asset, row.first_asset, row.first_owner_id,
                   row.first_owner_name, row.first_work_id, row.first_log_index, row.claimant_id,
                   row.claimant_name, row.claimant_work_id, row.matched_ms, row.duration_ms,
                   row.opened_by, row.log_index, row.opened_at, row.status, row.outcome,
                   row.closed_index, row.closed_at, row.close_reason)

    def to_json(self) -> JsonObject:
        return {"id": self.id, "kind": self.kind, "asset": self.asset,
                "first_asset": self.first_asset, "first_owner": self.first_owner_id,
                "first_owner_name": self.first_owner_name, "first_work": self.first_work_id,
                "first_log_index": self.first_log_index, "claimant": self.claimant_id,
                "claimant_name": self.claimant_name, "claimant_work": self.claimant_work_id,
                "matched_ms": self.matched_ms, "duration_ms": self.duration_ms,
                "opened_by": self.opened_by, "log_index": self.log_index,
                "opened_at": self.opened_at, "status": self.status, "outcome": self.outcome,
                "closed_index": self.closed_index, "closed_at": self.closed_at,
                "close_reason": self.close_reason}


@dataclass(frozen=True, slots=True)
class DisputeDetail(Dispute):
    """``dispute show``: the dispute and the log entries that opened and closed it."""

    history: tuple[LogEvent, ...] = ()

    def to_json(self) -> JsonObject:
        return {**Dispute.to_json(self), "history": [h.to_json() for h in self.history]}


def _disputes_with_names() -> Select[tuple[object, ...]]:
    first, claimant = parties.alias("first_owner"), parties.alias("claimant")
    return (select(disputes, first.c.name.label("first_owner_name"),
                   claimant.c.name.label("claimant_name"))
            .join(first, first.c.id == disputes.c.first_owner_id, isouter=True)
            .join(claimant, claimant.c.id == disputes.c.claimant_id, isouter=True))


DISPUTE: Kind[Dispute] = Kind(
    noun="dispute", table=disputes, record=Dispute.from_row, source=_disputes_with_names,
    order=(disputes.c.log_index, disputes.c.id),
    missing="no dispute {ref!r}; `reelrights dispute list` shows them")
