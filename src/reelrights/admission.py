"""What the log decides about each statement: its time, its uniqueness and what it supersedes.

A signer chooses a statement's content, never when it takes effect. Under the log head's lock
the ledger takes the **log time** ``T = max(now, previous T)`` (so log times never decrease in
index order) and writes it into the leaf, where the tree covers it. The signed ``time`` is the
signer's claim and must fall in ``[T - submission window, T + clock skew]`` (72 hours and 5
minutes unless the deployment's ``registry.established`` statement says otherwise): a statement
cannot be backdated past the window or dated in the future.

Every v2 statement has an id, unique in its registry: the log never appends one twice, so a
byte-identical replay is refused. A statement bound to another registry is refused. Statements
that replace a fact name it in ``supersedes`` and are refused unless it is still the current fact
(compare-and-swap, :data:`SUBJECTS`): a stale or replayed replacement can never undo a newer one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select

from .core.key_history import DEFAULT_ROTATION_WAIT_S
from .core.statements import SignedStatement, parse_time, utc_now
from .errors import Conflict, InvalidStatement, ReelrightsError
from .store.tables import current_facts, log_entries

__all__ = ["DEFAULT_CLOCK_SKEW_S", "DEFAULT_KEY_ROTATION_WAIT_S", "DEFAULT_SUBMISSION_WINDOW_S",
           "Deployment", "SUBJECTS", "Supersession", "check_ids", "check_supersedes", "check_times", "current_fact",
           "log_time_after", "record_current"]

DEFAULT_CLOCK_SKEW_S = 300
DEFAULT_SUBMISSION_WINDOW_S = 72 * 3600
DEFAULT_KEY_ROTATION_WAIT_S = DEFAULT_ROTATION_WAIT_S
#: The reserved actor of statements signed by the operator with the log's key.
OPERATOR = "operator"


@dataclass(frozen=True)
class Deployment:
    """A registry's rules, as its ``registry.established`` statement logged them."""

    registry: str
    clock_skew_s: int = DEFAULT_CLOCK_SKEW_S
    submission_window_s: int = DEFAULT_SUBMISSION_WINDOW_S
    #: Log index of the registry.established statement: v1 entries stand only before it.
    v2_from: int = 0
    #: The operator's own public key, if the establishment names one: statements of actor
    #: ``operator`` after it are signed with it (else with the log's key).
    operator_key: bytes | None = None
    #: How long a key rotation waits before it takes effect, during which the party's recovery
    #: key can cancel it (``key_rotation_wait_s``; 72 h unless the establishment says
    #: otherwise; reelrights.core.key_history).
    key_rotation_wait_s: int = DEFAULT_KEY_ROTATION_WAIT_S


def log_time_after(previous: str | None, now: str | None = None) -> str:
    """The log time for the next batch: ``now`` (default: the clock), or the previous log time
    if the clock went back."""
    now = utc_now() if now is None else now
    return previous if previous is not None and previous > now else now


def check_times(stmts: Sequence[SignedStatement], log_time: str, rules: Deployment,
                raise_at: Callable[[int, ReelrightsError], None]) -> None:
    """Every signed time is an RFC 3339 UTC time within [T - window, T + skew] of the log time T.

    The times are compared as text: written with 6 fraction digits (as the bounds are), RFC
    3339 UTC times of a 4-digit year sort as the instants they name. A time of any other shape
    is parsed in full, which refuses it with its error. Whether a well-shaped time names a real
    instant (not 2026-02-30) is :func:`~reelrights.core.statements.decode_entry`'s check, which
    every statement passes before its batch commits.
    """
    t = parse_time(log_time)
    latest = _fixed(t + timedelta(seconds=rules.clock_skew_s))
    earliest = _fixed(t - timedelta(seconds=rules.submission_window_s))
    shape = _TIME_SHAPE.fullmatch
    for pos, s in enumerate(stmts):
        text = s.time
        if type(text) is not str or not shape(text):
            try:
                parse_time(text)  # refuses it, with the reason
            except ReelrightsError as exc:
                raise_at(pos, exc)
                continue
            raise_at(pos, InvalidStatement("must be an RFC 3339 UTC time like "
                                           "2026-01-31T12:00:00Z", "/statement/time"))
            continue
        n = len(text)
        key = text if n == 27 else (text[:19] + ".000000Z" if n == 20
                                    else text[:-1].ljust(26, "0") + "Z")
        if earliest <= key <= latest:
            continue
        try:
            signed = parse_time(text)
        except ReelrightsError as exc:  # the shape of a time, but no real instant
            raise_at(pos, exc)
            continue
        if key > latest:
            raise_at(pos, InvalidStatement(
                f"signed time {s.time} is {_ago(signed - t)} after the log's time {log_time} "
                f"(at most {rules.clock_skew_s} s of clock skew); fix the signer's clock and "
                "sign again", "/statement/time"))
        else:
            raise_at(pos, InvalidStatement(
                f"signed time {s.time} is {_ago(t - signed)} before the log's time {log_time}, "
                f"outside the {rules.submission_window_s // 3600} h submission window; "
                "sign the statement again now", "/statement/time"))


#: A signed time's shape (as :func:`~reelrights.core.statements.parse_time` requires it).
_TIME_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")


def _fixed(t: datetime) -> str:
    """``t`` written as log times are: 27 characters, 6 fraction digits."""
    return t.isoformat(timespec="microseconds")[:26] + "Z"  # (the offset is +00:00)


def _ago(delta: timedelta) -> str:
    s = int(delta.total_seconds())
    return f"{s // 3600} h {s % 3600 // 60} min" if s >= 3600 else f"{s} s"


#: The logged entries with any of the statement ids ``ids`` (built once: every batch asks).
_LOGGED_IDS = select(log_entries.c.statement_id, log_entries.c.idx).where(
    log_entries.c.statement_id.in_(bindparam("ids", expanding=True)))


def check_ids(conn: Connection, stmts: Sequence[SignedStatement],
              raise_at: Callable[[int, ReelrightsError], None]) -> None:
    """No statement id twice: neither within the batch nor already in the log (a replay)."""
    seen: dict[str, int] = {}
    for pos, s in enumerate(stmts):
        if s.id is None:  # v1: no id (a v2 log refuses v1 statements before this)
            continue
        if s.id in seen:
            raise_at(pos, Conflict(f"statement {s.id} appears twice in the batch (also as "
                                   f"statement {seen[s.id] + 1}); each statement is logged once"))
        seen[s.id] = pos
    ids = list(seen)
    logged: dict[str, int] = {}
    for k in range(0, len(ids), 500):
        for sid, idx in conn.execute(_LOGGED_IDS, {"ids": ids[k:k + 500]}):
            logged[sid] = int(idx)
    if logged:
        sid = min(logged, key=seen.__getitem__)  # the first in the batch
        pos = seen[sid]
        raise_at(pos, Conflict(f"statement {sid} is already in the log at index {logged[sid]}: "
                               "a statement is logged once (sign a new statement, with a new "
                               "id, to state a fact again)"))


# -- supersession ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Supersession:
    """How a statement type relates to the current fact about its subject.

    ``new``: the subject must have no current fact (it creates one). ``next``: it replaces the
    current fact, which it must name, or it is the first. ``end``: a current fact must exist and
    be named (a revocation).
    """

    mode: str
    subject: Callable[[dict[str, Any]], str]


SUBJECTS: dict[str, Supersession] = {
    "registry.established": Supersession("new", lambda b: "registry"),
    "license.granted": Supersession("new", lambda b: f"license:{b['id']}"),
    "license.revoked": Supersession("end", lambda b: f"license:{b['license']}"),
    "consent.granted": Supersession("new", lambda b: f"consent:{b['id']}"),
    "consent.revoked": Supersession("end", lambda b: f"consent:{b['consent']}"),
    "performer.deceased": Supersession("new", lambda b: f"deceased:{b['performer']}"),
    "fund.terms": Supersession("next", lambda b: f"fund.terms:{b['license']}"),
}


def subject_of(s: SignedStatement) -> str | None:
    rule = SUBJECTS.get(s.type)
    return None if rule is None else rule.subject(s.body)


def current_fact(conn: Connection, subject: str) -> dict[str, Any] | None:
    """The current fact about ``subject`` as a ``supersedes`` value, or None."""
    row = conn.execute(select(current_facts.c.statement_id, current_facts.c.log_index)
                       .where(current_facts.c.subject == subject)).first()
    if row is None:
        return None
    return {"id": row.statement_id} if row.statement_id else {"index": int(row.log_index)}


def check_supersedes(conn: Connection, stmts: Sequence[SignedStatement],
                     raise_at: Callable[[int, ReelrightsError], None]) -> list[tuple[int, str]]:
    """Compare-and-swap: each superseding statement names its subject's current fact.

    Returns (position, subject) for the statements that become current facts. Earlier
    statements of the same batch count: two revocations of one license in one batch fail.
    """
    wanted: list[tuple[int, str]] = []
    bad = None
    rules = SUBJECTS
    for pos, s in enumerate(stmts):
        rule = rules.get(s.type)
        if rule is not None:
            wanted.append((pos, rule.subject(s.body)))
        elif s.supersedes is not None and bad is None:
            bad = pos
    if bad is not None:
        s = stmts[bad]
        raise_at(bad, InvalidStatement(f"a {s.type} statement replaces nothing; remove "
                                       "supersedes", "/statement/supersedes"))
    if not wanted:
        return []
    subjects = sorted({subj for _, subj in wanted})
    current: dict[str, tuple[str | None, int]] = {}
    for k in range(0, len(subjects), 500):
        for subj, sid, idx in conn.execute(
                select(current_facts.c.subject, current_facts.c.statement_id,
                       current_facts.c.log_index)
                .where(current_facts.c.subject.in_(subjects[k:k + 500]))):
            current[subj] = (sid, int(idx))
    for pos, subj in wanted:
        s = stmts[pos]
        mode = SUBJECTS[s.type].mode
        now = current.get(subj)
        named = s.supersedes
        if now is None:
            if named is not None:
                raise_at(pos, Conflict(f"{s.type} names {_fact(named)} in supersedes, but "
                                       f"{_subject_words(subj)} has no current fact to replace"))
            if mode == "end":
                raise_at(pos, Conflict(f"{_subject_words(subj)} is not a current fact: there "
                                       f"is nothing for {s.type} to end"))
        else:
            if mode == "new":
                fix = "" if subj.startswith("deceased:") else "; pick a new id"
                raise_at(pos, Conflict(f"{_subject_words(subj)} is already recorded (log "
                                       f"{now[1]}){fix}"))
            if named is None:
                raise_at(pos, Conflict(
                    f"{_subject_words(subj)} has a current fact ({_fact(_as_ref(now))}, log "
                    f"{now[1]}); {s.type} must name it in supersedes to replace it"))
            elif not _matches(named, now):
                raise_at(pos, Conflict(
                    f"{s.type} supersedes {_fact(named)}, which is no longer the current fact "
                    f"about {_subject_words(subj)} (now {_fact(_as_ref(now))}, log {now[1]}): "
                    "it is stale or a replay; read the current state and sign again"))
        current[subj] = (s.id, -1)  # the rest of the batch must name this one
    return wanted


def record_current(conn: Connection, stmts: Sequence[SignedStatement], first_index: int,
                   wanted: list[tuple[int, str]]) -> None:
    """Make each (position, subject) statement its subject's current fact."""
    last: dict[str, int] = {}
    for pos, subj in wanted:
        last[subj] = pos
    if not last:
        return
    conn.execute(current_facts.delete().where(current_facts.c.subject.in_(list(last))))
    conn.execute(current_facts.insert(), [
        {"subject": subj, "statement_id": stmts[pos].id, "log_index": first_index + pos}
        for subj, pos in last.items()])


def _matches(named: dict[str, Any], now: tuple[str | None, int]) -> bool:
    if "id" in named:
        return now[0] is not None and named["id"] == now[0]
    return named["index"] == now[1] and now[1] >= 0


def _as_ref(now: tuple[str | None, int]) -> dict[str, Any]:
    return {"id": now[0]} if now[0] else {"index": now[1]}


def _fact(ref: dict[str, Any]) -> str:
    return ref["id"] if "id" in ref else f"the statement at log index {ref['index']}"


def _subject_words(subject: str) -> str:
    kind, _, key = subject.partition(":")
    return {"license": f"license {key}", "consent": f"consent {key}",
            "deceased": f"the death record of {key}", "fund.terms": f"the fund terms of {key}",
            "registry": "this registry's establishment"}.get(kind, subject)

