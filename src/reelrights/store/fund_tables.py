"""Tables for the creative fund: productions, revenue reports, allocations, postings, statements
(created by migration 0006).

Every row derives from a logged statement and names its log index, so the fund can be replayed
"as of" any log size: an allocation only ever reads facts with a smaller log index than the
report it allocates. Money columns are integer minor units of the row's currency.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from .metadata import metadata

__all__ = ["fund_lines", "fund_postings", "fund_statements", "fund_terms", "production_outputs",
           "productions", "revenue_reports", "revenue_rows"]

productions = Table(
    "productions", metadata,
    Column("id", String(20), primary_key=True),
    Column("studio_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("log_index", BigInteger, nullable=False),
    Column("registered_at", String(32), nullable=False),
)

#: production.uses: one row per output; ``weights`` is the attribution JSON ("[]" if none).
production_outputs = Table(
    "production_outputs", metadata,
    Column("production_id", String(20), ForeignKey("productions.id"), primary_key=True),
    Column("output_id", String(20), primary_key=True),
    Column("run_id", String(20), ForeignKey("training_runs.id"), nullable=False, index=True),
    Column("weights", Text, nullable=False),
    Column("log_index", BigInteger, nullable=False),
)

#: fund.terms: the latest row with a smaller log index than an allocation applies.
fund_terms = Table(
    "fund_terms", metadata,
    Column("license_id", String(20), ForeignKey("licenses.id"), primary_key=True),
    Column("log_index", BigInteger, primary_key=True, autoincrement=False),
    Column("basis", String(16)),
    Column("unit", String(16)),
    Column("contributors_share", String(12)),
)

revenue_reports = Table(
    "revenue_reports", metadata,
    Column("id", String(20), primary_key=True),
    Column("reporter_id", String(20), ForeignKey("parties.id"), nullable=False),
    Column("period", String(7), nullable=False, index=True),
    Column("rows_sha256", String(64), nullable=False),
    Column("supersedes_id", String(20), ForeignKey("revenue_reports.id")),
    Column("superseded_by", String(20)),
    Column("file", Text),
    Column("log_index", BigInteger, nullable=False),
    Column("reported_at", String(32), nullable=False),
    Index("ix_revenue_reports_rows", "rows_sha256"),
)

revenue_rows = Table(
    "revenue_rows", metadata,
    Column("report_id", String(20), ForeignKey("revenue_reports.id"), primary_key=True),
    Column("line", Integer, primary_key=True, autoincrement=False),
    Column("production_id", String(20), ForeignKey("productions.id"), nullable=False,
           index=True),
    Column("period", String(7), nullable=False),
    Column("territory", String(5), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("gross", BigInteger, nullable=False),
    Column("deductions", BigInteger, nullable=False),
)

#: The allocation of each pool (report, production, revenue period) in the fund currency.
fund_lines = Table(
    "fund_lines", metadata,
    Column("report_id", String(20), ForeignKey("revenue_reports.id"), primary_key=True),
    Column("production_id", String(20), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("payee_id", String(20), ForeignKey("parties.id"), primary_key=True),
    Column("role", String(16), primary_key=True),
    Column("bundle_id", String(20), primary_key=True),
    Column("work_id", String(20), primary_key=True),
    Column("rule", String(200), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("log_index", BigInteger, nullable=False),
    Index("ix_fund_lines_payee", "payee_id"),
)

#: Double-entry postings: the legs of each journal sum to zero.
fund_postings = Table(
    "fund_postings", metadata,
    Column("journal", String(120), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("account", String(120), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("log_index", BigInteger, nullable=False),
)

fund_statements = Table(
    "fund_statements", metadata,
    Column("id", String(20), primary_key=True),
    Column("fund_id", String(20), ForeignKey("parties.id"), nullable=False),
    Column("party_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("period", String(7), nullable=False),
    Column("as_of", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("inputs_sha256", String(64), nullable=False),
    Column("threshold", String(24), nullable=False),
    Column("log_index", BigInteger, nullable=False),
    Column("issued_at", String(32), nullable=False),
)


#: credit.unmatched: a credit for a contributor with no registered party; its money is held on
#: the suspense account ``suspense:<claim>`` (fund_postings) until the claim is confirmed
#: (``confirmed_party``) or expires (``released_to``).
unmatched_credits = Table(
    "unmatched_credits", metadata,
    Column("claim_id", String(20), primary_key=True),
    Column("work_id", String(20), ForeignKey("works.id"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("share", String(40), nullable=False),
    Column("identifiers", Text, nullable=False),
    Column("log_index", BigInteger, nullable=False),
    Column("logged_at", String(32), nullable=False),
    #: the latest credit.claimed (a party may be replaced by a later claim until confirmed)
    Column("claimed_by", String(20), ForeignKey("parties.id")),
    Column("claimed_index", BigInteger),
    Column("evidence", Text),
    Column("confirmed_party", String(20), ForeignKey("parties.id")),
    Column("confirmed_by", String(20), ForeignKey("parties.id")),
    Column("confirmed_index", BigInteger),
    Column("released_to", String(20), ForeignKey("parties.id")),
    Column("released_index", BigInteger),
    Column("released_reason", Text),
    #: credit.disputed: the registered credit (of this party, on work_id in role) whose money is
    #: held while the dispute is open; NULL for a credit.unmatched
    Column("disputed_party", String(20), ForeignKey("parties.id")),
)
