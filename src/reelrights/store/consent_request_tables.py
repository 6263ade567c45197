"""Consent requests and their decisions (created by migration 0018).

One row per ``consent.requested`` statement; ``status`` moves from ``pending`` to ``approved``
(a ``consent.granted`` naming the request: ``consent_id``) or ``declined``
(``consent.request.declined``: ``decline_reason``), each with its log index and log time.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, String, Table, Text

from .metadata import metadata

__all__ = ["consent_requests"]

consent_requests = Table(
    "consent_requests", metadata,
    Column("id", String(20), primary_key=True),
    Column("requester_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("performer_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("kinds", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("production", Text),
    Column("model_family", Text),
    Column("media", Text, nullable=False),
    Column("territory", Text, nullable=False),
    Column("start", String(10), nullable=False),
    Column("end", String(10), nullable=False),
    Column("compensation_ref", Text, nullable=False),
    Column("log_index", BigInteger, nullable=False),
    Column("requested_at", String(32), nullable=False),
    Column("status", String(10), nullable=False),
    Column("decided_by", String(20)),
    Column("decided_index", BigInteger),
    Column("decided_at", String(32)),
    Column("consent_id", String(20)),
    Column("decline_reason", Text),
)
