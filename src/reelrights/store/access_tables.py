"""Signed reads' replay guard (created by migration 0014): the nonces already used.

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

__all__ = ["read_nonces"]

read_nonces = Table(
    "read_nonces", metadata,
    #: The signing key's id (16 hex characters: reelrights.core.statements.key_id_for).
    Column("key_id", String(16), primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_read_nonces_expires_at", "expires_at"),
)
