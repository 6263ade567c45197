"""Tables for keys over time and disputed statements (created by migration 0017).

All three are projections of the log (identity/keys.py and identity/statement_disputes.py
write them). ``key_events`` holds every key statement as logged, enough to rebuild a
:class:`~reelrights.core.key_history.KeyHistory` (its largest ``log_index`` tells a ledger's key
book whether another process logged a key change since it last looked: one indexed read per
batch). ``party_keys`` holds every key declared after registration (one key, one party).
``statement_disputes`` holds one row per disputed entry of each ``statement.disputed``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary, String, Table, Text

from .metadata import metadata

__all__ = ["key_events", "party_keys", "statement_disputes"]

key_events = Table(
    "key_events", metadata,
    Column("log_index", BigInteger, primary_key=True, autoincrement=False),
    Column("party_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("type", String(40), nullable=False),
    Column("signer_seq", Integer, nullable=False),
    Column("log_time", String(32), nullable=False),
    Column("statement_id", String(20), nullable=False),
    Column("body", Text, nullable=False),  # the statement's body, canonical JSON
)

party_keys = Table(
    "party_keys", metadata,
    Column("key_id", String(16), primary_key=True),
    Column("party_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("role", String(12), nullable=False),  # signing | recovery
    Column("public_key", LargeBinary(32), nullable=False),
    Column("log_index", BigInteger, nullable=False),
)

statement_disputes = Table(
    "statement_disputes", metadata,
    Column("dispute_id", String(20), primary_key=True),  # the statement.disputed statement id
    Column("entry_index", BigInteger, primary_key=True, autoincrement=False, index=True),
    Column("entry_statement_id", String(20)),
    Column("entry_type", String(40), nullable=False),
    Column("party_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("log_index", BigInteger, nullable=False),
    Column("opened_at", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(12), nullable=False),  # open | withdrawn | upheld | rejected
    Column("closed_index", BigInteger),
    Column("closed_at", String(32)),
    Column("closed_by", String(20)),
    Column("close_reason", Text),
)
