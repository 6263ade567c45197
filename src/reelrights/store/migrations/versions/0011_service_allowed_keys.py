"""The service's allowlist of signing keys (store/service_tables.py).

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('service_allowed_keys',
    sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('added_at', sa.String(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('public_key')
    )
    op.create_index('ix_service_allowed_keys_key_id', 'service_allowed_keys', ['key_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_service_allowed_keys_key_id', table_name='service_allowed_keys')
    op.drop_table('service_allowed_keys')
