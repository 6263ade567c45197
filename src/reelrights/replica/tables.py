"""Which tables are projections of the log, which hold the log itself, and which are local.

Every table in :data:`reelrights.store.tables.metadata` is named in exactly one of the three
lists below (a test checks it), so a new table cannot be forgotten: whoever adds one decides
whether ``log verify`` and ``rebuild`` must derive it from the log.

* **Projections** are written by an applier (``@applier``) from accepted statements and nothing
  else: they are a cache of the log. ``log verify`` rebuilds them from the entries and compares
  every row; ``rebuild`` recreates them.
* **Log tables** hold the log: entries, tiles, checkpoints and the head. They are checked by the
  tree and signature verification (``reelrights.log.verify``); the columns of ``log_entries``
  that repeat what the entry says (type, actor, time, statement id) are compared too.
* **Local tables** are computed by this home from media files or by its own signing, never
  logged: anyone holding the files computes them again. A rebuilt home starts without them
  (``reelrights fingerprint --all`` recomputes fingerprints from the files).
"""

from __future__ import annotations

from sqlalchemy import Table

from ..store.tables import metadata

__all__ = ["LOCAL_TABLES", "LOG_ENTRY_COLUMNS", "LOG_TABLES", "PROJECTION_TABLES",
           "projection_tables", "unclassified_tables"]

#: Tables written only by statement appliers, in an order that respects foreign keys.
PROJECTION_TABLES: tuple[str, ...] = (
    # registry (registry/parties.py, works.py, credits.py)
    "parties", "works", "assets", "work_assets", "credits",
    # standard identifiers of works and parties (registry appliers; preferences capability)
    "external_ids",
    # supersession: the current fact of each subject (compare-and-swap on ``supersedes``)
    "current_facts",
    # rights (rights/bundles.py, licensing.py, consent.py)
    "bundles", "bundle_assets", "bundle_works", "guild_agreements", "guild_members",
    "licenses", "license_cosigns", "consents", "deaths",
    # consent requests and their decisions (rights/consent_requests.py)
    "consent_requests",
    # declared AI-use preferences (preferences/declared.py)
    "preferences",
    # guild strikes (rights/strikes.py)
    "guild_strikes",
    # ownership disputes (rights chain)
    "disputes",
    # keys over time and disputed statements (identity/keys.py, statement_disputes.py)
    "key_events", "party_keys", "statement_disputes",
    # evidence (evidence/runs.py, audit_challenge.py, certificates.py)
    "training_runs", "run_usage", "audit_challenges", "audit_certificates", "audit_withdrawals",
    # run starts, licenses judged out of force per run, "affected by" marks left by late facts
    # (evidence/runs.py, disputes.py, consent.py)
    "run_starts", "run_out_of_force", "affected_marks",
    # outputs (outputs/provenance.py: the output.registered record)
    "outputs",
    # creative fund (fund/productions.py, revenue_import.py, statement_issue.py)
    "productions", "production_outputs", "fund_terms", "revenue_reports", "revenue_rows",
    "fund_lines", "fund_postings", "fund_statements",
    # unmatched and disputed credits and their claims (fund/suspense.py)
    "unmatched_credits",
    # identity (identity/admission.py: admissions and the requests they answer)
    "admission_requests", "party_admissions",
    # sealed statements: their roots and erasures (sealed/store.py, sealed/erasure.py)
    "sealed_statements",
)

#: The log itself.
LOG_TABLES: tuple[str, ...] = ("log_entries", "log_tiles", "log_checkpoints", "log_head")

#: The columns of ``log_entries`` that repeat what the entry itself says; the readers of the
#: registry use them (license history, who revoked), so they are compared with the entries.
LOG_ENTRY_COLUMNS: tuple[str, ...] = ("idx", "leaf_hash", "type", "actor", "time",
                                      "statement_id")

#: Local tables and why they are not derived from the log.
LOCAL_TABLES: dict[str, str] = {
    "fingerprints": "computed from the asset's media file (video PDQ, Chromaprint, MinHash)",
    "asset_locations": "paths on this machine where an asset's file was seen",
    "output_prints": "fingerprints computed from an output's media file",
    "output_manifests": "C2PA manifests this home signed for outputs (kept to restore a "
                        "stripped copy; the logged record carries their digest)",
    "service_allowed_keys": "the operator's allowlist of keys the service accepts statements "
                            "from (`reelrights service allow`): a local decision, never logged",
    "read_nonces": "nonces of signed reads (RFC 9421) seen in the last minutes, so a replayed "
                   "read is refused by every server process; expire on their own",
    "identity_nonces": "nonces this server issued for domain proofs (single-use, expiring); "
                       "an admission logs the nonce it used",
    "sealed_bodies": "the private fields and salts of sealed statements (the log holds only "
                     "their roots): the sealed body store, backed up, never derivable from the "
                     "log; `rebuild --bodies` restores it",
    "web_challenges": "web sign-in challenges this server issued (single-use, expiring)",
    "web_sessions": "web sessions (the SHA-256 of each cookie's token), shared by every "
                    "server process; expire on their own",
    "sealed_grants": "the fields of sealed statements a party disclosed to another party "
                     "through the service (POST /v1/sealed/<id>/grants): its decision, recorded "
                     "by this server, never logged; backed up with the database",
}


def unclassified_tables() -> list[str]:
    """Tables in the schema named in none of the lists (a test keeps this empty)."""
    known = set(PROJECTION_TABLES) | set(LOG_TABLES) | set(LOCAL_TABLES)
    return sorted(set(metadata.tables) - known)


def projection_tables() -> list[Table]:
    """The projection tables present in the schema, in foreign-key order. A table the lists do
    not name yet is treated as a projection (checking too much fails loudly; too little hides)."""
    present = [metadata.tables[name] for name in PROJECTION_TABLES if name in metadata.tables]
    return present + [metadata.tables[name] for name in unclassified_tables()]
