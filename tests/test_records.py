"""Typed records and the one resolver, on both backends, over a home with every kind of entity.

The world: the fund story (studios, performer, writer, guild, developer, fund; works, credits,
bundles, co-signed licenses, a committed run, a production using its output), plus a consent, a
full audit with its certificate, the output's record, a revenue report, a royalty statement and
an ownership dispute; and look-alikes that make labels ambiguous (a second "Orbit AI", a second
"Harbour Lights", another owner's "Catalog" bundle, a second "Harbour Lights II" production).

* :func:`resolve` finds each kind by id, by its unique label where it has one, refuses an
  unknown reference with the kind's NotFound hint, names the candidates of an ambiguous label,
  and refuses a reference that cannot be an id of a kind that checks them;
* every record the read models return prints, with ``to_json``, exactly the keys (in order)
  the CLI has always printed for it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from fake_works import register_fake_work
from fund_story import build, csv_report
from reelrights.core.ids import new_id
from reelrights.core.statements import sign_statement
from reelrights.errors import BadInput, NotFound
from reelrights.evidence import audit_challenge, certificates, runs
from reelrights.evidence.records import (
    CERTIFICATE,
    RUN,
    Certificate,
    Run,
    RunDetail,
    SignedCertificate,
)
from reelrights.fund import productions, revenue_import
from reelrights.fund import royalty_statement_issue as statement_issue
from reelrights.fund.records import (
    PRODUCTION,
    REVENUE_REPORT,
    ROYALTY_STATEMENT,
    Production,
    ProductionDetail,
    RevenueReport,
    RoyaltyStatement,
)
from reelrights.outputs.records import OUTPUT, Output
from reelrights.registry import usage
from reelrights.registry.parties import list_parties, party_detail, register_party
from reelrights.registry.records import (
    PARTY,
    WORK,
    Party,
    PartyDetail,
    UsageReport,
    Work,
    WorkDetail,
)
from reelrights.registry.resolve import resolve_party
from reelrights.registry.works import list_works, work_detail
from reelrights.rights import bundles, consent, disputes, licensing
from reelrights.rights.licensing import LICENSE
from reelrights.rights.records import (
    BUNDLE,
    CONSENT,
    DISPUTE,
    Bundle,
    BundleDetail,
    Consent,
    ConsentDetail,
    Dispute,
    DisputeDetail,
    License,
    LicenseDetail,
)
from reelrights.store.resolve import find_many, resolve

TODAY = datetime.now(UTC).date()


def _submit(home, ledger, actor: str, type_: str, body: dict):  # noqa: ANN202
    return ledger.submit([sign_statement(ledger.new_statement(type_, actor, body),
                                         home.party_key(actor))])[0]


@pytest.fixture
def world(home, ledger, tmp_path: Path) -> dict[str, str]:
    ids = build(home, ledger, tmp_path)
    ids["auditor"] = register_party(home, ledger, "auditor", "Fair Audit").details["id"]
    ids["consent"] = consent.grant_consent(
        home, ledger, performer=ids["performer"], kinds=["voice"],
        description="Synthesized replacement dialogue for one scene of Harbour Lights II",
        media=["audio"], territory=["US"], start=TODAY, end=date(2035, 12, 31),
        compensation_ref="SPG-1", represented_by="guild", production="Harbour Lights II",
        licensee=ids["dev"]).details["id"]
    ch = audit_challenge.challenge_run(home, ledger, ids["run"], 4, ids["auditor"])
    response = tmp_path / "response.json"
    audit_challenge.write_private(response, audit_challenge.respond(
        ledger, ch["challenge"], tmp_path / "manifest.jsonl"))
    ids["certificate"] = certificates.certify(home, ledger, response, ids["auditor"],
                                              territory="US")["certificate"]
    ids["output_record"] = new_id("output")
    _submit(home, ledger, ids["dev"], "output.registered", {
        "id": ids["output_record"], "developer": ids["dev"], "run": ids["run"],
        "media_kind": "video", "sha256": hashlib.sha256(b"shot").hexdigest(),
        "fingerprint_alg": "dev.reelrights.pdq.1", "fingerprint": hashlib.sha256(b"fp").hexdigest(),
        "model_commitment": hashlib.sha256(b"model").hexdigest(),
        "created": "2027-01-05T10:00:00Z", "certificate": ids["certificate"],
        "production": ids["production"]})
    ids["report"] = revenue_import.import_report(home, ledger, csv_report(
        tmp_path / "q1.csv", [(ids["production"], "2027-Q1", "US", "USD", "12345.67", "1234.56")]),
        ids["studio"])["id"]
    ids["statement"] = statement_issue.issue_statement(home, ledger, ids["performer"],
                                                       "2027-Q1")[1]
    # the developer registers the studio's reel as its own: an ownership dispute
    reel = work_detail(ledger.db, ids["film"]).assets[0]
    _submit(home, ledger, ids["dev"], "work.registered", {
        "id": new_id("work"), "kind": "film", "title": "Our Reel", "owner": ids["dev"],
        "assets": [{"sha256": reel.sha256, "size": reel.size, "media_type": reel.media_type,
                    "category": reel.category, "duration_ms": reel.duration_ms,
                    "name": "ours.mp4"}]})
    (ids["dispute"],) = [d.id for d in disputes.list_disputes(ledger.db)]
    # look-alikes: one label, two rows
    ids["dev2"] = register_party(home, ledger, "developer", "Orbit AI").details["id"]
    ids["film2"], _ = register_fake_work(home, ledger, ids["studio2"], "Harbour Lights")
    ids["bundle3"] = bundles.create_bundle(home, ledger, ids["studio2"], "Catalog", "1",
                                           [ids["film2"]]).details["id"]
    ids["production2"] = productions.add_production(home, ledger, ids["studio2"],
                                                    "Harbour Lights II", "film",
                                                    "EUR").details["id"]
    ids["production3"] = productions.add_production(home, ledger, ids["studio2"], "Paper Moon",
                                                    "episode", "EUR").details["id"]
    return ids


# ---------------------------------------------------------------------------------------------
# The resolver
# ---------------------------------------------------------------------------------------------

def test_resolve_by_id_unique_label_unknown_and_ambiguous(ledger, world) -> None:
    # (kind, id, unique label or None, record class)
    found = [(PARTY, world["fund"], "Creative Fund", Party),
             (WORK, world["script"], "Paper Moon", Work),
             (BUNDLE, world["bundle2"], "Scripts", Bundle),
             (BUNDLE, world["bundle2"], "Scripts@1", Bundle),
             (LICENSE, world["lic"], None, License),
             (CONSENT, world["consent"], None, Consent),
             (DISPUTE, world["dispute"], None, Dispute),
             (RUN, world["run"], None, Run),
             (CERTIFICATE, world["certificate"], None, Certificate),
             (OUTPUT, world["output_record"], None, Output),
             (PRODUCTION, world["production3"], "Paper Moon", Production),
             (REVENUE_REPORT, world["report"], None, RevenueReport),
             (ROYALTY_STATEMENT, world["statement"], None, RoyaltyStatement)]
    with ledger.db.read() as conn:
        for kind, record_id, label, cls in found:
            by_id = resolve(conn, kind, record_id)
            assert type(by_id) is cls and by_id.id == record_id, kind.noun
            if label is not None:
                assert resolve(conn, kind, label) == by_id, (kind.noun, label)
        # unknown: NotFound with the hint of the command that lists them
        unknown = {PARTY: "no party 'nobody'; `reelrights party list` shows ids and names",
                   WORK: "no work 'nobody'; `reelrights work list` shows ids and titles",
                   BUNDLE: "no bundle 'nobody'; `reelrights bundle list` shows ids, names and "
                           "versions (name a version as NAME@VERSION)",
                   LICENSE: "no license 'nobody'; `reelrights license list` shows them",
                   CONSENT: "no consent 'nobody'; `reelrights consent list` shows the consents "
                            "on file",
                   DISPUTE: "no dispute 'nobody'; `reelrights dispute list` shows them",
                   PRODUCTION: "no production 'nobody'; `reelrights production list` shows them"}
        for kind, message in unknown.items():
            with pytest.raises(NotFound) as info:
                resolve(conn, kind, "nobody")
            assert info.value.message == message
        # an unknown id of the right form, for the kinds that check the form first
        for kind, ref, message in (
                (RUN, "run_aaaaaaaaaaaaaaaa", "no run 'run_aaaaaaaaaaaaaaaa'; `reelrights run "
                                              "list` shows them"),
                (CERTIFICATE, "crt_aaaaaaaaaaaaaaaa", "no certificate 'crt_aaaaaaaaaaaaaaaa' in "
                                                      "the log; pass its id or its file"),
                (OUTPUT, "out_aaaaaaaaaaaaaaaa", "no output 'out_aaaaaaaaaaaaaaaa' in the "
                                                 "registry")):
            with pytest.raises(NotFound) as info:
                resolve(conn, kind, ref)
            assert info.value.message == message
        # a reference that cannot be such an id: BadInput before the database is asked
        for kind, message in (
                (RUN, "'nobody' is not a run id like run_k3vq7xw2m4a6c5de; `reelrights run "
                      "list` shows them"),
                (CERTIFICATE, "'nobody' is not a certificate id like crt_k3vq7xw2m4a6c5de"),
                (OUTPUT, "'nobody' is not an output id like out_k3vq7xw2m4a6c5de")):
            with pytest.raises(BadInput) as info:
                resolve(conn, kind, "nobody")
            assert not isinstance(info.value, NotFound) and info.value.message == message
        # ambiguous labels name every candidate, in log order
        for kind, label, message in (
                (PARTY, "Orbit AI", f"2 parties are named 'Orbit AI'; use the id "
                                    f"({world['dev']}, {world['dev2']})"),
                (WORK, "Harbour Lights", f"2 works are titled 'Harbour Lights'; use the id "
                                         f"({world['film']}, {world['film2']})"),
                (BUNDLE, "Catalog", f"2 owners have a bundle named 'Catalog'; use the id "
                                    f"({world['bundle3']}, {world['bundle']})"),
                (BUNDLE, "Catalog@1", f"2 owners have a bundle 'Catalog@1'; use the id "
                                      f"({world['bundle']}, {world['bundle3']})"),
                (PRODUCTION, "Harbour Lights II", f"2 productions are titled 'Harbour Lights "
                                                  f"II'; use the id ({world['production']}, "
                                                  f"{world['production2']})")):
            with pytest.raises(BadInput) as info:
                resolve(conn, kind, label)
            assert info.value.message == message
        # the thin resolve_* functions are the resolver
        assert resolve_party(conn, "Creative Fund").id == world["fund"]
        assert bundles.resolve_bundle(conn, "Scripts").id == world["bundle2"]
        assert runs.resolve_run(conn, world["run"]).developer_name == "Orbit AI"
        # find_many: the records meeting the conditions, in log order
        assert [p.id for p in find_many(conn, PARTY, PARTY.table.c.name == "Orbit AI")] == [
            world["dev"], world["dev2"]]


# ---------------------------------------------------------------------------------------------
# to_json: the published shapes
# ---------------------------------------------------------------------------------------------

PARTY_KEYS = ("id", "kind", "name", "public_key", "key_id", "log_index", "registered_at")
WORK_KEYS = ("id", "kind", "title", "owner", "log_index", "registered_at", "external_ids")
BUNDLE_KEYS = ("id", "owner", "name", "version", "predecessor", "root", "totals", "log_index",
               "created_at")
LICENSE_KEYS = ("id", "bundle", "licensor", "licensee", "policy_uid", "required_cosigners",
                "log_index", "granted_at", "in_force", "missing_cosigners", "revoked",
                "revoked_at", "revoke_reason", "cosigned_by")
CONSENT_KEYS = ("id", "performer", "signed_by", "kinds", "description", "media", "territory",
                "start", "end", "compensation_ref", "represented_by", "log_index", "granted_at",
                "status")
DISPUTE_KEYS = ("id", "kind", "asset", "first_asset", "first_owner", "first_owner_name",
                "first_work", "first_log_index", "claimant", "claimant_name", "claimant_work",
                "matched_ms", "duration_ms", "opened_by", "log_index", "opened_at", "status",
                "outcome", "closed_index", "closed_at", "close_reason")
RUN_KEYS = ("id", "developer", "model_family", "model", "root", "count", "log_index",
            "committed_at")
PRODUCTION_KEYS = ("id", "studio", "title", "kind", "currency", "log_index")
MARK_KEYS = ("subject", "subject_kind", "run", "kind", "fact", "log_index", "statement_type",
             "marked_at", "reason")
LOG_EVENT_KEYS = ("log_index", "type", "actor", "time")


def _keys(d: object) -> tuple[str, ...]:
    assert isinstance(d, dict)
    return tuple(d)


def test_to_json_prints_the_published_keys_of_every_record(ledger, world) -> None:
    db = ledger.db
    for p in list_parties(db):
        assert type(p) is Party and _keys(p.to_json()) == PARTY_KEYS
    detail = party_detail(db, world["performer"])
    assert type(detail) is PartyDetail
    j = detail.to_json()
    assert _keys(j) == (*PARTY_KEYS, "works_owned", "credits", "external_ids")
    assert [_keys(c) for c in j["credits"]] == [("work", "role", "share", "log_index")]
    assert [_keys(w) for w in party_detail(db, world["studio"]).to_json()[
        "works_owned"]] == [("id", "title")]
    names = {p.id: p.name for p in list_parties(db)}
    for w in list_works(db):
        assert type(w) is Work and w.year is None and _keys(w.to_json()) == WORK_KEYS
        assert w.owner_name == names[w.owner_id]
    wd = work_detail(db, world["film"])
    assert type(wd) is WorkDetail
    j = wd.to_json()
    assert _keys(j) == (*WORK_KEYS, "assets", "credits")
    assert {_keys(a) for a in j["assets"]} == {
        ("name", "sha256", "size", "media_type", "category", "duration_ms")}
    assert {_keys(c) for c in j["credits"]} == {("party", "name", "role", "share", "log_index")}

    for b in bundles.list_bundles(db):
        assert type(b) is Bundle and _keys(b.to_json()) == BUNDLE_KEYS and b.owner_name
    bd = bundles.bundle_detail(db, world["bundle"])
    assert type(bd) is BundleDetail
    j = bd.to_json()
    assert _keys(j) == (*BUNDLE_KEYS, "owner_name", "leaf_hash", "works", "direct_assets",
                        "contributors", "versions", "successor", "latest")
    assert [_keys(w) for w in j["works"]] == [("id", "title", "kind", "listed")]
    assert {_keys(c) for c in j["contributors"]} == {("party", "name", "roles")}
    assert [_keys(v) for v in j["versions"]] == [
        ("id", "version", "predecessor", "root", "log_index", "created_at")]

    listed = licensing.list_licenses(db)
    assert len(listed) == 2
    for lic in listed:
        assert type(lic) is License and _keys(lic.to_json()) == LICENSE_KEYS
        assert lic.bundle_name in ("Catalog", "Scripts") and lic.bundle_version == "1"
        assert lic.licensee_name == "Orbit AI" and lic.licensor_name
    ld = licensing.license_detail(db, world["lic"])
    assert type(ld) is LicenseDetail
    j = ld.to_json()
    assert _keys(j) == (*LICENSE_KEYS, "policy", "history")
    assert j["in_force"] is True and j["cosigned_by"] == [world["guild"]]
    assert [_keys(h) for h in j["history"]] == [LOG_EVENT_KEYS] * 2  # granted, co-signed

    (c,) = consent.list_consents(db)
    assert type(c) is Consent and c.performer_name == "Ada Lovelace"
    assert _keys(c.to_json()) == (*CONSENT_KEYS, "production", "licensee")
    cd = consent.consent_detail(db, world["consent"])
    assert type(cd) is ConsentDetail
    j = cd.to_json()
    assert _keys(j) == (*CONSENT_KEYS, "production", "licensee", "history")
    assert [_keys(e) for e in j["history"]] == [("event", "log_index", "time", "actor")]

    (d,) = disputes.list_disputes(db)
    assert type(d) is Dispute and _keys(d.to_json()) == DISPUTE_KEYS
    assert (d.first_owner_name, d.claimant_name) == ("Northlight Pictures", "Orbit AI")
    dd = disputes.dispute_detail(db, world["dispute"])
    assert type(dd) is DisputeDetail
    assert _keys(dd.to_json()) == (*DISPUTE_KEYS, "history")
    assert [_keys(h) for h in dd.to_json()["history"]] == [LOG_EVENT_KEYS]

    (r,) = runs.list_runs(db)
    assert type(r) is Run and _keys(r.to_json()) == RUN_KEYS and r.developer_name == "Orbit AI"
    rd = runs.run_detail(db, world["run"])
    assert type(rd) is RunDetail and rd.judged == "at_commit"
    j = rd.to_json()
    assert _keys(j) == (*RUN_KEYS, *(("latest_acquired",) if rd.latest_acquired else ()),
                        "judged", "usage", "affected_by", *rd.totals)
    assert set(rd.totals) >= {"bases", "modalities"}
    assert {_keys(u) for u in j["usage"]} == {
        ("bundle", "bundle_name", "license", "items", "seconds", "frames", "tokens", "images",
         "in_force_at_commit")}
    # the dispute over a reel the run used marks the run and its certificate
    assert [(m["subject"], m["kind"]) for m in j["affected_by"]] == [(world["run"], "dispute")]
    assert {_keys(m) for m in j["affected_by"]} == {
        (*MARK_KEYS, "statement_id", "asset", "bundle", "license")}

    shown = certificates.show_certificate(db, world["certificate"])
    assert type(shown) is SignedCertificate and shown.keyids
    j = shown.to_json()
    assert _keys(j) == ("statement", "log_index", "signatures")
    assert [_keys(s) for s in j["signatures"]] == [("keyid",)]

    (prod, prod2, prod3) = productions.list_productions(db)
    for p in (prod, prod2, prod3):
        assert type(p) is Production and _keys(p.to_json()) == PRODUCTION_KEYS
    assert prod.studio_name == "Northlight Pictures"
    pd = productions.production_detail(db, world["production"])
    assert type(pd) is ProductionDetail
    j = pd.to_json()
    assert _keys(j) == (*PRODUCTION_KEYS, "outputs")
    assert [_keys(o) for o in j["outputs"]] == [("output", "run", "log_index", "weights")]

    report = usage.usage_report(db, world["studio"])
    assert type(report) is UsageReport
    j = report.to_json()
    assert _keys(j) == ("party", "name", "kind", "members", "works", "bundles", "licenses",
                        "runs", "productions", "earnings", "suspense")
    assert [_keys(w) for w in j["works"]] == [("work", "title", "log_index", "relations")]
    assert [_keys(x) for x in j["works"][0]["relations"]] == [("party", "role")]
    assert [_keys(b) for b in j["bundles"]] == [("bundle", "name", "version", "log_index",
                                                 "works")]
    assert [_keys(x) for x in j["licenses"]] == [("license", "bundle", "licensee", "log_index",
                                                  "revoked_index")]
    assert [_keys(x) for x in j["runs"]] == [
        ("run", "developer", "model", "bundle", "license", "items", "seconds", "frames",
         "tokens", "images", "log_index", "certificates")]
    assert [_keys(x) for x in j["runs"][0]["certificates"]] == [
        ("certificate", "result", "log_index")]
    assert [_keys(x) for x in j["productions"]] == [("production", "title", "output", "run",
                                                     "log_index")]
    assert {_keys(x) for x in j["earnings"]} == {
        ("payee", "report", "production", "period", "currency", "amount_minor", "log_index",
         "superseded_by")}
    guild = usage.usage_report(db, world["guild"]).to_json()
    assert [_keys(m) for m in guild["members"]] == [("party", "log_index")]
    assert [_keys(x) for x in guild["works"][0]["relations"]] == [
        ("party", "role", "share", "log_index")]

    with db.read() as conn:
        out = resolve(conn, OUTPUT, world["output_record"])
        assert _keys(out.to_json()) == (
            "id", "developer", "run", "media_kind", "sha256", "fingerprint_alg", "fingerprint",
            "model_commitment", "created", "certificate", "production", "log_index")
        cert = resolve(conn, CERTIFICATE, world["certificate"])
        assert cert.run_id == world["run"] and cert.auditor_id == world["auditor"]
        assert _keys(resolve(conn, REVENUE_REPORT, world["report"]).to_json()) == (
            "id", "reporter", "period", "rows_sha256", "supersedes", "superseded_by", "file",
            "log_index", "reported_at")
        st = resolve(conn, ROYALTY_STATEMENT, world["statement"])
        assert st.party_id == world["performer"] and st.period == "2027-Q1"
