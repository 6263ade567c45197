"""Declared preferences (created by migration 0015): one row per ``preference.declared``
statement (reelrights.preferences). A projection of the log, rebuilt by replaying it.

``preferences``: a party's statement of preference about one work, reduced to the AIPREF data
model (a value per category, ``values`` as JSON), with where it was read from. The latest row
per (work, declarer) is that party's current preference.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text

from .metadata import metadata

__all__ = ["preferences"]

preferences = Table(
    "preferences", metadata,
    Column("log_index", BigInteger, primary_key=True),
    Column("statement_id", String(20), nullable=False, unique=True),
    Column("work_id", String(20), ForeignKey("works.id"), nullable=False),
    Column("declarer_id", String(20), ForeignKey("parties.id"), nullable=False),
    #: {"train-ai": "disallowed", ...}: categories absent are unknown.
    Column("pref_values", Text, nullable=False),
    Column("source_format", String(20), nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("source_url", Text),
    Column("source_path", Text),
    Column("notes", Text, nullable=False, default="[]"),
    Column("declared_at", String(32), nullable=False),
    Index("ix_preferences_work", "work_id", "declarer_id", "log_index"),
)
