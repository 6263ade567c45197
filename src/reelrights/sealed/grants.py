"""Disclosure grants: a party shows some fields of a sealed statement to another party (a
regulator) through the service, which records the grant (table ``sealed_grants``, local) so the
recipient can later fetch exactly those leaves with a signed read (``GET /v1/sealed/<id>``).

Only a party that reads the whole body (its signer, a party it names, or a party whose role
gives it the body: docs/visibility.md, ``sealed_body``) may grant, and only paths the body has.
A recipient reads the union of the paths granted to it, nothing more.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from ..core.canonical import canonical_bytes
from ..core.statements import utc_now
from ..errors import BadInput, NotFound, NotVisible
from ..store.sealed_tables import sealed_grants
from ..store.tables import parties

__all__ = ["grant", "granted_paths", "paths_given", "withdraw"]


def granted_paths(conn: Connection, statement_id: str, party: str) -> set[str]:
    """Every path granted to ``party`` for ``statement_id`` (empty: none)."""
    out: set[str] = set()
    for text in conn.scalars(select(sealed_grants.c.paths).where(
            sealed_grants.c.statement_id == statement_id, sealed_grants.c.recipient == party)):
        out.update(json.loads(text))
    return out


def paths_given(leaf_paths: Sequence[str], given: set[str]) -> list[str]:
    """The leaf paths ``given`` covers: a leaf's own path, or its field's (``/body/rows``
    covers ``/body/rows/0``...)."""
    return [p for p in leaf_paths if p in given or "/".join(p.split("/")[:3]) in given]


def grant(conn: Connection, statement_id: str, leaf_paths: Sequence[str], granted_by: str,
          whole: bool, recipient: Any, paths: Any) -> dict[str, Any]:
    """Record that ``granted_by`` (who reads the whole body: ``whole``) shows ``paths`` of
    sealed statement ``statement_id`` (whose leaves are at ``leaf_paths``) to ``recipient``."""
    if not whole:
        raise NotVisible(f"{granted_by} may not disclose {statement_id}: only a party that reads "
                         "its whole body (its signer, a party it names) discloses it")
    if type(recipient) is not str or not recipient:
        raise BadInput('grant: "to" must be the recipient\'s party id (pty_...)')
    if (type(paths) is not list or not paths or len(paths) > 400
            or any(type(p) is not str for p in paths)):
        raise BadInput('grant: "fields" must be a list of 1 to 400 leaf paths like '
                       '"/body/policy"')
    unknown = [p for p in paths if not paths_given(leaf_paths, {p})]
    if unknown:
        raise BadInput(f"grant: {unknown[0][:80]!r} is no field of {statement_id}; its fields "
                       f"are {', '.join(leaf_paths[:20])}")
    if conn.scalar(select(parties.c.id).where(parties.c.id == recipient)) is None:
        raise NotFound(f"grant: {recipient[:40]!r} is not a registered party of this registry")
    if recipient == granted_by:
        raise BadInput("grant: a party does not disclose to itself")
    at = utc_now()
    chosen = sorted(set(paths))
    result = conn.execute(sealed_grants.insert().values(
        statement_id=statement_id, recipient=recipient, granted_by=granted_by, granted_at=at,
        paths=canonical_bytes(chosen).decode("utf-8")))
    key = result.inserted_primary_key
    assert key is not None
    return {"grant": int(key[0]), "statement": statement_id,
            "to": recipient, "fields": chosen, "granted_by": granted_by, "granted_at": at}


def withdraw(conn: Connection, statement_id: str, grant_id: int, by: str,
             signer: str) -> dict[str, Any]:
    """Withdraw grant ``grant_id`` of ``statement_id`` (signed by ``signer``): only the party
    that granted it, or the statement's signer, may; the recipient reads nothing of it after
    (what it fetched before stays with it: a withdrawal stops later reads, it cannot unsee)."""
    row = conn.execute(select(sealed_grants).where(
        sealed_grants.c.id == grant_id, sealed_grants.c.statement_id == statement_id)).first()
    if row is None:
        raise NotFound(f"no grant {grant_id} of {statement_id} (or it was withdrawn)")
    if by not in (row.granted_by, signer):
        raise NotVisible(f"{by} may not withdraw grant {grant_id}: only {row.granted_by}, who "
                         f"granted it, or {signer}, who signed {statement_id}, may")
    conn.execute(sealed_grants.delete().where(sealed_grants.c.id == grant_id))
    return {"grant": grant_id, "statement": statement_id, "to": row.recipient,
            "fields": json.loads(row.paths), "withdrawn_by": by, "withdrawn_at": utc_now()}
