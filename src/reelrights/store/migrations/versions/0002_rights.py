"""Rights: bundles, guild agreements and members, licenses and co-signatures, consents, deaths.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('bundles',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('owner_id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('predecessor_id', sa.String(length=20), nullable=True),
    sa.Column('root', sa.String(length=64), nullable=False),
    sa.Column('totals', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['predecessor_id'], ['bundles.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bundles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bundles_owner_id'), ['owner_id'], unique=False)

    op.create_table('consents',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('performer_id', sa.String(length=20), nullable=False),
    sa.Column('signed_by', sa.String(length=20), nullable=False),
    sa.Column('kinds', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('production', sa.Text(), nullable=True),
    sa.Column('model_family', sa.Text(), nullable=True),
    sa.Column('licensee_id', sa.String(length=20), nullable=True),
    sa.Column('media', sa.Text(), nullable=False),
    sa.Column('territory', sa.Text(), nullable=False),
    sa.Column('start', sa.String(length=10), nullable=False),
    sa.Column('end', sa.String(length=10), nullable=False),
    sa.Column('compensation_ref', sa.Text(), nullable=False),
    sa.Column('represented_by', sa.String(length=10), nullable=False),
    sa.Column('post_mortem_representative', sa.String(length=20), nullable=True),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('granted_at', sa.String(length=32), nullable=False),
    sa.Column('revoked_at', sa.String(length=32), nullable=True),
    sa.Column('revoked_index', sa.BigInteger(), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['licensee_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['performer_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['post_mortem_representative'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['signed_by'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_performer_id'), ['performer_id'], unique=False)

    op.create_table('deaths',
    sa.Column('performer_id', sa.String(length=20), nullable=False),
    sa.Column('date', sa.String(length=10), nullable=False),
    sa.Column('representative_id', sa.String(length=20), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['performer_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['representative_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('performer_id')
    )
    op.create_table('guild_agreements',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('guild_id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('covers', sa.Text(), nullable=False),
    sa.Column('fund_share', sa.String(length=12), nullable=False),
    sa.Column('effective', sa.String(length=10), nullable=True),
    sa.Column('expires', sa.String(length=10), nullable=True),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['guild_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('guild_agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guild_agreements_guild_id'), ['guild_id'], unique=False)

    op.create_table('guild_members',
    sa.Column('guild_id', sa.String(length=20), nullable=False),
    sa.Column('member_id', sa.String(length=20), nullable=False),
    sa.Column('since', sa.String(length=10), nullable=True),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['guild_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('guild_id', 'member_id')
    )
    with op.batch_alter_table('guild_members', schema=None) as batch_op:
        batch_op.create_index('ix_guild_members_member', ['member_id'], unique=False)

    op.create_table('bundle_assets',
    sa.Column('bundle_id', sa.String(length=20), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['bundle_id'], ['bundles.id'], ),
    sa.ForeignKeyConstraint(['sha256'], ['assets.sha256'], ),
    sa.PrimaryKeyConstraint('bundle_id', 'sha256')
    )
    with op.batch_alter_table('bundle_assets', schema=None) as batch_op:
        batch_op.create_index('ix_bundle_assets_sha256', ['sha256'], unique=False)

    op.create_table('bundle_works',
    sa.Column('bundle_id', sa.String(length=20), nullable=False),
    sa.Column('work_id', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['bundle_id'], ['bundles.id'], ),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], ),
    sa.PrimaryKeyConstraint('bundle_id', 'work_id')
    )
    with op.batch_alter_table('bundle_works', schema=None) as batch_op:
        batch_op.create_index('ix_bundle_works_work', ['work_id'], unique=False)

    op.create_table('licenses',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('bundle_id', sa.String(length=20), nullable=False),
    sa.Column('licensor_id', sa.String(length=20), nullable=False),
    sa.Column('licensee_id', sa.String(length=20), nullable=False),
    sa.Column('policy', sa.Text(), nullable=False),
    sa.Column('policy_uid', sa.Text(), nullable=False),
    sa.Column('required_cosigners', sa.Text(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('granted_at', sa.String(length=32), nullable=False),
    sa.Column('revoked_at', sa.String(length=32), nullable=True),
    sa.Column('revoked_index', sa.BigInteger(), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['bundle_id'], ['bundles.id'], ),
    sa.ForeignKeyConstraint(['licensee_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['licensor_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_licenses_bundle_id'), ['bundle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_licenses_licensee_id'), ['licensee_id'], unique=False)

    op.create_table('license_cosigns',
    sa.Column('license_id', sa.String(length=20), nullable=False),
    sa.Column('guild_id', sa.String(length=20), nullable=False),
    sa.Column('agreement_id', sa.String(length=20), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('cosigned_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['guild_agreements.id'], ),
    sa.ForeignKeyConstraint(['guild_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['license_id'], ['licenses.id'], ),
    sa.PrimaryKeyConstraint('license_id', 'guild_id')
    )



def downgrade() -> None:

    op.drop_table('license_cosigns')
    with op.batch_alter_table('licenses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_licenses_licensee_id'))
        batch_op.drop_index(batch_op.f('ix_licenses_bundle_id'))

    op.drop_table('licenses')
    with op.batch_alter_table('bundle_works', schema=None) as batch_op:
        batch_op.drop_index('ix_bundle_works_work')

    op.drop_table('bundle_works')
    with op.batch_alter_table('bundle_assets', schema=None) as batch_op:
        batch_op.drop_index('ix_bundle_assets_sha256')

    op.drop_table('bundle_assets')
    with op.batch_alter_table('guild_members', schema=None) as batch_op:
        batch_op.drop_index('ix_guild_members_member')

    op.drop_table('guild_members')
    with op.batch_alter_table('guild_agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guild_agreements_guild_id'))

    op.drop_table('guild_agreements')
    op.drop_table('deaths')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_performer_id'))

    op.drop_table('consents')
    with op.batch_alter_table('bundles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bundles_owner_id'))

    op.drop_table('bundles')

