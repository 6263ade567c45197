"""Audit challenge seeds take a real witness's cosignature (issue 14): a log server with a
``reelrights witness serve`` on 127.0.0.1 logs the challenge, the witness cosigns the checkpoint
after it, and the developer's response and the auditor's certificate both take that cosignature
(rule v3). The certificate records the seed and the notes it came from; an offline verifier
with the log key and the witness's key re-derives it; without the witness's key, with a changed
seed, a dropped or forged cosignature, it fails. Both backends (the root ``home`` fixtures)."""

from __future__ import annotations

import base64
import json
import sys
import time
from pathlib import Path

import httpx
import pytest
from service_kit import start_server
from witness_kit import start_witness

from reelrights.core import audit_seed
from reelrights.core.cosignature import open_cosigned
from reelrights.core.ids import new_id
from reelrights.core.note import CosignatureSigner
from reelrights.core.statements import make_statement, sign_statement
from reelrights.errors import VerificationError
from reelrights.evidence import audit_challenge, certificates
from reelrights.ledger import Ledger
from reelrights.proofs import issue_proof
from reelrights.verify import LogTrust, Verifier
from reelrights.verify.artifacts import verify_certificate
from reelrights.verify.seeds import verify_challenge_seed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_audits import _clean_items, commit_run, story  # noqa: E402, F401

WINDOW_S = 4  # the rule's window, shortened for the test (60 s in force)


def test_a_witness_cosignature_joins_the_seed_and_the_certificate_records_it(
        home, ledger, story, tmp_path, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setattr(audit_seed, "WITNESS_WINDOW_S", WINDOW_S)
    monkeypatch.setattr(audit_challenge, "WITNESS_WINDOW_S", WINDOW_S)
    run_id, manifest = commit_run(home, ledger, story["dev"], _clean_items(story), tmp_path)
    ledger.close()
    vkey = home.log_vkey()
    w = start_witness(tmp_path / "w0", [vkey], name="witness.example/w0")
    try:
        srv = start_server(home, options=("--witness", f"{w.url}={w.vkey}"),
                           config={"witness_interval_s": 0.2, "witness_refresh_s": 2.0})
        try:
            body = {"id": new_id("challenge"), "run": run_id, "auditor": story["auditor"],
                    "samples": 5}
            entry = sign_statement(make_statement("audit.challenged", story["auditor"], body,
                                                  registry=home.registry),
                                   home.party_key(story["auditor"]))
            r = srv.post(entry)
            assert r.status_code == 200, r.text
            index = r.json()["receipts"][0]["index"]
            deadline = time.monotonic() + 30
            while True:  # the witness cosigns the checkpoint that holds the challenge
                note = httpx.get(srv.url + "/checkpoint").content
                got = open_cosigned(note, vkey, [w.vkey])
                if got.checkpoint.size > index and got.cosignatures:
                    break
                assert time.monotonic() < deadline, note
                time.sleep(0.1)
        finally:
            srv.stop()
    finally:
        w.stop()
    time.sleep(WINDOW_S + 1)  # the window closes: the set of cosignatures is fixed
    ledger2 = Ledger.open(home)
    try:
        witnessed = audit_challenge.witnessed_history(home.path, vkey)
        assert witnessed and all(c.witness == w.vkey for h in witnessed
                                 for c in h.cosignatures)
        with ledger2.db.read() as conn:
            ch = audit_challenge.load_challenge(conn, ledger2.log, body["id"], witnessed)
            log_only = audit_challenge.load_challenge(conn, ledger2.log, body["id"])
        assert ch.rule == "v3" and len(ch.cosignatures) == 1 and ch.seed != log_only.seed
        assert log_only.rule == "v2"  # no witnesses given: the log-only seed (the fallback)
        doc = audit_challenge.respond(ledger2, body["id"], manifest, witnessed=witnessed)
        assert sorted(i["index"] for i in doc["items"]) == ch.indices()
        resp = tmp_path / "resp.json"
        audit_challenge.write_private(resp, doc)
        out = certificates.certify(home, ledger2, resp, story["auditor"], territory="US")
        assert out["result"] == "pass"
        predicate = json.loads(base64.b64decode(out["envelope"]["payload"]))["predicate"]
        recorded = predicate["challenge"]
        assert recorded["seed_rule"] == "v3" and recorded["seed"]["seed"] == ch.seed.hex()
        assert len(recorded["seed"]["notes"]) == 2  # the log's note, then the cosigned one
        proof = issue_proof(ledger2, out["log_index"])
    finally:
        ledger2.close()
    # Offline: the log key and the witness's key re-derive the seed.
    vp = Verifier(LogTrust(vkey, [w.vkey])).verify(proof)
    checks = verify_certificate(vp)
    assert any("seed re-derived" in c and "1 witness cosignature" in c for c in checks), checks
    # Without the witness's key its cosignature cannot be checked.
    with pytest.raises(VerificationError, match="give the witnesses' keys"):
        verify_certificate(Verifier(LogTrust(vkey)).verify(proof))
    # A changed seed, a dropped cosigned note, a forged cosignature line: each fails.
    changed = {**recorded, "seed": {**recorded["seed"], "seed": "00" * 32}}
    dropped = {**recorded, "seed": {**recorded["seed"], "notes": recorded["seed"]["notes"][:1]}}
    forger = CosignatureSigner("witness.example/w0", b"\x07" * 32)
    cosigned = recorded["seed"]["notes"][1]
    text = cosigned[: cosigned.rfind("\n\n") + 1]
    log_line = cosigned[cosigned.rfind("\n\n") + 2:].splitlines(keepends=True)[0]
    forged_note = text + "\n" + log_line + forger.sign(text, int(time.time()))
    forged = {**recorded, "seed": {**recorded["seed"],
                                   "notes": [recorded["seed"]["notes"][0], forged_note]}}
    for bad, why in [(changed, "is not the one its public material gives"),
                     (dropped, "is not the one its public material gives"),
                     (forged, "witness whose key was not given")]:
        with pytest.raises(VerificationError, match=why):
            verify_challenge_seed(vp, bad, predicate["sample_size"])
