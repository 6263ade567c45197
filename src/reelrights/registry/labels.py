"""Display names for the ids a listing shows: parties, works, bundles and productions (the
front doors show a name beside each id they print, without SQL of their own)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store.db import Database


def display_names(db: Database, ids: Iterable[str | None]) -> dict[str, str]:
    """``{id: name}`` for the parties (name), works and productions (title) and bundles
    (``NAME@VERSION``) among ``ids``; other and unknown ids are absent."""
    from sqlalchemy import select  # imported when a list is printed, not on `--help`

    from ..store.fund_tables import productions
    from ..store.tables import bundles, parties, works

    wanted: dict[str, set[str]] = {}
    for i in ids:
        if i:
            wanted.setdefault(i[:4], set()).add(i)
    out: dict[str, str] = {}
    with db.read() as conn:
        for prefix, table, label in (("pty_", parties, parties.c.name),
                                     ("wrk_", works, works.c.title),
                                     ("prd_", productions, productions.c.title)):
            if wanted.get(prefix):
                out.update(conn.execute(select(table.c.id, label)
                                        .where(table.c.id.in_(sorted(wanted[prefix])))).all())
        if wanted.get("bnd_"):
            for r in conn.execute(select(bundles.c.id, bundles.c.name, bundles.c.version)
                                  .where(bundles.c.id.in_(sorted(wanted["bnd_"])))):
                out[r.id] = f"{r.name}@{r.version}"
    return out
