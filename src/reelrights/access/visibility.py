"""The one place the service decides what a reader sees: :func:`read_visible`.

Given the reader (a :class:`~.viewer.Viewer`: the party whose key signed the request, the
operator, or anyone) and a record (its kind and id), it loads the record, computes the roles
the reader holds for it from the registry (:func:`.roles.roles_of`) and returns the projection
the matrix allows (:func:`.matrix.visible_fields`). A record none of whose fields the reader may
see is refused: :class:`~reelrights.errors.SignatureMissing` (401) when the request was not
signed, :class:`~reelrights.errors.NotVisible` (403) when it was. Every read route of the
service goes through it; tests/service/test_visibility.py walks every route x role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import NotVisible, SignatureMissing
from .matrix import MATRIX, visible_fields
from .records import LOADERS
from .roles import roles_of
from .viewer import Viewer

if TYPE_CHECKING:
    from ..log.database_log import DatabaseLog
    from ..store.db import Database

__all__ = ["Projection", "project", "read_visible"]


@dataclass(frozen=True)
class Projection:
    """What one reader sees of one record: its visible fields, the roles that gave them, and
    the names of the fields withheld."""

    kind: str
    fields: dict[str, Any]
    roles: frozenset[str]
    withheld: tuple[str, ...]


def project(kind: str, record: dict[str, Any], roles: frozenset[str], viewer: Viewer, ref: str,
            matrix: Mapping[str, Mapping[str, frozenset[str]]] = MATRIX) -> Projection:
    """``record`` cut down to what ``roles`` see (refused when that is nothing)."""
    seen = visible_fields(kind, roles, matrix)
    fields = {k: v for k, v in record.items() if k in seen}
    if not fields:
        noun = kind.replace("_", " ")
        if viewer.anonymous:
            raise SignatureMissing(
                f"{noun} {ref} is not public; sign the request (RFC 9421, docs/visibility.md) "
                f"with the key of a party who may read it: "
                f"{', '.join(r for r in matrix[kind] if r != 'public')}")
        raise NotVisible(f"{viewer.describe()} may not read {noun} {ref}: it is visible to its "
                         f"{', '.join(r for r in matrix[kind] if r != 'public')} only "
                         "(docs/visibility.md)")
    return Projection(kind, fields, roles, tuple(sorted(set(record) - set(fields))))


def read_visible(db: Database, log: DatabaseLog, viewer: Viewer, kind: str,
                 ref: str, *, record: dict[str, Any] | None = None) -> Projection:
    """Record ``ref`` of ``kind`` as ``viewer`` may see it (see the module docstring);
    ``record``: the record as ``LOADERS[kind]`` reads it, when the caller read it already."""
    if record is None:
        record = LOADERS[kind](db, log, ref)
    with db.read() as conn:
        roles = roles_of(conn, viewer, kind, record)
    return project(kind, record, roles, viewer, ref)
