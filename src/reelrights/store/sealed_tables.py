"""Sealed statements' tables (created by migration 0019; docs/sealed.md).

``sealed_statements`` (a projection): every sealed statement the log holds, with its signed root,
and when an erasure (``sealed.erased``) shredded its body. Derived from the log alone.

``sealed_bodies`` (local, the sealed body store): each sealed statement's opening, its private
fields and their salts, as the signer submitted them (a JSON list of leaves). The log holds only
the roots, so these rows are the second source of truth beside the signer's own copy: backed up
with the database, never derivable from the log. ``leaves`` is NULL once erased.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table, Text

from .metadata import metadata

__all__ = ["sealed_bodies", "sealed_statements"]

sealed_statements = Table(
    "sealed_statements", metadata,
    Column("statement_id", String(24), primary_key=True),
    Column("log_index", BigInteger, nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    Column("actor", String(40), nullable=False),
    Column("root", String(64), nullable=False),
    Column("erased_index", BigInteger),
    Column("erased_at", String(32)),
)

sealed_bodies = Table(
    "sealed_bodies", metadata,
    Column("statement_id", String(24), primary_key=True),
    Column("log_index", BigInteger, nullable=False),
    Column("root", String(64), nullable=False),
    #: The opening, JCS of [{"path", "salt", "value"}, ...]; NULL once the body is erased.
    Column("leaves", Text),
    Column("kept_at", String(32), nullable=False),
)
