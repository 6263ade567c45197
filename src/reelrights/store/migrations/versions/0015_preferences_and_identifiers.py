"""Declared preferences (store/preference_tables.py) and the index of standard identifiers of
works and parties (store/identifier_tables.py), back-filled from the works' external ids.

Revision ID: 0015
Revises: 0014
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('preferences',
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('statement_id', sa.String(length=20), nullable=False),
    sa.Column('work_id', sa.String(length=20), nullable=False),
    sa.Column('declarer_id', sa.String(length=20), nullable=False),
    sa.Column('pref_values', sa.Text(), nullable=False),
    sa.Column('source_format', sa.String(length=20), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('source_url', sa.Text(), nullable=True),
    sa.Column('source_path', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('declared_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['declarer_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['work_id'], ['works.id'], ),
    sa.PrimaryKeyConstraint('log_index'),
    sa.UniqueConstraint('statement_id')
    )
    op.create_index('ix_preferences_work', 'preferences', ['work_id', 'declarer_id', 'log_index'],
                    unique=False)
    op.create_table('external_ids',
    sa.Column('identifier', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('subject_id', sa.String(length=20), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('identifier', 'kind', 'subject_id')
    )
    # Back-fill: the works registered before this revision keep their look-ups.
    from reelrights.core.identifiers import WORK_SCHEMES, BadIdentifier, parse_identifier

    conn = op.get_bind()
    rows = []
    for wid, ext, index in conn.execute(sa.text(
            "SELECT id, external_ids, log_index FROM works")):
        for text in json.loads(ext or "[]"):
            try:
                ident = str(parse_identifier(text, WORK_SCHEMES))
            except BadIdentifier:
                continue
            rows.append({"identifier": ident, "kind": "work", "subject_id": wid,
                         "log_index": index})
    if rows:
        table = sa.table('external_ids', sa.column('identifier'), sa.column('kind'),
                         sa.column('subject_id'), sa.column('log_index'))
        unique = {(r["identifier"], r["subject_id"]): r for r in rows}
        op.bulk_insert(table, list(unique.values()))


def downgrade() -> None:
    op.drop_table('external_ids')
    op.drop_index('ix_preferences_work', table_name='preferences')
    op.drop_table('preferences')
