"""Performer consent for digital replicas of voice and likeness, and the labor rules behind it.

Three statement types (schemas in :mod:`reelrights.rights.types`):

* ``consent.granted``: a performer consents to a specific use of their voice and/or likeness,
  signed with the performer's own key. After a recorded death, only the recorded
  representative may grant (SAG-AFTRA 2023 R6, CA AB 1836);
* ``consent.revoked``: the performer (or, after death, the representative) revokes a consent.
  The revocation applies from its log time on (the log decides, not the signer);
* ``performer.deceased``: the performer's authorised representative records the death. That is
  the party the performer named as ``post_mortem_representative`` in a consent. If the
  performer named none, it is a guild the performer is a member of ("or the union if none can
  be found", R6).

Like the registry's modules (:mod:`reelrights.registry.works`, say), it has three halves. The
*appliers* run inside the ledger's transaction and enforce what a signature cannot. The
*commands* build a statement, sign it with a key from the home and submit it. The *queries*
include :func:`find_consent`, which the policy engine asks whether a live consent covers a
request. The rules themselves are pure predicates in :mod:`reelrights.core.labor_rules`,
documented with their tests in ``docs/rules.md``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, select, update

from ..catalogue import lookup
from ..core import labor_rules as rules
from ..core.ids import new_id
from ..core.odrl.territory import Territory, parse_territory
from ..core.statements import decode_entry
from ..errors import BadInput, Conflict, InvalidStatement, NotFound, PolicyDenied
from ..home import Home
from ..ledger import Accepted, Ledger, Receipt, applier, each_statement
from ..registry.resolve import resolve_party
from ..registry.submit import submit_as
from ..store.consent_request_tables import consent_requests
from ..store.db import Database
from ..store.resolve import find_many, resolve, widen
from ..store.tables import consents, deaths, guild_members, log_entries, parties
from .records import CONSENT, Consent, ConsentDetail, ConsentEvent
from .types import CONSENT_KINDS, MEDIA

__all__ = ["ConsentCheck", "consent_detail", "find_consent", "grant_consent", "list_consents",
           "record_death", "revoke_consent"]

_BODY = "/statement/body"


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------

def _parse_date(text: str, pointer: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidStatement(f"{text!r} is not a calendar date like 2027-12-31",
                               pointer) from None


def _parse_time(text: str) -> datetime:
    """A statement time (RFC 3339 UTC, ``Z``), as an aware datetime."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidStatement(f"{text!r} is not an RFC 3339 UTC time like "
                               "2026-11-23T12:00:00Z", "/statement/time") from None


def _unique(values: list[str], pointer: str, what: str) -> None:
    seen: set[str] = set()
    for i, v in enumerate(values):
        if v in seen:
            raise InvalidStatement(f"{what} {v!r} appears twice; list it once", f"{pointer}/{i}")
        seen.add(v)


def _territories(codes: list[str], pointer: str) -> list[Territory]:
    out = []
    for i, code in enumerate(codes):
        try:
            t = parse_territory(code)
        except ValueError as exc:
            raise InvalidStatement(str(exc), f"{pointer}/{i}") from None
        out.append(t)
    _unique([t.code for t in out], pointer, "territory")
    return out


def _party(conn: Connection, party_id: str) -> Any:
    return conn.execute(select(parties.c.id, parties.c.kind, parties.c.name)
                        .where(parties.c.id == party_id)).first()


def _death(conn: Connection, performer_id: str) -> Any:
    return conn.execute(select(deaths).where(deaths.c.performer_id == performer_id)).first()


def _performer(conn: Connection, performer_id: str) -> Any:
    row = _party(conn, performer_id)
    if row is None:
        raise NotFound(f"performer {performer_id} is not a registered party; register them with "
                       "`reelrights party add --kind performer` first")
    if row.kind != "performer":
        raise BadInput(f"party {performer_id} ({row.name}) is a {row.kind}, not a performer; "
                       "only a performer party gives consent for voice and likeness")
    return row


# ---------------------------------------------------------------------------------------------
# Declared effect times: a date in the body, bounded by the log time
# ---------------------------------------------------------------------------------------------

def clock_skew_s(conn: Connection) -> int:
    """The clock skew this registry allows (its ``registry.established`` statement; the default
    on a log that has none yet)."""
    from ..admission import DEFAULT_CLOCK_SKEW_S

    entry = conn.scalar(select(log_entries.c.entry)
                        .where(log_entries.c.type == "registry.established")
                        .order_by(log_entries.c.idx).limit(1))
    if entry is None:
        return DEFAULT_CLOCK_SKEW_S
    return int(decode_entry(bytes(entry)).body["clock_skew_s"])


def check_declared_effect(a: Accepted, skew_s: int) -> None:
    """A statement whose type declares its effect time (``effect == "declared"``) names that
    date in its body; it must lie within the type's bound of the log time ``a.time``.

    ``at_most_log_time``: the date is on or before the log time's (UTC) date: a death is
    recorded after it happens. ``at_least_log_time_minus_skew``: the date is on or after the
    date of the log time minus the clock skew: a consent (or strike) cannot start in the past.
    """
    s = a.statement
    t = lookup(s.type, s.version)
    if t.effect != "declared":
        return
    field = t.effect_field or ""
    pointer = f"{_BODY}/{field}"
    declared = _parse_date(s.body[field], pointer)
    log_time = _parse_time(a.time)
    if t.effect_bound == "at_most_log_time":
        bound = log_time.astimezone(UTC).date()
        if declared > bound:
            raise InvalidStatement(
                f"{field} {declared.isoformat()} is after the log time {a.time}: a {s.type} "
                f"{field} is at most the log time; state the date it happened, {bound} or "
                "earlier", pointer)
    elif t.effect_bound == "at_least_log_time_minus_skew":
        bound = (log_time - timedelta(seconds=skew_s)).astimezone(UTC).date()
        if declared < bound:
            raise InvalidStatement(
                f"{field} {declared.isoformat()} is before {bound}, the log time {a.time} "
                f"minus the {skew_s} s clock skew: a {s.type} {field} is at least the log time "
                f"minus the skew (it cannot take effect in the past); set {field} to {bound} "
                "or later and sign again", pointer)
    else:
        raise InvalidStatement(f"{s.type} declares an unknown effect bound {t.effect_bound!r}",
                               "/statement/type")


# ---------------------------------------------------------------------------------------------
# Appliers: statements -> rows (inside the ledger's transaction)
# ---------------------------------------------------------------------------------------------

@applier("consent.granted")
@each_statement
def _apply_grant(conn: Connection, a: Accepted) -> dict[str, Any]:
    row, notes = _check_grant(conn, a, clock_skew_s(conn))
    if "request" in a.statement.body:
        _approve_request(conn, a, row)
    conn.execute(consents.insert().values(**row, log_index=a.index, granted_at=a.time))
    return {"id": row["id"], "performer": row["performer_id"], "signed_by": row["signed_by"],
            "kinds": json.loads(row["kinds"]), "notes": notes}


def _check_grant(conn: Connection, a: Accepted, skew_s: int) -> tuple[dict[str, Any], list[str]]:
    s, b = a.statement, a.statement.body
    _parse_time(s.time)  # revocations are compared with it
    performer = _performer(conn, b["performer"])
    death = _death(conn, performer.id)
    problem = rules.signer_problem(
        s.actor, performer.id, representative=death.representative_id if death else None,
        died_on=date.fromisoformat(death.date) if death else None)
    if problem:
        raise PolicyDenied(problem)
    if conn.execute(select(consents.c.id).where(consents.c.id == b["id"])).first() is not None:
        raise Conflict(f"consent id {b['id']} is already recorded; pick a new id")
    _unique(b["kinds"], f"{_BODY}/kinds", "kind")
    _unique(b["media"], f"{_BODY}/media", "medium")
    territory = _territories(b["territory"], f"{_BODY}/territory")
    start = _parse_date(b["start"], f"{_BODY}/start")
    end = _parse_date(b["end"], f"{_BODY}/end")
    if problem := rules.period_problem(start, end):
        raise InvalidStatement(problem, f"{_BODY}/end")
    check_declared_effect(a, skew_s)
    if problem := rules.scope_problem(b.get("production"), b.get("model_family")):
        raise PolicyDenied(problem)
    # (a sealed consent replayed without its body: its details read "body unavailable")
    if "description" in b and (problem := rules.description_problem(b["description"])):
        raise PolicyDenied(problem)
    for field in ("licensee", "post_mortem_representative"):
        if field in b and _party(conn, b[field]) is None:
            raise NotFound(f"{field.replace('_', ' ')} {b[field]} is not a registered party; "
                           "register it first with `reelrights party add`")
    if b.get("post_mortem_representative") == performer.id:
        raise BadInput(f"{performer.id} cannot be their own post-mortem representative; name "
                       "the estate, an heir or an agent")
    row = {"id": b["id"], "performer_id": performer.id, "signed_by": s.actor,
           "kinds": json.dumps(b["kinds"]), "description": b.get("description", ""),
           "production": b.get("production"), "model_family": b.get("model_family"),
           "licensee_id": b.get("licensee"), "media": json.dumps(b["media"]),
           "territory": json.dumps([t.code for t in territory]), "start": b["start"],
           "end": b["end"], "compensation_ref": b.get("compensation_ref", ""),
           "represented_by": b["represented_by"],
           "post_mortem_representative": b.get("post_mortem_representative")}
    note = rules.representation_note(b["represented_by"])
    return row, [note] if note else []


def _approve_request(conn: Connection, a: Accepted, row: dict[str, Any]) -> None:
    """A consent naming a request approves it: it must grant exactly what was asked, to the
    requester, for the performer asked (:mod:`reelrights.rights.consent_requests`)."""
    from .consent_requests import pending_request

    req = pending_request(conn, a.statement.body["request"])
    asked = {"performer": req.performer_id, "kinds": sorted(json.loads(req.kinds)),
             "media": sorted(json.loads(req.media)),
             "territory": sorted(json.loads(req.territory)), "start": req.start,
             "end": req.end, "production": req.production, "model_family": req.model_family,
             "licensee": req.requester_id, "compensation_ref": req.compensation_ref,
             "description": req.description}
    given = {"performer": row["performer_id"], "kinds": sorted(json.loads(row["kinds"])),
             "media": sorted(json.loads(row["media"])),
             "territory": sorted(json.loads(row["territory"])), "start": row["start"],
             "end": row["end"], "production": row["production"],
             "model_family": row["model_family"], "licensee": row["licensee_id"],
             "compensation_ref": row["compensation_ref"], "description": row["description"]}
    differ = [k for k in asked if asked[k] != given[k]]
    if differ:
        raise PolicyDenied(f"consent {row['id']} names request {req.id} but does not grant what "
                           f"it asks ({', '.join(differ)} differ); approve with `reelrights "
                           "consent approve`, or grant a consent of your own without the request")
    conn.execute(update(consent_requests).where(consent_requests.c.id == req.id).values(
        status="approved", decided_by=a.statement.actor, decided_index=a.index,
        decided_at=a.time, consent_id=row["id"]))


@applier("consent.revoked")
@each_statement
def _apply_revocation(conn: Connection, a: Accepted) -> dict[str, Any]:
    s, b = a.statement, a.statement.body
    row = conn.execute(select(consents).where(consents.c.id == b["consent"])).first()
    if row is None:
        raise NotFound(f"consent {b['consent']} is not recorded; `reelrights consent list` shows "
                       "the consents on file")
    if row.revoked_at is not None:
        raise Conflict(f"consent {row.id} was already revoked at {row.revoked_at} "
                       f"(log {row.revoked_index}); nothing is left to revoke")
    death = _death(conn, row.performer_id)
    allowed = death.representative_id if death else row.performer_id
    if s.actor != allowed:
        who = (f"the recorded representative {allowed} of the deceased performer "
               f"{row.performer_id}" if death else f"the performer {allowed}")
        raise PolicyDenied(f"only {who} may revoke consent {row.id}, not {s.actor}; "
                           "sign with that party's key")
    if _parse_time(a.time) < _parse_time(row.granted_at):
        raise InvalidStatement(f"revocation log time {a.time} is before the consent was "
                               f"granted ({row.granted_at}); a revocation applies from "
                               "its own log time on", "/statement/time")
    # The log's time decides when the revocation takes effect, never the signed time.
    conn.execute(update(consents).where(consents.c.id == row.id).values(
        revoked_at=a.time, revoked_index=a.index, revoke_reason=b["reason"]))
    return {"consent": row.id, "performer": row.performer_id, "revoked_at": a.time}


@applier("performer.deceased")
@each_statement
def _apply_death(conn: Connection, a: Accepted) -> dict[str, Any]:
    s, b = a.statement, a.statement.body
    performer = _performer(conn, b["performer"])
    check_declared_effect(a, 0)  # the date of death is at most the log time
    known = _death(conn, performer.id)
    if known is not None:
        raise Conflict(f"the death of {performer.id} is already recorded (died {known.date}, "
                       f"log {known.log_index}, representative {known.representative_id})")
    _check_representative(conn, performer.id, s.actor)
    conn.execute(deaths.insert().values(performer_id=performer.id, date=b["date"],
                                        representative_id=s.actor, log_index=a.index))
    _mark_runs_after_death(conn, a, performer.id, b["date"])
    return {"performer": performer.id, "date": b["date"], "representative": s.actor}


def _mark_runs_after_death(conn: Connection, a: Accepted, performer_id: str, died: str) -> int:
    """A death recorded after a run committed on or after its date, while the run relied on the
    performer's consent, is a late fact: mark the run and its certificates logged before it."""
    from ..evidence.marks import record_marks, runs_relying_on_consent

    targets = [
        {"run": run, "bundle": bundle, "license": lic,
         "reason": f"performer {performer_id} died on {died} (recorded at log {a.index}, "
                   f"{a.time}), on or before run {run.id} was committed ({run.committed_at}); "
                   f"the run relied on their consent ({how}), and a consent given in life does "
                   "not count from the death on (SAG-AFTRA 2023 R6)"}
        for run, bundle, lic, how in runs_relying_on_consent(conn, performer_id, died, a.index)]
    return record_marks(conn, a, "death", performer_id, targets)


def _check_representative(conn: Connection, performer_id: str, actor: str) -> None:
    """Who may record a death and so become the performer's representative (R6).

    The authorised representative is a party the performer named as
    ``post_mortem_representative`` in a consent they signed themselves. If the performer named
    none, the union stands in: a guild the performer is a member of.
    """
    named = set(conn.scalars(select(consents.c.post_mortem_representative).where(
        consents.c.performer_id == performer_id, consents.c.signed_by == performer_id,
        consents.c.post_mortem_representative.is_not(None))))
    if named:
        if actor not in named:
            raise PolicyDenied(
                f"only the post-mortem representative {performer_id} named "
                f"({', '.join(sorted(named))}) may record their death, not {actor} "
                "(SAG-AFTRA 2023 R6); sign with the representative's key")
        return
    member = conn.execute(select(guild_members.c.guild_id).where(
        guild_members.c.guild_id == actor, guild_members.c.member_id == performer_id)).first()
    if member is None:
        raise PolicyDenied(
            f"{performer_id} named no post-mortem representative in any consent, so only a "
            f"guild they are a member of may record their death (SAG-AFTRA 2023 R6: the union "
            f"if no representative can be found); {actor} is not one")


# ---------------------------------------------------------------------------------------------
# Commands: what a performer or representative runs (build, sign with its key, submit)
# ---------------------------------------------------------------------------------------------

def _codes(values: Sequence[str], option: str) -> list[str]:
    out: list[str] = []
    for v in values:
        try:
            code = parse_territory(v).code
        except ValueError as exc:
            raise BadInput(f"{option} {v}: {exc}") from None
        if code not in out:
            out.append(code)
    return out


def grant_consent(home: Home, ledger: Ledger, *, performer: str, kinds: Sequence[str],
                  description: str, media: Sequence[str], territory: Sequence[str],
                  start: date, end: date, compensation_ref: str, represented_by: str,
                  production: str | None = None, model_family: str | None = None,
                  licensee: str | None = None, post_mortem_representative: str | None = None,
                  signer: str | None = None, sealed: bool = False) -> Receipt:
    """Record a performer's consent, signed with the performer's key from the home.
    ``sealed``: seal its description and compensation reference (docs/sealed.md).

    ``signer`` is the recorded representative when the performer has died (``--as``).
    Parties are named by id or unique name.
    """
    with ledger.db.read() as conn:
        performer_id = resolve_party(conn, performer).id
        signer_id = resolve_party(conn, signer).id if signer else performer_id
        licensee_id = resolve_party(conn, licensee).id if licensee else None
        pmr_id = (resolve_party(conn, post_mortem_representative).id
                  if post_mortem_representative else None)
    body: dict[str, Any] = {
        "id": new_id("consent"), "performer": performer_id, "kinds": list(dict.fromkeys(kinds)),
        "description": description, "media": list(dict.fromkeys(media)),
        "territory": _codes(territory, "--territory"), "start": start.isoformat(),
        "end": end.isoformat(), "compensation_ref": compensation_ref,
        "represented_by": represented_by}
    for name, value in (("production", production), ("model_family", model_family),
                        ("licensee", licensee_id), ("post_mortem_representative", pmr_id)):
        if value is not None:
            body[name] = value
    # Refuse what the rules refuse before anything is signed (the applier checks again).
    if problem := rules.period_problem(start, end):
        raise BadInput(problem)
    if problem := rules.scope_problem(production, model_family):
        raise PolicyDenied(problem)
    if problem := rules.description_problem(description):
        raise PolicyDenied(problem)
    return submit_as(home, ledger, "consent.granted", signer_id, body, sealed=sealed)


def revoke_consent(home: Home, ledger: Ledger, consent: str, reason: str,
                   signer: str | None = None) -> Receipt:
    """Revoke a consent from now on, signed by the performer (or the representative after
    death, who is chosen by default when the death is recorded)."""
    with ledger.db.read() as conn:
        row = resolve(conn, CONSENT, consent)
        death = _death(conn, row.performer_id)
        default = death.representative_id if death else row.performer_id
        signer_id = resolve_party(conn, signer).id if signer else default
    return submit_as(home, ledger, "consent.revoked", signer_id,
                     {"consent": row.id, "reason": reason})


def record_death(home: Home, ledger: Ledger, performer: str, died: date,
                 representative: str) -> Receipt:
    """Record a performer's death, signed by the authorised representative (or guild)."""
    with ledger.db.read() as conn:
        performer_id = resolve_party(conn, performer).id
        rep_id = resolve_party(conn, representative).id
    return submit_as(home, ledger, "performer.deceased", rep_id,
                     {"performer": performer_id, "date": died.isoformat(),
                      "representative": rep_id})


# ---------------------------------------------------------------------------------------------
# The query the policy engine uses
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ConsentCheck:
    """Whether a live consent covers a request, and why (or why not), one line per reason.

    On success ``consent_id`` and ``log_index`` name the covering consent and ``reasons`` starts
    with the line saying what it covers. On failure ``reasons`` lists every miss of every
    consent on file (or says there is none).
    """

    ok: bool
    consent_id: str | None
    log_index: int | None
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "consent_id": self.consent_id, "log_index": self.log_index,
                "reasons": list(self.reasons)}


def find_consent(conn: Connection, *, performer_id: str, kind: Literal["voice", "likeness"],
                 on: date, production: str | None, model_family: str | None,
                 licensee_id: str | None, territory: str | None,
                 medium: str | None) -> ConsentCheck:
    """Does a live consent of ``performer_id`` cover this use of their ``kind``?

    A consent covers the request when every one of these holds:

    * it includes ``kind`` (``voice`` for synthesizeVoice, ``likeness`` for synthesizeLikeness);
    * ``start <= on <= end``, and ``on`` falls before the UTC day of its revocation, if any
      (a revocation applies from its time on, so a use dated on that day is not covered);
    * if it names a production, ``production`` equals it (SAG-AFTRA R4). Likewise the model
      family and the licensee. All three compare exactly, so use the same identifiers (IRIs)
      the consent was granted with;
    * ``territory`` lies within the union of its territories (``FR`` within ``EU``). With
      ``territory=None`` only a consent for ``WORLD`` covers the request;
    * ``medium``, if given, is one of its media;
    * if the performer's death is recorded and ``on`` is on or after the date of death, it
      was signed by the recorded representative after the death (R6, AB 1836).

    When several consents cover the request, the latest one (highest log index) is returned.
    Raises :class:`~reelrights.errors.BadInput` for a malformed argument (an unknown kind,
    medium or territory). An unknown performer is a miss, not an error.
    """
    if kind not in CONSENT_KINDS:
        raise BadInput(f"consent kind {kind!r} is not one of {', '.join(CONSENT_KINDS)}")
    if medium is not None and medium not in MEDIA:
        raise BadInput(f"medium {medium!r} is not one of {', '.join(MEDIA)}")
    if isinstance(on, datetime):
        on = (on.astimezone(UTC) if on.tzinfo else on).date()
    wanted: Territory | None = None
    if territory is not None:
        try:
            wanted = parse_territory(territory)
        except ValueError as exc:
            raise BadInput(f"territory {territory}: {exc}") from None
    performer = _party(conn, performer_id)
    if performer is None:
        return ConsentCheck(False, None, None, (
            f"{performer_id} is not a registered party, so no consent from them is on file",))
    death = _death(conn, performer_id)
    died_on = date.fromisoformat(death.date) if death else None
    rows = conn.execute(select(consents).where(consents.c.performer_id == performer_id)
                        .order_by(consents.c.log_index.desc())).all()
    if not rows:
        return ConsentCheck(False, None, None, (
            f"no consent from {performer_id} is on file: {kind} needs the performer's "
            "separately signed consent (SAG-AFTRA 2023 R1)",))
    misses: list[str] = []
    for row in rows:
        problems = _misses(row, kind=kind, on=on, production=production,
                           model_family=model_family, licensee_id=licensee_id, wanted=wanted,
                           medium=medium, death=death, died_on=died_on)
        if not problems:
            return ConsentCheck(True, row.id, row.log_index,
                                _covers(row, kind, on, production, model_family, licensee_id,
                                        wanted, medium, death))
        head = f"consent {row.id} (log {row.log_index})"
        misses.extend(f"{head} {p}" if p.startswith(("is ", "was ", "expired", "starts",
                                                      "does ")) else f"{head}: {p}"
                      for p in problems)
    return ConsentCheck(False, None, None, tuple(misses))


def _misses(row: Any, *, kind: str, on: date, production: str | None,
            model_family: str | None, licensee_id: str | None, wanted: Territory | None,
            medium: str | None, death: Any, died_on: date | None) -> list[str]:
    out: list[str] = []
    kinds = json.loads(row.kinds)
    if kind not in kinds:
        out.append(f"does not cover {kind} (only {', '.join(kinds)})")
    start, end = date.fromisoformat(row.start), date.fromisoformat(row.end)
    if on < start:
        out.append(f"starts on {row.start}, after {on.isoformat()}")
    if on > end:
        out.append(f"expired on {row.end}, before {on.isoformat()}")
    if row.revoked_at is not None and on >= _parse_time(row.revoked_at).date():
        out.append(f"was revoked at {row.revoked_at} (log {row.revoked_index}); a revocation "
                   "applies from its time on")
    for problem in (rules.production_problem(row.production, production),
                    rules.model_family_problem(row.model_family, model_family),
                    rules.licensee_problem(row.licensee_id, licensee_id)):
        if problem:
            out.append(problem)
    codes = json.loads(row.territory)
    allowed = frozenset().union(*(parse_territory(c).members for c in codes))
    if wanted is None:
        if "WORLD" not in codes:
            out.append(f"territory [{', '.join(codes)}] does not cover an unspecified "
                       "territory; the request must name one (only WORLD covers none)")
    elif not wanted.members <= allowed:
        out.append(f"territory {wanted.code} not in [{', '.join(codes)}]")
    media = json.loads(row.media)
    if medium is not None and medium not in media:
        out.append(f"does not cover medium {medium} (only {', '.join(media)})")
    if problem := rules.deceased_consent_problem(
            died_on=died_on, on=on, signed_by=row.signed_by,
            representative=death.representative_id if death else None,
            granted_after_death=death is not None and row.log_index > death.log_index):
        out.append(problem)
    return out


def _covers(row: Any, kind: str, on: date, production: str | None, model_family: str | None,
            licensee_id: str | None, wanted: Territory | None, medium: str | None,
            death: Any) -> tuple[str, ...]:
    scope = [f"production {production}" if row.production else None,
             f"model family {model_family}" if row.model_family else None,
             f"licensee {licensee_id}" if row.licensee_id else None,
             f"medium {medium}" if medium else None,
             wanted.code if wanted else "any territory (WORLD)"]
    line = (f"consent {row.id} (log {row.log_index}) covers {kind} for "
            f"{', '.join(s for s in scope if s)}, {on.isoformat()}")
    out = [line]
    if death is not None and row.signed_by == death.representative_id:
        out.append(f"signed by representative {row.signed_by} after the death of "
                   f"{row.performer_id} on {death.date} (SAG-AFTRA 2023 R6)")
    if note := rules.representation_note(row.represented_by):
        out.append(note)
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Other queries
# ---------------------------------------------------------------------------------------------

def list_consents(db: Database, performer: str | None = None, *,
                  guild: str | None = None) -> list[Consent]:
    """Every consent on file (optionally one performer's, or those of ``guild``'s members), in
    log order."""
    with db.read() as conn:
        where = [consents.c.performer_id == resolve_party(conn, performer).id] if performer else []
        if guild:
            where.append(consents.c.performer_id.in_(
                select(guild_members.c.member_id)
                .where(guild_members.c.guild_id == resolve_party(conn, guild).id)))
        return find_many(conn, CONSENT, *where)


def consent_detail(db: Database, ref: str) -> ConsentDetail:
    """One consent with its full history: granted, revoked, the performer's death, each with
    its log index."""
    with db.read() as conn:
        c = resolve(conn, CONSENT, ref)
        death = _death(conn, c.performer_id)
        revoker = (conn.scalar(select(log_entries.c.actor)
                               .where(log_entries.c.idx == c.revoked_index))
                   if c.revoked_index is not None else None)
    history = [ConsentEvent("granted", c.log_index, c.signed_by, time=c.granted_at)]
    if c.revoked_at is not None and c.revoked_index is not None:
        history.append(ConsentEvent("revoked", c.revoked_index, revoker, time=c.revoked_at,
                                    reason=c.revoke_reason))
    if death is not None:
        history.append(ConsentEvent("performer deceased", death.log_index,
                                    death.representative_id, date=death.date))
    history.sort(key=lambda e: e.log_index)
    return widen(c, ConsentDetail, history=tuple(history))
