"""The fund's records: productions (with the outputs they use), revenue reports and issued
royalty statements.

As in :mod:`reelrights.registry.records`: immutable values read from rows (``from_row``),
attributes named as the columns (``studio_id``), ``to_json`` with the published keys
(``studio``), names beside ids joined in the read (a production's ``studio_name``). A royalty
statement's *document* is built from the log by :mod:`reelrights.fund.royalty_statements`;
:class:`RoyaltyStatement` is the registry's record that one was issued (its hash, inputs, log
index). :data:`PRODUCTION` finds a production by id or unique title; :data:`REVENUE_REPORT` and
:data:`ROYALTY_STATEMENT` by id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Select, select

from ..store.fund_tables import fund_statements, productions, revenue_reports
from ..store.resolve import JsonObject, Kind, StoredRow
from ..store.tables import parties

__all__ = ["PRODUCTION", "REVENUE_REPORT", "ROYALTY_STATEMENT", "Production", "ProductionDetail",
           "ProductionOutput", "RevenueReport", "RoyaltyStatement"]


@dataclass(frozen=True, slots=True)
class Production:
    """A studio's production (a film, an episode) and the currency it reports revenue in."""

    id: str
    studio_id: str
    title: str
    kind: str
    currency: str
    log_index: int
    registered_at: str
    studio_name: str | None = None

    @classmethod
    def from_row(cls, row: StoredRow) -> Production:
        """From a ``productions`` row, with ``studio_name`` when the read joined it."""
        return cls(row.id, row.studio_id, row.title, row.kind, row.currency, row.log_index,
                   row.registered_at, getattr(row, "studio_name", None))

    def to_json(self) -> JsonObject:
        return {"id": self.id, "studio": self.studio_id, "title": self.title, "kind": self.kind,
                "currency": self.currency, "log_index": self.log_index}


@dataclass(frozen=True, slots=True)
class ProductionOutput:
    """An output the production uses, from its run, with the attribution weights given."""

    output: str
    run: str
    log_index: int
    weights: list[JsonObject]

    @classmethod
    def from_row(cls, row: StoredRow) -> ProductionOutput:
        """From a ``production_outputs`` row."""
        return cls(row.output_id, row.run_id, row.log_index, json.loads(row.weights))

    def to_json(self) -> JsonObject:
        return {"output": self.output, "run": self.run, "log_index": self.log_index,
                "weights": self.weights}


@dataclass(frozen=True, slots=True)
class ProductionDetail(Production):
    """``production show``: the production and the outputs it uses, in log order."""

    outputs: tuple[ProductionOutput, ...] = ()

    def to_json(self) -> JsonObject:
        return {**Production.to_json(self), "outputs": [o.to_json() for o in self.outputs]}


def _productions_with_studio() -> Select[tuple[object, ...]]:
    return (select(productions, parties.c.name.label("studio_name"))
            .join(parties, parties.c.id == productions.c.studio_id, isouter=True))


PRODUCTION: Kind[Production] = Kind(
    noun="production", table=productions, record=Production.from_row,
    source=_productions_with_studio, label=productions.c.title, many="productions are titled",
    missing="no production {ref!r}; `reelrights production list` shows them")


@dataclass(frozen=True, slots=True)
class RevenueReport:
    """A studio's imported revenue report: the hash of its rows, the quarter it is booked in,
    and the report it corrects or that corrects it."""

    id: str
    reporter_id: str
    period: str
    rows_sha256: str
    supersedes_id: str | None
    superseded_by: str | None
    file: str | None
    log_index: int
    reported_at: str

    @classmethod
    def from_row(cls, row: StoredRow) -> RevenueReport:
        return cls(row.id, row.reporter_id, row.period, row.rows_sha256, row.supersedes_id,
                   row.superseded_by, row.file, row.log_index, row.reported_at)

    def to_json(self) -> JsonObject:
        return {"id": self.id, "reporter": self.reporter_id, "period": self.period,
                "rows_sha256": self.rows_sha256, "supersedes": self.supersedes_id,
                "superseded_by": self.superseded_by, "file": self.file,
                "log_index": self.log_index, "reported_at": self.reported_at}


REVENUE_REPORT: Kind[RevenueReport] = Kind(
    noun="revenue report", table=revenue_reports, record=RevenueReport.from_row,
    missing="no revenue report {ref!r}; `reelrights fund import` prints the ids it imports")


@dataclass(frozen=True, slots=True)
class RoyaltyStatement:
    """An issued royalty statement: whose, for which quarter, computed as of which log size,
    and the SHA-256 of its document and of its inputs."""

    id: str
    fund_id: str
    party_id: str
    period: str
    as_of: int
    sha256: str
    inputs_sha256: str
    threshold: str
    log_index: int
    issued_at: str

    @classmethod
    def from_row(cls, row: StoredRow) -> RoyaltyStatement:
        return cls(row.id, row.fund_id, row.party_id, row.period, row.as_of, row.sha256,
                   row.inputs_sha256, row.threshold, row.log_index, row.issued_at)

    def to_json(self) -> JsonObject:
        return {"id": self.id, "fund": self.fund_id, "party": self.party_id,
                "period": self.period, "as_of": self.as_of, "sha256": self.sha256,
                "inputs_sha256": self.inputs_sha256, "threshold": self.threshold,
                "log_index": self.log_index, "issued_at": self.issued_at}


ROYALTY_STATEMENT: Kind[RoyaltyStatement] = Kind(
    noun="royalty statement", table=fund_statements, record=RoyaltyStatement.from_row,
    missing="no royalty statement {ref!r}; `reelrights fund statement` issues one")
