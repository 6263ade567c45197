"""Log v2: log time and order in the leaf, statement ids, registry binding, current facts.

- ``log_head`` gains the last log time (``time``: log times never decrease in index order), the
  registry id the log serves once it runs v2 statements (``registry``), the index of the
  ``registry.established`` statement that switched it to v2 (``v2_from``) and the number of
  checkpoints ever issued (``checkpoints``: a deleted checkpoint row is noticed).
- ``log_entries.statement_id``: every v2 statement's unique id; the log never appends one twice.
  ``log_entries.time`` holds the log's time of the entry (v1 entries: the signed time).
- ``current_facts``: for each superseding subject (a license's fund terms, a license, a consent,
  a bundle line, ...) the statement that is current, for compare-and-swap on ``supersedes``.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('log_head') as batch:
        batch.add_column(sa.Column('time', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('registry', sa.Text(), nullable=True))
        batch.add_column(sa.Column('v2_from', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('checkpoints', sa.BigInteger(), nullable=False,
                                   server_default='0'))
    op.execute("UPDATE log_head SET checkpoints = (SELECT COUNT(*) FROM log_checkpoints)")
    with op.batch_alter_table('log_entries') as batch:
        batch.add_column(sa.Column('statement_id', sa.String(length=40), nullable=True))
    op.create_index('ix_log_entries_statement_id', 'log_entries', ['statement_id'], unique=True)
    op.create_table('current_facts',
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('statement_id', sa.String(length=40), nullable=True),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('subject')
    )


def downgrade() -> None:
    op.drop_table('current_facts')
    op.drop_index('ix_log_entries_statement_id', table_name='log_entries')
    with op.batch_alter_table('log_entries') as batch:
        batch.drop_column('statement_id')
    with op.batch_alter_table('log_head') as batch:
        for col in ('checkpoints', 'v2_from', 'registry', 'time'):
            batch.drop_column(col)
