"""Tables for output provenance (created by migration 0005).

* ``outputs``: one row per ``output.registered`` statement (the creative fund reads ``id``,
  ``run_id``, ``developer_id``, ``production_id`` and ``log_index``).
* ``output_prints``: the output's fingerprints (derived data, never logged; the statement
  carries their digest). ``seq`` keys the entries of the outputs index in
  ``<home>/index/outputs/`` the way registry fingerprints key ``<home>/index/``: a PDQ frame is
  ``seq << 24 | frame``, an audio print ``seq``, a script ``"<seq>"`` and ``"<seq>:<chunk>"``.
* ``output_manifests``: every C2PA manifest store signed for an output, keyed by its label
  (``urn:c2pa:…``), so a stripped copy can be given its manifest back.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
)

from .metadata import metadata

__all__ = ["output_manifests", "output_prints", "outputs"]

outputs = Table(
    "outputs", metadata,
    Column("id", String(20), primary_key=True),
    Column("run_id", String(20), ForeignKey("training_runs.id"), nullable=False, index=True),
    Column("developer_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("production_id", String(20), index=True),
    Column("certificate_id", String(20)),
    Column("media_kind", String(10), nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("fingerprint_alg", String(64), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("model_commitment", String(64), nullable=False),
    Column("prompt_sha256", String(64)),
    Column("created_at", String(32), nullable=False),
    Column("log_index", BigInteger, nullable=False, unique=True),
)

output_prints = Table(
    "output_prints", metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("output_id", String(20), ForeignKey("outputs.id"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Index("ix_output_prints_output", "output_id"),
    sqlite_autoincrement=True,  # never reuse a deleted seq: stale index entries must stay stale
)

output_manifests = Table(
    "output_manifests", metadata,
    Column("label", String(64), primary_key=True),
    Column("output_id", String(20), ForeignKey("outputs.id"), nullable=False, index=True),
    Column("format", String(64), nullable=False),
    Column("manifest", LargeBinary, nullable=False),
    Column("signer_serial", String(64), nullable=False),
    Column("signed_at", String(32), nullable=False),
)
