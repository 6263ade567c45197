"""Who is reading: a party (from the key that signed the request), the operator, or anyone.

:func:`key_holder` is the one place the service turns a signature's ``keyid`` into a party and
its public key. Today a party has one key for life (the ``parties`` table, as the write path's
:class:`~reelrights.write.keys.KeyBook` reads it); when keys rotate (issue 13 point 2) this
function is the one to switch to the key history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from ..core.statements import key_id_for
from ..store.key_tables import party_keys
from ..store.tables import parties

__all__ = ["ANONYMOUS", "KeyHolder", "Viewer", "key_holder"]


@dataclass(frozen=True)
class Viewer:
    """A reader: ``party`` (a party id) when a party's key signed the request, ``operator``
    when the operator's did; neither for an unsigned request (anyone)."""

    party: str | None = None
    operator: bool = False
    key_id: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.party is None and not self.operator

    def describe(self) -> str:
        if self.operator:
            return "the operator"
        return f"party {self.party}" if self.party else "an unsigned reader"


ANONYMOUS = Viewer()


@dataclass(frozen=True)
class KeyHolder:
    """The holder of a key id: the viewer it makes, and the public key that must verify."""

    viewer: Viewer
    public_key: bytes


def key_holder(conn: Connection, key_id: str, operator_keys: Iterable[bytes] = (),
               registry: str | None = None, wait_s: int | None = None) -> KeyHolder | None:
    """Whose key ``key_id`` (reelrights.core.statements.key_id_for) is: a party's signing key
    in force now (its registered key, or one declared since: docs/keys.md), or one of
    ``operator_keys`` (the operator's statement key and the log key); None if none. With
    ``registry``, a party key is checked against the party's key history: a key rotated out,
    revoked or cancelled reads nothing."""
    for key in operator_keys:
        if key_id_for(key) == key_id:
            return KeyHolder(Viewer(operator=True, key_id=key_id), bytes(key))
    row = conn.execute(select(parties.c.id, parties.c.public_key)
                       .where(parties.c.key_id == key_id)).first()
    if row is None:
        row = conn.execute(select(party_keys.c.party_id.label("id"), party_keys.c.public_key)
                           .where(party_keys.c.key_id == key_id,
                                  party_keys.c.role == "signing")).first()
    if row is None:
        return None
    if registry is not None:
        from ..core.key_history import DEFAULT_ROTATION_WAIT_S
        from ..core.statements import utc_now
        from ..write.keys import load_key_history

        history = load_key_history(conn, registry, wait_s or DEFAULT_ROTATION_WAIT_S, {row.id})
        state = history.parties.get(row.id)
        if state is not None and key_id not in {
                k.key_id for k in state.usable_at(1 << 62, utc_now()) if k.role == "signing"}:
            return None
    return KeyHolder(Viewer(party=row.id, key_id=key_id), bytes(row.public_key))
