"""Run starts, licenses judged out of force per run, "affected by" marks (store/run_tables.py).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('run_starts',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('developer_id', sa.String(length=20), nullable=False),
    sa.Column('model_family', sa.Text(), nullable=False),
    sa.Column('licenses', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('started_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['developer_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_run_starts_developer_id', 'run_starts', ['developer_id'], unique=False)
    op.create_table('run_out_of_force',
    sa.Column('run_id', sa.String(length=20), nullable=False),
    sa.Column('license_id', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['training_runs.id'], ),
    sa.PrimaryKeyConstraint('run_id', 'license_id')
    )
    op.create_table('affected_marks',
    sa.Column('log_index', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('subject', sa.String(length=20), nullable=False),
    sa.Column('subject_kind', sa.String(length=12), nullable=False),
    sa.Column('run_id', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('fact', sa.String(length=40), nullable=False),
    sa.Column('statement_id', sa.String(length=40), nullable=True),
    sa.Column('statement_type', sa.String(length=64), nullable=False),
    sa.Column('asset', sa.String(length=64), nullable=True),
    sa.Column('bundle_id', sa.String(length=20), nullable=True),
    sa.Column('license_id', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('marked_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('log_index', 'seq')
    )
    op.create_index('ix_affected_marks_subject', 'affected_marks', ['subject'], unique=False)
    op.create_index('ix_affected_marks_run_id', 'affected_marks', ['run_id'], unique=False)
    op.create_index('ix_affected_marks_asset', 'affected_marks', ['asset'], unique=False)
    op.create_index('ix_affected_marks_bundle', 'affected_marks', ['bundle_id'], unique=False)


def downgrade() -> None:
    op.drop_table('affected_marks')
    op.drop_table('run_out_of_force')
    op.drop_index('ix_run_starts_developer_id', table_name='run_starts')
    op.drop_table('run_starts')
