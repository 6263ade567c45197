"""Parties and works named on a command line: by id, or by an exact name or title that only one
row carries. Every capability's commands resolve the parties and works they are given here,
through the one resolver (:mod:`reelrights.store.resolve`) and the kinds of
:mod:`reelrights.registry.records`."""

from __future__ import annotations

from sqlalchemy import Connection

from ..store.resolve import resolve
from .records import PARTY, WORK, Party, Work

__all__ = ["resolve_party", "resolve_work"]


def resolve_party(conn: Connection, ref: str) -> Party:
    """A party by id, or by its exact name when that name is unique."""
    return resolve(conn, PARTY, ref)


def resolve_work(conn: Connection, ref: str) -> Work:
    """A work by id, or by its exact title when that title is unique."""
    return resolve(conn, WORK, ref)
