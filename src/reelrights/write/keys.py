"""Whose key signs what: the keys a ledger knows, and those it reads under the head lock.

A party's key number ``seq`` names one key for good (a sequence number is never reused), so a
key once read from the registry (or registered through this ledger) is kept, and the next
batch checks those signatures before it takes the lock: seq 0 by actor (:attr:`KeyBook.verified`,
the hot path), later ones by (actor, seq) (:attr:`KeyBook.rotated`). ``party.registered`` is
self-certifying: its body carries the key it is signed with (proof of possession), and a party
registered earlier in a batch signs the rest of the batch with it.

Whether a key is **in force** at a statement's log index and log time is decided under the lock
by :mod:`reelrights.core.key_history` (the same rules every verifier runs): :meth:`KeyBook.refresh`
reads the key statements another process may have logged (one indexed read of
``MAX(key_events.log_index)`` per batch, and the changed parties' events when it moved), and
:meth:`KeyBook.check_in_force` walks the batch in order, applying its key statements, so a key
revoked or replaced earlier in the batch signs nothing after it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, select

from ..catalogue import lookup
from ..core.key_history import (
    DEFAULT_ROTATION_WAIT_S,
    KEY_TYPES,
    RECOVERY_SET,
    KeyHistory,
    PartyKeys,
    apply_key_statement,
    signer_key,
)
from ..core.statement_types import OPERATOR
from ..core.statements import SignedStatement
from ..errors import InvalidStatement, ReelrightsError, SignatureError
from ..store.key_tables import key_events
from ..store.tables import parties
from .decode import LOG_SIGNER, raise_at, signer_of

__all__ = ["KeyBook", "load_key_history"]


class KeyBook:
    """The public keys known to one ledger."""

    def __init__(self, operator_key: bytes | None = None) -> None:
        #: Parties this ledger registered, and the operator (the log's key signs its statements).
        self.registered: dict[str, bytes] = ({} if operator_key is None else
                                             {OPERATOR: operator_key, LOG_SIGNER: operator_key})
        #: Every party's seq-0 key known (a key number never changes its key): the above and
        #: those read from the registry. Signatures are checked with these before the lock.
        self.verified: dict[str, bytes] = dict(self.registered)
        #: Keys declared after registration, by (party, seq): also checked before the lock.
        self.rotated: dict[tuple[str, int], bytes] = {}
        #: The key histories of the parties that declared a key after registering.
        self.history = KeyHistory()
        #: The largest key_events.log_index read into :attr:`history` (-1: none).
        self.events_upto = -1
        #: The registry the history's possession proofs are bound to (set by :meth:`refresh`).
        self.registry: str | None = None

    def operator(self, key: bytes) -> None:
        """The operator's statements are signed with ``key`` from now on (the registry's
        establishment named it; the log's key signs checkpoints only)."""
        self.registered[OPERATOR] = self.verified[OPERATOR] = key

    # -- under the lock ----------------------------------------------------------------------
    def refresh(self, conn: Connection, registry: str | None, wait_s: int) -> None:
        """Read the key statements logged since this book last looked (by any process)."""
        self.history.wait_s = wait_s
        self.registry = registry
        latest = conn.execute(select(func.max(key_events.c.log_index))).scalar()
        if latest is None or int(latest) <= self.events_upto or registry is None:
            return
        changed = set(conn.scalars(select(key_events.c.party_id).distinct()
                                   .where(key_events.c.log_index > self.events_upto)))
        fresh = load_key_history(conn, registry, wait_s, changed)
        for party, state in fresh.parties.items():
            self.history.parties[party] = state
            for rec in state.keys:
                self.rotated[(party, rec.seq)] = rec.public_key
            self.verified.setdefault(party, state.keys[0].public_key)
        self.events_upto = int(latest)

    def resolve(self, conn: Connection, stmts: list[SignedStatement]) -> list[bytes]:
        """Each statement's key, reading the registry for actors not known yet; refuses the
        first unknown actor or key number (in batch order). Call after :meth:`refresh`."""
        known = dict(self.registered)
        missing = {s.actor for s in stmts if s.actor not in known} - {
            s.actor for s in stmts if s.type == "party.registered"}
        if missing:
            wanted = sorted(missing)
            for k in range(0, len(wanted), 500):
                for row in conn.execute(select(parties.c.id, parties.c.public_key)
                                        .where(parties.c.id.in_(wanted[k:k + 500]))):
                    known[row.id] = self.verified[row.id] = bytes(row.public_key)
        out = []
        declared: dict[tuple[str, int], bytes] = {}
        for i, s in enumerate(stmts):
            t = lookup(s.type, s.version)
            if t.key_field is not None:
                key = base64.b64decode(s.body[t.key_field])
                known.setdefault(s.actor, key)
                out.append(key)
                continue
            if s.key_seq:
                found = self.rotated.get((s.actor, s.key_seq)) or declared.get(
                    (s.actor, s.key_seq))
                if found is None and self.registry is not None:  # logged by another process?
                    self.refresh(conn, self.registry, self.history.wait_s)
                    found = self.rotated.get((s.actor, s.key_seq))
                if found is None:
                    raise_at(i, len(stmts), SignatureError(
                        f"the statement names key seq {s.key_seq} of {s.actor}, which that "
                        "party has not declared (key.rotation.requested, key.recovered or "
                        "key.recovery.set declare keys)"))
            else:
                found = known.get(signer_of(s))
                if found is None:
                    raise_at(i, len(stmts), SignatureError(
                        f"actor {s.actor} is not a registered party; register it with "
                        "`reelrights party add` (or submit its party.registered statement) "
                        "first"))
            out.append(found)
            if s.type in KEY_TYPES:
                declared.update(_declared_keys(s))
        return out

    def check_in_force(self, stmts: list[SignedStatement], first_index: int,
                       log_time: str | None) -> None:
        """Every statement's key is in force at its log index and the batch's log time, and
        every key statement keeps the rules (:mod:`reelrights.core.key_history`); key
        statements apply in batch order. Raises naming the first statement that fails.

        A party that never changed its key costs two set look-ups here: no query, no copy."""
        total = len(stmts)
        changed = self.history.parties
        overlay: dict[str, PartyKeys] = {}
        batch_keys: dict[str, bytes] = {}
        browser_made: dict[str, int] = {}  # party -> position of its registration
        for pos, s in enumerate(stmts):
            actor, seq = s.actor, s.key_seq
            is_key = s.type in KEY_TYPES
            if browser_made:
                _before_recovery(browser_made, s, pos, total)
            if s.type == "party.registered" and s.body.get("key_origin") == "browser":
                browser_made[actor] = pos
            if not seq and not is_key and actor not in changed and actor not in overlay:
                if s.type == "party.registered":
                    batch_keys[actor] = base64.b64decode(s.body["public_key"])
                continue  # the registered key, never changed: the common case
            if log_time is None:
                raise_at(pos, total, InvalidStatement(
                    "key numbers and key statements are v2 only; sign it as a v2 statement",
                    "/statement/key"))
            if lookup(s.type, s.version).key_field is not None or actor == OPERATOR:
                raise_at(pos, total, SignatureError(
                    f"a {s.type} statement is signed with the key it registers (or the "
                    f"operator's): it names key seq 0, not {seq}"))
            index = first_index + pos
            state = overlay.get(actor) or changed.get(actor)
            registered = self.verified.get(actor) or batch_keys.get(actor)
            try:
                signer_key(state, registered, s.type, actor, seq, index, log_time)
                if is_key:
                    base = state or PartyKeys.registered(actor, registered or b"")
                    overlay[actor] = apply_key_statement(
                        base, s.type, s.registry or "", seq, s.body, index, log_time,
                        self.history.wait_s)
            except ReelrightsError as exc:
                raise_at(pos, total, exc)
        for actor, pos in browser_made.items():
            raise_at(pos, total, InvalidStatement(
                f"{actor}'s key was made in a browser (key_origin browser): its recovery key "
                "must be set in the same batch, right after party.registered "
                "(key.recovery.set), before the key signs anything else", "/statement/body"))

    # -- keys for the signature checks -------------------------------------------------------
    def key_for(self, stmts: list[SignedStatement], pos: int) -> bytes:
        """The key statement ``pos`` is checked with (after :meth:`resolve`)."""
        s = stmts[pos]
        t = lookup(s.type, s.version)
        if t.key_field is not None:
            return base64.b64decode(s.body[t.key_field])
        if s.key_seq:
            key = self.rotated.get((s.actor, s.key_seq))
            if key is None:
                key = next(k for o in stmts[:pos]
                           for (who, seq), k in _declared_keys(o).items()
                           if (who, seq) == (s.actor, s.key_seq))
            return key
        key = self.verified.get(signer_of(s))
        if key is None:  # registered earlier in this same batch
            key = next(base64.b64decode(o.body[field]) for o in stmts[:pos] if o.actor == s.actor
                       and (field := lookup(o.type, o.version).key_field) is not None)
        return key

    def remember(self, stmts: list[SignedStatement]) -> None:
        """After a commit: keep the keys the batch registered (key changes are read back by
        the next batch's :meth:`refresh`)."""
        kinds = {(s.type, s.version) for s in stmts}
        fields = {k: f for k in kinds if (f := lookup(*k).key_field) is not None}
        if not fields:
            return
        for s in stmts:
            f = fields.get((s.type, s.version))
            if f is not None:
                self.registered[s.actor] = self.verified[s.actor] = base64.b64decode(s.body[f])

    # -- for signers -------------------------------------------------------------------------
    def signing_seq(self, conn: Connection, registry: str | None, wait_s: int, actor: str,
                    public_key: bytes | None, log_time: str) -> int:
        """The key number ``actor`` signs with now: ``public_key``'s, when given and declared;
        else the signing key in force at ``log_time`` (0 for a party that never changed it)."""
        state = load_key_history(conn, registry or "", wait_s, {actor}).parties.get(actor)
        if state is None:
            return 0
        if public_key is not None:
            for rec in reversed(state.keys):
                if rec.public_key == public_key and rec.cancelled_index is None:
                    return rec.seq
        size = conn.execute(select(func.max(key_events.c.log_index))).scalar() or 0
        current = state.signing_at(int(size) + 1, log_time)
        return 0 if current is None else current.seq


def _before_recovery(browser_made: dict[str, int], s: SignedStatement, pos: int,
                     total: int) -> None:
    """A browser-made key (``key_origin`` browser, docs/web.md) signs its registration, then
    its recovery key's ``key.recovery.set``, and nothing in between."""
    if s.actor not in browser_made:
        return
    if s.type != RECOVERY_SET:
        raise_at(pos, total, SignatureError(
            f"{s.actor}'s key was made in a browser and has no recovery key yet, so it signs "
            f"no {s.type}: set the recovery key first (key.recovery.set, in the same batch as "
            "party.registered)"))
    del browser_made[s.actor]


def _declared_keys(s: SignedStatement) -> dict[tuple[str, int], bytes]:
    """The keys a key statement declares, by (party, seq)."""
    if s.type not in KEY_TYPES or "public_key" not in s.body:
        return {}
    out = {(s.actor, s.body["seq"]): base64.b64decode(s.body["public_key"])}
    rec = s.body.get("recovery")
    if rec is not None:
        out[(s.actor, rec["seq"])] = base64.b64decode(rec["public_key"])
    return out


def load_key_history(conn: Connection, registry: str, wait_s: int = DEFAULT_ROTATION_WAIT_S,
                     only: Iterable[str] | None = None) -> KeyHistory:
    """The key histories of the parties that declared keys (``only`` those), rebuilt from the
    logged key statements (``key_events``) through the same pure rules the ledger ran."""
    history = KeyHistory(wait_s)
    q = select(key_events).order_by(key_events.c.log_index)
    reg = select(parties.c.id, parties.c.public_key, parties.c.log_index,
                 parties.c.registered_at)
    if only is not None:
        wanted = sorted(set(only))
        if not wanted:
            return history
        q = q.where(key_events.c.party_id.in_(wanted))
        reg = reg.where(parties.c.id.in_(wanted))
    rows = conn.execute(q).all()
    if not rows:
        return history
    keys0 = {r.id: (bytes(r.public_key), int(r.log_index), r.registered_at)
             for r in conn.execute(reg.where(parties.c.id.in_({r.party_id for r in rows})))}
    for r in rows:
        state = history.parties.get(r.party_id)
        if state is None:
            key, idx, at = keys0[r.party_id]
            state = PartyKeys.registered(r.party_id, key, idx, at)
        body: dict[str, Any] = json.loads(r.body)
        history.parties[r.party_id] = apply_key_statement(
            state, r.type, registry, int(r.signer_seq), body, int(r.log_index), r.log_time,
            wait_s)
    return history
