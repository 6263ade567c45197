"""Keys over time: which key may sign for a party at a log position, from public statements only.

Pure (no I/O): the ledger's key book, ``log verify``, a replica's sync, ``rebuild`` and any
outside verifier feed the same statements through :class:`KeyHistory` in log order and get the
same answers. docs/keys.md tells the rules in prose.

Every key a party declares gets the next **sequence number** of that party (never reused, not
even for a cancelled key): seq 0 is the key of ``party.registered``; ``key.recovery.set``,
``key.rotation.requested`` and ``key.recovered`` declare the next ones. A v2 statement names
its signing key as ``"key": {"party": A, "seq": N}``; the key history says whether key N of A
could sign that type at that log index and log time.

* ``key.recovery.set`` (signed by the current signing key, once): the party's offline
  **recovery key**, valid from the next index. It signs only ``key.rotation.cancelled``,
  ``key.recovered`` and ``key.revoked``; it is replaced only by ``key.recovered``.
* ``key.rotation.requested`` (signed by the current signing key; a recovery key must be set;
  one pending at a time): the new key signs statements whose log time is at least
  ``T + wait`` (``T`` the request's log time, ``wait`` the registry's
  ``key_rotation_wait_s``, 72 h by default); the old key signs those before that time.
* ``key.rotation.cancelled`` (recovery key, before the new key takes effect): the rotation is
  void; the old key stays; the cancelled key is never accepted again.
* ``key.recovered`` (recovery key): the higher authority rotates **at once**: the new signing
  key signs from the next index, the previous one no longer; a pending rotation is void. It may
  also replace the recovery key (advised: the old one has now been used online).
* ``key.revoked`` (the signing key itself, or the recovery key): the current signing key signs
  nothing after this index, never earlier; a pending rotation is void. Until ``key.recovered``
  the party signs nothing.

Each new key proves possession: ``proof`` is its Ed25519 signature over
:func:`possession_message` (registry, party, seq, role and the key), so a proof cannot be
replayed for another registry, party, sequence number or role.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError, CryptoError

from ..errors import Conflict, InvalidStatement, SignatureError
from .statements import key_id_for, parse_time

__all__ = ["BY_RECOVERY", "BY_SIGNING_OR_RECOVERY", "DEFAULT_ROTATION_WAIT_S", "KEY_TYPES",
           "KeyHistory", "KeyRecord", "PartyKeys", "possession_message", "signer_key"]

DEFAULT_ROTATION_WAIT_S = 72 * 3600
RECOVERY_SET = "key.recovery.set"
ROTATION_REQUESTED = "key.rotation.requested"
ROTATION_CANCELLED = "key.rotation.cancelled"
RECOVERED = "key.recovered"
REVOKED = "key.revoked"
#: The statement types that change a party's keys.
KEY_TYPES = frozenset({RECOVERY_SET, ROTATION_REQUESTED, ROTATION_CANCELLED, RECOVERED, REVOKED})
#: Signed by the party's recovery key only.
BY_RECOVERY = frozenset({ROTATION_CANCELLED, RECOVERED})
#: Signed by the current signing key or by the recovery key.
BY_SIGNING_OR_RECOVERY = frozenset({REVOKED})
SIGNING, RECOVERY = "signing", "recovery"
_POSSESSION = b"reelrights/key-possession/v1\n"


def possession_message(registry: str, party: str, seq: int, role: str, public_key: str) -> bytes:
    """What a new key signs to prove it is held: bound to the registry, the party, the
    sequence number it is declared as, its role and itself (base64)."""
    return _POSSESSION + "\n".join((registry, party, str(seq), role, public_key)).encode("ascii")


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One key of a party and when it may sign.

    It signs a statement at log index ``i`` with log time ``t`` when ``from_index <= i``,
    ``from_time`` is None or ``from_time <= t``, ``until_index`` is None or ``i <=
    until_index``, and ``until_time`` is None or ``t < until_time``. A cancelled key never
    signs (``cancelled_index`` set)."""

    seq: int
    public_key: bytes
    role: str
    declared_index: int
    declared_time: str
    from_index: int
    from_time: str | None = None
    until_index: int | None = None
    until_time: str | None = None
    cancelled_index: int | None = None
    ended_by: str | None = None  # the statement type that ended or cancelled it

    @property
    def key_id(self) -> str:
        return key_id_for(self.public_key)

    def valid_at(self, index: int, log_time: str) -> bool:
        return (self.cancelled_index is None and self.from_index <= index
                and (self.from_time is None or self.from_time <= log_time)
                and (self.until_index is None or index <= self.until_index)
                and (self.until_time is None or log_time < self.until_time))

    def status(self, index: int, log_time: str) -> str:
        """pending | active | cancelled | revoked | retired, as of (index, log time)."""
        if self.cancelled_index is not None:
            return "cancelled"
        if self.valid_at(index, log_time):
            return "active"
        if (self.until_index is not None and index > self.until_index) or (
                self.until_time is not None and log_time >= self.until_time):
            return "revoked" if self.ended_by == REVOKED else "retired"
        return "pending"

    def to_json(self, index: int, log_time: str) -> dict[str, Any]:
        return {"seq": self.seq, "role": self.role, "key_id": self.key_id,
                "public_key": base64.b64encode(self.public_key).decode("ascii"),
                "declared_index": self.declared_index, "declared_at": self.declared_time,
                "from_index": self.from_index, "from_time": self.from_time,
                "until_index": self.until_index, "until_time": self.until_time,
                "cancelled_index": self.cancelled_index, "ended_by": self.ended_by,
                "status": self.status(index, log_time)}


@dataclass(frozen=True, slots=True)
class PartyKeys:
    """Every key a party declared, in sequence order (immutable: applying returns a new one)."""

    party: str
    keys: tuple[KeyRecord, ...]

    @classmethod
    def registered(cls, party: str, public_key: bytes, index: int = 0,
                   log_time: str = "") -> PartyKeys:
        return cls(party, (KeyRecord(0, public_key, SIGNING, index, log_time, index),))

    def seq(self, seq: int) -> KeyRecord | None:
        return self.keys[seq] if 0 <= seq < len(self.keys) else None

    def signing_at(self, index: int, log_time: str) -> KeyRecord | None:
        return next((k for k in reversed(self.keys) if k.role == SIGNING
                     and k.valid_at(index, log_time)), None)

    def recovery_at(self, index: int, log_time: str) -> KeyRecord | None:
        return next((k for k in reversed(self.keys) if k.role == RECOVERY
                     and k.valid_at(index, log_time)), None)

    def pending_at(self, index: int, log_time: str) -> KeyRecord | None:
        """A requested rotation not yet in effect (and not cancelled)."""
        return next((k for k in self.keys if k.role == SIGNING and k.cancelled_index is None
                     and k.from_time is not None and log_time < k.from_time
                     and (k.until_index is None or index <= k.until_index)), None)

    def usable_at(self, index: int, log_time: str) -> list[KeyRecord]:
        """The keys that could sign some statement at (index, log time)."""
        return [k for k in self.keys if k.valid_at(index, log_time)]

    def _set(self, rec: KeyRecord) -> PartyKeys:
        keys = list(self.keys)
        if rec.seq == len(keys):
            keys.append(rec)
        else:
            keys[rec.seq] = rec
        return PartyKeys(self.party, tuple(keys))


def signer_key(state: PartyKeys | None, registered: bytes | None, s_type: str, actor: str,
               seq: int, index: int, log_time: str | None) -> bytes:
    """The public key that must have signed a statement of type ``s_type`` by ``actor`` naming
    key ``seq``, at ``index`` / ``log_time``; raises SignatureError saying why none may.

    ``state`` is the actor's key history (None: it never declared a key after registering),
    ``registered`` its seq-0 key (None: not registered)."""
    if state is None:
        if registered is None:
            raise SignatureError(f"actor {actor} is not a registered party; register it with "
                                 "`reelrights party add` (or submit its party.registered "
                                 "statement) first")
        if seq != 0:
            raise SignatureError(f"the statement names key seq {seq} of {actor}, which has only "
                                 'its registered key; write "key": {"party": <the actor>, '
                                 '"seq": 0}')
        if s_type in BY_RECOVERY:
            raise SignatureError(f"{s_type} is signed by the party's recovery key, and {actor} "
                                 "has none (set one with `reelrights key recovery-set`)")
        return registered
    rec = state.seq(seq)
    if rec is None:
        raise SignatureError(f"the statement names key seq {seq} of {actor}, which declared "
                             f"keys 0 to {len(state.keys) - 1} only")
    if log_time is None:  # a v1 statement: before any key could change
        return rec.public_key
    roles = ({RECOVERY} if s_type in BY_RECOVERY else {SIGNING, RECOVERY}
             if s_type in BY_SIGNING_OR_RECOVERY else {SIGNING})
    if rec.role not in roles:
        want = " or ".join(sorted(roles))
        raise SignatureError(f"{s_type} must be signed by {actor}'s {want} key, and key seq "
                             f"{seq} is its {rec.role} key")
    if not rec.valid_at(index, log_time):
        raise SignatureError(f"key seq {seq} ({rec.key_id}) of {actor} may not sign at log "
                             f"index {index} (log time {log_time}): it is "
                             f"{_why_not(rec, index, log_time)}; sign with the key in force")
    return rec.public_key


def _why_not(rec: KeyRecord, index: int, log_time: str) -> str:
    st = rec.status(index, log_time)
    if st == "cancelled":
        return f"a cancelled rotation (log index {rec.cancelled_index})"
    if st == "pending":
        return f"a rotation that takes effect at log time {rec.from_time}"
    if rec.until_index is not None and index > rec.until_index:
        return f"{st} at log index {rec.until_index} ({rec.ended_by})"
    return f"{st} since log time {rec.until_time}"


def apply_key_statement(state: PartyKeys, s_type: str, registry: str, signer_seq: int,
                        body: dict[str, Any], index: int, log_time: str,
                        wait_s: int) -> PartyKeys:
    """The party's keys after a key statement (its signer already checked by
    :func:`signer_key`); raises InvalidStatement or Conflict when the statement breaks a rule."""
    party = state.party
    if s_type == RECOVERY_SET:
        if any(k.role == RECOVERY for k in state.keys):
            raise Conflict(f"{party} has a recovery key already; only its recovery key replaces "
                           "it (key.recovered with a new recovery key)")
        return state._set(_declared(state, registry, body, RECOVERY, index, log_time,
                                    index + 1, None))
    if s_type == ROTATION_REQUESTED:
        if state.recovery_at(index + 1, log_time) is None:
            raise Conflict(f"{party} has no recovery key: set one (key.recovery.set) before a "
                           "rotation, so a thief who rotates first can be stopped")
        pending = state.pending_at(index, log_time)
        if pending is not None:
            raise Conflict(f"a rotation of {party} to key seq {pending.seq} is pending until "
                           f"{pending.from_time}; wait for it, or have the recovery key cancel "
                           "it (key.rotation.cancelled)")
        current = _current(state, index, log_time)
        effective = _later(log_time, wait_s)
        new = _declared(state, registry, body, SIGNING, index, log_time, index + 1, effective)
        return state._set(replace(current, until_time=effective))._set(new)
    if s_type == ROTATION_CANCELLED:
        pending = state.pending_at(index, log_time)
        if pending is None or pending.seq != body["seq"]:
            raise Conflict(f"key seq {body['seq']} of {party} is not a pending rotation: "
                           + ("nothing is pending" if pending is None
                              else f"the pending one is seq {pending.seq}"))
        state = state._set(replace(pending, cancelled_index=index, ended_by=s_type))
        return _reopen(state, pending)
    if s_type == RECOVERED:
        state = _void_pending(state, index, log_time, s_type)
        live = state.signing_at(index, log_time)
        if live is not None:
            state = state._set(replace(live, until_index=index, ended_by=s_type))
        state = state._set(_declared(state, registry, body, SIGNING, index, log_time,
                                     index + 1, None))
        if "recovery" in body:
            old = state.recovery_at(index, log_time)
            if old is not None:
                state = state._set(replace(old, until_index=index, ended_by=s_type))
            state = state._set(_declared(state, registry, body["recovery"], RECOVERY, index,
                                         log_time, index + 1, None))
        return state
    if s_type == REVOKED:
        live = state.signing_at(index, log_time)
        if live is None or live.seq != body["seq"]:
            raise Conflict(f"key seq {body['seq']} of {party} is not its signing key in force "
                           "(only that key is revoked; a pending one is cancelled by the "
                           "recovery key)")
        state = _void_pending(state, index, log_time, s_type)
        return state._set(replace(state.keys[live.seq], until_index=index, until_time=None,
                                  ended_by=s_type))
    raise InvalidStatement(f"{s_type} is not a key statement")  # pragma: no cover


def _current(state: PartyKeys, index: int, log_time: str) -> KeyRecord:
    current = state.signing_at(index, log_time)
    if current is None:  # the signer check found it; a revoked party signs nothing
        raise Conflict(f"{state.party} has no signing key in force")  # pragma: no cover
    return current


def _void_pending(state: PartyKeys, index: int, log_time: str, by: str) -> PartyKeys:
    pending = state.pending_at(index, log_time)
    if pending is None:
        return state
    state = state._set(replace(pending, cancelled_index=index, ended_by=by))
    return _reopen(state, pending)


def _reopen(state: PartyKeys, pending: KeyRecord) -> PartyKeys:
    """The key a cancelled rotation would have replaced signs on (its end is lifted)."""
    for k in state.keys:
        if k.role == SIGNING and k.until_time == pending.from_time and k.seq < pending.seq \
                and k.until_index is None:
            return state._set(replace(k, until_time=None))
    return state


def _declared(state: PartyKeys, registry: str, body: dict[str, Any], role: str, index: int,
              log_time: str, from_index: int, from_time: str | None) -> KeyRecord:
    """A new key from ``body`` ({seq, public_key, proof}): the next seq, never declared
    before by this party, with a proof of possession that verifies."""
    seq, key_b64 = body["seq"], body["public_key"]
    if seq != len(state.keys):
        raise InvalidStatement(f"the new key must be declared as seq {len(state.keys)} (the "
                               f"next of {state.party}), not {seq}", "/statement/body/seq")
    key = base64.b64decode(key_b64)
    if any(k.public_key == key for k in state.keys):
        raise Conflict(f"key {key_id_for(key)} was declared by {state.party} before; a key "
                       "is declared once (a cancelled or retired key never returns): make a "
                       "new one")
    message = possession_message(registry, state.party, seq, role, key_b64)
    try:
        crypto_sign_open(base64.b64decode(body["proof"]) + message, key)
    except (BadSignatureError, CryptoError, ValueError):
        raise InvalidStatement(f"proof is not the new {role} key's signature of its "
                               "possession message (reelrights/key-possession/v1, registry, "
                               "party, seq, role, key)", "/statement/body/proof") from None
    return KeyRecord(seq, key, role, index, log_time, from_index, from_time)


def _later(log_time: str, seconds: int) -> str:
    t = parse_time(log_time) + timedelta(seconds=seconds)
    return t.isoformat(timespec="microseconds")[:26] + "Z"


class KeyHistory:
    """Every party's keys, built from the public statements in log order.

    ``registered`` maps each party to its seq-0 key (the caller's: a key book keeps them apart);
    :attr:`parties` holds only the parties that declared a key since. Feed each statement with
    :meth:`signer` (which key checks it) then, for key statements, :meth:`apply`."""

    def __init__(self, wait_s: int = DEFAULT_ROTATION_WAIT_S) -> None:
        self.wait_s = wait_s
        self.parties: dict[str, PartyKeys] = {}

    def state(self, party: str, registered: bytes | None, index: int = 0,
              log_time: str = "") -> PartyKeys | None:
        found = self.parties.get(party)
        if found is None and registered is not None:
            return PartyKeys.registered(party, registered, index, log_time)
        return found

    def signer(self, s_type: str, actor: str, seq: int, index: int, log_time: str | None,
               registered: bytes | None) -> bytes:
        return signer_key(self.parties.get(actor), registered, s_type, actor, seq, index,
                          log_time)

    def apply(self, s_type: str, actor: str, registry: str, seq: int, body: dict[str, Any],
              index: int, log_time: str, registered: bytes) -> PartyKeys:
        base = self.state(actor, registered)
        assert base is not None
        new = apply_key_statement(base, s_type, registry, seq, body, index, log_time,
                                  self.wait_s)
        self.parties[actor] = new
        return new

    def keys_at(self, party: str, index: int, log_time: str,
                registered: bytes | None) -> list[KeyRecord]:
        """Which key(s) ``party`` could use at ``index`` / ``log_time``."""
        state = self.state(party, registered)
        return [] if state is None else state.usable_at(index, log_time)
