"""The index of standard identifiers (EIDR, ISAN, ISRC, ISWC, ISBN, IMDb for works; ISNI, IPI,
IMDb for parties): written by the ``work.registered`` and ``party.registered`` appliers, read by
the look-up that lets ``work show eidr:10.5240/…`` and ``party show isni:…`` name a record by any
of its identifiers.

Identifiers are indexed in the normal form of :func:`reelrights.core.identifiers.parse_identifier`
(``isbn:978-0-306-40615-7`` and ``isbn:9780306406157`` are one identifier). Two works may carry
the same identifier (a mistake, or a dispute): a look-up then names both and asks for the id.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from ..core.identifiers import PARTY_SCHEMES, WORK_SCHEMES, BadIdentifier, parse_identifier
from ..errors import BadInput, NotFound
from ..log.database_log import insert_rows
from ..store.identifier_tables import external_ids

__all__ = ["index_identifiers", "lookup_identifier"]

_SCHEMES = {"work": WORK_SCHEMES, "party": PARTY_SCHEMES}


def index_identifiers(conn: Connection, kind: str,
                      items: Iterable[tuple[str, list[str] | None, int]]) -> None:
    """Index ``(subject id, external ids as signed, log index)`` for ``kind`` (work | party).
    The schema already verified every identifier, so none fails here."""
    rows: dict[tuple[str, str], tuple[str, str, str, int]] = {}
    for subject, ids, index in items:
        for text in ids or ():
            ident = str(parse_identifier(text, _SCHEMES[kind]))
            rows[(ident, subject)] = (ident, kind, subject, index)
    if rows:
        insert_rows(conn, external_ids, ("identifier", "kind", "subject_id", "log_index"),
                    list(rows.values()))


def lookup_identifier(conn: Connection, kind: str, text: str) -> str:
    """The id of the one ``kind`` (work | party) that carries identifier ``text``.

    Raises BadInput for a malformed identifier (naming it and the fix), NotFound when none
    carries it, BadInput naming the ids when several do."""
    try:
        ident = str(parse_identifier(text, _SCHEMES[kind]))
    except BadIdentifier as exc:
        raise BadInput(str(exc)) from None
    found = list(conn.scalars(select(external_ids.c.subject_id).where(
        external_ids.c.identifier == ident, external_ids.c.kind == kind)
        .order_by(external_ids.c.log_index)))
    if not found:
        raise NotFound(f"no {kind} carries {ident}; `reelrights {kind} list` shows what is "
                       "registered")
    if len(found) > 1:
        raise BadInput(f"{len(found)} {kind}s carry {ident}; use the id ({', '.join(found)})")
    return found[0]
