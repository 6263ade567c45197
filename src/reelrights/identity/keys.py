"""Keys over time: the key statements' appliers, the commands a party runs, and its key history.

The rules (who may sign which key statement, the waiting period, what a revocation ends) are
:mod:`reelrights.core.key_history`'s, run by the ledger's key book under the head lock and by
every verifier; the appliers here record what was accepted (``key_events``, ``party_keys``) and
keep a key to one party. docs/keys.md tells the story.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ..core.canonical import canonical_bytes
from ..core.key_history import (
    RECOVERED,
    RECOVERY,
    RECOVERY_SET,
    REVOKED,
    ROTATION_CANCELLED,
    ROTATION_REQUESTED,
    SIGNING,
    KeyRecord,
    PartyKeys,
    possession_message,
)
from ..core.statements import key_id_for, sign_statement, utc_now
from ..errors import BadInput, Conflict
from ..home import Home
from ..keys import PartyKey, load_key_file
from ..ledger import Accepted, Ledger, Receipt, applier, each_statement
from ..registry.resolve import resolve_party
from ..registry.submit import archive_party_key, next_key_path, signing_key
from ..store.db import Database
from ..store.key_tables import key_events, party_keys
from ..store.tables import parties
from ..write.keys import load_key_history

__all__ = ["cancel_rotation", "key_history", "party_keys_now", "recover", "request_rotation",
           "revoke_key", "set_recovery_key"]


# ---------------------------------------------------------------------------------------------
# The appliers: statements -> rows (inside the ledger's transaction)
# ---------------------------------------------------------------------------------------------

def _record(conn: Connection, a: Accepted) -> dict[str, Any]:
    s = a.statement
    conn.execute(key_events.insert().values(
        log_index=a.index, party_id=s.actor, type=s.type, signer_seq=s.key_seq,
        log_time=a.time, statement_id=s.id or "",
        body=canonical_bytes(s.body).decode("utf-8")))
    declared = [(s.body, SIGNING if s.type != RECOVERY_SET else RECOVERY)] \
        if "public_key" in s.body else []
    if "recovery" in s.body:
        declared.append((s.body["recovery"], RECOVERY))
    for b, role in declared:
        key = base64.b64decode(b["public_key"])
        kid = key_id_for(key)
        owner = conn.execute(select(parties.c.id).where(parties.c.key_id == kid)).scalar() or \
            conn.execute(select(party_keys.c.party_id).where(party_keys.c.key_id == kid)).scalar()
        if owner is not None:
            raise Conflict(f"public key {kid} already belongs to "
                           f"{'this' if owner == s.actor else 'another'} party ({owner}); "
                           "every key is declared once: make a new one")
        conn.execute(party_keys.insert().values(key_id=kid, party_id=s.actor, seq=b["seq"],
                                                role=role, public_key=key, log_index=a.index))
    out: dict[str, Any] = {"id": s.actor}
    if "seq" in s.body:
        out["seq"] = s.body["seq"]
    return out


_apply_recovery_set = applier(RECOVERY_SET)(each_statement(_record))
_apply_rotation_requested = applier(ROTATION_REQUESTED)(each_statement(_record))
_apply_rotation_cancelled = applier(ROTATION_CANCELLED)(each_statement(_record))
_apply_recovered = applier(RECOVERED)(each_statement(_record))
_apply_revoked = applier(REVOKED)(each_statement(_record))


# ---------------------------------------------------------------------------------------------
# Commands: what a party runs
# ---------------------------------------------------------------------------------------------

def _state(ledger: Ledger, party: str) -> tuple[str, PartyKeys]:
    """(party id, its keys now) as this home's copy of the log says."""
    rules = ledger.deployment()
    with ledger.db.read() as conn:
        p = resolve_party(conn, party)
        history = load_key_history(conn, rules.registry, rules.key_rotation_wait_s, {p.id})
    return p.id, history.parties.get(p.id) or PartyKeys.registered(
        p.id, p.public_key, p.log_index, p.registered_at)


def _new_key(ledger: Ledger, party: str, seq: int, role: str, key: PartyKey) -> dict[str, Any]:
    pub = base64.b64encode(key.public_key_bytes).decode("ascii")
    proof = key.sign(possession_message(ledger.registry, party, seq, role, pub))
    return {"seq": seq, "public_key": pub, "proof": base64.b64encode(proof).decode("ascii")}


def _submit(ledger: Ledger, type_: str, party: str, body: dict[str, Any],
            key: PartyKey) -> Receipt:
    from ..catalogue import check_body

    check_body(type_, 1, body, party)
    statement = ledger.new_statement(type_, party, body, signer=key.public_key_bytes)
    return ledger.submit([sign_statement(statement, key)])[0]


def _load(path: Path, passphrase_env: str | None, what: str) -> PartyKey:
    if not path.is_file():
        raise BadInput(f"{what} {path} does not exist; make one with `reelrights key new FILE`")
    return load_key_file(path, passphrase_env)


def set_recovery_key(home: Home, ledger: Ledger, party: str, recovery_path: Path,
                     passphrase_env: str | None = None) -> Receipt:
    """Name the party's offline recovery key (signed by its signing key; once). The recovery
    key file is only read, to prove possession: keep it offline afterwards."""
    pid, state = _state(ledger, party)
    rec = _load(recovery_path, passphrase_env, "recovery key")
    body = {"party": pid, **_new_key(ledger, pid, len(state.keys), RECOVERY, rec)}
    return _submit(ledger, RECOVERY_SET, pid, body, signing_key(home, ledger, pid))


def request_rotation(home: Home, ledger: Ledger, party: str, new_path: Path,
                     passphrase_env: str | None = None, reason: str | None = None) -> Receipt:
    """Ask for a rotation to the key in ``new_path`` (signed by the current key). It takes
    effect after the registry's waiting period; the new key is kept in the home as
    ``keys/<party>.next.pem`` and used once in force."""
    pid, state = _state(ledger, party)
    new = _load(new_path, passphrase_env, "new key")
    body: dict[str, Any] = {"party": pid, **_new_key(ledger, pid, len(state.keys), SIGNING, new)}
    if reason:
        body["reason"] = reason
    receipt = _submit(ledger, ROTATION_REQUESTED, pid, body, signing_key(home, ledger, pid))
    _copy_key(new_path, next_key_path(home, pid))
    return receipt


def cancel_rotation(home: Home, ledger: Ledger, party: str, recovery_path: Path,
                    passphrase_env: str | None = None, reason: str | None = None) -> Receipt:
    """Cancel the pending rotation with the recovery key (a thief's rotation, or one made by
    mistake): the current key stays."""
    pid, state = _state(ledger, party)
    pending = state.pending_at(1 << 62, utc_now())
    if pending is None:
        raise Conflict(f"{pid} has no pending rotation to cancel")
    body: dict[str, Any] = {"party": pid, "seq": pending.seq}
    if reason:
        body["reason"] = reason
    receipt = _submit(ledger, ROTATION_CANCELLED, pid, body,
                      _load(recovery_path, passphrase_env, "recovery key"))
    nxt = next_key_path(home, pid)
    if nxt.exists() and load_key_file(nxt, home.passphrase_envs.get(pid)).public_key_bytes \
            == pending.public_key:
        nxt.unlink()
    return receipt


def recover(home: Home, ledger: Ledger, party: str, recovery_path: Path, new_path: Path,
            new_recovery_path: Path | None = None, passphrase_env: str | None = None,
            reason: str | None = None) -> Receipt:
    """Install the key in ``new_path`` at once, signed by the recovery key (and, optionally, a
    new recovery key); the home signs with the new key from now on."""
    pid, state = _state(ledger, party)
    rec = _load(recovery_path, passphrase_env, "recovery key")
    new = _load(new_path, passphrase_env, "new key")
    seq = len(state.keys)
    body: dict[str, Any] = {"party": pid, **_new_key(ledger, pid, seq, SIGNING, new)}
    if new_recovery_path is not None:
        body["recovery"] = _new_key(ledger, pid, seq + 1, RECOVERY,
                                    _load(new_recovery_path, passphrase_env, "new recovery key"))
    if reason:
        body["reason"] = reason
    receipt = _submit(ledger, RECOVERED, pid, body, rec)
    current = home.party_key_path(pid)
    if current.exists():
        archive_party_key(home, pid, current)
    _copy_key(new_path, current)
    next_key_path(home, pid).unlink(missing_ok=True)
    return receipt


def revoke_key(home: Home, ledger: Ledger, party: str, reason: str,
               recovery_path: Path | None = None, passphrase_env: str | None = None) -> Receipt:
    """Revoke the party's signing key from this log position on (signed by that key, or by
    the recovery key when given). Earlier statements stand; dispute them with
    ``reelrights statement dispute``."""
    pid, state = _state(ledger, party)
    current = state.signing_at(1 << 62, utc_now())
    if current is None:
        raise Conflict(f"{pid} has no signing key in force (revoked already); recover with "
                       "`reelrights key recover`")
    key = (_load(recovery_path, passphrase_env, "recovery key") if recovery_path is not None
           else signing_key(home, ledger, pid))
    return _submit(ledger, REVOKED, pid, {"party": pid, "seq": current.seq, "reason": reason},
                   key)


# ---------------------------------------------------------------------------------------------
# The home's key files
# ---------------------------------------------------------------------------------------------

def _copy_key(src: Path, dst: Path) -> None:
    """Copy a key file into the home, 0600 (kept as it is: passphrase-protected or not)."""
    tmp = dst.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
        shutil.copyfileobj(inp, out)
    os.replace(tmp, dst)


# ---------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------

def key_history(db: Database, party: str, registry: str, wait_s: int,
                now: str | None = None) -> dict[str, Any]:
    """The party's keys (each with when it may sign, and its status now) and its key
    statements, from the log."""
    now = now or utc_now()
    with db.read() as conn:
        p = resolve_party(conn, party)
        history = load_key_history(conn, registry, wait_s, {p.id})
        events = conn.execute(select(key_events.c.log_index, key_events.c.type,
                                     key_events.c.signer_seq, key_events.c.log_time)
                              .where(key_events.c.party_id == p.id)
                              .order_by(key_events.c.log_index)).all()
    state = history.parties.get(p.id) or PartyKeys.registered(
        p.id, p.public_key, p.log_index, p.registered_at)
    big = 1 << 62
    return {"party": p.id, "name": p.name, "rotation_wait_s": wait_s, "as_of": now,
            "keys": [k.to_json(big, now) for k in state.keys],
            "events": [{"log_index": int(e.log_index), "type": e.type,
                        "signed_with_seq": int(e.signer_seq), "log_time": e.log_time}
                       for e in events]}


def party_keys_now(db: Database, party: str, registry: str, wait_s: int) -> list[KeyRecord]:
    """The keys ``party`` could sign with now."""
    now = utc_now()
    with db.read() as conn:
        p = resolve_party(conn, party)
        history = load_key_history(conn, registry, wait_s, {p.id})
    state = history.parties.get(p.id) or PartyKeys.registered(
        p.id, p.public_key, p.log_index, p.registered_at)
    return state.usable_at(1 << 62, now)
