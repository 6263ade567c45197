"""Keys over time and disputed statements (store/key_tables.py).

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('key_events',
    sa.Column('log_index', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('party_id', sa.String(length=20), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('signer_seq', sa.Integer(), nullable=False),
    sa.Column('log_time', sa.String(length=32), nullable=False),
    sa.Column('statement_id', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('log_index')
    )
    op.create_index('ix_key_events_party_id', 'key_events', ['party_id'], unique=False)
    op.create_table('party_keys',
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('party_id', sa.String(length=20), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('key_id')
    )
    op.create_index('ix_party_keys_party_id', 'party_keys', ['party_id'], unique=False)
    op.create_table('statement_disputes',
    sa.Column('dispute_id', sa.String(length=20), nullable=False),
    sa.Column('entry_index', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('entry_statement_id', sa.String(length=20), nullable=True),
    sa.Column('entry_type', sa.String(length=40), nullable=False),
    sa.Column('party_id', sa.String(length=20), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('opened_at', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('closed_index', sa.BigInteger(), nullable=True),
    sa.Column('closed_at', sa.String(length=32), nullable=True),
    sa.Column('closed_by', sa.String(length=20), nullable=True),
    sa.Column('close_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('dispute_id', 'entry_index')
    )
    op.create_index('ix_statement_disputes_entry_index', 'statement_disputes', ['entry_index'],
                    unique=False)
    op.create_index('ix_statement_disputes_party_id', 'statement_disputes', ['party_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_statement_disputes_party_id', table_name='statement_disputes')
    op.drop_index('ix_statement_disputes_entry_index', table_name='statement_disputes')
    op.drop_table('statement_disputes')
    op.drop_index('ix_party_keys_party_id', table_name='party_keys')
    op.drop_table('party_keys')
    op.drop_index('ix_key_events_party_id', table_name='key_events')
    op.drop_table('key_events')
