"""Sealed statements' tables (created by migration 0019; docs/sealed.md).

``sealed_statements`` (a projection): every sealed statement the log holds, with its signed root,
and when an erasure (``sealed.erased``) shredded its body. Derived from the log alone.

``sealed_bodies`` (local, the sealed body store): each sealed statement's opening, its private
fields and their salts, as the signer submitted them (a JSON list of leaves). The log holds only
the roots, so these rows are the second source of truth beside the signer's own copy: backed up
with the database, never derivable from the log. ``leaves`` is NULL once erased.

``sealed_grants`` (local, migration 0020): the disclosures a party made through the service
(``POST /v1/sealed/<id>/grants``): which fields of which sealed statement it showed to which
party, and when. The recipient then reads exactly those leaves (``GET /v1/sealed/<id>``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from .metadata import metadata

__all__ = ["sealed_bodies", "sealed_grants", "sealed_statements"]

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

sealed_grants = Table(
    "sealed_grants", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("statement_id", String(24), nullable=False),
    Column("recipient", String(40), nullable=False),
    #: JCS of the leaf paths granted (a field's path grants all its rows).
    Column("paths", Text, nullable=False),
    Column("granted_by", String(40), nullable=False),
    Column("granted_at", String(32), nullable=False),
    Index("ix_sealed_grants_statement_recipient", "statement_id", "recipient"),
)
