"""The operator's allowlist of signing keys (table ``service_allowed_keys``).

Until parties have identities of their own, ``reelrights serve`` appends only statements signed
by a key on this list: the operator adds a party's key (``reelrights service allow KEY``) once
it has checked who holds it. A ``party.registered`` statement is signed by the new key in its
body (proof of possession), so that key must be on the list before the party can register.
The operator's log key is always allowed. ``reelrights serve --open`` skips the list.

A statement names its key by id (the first 8 bytes of SHA-256 of the public key); the ledger
then checks the signature with the party's registered key, whose id must match. A server
process caches the ids: a key allowed is seen at its first use, a key disallowed within
:data:`REFRESH_S` seconds.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from ..core.statements import key_id_for, read_entry, utc_now
from ..errors import BadInput, KeyNotAllowed
from ..store.db import Database
from ..store.service_tables import service_allowed_keys
from ..store.tables import parties

__all__ = ["REFRESH_S", "Allowlist", "allow", "allowed", "disallow", "format_key", "parse_key"]

#: How often a server process re-reads the list (a disallowed key stops within this).
REFRESH_S = 2.0
#: At most one re-read on an unknown key this often (a key just allowed is seen at once).
MISS_REFRESH_S = 0.25


def format_key(public_key: bytes) -> str:
    return "ed25519:" + base64.b64encode(public_key).decode("ascii")


def parse_key(text: str) -> bytes:
    """A public key from ``ed25519:<base64>``, a bare base64 key, or a key file's path."""
    raw = text.strip()
    if raw.startswith("ed25519:"):
        raw = raw[len("ed25519:"):]
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) == 32:
        return key
    path = Path(text).expanduser()
    if path.is_file():
        from ..keys import load_key_file

        return load_key_file(path).public_key_bytes
    raise BadInput(f"{text!r} is not a public key: give ed25519:<base64 of the 32-byte Ed25519 "
                   "public key> (as `reelrights party show` prints it) or a party's key file")


def allow(db: Database, public_key: bytes, note: str | None = None) -> bool:
    """Put a key on the list; False if it was there already (its note is then kept)."""
    with db.write() as conn:
        if conn.execute(select(service_allowed_keys.c.key_id)
                        .where(service_allowed_keys.c.public_key == public_key)).first():
            return False
        conn.execute(service_allowed_keys.insert().values(
            public_key=public_key, key_id=key_id_for(public_key), added_at=utc_now(), note=note))
    return True


def disallow(db: Database, public_key: bytes) -> bool:
    """Take a key off the list; False if it was not on it."""
    with db.write() as conn:
        n = conn.execute(delete(service_allowed_keys)
                         .where(service_allowed_keys.c.public_key == public_key)).rowcount
    return bool(n)


def allowed(db: Database) -> list[dict[str, Any]]:
    """The list, oldest first: key, key id, when added, note, and the party holding it if any."""
    with db.read() as conn:
        rows = conn.execute(select(service_allowed_keys).order_by(
            service_allowed_keys.c.added_at, service_allowed_keys.c.key_id)).all()
        holders = {bytes(r.public_key): r.id for r in conn.execute(
            select(parties.c.id, parties.c.public_key).where(
                parties.c.public_key.in_([bytes(r.public_key) for r in rows])))} if rows else {}
    return [{"key": format_key(bytes(r.public_key)), "key_id": r.key_id, "added_at": r.added_at,
             "note": r.note, "party": holders.get(bytes(r.public_key))} for r in rows]


class Allowlist:
    """One server process's view of the list (ids cached; see the module doc)."""

    def __init__(self, db: Database, operator_key: bytes,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.db, self.clock = db, clock
        self.operator_id = key_id_for(operator_key)
        self._ids: frozenset[str] = frozenset()
        self._read_at = -1e9

    def stale(self, key_id: str) -> bool:
        """Whether the cache should be re-read before judging ``key_id``."""
        age = self.clock() - self._read_at
        return age > REFRESH_S or (key_id not in self._ids and age > MISS_REFRESH_S)

    def refresh(self) -> None:
        """Re-read the list (blocking: run it in a thread)."""
        with self.db.read() as conn:
            ids = frozenset(r[0] for r in conn.execute(select(service_allowed_keys.c.key_id)))
        self._ids, self._read_at = ids, self.clock()

    def allows(self, key_id: str) -> bool:
        return key_id == self.operator_id or key_id in self._ids

    def refusal(self, entry: bytes, key_id: str) -> KeyNotAllowed:
        """The refusal for ``entry``, naming its key in full where it can be found (blocking)."""
        key = _public_key(self.db, entry, key_id)
        named = format_key(key) if key is not None else f"with id {key_id}"
        fix = format_key(key) if key is not None else "ed25519:<the party's public key>"
        return KeyNotAllowed(
            f"key {named} is not on this service's allowlist, so its statements are not "
            f"accepted; ask the operator to check who holds it and run `reelrights service "
            f"allow {fix}`")


def _public_key(db: Database, entry: bytes, key_id: str) -> bytes | None:
    """The full key behind ``key_id``: the body's key (party.registered) or the registry's."""
    try:
        s = read_entry(entry)
    except Exception:  # noqa: BLE001 - a name for a message; the ledger words any fault
        return None
    for field in ("public_key",):
        value = s.body.get(field) if isinstance(s.body, dict) else None
        if isinstance(value, str):
            try:
                key = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                continue
            if key_id_for(key) == key_id:
                return key
    with db.read() as conn:
        row = conn.execute(select(parties.c.public_key).where(parties.c.id == s.actor)).first()
    if row is not None and key_id_for(bytes(row[0])) == key_id:
        return bytes(row[0])
    return None
