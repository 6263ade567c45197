"""Guild strikes (store/tables.py guild_strikes).

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('guild_strikes',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('guild_id', sa.String(length=20), nullable=False),
    sa.Column('starts_on', sa.String(length=10), nullable=False),
    sa.Column('ends_on', sa.String(length=10), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('ended_index', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['guild_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_guild_strikes_guild_id', 'guild_strikes', ['guild_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_guild_strikes_guild_id', table_name='guild_strikes')
    op.drop_table('guild_strikes')
