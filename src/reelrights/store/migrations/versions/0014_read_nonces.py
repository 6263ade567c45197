"""Nonces of signed reads, shared by every server process (store/access_tables.py).

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('read_nonces',
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('key_id', 'nonce')
    )
    op.create_index('ix_read_nonces_expires_at', 'read_nonces', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_read_nonces_expires_at', table_name='read_nonces')
    op.drop_table('read_nonces')
