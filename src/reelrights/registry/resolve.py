"""Parties and works named on a command line: by id, or by an exact name or title that only one
row carries. Every capability's commands resolve the parties and works they are given here,
through the one resolver (:mod:`reelrights.store.resolve`) and the kinds of
:mod:`reelrights.registry.records`."""

from __future__ import annotations

from sqlalchemy import Connection

from ..core.identifiers import is_identifier
from ..store.resolve import resolve
from .identifiers import lookup_identifier
from .records import PARTY, WORK, Party, Work

__all__ = ["resolve_party", "resolve_work"]


def resolve_party(conn: Connection, ref: str) -> Party:
    """A party by id, by a standard identifier it registered (``isni:…``, ``ipi:…``), or by
    its exact name when that name is unique."""
    if is_identifier(ref):
        ref = lookup_identifier(conn, "party", ref)
    return resolve(conn, PARTY, ref)


def resolve_work(conn: Connection, ref: str) -> Work:
    """A work by id, by a standard identifier it registered (``eidr:10.5240/…``, ``isan:…``,
    ``isrc:…``, ``iswc:…``, ``isbn:…``, ``imdb:tt…``), or by its exact title when that title
    is unique."""
    if is_identifier(ref):
        ref = lookup_identifier(conn, "work", ref)
    return resolve(conn, WORK, ref)
