"""Admission's commands: a nonce, a party's request, the operator's admission, re-verification.

* :func:`nonce_for` (``party nonce``): a server-issued nonce and the proof to publish with it.
* :func:`request_admission` (``party request-admission``): the party signs
  ``admission.requested``; a party's home posts it to its server, whose
  :func:`admit_request` checks it (the signature, the nonce, the fetched domain proof or the
  guild's membership statement) and logs it with the operator's ``party.admitted`` in one batch:
  both or neither. The operator's own home does the same locally.
* :func:`admit_manual` (``party admit --manual REF``): the operator's documented check.
* :func:`reverify` (``service reverify``): every domain due (or all) fetched again; a proof that
  still holds is logged ``domain.reverified``, one that does not ``domain.lapsed``.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ..catalogue import check_body
from ..core.statements import (
    parse_time,
    read_entry,
    sign_statement,
    utc_now,
    verify_entry_signature,
)
from ..errors import (
    BadInput,
    Conflict,
    NotFound,
    ReelrightsError,
    SignatureError,
    VerificationError,
)
from ..home import Home
from ..ledger import Ledger, Receipt
from ..registry.resolve import resolve_party
from ..registry.submit import operator_signing_key, submit_as_operator
from ..store.identity_tables import party_admissions
from ..store.tables import parties
from . import nonces
from .admission import domain_holder, guild_attestation
from .admission_types import DOMAIN, REVERIFY_DAYS, check_method_fields
from .domain_proof import Expected, FetchPolicy, fetch_proof, proof_document, proof_txt

__all__ = ["REVERIFY_AFTER_DAYS", "admit_manual", "admit_request", "issue_nonce",
           "issue_signed_nonce", "nonce_for", "request_admission", "reverify",
           "signed_nonce_request"]

#: ``service reverify`` fetches a domain again once its last verification is this old, so a
#: daily run keeps every live proof from showing "lapsed" at :data:`REVERIFY_DAYS`.
REVERIFY_AFTER_DAYS = REVERIFY_DAYS - 10
NONCE_REQUEST_CONTEXT = "reelrights/nonce-request/v1"
#: How far a nonce request's time may be from the server's.
NONCE_REQUEST_SKEW_S = 300
OPERATOR = "operator"


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def _check_domain(domain: str) -> str:
    domain = domain.strip().rstrip(".").lower()
    if not DOMAIN.ok(domain):
        raise BadInput(f"--domain {domain!r} is not a DNS name like northlight.example "
                       "(lowercase, no scheme, no path, no port; IDNs in their xn-- form)")
    return domain


def _is_admitted(conn: Any, party_id: str) -> bool:
    return conn.execute(select(party_admissions.c.party_id).where(
        party_admissions.c.party_id == party_id,
        party_admissions.c.lapsed_index.is_(None))).first() is not None


# -- nonces ------------------------------------------------------------------------------------

def issue_nonce(ledger: Ledger, party_id: str, domain: str,
                now: str | None = None) -> dict[str, Any]:
    """A nonce this registry issues for ``party_id``'s proof of ``domain`` (server side), with
    the document and the TXT record that carry it."""
    domain = _check_domain(domain)
    with ledger.db.read() as conn:
        row = conn.execute(select(parties.c.id, parties.c.public_key)
                           .where(parties.c.id == party_id)).first()
        if row is None:
            raise NotFound(f"party {party_id} is not registered; register it first "
                           "(`reelrights party add`)")
        if _is_admitted(conn, party_id):
            raise Conflict(f"party {party_id} is already admitted; a nonce serves an admission")
    nonce, expires = nonces.issue(ledger.db, party_id, domain, now)
    e = Expected(ledger.registry, party_id, _b64(bytes(row.public_key)), nonce)
    return {"party": party_id, "domain": domain, "nonce": nonce, "expires_at": expires,
            "document_url": f"https://{domain}/.well-known/reelrights.json",
            "document": proof_document(e), "txt_name": f"_reelrights.{domain}",
            "txt": proof_txt(e)}


def _nonce_message(registry: str, party: str, domain: str, time: str) -> bytes:
    return "\n".join([NONCE_REQUEST_CONTEXT, registry, party, domain, time]).encode("utf-8")


def signed_nonce_request(home: Home, ledger: Ledger, party_id: str,
                         domain: str) -> dict[str, str]:
    """A nonce request signed with the party's key (only the party may ask: a stranger could
    otherwise use up its nonces): Ed25519 over ``reelrights/nonce-request/v1``, the registry,
    the party, the domain and the time, one per line."""
    domain, now = _check_domain(domain), utc_now()
    sig = home.party_key(party_id).sign(_nonce_message(ledger.registry, party_id, domain, now))
    return {"party": party_id, "domain": domain, "time": now, "signature": _b64(sig)}


def issue_signed_nonce(ledger: Ledger, request: dict[str, Any],
                       now: str | None = None) -> dict[str, Any]:
    """:func:`issue_nonce` for a :func:`signed_nonce_request` (``POST /v1/identity/nonces``):
    the signature must be the party's, the time within 5 minutes of now."""
    import nacl.exceptions
    import nacl.signing

    if set(request) != {"party", "domain", "time", "signature"} or not all(
            isinstance(v, str) for v in request.values()):
        raise BadInput('send {"party", "domain", "time", "signature"}: the party signs the '
                       "request (`reelrights party nonce` does)")
    now = now or utc_now()
    try:
        skew = abs((parse_time(request["time"]) - parse_time(now)).total_seconds())
    except ReelrightsError:
        raise BadInput(f"time {request['time'][:40]!r} is not an RFC 3339 UTC time") from None
    if skew > NONCE_REQUEST_SKEW_S:
        raise BadInput(f"the request's time {request['time']} is more than "
                       f"{NONCE_REQUEST_SKEW_S} s from the server's ({now}); check the clock")
    with ledger.db.read() as conn:
        row = conn.execute(select(parties.c.public_key)
                           .where(parties.c.id == request["party"])).first()
    if row is None:
        raise NotFound(f"party {request['party']} is not registered; register it first")
    try:
        sig = base64.b64decode(request["signature"], validate=True)
        nacl.signing.VerifyKey(bytes(row.public_key)).verify(_nonce_message(
            ledger.registry, request["party"], request["domain"], request["time"]), sig)
    except (ValueError, nacl.exceptions.BadSignatureError):
        raise SignatureError(f"the nonce request is not signed by {request['party']}'s key; "
                             "only the party asks for its nonces") from None
    return issue_nonce(ledger, request["party"], request["domain"], now)


def nonce_for(home: Home, ledger: Ledger, party_ref: str, domain: str) -> dict[str, Any]:
    """``party nonce``: from the server a party's home follows (a request signed with the
    party's key), or from this registry."""
    with ledger.db.read() as conn:
        party = resolve_party(conn, party_ref)
    client = getattr(ledger, "client", None)
    if client is not None:
        return dict(client.issue_nonce(signed_nonce_request(home, ledger, party.id, domain)))
    return issue_nonce(ledger, party.id, domain)


# -- a party's request -------------------------------------------------------------------------

def request_admission(home: Home, ledger: Ledger, party_ref: str, *, domain: str | None = None,
                      nonce: str | None = None, proof: str = "https",
                      attestation: str | None = None,
                      policy: FetchPolicy | None = None) -> list[Receipt]:
    """Sign ``admission.requested`` with the party's key and have it answered: by the
    server this home follows, or (the operator's home) here. Returns both receipts."""
    with ledger.db.read() as conn:
        party = resolve_party(conn, party_ref)
    if (domain is None) == (attestation is None):
        raise BadInput("give --domain D --nonce N (domain control) or --guild-attestation "
                       "STATEMENT (a guild's membership statement), not both")
    body: dict[str, Any] = {"party": party.id}
    if domain is not None:
        if nonce is None:
            raise BadInput(f"--domain needs --nonce: get one with `reelrights party nonce "
                           f"{party.id} --domain {domain}` and publish the proof it prints")
        body.update(method="domain", domain=_check_domain(domain), nonce=nonce, proof=proof)
    else:
        body.update(method="guild", attestation=attestation)
    check_body("admission.requested", 1, body, party.id)
    check_method_fields(body, "/statement/body", admitted=False)
    statement = ledger.new_statement("admission.requested", party.id, body)
    entry = sign_statement(statement, home.party_key(party.id))
    post = getattr(ledger, "request_admission", None)
    if post is not None:
        return list(post(entry))
    return admit_request(home, ledger, entry, policy)


# -- the operator's answer ---------------------------------------------------------------------

def _operator_entry(home: Home, ledger: Ledger, type_: str, body: dict[str, Any]) -> bytes:
    check_body(type_, 1, body, OPERATOR)
    return sign_statement(ledger.new_statement(type_, OPERATOR, body),
                          operator_signing_key(home, ledger))


def admit_request(home: Home, ledger: Ledger, entry: bytes,
                  policy: FetchPolicy | None = None) -> list[Receipt]:
    """Check a signed ``admission.requested`` and log it with the operator's
    ``party.admitted`` (server side; nothing is logged unless the proof holds)."""
    try:
        s = read_entry(entry)
    except Exception:  # noqa: BLE001 - worded properly below
        raise BadInput("the body is not a signed statement; send the party's signed "
                       "admission.requested as canonical JSON") from None
    if s.type != "admission.requested":
        raise BadInput(f"this endpoint answers admission.requested statements, not "
                       f"{s.type}; other statements go to POST /v1/statements")
    if s.registry != ledger.registry:
        raise BadInput(f"the request is signed for registry {s.registry}, not this one "
                       f"({ledger.registry})")
    check_body(s.type, s.version, s.body, s.actor)
    b = s.body
    check_method_fields(b, "/statement/body", admitted=False)
    with ledger.db.read() as conn:
        row = conn.execute(select(parties.c.public_key).where(parties.c.id == s.actor)).first()
        if row is None:
            raise NotFound(f"party {s.actor} is not registered; it registers itself first")
        verify_entry_signature(s, bytes(row.public_key))  # before anything is fetched
        if _is_admitted(conn, s.actor):
            raise Conflict(f"party {s.actor} is already admitted")
        answer: dict[str, Any] = {"party": s.actor, "method": b["method"], "request": s.id}
        if b["method"] == "guild":
            answer.update(attestation=b["attestation"],
                          guild=guild_attestation(conn, b["attestation"])["guild"])
        else:
            holder = domain_holder(conn, b["domain"])
            if holder is not None and holder != s.actor:
                raise Conflict(f"domain {b['domain']} is held by the admitted party {holder}; "
                               "one party per domain")
    if b["method"] == "guild":
        return ledger.submit([entry, _operator_entry(home, ledger, "party.admitted", answer)])
    nonces.claim(ledger.db, b["nonce"], s.actor, b["domain"])
    try:
        found = fetch_proof(b["domain"], b["proof"], Expected(
            ledger.registry, s.actor, _b64(bytes(row.public_key)), b["nonce"]), policy)
        answer.update(domain=b["domain"], proof=b["proof"], nonce=b["nonce"],
                      document_sha256=found.document_sha256)
        return ledger.submit([entry, _operator_entry(home, ledger, "party.admitted", answer)])
    except BaseException:
        nonces.release(ledger.db, b["nonce"])
        raise


def admit_manual(home: Home, ledger: Ledger, party_ref: str, reference: str) -> Receipt:
    """The operator admits a party on its own documented check (``reference`` names its record,
    not the documents)."""
    with ledger.db.read() as conn:
        party = resolve_party(conn, party_ref)
    return submit_as_operator(home, ledger, "party.admitted",
                              {"party": party.id, "method": "manual",
                               "reference": reference.strip()})


# -- re-verification ---------------------------------------------------------------------------

def reverify(home: Home, ledger: Ledger, policy: FetchPolicy | None = None, *,
             every: bool = False, now: str | None = None) -> list[dict[str, Any]]:
    """Fetch again the proof of every admitted domain verified :data:`REVERIFY_AFTER_DAYS` days
    ago or more (``every``: all of them); log each outcome. Returns one row per domain."""
    now = now or utc_now()
    cutoff = (parse_time(now) - timedelta(days=REVERIFY_AFTER_DAYS)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
    with ledger.db.read() as conn:
        q = (select(party_admissions.c.party_id, party_admissions.c.domain,
                    party_admissions.c.proof, party_admissions.c.nonce,
                    party_admissions.c.verified_at, parties.c.public_key)
             .join(parties, parties.c.id == party_admissions.c.party_id)
             .where(party_admissions.c.method == "domain")
             .order_by(party_admissions.c.verified_at, party_admissions.c.party_id))
        if not every:
            q = q.where(party_admissions.c.verified_at <= cutoff)
        due = conn.execute(q).all()
    out = []
    for r in due:
        expected = Expected(ledger.registry, r.party_id, _b64(bytes(r.public_key)), r.nonce)
        try:
            found = fetch_proof(r.domain, r.proof, expected, policy)
        except VerificationError as exc:
            reason = " ".join(str(exc).split())[:500]
            receipt = submit_as_operator(home, ledger, "domain.lapsed",
                                         {"party": r.party_id, "domain": r.domain,
                                          "reason": reason})
            out.append({"party": r.party_id, "domain": r.domain, "outcome": "lapsed",
                        "reason": reason, "log_index": receipt.index})
            continue
        try:
            receipt = submit_as_operator(home, ledger, "domain.reverified", {
                "party": r.party_id, "domain": r.domain, "proof": r.proof, "nonce": r.nonce,
                "document_sha256": found.document_sha256})
        except ReelrightsError as exc:
            out.append({"party": r.party_id, "domain": r.domain, "outcome": "refused",
                        "reason": str(exc)})
            continue
        out.append({"party": r.party_id, "domain": r.domain, "outcome": "reverified",
                    "document_sha256": found.document_sha256, "log_index": receipt.index})
    return out
