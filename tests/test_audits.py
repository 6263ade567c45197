"""Sampled and full audits of training runs, with DSSE/in-toto certificates, on both backends.

The story: Northlight licenses its "Catalog" bundle (one film, three reels) to Orbit AI for
model family "orbit". Orbit commits a training run whose manifest holds the three licensed
reels and its own unregistered clips; a second run also slips in reels of Northlight's
unlicensed film, claimed as Orbit's own. An independent auditor challenges each run against
the latest checkpoint, Orbit opens the sampled items, and the auditor certifies.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from fake_works import register_fake_work
from reelrights.cli import cli
from reelrights.core.commitment import canonical_item
from reelrights.core.ids import new_id
from reelrights.core.license_terms import training_agreement
from reelrights.core.sampling import challenge_indices, sample_indices
from reelrights.core.statements import sign_statement
from reelrights.errors import BadInput, Conflict, ProofError, SignatureError, VerificationError
from reelrights.evidence import audit_challenge, certificates, runs
from reelrights.registry.credits import credit_work
from reelrights.registry.parties import register_party
from reelrights.registry.works import register_work
from reelrights.rights import bundles, licensing
from reelrights.store.evidence_tables import audit_challenges, training_runs


def commit_run(home, ledger, developer: str, items: list[dict], tmp_path: Path,
               model: str = "orbit-1") -> tuple[str, Path]:
    """Write a manifest and commit it with the runs service (the opening file lands next to
    it); return the run id and the manifest path."""
    manifest = tmp_path / f"manifest-{os.urandom(4).hex()}.jsonl"
    manifest.write_bytes(b"".join(canonical_item(it) + b"\n" for it in items))
    out = runs.commit_run(home, ledger, manifest, developer, "orbit", model)
    return out["id"], manifest


@pytest.fixture
def story(home, ledger):
    ids: dict = {}
    for label, kind, name in [("studio", "studio", "Northlight"), ("dev", "developer", "Orbit AI"),
                              ("auditor", "auditor", "Fair Audit LLP"),
                              ("auditor2", "auditor", "Other Audit")]:
        ids[label] = register_party(home, ledger, kind, name).details["id"]
    ids["film"], ids["reels"] = register_fake_work(home, ledger, ids["studio"], "Harbour Lights", 3)
    ids["secret"], ids["secret_reels"] = register_fake_work(home, ledger, ids["studio"], "Unlicensed Film", 2)
    ids["bundle"] = bundles.create_bundle(home, ledger, ids["studio"], "Catalog", "1",
                                          [ids["film"]]).details["id"]
    policy = training_agreement(
        uid="urn:reelrights:policy:audit-1", licensor=ids["studio"], licensee=ids["dev"],
        bundle=ids["bundle"], model_family="orbit", territories=["US"], until="2099-12-31",
        fund_share="2.5")
    ids["license"] = licensing.grant_license(home, ledger, ids["bundle"], ids["dev"],
                                             policy).details["id"]
    return ids


def _licensed(story, sha: str) -> dict:
    return {"sha256": sha, "kind": "video", "units": 60, "unit": "seconds",
            "basis": {"type": "license", "license": story["license"], "bundle": story["bundle"]}}


def _own(sha: str | None = None) -> dict:
    return {"sha256": sha or hashlib.sha256(os.urandom(8)).hexdigest(), "kind": "video",
            "units": 30, "unit": "seconds", "basis": {"type": "own"}}


def _clean_items(story, n_own: int = 17) -> list[dict]:
    return [_licensed(story, s) for s in story["reels"]] + [_own() for _ in range(n_own)]


def _challenge(home, ledger, story, run_id: str, k: int, auditor: str = "auditor") -> dict:
    return audit_challenge.challenge_run(home, ledger, run_id, k, story[auditor])


def _respond(ledger, tmp_path: Path, challenge: str, manifest: Path, name: str = "resp.json",
             **kw) -> Path:
    doc = audit_challenge.respond(ledger, challenge, manifest, **kw)
    out = tmp_path / name
    audit_challenge.write_private(out, doc)
    return out


# ---------------------------------------------------------------------------------------------

def test_clean_sampled_run_passes_with_the_right_bound(home, ledger, story, tmp_path) -> None:
    run_id, manifest = commit_run(home, ledger, story["dev"], _clean_items(story), tmp_path)
    ch = _challenge(home, ledger, story, run_id, 8)
    assert ch["method"] == "sampled" and len(ch["indices"]) == 8
    resp = _respond(ledger, tmp_path, ch["challenge"], manifest)
    assert oct(resp.stat().st_mode & 0o777) == "0o600"
    doc = json.loads(resp.read_text())
    assert sorted(i["index"] for i in doc["items"]) == ch["indices"]
    out = certificates.certify(home, ledger, resp, story["auditor"], territory="US")
    assert out["result"] == "pass"
    assert out["counts"]["licensed"] == 8 and out["bound"]["failures"] == 0
    assert float(out["bound"]["upper"]) == pytest.approx(1 - 0.05 ** (1 / 8), rel=1e-5)
    stmt = json.loads(base64.b64decode(out["envelope"]["payload"]))
    assert stmt["_type"] == "https://in-toto.io/Statement/v1"
    assert stmt["predicateType"] == certificates.PREDICATE_TYPE
    with ledger.db.read() as conn:
        run = conn.execute(training_runs.select().where(training_runs.c.id == run_id)).one()
    assert stmt["subject"] == [{"name": run_id, "digest": {"sha256": run.root}}]
    p = stmt["predicate"]
    assert p["scope"] == {"developer": story["dev"], "model_family": "orbit", "model": "orbit-1",
                          "territory": "US"}
    assert p["challenge"]["id"] == ch["challenge"] and p["sample_size"] == 8
    # Anyone can verify it: by id and from the distributed file.
    assert certificates.verify_certificate(home, ledger, out["certificate"])["valid"]
    cert_file = tmp_path / "cert.intoto.json"
    certificates.write_certificate(cert_file, out["envelope"])
    report = certificates.verify_certificate(home, ledger, str(cert_file))
    assert any("inclusion proof verifies" in c for c in report["checks"])


def test_indices_reproduce_from_the_challenge_leaf_and_the_next_checkpoint_signature(
        home, ledger, story, tmp_path) -> None:
    """Anyone re-derives the sample from the log alone: SHA-256(leaf hash || the log's Ed25519
    signature on the first checkpoint past the challenge), then the shuffle of core.sampling."""
    run_id, _ = commit_run(home, ledger, story["dev"], _clean_items(story, 200), tmp_path)
    first = _challenge(home, ledger, story, run_id, 10)
    second = _challenge(home, ledger, story, run_id, 10, auditor="auditor2")
    with ledger.db.read() as conn:
        row = conn.execute(audit_challenges.select()
                           .where(audit_challenges.c.id == first["challenge"])).one()
        entry = json.loads(ledger.log.entry(conn, row.log_index))
        leaf = ledger.log.leaf_hash(conn, row.log_index)
        size = min(s for s in ledger.log.checkpoint_sizes(conn) if s > row.log_index)
        note = ledger.log.checkpoint(conn, size).decode()
    assert "checkpoint" not in entry["entry"]["statement"]["body"]  # the challenge names none
    line = note.rsplit("\n\n", 1)[1].splitlines()[0]     # "— <origin> base64(keyid || sig)"
    sig = base64.b64decode(line.split(" ")[2])[4:]
    assert len(sig) == 64
    seed = hashlib.sha256(leaf + sig).digest()
    assert first["seed"] == seed.hex()
    assert sorted(sample_indices(seed, 203, 10)) == first["indices"]
    assert first["checkpoint"]["size"] == size
    assert second["indices"] != first["indices"]


def test_a_v1_challenge_naming_a_checkpoint_keeps_its_old_rule(home, ledger, story,
                                                               tmp_path) -> None:
    """Logs from before the seed rule hold challenges that named the latest checkpoint: they
    are still read under that rule (and refused once the log runs v2 statements)."""
    from reelrights.store.tables import log_head

    with ledger.db.read() as conn:
        old_size, old_root = ledger.log.head(conn)
    run_id, _ = commit_run(home, ledger, story["dev"], _clean_items(story), tmp_path)

    def submit(size: int, root: bytes, auditor: str = "auditor"):
        body = {"id": new_id("challenge"), "run": run_id, "auditor": story[auditor],
                "samples": 3, "checkpoint": {"origin": ledger.log.origin, "size": size,
                                             "root": root.hex()}}
        ledger.submit([sign_statement(ledger.new_statement("audit.challenged", story[auditor], body),
                                      home.party_key(story[auditor]))])
        return body["id"]

    with ledger.db.read() as conn:
        v2 = conn.execute(log_head.select()).one()._mapping.get("v2_from") is not None
    if v2:
        with pytest.raises(BadInput, match="names no checkpoint"):
            submit(old_size, old_root)
        return
    with pytest.raises(Conflict, match="before the run's commitment"):
        submit(old_size, old_root)
    with ledger.db.read() as conn:
        size, root = ledger.log.head(conn)
    ch = submit(size, root)
    with pytest.raises(Conflict, match="not the latest"):
        submit(size, root, "auditor2")
    with pytest.raises(Conflict, match="issued no checkpoint"):
        submit(size + 2, bytes(32), "auditor2")
    with ledger.db.read() as conn:
        assert conn.execute(audit_challenges.select()).all().__len__() == 1
        loaded = audit_challenge.load_challenge(conn, ledger.log, ch)
        run = conn.execute(training_runs.select().where(training_runs.c.id == run_id)).one()
    assert loaded.rule == "v1"
    assert loaded.indices() == challenge_indices(run_id, bytes.fromhex(run.root), run.count,
                                                 ledger.log.origin, size, root, 3)


def test_forged_salt_item_or_proof_fails_the_audit(home, ledger, story, tmp_path) -> None:
    run_id, manifest = commit_run(home, ledger, story["dev"], _clean_items(story), tmp_path)
    ch = _challenge(home, ledger, story, run_id, 5)
    good = json.loads(_respond(ledger, tmp_path, ch["challenge"], manifest).read_text())

    def forged(name: str, change) -> Path:
        doc = json.loads(json.dumps(good))
        change(doc["items"][0])
        path = tmp_path / name
        path.write_text(json.dumps(doc))
        return path

    def flip_salt(e):
        e["salt"] = ("00" if e["salt"][:2] != "00" else "11") + e["salt"][2:]

    def swap_item(e):
        e["item"] = _own(e["item"]["sha256"]) if e["item"]["basis"]["type"] != "own" else \
            _licensed(story, story["reels"][0])

    def bad_proof(e):
        e["proof"][0] = "00" * 32

    for name, change in [("salt.json", flip_salt), ("item.json", swap_item),
                         ("proof.json", bad_proof)]:
        with pytest.raises(ProofError, match="no certificate"):
            certificates.certify(home, ledger, forged(name, change), story["auditor"],
                                 territory="US")
    # Other indices than the challenge's are refused.
    doc = json.loads(json.dumps(good))
    doc["items"][0]["index"] = next(i for i in range(20) if i not in ch["indices"])
    (tmp_path / "idx.json").write_text(json.dumps(doc))
    with pytest.raises(BadInput, match="other items than challenge"):
        certificates.certify(home, ledger, tmp_path / "idx.json", story["auditor"],
                             territory="US")
    with ledger.db.read() as conn:
        assert conn.execute(certificates.audit_certificates.select()).all() == []
    # The untouched response still passes.
    assert certificates.certify(home, ledger, tmp_path / "resp.json",
                                story["auditor"], territory="US")["result"] == "pass"


def test_an_unlicensed_item_in_the_sample_is_found_and_the_certificate_fails(
        home, ledger, story, tmp_path) -> None:
    secret = story["secret_reels"][0]
    items = _clean_items(story, 2) + [_own(secret) for _ in range(5)]  # 10 items, 5 bad
    run_id, manifest = commit_run(home, ledger, story["dev"], items, tmp_path)
    ch = _challenge(home, ledger, story, run_id, 8)  # at least 3 of the 5 are sampled
    resp = _respond(ledger, tmp_path, ch["challenge"], manifest)
    out = certificates.certify(home, ledger, resp, story["auditor"], territory="US")
    assert out["result"] == "fail"
    bad = [f for f in out["findings"] if f["verdict"] != "licensed"]
    assert len(bad) >= 3 and all(f["sha256"] == secret for f in bad), [f["reasons"] for f in bad]
    assert all(f["verdict"] == "not-licensed" for f in bad)
    assert any(story["studio"] in r for r in bad[0]["reasons"])
    assert out["counts"]["not-licensed"] == len(bad)
    with pytest.raises(VerificationError, match="result is fail"):
        certificates.verify_certificate(home, ledger, out["certificate"])


def test_expiry_and_a_later_failing_certificate_supersede(home, ledger, story, tmp_path) -> None:
    # One item in ten is a reel of the unlicensed film. A lenient criterion passes it...
    items = _clean_items(story, 6) + [_own(story["secret_reels"][1])]
    run_id, manifest = commit_run(home, ledger, story["dev"], items, tmp_path)
    ch = _challenge(home, ledger, story, run_id, 10)
    assert ch["method"] == "full"
    resp = _respond(ledger, tmp_path, ch["challenge"], manifest, full=True)
    ok = certificates.certify(home, ledger, resp, story["auditor"], valid_days=30,
                              max_unlicensed_share="0.2", territory="US")
    assert ok["result"] == "pass" and ok["bound"]["upper"] == "0.1"
    assert certificates.verify_certificate(home, ledger, ok["certificate"])["valid"]
    later = datetime.now(UTC) + timedelta(days=31)
    with pytest.raises(VerificationError, match="valid from"):
        certificates.verify_certificate(home, ledger, ok["certificate"], now=later)
    # ... a second auditor with the default criterion (zero findings) fails the run, and
    # that later failing certificate supersedes the first.
    ch2 = _challenge(home, ledger, story, run_id, 10, auditor="auditor2")
    resp2 = _respond(ledger, tmp_path, ch2["challenge"], manifest, name="r2.json", full=True)
    bad = certificates.certify(home, ledger, resp2, story["auditor2"], territory="US")
    assert bad["result"] == "fail" and bad["counts"]["not-licensed"] == 1
    with pytest.raises(VerificationError, match=f"superseded by the later failing certificate "
                                                f"{bad['certificate']}"):
        certificates.verify_certificate(home, ledger, ok["certificate"])


def test_a_license_revoked_after_the_commitment_still_covers_the_run(home, ledger, story,
                                                                      tmp_path) -> None:
    run_id, manifest = commit_run(home, ledger, story["dev"], _clean_items(story, 0), tmp_path)
    licensing.revoke_license(home, ledger, story["license"], "breach of contract")
    ch = _challenge(home, ledger, story, run_id, 3)
    out = certificates.certify(home, ledger, _respond(ledger, tmp_path, ch["challenge"],
                                                      manifest), story["auditor"],
                               territory="US")
    assert out["result"] == "pass" and out["counts"]["licensed"] == 3
    # Without the territory the US-only license does not allow it: found, not waved through.
    ch = _challenge(home, ledger, story, run_id, 3)
    out = certificates.certify(home, ledger, _respond(ledger, tmp_path, ch["challenge"],
                                                      manifest, name="r2.json"),
                               story["auditor"])
    assert out["result"] == "fail" and out["counts"]["not-licensed"] == 3


def test_verify_cert_catches_tampering_and_unknown_signers(home, ledger, story, tmp_path) -> None:
    run_id, manifest = commit_run(home, ledger, story["dev"], _clean_items(story), tmp_path)
    ch = _challenge(home, ledger, story, run_id, 4)
    out = certificates.certify(home, ledger, _respond(ledger, tmp_path, ch["challenge"],
                                                      manifest), story["auditor"], territory="US")
    env = out["envelope"]
    stmt = json.loads(base64.b64decode(env["payload"]))
    stmt["predicate"]["sample_size"] = 4000
    tampered = dict(env, payload=base64.b64encode(json.dumps(stmt).encode()).decode())
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(tampered))
    with pytest.raises(SignatureError, match="does not verify"):
        certificates.verify_certificate(home, ledger, str(path))
    # Re-signed by a key that is not the named auditor's.
    from reelrights.core.dsse import sign_envelope
    from reelrights.keys import PartyKey

    forged = sign_envelope(env["payloadType"], base64.b64decode(env["payload"]),
                           PartyKey.generate()).to_json()
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    with pytest.raises(SignatureError):
        certificates.verify_certificate(home, ledger, str(tmp_path / "forged.json"))
    # Naming a signer that is no registered auditor.
    stmt = json.loads(base64.b64decode(env["payload"]))
    stmt["predicate"]["auditor"] = story["dev"]
    odd = sign_envelope(env["payloadType"], json.dumps(stmt).encode(),
                        home.party_key(story["dev"])).to_json()
    (tmp_path / "odd.json").write_text(json.dumps(odd))
    with pytest.raises(SignatureError, match="not a registered auditor"):
        certificates.verify_certificate(home, ledger, str(tmp_path / "odd.json"))
    # The registry refuses to log an envelope not signed by the certifying auditor.
    ch = _challenge(home, ledger, story, run_id, 4)  # the first one is closed by its certificate
    body = {"id": new_id("certificate"), "run": run_id, "challenge": ch["challenge"],
            "auditor": story["auditor"],
            "result": "pass", "not_before": "2026-01-01T00:00:00Z",
            "not_after": "2027-01-01T00:00:00Z", "envelope": forged}
    with pytest.raises(SignatureError, match="does not verify"):
        ledger.submit([sign_statement(ledger.new_statement("audit.certified", story["auditor"], body),
                                      home.party_key(story["auditor"]))])


def test_full_audit_with_the_cli(home, ledger, story, tmp_path) -> None:
    run_id, manifest = commit_run(home, ledger, story["dev"], _clean_items(story, 5), tmp_path)
    runner = CliRunner()
    base = ["--home", str(home.path)]
    r = runner.invoke(cli, [*base, "audit", "challenge", run_id, "--samples", "100", "--auditor",
                            story["auditor"], "--json"])
    assert r.exit_code == 0, r.output
    ch = json.loads(r.output)
    assert ch["method"] == "full" and ch["indices"] == list(range(8))
    resp = tmp_path / "full.json"
    r = runner.invoke(cli, [*base, "audit", "respond", ch["challenge"], "--manifest",
                            str(manifest), "--full", "-o", str(resp)])
    assert r.exit_code == 0, r.output
    assert all(i["proof"] == [] for i in json.loads(resp.read_text())["items"])
    # A forged full response fails outright (exit 1), nothing certified.
    doc = json.loads(resp.read_text())
    doc["items"][3]["item"]["units"] += 1
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    r = runner.invoke(cli, [*base, "audit", "verify", str(forged), "--auditor",
                            story["auditor"]])
    assert r.exit_code == 1 and "committed root" in r.output
    cert = tmp_path / "c.intoto.json"
    r = runner.invoke(cli, [*base, "audit", "verify", str(resp), "--auditor", story["auditor"],
                            "--territory", "US", "-o", str(cert), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["result"] == "pass" and out["bound"]["upper"] == "0"
    assert out["bound"]["method"] == "exact (full audit)"
    r = runner.invoke(cli, [*base, "audit", "verify-cert", str(cert)])
    assert r.exit_code == 0 and "is valid" in r.output, r.output
    r = runner.invoke(cli, [*base, "audit", "show", out["certificate"]])
    assert r.exit_code == 0 and "PASS" in r.output and "full audit of 8" in r.output
    # A tampered file: exit 1, one line naming the failure.
    env = json.loads(cert.read_text())
    env["payloadType"] = "application/json"
    cert.write_text(json.dumps(env))
    r = runner.invoke(cli, [*base, "audit", "verify-cert", str(cert)])
    assert r.exit_code == 1 and r.output.startswith("error: ") and r.output.count("\n") == 1
    # Bad input: exit 2.
    r = runner.invoke(cli, [*base, "audit", "challenge", "run_aaaaaaaaaaaaaaaa", "--samples",
                            "3", "--auditor", story["auditor"]])
    assert r.exit_code == 2 and "no run" in r.output


def test_media_are_hashed_and_scanned(home, ledger, story, tmp_path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    clip = media / "clip.bin"
    clip.write_bytes(b"orbit's own footage" * 100)
    sha = hashlib.sha256(clip.read_bytes()).hexdigest()
    items = [_own(sha), _own(), _own()]
    run_id, manifest = commit_run(home, ledger, story["dev"], items, tmp_path)
    ch = _challenge(home, ledger, story, run_id, 3)
    resp = _respond(ledger, tmp_path, ch["challenge"], manifest, media_dir=media)
    doc = json.loads(resp.read_text())
    assert [i.get("media") for i in doc["items"]] == ["clip.bin", None, None]
    assert doc["media_root"] == str(media.resolve())
    # The developer swaps the media file after responding: a hash mismatch.
    clip.write_bytes(b"something else entirely")
    out = certificates.certify(home, ledger, resp, story["auditor"], scan=False,
                              territory="US")
    assert out["result"] == "fail" and out["counts"]["hash-mismatch"] == 1


def test_a_license_missing_its_guild_cosignature_is_found(home, ledger, story, tmp_path) -> None:
    guild = register_party(home, ledger, "guild", "SPG").details["id"]
    actor = register_party(home, ledger, "performer", "Ada").details["id"]
    licensing.add_agreement(home, ledger, guild, "TV/Theatrical 2023", ["performer"], "25")
    licensing.add_member(home, ledger, guild, actor)
    film, reels = register_fake_work(home, ledger, story["studio"], "Night Ferry", 2)
    credit_work(home, ledger, film, actor, "performer", "1")
    bundle = bundles.create_bundle(home, ledger, story["studio"], "Ferry", "1",
                                   [film]).details["id"]
    policy = training_agreement(
        uid="urn:reelrights:policy:audit-2", licensor=story["studio"], licensee=story["dev"],
        bundle=bundle, model_family="orbit", territories=["US"], until="2099-12-31",
        fund_share="2.5")
    lic = licensing.grant_license(home, ledger, bundle, story["dev"], policy).details["id"]
    items = [{"sha256": s, "kind": "video", "units": 60, "unit": "seconds",
              "basis": {"type": "license", "license": lic, "bundle": bundle}} for s in reels]
    run_id, manifest = commit_run(home, ledger, story["dev"], items + [_own()], tmp_path)
    licensing.cosign_license(home, ledger, lic, guild)  # too late for this run
    ch = _challenge(home, ledger, story, run_id, 3)
    out = certificates.certify(home, ledger, _respond(ledger, tmp_path, ch["challenge"],
                                                      manifest, full=True),
                               story["auditor"], territory="US")
    assert out["result"] == "fail"
    assert out["counts"]["co-signature-missing"] == 2 and out["counts"]["licensed"] == 1
    missing = [f for f in out["findings"] if f["verdict"] == "co-signature-missing"]
    assert all(guild in f["reasons"][0] for f in missing)


def test_a_license_whose_consent_duty_is_unmet_is_found(home, ledger, story, tmp_path) -> None:
    from reelrights.core.iri import party_iri

    actor = register_party(home, ledger, "performer", "Bea").details["id"]
    film, reels = register_fake_work(home, ledger, story["studio"], "Voice Reel", 1)
    bundle = bundles.create_bundle(home, ledger, story["studio"], "Voices", "1",
                                   [film]).details["id"]
    policy = training_agreement(
        uid="urn:reelrights:policy:audit-3", licensor=story["studio"], licensee=story["dev"],
        bundle=bundle, model_family="orbit", territories=["US"], until="2099-12-31",
        fund_share="2.5")
    policy["permission"][0]["duty"].append({"action": "obtainConsent",
                                            "consentingParty": party_iri(actor)})
    lic = licensing.grant_license(home, ledger, bundle, story["dev"], policy).details["id"]
    items = [{"sha256": reels[0], "kind": "video", "units": 60, "unit": "seconds",
              "basis": {"type": "license", "license": lic, "bundle": bundle}}]
    run_id, manifest = commit_run(home, ledger, story["dev"], items, tmp_path)
    ch = _challenge(home, ledger, story, run_id, 1)
    out = certificates.certify(home, ledger, _respond(ledger, tmp_path, ch["challenge"],
                                                      manifest), story["auditor"],
                               territory="US")
    assert out["result"] == "fail" and out["counts"]["consent-missing"] == 1


def test_a_registered_film_hidden_under_an_own_item_is_caught_by_the_scan(
        home, ledger, story, tmp_path) -> None:
    from reelrights.evidence import fingerprints
    from reelrights.media import synth

    film = synth.make_film(tmp_path / "ref" / "ferry.mp4", seconds=10.0, fps=24,
                           size=(480, 272), scenes=4, seed=22)
    ferry = register_work(home, ledger, story["studio"], "film", "Night Ferry",
                                   [film]).details["id"]
    assert fingerprints.fingerprint_paths(home, ledger.db, [film]).count("ok") == 1
    media = tmp_path / "training"
    clip = synth.transcode_video(film, media / "clip.mkv", bitrate=400_000, size=(384, 216),
                                 start=2.0, duration=6.0)
    # Re-encoded, the clip's hash is registered nowhere: only the fingerprint scan can tell.
    items = [_own(hashlib.sha256(clip.read_bytes()).hexdigest()), _own(), _own()]
    run_id, manifest = commit_run(home, ledger, story["dev"], items, tmp_path)
    ch = _challenge(home, ledger, story, run_id, 3)
    resp = _respond(ledger, tmp_path, ch["challenge"], manifest, media_dir=media)
    no_scan = certificates.certify(home, ledger, resp, story["auditor"], scan=False,
                                   territory="US")
    assert no_scan["result"] == "pass"
    # A certified challenge is closed: the scan needs a new one (a full audit: same items).
    ch = _challenge(home, ledger, story, run_id, 3)
    resp = _respond(ledger, tmp_path, ch["challenge"], manifest, name="r2.json",
                    media_dir=media)
    out = certificates.certify(home, ledger, resp, story["auditor"], territory="US")
    assert out["result"] == "fail" and out["counts"]["not-licensed"] == 1
    [bad] = [f for f in out["findings"] if f["verdict"] != "licensed"]
    assert bad["index"] == 0 and bad["media"] == "clip.mkv"
    assert any(ferry in r and r.startswith("scan:") for r in bad["reasons"])
