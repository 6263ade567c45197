"""Provenance: output records of generated media, their fingerprints and manifests.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outputs',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('run_id', sa.String(length=20), nullable=False),
    sa.Column('developer_id', sa.String(length=20), nullable=False),
    sa.Column('production_id', sa.String(length=20), nullable=True),
    sa.Column('certificate_id', sa.String(length=20), nullable=True),
    sa.Column('media_kind', sa.String(length=10), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('fingerprint_alg', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('model_commitment', sa.String(length=64), nullable=False),
    sa.Column('prompt_sha256', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['training_runs.id'], ),
    sa.ForeignKeyConstraint(['developer_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('log_index')
    )
    with op.batch_alter_table('outputs', schema=None) as batch_op:
        batch_op.create_index('ix_outputs_run_id', ['run_id'], unique=False)
        batch_op.create_index('ix_outputs_developer_id', ['developer_id'], unique=False)
        batch_op.create_index('ix_outputs_production_id', ['production_id'], unique=False)
        batch_op.create_index('ix_outputs_sha256', ['sha256'], unique=False)
    op.create_table('output_prints',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
              nullable=False),
    sa.Column('output_id', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['output_id'], ['outputs.id'], ),
    sa.PrimaryKeyConstraint('seq'),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('output_prints', schema=None) as batch_op:
        batch_op.create_index('ix_output_prints_output', ['output_id'], unique=False)
    op.create_table('output_manifests',
    sa.Column('label', sa.String(length=64), nullable=False),
    sa.Column('output_id', sa.String(length=20), nullable=False),
    sa.Column('format', sa.String(length=64), nullable=False),
    sa.Column('manifest', sa.LargeBinary(), nullable=False),
    sa.Column('signer_serial', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['output_id'], ['outputs.id'], ),
    sa.PrimaryKeyConstraint('label')
    )
    with op.batch_alter_table('output_manifests', schema=None) as batch_op:
        batch_op.create_index('ix_output_manifests_output_id', ['output_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('output_manifests', schema=None) as batch_op:
        batch_op.drop_index('ix_output_manifests_output_id')
    op.drop_table('output_manifests')
    with op.batch_alter_table('output_prints', schema=None) as batch_op:
        batch_op.drop_index('ix_output_prints_output')
    op.drop_table('output_prints')
    with op.batch_alter_table('outputs', schema=None) as batch_op:
        batch_op.drop_index('ix_outputs_sha256')
        batch_op.drop_index('ix_outputs_production_id')
        batch_op.drop_index('ix_outputs_developer_id')
        batch_op.drop_index('ix_outputs_run_id')
    op.drop_table('outputs')
