"""Erasing a sealed body: ``sealed.erased`` deletes the private fields and salts the registry
kept (crypto-shredding: the signed root stays in the log and can never be opened again) and
the projections that repeated them; reads then say "body erased" (docs/sealed.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select, update

from ..catalogue import applier
from ..core.statements import decode_entry
from ..errors import Conflict, NotFound, PolicyDenied
from ..home import Home
from ..ledger import Accepted, Ledger, Receipt, each_statement
from ..registry.resolve import resolve_party
from ..registry.submit import submit_as
from ..store.evidence_tables import run_usage
from ..store.sealed_tables import sealed_bodies, sealed_statements
from ..store.tables import consents, licenses, log_entries
from .entitled import named_parties

__all__ = ["erase_body"]


def _forget_license_terms(conn: Connection, body: dict[str, Any]) -> None:
    from ..rights.licensing import SEALED_TERMS

    # The fund splits money only by the licenses runs used: a license no run used has fed no
    # allocation either.
    run = conn.scalar(select(run_usage.c.run_id).where(run_usage.c.license_id == body["id"])
                      .limit(1))
    if run is not None:
        raise Conflict(f"training run {run} was judged under license {body['id']}'s terms (and "
                       "the fund splits money by them), so they are kept; only terms no run "
                       "used can be erased")
    conn.execute(update(licenses).where(licenses.c.id == body["id"])
                 .values(policy=SEALED_TERMS, policy_uid=""))


def _forget_consent_details(conn: Connection, body: dict[str, Any]) -> None:
    conn.execute(update(consents).where(consents.c.id == body["id"])
                 .values(description="", compensation_ref=""))


#: The types whose bodies may be erased, each with what wipes the projections that repeat its
#: private fields (and refuses when facts built on them would no longer replay). Revenue reports
#: and royalty statements are the fund's books: not erasable (docs/sealed.md, "Erasure").
FORGET: dict[str, Callable[[Connection, dict[str, Any]], None]] = {
    "license.granted": _forget_license_terms,
    "consent.granted": _forget_consent_details,
}


#: Why the other sealed types' bodies are kept (docs/sealed.md, "Erasure").
KEPT: dict[str, str] = {
    "revenue.reported": "are the fund's books and are kept",
    "fund.statement": "are the fund's books and are kept",
    "fund.terms": "are kept: the fund split money by them",
    "audit.opened": "are kept: the auditor's certificate was judged on them",
}


@applier("sealed.erased")
@each_statement
def _apply_erased(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    row = conn.execute(select(sealed_statements).where(
        sealed_statements.c.statement_id == b["statement"])).first()
    if row is None:
        raise NotFound(f"{b['statement']} is not a sealed statement of this log")
    if row.erased_at is not None:
        raise Conflict(f"the body of {b['statement']} was already erased at {row.erased_at}")
    entry = conn.execute(select(log_entries.c.entry)
                         .where(log_entries.c.idx == row.log_index)).scalar_one()
    sealed = decode_entry(bytes(entry))
    if a.statement.actor not in named_parties(sealed.actor, sealed.body):
        raise PolicyDenied(f"{a.statement.actor} is not named in {b['statement']}; only its "
                           "signer or a party it names may have its body erased")
    conn.execute(update(sealed_statements).where(
        sealed_statements.c.statement_id == b["statement"]).values(
        erased_index=a.index, erased_at=a.time))
    conn.execute(update(sealed_bodies).where(sealed_bodies.c.statement_id == b["statement"])
                 .values(leaves=None))
    forget = FORGET.get(sealed.type)
    if forget is None:
        why = KEPT.get(sealed.type, "are kept")
        raise PolicyDenied(f"{sealed.type} bodies {why}; erasure applies to "
                           f"{', '.join(sorted(FORGET))}")
    forget(conn, sealed.body)
    return {"statement": b["statement"], "erased_at": a.time}


def erase_body(home: Home, ledger: Ledger, statement_id: str, party: str,
               reason: str) -> Receipt:
    """Ask for the erasure of a sealed statement's body as ``party`` (its signer or a party it
    names); this home's own copy is deleted too."""
    from .copies import forget_own_copy

    with ledger.db.read() as conn:
        pid = resolve_party(conn, party).id
    receipt = submit_as(home, ledger, "sealed.erased", pid,
                        {"statement": statement_id, "reason": reason})
    forget_own_copy(home, statement_id)
    return receipt
