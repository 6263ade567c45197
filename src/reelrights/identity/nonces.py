"""Server-issued nonces for domain proofs (table ``identity_nonces``, local to the server).

A nonce is issued for one party and one domain, lives :data:`NONCE_TTL_S` seconds and serves
one admission: :func:`claim` takes it (atomically: of two concurrent admissions one wins) before
the proof is fetched, :func:`release` gives it back when the proof did not hold or nothing was
logged, so the party can fix its document and ask again with the same nonce.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import Connection, delete, func, select

from ..core.statements import parse_time, utc_now
from ..errors import Conflict, NotFound, PolicyDenied
from ..store.db import Database
from ..store.identity_tables import identity_nonces

__all__ = ["MAX_OPEN_PER_PARTY", "NONCE_TTL_S", "claim", "issue", "release"]

#: How long an issued nonce may be used (publishing a TXT record can take a while).
NONCE_TTL_S = 72 * 3600
#: Unused, unexpired nonces one party may hold at once (a stranger cannot fill the table).
MAX_OPEN_PER_PARTY = 5


def _later(now: str, seconds: int) -> str:
    return (parse_time(now) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def issue(db: Database, party: str, domain: str, now: str | None = None) -> tuple[str, str]:
    """A new nonce for ``party`` proving ``domain``: (nonce, expires_at)."""
    now = now or utc_now()
    nonce = secrets.token_urlsafe(24)
    with db.write() as conn:
        conn.execute(delete(identity_nonces).where(identity_nonces.c.expires_at <= now))
        open_ = conn.scalar(select(func.count()).select_from(identity_nonces).where(
            identity_nonces.c.party_id == party, identity_nonces.c.used_at.is_(None)))
        if open_ is not None and open_ >= MAX_OPEN_PER_PARTY:
            raise PolicyDenied(f"party {party} holds {open_} unused nonces already (at most "
                               f"{MAX_OPEN_PER_PARTY}); use one, or wait until they expire")
        expires = _later(now, NONCE_TTL_S)
        conn.execute(identity_nonces.insert().values(nonce=nonce, party_id=party, domain=domain,
                                                     issued_at=now, expires_at=expires))
    return nonce, expires


def _why_not(conn: Connection, nonce: str, party: str, domain: str, now: str) -> Exception:
    row = conn.execute(select(identity_nonces).where(identity_nonces.c.nonce == nonce)).first()
    if row is None or row.party_id != party or row.domain != domain:
        return NotFound(f"nonce {nonce} was not issued by this server for {party} and {domain}; "
                        f"get one with `reelrights party nonce {party} --domain {domain}`")
    if row.used_at is not None:
        return Conflict(f"nonce {nonce} was already used (at {row.used_at}); a nonce admits "
                        "once: get a new one with `reelrights party nonce`")
    return Conflict(f"nonce {nonce} expired at {row.expires_at}; get a new one with "
                    "`reelrights party nonce`")


def claim(db: Database, nonce: str, party: str, domain: str, now: str | None = None) -> None:
    """Take ``nonce`` for one admission (refused if unknown, another's, used or expired)."""
    now = now or utc_now()
    with db.write() as conn:
        taken = conn.execute(identity_nonces.update().where(
            identity_nonces.c.nonce == nonce, identity_nonces.c.party_id == party,
            identity_nonces.c.domain == domain, identity_nonces.c.used_at.is_(None),
            identity_nonces.c.expires_at > now).values(used_at=now)).rowcount
        if taken != 1:
            raise _why_not(conn, nonce, party, domain, now)


def release(db: Database, nonce: str) -> None:
    """Give a claimed nonce back (its admission did not happen)."""
    with db.write() as conn:
        conn.execute(identity_nonces.update().where(identity_nonces.c.nonce == nonce)
                     .values(used_at=None))
