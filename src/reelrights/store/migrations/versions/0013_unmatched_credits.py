"""Unmatched and disputed credits and their claims (store/fund_tables.py unmatched_credits).

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('unmatched_credits',
    sa.Column('claim_id', sa.String(length=20), nullable=False),
    sa.Column('work_id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('share', sa.String(length=40), nullable=False),
    sa.Column('identifiers', sa.Text(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('logged_at', sa.String(length=32), nullable=False),
    sa.Column('claimed_by', sa.String(length=20), nullable=True),
    sa.Column('claimed_index', sa.BigInteger(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('confirmed_party', sa.String(length=20), nullable=True),
    sa.Column('confirmed_by', sa.String(length=20), nullable=True),
    sa.Column('confirmed_index', sa.BigInteger(), nullable=True),
    sa.Column('released_to', sa.String(length=20), nullable=True),
    sa.Column('released_index', sa.BigInteger(), nullable=True),
    sa.Column('released_reason', sa.Text(), nullable=True),
    sa.Column('disputed_party', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['disputed_party'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['claimed_by'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['confirmed_by'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['confirmed_party'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['released_to'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], ),
    sa.PrimaryKeyConstraint('claim_id')
    )
    op.create_index('ix_unmatched_credits_work_id', 'unmatched_credits', ['work_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_unmatched_credits_work_id', table_name='unmatched_credits')
    op.drop_table('unmatched_credits')
