"""Serving a sealed statement's private fields to the parties entitled to them.

The reader is whoever signed the request (RFC 9421, :class:`reelrights.access.
request_signatures.ReadAuthenticator`, the service's one place for authentication: docs/
visibility.md). Its roles for the body come from the registry (:func:`reelrights.access.roles.
roles_of`, kind ``sealed_body``) and the visibility matrix says what they see: a role that sees
``body`` reads every leaf; a disclosure recipient reads the leaves granted to it
(:mod:`.grants`); a payee reads her rows of a revenue report (:mod:`.entitled`). The answer is
a disclosure (the file ``reelrights sealed verify`` checks) of exactly those leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from ..access.matrix import MATRIX, visible_fields
from ..access.roles import roles_of
from ..access.viewer import Viewer
from ..core.statements import SignedStatement
from ..errors import NotFound, NotVisible, SignatureMissing
from ..log.database_log import DatabaseLog
from ..store.fund_tables import fund_lines
from .disclose import find_sealed, make_disclosure
from .entitled import row_paths
from .grants import grant, granted_paths, paths_given, withdraw
from .store import database_source, stored_leaves

__all__ = ["entitled_disclosure", "grant_disclosure", "sealed_roles", "withdraw_disclosure"]


def sealed_roles(conn: Connection, viewer: Viewer, s: SignedStatement) -> frozenset[str]:
    """The roles ``viewer`` holds for sealed statement ``s``'s body (matrix kind sealed_body)."""
    assert s.id is not None and s.sealed is not None
    return roles_of(conn, viewer, "sealed_body", {"statement": s.id, "type": s.type,
                                                  "actor": s.actor, "root": s.sealed["root"],
                                                  "body": s.body})


def _leaf_paths(conn: Connection, s: SignedStatement, ref: str) -> list[Any]:
    assert s.id is not None
    leaves = stored_leaves(conn, s.id)
    if leaves is None:
        raise NotFound(f"{ref}: this registry holds no body for it (erased or unavailable)")
    return leaves


def entitled_disclosure(conn: Connection, log: DatabaseLog, ref: str, viewer: Viewer,
                        wanted: Sequence[str] | None = None
                        ) -> tuple[dict[str, Any], frozenset[str]]:
    """A disclosure of the leaves of sealed statement ``ref`` that ``viewer`` may read (only
    those ``wanted`` covers, when given: asking for one it may not read is refused), and the
    roles that gave them."""
    _, s = find_sealed(conn, ref)
    assert s.id is not None
    leaves = _leaf_paths(conn, s, ref)
    roles = sealed_roles(conn, viewer, s)
    seen = visible_fields("sealed_body", roles)
    all_paths = [leaf.path for leaf in leaves]
    if "body" in seen:
        paths = all_paths
    else:
        given = set()
        if viewer.party is not None and "disclosed" in seen:
            given = set(paths_given(all_paths, granted_paths(conn, s.id, viewer.party)))
        if viewer.party is not None:
            earns = set(conn.scalars(select(fund_lines.c.production_id)
                                     .where(fund_lines.c.payee_id == viewer.party)))
            given |= set(row_paths(s.type, [(leaf.path, leaf.value) for leaf in leaves], earns))
        paths = [p for p in all_paths if p in given]
    if wanted is not None and paths:
        allowed = set(paths)  # a wanted path must cover readable leaves only, and some
        beyond = [w for w in wanted if not (covered := paths_given(all_paths, {w}))
                  or not set(covered) <= allowed]
        if beyond:
            raise NotVisible(f"{viewer.describe()} may not read {beyond[0][:80]} of sealed "
                             f"statement {ref}: it may read {', '.join(paths[:20])}")
        paths = paths_given(paths, set(wanted))
    if not paths:
        readers = ", ".join(r for r in MATRIX["sealed_body"] if r != "public")
        if viewer.anonymous:
            raise SignatureMissing(f"the body of sealed statement {ref} is not public; sign the "
                                   "request (RFC 9421, docs/visibility.md) with the key of a "
                                   f"party who may read it: {readers}")
        raise NotVisible(f"{viewer.describe()} may not read sealed statement {ref}: its body is "
                         f"visible to its {readers} only (docs/visibility.md)")
    return make_disclosure(conn, log, ref, paths, [database_source(conn)]), roles


def grant_disclosure(conn: Connection, ref: str, viewer: Viewer, doc: Any) -> dict[str, Any]:
    """Record ``viewer``'s disclosure of fields of ``ref`` to a party (``doc``: {"to": party,
    "fields": [paths]}); only a party that reads the whole body may grant."""
    _, s = find_sealed(conn, ref)
    assert s.id is not None
    if viewer.operator:
        raise NotVisible("the operator does not disclose the parties' sealed fields: a party "
                         "that reads the whole body grants them")
    if viewer.party is None:
        raise SignatureMissing("a disclosure grant is made by a party: sign the request (RFC "
                               "9421) with the key of a party that reads the whole body")
    leaves = _leaf_paths(conn, s, ref)
    whole = "body" in visible_fields("sealed_body", sealed_roles(conn, viewer, s))
    if type(doc) is not dict:
        doc = {}
    return grant(conn, s.id, [leaf.path for leaf in leaves], viewer.party, whole,
                 doc.get("to"), doc.get("fields"))


def withdraw_disclosure(conn: Connection, ref: str, viewer: Viewer, grant_id: int
                        ) -> dict[str, Any]:
    """Withdraw ``viewer``'s disclosure grant ``grant_id`` of ``ref`` (its granter's, or the
    statement's signer's)."""
    _, s = find_sealed(conn, ref)
    assert s.id is not None
    if viewer.party is None:
        raise SignatureMissing("a grant is withdrawn by a party: sign the request (RFC 9421) "
                               "with the key of the party that granted it")
    return withdraw(conn, s.id, grant_id, viewer.party, s.actor)
