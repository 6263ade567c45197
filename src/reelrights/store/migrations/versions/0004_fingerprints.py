"""Fingerprints: per-asset video (PDQ frames), audio (Chromaprint) and text (MinHash, lines).

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fingerprints',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
              nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('items', sa.BigInteger(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('computed_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['assets.sha256'], ),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('sha256', 'kind', name='uq_fingerprints_sha256_kind'),
    sqlite_autoincrement=True,
    )
    op.create_table('asset_locations',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('seen_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['assets.sha256'], ),
    sa.PrimaryKeyConstraint('sha256', 'path')
    )
    with op.batch_alter_table('asset_locations', schema=None) as batch_op:
        batch_op.create_index('ix_asset_locations_sha256', ['sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('asset_locations', schema=None) as batch_op:
        batch_op.drop_index('ix_asset_locations_sha256')
    op.drop_table('asset_locations')
    op.drop_table('fingerprints')
