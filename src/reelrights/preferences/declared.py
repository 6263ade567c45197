"""Declared preferences: the ``preference.declared`` applier, the command that records one, and
the read the policy engine asks (:func:`preference_denials`).

Who may declare: the work's owner, or a party credited on the work (a performer, a writer: a
rights holder in it). A party's latest declaration about a work is its current one.

What ``check`` does with them (docs/preferences.md, "Contracts override preferences"): a use
that a current preference disallows (:func:`reelrights.preferences.categories.decide`) is
denied, with exit 3, unless the license that permits it is a contract **of the declarer**: the
declarer granted it, or co-signed it (a guild). draft-ietf-aipref-vocab §7.2: "If arrangements,
such as legal agreements, exist that explicitly permit the use of that asset, those
arrangements likely apply despite the existence of machine-readable statements of preference".
Another party's license cannot waive a preference that is not its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from ..catalogue import applier
from ..errors import NotFound, PolicyDenied
from ..home import Home
from ..ledger import Accepted, Ledger, Receipt, each_statement
from ..registry.resolve import resolve_party, resolve_work
from ..registry.submit import submit_as
from ..store.db import Database
from ..store.preference_tables import preferences
from ..store.tables import credits, work_assets, works
from .categories import Preferences, decide

__all__ = ["Denial", "declare_preference", "list_preferences", "preference_denials",
           "preferred_assets", "works_with_preferences"]


@applier("preference.declared")
@each_statement
def _apply_preference(conn: Connection, a: Accepted) -> dict[str, Any]:
    b, actor = a.statement.body, a.statement.actor
    work = conn.execute(select(works.c.id, works.c.owner_id).where(works.c.id == b["work"])).first()
    if work is None:
        raise NotFound(f"work {b['work']} is not registered; check the id with "
                       "`reelrights work list`")
    if work.owner_id != actor and conn.execute(select(credits.c.party_id).where(
            credits.c.work_id == work.id, credits.c.party_id == actor).limit(1)).first() is None:
        raise PolicyDenied(f"{actor} is neither the owner of {work.id} nor credited on it, so "
                           "it holds no rights there to declare a preference about; sign with "
                           "the owner's key or a credited party's")
    src = b["source"]
    conn.execute(preferences.insert().values(
        log_index=a.index, statement_id=a.statement.id or f"idx{a.index}", work_id=work.id,
        declarer_id=actor, pref_values=json.dumps(b["values"], sort_keys=True),
        source_format=src["format"], source_sha256=src["sha256"], source_url=src.get("url"),
        source_path=src.get("path"), notes=json.dumps(b.get("notes", [])), declared_at=a.time))
    return {"work": work.id, "declarer": actor, "values": b["values"]}


def declare_preference(home: Home, ledger: Ledger, work_ref: str, prefs: Preferences, *,
                       source_format: str, source_sha256: str, declarer: str | None = None,
                       url: str | None = None, path: str | None = None,
                       user_agent: str | None = None) -> Receipt:
    """Sign and submit ``prefs`` about a work as ``declarer`` (default: the work's owner)."""
    with ledger.db.read() as conn:
        work = resolve_work(conn, work_ref)
        who = resolve_party(conn, declarer).id if declarer else work.owner_id
    source: dict[str, Any] = {"format": source_format, "sha256": source_sha256}
    for key, value in (("url", url), ("path", path), ("user_agent", user_agent)):
        if value is not None:
            source[key] = value
    body: dict[str, Any] = {"work": work.id, "declarer": who, "values": prefs.to_json(),
                            "source": source}
    notes = [n[:500] for n in prefs.notes][:40]
    if notes:
        body["notes"] = notes
    return submit_as(home, ledger, "preference.declared", who, body)


@dataclass(frozen=True)
class Current:
    work: str
    declarer: str
    log_index: int
    values: dict[str, str]
    source_format: str
    declared_at: str

    def to_json(self) -> dict[str, Any]:
        return {"work": self.work, "declarer": self.declarer, "log_index": self.log_index,
                "values": self.values, "source_format": self.source_format,
                "declared_at": self.declared_at}


def _current(conn: Connection, work_ids: Iterable[str], at_time: str | None) -> list[Current]:
    ids = sorted(set(work_ids))
    if not ids:
        return []
    cond: list[ColumnElement[bool]] = [preferences.c.work_id.in_(ids)]
    if at_time is not None:
        cond.append(preferences.c.declared_at <= at_time)
    latest = (select(preferences.c.work_id, preferences.c.declarer_id,
                     func.max(preferences.c.log_index).label("last"))
              .where(*cond).group_by(preferences.c.work_id, preferences.c.declarer_id)
              .subquery())
    rows = conn.execute(select(preferences).join(
        latest, preferences.c.log_index == latest.c.last).order_by(preferences.c.log_index))
    return [Current(r.work_id, r.declarer_id, int(r.log_index), json.loads(r.pref_values),
                    r.source_format, r.declared_at) for r in rows]


def list_preferences(db: Database, work_ref: str) -> list[Current]:
    """Each party's current preference about a work, in log order."""
    with db.read() as conn:
        work = resolve_work(conn, work_ref)
        return _current(conn, [work.id], None)


@dataclass(frozen=True)
class Denial:
    """A current preference that disallows the requested action."""

    preference: Current
    categories: tuple[str, ...]

    def message(self) -> str:
        p = self.preference
        cats = ", ".join(f"{c}={p.values.get(c)}" for c in self.categories)
        return (f"{p.declarer} declared {cats} for {p.work} ({p.source_format}, log "
                f"{p.log_index})")


def preference_denials(conn: Connection, action: str, work_ids: Iterable[str],
                       at_time: str | None) -> list[Denial]:
    """The current preferences (as of ``at_time``) about ``work_ids`` that disallow ``action``."""
    out = []
    for p in _current(conn, work_ids, at_time):
        prefs = Preferences({k: v for k, v in p.values.items()  # type: ignore[misc]
                             if v in ("allowed", "disallowed")})
        refused, cats = decide(prefs, action)
        if refused:
            out.append(Denial(p, cats))
    return out


def works_with_preferences(conn: Connection) -> set[str]:
    """Works any party declared a preference about (few: the manifest check's fast path)."""
    return set(conn.scalars(select(preferences.c.work_id).distinct()))


def preferred_assets(conn: Connection) -> dict[str, set[str]]:
    """Asset hash -> the works holding it that some party declared a preference about: the
    items ``check_manifest`` and the training gate decide one by one."""
    out: dict[str, set[str]] = {}
    declared = sorted(works_with_preferences(conn))
    for k in range(0, len(declared), 500):
        for sha, wid in conn.execute(select(work_assets.c.sha256, work_assets.c.work_id)
                                     .where(work_assets.c.work_id.in_(declared[k:k + 500]))):
            out.setdefault(sha, set()).add(wid)
    return out
