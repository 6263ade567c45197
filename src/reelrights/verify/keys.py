"""Which public key signed a statement: actor -> key, by log index, from public statements only.

A party's key is the one its ``party.registered`` statement names (self-signed: proof of
possession), logged at a lower index than the statement it verifies. The operator's statements
are signed with the log's key, or with the ``operator_key`` of the ``registry.established``
statement (itself signed with the log's key).

:func:`key_at` is the ONE place that decides it: when ``reelrights.core.key_history`` (key
rotation) lands, it replaces the body of :func:`key_at` and nothing else changes. No I/O.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field
from functools import lru_cache

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

    def learn(self, index: int, s: SignedStatement) -> None:
        """Record a key statement (a no-op for any other type)."""
        if s.type == "party.registered":
            self.parties.setdefault(s.actor, []).append((index, _raw_key(s, "public_key")))
            self.kinds[s.actor] = str(s.body.get("kind"))
        elif s.type == "registry.established" and "operator_key" in s.body:
            self.operator.append((index, _raw_key(s, "operator_key")))


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


def key_at(book: KeyBook, actor: str, index: int) -> list[bytes]:
    """The keys ``actor`` may have signed the entry at ``index`` with (first: the most recent).

    VerificationError naming the actor when the verifier was given no key statement for it
    logged before ``index``."""
    if actor == OPERATOR:
        return [k for i, k in reversed(book.operator) if i < index] + [book.log_key]
    keys = [k for i, k in reversed(book.parties.get(actor, [])) if i < index]
    if not keys:
        raise VerificationError(f"entry {index}: no party.registered statement of its signer "
                                f"{actor} logged before it was given; the proof must carry "
                                "the signer's key statement")
    # Today a party has one key (key seq 0): its registration. Rotation changes this line.
    return keys[-1:]
