"""Sealed statements: the projection of sealed statements and the local sealed body store
(store/sealed_tables.py).

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sealed_statements',
    sa.Column('statement_id', sa.String(length=24), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('root', sa.String(length=64), nullable=False),
    sa.Column('erased_index', sa.BigInteger(), nullable=True),
    sa.Column('erased_at', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('statement_id'),
    sa.UniqueConstraint('log_index')
    )
    op.create_table('sealed_bodies',
    sa.Column('statement_id', sa.String(length=24), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('root', sa.String(length=64), nullable=False),
    sa.Column('leaves', sa.Text(), nullable=True),
    sa.Column('kept_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('statement_id')
    )


def downgrade() -> None:
    op.drop_table('sealed_bodies')
    op.drop_table('sealed_statements')
