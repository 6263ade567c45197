"""The registry's records: parties, works (with their files and credits), log events, and the
``usage`` report.

Each record is an immutable value read from the registry's rows (``from_row``) whose
``to_json`` is what the CLI prints with ``--json``. Attributes keep the columns' names
(``owner_id``); the JSON keeps its published keys (``owner``). A list's record also carries the
names beside the ids it shows (a work's ``owner_name``), joined in the same read.
:data:`PARTY` and :data:`WORK` describe how :func:`reelrights.store.resolve.resolve` finds them.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from sqlalchemy import Select, select

from ..store.resolve import JsonObject, Kind, StoredRow
from ..store.tables import parties, works

__all__ = ["PARTY", "WORK", "LogEvent", "OwnedWork", "Party", "PartyCredit", "PartyDetail",
           "UsageBundle", "UsageCertificate", "UsageEarning", "UsageLicense", "UsageMember",
           "UsageOutput", "UsageRelation", "UsageReport", "UsageRun", "UsageWork", "Work",
           "WorkCredit", "WorkDetail", "WorkFile"]


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One log entry in an entity's history: its index, type, signer and log time."""

    log_index: int
    type: str
    actor: str
    time: str

    @classmethod
    def from_row(cls, row: StoredRow) -> LogEvent:
        """From a ``log_entries`` row (``idx``, ``type``, ``actor``, ``time``)."""
        return cls(row.idx, row.type, row.actor, row.time)

    def to_json(self) -> JsonObject:
        return {"log_index": self.log_index, "type": self.type, "actor": self.actor,
                "time": self.time}


# -- parties -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Party:
    """A registered party and its Ed25519 public key."""

    id: str
    kind: str
    name: str
    public_key: bytes
    key_id: str
    log_index: int
    registered_at: str

    @classmethod
    def from_row(cls, row: StoredRow) -> Party:
        return cls(row.id, row.kind, row.name, bytes(row.public_key), row.key_id, row.log_index,
                   row.registered_at)

    def to_json(self) -> JsonObject:
        return {"id": self.id, "kind": self.kind, "name": self.name,
                "public_key": base64.b64encode(self.public_key).decode("ascii"),
                "key_id": self.key_id, "log_index": self.log_index,
                "registered_at": self.registered_at}


@dataclass(frozen=True, slots=True)
class OwnedWork:
    id: str
    title: str

    def to_json(self) -> JsonObject:
        return {"id": self.id, "title": self.title}


@dataclass(frozen=True, slots=True)
class PartyCredit:
    """A credit of the party on a work."""

    work: str
    role: str
    share: str
    log_index: int

    def to_json(self) -> JsonObject:
        return {"work": self.work, "role": self.role, "share": self.share,
                "log_index": self.log_index}


@dataclass(frozen=True, slots=True)
class PartyDetail(Party):
    """``party show``: the party, the works it owns and its credits, in log order."""

    works_owned: tuple[OwnedWork, ...]
    credits: tuple[PartyCredit, ...]
    #: Standard identifiers the party registered (ISNI, IPI, IMDb), in normal form.
    external_ids: tuple[str, ...] = ()

    def to_json(self) -> JsonObject:
        return {**Party.to_json(self), "works_owned": [w.to_json() for w in self.works_owned],
                "credits": [c.to_json() for c in self.credits],
                "external_ids": list(self.external_ids)}


PARTY: Kind[Party] = Kind(
    noun="party", table=parties, record=Party.from_row, label=parties.c.name,
    many="parties are named",
    missing="no party {ref!r}; `reelrights party list` shows ids and names")


# -- works ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Work:
    """A registered work; ``owner_name`` is the owner's party name."""

    id: str
    kind: str
    title: str
    year: int | None
    owner_id: str
    external_ids: tuple[str, ...]
    log_index: int
    registered_at: str
    owner_name: str | None = None

    @classmethod
    def from_row(cls, row: StoredRow) -> Work:
        """From a ``works`` row, with ``owner_name`` when the read joined it."""
        return cls(row.id, row.kind, row.title, row.year, row.owner_id,
                   tuple(json.loads(row.external_ids)), row.log_index, row.registered_at,
                   getattr(row, "owner_name", None))

    def to_json(self) -> JsonObject:
        out: JsonObject = {"id": self.id, "kind": self.kind, "title": self.title,
                           "owner": self.owner_id, "log_index": self.log_index,
                           "registered_at": self.registered_at,
                           "external_ids": list(self.external_ids)}
        if self.year is not None:
            out["year"] = self.year
        return out


@dataclass(frozen=True, slots=True)
class WorkFile:
    """One file of a work: its asset facts under the name the work gives it."""

    name: str
    sha256: str
    size: int
    media_type: str
    category: str
    duration_ms: int | None = None
    pages: int | None = None
    lines: int | None = None
    width: int | None = None
    height: int | None = None

    @classmethod
    def from_row(cls, row: StoredRow) -> WorkFile:
        """From ``work_assets.name`` joined with the ``assets`` row."""
        return cls(row.name, row.sha256, row.size, row.media_type, row.category, row.duration_ms,
                   row.pages, row.lines, row.width, row.height)

    def to_json(self) -> JsonObject:
        out: JsonObject = {"name": self.name, "sha256": self.sha256, "size": self.size,
                           "media_type": self.media_type, "category": self.category}
        for key, value in (("duration_ms", self.duration_ms), ("pages", self.pages),
                           ("lines", self.lines), ("width", self.width), ("height", self.height)):
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class WorkCredit:
    """A credit on the work: the party (and its name), role and share."""

    party: str
    name: str
    role: str
    share: str
    log_index: int

    def to_json(self) -> JsonObject:
        return {"party": self.party, "name": self.name, "role": self.role, "share": self.share,
                "log_index": self.log_index}


@dataclass(frozen=True, slots=True)
class WorkDetail(Work):
    """``work show``: the work, its files (by name) and its credits (by role, then log)."""

    assets: tuple[WorkFile, ...] = ()
    credits: tuple[WorkCredit, ...] = ()

    def to_json(self) -> JsonObject:
        return {**Work.to_json(self), "assets": [a.to_json() for a in self.assets],
                "credits": [c.to_json() for c in self.credits]}


def _works_with_owner() -> Select[tuple[object, ...]]:
    return (select(works, parties.c.name.label("owner_name"))
            .join(parties, parties.c.id == works.c.owner_id, isouter=True))


WORK: Kind[Work] = Kind(
    noun="work", table=works, record=Work.from_row, label=works.c.title, many="works are titled",
    source=_works_with_owner,
    missing="no work {ref!r}; `reelrights work list` shows ids and titles")


# -- the usage report ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class UsageMember:
    party: str
    log_index: int

    def to_json(self) -> JsonObject:
        return {"party": self.party, "log_index": self.log_index}


@dataclass(frozen=True, slots=True)
class UsageRelation:
    """How a subject relates to a work: ``owner``, or a credited role with its share."""

    party: str
    role: str
    share: str | None = None
    log_index: int | None = None

    def to_json(self) -> JsonObject:
        out: JsonObject = {"party": self.party, "role": self.role}
        if self.share is not None:
            out["share"] = self.share
        if self.log_index is not None:
            out["log_index"] = self.log_index
        return out


@dataclass(frozen=True, slots=True)
class UsageWork:
    work: str
    title: str
    log_index: int
    relations: tuple[UsageRelation, ...]

    def to_json(self) -> JsonObject:
        return {"work": self.work, "title": self.title, "log_index": self.log_index,
                "relations": [r.to_json() for r in self.relations]}


@dataclass(frozen=True, slots=True)
class UsageBundle:
    bundle: str
    name: str
    version: str
    log_index: int
    works: tuple[str, ...]

    def to_json(self) -> JsonObject:
        return {"bundle": self.bundle, "name": self.name, "version": self.version,
                "log_index": self.log_index, "works": list(self.works)}


@dataclass(frozen=True, slots=True)
class UsageLicense:
    license: str
    bundle: str
    licensee: str
    log_index: int
    revoked_index: int | None

    def to_json(self) -> JsonObject:
        return {"license": self.license, "bundle": self.bundle, "licensee": self.licensee,
                "log_index": self.log_index, "revoked_index": self.revoked_index}


@dataclass(frozen=True, slots=True)
class UsageCertificate:
    certificate: str
    result: str
    log_index: int

    def to_json(self) -> JsonObject:
        return {"certificate": self.certificate, "result": self.result,
                "log_index": self.log_index}


@dataclass(frozen=True, slots=True)
class UsageRun:
    """A committed run's use of one (bundle, license), with its totals and certificates."""

    run: str
    developer: str
    model: str
    bundle: str
    license: str
    items: int
    seconds: int
    frames: int
    tokens: int
    images: int
    log_index: int
    certificates: tuple[UsageCertificate, ...]

    def to_json(self) -> JsonObject:
        return {"run": self.run, "developer": self.developer, "model": self.model,
                "bundle": self.bundle, "license": self.license, "items": self.items,
                "seconds": self.seconds, "frames": self.frames, "tokens": self.tokens,
                "images": self.images, "log_index": self.log_index,
                "certificates": [c.to_json() for c in self.certificates]}


@dataclass(frozen=True, slots=True)
class UsageOutput:
    """An output of one of the runs, used in a production."""

    production: str
    title: str
    output: str
    run: str
    log_index: int

    def to_json(self) -> JsonObject:
        return {"production": self.production, "title": self.title, "output": self.output,
                "run": self.run, "log_index": self.log_index}


@dataclass(frozen=True, slots=True)
class UsageEarning:
    """The party's earnings from one report's pool (integer minor units)."""

    payee: str
    report: str
    production: str
    period: str
    currency: str
    amount_minor: int
    log_index: int
    superseded_by: str | None

    def to_json(self) -> JsonObject:
        return {"payee": self.payee, "report": self.report, "production": self.production,
                "period": self.period, "currency": self.currency,
                "amount_minor": self.amount_minor, "log_index": self.log_index,
                "superseded_by": self.superseded_by}


@dataclass(frozen=True, slots=True)
class UsageReport:
    """``reelrights usage``: from a party (and a guild's members) to works, bundles, licenses,
    runs, productions and earnings."""

    party: str
    name: str
    kind: str
    members: tuple[UsageMember, ...]
    works: tuple[UsageWork, ...]
    bundles: tuple[UsageBundle, ...]
    licenses: tuple[UsageLicense, ...]
    runs: tuple[UsageRun, ...]
    productions: tuple[UsageOutput, ...]
    earnings: tuple[UsageEarning, ...]
    #: Money held for unmatched credits on the party's works (claim, work, name, role,
    #: status, currency -> minor units): credit.unmatched, docs/fund.md.
    suspense: tuple[JsonObject, ...] = ()

    def to_json(self) -> JsonObject:
        return {"party": self.party, "name": self.name, "kind": self.kind,
                "members": [m.to_json() for m in self.members],
                "works": [w.to_json() for w in self.works],
                "bundles": [b.to_json() for b in self.bundles],
                "licenses": [x.to_json() for x in self.licenses],
                "runs": [r.to_json() for r in self.runs],
                "productions": [p.to_json() for p in self.productions],
                "earnings": [e.to_json() for e in self.earnings],
                "suspense": list(self.suspense)}
