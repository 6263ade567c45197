"""Identity: admissions, admission requests and issued nonces (store/identity_tables.py).

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('party_admissions',
    sa.Column('party_id', sa.String(length=20), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=True),
    sa.Column('proof', sa.String(length=8), nullable=True),
    sa.Column('nonce', sa.String(length=32), nullable=True),
    sa.Column('document_sha256', sa.String(length=64), nullable=True),
    sa.Column('guild_id', sa.String(length=20), nullable=True),
    sa.Column('attestation', sa.String(length=20), nullable=True),
    sa.Column('reference', sa.Text(), nullable=True),
    sa.Column('request_id', sa.String(length=20), nullable=True),
    sa.Column('admitted_index', sa.BigInteger(), nullable=False),
    sa.Column('admitted_at', sa.String(length=32), nullable=False),
    sa.Column('verified_at', sa.String(length=32), nullable=True),
    sa.Column('verified_index', sa.BigInteger(), nullable=True),
    sa.Column('lapsed_index', sa.BigInteger(), nullable=True),
    sa.Column('lapsed_at', sa.String(length=32), nullable=True),
    sa.Column('lapse_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['guild_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('party_id')
    )
    op.create_index('ix_party_admissions_domain', 'party_admissions', ['domain'], unique=False)
    op.create_index('ix_party_admissions_guild', 'party_admissions', ['guild_id'], unique=False)
    op.create_table('admission_requests',
    sa.Column('statement_id', sa.String(length=20), nullable=False),
    sa.Column('party_id', sa.String(length=20), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=True),
    sa.Column('nonce', sa.String(length=32), nullable=True),
    sa.Column('proof', sa.String(length=8), nullable=True),
    sa.Column('attestation', sa.String(length=20), nullable=True),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('admitted_index', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('statement_id')
    )
    op.create_index('ix_admission_requests_party', 'admission_requests', ['party_id'],
                    unique=False)
    op.create_table('identity_nonces',
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('party_id', sa.String(length=20), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('issued_at', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.String(length=32), nullable=False),
    sa.Column('used_at', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('nonce')
    )


def downgrade() -> None:
    op.drop_table('identity_nonces')
    op.drop_index('ix_admission_requests_party', table_name='admission_requests')
    op.drop_table('admission_requests')
    op.drop_index('ix_party_admissions_guild', table_name='party_admissions')
    op.drop_index('ix_party_admissions_domain', table_name='party_admissions')
    op.drop_table('party_admissions')
