"""Creative fund: productions, revenue reports, allocations, ledger postings, statements.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('productions',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('studio_id', sa.String(length=20), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('registered_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['studio_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_productions_studio_id', 'productions', ['studio_id'], unique=False)

    op.create_table('production_outputs',
    sa.Column('production_id', sa.String(length=20), nullable=False),
    sa.Column('output_id', sa.String(length=20), nullable=False),
    sa.Column('run_id', sa.String(length=20), nullable=False),
    sa.Column('weights', sa.Text(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['production_id'], ['productions.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['training_runs.id'], ),
    sa.PrimaryKeyConstraint('production_id', 'output_id')
    )
    op.create_index('ix_production_outputs_run_id', 'production_outputs', ['run_id'], unique=False)

    op.create_table('fund_terms',
    sa.Column('license_id', sa.String(length=20), nullable=False),
    sa.Column('log_index', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('basis', sa.String(length=16), nullable=True),
    sa.Column('unit', sa.String(length=16), nullable=True),
    sa.Column('contributors_share', sa.String(length=12), nullable=True),
    sa.ForeignKeyConstraint(['license_id'], ['licenses.id'], ),
    sa.PrimaryKeyConstraint('license_id', 'log_index')
    )

    op.create_table('revenue_reports',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('reporter_id', sa.String(length=20), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('rows_sha256', sa.String(length=64), nullable=False),
    sa.Column('supersedes_id', sa.String(length=20), nullable=True),
    sa.Column('superseded_by', sa.String(length=20), nullable=True),
    sa.Column('file', sa.Text(), nullable=True),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('reported_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['reporter_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['supersedes_id'], ['revenue_reports.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_revenue_reports_period', 'revenue_reports', ['period'], unique=False)
    op.create_index('ix_revenue_reports_rows', 'revenue_reports', ['rows_sha256'], unique=False)

    op.create_table('revenue_rows',
    sa.Column('report_id', sa.String(length=20), nullable=False),
    sa.Column('line', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('production_id', sa.String(length=20), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('territory', sa.String(length=5), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('gross', sa.BigInteger(), nullable=False),
    sa.Column('deductions', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['production_id'], ['productions.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['revenue_reports.id'], ),
    sa.PrimaryKeyConstraint('report_id', 'line')
    )
    op.create_index('ix_revenue_rows_production_id', 'revenue_rows', ['production_id'], unique=False)

    op.create_table('fund_lines',
    sa.Column('report_id', sa.String(length=20), nullable=False),
    sa.Column('production_id', sa.String(length=20), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('payee_id', sa.String(length=20), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('bundle_id', sa.String(length=20), nullable=False),
    sa.Column('work_id', sa.String(length=20), nullable=False),
    sa.Column('rule', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['payee_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['revenue_reports.id'], ),
    sa.PrimaryKeyConstraint('report_id', 'production_id', 'period', 'payee_id', 'role',
                            'bundle_id', 'work_id', 'rule')
    )
    op.create_index('ix_fund_lines_payee', 'fund_lines', ['payee_id'], unique=False)

    op.create_table('fund_postings',
    sa.Column('journal', sa.String(length=120), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('account', sa.String(length=120), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('journal', 'seq')
    )
    op.create_index('ix_fund_postings_account', 'fund_postings', ['account'], unique=False)

    op.create_table('fund_statements',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('fund_id', sa.String(length=20), nullable=False),
    sa.Column('party_id', sa.String(length=20), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('as_of', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('inputs_sha256', sa.String(length=64), nullable=False),
    sa.Column('threshold', sa.String(length=24), nullable=False),
    sa.Column('log_index', sa.BigInteger(), nullable=False),
    sa.Column('issued_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['fund_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_fund_statements_party_id', 'fund_statements', ['party_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_fund_statements_party_id', table_name='fund_statements')
    op.drop_table('fund_statements')
    op.drop_index('ix_fund_postings_account', table_name='fund_postings')
    op.drop_table('fund_postings')
    op.drop_index('ix_fund_lines_payee', table_name='fund_lines')
    op.drop_table('fund_lines')
    op.drop_index('ix_revenue_rows_production_id', table_name='revenue_rows')
    op.drop_table('revenue_rows')
    op.drop_index('ix_revenue_reports_rows', table_name='revenue_reports')
    op.drop_index('ix_revenue_reports_period', table_name='revenue_reports')
    op.drop_table('revenue_reports')
    op.drop_table('fund_terms')
    op.drop_index('ix_production_outputs_run_id', table_name='production_outputs')
    op.drop_table('production_outputs')
    op.drop_index('ix_productions_studio_id', table_name='productions')
    op.drop_table('productions')
