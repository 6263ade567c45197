"""Parties: the ``party.registered`` applier, ``party add`` and the party read models.

A party is registered with its own key pair, signed by that key. The applier enforces what a
signature cannot: a party id is registered once and a public key belongs to one party.
"""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import Connection, select

from ..catalogue import check_body
from ..core.ids import new_id
from ..core.statements import key_id_for
from ..errors import Conflict, KeyNotAllowed
from ..home import Home
from ..keys import PartyKey
from ..ledger import Accepted, Ledger, Receipt, applier, at
from ..log.database_log import insert_rows
from ..store.db import Database
from ..store.identifier_tables import external_ids
from ..store.key_tables import party_keys
from ..store.resolve import find_many, widen
from ..store.tables import credits, parties, works
from .identifiers import index_identifiers
from .records import PARTY, OwnedWork, Party, PartyCredit, PartyDetail
from .resolve import resolve_party
from .submit import sign_and_submit

__all__ = ["confusable_parties", "list_parties", "party_detail", "register_party"]


# ---------------------------------------------------------------------------------------------
# The applier: statements -> rows (inside the ledger's transaction)
# ---------------------------------------------------------------------------------------------

# Column order of the row tuples the applier inserts (plain driver executemany).
_PARTY_COLUMNS = ("id", "kind", "name", "public_key", "key_id", "log_index", "registered_at")


@applier("party.registered", batch=True)
def _apply_parties(conn: Connection, run: list[Accepted]) -> list[dict[str, Any]]:
    """Batch-shaped (``batch=True``): one look-up of the run's ids and keys, one multi-row
    INSERT. Parties come in runs of thousands (benchmarks/log_append.py and log_rebuild.py
    register theirs in one batch, and a replay applies them again)."""
    bodies = [a.statement.body for a in run]
    keys = [base64.b64decode(b["public_key"]) for b in bodies]
    key_ids = [key_id_for(k) for k in keys]
    taken_ids = set(conn.scalars(select(parties.c.id)
                                 .where(parties.c.id.in_([b["id"] for b in bodies]))))
    taken_keys = set(conn.scalars(select(parties.c.key_id).where(parties.c.key_id.in_(key_ids))))
    # Keys declared after registration (docs/keys.md) are taken too: one key, one party.
    taken_keys |= set(conn.scalars(select(party_keys.c.key_id)
                                   .where(party_keys.c.key_id.in_(key_ids))))
    rows = []
    for pos, (a, b, key, kid) in enumerate(zip(run, bodies, keys, key_ids, strict=True)):
        if b["id"] in taken_ids:
            raise at(pos, Conflict(f"party id {b['id']} is already registered; pick a new id"))
        if kid in taken_keys:
            raise at(pos, Conflict(f"public key {kid} already belongs to another party; "
                                   "every party needs its own key"))
        taken_ids.add(b["id"])
        taken_keys.add(kid)
        rows.append((b["id"], b["kind"], b["name"], key, kid, a.index, a.time))
    insert_rows(conn, parties, _PARTY_COLUMNS, rows)
    index_identifiers(conn, "party", ((b["id"], b.get("external_ids"), a.index)
                                      for a, b in zip(run, bodies, strict=True)))
    return [{"id": r[0]} for r in rows]


# ---------------------------------------------------------------------------------------------
# Commands: what a party runs (build, sign with its key, submit)
# ---------------------------------------------------------------------------------------------

def register_party(home: Home, ledger: Ledger, kind: str, name: str,
                   passphrase_env: str | None = None,
                   external_ids: tuple[str, ...] = ()) -> Receipt:
    """Create a party with its own key pair; the key file is written 0600 in the home.

    A service that takes statements only from allowlisted keys refuses a new key
    (KeyNotAllowed): the key and the party id are then kept in the home as pending under the
    name, and the next ``register_party`` of that name (once the operator allowed the key)
    reuses both instead of making a new key the operator has not seen."""
    pending = home.pending_parties.get(name)
    if pending is not None:
        party_id = pending["id"]
        key = home.party_key(party_id)
        if _party_exists(ledger, party_id):  # an earlier attempt did reach the log
            home.pending_parties.pop(name)
            home.save()
            raise Conflict(f"{name!r} is already registered as {party_id} (an earlier attempt "
                           f"reached the log; its key is {home.party_key_path(party_id)}); "
                           "nothing more to do")
    else:
        key = PartyKey.generate()
        party_id = new_id("party")
    body: dict[str, Any] = {"id": party_id, "kind": kind, "name": name,
                            "public_key": base64.b64encode(key.public_key_bytes).decode("ascii")}
    if external_ids:
        body["external_ids"] = list(external_ids)
    check_body("party.registered", 1, body, party_id)
    if pending is None:
        home.store_party_key(party_id, key, passphrase_env)
    try:
        receipt = sign_and_submit(ledger, key, "party.registered", party_id, body)
    except KeyNotAllowed as exc:
        if pending is None:
            home.pending_parties[name] = {"id": party_id, "kind": kind}
            home.save()
        raise KeyNotAllowed(f"{exc.message}; the key is kept in "
                            f"{home.party_key_path(party_id)}: run the same `party add` again "
                            "once the operator allowed it", exc.key) from None
    except BaseException:
        # Refused: drop a new key, so nothing is left behind (a pending one stays: the operator
        # may have allowed it). But a failure can also come after the commit (publishing the
        # tiles, or a service's answer lost on the way); then the party is in the log, or may
        # be, and needs its key: kept, and pending under its name for the next attempt.
        if pending is None:
            if _party_recorded(ledger, party_id):
                home.pending_parties[name] = {"id": party_id, "kind": kind}
                home.save()
            else:
                home.party_key_path(party_id).unlink(missing_ok=True)
                if home.passphrase_envs.pop(party_id, None) is not None:
                    home.save()
        raise
    if home.pending_parties.pop(name, None) is not None:
        home.save()
    return receipt


def _party_exists(ledger: Ledger, party_id: str) -> bool:
    with ledger.db.read() as conn:
        return conn.execute(select(parties.c.id).where(parties.c.id == party_id)).first() \
            is not None


def _party_recorded(ledger: Ledger, party_id: str) -> bool:
    """Whether the party is registered; True when that cannot be told (keep the key then).
    A party's home (a ledger with ``sync``) first syncs with its server, which says what it
    logged; when the server cannot be reached, that cannot be told."""
    try:
        refresh = getattr(ledger, "sync", None)
        if refresh is not None:
            refresh()
        return _party_exists(ledger, party_id)
    except Exception:  # noqa: BLE001 - the database is unreachable: a stray key beats a lost one
        return True


# ---------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------

def list_parties(db: Database, kind: str | None = None) -> list[Party]:
    with db.read() as conn:
        return find_many(conn, PARTY, *([parties.c.kind == kind] if kind else []))


def party_detail(db: Database, ref: str) -> PartyDetail:
    with db.read() as conn:
        party = resolve_party(conn, ref)
        owned = conn.execute(select(works.c.id, works.c.title).where(works.c.owner_id == party.id)
                             .order_by(works.c.log_index)).all()
        credited = conn.execute(select(credits.c.work_id, credits.c.role, credits.c.share,
                                       credits.c.log_index)
                                .where(credits.c.party_id == party.id)
                                .order_by(credits.c.log_index)).all()
        ids = tuple(conn.scalars(select(external_ids.c.identifier).where(
            external_ids.c.kind == "party", external_ids.c.subject_id == party.id)
            .order_by(external_ids.c.identifier)))
    return widen(party, PartyDetail, external_ids=ids,
                 works_owned=tuple(OwnedWork(w.id, w.title) for w in owned),
                 credits=tuple(PartyCredit(c.work_id, c.role, c.share, c.log_index)
                               for c in credited))


def confusable_parties(db: Database, name: str) -> list[tuple[str, str]]:
    """Registered parties (id, name) whose name can be mistaken for ``name``: the same Unicode
    TR 39 skeleton (case and spacing folded). ``party add`` warns about them."""
    from ..core.names import skeleton

    wanted = skeleton(name)
    with db.read() as conn:
        rows = conn.execute(select(parties.c.id, parties.c.name).order_by(parties.c.id)).all()
    return [(r.id, r.name) for r in rows if skeleton(r.name) == wanted]
