"""Registry (parties, works, assets, credits) and the transparency log (entries, tiles,
checkpoints, head).

Revision ID: 0001
Revises: 
"""
import hashlib

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assets',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sa.String(length=127), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('duration_ms', sa.BigInteger(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('lines', sa.Integer(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('log_checkpoints',
    sa.Column('size', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('root', sa.LargeBinary(length=32), nullable=False),
    sa.Column('note', sa.LargeBinary(), nullable=False),
    sa.Column('issued_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('size')
    )
    op.create_table('log_entries',
    sa.Column('idx', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('leaf_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=20), nullable=False),
    sa.Column('time', sa.String(length=32), nullable=False),
    sa.Column('entry', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('idx')
    )
    with op.batch_alter_table('log_entries', schema=None) as batch_op:
        batch_op.create_index('ix_log_entries_actor', ['actor'], unique=False)
        batch_op.create_index('ix_log_entries_type', ['type'], unique=False)

    head = op.create_table('log_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('root', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    # The empty log: size 0, root SHA-256("") (RFC 9162 section 2.1.1).
    op.bulk_insert(head, [{"id": 1, "size": 0, "root": hashlib.sha256(b"").digest()}])
    op.create_table('log_tiles',
    sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('hashes', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('level', 'idx')
    )
    op.create_table('parties',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('registered_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_id')
    )
    op.create_table('works',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.String(length=20), nullable=False),
    sa.Column('external_ids', sa.Text(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('registered_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('works', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_works_owner_id'), ['owner_id'], unique=False)

    op.create_table('credits',
    sa.Column('work_id', sa.String(length=20), nullable=False),
    sa.Column('party_id', sa.String(length=20), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('share', sa.String(length=40), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], ),
    sa.PrimaryKeyConstraint('work_id', 'party_id', 'role')
    )
    with op.batch_alter_table('credits', schema=None) as batch_op:
        batch_op.create_index('ix_credits_party', ['party_id'], unique=False)

    op.create_table('work_assets',
    sa.Column('work_id', sa.String(length=20), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['assets.sha256'], ),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], ),
    sa.PrimaryKeyConstraint('work_id', 'sha256')
    )
    with op.batch_alter_table('work_assets', schema=None) as batch_op:
        batch_op.create_index('ix_work_assets_sha256', ['sha256'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('work_assets', schema=None) as batch_op:
        batch_op.drop_index('ix_work_assets_sha256')

    op.drop_table('work_assets')
    with op.batch_alter_table('credits', schema=None) as batch_op:
        batch_op.drop_index('ix_credits_party')

    op.drop_table('credits')
    with op.batch_alter_table('works', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_works_owner_id'))

    op.drop_table('works')
    op.drop_table('parties')
    op.drop_table('log_tiles')
    op.drop_table('log_head')
    with op.batch_alter_table('log_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_log_entries_type')
        batch_op.drop_index('ix_log_entries_actor')

    op.drop_table('log_entries')
    op.drop_table('log_checkpoints')
    op.drop_table('assets')
