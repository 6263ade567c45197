"""Identity's tables (migration 0016): admissions, admission requests, issued nonces.

* ``party_admissions`` (projection): one row per admitted party, how its identity was verified
  and when its domain was last verified or found lapsed.
* ``admission_requests`` (projection): every ``admission.requested`` statement.
* ``identity_nonces`` (local): the nonces this server issued for domain proofs, each single-use
  and expiring; the operator's own state, never logged (an admission logs the nonce it used).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text

from .metadata import metadata

__all__ = ["admission_requests", "identity_nonces", "party_admissions"]

party_admissions = Table(
    "party_admissions", metadata,
    Column("party_id", String(20), ForeignKey("parties.id"), primary_key=True),
    Column("method", String(16), nullable=False),
    Column("domain", String(253)),
    Column("proof", String(8)),
    Column("nonce", String(32)),
    Column("document_sha256", String(64)),
    Column("guild_id", String(20), ForeignKey("parties.id")),
    Column("attestation", String(20)),
    Column("reference", Text),
    Column("request_id", String(20)),
    Column("admitted_index", BigInteger, nullable=False),
    Column("admitted_at", String(32), nullable=False),
    #: Log time and index of the last successful verification of the domain (admission or
    #: re-verification); NULL for the other methods.
    Column("verified_at", String(32)),
    Column("verified_index", BigInteger),
    #: The last failed re-verification, if none succeeded since.
    Column("lapsed_index", BigInteger),
    Column("lapsed_at", String(32)),
    Column("lapse_reason", Text),
    Index("ix_party_admissions_domain", "domain"),
    Index("ix_party_admissions_guild", "guild_id"),
)

admission_requests = Table(
    "admission_requests", metadata,
    Column("statement_id", String(20), primary_key=True),
    Column("party_id", String(20), ForeignKey("parties.id"), nullable=False),
    Column("method", String(16), nullable=False),
    Column("domain", String(253)),
    Column("nonce", String(32)),
    Column("proof", String(8)),
    Column("attestation", String(20)),
    Column("log_index", BigInteger, nullable=False),
    #: The index of the ``party.admitted`` that answered it (one admission per request).
    Column("admitted_index", BigInteger),
    Index("ix_admission_requests_party", "party_id"),
)

identity_nonces = Table(
    "identity_nonces", metadata,
    Column("nonce", String(32), primary_key=True),
    Column("party_id", String(20), nullable=False),
    Column("domain", String(253), nullable=False),
    Column("issued_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    #: Set when an admission used it (or while one is being checked): single use.
    Column("used_at", String(32)),
)
