"""Consent requests and their decisions (store/consent_request_tables.py).

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consent_requests',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('requester_id', sa.String(length=20), nullable=False),
    sa.Column('performer_id', sa.String(length=20), nullable=False),
    sa.Column('kinds', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('production', sa.Text(), nullable=True),
    sa.Column('model_family', sa.Text(), nullable=True),
    sa.Column('media', sa.Text(), nullable=False),
    sa.Column('territory', sa.Text(), nullable=False),
    sa.Column('start', sa.String(length=10), nullable=False),
    sa.Column('end', sa.String(length=10), nullable=False),
    sa.Column('compensation_ref', sa.Text(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('requested_at', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decided_by', sa.String(length=20), nullable=True),
    sa.Column('decided_index', sa.BigInteger(), nullable=True),
    sa.Column('decided_at', sa.String(length=32), nullable=True),
    sa.Column('consent_id', sa.String(length=20), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['performer_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['requester_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_consent_requests_performer_id', 'consent_requests', ['performer_id'],
                    unique=False)
    op.create_index('ix_consent_requests_requester_id', 'consent_requests', ['requester_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_consent_requests_requester_id', table_name='consent_requests')
    op.drop_index('ix_consent_requests_performer_id', table_name='consent_requests')
    op.drop_table('consent_requests')
