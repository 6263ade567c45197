"""Audits: challenges name no checkpoint (its columns become nullable), withdrawn challenges.

- ``audit_challenges.checkpoint_*``: only v1 challenges named the checkpoint their sample came
  from; a later challenge's seed is fixed by the log after it is logged, so these are NULL.
- ``audit_withdrawals``: a challenge its auditor closed without a certificate (a failed audit).

SQLite cannot drop a NOT NULL constraint in place, and recreating ``audit_challenges`` (Alembic's
batch mode) fails while certificates reference it with foreign keys on. SQLite documents the
edit used instead for removing NOT NULL constraints (https://sqlite.org/lang_altertable.html,
section 7): rewrite the table's CREATE statement in the schema table and bump the schema
version, inside the migration's transaction. The stored rows do not change.

Revision ID: 0009
Revises: 0008
"""
import re

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_CHECKPOINT = (('checkpoint_origin', sa.Text()), ('checkpoint_size', sa.BigInteger()),
               ('checkpoint_root', sa.String(length=64)))


def _sqlite_nullable(nullable: bool) -> None:
    conn = op.get_bind()
    sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND "
                               "name = 'audit_challenges'").scalar_one()
    for name, _ in _CHECKPOINT:
        col = re.compile(rf"(\b{name}\s+[A-Z]+(?:\(\d+\))?)( NOT NULL)?", re.IGNORECASE)
        sql, n = col.subn(lambda m: m.group(1) + ("" if nullable else " NOT NULL"), sql)
        if n != 1:
            raise RuntimeError(f"audit_challenges.{name} not found in its CREATE statement")
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    conn.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND "
                         "name = 'audit_challenges'", (sql,))
    conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema = OFF")


def _set_nullable(nullable: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_nullable(nullable)
        return
    for name, type_ in _CHECKPOINT:
        op.alter_column('audit_challenges', name, existing_type=type_, nullable=nullable)


def upgrade() -> None:
    _set_nullable(True)
    op.create_table('audit_withdrawals',
    sa.Column('challenge_id', sa.String(length=20), nullable=False),
    sa.Column('run_id', sa.String(length=20), nullable=False),
    sa.Column('auditor_id', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('withdrawn_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['auditor_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['challenge_id'], ['audit_challenges.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['training_runs.id'], ),
    sa.PrimaryKeyConstraint('challenge_id')
    )
    op.create_index('ix_audit_withdrawals_run_id', 'audit_withdrawals', ['run_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_withdrawals_run_id', table_name='audit_withdrawals')
    op.drop_table('audit_withdrawals')
    # Challenges without a checkpoint cannot be kept under the old schema (nor their
    # certificates): the log still holds them, and upgrading again rebuilds nothing by itself.
    op.execute("DELETE FROM audit_certificates WHERE challenge_id IN (SELECT id FROM "
               "audit_challenges WHERE checkpoint_size IS NULL)")
    op.execute("DELETE FROM audit_challenges WHERE checkpoint_size IS NULL")
    _set_nullable(False)
