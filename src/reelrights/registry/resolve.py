"""Parties and works named on a command line: by id, or by an exact name or title that only one
row carries. Every capability's commands resolve the parties and works they are given here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from ..errors import BadInput, NotFound
from ..store.tables import parties, works

__all__ = ["resolve_party", "resolve_work"]


def _resolve(conn: Connection, table: Any, label_col: Any, ref: str, *, many: str,
             none: str) -> Any:
    """A row by id, or by its exact label when exactly one row carries it."""
    row = conn.execute(select(table).where(table.c.id == ref)).first()
    if row is not None:
        return row
    rows = conn.execute(select(table).where(label_col == ref)).all()
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1:
        raise BadInput(f"{len(rows)} {many} {ref!r}; use the id ({', '.join(r.id for r in rows)})")
    raise NotFound(none.format(ref=ref))


def resolve_party(conn: Connection, ref: str) -> Any:
    """A party by id, or by its exact name when that name is unique."""
    return _resolve(conn, parties, parties.c.name, ref, many="parties are named",
                    none="no party {ref!r}; `reelrights party list` shows ids and names")


def resolve_work(conn: Connection, ref: str) -> Any:
    """A work by id, or by its exact title when that title is unique."""
    return _resolve(conn, works, works.c.title, ref, many="works are titled",
                    none="no work {ref!r}; `reelrights work list` shows ids and titles")
