"""Attacks on the audit trail, on both backends (issue 9, point 5 and the audit item of 6).

Each test is an attack that succeeded before: media that cannot be scanned passing as licensed,
a verdict chosen by the wording of a reason, a certificate row edited in the database, an
auditor shopping for a sample or dropping one quietly, a response pointing the auditor at
/dev/zero or its own files, and times that are not instants crashing `audit verify`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from fake_works import register_fake_work
from reelrights.cli import cli
from reelrights.core.license_terms import training_agreement
from reelrights.errors import BadInput, Conflict, VerificationError
from reelrights.evidence import audit_challenge, certificates
from reelrights.rights import bundles, licensing
from reelrights.store.evidence_tables import audit_certificates, training_runs
from test_audits import _challenge, _clean_items, _own, _respond, commit_run, story  # noqa: F401


def _cli(home, *args: str):
    return CliRunner().invoke(cli, ["--home", str(home.path), *args])


def _log_size(ledger) -> int:
    with ledger.db.read() as conn:
        return ledger.log.head(conn)[0]


# -- 1. media that cannot be read or scanned ---------------------------------------------------

def test_unreadable_or_unscannable_media_make_the_item_inconclusive_and_the_audit_fail(
        home, ledger, story, tmp_path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    broken = media / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(4000))  # not decodable video
    gone = media / "gone.mp4"
    gone.write_bytes(os.urandom(3000))
    items = [_own(hashlib.sha256(broken.read_bytes()).hexdigest()),
             _own(hashlib.sha256(gone.read_bytes()).hexdigest()), _own()]
    run_id, manifest = commit_run(home, ledger, story["dev"], items, tmp_path)
    ch = _challenge(home, ledger, story, run_id, 3)
    resp = _respond(ledger, tmp_path, ch["challenge"], manifest, media_dir=media)
    gone.unlink()  # the auditor cannot read it any more
    out = certificates.certify(home, ledger, resp, story["auditor"], territory="US")
    assert out["result"] == "fail"
    assert out["counts"]["inconclusive"] == 2 and out["counts"]["licensed"] == 1
    by_index = {f["index"]: f for f in out["findings"]}
    assert by_index[0]["verdict"] == "inconclusive"
    assert any("could not be scanned" in r for r in by_index[0]["reasons"])
    assert by_index[1]["verdict"] == "inconclusive"
    assert any("cannot be read" in r for r in by_index[1]["reasons"])
    # The signed certificate says so, with the reason (and no file name).
    p = json.loads(base64.b64decode(out["envelope"]["payload"]))["predicate"]
    listed = {i["index"]: i["reason"] for i in p["findings"]["inconclusive"]}
    assert set(listed) == {0, 1} and "could not be scanned" in listed[0]
    assert "gone.mp4" not in json.dumps(p) and "broken.mp4" not in json.dumps(p)


# -- 2. verdicts from codes, not from words -------------------------------------------------------

def test_a_reason_that_mentions_consent_does_not_make_a_consent_verdict(home, ledger, story,
                                                                        tmp_path) -> None:
    """The license's policy uid says "consent"; the run is denied for want of a territory.
    Searching the reasons for "consent" called it consent-missing; the codes say not-licensed."""
    film, reels = register_fake_work(home, ledger, story["studio"], "Quiet Harbour", 1)
    bundle = bundles.create_bundle(home, ledger, story["studio"], "Quiet", "1",
                                   [film]).details["id"]
    policy = training_agreement(
        uid="urn:reelrights:policy:no-consent-needed", licensor=story["studio"],
        licensee=story["dev"], bundle=bundle, model_family="orbit", territories=["US"],
        until="2099-12-31", fund_share="2.5")
    lic = licensing.grant_license(home, ledger, bundle, story["dev"], policy).details["id"]
    items = [{"sha256": reels[0], "kind": "video", "units": 60, "unit": "seconds",
              "basis": {"type": "license", "license": lic, "bundle": bundle}}]
    run_id, manifest = commit_run(home, ledger, story["dev"], items, tmp_path)
    ch = _challenge(home, ledger, story, run_id, 1)
    out = certificates.certify(home, ledger, _respond(ledger, tmp_path, ch["challenge"],
                                                      manifest), story["auditor"])  # no territory
    [f] = out["findings"]
    assert any("consent" in r for r in f["reasons"])  # the words are there...
    # ... but they decide nothing:
    assert f["verdict"] == "not-licensed" and out["counts"]["consent-missing"] == 0
    from reelrights.evidence.audit_types import Reason, verdict_of

    assert verdict_of({Reason.NOTED, Reason.LICENSED}) is Reason.LICENSED
    assert verdict_of({Reason.LICENSED, Reason.INCONCLUSIVE}) is Reason.INCONCLUSIVE
    assert verdict_of({Reason.INCONCLUSIVE, Reason.REVOKED}) is Reason.REVOKED
    assert verdict_of(set()) is Reason.NOT_LICENSED


def test_a_license_revoked_before_the_commitment_is_typed_revoked(home, ledger, story,
                                                                   tmp_path) -> None:
    licensing.revoke_license(home, ledger, story["license"], "breach of contract")
    run_id, manifest = commit_run(home, ledger, story["dev"], _clean_items(story, 0), tmp_path)
    ch = _challenge(home, ledger, story, run_id, 3)
    out = certificates.certify(home, ledger, _respond(ledger, tmp_path, ch["challenge"],
                                                      manifest), story["auditor"], territory="US")
    assert out["result"] == "fail" and out["counts"]["revoked"] == 3
    assert all(f["codes"][0] == "revoked" for f in out["findings"])


# -- 3. the certificate's verdict is the signed one ------------------------------------------------

def test_verify_cert_decides_from_the_signed_certificate_not_the_row(home, ledger, story,
                                                                      tmp_path) -> None:
    secret = story["secret_reels"][0]
    run_id, manifest = commit_run(home, ledger, story["dev"], _clean_items(story, 2), tmp_path)
    ch = _challenge(home, ledger, story, run_id, 5)
    good = certificates.certify(home, ledger, _respond(ledger, tmp_path, ch["challenge"],
                                                       manifest), story["auditor"],
                                territory="US")
    bad_run, bad_manifest = commit_run(home, ledger, story["dev"], [_own(secret)], tmp_path)
    ch2 = _challenge(home, ledger, story, bad_run, 1)
    bad = certificates.certify(home, ledger, _respond(ledger, tmp_path, ch2["challenge"],
                                                      bad_manifest, name="r2.json"),
                               story["auditor"], territory="US")
    assert good["result"] == "pass" and bad["result"] == "fail"
    with ledger.db.write() as conn:  # the attacker edits the projection rows
        conn.execute(update(audit_certificates)
                     .where(audit_certificates.c.id == bad["certificate"])
                     .values(result="pass", not_after="2999-01-01T00:00:00Z"))
        conn.execute(update(audit_certificates)
                     .where(audit_certificates.c.id == good["certificate"])
                     .values(result="fail", not_before="2999-01-01T00:00:00Z",
                             not_after="2999-01-02T00:00:00Z"))
    with pytest.raises(VerificationError, match="signed result is fail"):
        certificates.verify_certificate(home, ledger, bad["certificate"])
    report = certificates.verify_certificate(home, ledger, good["certificate"])
    assert report["valid"] and report["result"] == "pass"
    assert set(report["registry_row_differs"]) == {"result", "not_before", "not_after"}
    r = _cli(home, "audit", "verify-cert", bad["certificate"])
    assert r.exit_code == 1 and r.output.count("\n") == 1 and "signed result is fail" in r.output
    r = _cli(home, "audit", "verify-cert", good["certificate"])
    assert r.exit_code == 0 and "differs from the signed certificate" in r.output


def test_a_later_failing_certificate_supersedes_even_when_its_row_says_pass(
        home, ledger, story, tmp_path) -> None:
    items = _clean_items(story, 6) + [_own(story["secret_reels"][1])]
    run_id, manifest = commit_run(home, ledger, story["dev"], items, tmp_path)
    ch = _challenge(home, ledger, story, run_id, 10)
    ok = certificates.certify(home, ledger, _respond(ledger, tmp_path, ch["challenge"], manifest,
                                                     full=True), story["auditor"],
                              max_unlicensed_share="0.2", territory="US")
    ch2 = _challenge(home, ledger, story, run_id, 10, auditor="auditor2")
    bad = certificates.certify(home, ledger, _respond(ledger, tmp_path, ch2["challenge"],
                                                      manifest, name="r2.json", full=True),
                               story["auditor2"], territory="US")
    with ledger.db.write() as conn:
        conn.execute(update(audit_certificates).where(audit_certificates.c.id == bad["certificate"])
                     .values(result="pass"))
    with pytest.raises(VerificationError, match=f"superseded by the later failing certificate "
                                                f"{bad['certificate']}"):
        certificates.verify_certificate(home, ledger, ok["certificate"])


# -- 4. the seed is the log's, after the challenge ------------------------------------------

def test_the_challenge_names_no_checkpoint_and_a_batch_around_it_does_not_matter(
        home, ledger, story, tmp_path) -> None:
    """The challenge is logged in a batch with other entries after it: its seed comes from the
    checkpoint that ends the batch (the first past its index). No race to lose."""
    from reelrights.core.ids import new_id
    from reelrights.registry.submit import submit_as

    run_id, _ = commit_run(home, ledger, story["dev"], _clean_items(story, 50), tmp_path)
    body = {"id": new_id("challenge"), "run": run_id, "auditor": story["auditor"],
            "samples": 5}
    receipt = submit_as(home, ledger, "audit.challenged", story["auditor"], body)
    register_fake_work(home, ledger, story["studio"], "Appended after", 1)  # the log moves on
    with ledger.db.read() as conn:
        ch = audit_challenge.load_challenge(conn, ledger.log, body["id"])
        first_after = min(s for s in ledger.log.checkpoint_sizes(conn) if s > receipt.index)
    assert ch.rule == "v2" and ch.checkpoint[1] == first_after == receipt.index + 1
    again = ch.indices()
    register_fake_work(home, ledger, story["studio"], "Appended later", 1)
    with ledger.db.read() as conn:
        assert audit_challenge.load_challenge(conn, ledger.log, body["id"]).indices() == again


# -- 5. one open challenge per auditor and run; a withdrawal is a failed audit -------------------

def test_one_open_challenge_per_auditor_and_run_and_withdrawal_is_a_failed_audit(
        home, ledger, story, tmp_path) -> None:
    from reelrights.evidence.audit_status import run_audits, withdraw_challenge

    run_id, manifest = commit_run(home, ledger, story["dev"], _clean_items(story), tmp_path)
    first = _challenge(home, ledger, story, run_id, 4)
    ok = certificates.certify(home, ledger, _respond(ledger, tmp_path, first["challenge"],
                                                     manifest), story["auditor"], territory="US")
    assert certificates.verify_certificate(home, ledger, ok["certificate"])["valid"]
    ch = _challenge(home, ledger, story, run_id, 4)  # closed by its certificate: a new one is fine
    size = _log_size(ledger)
    r = _cli(home, "audit", "challenge", run_id, "--samples", "4", "--auditor", story["auditor"])
    assert r.exit_code == 2 and r.output.count("\n") == 1 and ch["challenge"] in r.output, r.output
    assert _log_size(ledger) == size
    # The auditor dislikes the sample and withdraws: logged, and a FAILED audit.
    r = _cli(home, "audit", "withdraw", ch["challenge"], "--reason", "sample looked bad",
             "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["id"] == ch["challenge"]
    with ledger.db.read() as conn:
        audits = run_audits(conn, ledger.log, run_id)
    assert audits["failed"] == 1 and audits["passed"] == 1 and audits["open"] == 0
    assert [a["status"] for a in audits["audits"]] == ["certified", "withdrawn"]
    r = _cli(home, "audit", "show", run_id)
    assert r.exit_code == 0 and "WITHDRAWN (failed audit): sample looked bad" in r.output
    r = _cli(home, "run", "show", run_id)
    assert r.exit_code == 0 and "WITHDRAWN, a failed audit: sample looked bad" in r.output
    # It supersedes the earlier passing certificate, like a failing certificate would.
    with pytest.raises(VerificationError, match="withdrawn .failed. challenge"):
        certificates.verify_certificate(home, ledger, ok["certificate"])
    # Closed: it can be neither certified nor withdrawn again.
    resp = _respond(ledger, tmp_path, ch["challenge"], manifest, name="late.json")
    with pytest.raises(Conflict, match="withdrawn at log index"):
        certificates.certify(home, ledger, resp, story["auditor"], territory="US")
    with pytest.raises(Conflict, match="already withdrawn"):
        withdraw_challenge(home, ledger, ch["challenge"], "again")
    r = _cli(home, "audit", "withdraw", first["challenge"], "--reason", "x")
    assert r.exit_code == 2 and "is closed" in r.output
    # Only its auditor may withdraw a challenge.
    other = _challenge(home, ledger, story, run_id, 4, auditor="auditor2")
    from reelrights.core.statements import sign_statement

    body = {"challenge": other["challenge"], "run": run_id, "auditor": story["auditor"],
            "reason": "not mine"}
    with pytest.raises(Exception, match="only that auditor may withdraw"):
        ledger.submit([sign_statement(ledger.new_statement("audit.withdrawn", story["auditor"], body),
                                      home.party_key(story["auditor"]))])


# -- 6. media confined to the response's folder --------------------------------------------------

@pytest.mark.parametrize("attack", ["absolute", "dotdot", "symlink-out", "fifo", "dev-zero"])
def test_response_media_outside_the_folder_or_not_regular_are_refused(
        home, ledger, story, tmp_path, attack, monkeypatch) -> None:
    """Before, the auditor opened whatever path the response named (a relative one from its
    own working folder): its own files, or /dev/zero and FIFOs, on which it hung."""
    media = tmp_path / "media"
    media.mkdir()
    clip = media / "clip.bin"
    clip.write_bytes(b"orbit's own footage" * 100)
    secret = tmp_path / "auditor-secret.txt"
    secret.write_text("the auditor's private notes")
    run_id, manifest = commit_run(home, ledger, story["dev"],
                                  [_own(hashlib.sha256(clip.read_bytes()).hexdigest())], tmp_path)
    ch = _challenge(home, ledger, story, run_id, 1)
    resp = _respond(ledger, tmp_path, ch["challenge"], manifest, media_dir=media)
    doc = json.loads(resp.read_text())
    if attack == "absolute":
        name = str(secret)
    elif attack == "dotdot":
        name = "../auditor-secret.txt"
    elif attack == "symlink-out":
        (media / "innocent.bin").symlink_to(secret)
        name = "innocent.bin"
    elif attack == "fifo":
        os.mkfifo(media / "pipe.bin")
        name = "pipe.bin"
    else:
        (media / "zero.bin").symlink_to("/dev/zero")
        name = "zero.bin"
    doc["items"][0]["media"] = name
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(doc))
    size = _log_size(ledger)
    monkeypatch.chdir(media)  # where an auditor would look at the developer's files
    r = _cli(home, "audit", "verify", str(hostile), "--auditor", story["auditor"],
             "-o", str(tmp_path / "c.json"))
    assert r.exit_code == 2, r.output
    assert r.output.startswith("error: ") and r.output.count("\n") == 1 and name in r.output
    assert _log_size(ledger) == size and not (tmp_path / "c.json").exists()
    with ledger.db.read() as conn:
        assert conn.execute(audit_certificates.select()).all() == []
    if attack == "absolute":  # /dev/zero named outright
        doc["items"][0]["media"] = "/dev/zero"
        hostile.write_text(json.dumps(doc))
        with pytest.raises(BadInput, match="absolute path"):
            certificates.certify(home, ledger, hostile, story["auditor"])


# -- 7. times that are not instants --------------------------------------------------------------

def test_times_that_are_not_instants_give_one_line_not_a_traceback(home, ledger, story,
                                                                    tmp_path) -> None:
    run_id, manifest = commit_run(home, ledger, story["dev"], _clean_items(story), tmp_path)
    ch = _challenge(home, ledger, story, run_id, 3)
    resp = _respond(ledger, tmp_path, ch["challenge"], manifest)
    with ledger.db.write() as conn:
        conn.execute(update(training_runs).where(training_runs.c.id == run_id)
                     .values(committed_at="2026-99-99T99:99:99Z"))
    r = _cli(home, "audit", "verify", str(resp), "--auditor", story["auditor"])
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "not a real" in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    # A certificate whose signed validity is not an instant: exit 1, one line.
    from reelrights.core.dsse import sign_envelope

    with ledger.db.write() as conn:
        conn.execute(update(training_runs).where(training_runs.c.id == run_id)
                     .values(committed_at="2026-01-01T00:00:00Z"))
    out = certificates.certify(home, ledger, resp, story["auditor"], territory="US")
    stmt = json.loads(base64.b64decode(out["envelope"]["payload"]))
    stmt["predicate"]["validity"]["notAfter"] = "2026-99-99T99:99:99Z"
    forged = sign_envelope(out["envelope"]["payloadType"], json.dumps(stmt).encode(),
                           home.party_key(story["auditor"])).to_json()
    path = tmp_path / "odd-time.json"
    path.write_text(json.dumps(forged))
    r = _cli(home, "audit", "verify-cert", str(path))
    assert r.exit_code == 1 and r.output.count("\n") == 1 and "notAfter" in r.output, r.output
    # The registry refuses to log such a time in the statement body.
    from reelrights.catalogue import check_body
    from reelrights.errors import InvalidStatement

    body = {"id": "crt_" + "a" * 16, "run": run_id, "challenge": ch["challenge"],
            "auditor": story["auditor"], "result": "pass", "not_before": "2026-01-01T00:00:00Z",
            "not_after": "2026-99-99T99:99:99Z", "envelope": forged}
    with pytest.raises(InvalidStatement, match="not a real instant"):
        check_body("audit.certified", 1, body, story["auditor"])


def test_migration_0009_keeps_challenges_that_certificates_reference(tmp_path: Path) -> None:
    """SQLite: making the checkpoint columns nullable must not trip the certificates' foreign
    keys (a table rebuild would), and the rows stay."""
    from alembic import command
    from sqlalchemy import create_engine, event

    from reelrights.store.db import alembic_config

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    event.listen(engine, "connect", lambda c, _: c.execute("PRAGMA foreign_keys=ON"))
    with engine.connect() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
        x = conn.exec_driver_sql
        x("INSERT INTO parties VALUES ('pty_a', 'auditor', 'A', x'00', 'k', 0, 't')")
        x("INSERT INTO training_runs (id, developer_id, model_family, model, root, count, "
          "totals, log_index, committed_at) VALUES ('run_a', 'pty_a', 'f', 'm', 'r', 1, '{}', 1, "
          "'t')")
        x("INSERT INTO audit_challenges VALUES ('chl_a', 'run_a', 'pty_a', 1, 'o', 2, 'r', 2, "
          "'t')")
        x("INSERT INTO audit_certificates VALUES ('crt_a', 'run_a', 'chl_a', 'pty_a', 'pass', "
          "'a', 'b', 3, 't')")
        conn.commit()
        command.upgrade(cfg, "0009")
        conn.commit()
        x("INSERT INTO audit_challenges (id, run_id, auditor_id, samples, log_index, "
          "challenged_at) VALUES ('chl_b', 'run_a', 'pty_a', 1, 4, 't')")
        assert x("SELECT COUNT(*) FROM audit_certificates").scalar() == 1
        assert x("PRAGMA foreign_key_check").all() == []
        assert x("PRAGMA integrity_check").scalar() == "ok"
        conn.commit()
    engine.dispose()
