"""Consent requests: a developer or a production asks a performer for one specific use of her
voice or likeness, and she approves or declines it.

Two statement types (schemas in :mod:`reelrights.rights.types`):

* ``consent.requested``, signed by the requester: what use, in which production or model
  family, media, territory, dates and compensation reference;
* ``consent.request.declined``, signed by the performer (or, after a recorded death, her
  representative), with a reason the requester reads.

Approval is the consent itself: a ``consent.granted`` that names the request in ``request``
and grants exactly what was asked, to the requester (its applier, in
:mod:`reelrights.rights.consent`, checks that and marks the request approved). So an approval
is as strong as any consent: signed with the performer's key, revocable, logged.

The requester, the performer and her guild read the request's status from the same row
(:func:`list_requests`); every step has its log index.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select, update

from ..core import labor_rules as rules
from ..core.ids import ID_PATTERNS, new_id
from ..core.odrl.territory import parse_territory
from ..errors import BadInput, Conflict, NotFound, PolicyDenied
from ..home import Home
from ..ledger import Accepted, Ledger, Receipt, applier, each_statement
from ..registry.resolve import resolve_party
from ..registry.submit import submit_as
from ..store.consent_request_tables import consent_requests
from ..store.db import Database
from ..store.tables import deaths, guild_members, parties

__all__ = ["ConsentRequest", "approval_body", "approve_request", "decline_request",
           "list_requests", "prepare_decision",
           "request_consent", "request_detail"]

_BODY = "/statement/body"


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    """A consent request and where it stands: ``pending``, ``approved`` or ``declined``."""

    id: str
    requester: str
    performer: str
    kinds: tuple[str, ...]
    description: str
    production: str | None
    model_family: str | None
    media: tuple[str, ...]
    territory: tuple[str, ...]
    start: str
    end: str
    compensation_ref: str
    log_index: int
    requested_at: str
    status: str
    decided_by: str | None
    decided_index: int | None
    decided_at: str | None
    consent: str | None
    decline_reason: str | None

    @classmethod
    def from_row(cls, r: Any) -> ConsentRequest:
        return cls(r.id, r.requester_id, r.performer_id, tuple(json.loads(r.kinds)),
                   r.description, r.production, r.model_family, tuple(json.loads(r.media)),
                   tuple(json.loads(r.territory)), r.start, r.end, r.compensation_ref,
                   int(r.log_index), r.requested_at, r.status, r.decided_by,
                   None if r.decided_index is None else int(r.decided_index), r.decided_at,
                   r.consent_id, r.decline_reason)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "requester": self.requester, "performer": self.performer,
                "kinds": list(self.kinds), "description": self.description,
                "production": self.production, "model_family": self.model_family,
                "media": list(self.media), "territory": list(self.territory),
                "start": self.start, "end": self.end, "compensation_ref": self.compensation_ref,
                "log_index": self.log_index, "requested_at": self.requested_at,
                "status": self.status, "decided_by": self.decided_by,
                "decided_index": self.decided_index, "decided_at": self.decided_at,
                "consent": self.consent, "decline_reason": self.decline_reason}


# ---------------------------------------------------------------------------------------------
# Appliers
# ---------------------------------------------------------------------------------------------

def _territory_codes(values: Sequence[str], pointer: str) -> list[str]:
    out: list[str] = []
    for v in values:
        try:
            code = parse_territory(v).code
        except ValueError as exc:
            raise BadInput(f"{pointer}: {v}: {exc}") from None
        if code in out:
            raise BadInput(f"{pointer}: territory {code} is listed twice; list it once")
        out.append(code)
    return out


@applier("consent.requested")
@each_statement
def _apply_requested(conn: Connection, a: Accepted) -> dict[str, Any]:
    b = a.statement.body
    performer = conn.execute(select(parties.c.id, parties.c.kind, parties.c.name)
                             .where(parties.c.id == b["performer"])).first()
    if performer is None:
        raise NotFound(f"performer {b['performer']} is not a registered party; `reelrights "
                       "party list --kind performer` shows who can be asked")
    if performer.kind != "performer":
        raise BadInput(f"party {performer.id} ({performer.name}) is a {performer.kind}, not a "
                       "performer; only a performer is asked for consent to voice or likeness")
    if b["requester"] == b["performer"]:
        raise BadInput("a performer does not request her own consent; she grants it with "
                       "`reelrights consent grant`")
    if conn.execute(select(consent_requests.c.id)
                    .where(consent_requests.c.id == b["id"])).first() is not None:
        raise Conflict(f"consent request id {b['id']} is already recorded; pick a new id")
    for field in ("kinds", "media"):
        if len(set(b[field])) != len(b[field]):
            raise BadInput(f"{_BODY}/{field}: a value is listed twice; list each once")
    territory = _territory_codes(b["territory"], f"{_BODY}/territory")
    start, end = date.fromisoformat(b["start"]), date.fromisoformat(b["end"])
    if problem := rules.period_problem(start, end):
        raise BadInput(problem)
    if problem := rules.scope_problem(b.get("production"), b.get("model_family")):
        raise PolicyDenied(problem)
    if problem := rules.description_problem(b["description"]):
        raise PolicyDenied(problem)
    conn.execute(consent_requests.insert().values(
        id=b["id"], requester_id=b["requester"], performer_id=performer.id,
        kinds=json.dumps(b["kinds"]), description=b["description"],
        production=b.get("production"), model_family=b.get("model_family"),
        media=json.dumps(b["media"]), territory=json.dumps(territory), start=b["start"],
        end=b["end"], compensation_ref=b["compensation_ref"], log_index=a.index,
        requested_at=a.time, status="pending"))
    return {"id": b["id"], "performer": performer.id, "requester": b["requester"]}


def pending_request(conn: Connection, request_id: str) -> Any:
    """The request row, refused unless it is still pending."""
    row = conn.execute(select(consent_requests)
                       .where(consent_requests.c.id == request_id)).first()
    if row is None:
        raise NotFound(f"consent request {request_id} is not recorded; `reelrights consent "
                       "requests` lists them")
    if row.status != "pending":
        raise Conflict(f"consent request {row.id} was already {row.status} at {row.decided_at} "
                       f"(log {row.decided_index}); nothing is left to decide")
    return row


def _decider(conn: Connection, performer_id: str) -> str:
    """Who decides for the performer: she, or after a recorded death her representative."""
    death = conn.execute(select(deaths.c.representative_id)
                         .where(deaths.c.performer_id == performer_id)).first()
    return str(death.representative_id) if death else performer_id


@applier("consent.request.declined")
@each_statement
def _apply_declined(conn: Connection, a: Accepted) -> dict[str, Any]:
    s, b = a.statement, a.statement.body
    row = pending_request(conn, b["request"])
    allowed = _decider(conn, row.performer_id)
    if s.actor != allowed:
        raise PolicyDenied(f"only {allowed} (the performer, or her recorded representative) may "
                           f"decline consent request {row.id}, not {s.actor}; sign with that "
                           "party's key")
    conn.execute(update(consent_requests).where(consent_requests.c.id == row.id).values(
        status="declined", decided_by=s.actor, decided_index=a.index, decided_at=a.time,
        decline_reason=b["reason"]))
    return {"request": row.id, "status": "declined"}


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------

def _check_id(ref: str) -> str:
    import re

    if not re.fullmatch(ID_PATTERNS["consent_request"], ref):
        raise BadInput(f"{ref[:60]!r} is not a consent request id like cnq_k3vq7xw2m4a6c5de; "
                       "`reelrights consent requests` lists them")
    return ref


def request_consent(home: Home, ledger: Ledger, *, requester: str, performer: str,
                    kinds: Sequence[str], description: str, media: Sequence[str],
                    territory: Sequence[str], start: date, end: date, compensation_ref: str,
                    production: str | None = None,
                    model_family: str | None = None) -> Receipt:
    """Ask ``performer`` for a specific use, signed with the requester's key from the home."""
    with ledger.db.read() as conn:
        requester_id = resolve_party(conn, requester).id
        performer_id = resolve_party(conn, performer).id
    if problem := rules.period_problem(start, end):
        raise BadInput(problem)
    if problem := rules.scope_problem(production, model_family):
        raise PolicyDenied(problem)
    if problem := rules.description_problem(description):
        raise PolicyDenied(problem)
    body: dict[str, Any] = {
        "id": new_id("consent_request"), "requester": requester_id, "performer": performer_id,
        "kinds": list(dict.fromkeys(kinds)), "description": description,
        "media": list(dict.fromkeys(media)),
        "territory": list(dict.fromkeys(_territory_codes(territory, "--territory"))),
        "start": start.isoformat(), "end": end.isoformat(), "compensation_ref": compensation_ref}
    for name, value in (("production", production), ("model_family", model_family)):
        if value is not None:
            body[name] = value
    return submit_as(home, ledger, "consent.requested", requester_id, body)


def approval_body(request: ConsentRequest, *, represented_by: str = "none",
                  post_mortem_representative: str | None = None) -> dict[str, Any]:
    """The ``consent.granted`` body that approves ``request``: exactly what was asked, to the
    requester (a fresh consent id). The CLI and the browser sign this same body."""
    body: dict[str, Any] = {
        "id": new_id("consent"), "performer": request.performer, "kinds": list(request.kinds),
        "description": request.description, "media": list(request.media),
        "territory": list(request.territory), "start": request.start, "end": request.end,
        "compensation_ref": request.compensation_ref, "represented_by": represented_by,
        "licensee": request.requester, "request": request.id}
    for name, value in (("production", request.production),
                        ("model_family", request.model_family),
                        ("post_mortem_representative", post_mortem_representative)):
        if value is not None:
            body[name] = value
    return body


def approve_request(home: Home, ledger: Ledger, request: str, *, represented_by: str = "none",
                    post_mortem_representative: str | None = None) -> Receipt:
    """Approve: the performer (or representative) signs the consent the request asks for."""
    req = request_detail(ledger.db, request)
    if req.status != "pending":
        raise Conflict(f"consent request {req.id} was already {req.status}; nothing is left to "
                       "decide")
    with ledger.db.read() as conn:
        signer = _decider(conn, req.performer)
        pmr = (resolve_party(conn, post_mortem_representative).id
               if post_mortem_representative else None)
    return submit_as(home, ledger, "consent.granted", signer,
                     approval_body(req, represented_by=represented_by,
                                   post_mortem_representative=pmr))


def prepare_decision(ledger: Ledger, request: str, *, approve: bool,
                     reason: str = "") -> dict[str, Any]:
    """The unsigned statement that approves (the consent asked for) or declines ``request``,
    for a signer elsewhere (the browser): it signs these exact bytes, as the CLI would."""
    req = request_detail(ledger.db, request)
    if req.status != "pending":
        raise Conflict(f"consent request {req.id} was already {req.status}; nothing is left to "
                       "decide")
    with ledger.db.read() as conn:
        signer = _decider(conn, req.performer)
    if approve:
        return ledger.new_statement("consent.granted", signer, approval_body(req))
    return ledger.new_statement("consent.request.declined", signer,
                                {"request": req.id, "reason": reason})


def decline_request(home: Home, ledger: Ledger, request: str, reason: str) -> Receipt:
    req = request_detail(ledger.db, request)
    with ledger.db.read() as conn:
        signer = _decider(conn, req.performer)
    return submit_as(home, ledger, "consent.request.declined", signer,
                     {"request": req.id, "reason": reason})


# ---------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------

def list_requests(db: Database, *, performer: str | None = None, requester: str | None = None,
                  status: str | None = None, guild: str | None = None) -> list[ConsentRequest]:
    """Requests (newest first), by performer, requester, status and/or the performer's
    ``guild`` (to any of its members)."""
    with db.read() as conn:
        q = select(consent_requests)
        if guild:
            q = q.where(consent_requests.c.performer_id.in_(
                select(guild_members.c.member_id)
                .where(guild_members.c.guild_id == resolve_party(conn, guild).id)))
        if performer:
            q = q.where(consent_requests.c.performer_id == resolve_party(conn, performer).id)
        if requester:
            q = q.where(consent_requests.c.requester_id == resolve_party(conn, requester).id)
        if status:
            q = q.where(consent_requests.c.status == status)
        rows = conn.execute(q.order_by(consent_requests.c.log_index.desc())).all()
    return [ConsentRequest.from_row(r) for r in rows]


def request_detail(db: Database, ref: str) -> ConsentRequest:
    _check_id(ref)
    with db.read() as conn:
        row = conn.execute(select(consent_requests)
                           .where(consent_requests.c.id == ref)).first()
    if row is None:
        raise NotFound(f"consent request {ref} is not recorded; `reelrights consent requests` "
                       "lists them")
    return ConsentRequest.from_row(row)
