"""Rights chain: one row per ownership dispute over an asset (store/dispute_tables.py).

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('disputes',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('asset', sa.String(length=64), nullable=False),
    sa.Column('first_asset', sa.String(length=64), nullable=False),
    sa.Column('claimant_id', sa.String(length=20), nullable=False),
    sa.Column('claimant_work_id', sa.String(length=20), nullable=True),
    sa.Column('first_owner_id', sa.String(length=20), nullable=False),
    sa.Column('first_work_id', sa.String(length=20), nullable=False),
    sa.Column('first_log_index', sa.BigInteger(), nullable=False),
    sa.Column('matched_ms', sa.BigInteger(), nullable=True),
    sa.Column('duration_ms', sa.BigInteger(), nullable=True),
    sa.Column('opened_by', sa.String(length=20), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('opened_at', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('closed_index', sa.BigInteger(), nullable=True),
    sa.Column('closed_at', sa.String(length=32), nullable=True),
    sa.Column('close_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['claimant_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['first_owner_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_disputes_asset', 'disputes', ['asset'], unique=False)
    op.create_index('ix_disputes_first_asset', 'disputes', ['first_asset'], unique=False)
    op.create_index('ix_disputes_claimant_id', 'disputes', ['claimant_id'], unique=False)
    op.create_index('ix_disputes_first_owner_id', 'disputes', ['first_owner_id'], unique=False)
    op.create_index('ix_disputes_log_index', 'disputes', ['log_index'], unique=False)


def downgrade() -> None:
    op.drop_table('disputes')
