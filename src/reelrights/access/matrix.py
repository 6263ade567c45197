"""The visibility matrix: for every kind of record, the fields each role sees. Data only.

``MATRIX[kind][role]`` is the set of the record's top-level fields (the keys of the JSON that
``reelrights <thing> show --json`` prints) that a reader holding ``role`` sees. Everyone holds
``public``, signed or not. A reader sees the union over the roles she holds
(:func:`visible_fields`); a field no role of hers lists is withheld, and a field no row lists
at all (a field added to a record later) is withheld from everyone until a row names it:
the matrix fails closed. ``FIELDS[kind]`` is every field the record may carry.

Which roles a reader holds for one record is computed from the registry
(:mod:`reelrights.access.roles`); the service applies both in one place
(:func:`reelrights.access.visibility.read_visible`). docs/visibility.md is this table in prose,
with the reasoning (issue 13, points 4 and 6).

Roles:

=====================  =============================================================
``public``             anyone, without a signature
``owner``              the party itself (a party record), a work's or bundle's owner, the
                       studio of a production, the signer of a sealed statement
``licensor``           the license's licensor
``licensee``           the license's licensee; the licensee a consent names
``cosigning_guild``    a guild whose co-signature the license needs or has
``credited_contributor`` a party credited on a work of the license's bundle (or on the work)
``performer``          the performer a consent is for
``representative``     her representative: the consent's signer when not she, her
                       post-mortem representative, her guild when she is represented by it
``developer``          the developer of a run (or of an output)
``auditor``            an auditor who challenged the run (or a run that used the license)
``reporter``           the studio that filed a revenue report
``fund``               the fund operator (a party of kind fund; a royalty statement's issuer)
``payee``              the party a royalty statement is addressed to
``disputant``          the claimant or the first owner of an ownership dispute
``named_party``        a party a sealed statement names (issue 13 point 5, ``id-sealed``)
``disclosure_recipient`` a party its signer disclosed the sealed fields to
``public_aggregate``   everyone, signed or not, once an aggregate has enough contributors
                       (fund totals: at least 3 productions)
``operator``           the registry's operator (its key, as ``registry.established`` names it)
=====================  =============================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["FIELDS", "MATRIX", "ROLES", "visible_fields"]

ROLES: tuple[str, ...] = (
    "public", "owner", "licensor", "licensee", "cosigning_guild", "credited_contributor",
    "performer", "representative", "developer", "auditor", "reporter", "fund", "payee",
    "disputant", "named_party", "disclosure_recipient", "public_aggregate", "operator",
)


def _f(*names: str) -> frozenset[str]:
    return frozenset(names)


#: Every field each kind of record carries (its ``show --json`` keys).
FIELDS: dict[str, frozenset[str]] = {
    # The public log itself: tiles, checkpoints, proofs, entries, where a statement is logged.
    # One field, "*": the whole answer (the log is public by design; point 5's sealed
    # statements take private bodies out of it).
    "log": _f("*"),
    # The service's own endpoints: health, readiness, metrics, the OpenAPI document.
    "service": _f("*"),
    # The C2PA Soft Binding Resolution API: matches by binding, published manifests, algorithms.
    "provenance": _f("*"),
    # identity, shown_as, lookalikes: how the party was verified, and look-alike names
    # (docs/identity.md); external_ids: its ISNI/IPI (docs/preferences.md)
    "party": _f("id", "kind", "name", "public_key", "key_id", "log_index", "registered_at",
                "works_owned", "credits", "external_ids", "identity", "shown_as",
                "lookalikes"),
    "work": _f("id", "kind", "title", "year", "owner", "log_index", "registered_at",
               "external_ids", "assets", "credits"),
    "bundle": _f("id", "owner", "name", "version", "predecessor", "root", "totals",
                 "description", "log_index", "created_at", "owner_name", "leaf_hash", "works",
                 "direct_assets", "contributors", "versions", "successor", "latest"),
    "license": _f("id", "bundle", "licensor", "licensee", "policy_uid", "required_cosigners",
                  "log_index", "granted_at", "in_force", "missing_cosigners", "revoked",
                  "revoked_at", "revoke_reason", "cosigned_by", "policy", "history",
                  "sealed"),  # sealed: where a sealed license's terms are (docs/sealed.md)
    "consent": _f("id", "performer", "signed_by", "kinds", "description", "media", "territory",
                  "start", "end", "compensation_ref", "represented_by", "log_index",
                  "granted_at", "status", "production", "model_family", "licensee",
                  "post_mortem_representative", "revoked_at", "revoked_index",
                  "revoke_reason", "history", "deceased"),
    "run": _f("id", "developer", "model_family", "model", "base_model", "root", "count",
              "log_index", "committed_at", "judged", "usage", "affected_by", "bases",
              "basis_modalities", "modalities", "content_types", "languages",
              "public_datasets", "audits", "description", "latest_acquired", "started",
              "over_interval"),
    # The auditor's signed in-toto statement (its verdict), where it is logged, who signed.
    "certificate": _f("statement", "log_index", "signatures"),
    "output": _f("id", "developer", "run", "media_kind", "sha256", "fingerprint_alg",
                 "fingerprint", "model_commitment", "created", "certificate", "production",
                 "prompt_sha256", "log_index"),
    "production": _f("id", "studio", "title", "kind", "currency", "log_index", "outputs"),
    "dispute": _f("id", "kind", "asset", "first_asset", "claimant", "claimant_name",
                  "claimant_work", "first_owner", "first_owner_name", "first_work",
                  "first_log_index", "matched_ms", "duration_ms", "opened_by", "log_index",
                  "opened_at", "status", "outcome", "closed_index", "closed_at",
                  "close_reason", "blocks", "history"),
    "revenue_report": _f("id", "reporter", "period", "reported_at", "log_index", "supersedes",
                         "superseded_by", "rows_sha256", "file", "rows"),
    "royalty_statement": _f("id", "fund", "party", "period", "as_of", "sha256",
                            "inputs_sha256", "threshold", "totals", "log_index", "issued_at",
                            "document"),
    # What the fund allocated from one quarter's revenue: in total, and per production.
    "fund_totals": _f("period", "productions", "totals", "by_production"),
    # Issue 13 point 5: the private body of sealed statement S and its salts, served by
    # GET /v1/sealed/<id> as a disclosure of the leaves the reader's roles see.
    "sealed_body": _f("statement", "type", "actor", "root", "body", "salts", "disclosed"),
}

_ALL = FIELDS

#: A license's terms: the ODRL policy (permissions, constraints, duties: the fund share and the
#: price) and its uid. Everything else about a license is public (issue 13 point 6).
LICENSE_TERMS = _f("policy", "policy_uid")
#: A consent's details: what she agreed to, for what, where, until when, for what pay.
#: The parties it names (performer, signer, licensee, post-mortem representative) stay public,
#: as a sealed statement keeps every party it names in clear (issue 13 point 5).
CONSENT_DETAILS = _f("kinds", "description", "media", "territory", "start", "end",
                     "compensation_ref", "represented_by", "production", "model_family",
                     "revoke_reason", "deceased")

#: kind -> role -> visible fields. A role a kind does not list sees what ``public`` sees.
MATRIX: dict[str, dict[str, frozenset[str]]] = {
    "log": {"public": _ALL["log"]},
    "service": {"public": _ALL["service"]},
    "provenance": {"public": _ALL["provenance"]},
    # The registry is public: who is who, what is whose, who is credited on it.
    "party": {"public": _ALL["party"], "owner": _ALL["party"], "operator": _ALL["party"]},
    "work": {"public": _ALL["work"], "owner": _ALL["work"],
             "credited_contributor": _ALL["work"], "operator": _ALL["work"]},
    "bundle": {"public": _ALL["bundle"], "owner": _ALL["bundle"], "operator": _ALL["bundle"]},
    # Who licensed which bundle to whom and when, co-signatures and revocations: public.
    # The terms (and so the price and the fund share): the parties to it, the guilds whose
    # co-signature it needs (they co-sign those terms), the auditors of runs that used it (they
    # check items against it), the fund (it allocates by its fund share), the operator.
    "license": {
        "public": _ALL["license"] - LICENSE_TERMS,
        "licensor": _ALL["license"], "licensee": _ALL["license"],
        "cosigning_guild": _ALL["license"], "auditor": _ALL["license"],
        "fund": _ALL["license"], "operator": _ALL["license"],
        "credited_contributor": _ALL["license"] - LICENSE_TERMS,
    },
    # That a performer consented, and that she revoked it, is public (a check names it);
    # what she agreed to is hers, her representative's, the licensee's it names, the operator's.
    "consent": {
        "public": _ALL["consent"] - CONSENT_DETAILS,
        "performer": _ALL["consent"], "representative": _ALL["consent"],
        "licensee": _ALL["consent"], "operator": _ALL["consent"],
    },
    # Run commitments with their per-bundle usage totals, and their audits: public. The
    # training manifest itself never reaches the service (only its Merkle root).
    "run": {"public": _ALL["run"], "developer": _ALL["run"], "auditor": _ALL["run"],
            "operator": _ALL["run"]},
    "certificate": {"public": _ALL["certificate"], "auditor": _ALL["certificate"],
                    "developer": _ALL["certificate"], "operator": _ALL["certificate"]},
    "output": {"public": _ALL["output"], "developer": _ALL["output"],
               "operator": _ALL["output"]},
    "production": {"public": _ALL["production"], "owner": _ALL["production"],
                   "operator": _ALL["production"]},
    "dispute": {"public": _ALL["dispute"], "disputant": _ALL["dispute"],
                "operator": _ALL["dispute"]},
    # Revenue is the studio's: the public sees that a report for a period was filed (and
    # superseded), never its rows or their digest.
    "revenue_report": {
        "public": _f("id", "reporter", "period", "reported_at", "log_index", "supersedes",
                     "superseded_by"),
        "reporter": _ALL["revenue_report"], "fund": _ALL["revenue_report"],
        "operator": _ALL["revenue_report"],
    },
    # A royalty statement is the payee's: the public sees that the fund issued one to her for a
    # period (the parties a statement names stay in clear, point 5), never its amounts.
    "royalty_statement": {
        "public": _f("id", "fund", "party", "period", "log_index", "issued_at"),
        "payee": _ALL["royalty_statement"], "fund": _ALL["royalty_statement"],
        "operator": _ALL["royalty_statement"],
    },
    # Aggregate fund totals per quarter are public only where at least 3 productions
    # contribute (``public_aggregate``: everyone, then); per production, never.
    "fund_totals": {
        "public": _f("period", "productions"),
        "public_aggregate": _f("period", "productions", "totals"),
        "fund": _ALL["fund_totals"], "operator": _ALL["fund_totals"],
    },
    # A sealed body (GET /v1/sealed/<id>): the parties the statement names, its signer, those it
    # was disclosed to (the fields disclosed, only). By type (access.roles): an audit
    # response's run developer and challenging auditor; fund terms' fund and payees (the parties
    # credited on the license's bundle, or paid from it). The public sees the sealed form in the
    # log (id, type, actor, root), never the body.
    "sealed_body": {
        "public": _f("statement", "type", "actor", "root"),
        "owner": _ALL["sealed_body"], "named_party": _ALL["sealed_body"],
        "developer": _ALL["sealed_body"], "auditor": _ALL["sealed_body"],
        "fund": _ALL["sealed_body"], "payee": _ALL["sealed_body"],
        "representative": _ALL["sealed_body"],
        "disclosure_recipient": _f("statement", "type", "actor", "root", "disclosed"),
        "operator": _ALL["sealed_body"],
    },
}


def visible_fields(kind: str, roles: Iterable[str],
                   matrix: Mapping[str, Mapping[str, frozenset[str]]] = MATRIX) -> frozenset[str]:
    """The fields of a ``kind`` record a reader holding ``roles`` sees (``public`` always)."""
    row = matrix[kind]
    seen: set[str] = set(row.get("public", frozenset()))
    for role in roles:
        seen |= row.get(role, frozenset())
    return frozenset(seen)
