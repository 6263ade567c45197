"""Sealed disclosure grants: which fields of a sealed statement a party showed to which party
through the service (store/sealed_tables.py, sealed/grants.py).

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sealed_grants',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('statement_id', sa.String(length=24), nullable=False),
    sa.Column('recipient', sa.String(length=40), nullable=False),
    sa.Column('paths', sa.Text(), nullable=False),
    sa.Column('granted_by', sa.String(length=40), nullable=False),
    sa.Column('granted_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_sealed_grants_statement_recipient', 'sealed_grants',
                    ['statement_id', 'recipient'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sealed_grants_statement_recipient', table_name='sealed_grants')
    op.drop_table('sealed_grants')
