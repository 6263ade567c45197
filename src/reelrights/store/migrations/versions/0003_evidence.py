"""Evidence: training-run commitments, audit challenges and certificates.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # -- training runs ----------------------------------------------------------------------------
    op.create_table('training_runs',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('developer_id', sa.String(length=20), nullable=False),
    sa.Column('model_family', sa.Text(), nullable=False),
    sa.Column('model', sa.Text(), nullable=False),
    sa.Column('base_model', sa.Text(), nullable=True),
    sa.Column('root', sa.String(length=64), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.Column('totals', sa.Text(), nullable=False),
    sa.Column('latest_acquired', sa.String(length=7), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('committed_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['developer_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('training_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_runs_developer_id'), ['developer_id'], unique=False)

    op.create_table('run_usage',
    sa.Column('run_id', sa.String(length=20), nullable=False),
    sa.Column('bundle_id', sa.String(length=20), nullable=False),
    sa.Column('license_id', sa.String(length=20), nullable=False),
    sa.Column('items', sa.BigInteger(), nullable=False),
    sa.Column('seconds', sa.BigInteger(), nullable=False),
    sa.Column('frames', sa.BigInteger(), nullable=False),
    sa.Column('tokens', sa.BigInteger(), nullable=False),
    sa.Column('images', sa.BigInteger(), nullable=False),
    sa.Column('in_force', sa.String(length=1), nullable=False),
    sa.ForeignKeyConstraint(['bundle_id'], ['bundles.id'], ),
    sa.ForeignKeyConstraint(['license_id'], ['licenses.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['training_runs.id'], ),
    sa.PrimaryKeyConstraint('run_id', 'bundle_id', 'license_id')
    )
    with op.batch_alter_table('run_usage', schema=None) as batch_op:
        batch_op.create_index('ix_run_usage_license', ['license_id'], unique=False)

    # -- audits -----------------------------------------------------------------------------------
    op.create_table('audit_challenges',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('run_id', sa.String(length=20), nullable=False),
    sa.Column('auditor_id', sa.String(length=20), nullable=False),
    sa.Column('samples', sa.BigInteger(), nullable=False),
    sa.Column('checkpoint_origin', sa.Text(), nullable=False),
    sa.Column('checkpoint_size', sa.BigInteger(), nullable=False),
    sa.Column('checkpoint_root', sa.String(length=64), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('challenged_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['auditor_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['training_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_challenges_run_id'), ['run_id'], unique=False)

    op.create_table('audit_certificates',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('run_id', sa.String(length=20), nullable=False),
    sa.Column('challenge_id', sa.String(length=20), nullable=False),
    sa.Column('auditor_id', sa.String(length=20), nullable=False),
    sa.Column('result', sa.String(length=4), nullable=False),
    sa.Column('not_before', sa.String(length=20), nullable=False),
    sa.Column('not_after', sa.String(length=20), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('certified_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['auditor_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['challenge_id'], ['audit_challenges.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['training_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_certificates_run_id'), ['run_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_certificates_run_id'))
    op.drop_table('audit_certificates')
    with op.batch_alter_table('audit_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_challenges_run_id'))
    op.drop_table('audit_challenges')
    with op.batch_alter_table('run_usage', schema=None) as batch_op:
        batch_op.drop_index('ix_run_usage_license')
    op.drop_table('run_usage')
    with op.batch_alter_table('training_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_runs_developer_id'))
    op.drop_table('training_runs')
