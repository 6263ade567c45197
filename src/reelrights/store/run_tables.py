"""Tables for training-run starts, the licenses a run was judged out of force, and the
"affected by" marks that late facts leave on logged verdicts (created by migration 0010).

Every row derives from logged statements (a projection of the log, rebuilt by ``log verify``
and ``rebuild`` through the same appliers):

* ``run_starts``: one row per ``run.started`` (the licenses a run relies on, before training);
* ``run_out_of_force``: each license a committed run used that was out of force, and why, as
  judged at the run's commit or over the log-time interval from its start to its commit;
* ``affected_marks``: a late fact (a dispute over an asset a run used, a death dated before a
  run that relied on the performer's consent) that would have changed a verdict already
  logged. The verdict stands as logged; the mark is shown beside it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from .metadata import metadata

__all__ = ["affected_marks", "run_out_of_force", "run_starts"]

run_starts = Table(
    "run_starts", metadata,
    Column("id", String(20), primary_key=True),                  # the run id
    Column("developer_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("model_family", Text, nullable=False),
    #: The license ids relied on, as a JSON array in the statement's order.
    Column("licenses", Text, nullable=False),
    Column("note", Text),
    Column("log_index", BigInteger, nullable=False),
    Column("started_at", String(32), nullable=False),            # the log's time
)

run_out_of_force = Table(
    "run_out_of_force", metadata,
    Column("run_id", String(20), ForeignKey("training_runs.id"), primary_key=True),
    Column("license_id", String(20), primary_key=True),
    Column("reason", Text, nullable=False),
)

affected_marks = Table(
    "affected_marks", metadata,
    #: The late fact's log index and the mark's position among the marks it left.
    Column("log_index", BigInteger, primary_key=True, autoincrement=False),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    #: What is marked: a certificate (crt_…) or a run (run_…).
    Column("subject", String(20), nullable=False, index=True),
    Column("subject_kind", String(12), nullable=False),          # certificate | run
    Column("run_id", String(20), nullable=False, index=True),
    Column("kind", String(16), nullable=False),                  # dispute | death
    #: The fact: a dispute id, or the deceased performer's party id.
    Column("fact", String(40), nullable=False),
    Column("statement_id", String(40)),
    Column("statement_type", String(64), nullable=False),
    #: The path from the fact to the run: the asset, bundle and license concerned (if any).
    Column("asset", String(64)),
    Column("bundle_id", String(20)),
    Column("license_id", String(20)),
    Column("reason", Text, nullable=False),
    Column("marked_at", String(32), nullable=False),             # the late fact's log time
    Index("ix_affected_marks_asset", "asset"),
    Index("ix_affected_marks_bundle", "bundle_id"),
)
