"""The evidence records: training runs (with their usage, start and "affected by" marks) and
audit certificates, as ``run list``, ``run show`` and ``audit show`` print them.

As in :mod:`reelrights.registry.records`: immutable values read from rows (``from_row``),
attributes named as the columns (``developer_id``), ``to_json`` with the published keys
(``developer``), names beside ids joined in the read (a run's ``developer_name``).
:data:`RUN` and :data:`CERTIFICATE` describe how the resolver finds them: by id only, and a
reference that cannot be such an id is refused before the database is asked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sqlalchemy import Select, select

from ..core.ids import ID_PATTERNS
from ..errors import BadInput
from ..store.evidence_tables import audit_certificates, training_runs
from ..store.resolve import JsonObject, Kind, StoredRow
from ..store.tables import parties

__all__ = ["CERTIFICATE", "RUN", "Certificate", "Interval", "Mark", "Run", "RunDetail",
           "RunStart", "RunUsage", "SignedCertificate", "check_run_id"]


def check_run_id(ref: str, option: str, fix: str) -> None:
    """BadInput naming ``option`` and ``fix`` unless ``ref`` is a run id."""
    if not re.fullmatch(ID_PATTERNS["run"], ref):
        raise BadInput(f"{option}{ref!r} is not a run id like run_k3vq7xw2m4a6c5de; {fix}")


# -- runs ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Run:
    """A committed training run: its commitment (root, count) and public totals."""

    id: str
    developer_id: str
    model_family: str
    model: str
    base_model: str | None
    root: str
    count: int
    totals: JsonObject
    latest_acquired: str | None
    description: str | None
    log_index: int
    committed_at: str
    developer_name: str | None = None

    @classmethod
    def from_row(cls, row: StoredRow) -> Run:
        """From a ``training_runs`` row, with ``developer_name`` when the read joined it."""
        return cls(row.id, row.developer_id, row.model_family, row.model, row.base_model,
                   row.root, row._mapping["count"], json.loads(row.totals), row.latest_acquired,
                   row.description, row.log_index, row.committed_at,
                   getattr(row, "developer_name", None))

    def to_json(self) -> JsonObject:
        out: JsonObject = {"id": self.id, "developer": self.developer_id,
                           "model_family": self.model_family, "model": self.model,
                           "root": self.root, "count": self.count, "log_index": self.log_index,
                           "committed_at": self.committed_at}
        if self.base_model:
            out["base_model"] = self.base_model
        return out


@dataclass(frozen=True, slots=True)
class RunUsage:
    """What the run used under one (bundle, license), and whether the license was in force for
    it (at the commit, or over the run's interval: ``judged``)."""

    bundle: str
    bundle_name: str
    license: str
    items: int
    seconds: int
    frames: int
    tokens: int
    images: int
    in_force: bool
    judged: str
    out_of_force: str | None = None

    def to_json(self) -> JsonObject:
        key = "in_force_at_commit" if self.judged == "at_commit" else "in_force_over_interval"
        return {"bundle": self.bundle, "bundle_name": self.bundle_name, "license": self.license,
                "items": self.items, "seconds": self.seconds, "frames": self.frames,
                "tokens": self.tokens, "images": self.images, key: self.in_force,
                **({"out_of_force": self.out_of_force} if self.out_of_force is not None else {})}


@dataclass(frozen=True, slots=True)
class Interval:
    """The log-time interval a started run's licenses were judged over."""

    start: str
    end: str
    started_log_index: int

    def to_json(self) -> JsonObject:
        return {"from": self.start, "to": self.end, "started_log_index": self.started_log_index}


@dataclass(frozen=True, slots=True)
class RunStart:
    """The run's ``run.started``: when, and the licenses it relies on."""

    log_index: int
    started_at: str
    licenses: tuple[str, ...]
    note: str | None

    @classmethod
    def from_row(cls, row: StoredRow) -> RunStart:
        return cls(row.log_index, row.started_at, tuple(json.loads(row.licenses)), row.note)

    def to_json(self) -> JsonObject:
        return {"log_index": self.log_index, "started_at": self.started_at,
                "licenses": list(self.licenses), **({"note": self.note} if self.note else {})}


@dataclass(frozen=True, slots=True)
class Mark:
    """An "affected by" mark: a fact logged later that would have changed a run's (or a
    certificate's) verdict, which stands as logged."""

    subject: str
    subject_kind: str
    run_id: str
    kind: str
    fact: str
    log_index: int
    statement_type: str
    marked_at: str
    reason: str
    statement_id: str | None = None
    asset: str | None = None
    bundle_id: str | None = None
    license_id: str | None = None

    @classmethod
    def from_row(cls, row: StoredRow) -> Mark:
        """From an ``affected_marks`` row."""
        return cls(row.subject, row.subject_kind, row.run_id, row.kind, row.fact, row.log_index,
                   row.statement_type, row.marked_at, row.reason, row.statement_id, row.asset,
                   row.bundle_id, row.license_id)

    def to_json(self) -> JsonObject:
        out: JsonObject = {"subject": self.subject, "subject_kind": self.subject_kind,
                           "run": self.run_id, "kind": self.kind, "fact": self.fact,
                           "log_index": self.log_index, "statement_type": self.statement_type,
                           "marked_at": self.marked_at, "reason": self.reason}
        for key, value in (("statement_id", self.statement_id), ("asset", self.asset),
                           ("bundle", self.bundle_id), ("license", self.license_id)):
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class RunDetail(Run):
    """``run show``: the run, how its licenses were judged, its usage per license, its start
    (when judged over it), its "affected by" marks, and its public totals."""

    judged: str = "at_commit"
    over_interval: Interval | None = None
    usage: tuple[RunUsage, ...] = ()
    started: RunStart | None = None
    affected_by: tuple[Mark, ...] = ()

    def to_json(self) -> JsonObject:
        out = Run.to_json(self)
        if self.latest_acquired:
            out["latest_acquired"] = self.latest_acquired
        if self.description:
            out["description"] = self.description
        out["judged"] = self.judged
        if self.over_interval is not None:
            out["over_interval"] = self.over_interval.to_json()
        out["usage"] = [u.to_json() for u in self.usage]
        if self.started is not None:
            out["started"] = self.started.to_json()
        out["affected_by"] = [m.to_json() for m in self.affected_by]
        out.update(self.totals)
        return out


def _runs_with_developer() -> Select[tuple[object, ...]]:
    return (select(training_runs, parties.c.name.label("developer_name"))
            .join(parties, parties.c.id == training_runs.c.developer_id, isouter=True))


RUN: Kind[Run] = Kind(
    noun="run", table=training_runs, record=Run.from_row, source=_runs_with_developer,
    check=lambda ref: check_run_id(ref, "", "`reelrights run list` shows them"),
    missing="no run {ref!r}; `reelrights run list` shows them")


# -- certificates --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Certificate:
    """A logged audit certificate as the registry keeps it (the signed envelope stays in its
    log entry, which decides)."""

    id: str
    run_id: str
    challenge_id: str
    auditor_id: str
    result: str
    not_before: str
    not_after: str
    log_index: int
    certified_at: str

    @classmethod
    def from_row(cls, row: StoredRow) -> Certificate:
        return cls(row.id, row.run_id, row.challenge_id, row.auditor_id, row.result,
                   row.not_before, row.not_after, row.log_index, row.certified_at)

    def to_json(self) -> JsonObject:
        return {"id": self.id, "run": self.run_id, "challenge": self.challenge_id,
                "auditor": self.auditor_id, "result": self.result,
                "not_before": self.not_before, "not_after": self.not_after,
                "log_index": self.log_index, "certified_at": self.certified_at}


def _check_certificate_id(ref: str) -> None:
    if not re.fullmatch(ID_PATTERNS["certificate"], ref):
        raise BadInput(f"{ref!r} is not a certificate id like crt_k3vq7xw2m4a6c5de")


CERTIFICATE: Kind[Certificate] = Kind(
    noun="certificate", table=audit_certificates, record=Certificate.from_row,
    check=_check_certificate_id,
    missing="no certificate {ref!r} in the log; pass its id or its file")


@dataclass(frozen=True, slots=True)
class SignedCertificate:
    """``audit show``: a certificate's in-toto statement as signed, the key ids of its DSSE
    signatures, and its log index (None for a file that was never logged)."""

    statement: JsonObject
    log_index: int | None
    keyids: tuple[str | None, ...]

    def to_json(self) -> JsonObject:
        return {"statement": self.statement, "log_index": self.log_index,
                "signatures": [{"keyid": k} for k in self.keyids]}
