"""Tables for evidence: training-run commitments, audit challenges and certificates.

Created by migration 0003. Every row is derived from a logged statement and names its log index.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text

from .metadata import metadata

__all__ = ["run_usage", "training_runs"]

# -- training-run commitments (run.committed) -----------------------------------------------------
# The manifest and its salts never reach the registry: a run is its root, count and public totals.

training_runs = Table(
    "training_runs", metadata,
    Column("id", String(20), primary_key=True),
    Column("developer_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("model_family", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("base_model", Text),
    Column("root", String(64), nullable=False),
    Column("count", BigInteger, nullable=False),
    #: The statement body's public totals (bases, modalities, EU extras) as JSON.
    Column("totals", Text, nullable=False),
    Column("latest_acquired", String(7)),
    Column("description", Text),
    Column("log_index", BigInteger, nullable=False),
    Column("committed_at", String(32), nullable=False),
)

#: Usage per (run, bundle, license), what royalties are computed from. ``in_force`` records
#: whether the license was in force when the run was committed ("1"/"0"); the audit judges it.
run_usage = Table(
    "run_usage", metadata,
    Column("run_id", String(20), ForeignKey("training_runs.id"), primary_key=True),
    Column("bundle_id", String(20), ForeignKey("bundles.id"), primary_key=True),
    Column("license_id", String(20), ForeignKey("licenses.id"), primary_key=True),
    Column("items", BigInteger, nullable=False),
    Column("seconds", BigInteger, nullable=False),
    Column("frames", BigInteger, nullable=False),
    Column("tokens", BigInteger, nullable=False),
    Column("images", BigInteger, nullable=False),
    Column("in_force", String(1), nullable=False),
    Index("ix_run_usage_license", "license_id"),
)

# -- audits (audit.challenged, audit.certified, audit.withdrawn) -----------------------------------
# A v1 challenge named the checkpoint its sample derives from (NULL for later challenges, whose
# seed the log fixes after them); a certificate keeps the facts a reader filters on. The DSSE
# envelope itself stays in the log entry (the one source of truth: verify-cert decides from it).

audit_challenges = Table(
    "audit_challenges", metadata,
    Column("id", String(20), primary_key=True),
    Column("run_id", String(20), ForeignKey("training_runs.id"), nullable=False, index=True),
    Column("auditor_id", String(20), ForeignKey("parties.id"), nullable=False),
    Column("samples", BigInteger, nullable=False),
    Column("checkpoint_origin", Text),
    Column("checkpoint_size", BigInteger),
    Column("checkpoint_root", String(64)),
    Column("log_index", BigInteger, nullable=False),
    Column("challenged_at", String(32), nullable=False),
)

audit_certificates = Table(
    "audit_certificates", metadata,
    Column("id", String(20), primary_key=True),
    Column("run_id", String(20), ForeignKey("training_runs.id"), nullable=False, index=True),
    Column("challenge_id", String(20), ForeignKey("audit_challenges.id"), nullable=False),
    Column("auditor_id", String(20), ForeignKey("parties.id"), nullable=False),
    Column("result", String(4), nullable=False),
    Column("not_before", String(20), nullable=False),
    Column("not_after", String(20), nullable=False),
    Column("log_index", BigInteger, nullable=False),
    Column("certified_at", String(32), nullable=False),
)

#: A challenge closed without a certificate (migration 0009): a failed audit of the run.
audit_withdrawals = Table(
    "audit_withdrawals", metadata,
    Column("challenge_id", String(20), ForeignKey("audit_challenges.id"), primary_key=True),
    Column("run_id", String(20), ForeignKey("training_runs.id"), nullable=False, index=True),
    Column("auditor_id", String(20), ForeignKey("parties.id"), nullable=False),
    Column("reason", Text, nullable=False),
    Column("log_index", BigInteger, nullable=False),
    Column("withdrawn_at", String(32), nullable=False),
)

__all__ += ["audit_certificates", "audit_challenges", "audit_withdrawals"]
