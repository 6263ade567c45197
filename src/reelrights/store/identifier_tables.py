"""Standard identifiers of works and parties (created by migration 0015), for look-ups by any
of them (``work show eidr:10.5240/…``, ``party show isni:…``). A projection of the log: the
``external_ids`` of ``work.registered`` and ``party.registered`` bodies, in the normal form of
:func:`reelrights.core.identifiers.parse_identifier`.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table

from .metadata import metadata

__all__ = ["external_ids"]

external_ids = Table(
    "external_ids", metadata,
    #: ``scheme:value`` in normal form, e.g. ``isni:0000000121032683``.
    Column("identifier", String(120), primary_key=True),
    Column("kind", String(8), primary_key=True),            # work | party
    Column("subject_id", String(20), primary_key=True),
    Column("log_index", BigInteger, nullable=False),
)
