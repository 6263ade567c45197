"""Which public key signed a statement: actor -> key, by log index, from public statements only.

A party's first key (seq 0) is the one its ``party.registered`` statement names (self-signed:
proof of possession). Keys declared since (recovery keys, rotations, recoveries, revocations:
docs/keys.md) come from the party's key statements, replayed in log order through
:class:`reelrights.core.key_history.KeyHistory`, the same rules the ledger and ``log verify``
apply. The operator's statements are signed with the log's key, or with the ``operator_key`` of
the ``registry.established`` statement (itself signed with the log's key).

:func:`key_at` is the ONE place that decides it. No I/O.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field
from functools import lru_cache

from ..core.key_history import DEFAULT_ROTATION_WAIT_S, KEY_TYPES, KeyHistory
from ..core.statement_types import OPERATOR
from ..core.statements import SignedStatement
from ..errors import VerificationError

__all__ = ["KeyBook", "key_at"]


@dataclass
class KeyBook:
    """The key statements a verifier was given (each already proven included in the log):
    actor -> [(log index, public key)], and the operator's key changes."""

    log_key: bytes
    parties: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    operator: list[tuple[int, bytes]] = field(default_factory=list)
    #: Each party's key statements after registration (docs/keys.md), by log index.
    key_statements: dict[str, list[tuple[int, SignedStatement]]] = field(default_factory=dict)
    #: The registry's rotation wait (its registry.established statement, when given).
    wait_s: int = DEFAULT_ROTATION_WAIT_S
    #: Parties with one registration and no key statement since: actor -> (index, key), what
    #: :func:`key_at` resolves for any later index and key 0 (filled as asked, reset by learn).
    only_key: dict[str, tuple[int, bytes]] = field(default_factory=dict, repr=False,
                                                   compare=False)

    def learn(self, index: int, s: SignedStatement) -> None:
        """Record a key statement (a no-op for any other type)."""
        self.only_key.clear()
        if s.type in KEY_TYPES:
            self.key_statements.setdefault(s.actor, []).append((index, s))
        elif s.type == "party.registered":
            self.parties.setdefault(s.actor, []).append((index, _raw_key(s, "public_key")))
            self.kinds[s.actor] = str(s.body.get("kind"))
        elif s.type == "registry.established":
            if "operator_key" in s.body:
                self.operator.append((index, _raw_key(s, "operator_key")))
            wait = s.body.get("key_rotation_wait_s")
            if type(wait) is int:
                self.wait_s = wait


@lru_cache(maxsize=4096)
def _decode_key(text: object) -> bytes:
    try:
        return binascii.a2b_base64(text, strict_mode=True)  # type: ignore[arg-type]
    except (binascii.Error, TypeError, ValueError):
        return b""


def _raw_key(s: SignedStatement, name: str) -> bytes:
    value = s.body.get(name)
    raw = _decode_key(value) if type(value) is str else b""
    if len(raw) != 32:
        raise VerificationError(f"the {s.type} statement of {s.actor} holds no 32-byte "
                                f"Ed25519 key in {name}")
    return raw


def key_at(book: KeyBook, actor: str, index: int, seq: int = 0, s_type: str = "",
           log_time: str | None = None) -> list[bytes]:
    """The key(s) ``actor`` may have signed the entry at ``index`` with, naming key ``seq``
    (first: the most recent).

    VerificationError naming the actor when the verifier was given no key statement for it
    logged before ``index`` (or, for a key declared after registration, not the party's key
    statements), or when the key history says that key may not sign there."""
    if actor == OPERATOR:
        return [k for i, k in reversed(book.operator) if i < index] + [book.log_key]
    only = book.only_key.get(actor)
    if only is None:
        registrations = book.parties.get(actor)
        if registrations and len(registrations) == 1 and actor not in book.key_statements:
            only = book.only_key[actor] = registrations[0]
    if only is not None and seq == 0 and only[0] < index:
        return [only[1]]  # what the lines below give: its one key, no key history to replay
    keys = [k for i, k in reversed(book.parties.get(actor, [])) if i < index]
    if not keys:
        raise VerificationError(f"entry {index}: no party.registered statement of its signer "
                                f"{actor} logged before it was given; the proof must carry "
                                "the signer's key statement")
    registered = keys[-1]
    events = sorted((i, k) for i, k in book.key_statements.get(actor, []) if i < index)
    if not events:
        if seq != 0:
            raise VerificationError(f"entry {index} names key {seq} of {actor}, but no key "
                                    "statement of that party was given; the proof must carry "
                                    "the party's key statements")
        return [registered]
    history = KeyHistory(book.wait_s)
    try:
        for i, k in events:
            history.apply(k.type, actor, k.registry or "", k.key_seq, dict(k.body), i,
                          k.log_time or "", registered)
        return [history.signer(s_type, actor, seq, index, log_time, registered)]
    except (VerificationError, ValueError, KeyError) as exc:
        raise VerificationError(f"entry {index}: {actor}'s key history gives no key "
                                f"{seq} that may sign it ({exc})") from None
