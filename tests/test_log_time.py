"""Issue 9, point 1: the log decides when facts take effect (both backends).

Each test is an attack that the registry accepted before: a date in a body that reaches past the
log time (a death after it, a consent starting before it), licenses judged only at a run's
commit although they lapsed while it trained, and late facts that silently change (or never
touch) a verdict already logged.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from reelrights.core.ids import new_id
from reelrights.core.statements import sign_statement
from reelrights.errors import BadInput, InvalidStatement
from reelrights.registry.parties import register_party
from reelrights.rights import consent as cs
from reelrights.store.tables import consents, deaths, log_entries

SPECIFIC = ("Synthesized replacement dialogue for the character Mara Ellison in the feature "
            "film Harbour Lights, ADR of scenes 12 to 14 only")


def _today() -> date:
    return datetime.now(UTC).date()


def _party(home, ledger, kind: str, name: str) -> str:  # noqa: ANN001
    return register_party(home, ledger, kind, name).details["id"]


def _submit(home, ledger, type_: str, actor: str, body: dict):  # noqa: ANN001
    entry = sign_statement(ledger.new_statement(type_, actor, body), home.party_key(actor))
    return ledger.submit([entry])[0]


def _count(ledger, table) -> int:  # noqa: ANN001
    with ledger.db.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _consent_body(performer: str, start: date) -> dict:
    return {"id": new_id("consent"), "performer": performer, "kinds": ["voice"],
            "description": SPECIFIC, "media": ["audio"], "territory": ["US"],
            "start": start.isoformat(), "end": "2035-12-31", "compensation_ref": "SAG-1",
            "represented_by": "guild", "production": "Harbour Lights"}


# -- A. declared, bounded effect times -------------------------------------------------------

def test_a_death_dated_after_the_log_time_is_refused(home, ledger) -> None:
    jane = _party(home, ledger, "performer", "Jane Roe")
    estate = _party(home, ledger, "studio", "Roe Estate")
    _submit(home, ledger, "consent.granted", jane,
            {**_consent_body(jane, _today()), "post_mortem_representative": estate})
    size = _count(ledger, log_entries)
    later = (_today() + timedelta(days=2)).isoformat()
    with pytest.raises(InvalidStatement) as info:
        _submit(home, ledger, "performer.deceased", estate,
                {"performer": jane, "date": later, "representative": estate})
    assert info.value.pointer == "/statement/body/date"
    assert "is at most the log time" in info.value.message
    assert "\n" not in str(info.value)
    assert _count(ledger, deaths) == 0 and _count(ledger, log_entries) == size
    # a death that has happened (at most the log time) is recorded
    r = _submit(home, ledger, "performer.deceased", estate,
                {"performer": jane, "date": _today().isoformat(), "representative": estate})
    assert r.details["date"] == _today().isoformat()


def test_a_consent_starting_a_week_before_its_log_time_is_refused(home, ledger) -> None:
    jane = _party(home, ledger, "performer", "Jane Roe")
    size = _count(ledger, log_entries)
    with pytest.raises(InvalidStatement) as info:
        _submit(home, ledger, "consent.granted", jane,
                _consent_body(jane, _today() - timedelta(days=7)))
    assert info.value.pointer == "/statement/body/start"
    message = info.value.message
    assert "minus the 300 s clock skew" in message and "or later" in message
    assert _count(ledger, consents) == 0 and _count(ledger, log_entries) == size
    # the same through the command: refused, nothing written
    with pytest.raises(InvalidStatement, match="cannot take effect in the past"):
        cs.grant_consent(home, ledger, performer=jane, kinds=["voice"], description=SPECIFIC,
                         media=["audio"], territory=["US"],
                         start=_today() - timedelta(days=7), end=date(2035, 12, 31),
                         compensation_ref="SAG-1", represented_by="guild",
                         production="Harbour Lights")
    assert _count(ledger, consents) == 0
    # starting today (the log time minus the skew, as a date) is fine
    ok = _submit(home, ledger, "consent.granted", jane, _consent_body(jane, _today()))
    assert ok.type == "consent.granted"


def test_a_consent_revocation_takes_effect_at_its_log_time(home, ledger) -> None:
    jane = _party(home, ledger, "performer", "Jane Roe")
    granted = _submit(home, ledger, "consent.granted", jane, _consent_body(jane, _today()))
    # signed (honestly) an hour ago, inside the submission window: the log's time counts
    signed = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    entry = sign_statement(ledger.new_statement(
        "consent.revoked", jane, {"consent": granted.details["id"], "reason": "no longer"},
        signed), home.party_key(jane))
    rev = ledger.submit([entry])[0]
    assert rev.details["revoked_at"] == rev.log_time != signed
    with ledger.db.read() as conn:
        assert conn.scalar(select(consents.c.revoked_at)) == rev.log_time


# -- B. run.started: licenses judged over the log-time interval from start to commit ------------

import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from fake_works import register_fake_work  # noqa: E402
from reelrights.cli import cli  # noqa: E402
from reelrights.core.commitment import canonical_item  # noqa: E402
from reelrights.core.license_terms import training_agreement  # noqa: E402
from reelrights.errors import Conflict, PolicyDenied  # noqa: E402
from reelrights.evidence import audit_challenge, certificates, runs  # noqa: E402
from reelrights.rights import bundles, licensing  # noqa: E402
from reelrights.rights.policy import check, resolve_context  # noqa: E402
from reelrights.store.evidence_tables import run_usage  # noqa: E402
from reelrights.store.run_tables import affected_marks, run_out_of_force  # noqa: E402


@pytest.fixture
def story(home, ledger):  # noqa: ANN001, ANN201
    ids: dict = {}
    for label, kind, name in [("studio", "studio", "Northlight"), ("dev", "developer", "Orbit AI"),
                              ("dev2", "developer", "Other AI"),
                              ("auditor", "auditor", "Fair Audit LLP")]:
        ids[label] = _party(home, ledger, kind, name)
    ids["film"], ids["reels"] = register_fake_work(home, ledger, ids["studio"], "Harbour Lights", 3)
    ids["bundle"] = bundles.create_bundle(home, ledger, ids["studio"], "Catalog", "1",
                                          [ids["film"]]).details["id"]
    ids["license"] = _license(home, ledger, ids)
    return ids


def _policy(ids: dict, window: list[dict] | None = None) -> dict:
    policy = training_agreement(uid=f"urn:reelrights:policy:{new_id('license')}",
                                licensor=ids["studio"], licensee=ids["dev"], bundle=ids["bundle"],
                                model_family="orbit", territories=["US"], until="2099-12-31",
                                fund_share="2.5")
    if window is not None:  # replace the dateTime limit of the training permission
        perm = policy["permission"][0]
        perm["constraint"] = [c for c in perm["constraint"]
                              if c.get("leftOperand") != "dateTime"] + window
    return policy


def _license(home, ledger, ids: dict, window: list[dict] | None = None) -> str:  # noqa: ANN001
    return licensing.grant_license(home, ledger, ids["bundle"], ids["dev"],
                                   _policy(ids, window)).details["id"]


def _stamp(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _items(ids: dict, license_id: str, n_own: int = 5) -> list[dict]:
    basis = {"type": "license", "license": license_id, "bundle": ids["bundle"]}
    return ([{"sha256": s, "kind": "video", "units": 60, "unit": "seconds", "basis": basis}
             for s in ids["reels"]] +
            [{"sha256": os.urandom(32).hex(), "kind": "video", "units": 30, "unit": "seconds",
              "basis": {"type": "own"}} for _ in range(n_own)])


def _manifest(tmp_path: Path, items: list[dict]) -> Path:
    path = tmp_path / f"manifest-{os.urandom(4).hex()}.jsonl"
    path.write_bytes(b"".join(canonical_item(it) + b"\n" for it in items))
    return path


def _commit(home, ledger, ids, tmp_path, license_id: str, run_id: str | None = None,  # noqa: ANN001
            family: str = "orbit") -> tuple[dict, Path]:
    manifest = _manifest(tmp_path, _items(ids, license_id))
    return runs.commit_run(home, ledger, manifest, ids["dev"], family, "orbit-1",
                           run_id=run_id), manifest


def _out_of_force(ledger, run_id: str) -> dict[str, str]:  # noqa: ANN001
    with ledger.db.read() as conn:
        return dict(conn.execute(select(run_out_of_force.c.license_id, run_out_of_force.c.reason)
                                 .where(run_out_of_force.c.run_id == run_id)).all())


def test_b_a_regrant_after_a_revocation_does_not_cover_a_started_run(home, ledger, story,
                                                                    tmp_path) -> None:
    started = runs.start_run(home, ledger, story["dev"], "orbit", [story["license"]])
    assert started["licenses"] == [story["license"]] and started["licenses_not_in_force"] == []
    # While the run trains, the studio revokes L and grants L2 for the same bundle: at the
    # commit L2 is in force, and the commit alone would find nothing wrong with it.
    licensing.revoke_license(home, ledger, story["license"], "renegotiated")
    regrant = _license(home, ledger, story)
    with ledger.db.read() as conn:
        assert runs.judge_usage(conn, story["dev"], [{"bundle": story["bundle"],
                                                      "license": regrant}],
                                datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")) == [None]
    out, _ = _commit(home, ledger, story, tmp_path, regrant, run_id=started["id"])
    assert out["id"] == started["id"] and out["judged"] == "over_interval"
    assert out["over_interval"]["from"] == started["started_at"]
    assert out["licenses_not_in_force"] == [regrant]
    why = _out_of_force(ledger, out["id"])
    assert "not among the licenses run.started named" in why[regrant]
    with ledger.db.read() as conn:
        assert conn.scalar(select(run_usage.c.in_force)
                           .where(run_usage.c.run_id == out["id"])) == "0"
    d = runs.run_detail(ledger.db, out["id"]).to_json()
    assert d["judged"] == "over_interval" and d["usage"][0]["in_force_over_interval"] is False
    assert d["started"]["licenses"] == [story["license"]]
    # Committing under L itself: revoked inside the interval, out of force as well.
    again = runs.start_run(home, ledger, story["dev"], "orbit", [regrant])
    licensing.revoke_license(home, ledger, regrant, "again")
    out2, _ = _commit(home, ledger, story, tmp_path, regrant, run_id=again["id"])
    assert "revoked at" in _out_of_force(ledger, out2["id"])[regrant]


def test_b_a_license_not_yet_in_force_at_the_start_is_out_of_force_for_the_run(
        home, ledger, story, tmp_path) -> None:
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    later = _license(home, ledger, story, [
        {"leftOperand": "dateTime", "operator": "gteq",
         "rightOperand": {"@value": _stamp(soon), "@type": "xsd:dateTime"}},
        {"leftOperand": "dateTime", "operator": "lt",
         "rightOperand": {"@value": "2099-12-31", "@type": "xsd:date"}}])
    started = runs.start_run(home, ledger, story["dev"], "orbit", [later])
    assert started["licenses_not_in_force"] == [later]
    while datetime.now(UTC) <= soon + timedelta(milliseconds=200):
        time.sleep(0.2)
    # Judged at the commit alone, the license is in force now ...
    plain, _ = _commit(home, ledger, story, tmp_path, later)
    assert plain["judged"] == "at_commit" and plain["licenses_not_in_force"] == []
    # ... but the started run trained while it was not yet in force.
    out, manifest = _commit(home, ledger, story, tmp_path, later, run_id=started["id"])
    assert out["licenses_not_in_force"] == [later]
    assert "the run's start" in _out_of_force(ledger, out["id"])[later]
    # The audit judges the started run over its interval: the items under that license fail,
    # though the license is in force at the commit (the run judged at commit alone passes).
    ch = audit_challenge.challenge_run(home, ledger, out["id"], out["count"], story["auditor"])
    resp = tmp_path / "resp-interval.json"
    audit_challenge.write_private(resp, audit_challenge.respond(ledger, ch["challenge"],
                                                                manifest))
    cert = certificates.certify(home, ledger, resp, story["auditor"], territory="US")
    assert cert["result"] == "fail", cert
    assert plain["id"] != out["id"]


def test_b_a_license_expiring_during_the_run_is_out_of_force_at_commit(home, ledger, story,
                                                                       tmp_path) -> None:
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    short = _license(home, ledger, story, [
        {"leftOperand": "dateTime", "operator": "lt",
         "rightOperand": {"@value": _stamp(until), "@type": "xsd:dateTime"}}])
    started = runs.start_run(home, ledger, story["dev"], "orbit", [short])
    assert started["licenses_not_in_force"] == []
    while datetime.now(UTC) <= until + timedelta(milliseconds=200):
        time.sleep(0.2)
    out, _ = _commit(home, ledger, story, tmp_path, short, run_id=started["id"])
    assert out["licenses_not_in_force"] == [short]
    assert "exclude" in _out_of_force(ledger, out["id"])[short]


def test_b_a_run_without_a_start_is_judged_at_commit_and_its_certificate_says_so(
        home, ledger, story, tmp_path) -> None:
    plain, manifest = _commit(home, ledger, story, tmp_path, story["license"])
    assert plain["judged"] == "at_commit"
    d = runs.run_detail(ledger.db, plain["id"]).to_json()
    assert d["judged"] == "at_commit" and "over_interval" not in d and "started" not in d
    cert = _certify(home, ledger, story, tmp_path, plain["id"], manifest)
    assert cert["predicate"]["run"]["judged"] == "at_commit"
    report = certificates.verify_certificate(home, ledger, cert["certificate"])
    assert report["judged"] == "at_commit" and report["affected_by"] == []
    # A started run's certificate states the interval, signed.
    started = runs.start_run(home, ledger, story["dev"], "orbit", [story["license"]])
    out, manifest2 = _commit(home, ledger, story, tmp_path, story["license"],
                             run_id=started["id"])
    cert2 = _certify(home, ledger, story, tmp_path, out["id"], manifest2)
    span = cert2["predicate"]["run"]["over_interval"]
    assert cert2["predicate"]["run"]["judged"] == "over_interval"
    assert (span["from"], span["to"]) == (started["started_at"], out["over_interval"]["to"])
    report2 = certificates.verify_certificate(home, ledger, cert2["certificate"])
    assert report2["judged"] == "over_interval" and report2["over_interval"] == span


def test_b_a_started_run_is_committed_by_its_developer_for_its_model_family(
        home, ledger, story, tmp_path) -> None:
    started = runs.start_run(home, ledger, story["dev"], "orbit", [story["license"]])
    with pytest.raises(BadInput, match="was started for model family 'orbit'"):
        _commit(home, ledger, story, tmp_path, story["license"], run_id=started["id"],
                family="orbit-2")
    # signed by hand, past the command's own check: the applier refuses it too
    body = {"id": started["id"], "developer": story["dev"], "model_family": "other",
            "model": "m", "root": "00" * 32, "count": 0, "usage": [],
            "bases": {"own": {k: 0 for k in ("items", "seconds", "frames", "tokens", "images")},
                      "public-domain": {k: 0 for k in ("items", "seconds", "frames", "tokens",
                                                       "images")},
                      "open-license": []},
            "modalities": {}}
    with pytest.raises(InvalidStatement, match="was started for model family") as info:
        _submit(home, ledger, "run.committed", story["dev"], body)
    assert info.value.pointer == "/statement/body/model_family"
    with pytest.raises(PolicyDenied, match="only the developer that started a run"):
        _submit(home, ledger, "run.committed", story["dev2"], {**body, "developer": story["dev2"],
                                                               "model_family": "orbit"})
    # the license of another developer cannot be relied on; a run id starts once
    with pytest.raises(Conflict, match="is granted to"):
        runs.start_run(home, ledger, story["dev2"], "orbit", [story["license"]])
    with pytest.raises(Conflict, match="already started"):
        runs.start_run(home, ledger, story["dev"], "orbit", [story["license"]],
                       run_id=started["id"])


def test_b_cli_run_start_then_commit(home, ledger, story, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    runner = CliRunner()
    res = runner.invoke(cli, ["--home", str(home.path), "run", "start", "--developer", "Orbit AI", "--model-family",
                              "orbit", "--license", story["license"]])
    assert res.exit_code == 0, res.output
    run_id = res.stdout.strip().splitlines()[0]
    assert run_id.startswith("run_")
    manifest = _manifest(tmp_path, _items(story, story["license"]))
    res = runner.invoke(cli, ["--home", str(home.path), "run", "commit", str(manifest), "--developer", "Orbit AI",
                              "--model-family", "orbit", "--model", "orbit-1", "--run", run_id,
                              "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["id"] == run_id and out["judged"] == "over_interval"
    shown = runner.invoke(cli, ["--home", str(home.path), "run", "show", run_id])
    assert shown.exit_code == 0 and "licenses judged over the run: started" in shown.stdout
    bad = runner.invoke(cli, ["--home", str(home.path), "run", "commit", str(_manifest(tmp_path, _items(
        story, story["license"]))), "--developer", "Orbit AI", "--model-family", "orbit",
        "--model", "orbit-1", "--run", "run_notarealid"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert len(bad.stderr.strip().splitlines()) == 1


# -- C. "affected by" marks: late facts beside the verdicts already logged --------------------

def _certify(home, ledger, ids, tmp_path, run_id: str, manifest: Path) -> dict:  # noqa: ANN001
    ch = audit_challenge.challenge_run(home, ledger, run_id, 4, ids["auditor"])
    doc = audit_challenge.respond(ledger, ch["challenge"], manifest)
    resp = tmp_path / f"resp-{os.urandom(4).hex()}.json"
    audit_challenge.write_private(resp, doc)
    out = certificates.certify(home, ledger, resp, ids["auditor"], territory="US")
    assert out["result"] == "pass"
    import base64

    out["predicate"] = json.loads(base64.b64decode(out["envelope"]["payload"]))["predicate"]
    return out


def _register_copy(home, ledger, owner: str, sha: str) -> dict:  # noqa: ANN001
    body = {"id": new_id("work"), "kind": "film", "title": "My Film", "owner": owner,
            "assets": [{"sha256": sha, "size": 1000, "media_type": "video/mp4",
                        "category": "video", "duration_ms": 60_000, "name": "copy.mp4"}]}
    return _submit(home, ledger, "work.registered", owner, body).details


def test_c_a_dispute_after_a_certificate_marks_it_and_the_signed_verdict_stands(
        home, ledger, story, tmp_path) -> None:
    out, manifest = _commit(home, ledger, story, tmp_path, story["license"])
    cert = _certify(home, ledger, story, tmp_path, out["id"], manifest)
    sha = story["reels"][0]
    before = certificates.verify_certificate(home, ledger, cert["certificate"])
    assert before["result"] == "pass" and before["affected_by"] == []
    # Another party registers the same bytes: an ownership dispute, logged after the certificate.
    other = _party(home, ledger, "studio", "Copycat Films")
    details = _register_copy(home, ledger, other, sha)
    (d,) = details["disputes"]
    report = certificates.verify_certificate(home, ledger, cert["certificate"])
    assert report["valid"] and report["result"] == "pass"          # as signed
    (mark,) = report["affected_by"]
    assert (mark["subject"], mark["kind"], mark["fact"], mark["asset"], mark["bundle"],
            mark["license"]) == (cert["certificate"], "dispute", d["dispute"], sha,
                                 story["bundle"], story["license"])
    assert mark["statement_type"] == "work.registered" and out["id"] in mark["reason"]
    with ledger.db.read() as conn:
        dispute_index = conn.scalar(select(log_entries.c.idx).order_by(
            log_entries.c.idx.desc()).limit(1))
    assert mark["log_index"] == dispute_index
    # run show carries the run's own mark
    d_run = runs.run_detail(ledger.db, out["id"]).to_json()
    assert [(m["subject"], m["fact"]) for m in d_run["affected_by"]] == [(out["id"],
                                                                          d["dispute"])]
    # check shows the marks beside its (now disputed) verdict, for the asset and the bundle
    with ledger.db.read() as conn:
        ctx = resolve_context(conn, licensee=story["dev"], action="train", model_family="orbit",
                              territory="US")
        v = check(conn, ctx, asset=sha)
        vb = check(conn, ctx, bundle=story["bundle"])
        untouched = check(conn, ctx, asset=story["reels"][1])
    assert not v.allowed and any("disputed" in r for r in v.reasons)
    assert {m["subject"] for m in v.to_json()["affected_by"]} == {out["id"], cert["certificate"]}
    assert {m["subject"] for m in vb.affected_by} == {out["id"], cert["certificate"]}
    assert "affected_by" not in untouched.to_json()
    # the CLI says it too, and exits 0: the certificate is valid as signed
    res = CliRunner().invoke(cli, ["--home", str(home.path), "audit", "verify-cert",
                                   cert["certificate"]])
    assert res.exit_code == 0, res.output
    assert "affected by 1 fact(s) logged after the certificate" in res.stdout


def test_c_a_run_committed_after_the_dispute_is_not_marked(home, ledger, story, tmp_path) -> None:
    other = _party(home, ledger, "studio", "Copycat Films")
    _register_copy(home, ledger, other, story["reels"][0])
    out, _ = _commit(home, ledger, story, tmp_path, story["license"])
    assert runs.run_detail(ledger.db, out["id"]).affected_by == ()
    assert _count(ledger, affected_marks) == 0


def test_c_a_death_dated_before_a_run_that_relied_on_the_consent_marks_it(
        home, ledger, story, tmp_path) -> None:
    jane = _party(home, ledger, "performer", "Jane Roe")
    estate = _party(home, ledger, "studio", "Roe Estate")
    _submit(home, ledger, "consent.granted", jane,
            {**_consent_body(jane, _today()), "post_mortem_representative": estate,
             "model_family": "orbit"})
    out, manifest = _commit(home, ledger, story, tmp_path, story["license"])
    cert = _certify(home, ledger, story, tmp_path, out["id"], manifest)
    # The estate records, after the certificate, a death dated on the run's commit day.
    _submit(home, ledger, "performer.deceased", estate,
            {"performer": jane, "date": _today().isoformat(), "representative": estate})
    report = certificates.verify_certificate(home, ledger, cert["certificate"])
    assert report["result"] == "pass"
    (mark,) = report["affected_by"]
    assert (mark["kind"], mark["fact"]) == ("death", jane) and "R6" in mark["reason"]
    assert [m.kind for m in runs.run_detail(ledger.db, out["id"]).affected_by] == ["death"]


def test_c_marks_are_a_projection_rebuilt_from_the_log(home, ledger, story, tmp_path) -> None:
    from reelrights.replica import verify_projections
    from reelrights.replica.tables import PROJECTION_TABLES

    assert {"run_starts", "run_out_of_force", "affected_marks"} <= set(PROJECTION_TABLES)
    started = runs.start_run(home, ledger, story["dev"], "orbit", [story["license"]])
    licensing.revoke_license(home, ledger, story["license"], "while training")
    out, manifest = _commit(home, ledger, story, tmp_path, story["license"],
                            run_id=started["id"])
    _register_copy(home, ledger, _party(home, ledger, "studio", "Copycat"), story["reels"][0])
    assert _count(ledger, affected_marks) == 1
    report = verify_projections(ledger.db)
    assert report.differences == [], report.differences
    # a deleted mark is noticed
    with ledger.db.write() as conn:
        conn.execute(affected_marks.delete())
    assert any(d.table == "affected_marks" for d in verify_projections(ledger.db).differences)
