"""Tables for ownership disputes over assets (created by migration 0008).

One row per dispute. Every column derives from logged statements: the ``work.registered`` or
``asset.disputed`` entry that opened it (``log_index``, ``opened_at``: the log's time) and the
``dispute.released`` or ``dispute.decided`` entry that closed it (``closed_index``,
``closed_at``). See docs/rules.md, "Ownership disputes".
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, String, Table, Text

from .metadata import metadata

__all__ = ["disputes"]

disputes = Table(
    "disputes", metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(16), nullable=False),              # same-bytes | near-duplicate
    Column("asset", String(64), nullable=False, index=True),  # the claimant's asset
    Column("first_asset", String(64), nullable=False, index=True),  # the first owner's asset
    Column("claimant_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("claimant_work_id", String(20)),
    Column("first_owner_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("first_work_id", String(20), nullable=False),
    Column("first_log_index", BigInteger, nullable=False),
    Column("matched_ms", BigInteger),
    Column("duration_ms", BigInteger),
    Column("opened_by", String(20), nullable=False),
    Column("log_index", BigInteger, nullable=False, index=True),
    Column("opened_at", String(32), nullable=False),
    Column("status", String(12), nullable=False),            # open | released | decided
    Column("outcome", String(16)),                           # released | first_owner | claimant
    Column("closed_index", BigInteger),
    Column("closed_at", String(32)),
    Column("close_reason", Text),
)
