"""One resolver for every entity: a record by id or by its unique label, or many in list order.

A :class:`Kind` describes an entity once: its table (and the columns a read joins beside it),
the label a person names it by (a party's name, a work's title), the record its rows become,
and the words of its errors. :func:`resolve` takes what a person typed:

* the id, when a row has it;
* else the exact label, when exactly one row carries it. Two or more is :class:`BadInput`
  naming the candidates' ids (``2 parties are named 'Twin'; use the id (pty_…, pty_…)``);
* else :class:`NotFound` with the kind's hint (``no party 'x'; `reelrights party list` shows
  ids and names``).

A kind may refuse a reference that cannot be an id before asking the database (runs, outputs),
and may name its rows its own way (a bundle by ``NAME@VERSION`` or by name, its latest
version). :func:`find_many` reads the records that meet some conditions, in the kind's order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Generic, TypeAlias, TypeVar

from sqlalchemy import ColumnElement, Connection, Row, Select, Table, select

from ..errors import BadInput, NotFound

__all__ = ["JsonObject", "Kind", "StoredRow", "find_many", "find_one", "resolve", "resolve_row",
           "widen"]

#: A row as SQLAlchemy returns it, of any width: columns by attribute (``row.id``).
StoredRow: TypeAlias = Row
#: What a record's ``to_json`` returns: a JSON object, its values as ``json.loads`` types them.
JsonObject: TypeAlias = dict[str, Any]
R = TypeVar("R")
W = TypeVar("W")


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: columns compare into SQL, not bools
class Kind(Generic[R]):
    """How one entity is found and what its rows become."""

    #: The word for one, in messages ("party", "work", "bundle").
    noun: str
    table: Table
    #: The NotFound message; ``{ref!r}`` is what the person typed.
    missing: str
    #: A row (of :meth:`query`) to its record: the record class's ``from_row``.
    record: Callable[[StoredRow], R] | None = None
    #: Instead of ``record``, for a record that needs more than its row (a license's standing).
    load: Callable[[Connection, StoredRow], R] | None = None
    #: The column a person names one by, unique or ambiguous; None: by id only.
    label: ColumnElement[str] | None = None
    #: The ambiguity message's words between the count and the label: "parties are named".
    many: str = ""
    #: The read: the table with the columns joined beside it (names beside ids); default the
    #: table alone.
    source: Callable[[], Select[Any]] | None = None
    #: The list order; default the log index.
    order: tuple[ColumnElement[Any], ...] = ()
    #: Raises BadInput for a reference that cannot name one (not an id of this kind).
    check: Callable[[str], None] | None = None
    #: A label rule of the kind's own (``NAME@VERSION``): the row, or None when none matches;
    #: raises BadInput when the label is ambiguous.
    by_label: Callable[[Connection, Kind[R], str], StoredRow | None] | None = None

    def query(self) -> Select[Any]:
        return self.source() if self.source is not None else select(self.table)

    def to_record(self, conn: Connection, row: StoredRow) -> R:
        if self.load is not None:
            return self.load(conn, row)
        assert self.record is not None, f"kind {self.noun} has neither record nor load"
        return self.record(row)

    def ordered(self) -> tuple[ColumnElement[Any], ...]:
        return self.order or (self.table.c.log_index,)


def resolve_row(conn: Connection, kind: Kind[R], ref: str) -> StoredRow:
    """The row ``ref`` names: by id, else by the kind's label (see the module docstring)."""
    if kind.check is not None:
        kind.check(ref)
    row = conn.execute(kind.query().where(kind.table.c.id == ref)).first()
    if row is not None:
        return row
    if kind.by_label is not None:
        row = kind.by_label(conn, kind, ref)
    elif kind.label is not None:
        rows = conn.execute(kind.query().where(kind.label == ref)
                            .order_by(*kind.ordered())).all()
        if len(rows) > 1:
            raise BadInput(f"{len(rows)} {kind.many} {ref!r}; use the id "
                           f"({', '.join(r.id for r in rows)})")
        row = rows[0] if rows else None
    if row is None:
        raise NotFound(kind.missing.format(ref=ref))
    return row


def resolve(conn: Connection, kind: Kind[R], ref: str) -> R:
    """The record ``ref`` names: by id, else by the kind's label (see the module docstring)."""
    return kind.to_record(conn, resolve_row(conn, kind, ref))


def find_many(conn: Connection, kind: Kind[R], *where: ColumnElement[bool], offset: int = 0,
              limit: int | None = None) -> list[R]:
    """The records that meet every condition in ``where`` (all of them without one), in the
    kind's order; ``limit`` of them from ``offset`` when given (a page)."""
    q = kind.query().where(*where).order_by(*kind.ordered())
    if offset or limit is not None:
        q = q.offset(offset).limit(limit)
    return [kind.to_record(conn, r) for r in conn.execute(q)]


def find_one(conn: Connection, kind: Kind[R], record_id: str) -> R | None:
    """The record with id ``record_id``, or None (no label, no error: for code that has an id)."""
    row = conn.execute(kind.query().where(kind.table.c.id == record_id)).first()
    return None if row is None else kind.to_record(conn, row)


def widen(record: object, detail: type[W], **more: object) -> W:
    """``record`` as its ``detail`` subclass (a ``Party`` as a ``PartyDetail``), with ``more``:
    the fields a detail read adds."""
    inherited = {f.name: getattr(record, f.name) for f in fields(record)}  # type: ignore[arg-type]
    return detail(**inherited, **more)
