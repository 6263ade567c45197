"""Whose key signs what: the keys a ledger knows, and those it reads under the head lock.

A party's key never changes, so a key once read from the registry (or registered through this
ledger) is kept: the next batch checks those signatures before it takes the lock.
``party.registered`` is self-certifying: its body carries the key it is signed with (proof of
possession), and a party registered earlier in a batch signs the rest of the batch with it.
"""

from __future__ import annotations

import base64

from sqlalchemy import Connection, select

from ..catalogue import lookup
from ..core.statement_types import OPERATOR
from ..core.statements import SignedStatement
from ..errors import SignatureError
from ..store.tables import parties
from .decode import LOG_SIGNER, raise_at, signer_of

__all__ = ["KeyBook"]


class KeyBook:
    """The public keys known to one ledger."""

    def __init__(self, operator_key: bytes | None = None) -> None:
        #: Parties this ledger registered, and the operator (the log's key signs its statements).
        self.registered: dict[str, bytes] = ({} if operator_key is None else
                                             {OPERATOR: operator_key, LOG_SIGNER: operator_key})
        #: Every key known to be its party's registered key (keys never change): the above and
        #: those read from the registry. Signatures are checked with these before the lock.
        self.verified: dict[str, bytes] = dict(self.registered)

    def operator(self, key: bytes) -> None:
        """The operator's statements are signed with ``key`` from now on (the registry's
        establishment named it; the log's key signs checkpoints only)."""
        self.registered[OPERATOR] = self.verified[OPERATOR] = key

    def resolve(self, conn: Connection, stmts: list[SignedStatement]) -> list[bytes]:
        """Each statement's key, reading the registry for actors not known yet; refuses the
        first unknown actor (in batch order)."""
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
        for i, s in enumerate(stmts):
            t = lookup(s.type, s.version)
            if t.key_field is not None:
                key = base64.b64decode(s.body[t.key_field])
                known.setdefault(s.actor, key)
                out.append(key)
                continue
            found = known.get(signer_of(s))
            if found is None:
                raise_at(i, len(stmts), SignatureError(
                    f"actor {s.actor} is not a registered party; register it with `reelrights "
                    "party add` (or submit its party.registered statement) first"))
            out.append(found)
        return out

    def key_for(self, stmts: list[SignedStatement], pos: int) -> bytes:
        """The key statement ``pos`` is checked with (after :meth:`resolve`)."""
        s = stmts[pos]
        t = lookup(s.type, s.version)
        if t.key_field is not None:
            return base64.b64decode(s.body[t.key_field])
        key = self.verified.get(signer_of(s))
        if key is None:  # registered earlier in this same batch
            key = next(base64.b64decode(o.body[field]) for o in stmts[:pos] if o.actor == s.actor
                       and (field := lookup(o.type, o.version).key_field) is not None)
        return key

    def remember(self, stmts: list[SignedStatement]) -> None:
        """After a commit: keep the keys the batch registered."""
        kinds = {(s.type, s.version) for s in stmts}
        fields = {k: f for k in kinds if (f := lookup(*k).key_field) is not None}
        if not fields:
            return
        for s in stmts:
            f = fields.get((s.type, s.version))
            if f is not None:
                self.registered[s.actor] = self.verified[s.actor] = base64.b64decode(s.body[f])
