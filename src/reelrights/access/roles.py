"""Which roles of the visibility matrix a reader holds for one record, from the registry.

:func:`roles_of` answers for every kind of record the service reads; each kind's function reads
the registry's projections (who licensed, co-signed, is credited, challenged, reported, is
paid) for the record's ids. A reader who is no party (unsigned) holds no role but ``public``;
the operator holds ``operator`` everywhere. Roles are computed, never claimed: a request cannot
name its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, exists, select

from ..store.evidence_tables import audit_certificates, audit_challenges, run_usage, training_runs
from ..store.fund_tables import fund_lines
from ..store.tables import (
    bundle_assets,
    bundle_works,
    credits,
    deaths,
    guild_members,
    licenses,
    parties,
    work_assets,
)
from .viewer import Viewer

__all__ = ["ANYONE_RULES", "ROLE_RULES", "SEALED_READERS", "roles_of"]

Record = dict[str, Any]


def _is(conn: Connection, query: Any) -> bool:
    return bool(conn.scalar(select(exists(query))))


def _kind_of(conn: Connection, party: str) -> str | None:
    kind = conn.scalar(select(parties.c.kind).where(parties.c.id == party))
    return None if kind is None else str(kind)


def _credited_in_bundle(conn: Connection, party: str, bundle: str) -> bool:
    """Whether ``party`` is credited on a work of ``bundle`` (listed, or through its assets)."""
    listed = select(credits.c.party_id).where(
        credits.c.party_id == party,
        credits.c.work_id.in_(select(bundle_works.c.work_id)
                              .where(bundle_works.c.bundle_id == bundle)))
    if _is(conn, listed):
        return True
    through_assets = select(credits.c.party_id).where(
        credits.c.party_id == party,
        credits.c.work_id.in_(select(work_assets.c.work_id).where(work_assets.c.sha256.in_(
            select(bundle_assets.c.sha256).where(bundle_assets.c.bundle_id == bundle)))))
    return _is(conn, through_assets)


def _auditor_of_run(conn: Connection, party: str, run: str) -> bool:
    return _is(conn, select(audit_challenges.c.id).where(
        audit_challenges.c.run_id == run, audit_challenges.c.auditor_id == party))


def _party(conn: Connection, who: str, r: Record) -> set[str]:
    return {"owner"} if r.get("id") == who else set()


def _work(conn: Connection, who: str, r: Record) -> set[str]:
    out = {"owner"} if r.get("owner") == who else set()
    if any(c.get("party") == who for c in r.get("credits", ())):
        out.add("credited_contributor")
    return out


def _bundle(conn: Connection, who: str, r: Record) -> set[str]:
    return {"owner"} if r.get("owner") == who else set()


def _license(conn: Connection, who: str, r: Record) -> set[str]:
    out = set()
    if r.get("licensor") == who:
        out.add("licensor")
    if r.get("licensee") == who:
        out.add("licensee")
    if who in (r.get("required_cosigners") or ()) or who in (r.get("cosigned_by") or ()):
        out.add("cosigning_guild")
    if _credited_in_bundle(conn, who, r["bundle"]):
        out.add("credited_contributor")
    if _is(conn, select(audit_challenges.c.id).where(
            audit_challenges.c.auditor_id == who,
            audit_challenges.c.run_id.in_(select(run_usage.c.run_id)
                                          .where(run_usage.c.license_id == r["id"])))):
        out.add("auditor")
    if _kind_of(conn, who) == "fund":
        out.add("fund")
    return out


def _consent(conn: Connection, who: str, r: Record) -> set[str]:
    out = set()
    performer = r.get("performer")
    if performer == who:
        out.add("performer")
    if who in (r.get("signed_by"), r.get("post_mortem_representative")) and who != performer:
        out.add("representative")
    if _is(conn, select(deaths.c.performer_id).where(deaths.c.performer_id == performer,
                                                     deaths.c.representative_id == who)):
        out.add("representative")
    if r.get("represented_by") == "guild" and _is(conn, select(guild_members.c.guild_id).where(
            guild_members.c.guild_id == who, guild_members.c.member_id == performer)):
        out.add("representative")
    if r.get("licensee") == who:
        out.add("licensee")
    return out


def _run(conn: Connection, who: str, r: Record) -> set[str]:
    out = {"developer"} if r.get("developer") == who else set()
    if _auditor_of_run(conn, who, r["id"]):
        out.add("auditor")
    return out


def _certificate(conn: Connection, who: str, r: Record) -> set[str]:
    row = conn.execute(select(audit_certificates.c.auditor_id, audit_certificates.c.run_id)
                       .where(audit_certificates.c.log_index == r.get("log_index"))).first()
    if row is None:
        return set()
    out = {"auditor"} if row.auditor_id == who else set()
    if conn.scalar(select(training_runs.c.developer_id)
                   .where(training_runs.c.id == row.run_id)) == who:
        out.add("developer")
    return out


def _output(conn: Connection, who: str, r: Record) -> set[str]:
    return {"developer"} if r.get("developer") == who else set()


def _production(conn: Connection, who: str, r: Record) -> set[str]:
    return {"owner"} if r.get("studio") == who else set()


def _dispute(conn: Connection, who: str, r: Record) -> set[str]:
    return {"disputant"} if who in (r.get("claimant"), r.get("first_owner")) else set()


def _revenue_report(conn: Connection, who: str, r: Record) -> set[str]:
    out = {"reporter"} if r.get("reporter") == who else set()
    if _kind_of(conn, who) == "fund":
        out.add("fund")
    return out


def _royalty_statement(conn: Connection, who: str, r: Record) -> set[str]:
    out = {"payee"} if r.get("party") == who else set()
    if r.get("fund") == who:
        out.add("fund")
    return out


def _fund_totals(conn: Connection, who: str, r: Record) -> set[str]:
    return {"fund"} if _kind_of(conn, who) == "fund" else set()


def _fund_terms_readers(conn: Connection, who: str, body: Record) -> set[str]:
    """Fund terms (how the fund splits a license's money): the fund, and the payees, the
    parties credited on the license's bundle or paid from it."""
    out = {"fund"} if _kind_of(conn, who) == "fund" else set()
    bundle = conn.scalar(select(licenses.c.bundle_id).where(licenses.c.id == body.get("license")))
    if bundle is not None and (_credited_in_bundle(conn, who, bundle) or _is(conn, select(
            fund_lines.c.payee_id).where(fund_lines.c.payee_id == who,
                                         fund_lines.c.bundle_id == bundle))):
        out.add("payee")
    return out


def _audit_response_readers(conn: Connection, who: str, body: Record) -> set[str]:
    """An audit response: the run's developer and the auditor of the challenge it answers."""
    out = set()
    if conn.scalar(select(training_runs.c.developer_id)
                   .where(training_runs.c.id == body.get("run"))) == who:
        out.add("developer")
    if _is(conn, select(audit_challenges.c.id).where(
            audit_challenges.c.id == body.get("challenge"), audit_challenges.c.auditor_id == who,
            audit_challenges.c.run_id == body.get("run"))):
        out.add("auditor")
    return out


def _license_terms_readers(conn: Connection, who: str, body: Record) -> set[str]:
    """Sealed license terms: as the license record shows them (the matrix's license row),
    also to the auditors of runs that used it and to the fund."""
    return _license(conn, who, {"id": body.get("id"), "bundle": body.get("bundle")}) \
        & {"auditor", "fund"}


def _revenue_readers(conn: Connection, who: str, body: Record) -> set[str]:
    """A sealed revenue report's rows: as the report record shows them, also to the fund."""
    return {"fund"} if _kind_of(conn, who) == "fund" else set()


def _consent_readers(conn: Connection, who: str, body: Record) -> set[str]:
    """A sealed consent's details: as the consent record shows them, also to the performer's
    representative (her guild when it represents her, her post-mortem representative)."""
    return _consent(conn, who, {**body, "signed_by": None}) & {"representative"}


#: Sealed statement type -> the roles a party holds for its body besides naming (read from the
#: registry, never from what the statement claims).
SEALED_READERS: dict[str, Callable[[Connection, str, Record], set[str]]] = {
    "consent.granted": _consent_readers,
    "fund.terms": _fund_terms_readers,
    "audit.opened": _audit_response_readers,
    "license.granted": _license_terms_readers,
    "revenue.reported": _revenue_readers,
}


def _sealed_body(conn: Connection, who: str, r: Record) -> set[str]:
    """A sealed statement's body (``r``: statement, type, actor, root and its public body)."""
    from ..sealed.entitled import named_parties
    from ..sealed.grants import granted_paths

    out = {"owner"} if r.get("actor") == who else set()
    if who in named_parties(r["actor"], r["body"]):
        out.add("named_party")
    rule = SEALED_READERS.get(r["type"])
    if rule is not None:
        out |= rule(conn, who, r["body"])
    if granted_paths(conn, r["statement"], who):
        out.add("disclosure_recipient")
    return out


def _enough_productions(conn: Connection, r: Record) -> set[str]:
    from .records import MIN_PRODUCTIONS

    return {"public_aggregate"} if r.get("productions", 0) >= MIN_PRODUCTIONS else set()


#: Record kind -> roles every reader holds for one of its records, signed or not.
ANYONE_RULES: dict[str, Callable[[Connection, Record], set[str]]] = {
    "fund_totals": _enough_productions,
}

#: Record kind -> the roles a party holds for one of its records (besides ``public``).
ROLE_RULES: dict[str, Callable[[Connection, str, Record], set[str]]] = {
    "log": lambda conn, who, r: set(),
    "service": lambda conn, who, r: set(),
    "party": _party, "work": _work, "bundle": _bundle, "license": _license,
    "consent": _consent, "run": _run, "certificate": _certificate, "output": _output,
    "production": _production, "dispute": _dispute, "revenue_report": _revenue_report,
    "royalty_statement": _royalty_statement, "fund_totals": _fund_totals,
    "sealed_body": _sealed_body,
}


def roles_of(conn: Connection, viewer: Viewer, kind: str, record: Record) -> frozenset[str]:
    """The roles ``viewer`` holds for ``record`` of ``kind``: always ``public``; ``operator``
    for the operator; those the registry gives the viewer's party."""
    roles = {"public"}
    if kind in ANYONE_RULES:
        roles |= ANYONE_RULES[kind](conn, record)
    if viewer.operator:
        roles.add("operator")
    if viewer.party is not None:
        roles |= ROLE_RULES[kind](conn, viewer.party, record)
    return frozenset(roles)
