"""The creative fund's registry side: productions, the outputs they use, and fund terms.

A production is registered by its studio with the fund currency its pools are converted to;
the studio then records which generated outputs it uses and the training run each came from.
That link (production -> outputs -> runs -> licensed usage per bundle) is what the fund splits
each production's revenue by (:mod:`.allocation`). A licensor may set a license's fund terms
(usage basis, contributors' share); otherwise the documented defaults apply (docs/fund.md).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from ..core.ids import new_id
from ..errors import BadInput, Conflict, NotFound, PolicyDenied
from ..home import Home
from ..ledger import Accepted, Ledger, Receipt, applier, each_statement
from ..registry.resolve import resolve_party
from ..registry.submit import submit_as
from ..store.db import Database
from ..store.evidence_tables import training_runs
from ..store.fund_tables import fund_terms, production_outputs, productions
from ..store.resolve import find_many, resolve, widen
from ..store.tables import licenses, parties
from .records import PRODUCTION, Production, ProductionDetail, ProductionOutput

__all__ = ["add_production", "list_productions", "production_detail", "resolve_production",
           "set_terms", "use_outputs"]


# -- appliers -----------------------------------------------------------------------------------
@applier("production.registered")
@each_statement
def _apply_production(conn: Connection, a: Accepted) -> dict[str, Any]:
    from ..core.money import exponent

    b = a.statement.body
    if conn.execute(select(productions.c.id).where(productions.c.id == b["id"])).first():
        raise Conflict(f"production id {b['id']} is already registered; pick a new id")
    kind = conn.scalar(select(parties.c.kind).where(parties.c.id == b["studio"]))
    if kind != "studio":
        raise PolicyDenied(f"{b['studio']} is a {kind}, not a studio; only a studio "
                           "registers a production")
    exponent(b["currency"])
    conn.execute(productions.insert().values(
        id=b["id"], studio_id=b["studio"], title=b["title"], kind=b["kind"],
        currency=b["currency"], log_index=a.index, registered_at=a.time))
    return {"id": b["id"]}


@applier("production.uses")
@each_statement
def _apply_uses(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    prod = conn.execute(select(productions).where(productions.c.id == b["production"])).first()
    if prod is None:
        raise NotFound(f"production {b['production']} is not registered")
    if prod.studio_id != a.statement.actor:
        raise PolicyDenied(f"only the studio of {prod.id} ({prod.studio_id}) records the outputs "
                           "it uses; sign with that studio's key")
    runs = {o["run"] for o in b["outputs"]}
    known = set(conn.scalars(select(training_runs.c.id).where(training_runs.c.id.in_(runs))))
    taken = set(conn.scalars(select(production_outputs.c.output_id).where(
        production_outputs.c.production_id == prod.id)))
    recorded = _recorded_outputs(conn, [o["output"] for o in b["outputs"]])
    for i, o in enumerate(b["outputs"]):
        if recorded.get(o["output"], o["run"]) != o["run"]:
            raise Conflict(f"/statement/body/outputs/{i}/run: output {o['output']} is recorded "
                           f"from run {recorded[o['output']]}, not {o['run']}")
        if o["run"] not in known:
            raise NotFound(f"/statement/body/outputs/{i}/run: run {o['run']} is not committed; "
                           "see `reelrights run list`")
        if o["output"] in taken:
            raise Conflict(f"output {o['output']} is already recorded for {prod.id}")
        conn.execute(production_outputs.insert().values(
            production_id=prod.id, output_id=o["output"], run_id=o["run"],
            weights=json.dumps(o.get("weights", []), sort_keys=True), log_index=a.index))
    return {"production": prod.id, "outputs": len(b["outputs"])}


def _recorded_outputs(conn: Connection, ids: list[str]) -> dict[str, str]:
    """output id -> run, for the outputs already in the provenance records (output.registered).

    An output the developer has not recorded yet may still be named: the studio's signed
    statement is the production's link to the run; once recorded, the two must agree.
    """
    from ..store.provenance_tables import outputs

    return dict(conn.execute(select(outputs.c.id, outputs.c.run_id)
                             .where(outputs.c.id.in_(ids))).all())


@applier("fund.terms")
@each_statement
def _apply_terms(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    lic = conn.execute(select(licenses.c.id, licenses.c.licensor_id)
                       .where(licenses.c.id == b["license"])).first()
    if lic is None:
        raise NotFound(f"license {b['license']} is not granted")
    if lic.licensor_id != b["licensor"]:
        raise PolicyDenied(f"only the licensor of {lic.id} ({lic.licensor_id}) sets its fund "
                           "terms")
    if a.statement.sealed is not None and not _TERMS & b.keys():
        # sealed, replayed without its body (a rebuild from tiles): the terms are unknown here,
        # never the defaults; the fund refuses to split by them (allocation._terms)
        conn.execute(fund_terms.insert().values(license_id=lic.id, log_index=a.index,
                                                basis=SEALED_FUND_TERMS))
        return {"license": lic.id}
    conn.execute(fund_terms.insert().values(
        license_id=lic.id, log_index=a.index, basis=b.get("basis"), unit=b.get("unit"),
        contributors_share=b.get("contributors_share")))
    return {"license": lic.id}


#: The private fields of fund terms (sealable: docs/sealed.md).
_TERMS = frozenset({"basis", "unit", "contributors_share"})
#: ``fund_terms.basis`` of sealed terms whose body this registry does not hold.
SEALED_FUND_TERMS = "null"


# -- commands -----------------------------------------------------------------------------------
def add_production(home: Home, ledger: Ledger, studio: str, title: str, kind: str,
                   currency: str, year: int | None = None) -> Receipt:
    from ..core.money import exponent

    exponent(currency)
    with ledger.db.read() as conn:
        sid = resolve_party(conn, studio).id
    body: dict[str, Any] = {"id": new_id("production"), "studio": sid, "title": title,
                            "kind": kind, "currency": currency.upper()}
    if year is not None:
        body["year"] = year
    return submit_as(home, ledger, "production.registered", sid, body)


def use_outputs(home: Home, ledger: Ledger, production: str,
                outputs: list[dict[str, Any]]) -> Receipt:
    """Record ``[{"output": out_..., "run": run_..., "weights"?: [...]}, ...]`` for a production."""
    if not outputs:
        raise BadInput("name at least one output (--output OUT --run RUN)")
    with ledger.db.read() as conn:
        prod = resolve_production(conn, production)
    return submit_as(home, ledger, "production.uses", prod.studio_id,
                     {"production": prod.id, "outputs": outputs})


def set_terms(home: Home, ledger: Ledger, license_id: str, basis: str | None = None,
              unit: str | None = None, contributors_share: str | None = None, *,
              sealed: bool = False) -> Receipt:
    """Set a license's fund terms as its licensor (``sealed``: basis, unit and share off the
    log, docs/sealed.md)."""
    from ..rights.licensing import resolve_license

    with ledger.db.read() as conn:
        lic = resolve_license(conn, license_id)
    body: dict[str, Any] = {"license": lic.id, "licensor": lic.licensor_id}
    for k, v in (("basis", basis), ("unit", unit), ("contributors_share", contributors_share)):
        if v is not None:
            body[k] = v
    if sealed and not _TERMS & body.keys():
        raise BadInput("nothing to seal: give --basis, --unit or --contributors-share")
    return submit_as(home, ledger, "fund.terms", lic.licensor_id, body, sealed=sealed)


# -- queries ------------------------------------------------------------------------------------
def resolve_production(conn: Connection, ref: str) -> Production:
    """A production by id, or by its exact title when that title is unique."""
    return resolve(conn, PRODUCTION, ref)


def list_productions(db: Database, studio: str | None = None) -> list[Production]:
    with db.read() as conn:
        where = [productions.c.studio_id == resolve_party(conn, studio).id] if studio else []
        return find_many(conn, PRODUCTION, *where)


def production_detail(db: Database, ref: str) -> ProductionDetail:
    with db.read() as conn:
        p = resolve_production(conn, ref)
        outs = conn.execute(select(production_outputs).where(
            production_outputs.c.production_id == p.id)
            .order_by(production_outputs.c.log_index, production_outputs.c.output_id)).all()
    return widen(p, ProductionDetail, outputs=tuple(ProductionOutput.from_row(o) for o in outs))
