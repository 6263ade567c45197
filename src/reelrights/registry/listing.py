"""Long lists a page at a time: the party directory, a studio's catalogue, a party's credits.

Each read answers one page (``offset``, ``limit``) and the total, with queries the indexes
serve (parties by kind, works by owner, credits by party), so a page costs the same with ten
works or a hundred thousand. The web app's pages use them (docs/web.md); the CLI's lists stay
whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import func, select

from ..errors import BadInput
from ..store.db import Database
from ..store.resolve import JsonObject, find_many
from ..store.tables import credits, parties, works
from .records import PARTY, WORK, Party, Work
from .resolve import resolve_party

__all__ = ["CreditedWork", "Page", "credits_page", "parties_page", "party_counts",
           "party_record", "works_page"]

T = TypeVar("T")
#: The most rows one page may ask for.
MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """Rows ``offset`` to ``offset + len(items)`` of ``total``."""

    items: tuple[T, ...]
    total: int
    offset: int
    limit: int

    @property
    def number(self) -> int:
        """This page's number, from 1."""
        return self.offset // self.limit + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))

    @property
    def first(self) -> int:
        """The 1-based position of the first row shown (0 when none is)."""
        return self.offset + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.items)


@dataclass(frozen=True, slots=True)
class CreditedWork:
    """One credit of a party: the work (its title, kind and year), the role and the share."""

    work: str
    title: str
    kind: str
    year: int | None
    role: str
    share: str
    log_index: int

    def to_json(self) -> JsonObject:
        return {"work": self.work, "title": self.title, "kind": self.kind, "year": self.year,
                "role": self.role, "share": self.share, "log_index": self.log_index}


def _bounds(page: int, limit: int) -> int:
    """The offset of page ``page`` (from 1) of ``limit`` rows; BadInput past the bounds."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"a page holds 1 to {MAX_LIMIT} rows, not {limit}")
    if page < 1:
        raise BadInput(f"page {page} does not exist; pages are numbered from 1")
    return (page - 1) * limit


def party_record(db: Database, ref: str) -> Party:
    """The party alone (no list of its works or credits: :func:`.parties.party_detail` has
    them)."""
    with db.read() as conn:
        return resolve_party(conn, ref)


def party_counts(db: Database) -> dict[str, int]:
    """How many parties of each kind, by kind."""
    with db.read() as conn:
        rows = conn.execute(select(parties.c.kind, func.count()).group_by(parties.c.kind)
                            .order_by(parties.c.kind)).all()
    return {r[0]: int(r[1]) for r in rows}


def parties_page(db: Database, kind: str | None = None, *, page: int = 1,
                 limit: int = 100) -> Page[Party]:
    """Parties (of ``kind``) in the order they joined."""
    offset = _bounds(page, limit)
    where = [parties.c.kind == kind] if kind else []
    with db.read() as conn:
        total = int(conn.scalar(select(func.count()).select_from(parties).where(*where)) or 0)
        rows = conn.execute(PARTY.query().where(*where).order_by(*PARTY.ordered())
                            .offset(offset).limit(limit)).all()
    return Page(tuple(Party.from_row(r) for r in rows), total, offset, limit)


def works_page(db: Database, owner: str, *, page: int = 1, limit: int = 50) -> Page[Work]:
    """The works ``owner`` registered, in log order."""
    offset = _bounds(page, limit)
    with db.read() as conn:
        who = resolve_party(conn, owner).id
        total = int(conn.scalar(select(func.count()).select_from(works)
                                .where(works.c.owner_id == who)) or 0)
        items = find_many(conn, WORK, works.c.owner_id == who, offset=offset, limit=limit)
    return Page(tuple(items), total, offset, limit)


def credits_page(db: Database, party: str, *, page: int = 1,
                 limit: int = 50) -> Page[CreditedWork]:
    """The credits of ``party`` on any work, in log order."""
    offset = _bounds(page, limit)
    with db.read() as conn:
        who = resolve_party(conn, party).id
        total = int(conn.scalar(select(func.count()).select_from(credits)
                                .where(credits.c.party_id == who)) or 0)
        rows = conn.execute(
            select(credits.c.work_id, works.c.title, works.c.kind, works.c.year, credits.c.role,
                   credits.c.share, credits.c.log_index)
            .join(works, works.c.id == credits.c.work_id)
            .where(credits.c.party_id == who)
            .order_by(credits.c.log_index, credits.c.role).offset(offset).limit(limit)).all()
    return Page(tuple(CreditedWork(*r) for r in rows), total, offset, limit)
