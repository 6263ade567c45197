"""Signed reads' replay guard (created by migration 0014): the nonces already used; and the
web sign-in's challenges and sessions (migration 0021), shared by every server process.

``read_nonces``: one row per (key id, nonce) of an accepted RFC 9421 request signature
(reelrights.access.request_signatures). The primary key refuses the second use of a nonce in
one transaction, whichever server process sees it, since every process shares the database. A
row is kept until ``expires_at`` (the signature's ``created`` plus the window, in Unix seconds):
after that the signature is stale anyway, and the row is pruned. A local table: never logged,
not derived from the log.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table

from .metadata import metadata

__all__ = ["read_nonces", "web_challenges", "web_sessions"]

read_nonces = Table(
    "read_nonces", metadata,
    #: The signing key's id (16 hex characters: reelrights.core.statements.key_id_for).
    Column("key_id", String(16), primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_read_nonces_expires_at", "expires_at"),
)


#: Web sign-in challenges (reelrights.web.session): one row per challenge issued, deleted when
#: used (so a challenge opens one session, in whichever server process), pruned after expiry.
web_challenges = Table(
    "web_challenges", metadata,
    Column("nonce", String(64), primary_key=True),
    Column("party", String(64), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_web_challenges_expires_at", "expires_at"),
)

#: Web sessions, shared by every server process (``serve --workers N``). The cookie's token is
#: never stored: its SHA-256 is the key, so a leaked table opens no session.
web_sessions = Table(
    "web_sessions", metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("party", String(64), nullable=False),
    Column("name", String(512), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_web_sessions_expires_at", "expires_at"),
)
