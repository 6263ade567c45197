"""The relational schema (SQLAlchemy Core). Alembic migrations create and evolve it.

Registry tables are projections of the log: each row names the log index of the statement
that created it. The log tables hold the signed entries, the tiles (C2SP tlog-tiles, current
right edge included), every checkpoint ever issued, and ``log_head``, the single row whose lock
serialises appends across threads, processes and hosts.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from .metadata import metadata

parties = Table(
    "parties", metadata,
    Column("id", String(20), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("key_id", String(16), nullable=False, unique=True),
    Column("log_index", BigInteger, nullable=False),
    Column("registered_at", String(32), nullable=False),
)

works = Table(
    "works", metadata,
    Column("id", String(20), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("year", Integer),
    Column("owner_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("external_ids", Text, nullable=False, default="[]"),
    Column("log_index", BigInteger, nullable=False),
    Column("registered_at", String(32), nullable=False),
)

assets = Table(
    "assets", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(127), nullable=False),
    Column("category", String(16), nullable=False),
    Column("duration_ms", BigInteger),
    Column("pages", Integer),
    Column("lines", Integer),
    Column("width", Integer),
    Column("height", Integer),
    Column("log_index", BigInteger, nullable=False),
)

work_assets = Table(
    "work_assets", metadata,
    Column("work_id", String(20), ForeignKey("works.id"), primary_key=True),
    Column("sha256", String(64), ForeignKey("assets.sha256"), primary_key=True),
    Column("name", Text, nullable=False),
    Column("log_index", BigInteger, nullable=False),
    Index("ix_work_assets_sha256", "sha256"),
)

credits = Table(
    "credits", metadata,
    Column("work_id", String(20), ForeignKey("works.id"), primary_key=True),
    Column("party_id", String(20), ForeignKey("parties.id"), primary_key=True),
    Column("role", String(16), primary_key=True),
    Column("share", String(40), nullable=False),
    Column("log_index", BigInteger, nullable=False),
    Index("ix_credits_party", "party_id"),
)

log_entries = Table(
    "log_entries", metadata,
    # INTEGER PRIMARY KEY on SQLite makes the log index the rowid: one B-tree, appends at its end.
    Column("idx", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("type", String(64), nullable=False),
    Column("actor", String(20), nullable=False),
    Column("time", String(32), nullable=False),
    Column("entry", LargeBinary, nullable=False),
    #: A v2 statement's unique id (v1 entries: NULL). The log never appends one twice.
    Column("statement_id", String(40)),
    Index("ix_log_entries_actor", "actor"),
    Index("ix_log_entries_statement_id", "statement_id", unique=True),
    Index("ix_log_entries_type", "type"),
)

log_tiles = Table(
    "log_tiles", metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("width", Integer, nullable=False),
    Column("hashes", LargeBinary, nullable=False),
)

log_checkpoints = Table(
    "log_checkpoints", metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", LargeBinary, nullable=False),
    Column("issued_at", String(32), nullable=False),
)

log_head = Table(
    "log_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary(32), nullable=False),
    #: The last entry's log time: log times never decrease in index order.
    Column("time", String(32)),
    #: The registry id this log serves (set by its registry.established statement, v2 on).
    Column("registry", Text),
    #: Index of the registry.established statement: entries before it are v1.
    Column("v2_from", BigInteger),
    #: How many checkpoints were ever issued (a deleted checkpoint row is noticed).
    Column("checkpoints", BigInteger, nullable=False, server_default="0"),
)

#: For each subject that statements supersede (a license's fund terms, a license, a consent, a
#: bundle line, ...), the statement that is current: ``supersedes`` is compare-and-swap on it.
current_facts = Table(
    "current_facts", metadata,
    Column("subject", String(200), primary_key=True),
    Column("statement_id", String(40)),
    Column("log_index", BigInteger, nullable=False),
)

# -- rights (migration 0002) ---------------------------------------------------------------------

bundles = Table(
    "bundles", metadata,
    Column("id", String(20), primary_key=True),
    Column("owner_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("version", String(40), nullable=False),
    Column("predecessor_id", String(20), ForeignKey("bundles.id")),
    Column("root", String(64), nullable=False),
    Column("totals", Text, nullable=False),
    Column("description", Text),
    Column("log_index", BigInteger, nullable=False),
    Column("created_at", String(32), nullable=False),
)

bundle_assets = Table(
    "bundle_assets", metadata,
    Column("bundle_id", String(20), ForeignKey("bundles.id"), primary_key=True),
    Column("sha256", String(64), ForeignKey("assets.sha256"), primary_key=True),
    Index("ix_bundle_assets_sha256", "sha256"),
)

bundle_works = Table(
    "bundle_works", metadata,
    Column("bundle_id", String(20), ForeignKey("bundles.id"), primary_key=True),
    Column("work_id", String(20), ForeignKey("works.id"), primary_key=True),
    Index("ix_bundle_works_work", "work_id"),
)

guild_agreements = Table(
    "guild_agreements", metadata,
    Column("id", String(20), primary_key=True),
    Column("guild_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("covers", Text, nullable=False),
    Column("fund_share", String(12), nullable=False),
    Column("effective", String(10)),
    Column("expires", String(10)),
    Column("log_index", BigInteger, nullable=False),
)

guild_members = Table(
    "guild_members", metadata,
    Column("guild_id", String(20), ForeignKey("parties.id"), primary_key=True),
    Column("member_id", String(20), ForeignKey("parties.id"), primary_key=True),
    Column("since", String(10)),
    Column("log_index", BigInteger, nullable=False),
    Index("ix_guild_members_member", "member_id"),
)

#: Strikes a guild declared (``strike.declared``); ``ends_on`` is the first day after
#: the strike (``strike.ended``), NULL while it lasts.
guild_strikes = Table(
    "guild_strikes", metadata,
    Column("id", String(20), primary_key=True),
    Column("guild_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("starts_on", String(10), nullable=False),
    Column("ends_on", String(10)),
    Column("description", Text, nullable=False),
    Column("log_index", BigInteger, nullable=False),
    Column("ended_index", BigInteger),
)

licenses = Table(
    "licenses", metadata,
    Column("id", String(20), primary_key=True),
    Column("bundle_id", String(20), ForeignKey("bundles.id"), nullable=False, index=True),
    Column("licensor_id", String(20), ForeignKey("parties.id"), nullable=False),
    Column("licensee_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("policy", Text, nullable=False),
    Column("policy_uid", Text, nullable=False),
    Column("required_cosigners", Text, nullable=False),
    Column("log_index", BigInteger, nullable=False),
    Column("granted_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
    Column("revoked_index", BigInteger),
    Column("revoke_reason", Text),
)

license_cosigns = Table(
    "license_cosigns", metadata,
    Column("license_id", String(20), ForeignKey("licenses.id"), primary_key=True),
    Column("guild_id", String(20), ForeignKey("parties.id"), primary_key=True),
    Column("agreement_id", String(20), ForeignKey("guild_agreements.id"), nullable=False),
    Column("log_index", BigInteger, nullable=False),
    Column("cosigned_at", String(32), nullable=False),
)

consents = Table(
    "consents", metadata,
    Column("id", String(20), primary_key=True),
    Column("performer_id", String(20), ForeignKey("parties.id"), nullable=False, index=True),
    Column("signed_by", String(20), ForeignKey("parties.id"), nullable=False),
    Column("kinds", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("production", Text),
    Column("model_family", Text),
    Column("licensee_id", String(20), ForeignKey("parties.id")),
    Column("media", Text, nullable=False),
    Column("territory", Text, nullable=False),
    Column("start", String(10), nullable=False),
    Column("end", String(10), nullable=False),
    Column("compensation_ref", Text, nullable=False),
    Column("represented_by", String(10), nullable=False),
    Column("post_mortem_representative", String(20), ForeignKey("parties.id")),
    Column("log_index", BigInteger, nullable=False),
    Column("granted_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
    Column("revoked_index", BigInteger),
    Column("revoke_reason", Text),
)

deaths = Table(
    "deaths", metadata,
    Column("performer_id", String(20), ForeignKey("parties.id"), primary_key=True),
    Column("date", String(10), nullable=False),
    Column("representative_id", String(20), ForeignKey("parties.id"), nullable=False),
    Column("log_index", BigInteger, nullable=False),
)


# Later capabilities keep their tables in modules of their own, on the same metadata.
from . import (  # noqa: E402,F401
    access_tables,  # noqa: E402,F401  (nonces of signed reads: 0014; web sessions: 0021)
    consent_request_tables,  # noqa: E402,F401  (consent requests and their decisions: 0018)
    dispute_tables,  # noqa: E402,F401  (ownership disputes, migration 0008)
    evidence_tables,
    fingerprint_tables,
    fund_tables,
    identifier_tables,  # noqa: E402,F401  (standard ids of works and parties: 0015)
    identity_tables,  # noqa: E402,F401  (admissions, requests, issued nonces: 0016)
    key_tables,  # noqa: E402,F401  (keys over time, statement disputes: 0017)
    preference_tables,  # noqa: E402,F401  (declared AI-use preferences: 0015)
    provenance_tables,
    run_tables,  # noqa: E402,F401  (run starts, out-of-force licenses, affected-by marks: 0010)
    sealed_tables,  # noqa: E402,F401  (sealed statements and the sealed body store: 0015)
    service_tables,  # noqa: E402,F401  (the service's allowlist of signing keys: 0011)
)
