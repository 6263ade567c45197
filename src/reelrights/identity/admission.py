"""The appliers of admission (statements -> ``party_admissions``, ``admission_requests``).

They enforce what the log itself can check, whoever signed: a request is the party's own and
answers one admission; a domain is held by one admitted party at a time; a guild admission
names a logged ``guild.member`` statement of an admitted guild about this performer or writer;
a re-verification or a lapse concerns the domain the party was admitted with. What the log
cannot check (that the operator fetched the proof it names) is the operator's signed word,
with the document's SHA-256 as its evidence (docs/identity.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, select

from ..core.statements import decode_entry, parse_time
from ..errors import Conflict, InvalidStatement, NotFound, PolicyDenied
from ..ledger import Accepted, applier, each_statement
from ..store.identity_tables import admission_requests, party_admissions
from ..store.tables import log_entries, parties
from .admission_types import REVERIFY_DAYS, check_method_fields

__all__ = ["GUILD_MEMBER_KINDS"]

#: Who a guild's membership statement can admit.
GUILD_MEMBER_KINDS = ("performer", "writer")
_BODY = "/statement/body"


def _party(conn: Connection, party_id: str) -> Any:
    row = conn.execute(select(parties.c.id, parties.c.kind, parties.c.name)
                       .where(parties.c.id == party_id)).first()
    if row is None:
        raise NotFound(f"party {party_id} is not registered; it registers itself first "
                       "(`reelrights party add`)")
    return row


def _admission(conn: Connection, party_id: str) -> Any:
    return conn.execute(select(party_admissions)
                        .where(party_admissions.c.party_id == party_id)).first()


def _refuse_if_admitted(conn: Connection, party_id: str) -> None:
    row = _admission(conn, party_id)
    if row is not None and row.lapsed_index is None:
        raise Conflict(f"party {party_id} is already admitted ({row.method}, log index "
                       f"{row.admitted_index}); a party is admitted again only after a lapse")


@applier("admission.requested")
@each_statement
def _apply_requested(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    check_method_fields(b, _BODY, admitted=False)
    party = _party(conn, b["party"])
    _refuse_if_admitted(conn, party.id)
    if b["method"] == "guild" and party.kind not in GUILD_MEMBER_KINDS:
        raise PolicyDenied(f"a guild's attestation admits performers and writers; {party.id} is "
                           f"a {party.kind}: ask for admission by domain, or the operator's "
                           "manual check")
    conn.execute(admission_requests.insert().values(
        statement_id=a.statement.id, party_id=party.id, method=b["method"],
        domain=b.get("domain"), nonce=b.get("nonce"), proof=b.get("proof"),
        attestation=b.get("attestation"), log_index=a.index))
    return {"party": party.id, "method": b["method"], "request": a.statement.id}


def _request(conn: Connection, b: dict[str, Any]) -> Any:
    req = conn.execute(select(admission_requests)
                       .where(admission_requests.c.statement_id == b["request"])).first()
    if req is None:
        raise NotFound(f"no admission request {b['request']} in the log")
    if req.party_id != b["party"] or req.method != b["method"]:
        raise InvalidStatement(f"request {req.statement_id} is {req.party_id}'s by "
                               f"{req.method}, not {b['party']}'s by {b['method']}",
                               f"{_BODY}/request")
    if req.admitted_index is not None:
        raise Conflict(f"request {req.statement_id} was already answered by the admission at "
                       f"log index {req.admitted_index}; a request admits once")
    for name in ("domain", "nonce", "proof", "attestation"):
        if getattr(req, name) != b.get(name):
            raise InvalidStatement(f"{name} {b.get(name)!r} is not the request's "
                                   f"({getattr(req, name)!r})", f"{_BODY}/{name}")
    return req


def domain_holder(conn: Connection, domain: str) -> str | None:
    """The admitted party holding ``domain`` (its last verification not lapsed), if any."""
    return conn.scalar(select(party_admissions.c.party_id).where(
        party_admissions.c.domain == domain, party_admissions.c.lapsed_index.is_(None)))


def guild_attestation(conn: Connection, statement_id: str) -> dict[str, Any]:
    """The body of the logged ``guild.member`` statement ``statement_id`` (refused if none)."""
    row = conn.execute(select(log_entries.c.type, log_entries.c.entry)
                       .where(log_entries.c.statement_id == statement_id)).first()
    if row is None or row.type != "guild.member":
        raise NotFound(f"{statement_id} is not a logged guild.member statement; the guild "
                       "records the membership first (`reelrights guild member add`)")
    return dict(decode_entry(bytes(row.entry)).body)


def _overdue(row: Any, log_time: str) -> bool:
    """Whether a domain admission's last verification is more than REVERIFY_DAYS before
    ``log_time`` (the log's time: the same answer on every replay)."""
    if row.method != "domain" or row.verified_at is None:
        return False
    return bool(parse_time(row.verified_at) + timedelta(days=REVERIFY_DAYS)
                < parse_time(log_time))


def _check_guild(conn: Connection, b: dict[str, Any], party: Any, log_time: str) -> None:
    member = guild_attestation(conn, b["attestation"])
    if member["member"] != party.id or member["guild"] != b["guild"]:
        raise InvalidStatement(f"attestation {b['attestation']} is guild {member['guild']}'s "
                               f"statement about {member['member']}, not {b['guild']}'s about "
                               f"{party.id}", f"{_BODY}/attestation")
    if party.kind not in GUILD_MEMBER_KINDS:
        raise PolicyDenied(f"a guild's attestation admits performers and writers, not the "
                           f"{party.kind} {party.id}")
    guild = _admission(conn, b["guild"])
    if guild is None or guild.lapsed_index is not None or _overdue(guild, log_time):
        raise PolicyDenied(f"guild {b['guild']} is not admitted (or its domain lapsed): only an "
                           "admitted guild's attestation admits its members")


@applier("party.admitted")
@each_statement
def _apply_admitted(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    check_method_fields(b, _BODY, admitted=True)
    party = _party(conn, b["party"])
    _refuse_if_admitted(conn, party.id)
    method = b["method"]
    if method in ("domain", "guild"):
        req = _request(conn, b)
        conn.execute(admission_requests.update()
                     .where(admission_requests.c.statement_id == req.statement_id)
                     .values(admitted_index=a.index))
    if method == "domain":
        holder = domain_holder(conn, b["domain"])
        if holder is not None and holder != party.id:
            raise Conflict(f"domain {b['domain']} is held by the admitted party {holder}; one "
                           "party per domain")
    if method == "guild":
        _check_guild(conn, b, party, a.time)
    values = {"method": method, "domain": b.get("domain"), "proof": b.get("proof"),
              "nonce": b.get("nonce"), "document_sha256": b.get("document_sha256"),
              "guild_id": b.get("guild"), "attestation": b.get("attestation"),
              "reference": b.get("reference"), "request_id": b.get("request"),
              "admitted_index": a.index, "admitted_at": a.time,
              "verified_at": a.time if method == "domain" else None,
              "verified_index": a.index if method == "domain" else None,
              "lapsed_index": None, "lapsed_at": None, "lapse_reason": None}
    if _admission(conn, party.id) is None:
        conn.execute(party_admissions.insert().values(party_id=party.id, **values))
    else:
        conn.execute(party_admissions.update()
                     .where(party_admissions.c.party_id == party.id).values(**values))
    return {"party": party.id, "method": method,
            **{k: b[k] for k in ("domain", "guild", "reference") if k in b}}


def _domain_admission(conn: Connection, b: dict[str, Any]) -> Any:
    row = _admission(conn, b["party"])
    if row is None or row.method != "domain" or row.domain != b["domain"]:
        raise Conflict(f"party {b['party']} is not admitted by domain {b['domain']}; only an "
                       "admitted domain is re-verified")
    return row


@applier("domain.reverified")
@each_statement
def _apply_reverified(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    row = _domain_admission(conn, b)
    if b["nonce"] != row.nonce:
        raise InvalidStatement(f"nonce {b['nonce']} is not the one {b['party']} was admitted "
                               "with; the published proof keeps that nonce", f"{_BODY}/nonce")
    holder = domain_holder(conn, b["domain"])
    if holder is not None and holder != b["party"]:
        raise Conflict(f"domain {b['domain']} is held by the admitted party {holder} now")
    conn.execute(party_admissions.update().where(party_admissions.c.party_id == b["party"])
                 .values(verified_at=a.time, verified_index=a.index, proof=b["proof"],
                         document_sha256=b["document_sha256"], lapsed_index=None,
                         lapsed_at=None, lapse_reason=None))
    return {"party": b["party"], "domain": b["domain"], "verified_at": a.time}


@applier("domain.lapsed")
@each_statement
def _apply_lapsed(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    _domain_admission(conn, b)
    conn.execute(party_admissions.update().where(party_admissions.c.party_id == b["party"])
                 .values(lapsed_index=a.index, lapsed_at=a.time, lapse_reason=b["reason"]))
    return {"party": b["party"], "domain": b["domain"], "lapsed_at": a.time,
            "reason": b["reason"]}
