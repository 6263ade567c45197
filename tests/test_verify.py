"""The pure verifiers (reelrights.verify) and `reelrights verify`, on both backends.

One story logs a guild-covered license (granted, co-signed), a run using it, an audit
certificate, a C2PA-signed output and a second license, revoked. Each artifact's proof file is
verified offline in a fresh process with no home at all; every verifier is tampered with (each
byte of each entry, each proof hash, the index, the checkpoint, each field the artifact check
reads) and the failure names what.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fake_works import register_fake_work
from reelrights.core.canonical import canonical_bytes
from reelrights.core.commitment import canonical_item
from reelrights.core.license_terms import training_agreement
from reelrights.core.note import CosignatureSigner, format_vkey
from reelrights.errors import BadInput, ReelrightsError, SignatureError, VerificationError
from reelrights.evidence import audit_challenge, certificates, runs
from reelrights.media import synth
from reelrights.outputs import provenance
from reelrights.proofs import issue_proof
from reelrights.registry.credits import credit_work
from reelrights.registry.parties import register_party
from reelrights.replica.home import public_log_vkey
from reelrights.rights import bundles, licensing
from reelrights.verify import LogTrust, ProvenEntry, TlogProof, Verifier, verify_subject
from reelrights.verify.artifacts import verify_fund_statement, verify_output_record

CLI = "import sys; from reelrights.cli import main; sys.argv[0] = 'reelrights'; main()"
SRC = str(Path(__file__).resolve().parents[1] / "src")


def _story(home, ledger, tmp_path: Path) -> dict:
    ids: dict = {}
    for label, kind, name in [("studio", "studio", "Northlight"), ("dev", "developer", "Orbit"),
                              ("auditor", "auditor", "Fair Audit"),
                              ("performer", "performer", "Ada Player"),
                              ("guild", "guild", "Screen Guild")]:
        ids[label] = register_party(home, ledger, kind, name).details["id"]
    film, shas = register_fake_work(home, ledger, ids["studio"], "Harbour Lights")
    credit_work(home, ledger, film, ids["performer"], "performer", "1")
    licensing.add_agreement(home, ledger, ids["guild"], "Screen 2026", ["performer"], "25")
    licensing.add_member(home, ledger, ids["guild"], ids["performer"])
    ids["bundle"] = bundles.create_bundle(home, ledger, ids["studio"], "Catalog", "1",
                                          [film]).details["id"]

    def grant(uid: str) -> str:
        policy = training_agreement(uid=uid, licensor=ids["studio"], licensee=ids["dev"],
                                    bundle=ids["bundle"], model_family="orbit",
                                    territories=["US"], until="2099-12-31", fund_share="2.5")
        return licensing.grant_license(home, ledger, ids["bundle"], ids["dev"],
                                       policy).details["id"]

    ids["license"] = grant("urn:reelrights:policy:v-1")
    ids["cosign_index"] = licensing.cosign_license(home, ledger, ids["license"],
                                                   ids["guild"]).index
    ids["revoked"] = grant("urn:reelrights:policy:v-2")
    ids["revoke_index"] = licensing.revoke_license(home, ledger, ids["revoked"], "ended").index
    items = [{"sha256": s, "kind": "video", "units": 60, "unit": "seconds",
              "basis": {"type": "license", "license": ids["license"], "bundle": ids["bundle"]}}
             for s in shas]
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_bytes(b"".join(canonical_item(it) + b"\n" for it in items))
    run = runs.commit_run(home, ledger, manifest, ids["dev"], "orbit", "orbit-1")
    ids["run"], ids["run_index"] = run["id"], run["log_index"]
    ch = audit_challenge.challenge_run(home, ledger, ids["run"], 2, ids["auditor"])
    resp = tmp_path / "resp.json"
    audit_challenge.write_private(resp, audit_challenge.respond(ledger, ch["challenge"], manifest))
    out = certificates.certify(home, ledger, resp, ids["auditor"], territory="US")
    ids["cert"], ids["cert_index"], ids["envelope"] = (out["certificate"], out["log_index"],
                                                       out["envelope"])
    return ids


@pytest.fixture
def story(home, ledger, tmp_path):
    return _story(home, ledger, tmp_path)


def _trust(home) -> LogTrust:
    return LogTrust(public_log_vkey(home))


def _fresh(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`reelrights ARGS` in a new interpreter with no home: HOME points nowhere, no
    REELRIGHTS_* variable, the working directory empty."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELRIGHTS_")}
    env.update(HOME=str(cwd / "no-such-home"), PYTHONPATH=SRC)
    return subprocess.run([sys.executable, "-c", CLI, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


# -- offline, in a fresh process -----------------------------------------------------------------

def test_each_artifact_verifies_offline_with_no_home(home, ledger, story, tmp_path) -> None:
    img = synth.make_image(tmp_path / "gen.png", size=(96, 64), seed=4)
    signed = tmp_path / "signed.png"
    out = provenance.sign(home, ledger, img, story["run"], signed)
    cert_file = tmp_path / "cert.intoto.json"
    certificates.write_certificate(cert_file, story["envelope"],
                                   issue_proof(ledger, story["cert_index"]).format())
    away = tmp_path / "elsewhere"
    away.mkdir()
    (away / "log.vkey").write_text(public_log_vkey(home) + "\n")
    files = {"license": story["license"], "cosign": story["cosign_index"],
             "revoked": story["revoke_index"], "run usage": story["run"],
             "output record": out["output"], "party": 1}
    for name, ref in files.items():
        (away / f"{name}.tlog-proof").write_text(issue_proof(ledger, ref).format())
    (away / "cert.intoto.json").write_bytes(cert_file.read_bytes())
    (away / "signed.png").write_bytes(signed.read_bytes())
    want = {"license": "license", "cosign": "license", "revoked": "license",
            "run usage": "run usage", "output record": "output", "party": "statement"}
    for name, kind in [*want.items(), ("cert.intoto", "certificate"), ("media", "output")]:
        f = {"cert.intoto": "cert.intoto.json", "media": "signed.png"}.get(name,
                                                                          f"{name}.tlog-proof")
        r = _fresh(["verify", f, "--log-key", "log.vkey", "--json"], away)
        assert r.returncode == 0, (name, r.stderr)
        report = json.loads(r.stdout)
        assert report["ok"] and report["kind"] == kind, (name, report)
        if name == "revoked":
            assert any("status as shown: revoked" in c for c in report["checks"])
        if name == "license":
            assert any("status as shown: active" in c for c in report["checks"])
        if name == "media":
            assert any("C2PA manifest intact" in c for c in report["checks"])
            assert any("manifest's run" in c for c in report["checks"])
    assert not (away / "no-such-home").exists()
    # The package imports nothing that could reach a home, a database or the network.
    r = subprocess.run([sys.executable, "-c", "import sys, reelrights.verify; print(sorted(m for "
                        "m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'httpx', "
                        "'urllib3') or m in ('reelrights.home', 'reelrights.keys', "
                        "'reelrights.store', 'reelrights.ledger')))"],
                       env={**os.environ, "PYTHONPATH": SRC}, capture_output=True, text=True)
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


def test_cli_exit_codes_and_bad_input(home, ledger, story, tmp_path) -> None:
    vk = tmp_path / "log.vkey"
    vk.write_text(public_log_vkey(home))
    good = tmp_path / "p.tlog-proof"
    good.write_text(issue_proof(ledger, story["cert_index"]).format())
    assert _fresh(["verify", str(good), "--log-key", str(vk)], tmp_path).returncode == 0
    bad = tmp_path / "bad.tlog-proof"
    taken = {e.index for e in TlogProof.parse(good.read_text()).entries()}
    other = max(i for i in range(story["cert_index"]) if i not in taken)  # no related entry's
    bad.write_text(good.read_text().replace(f"index {story['cert_index']}", f"index {other}"))
    r = _fresh(["verify", str(bad), "--log-key", str(vk)], tmp_path)
    assert r.returncode == 1 and "inclusion proof" in r.stderr and "Traceback" not in r.stderr
    junk = tmp_path / "junk.tlog-proof"
    junk.write_text("c2sp.org/tlog-proof@v1\nindex x\n\n")
    r = _fresh(["verify", str(junk), "--log-key", str(vk)], tmp_path)
    assert r.returncode == 2 and "malformed tlog-proof" in r.stderr, r.stderr
    r = _fresh(["verify", str(good), "--log-key", "not-a-key"], tmp_path)
    assert r.returncode == 2 and "--log-key" in r.stderr, r.stderr
    other = CosignatureSigner("witness.example", os.urandom(32))
    r = _fresh(["verify", str(good), "--log-key", str(vk), "--witness", other.vkey,
                "--min-witnesses", "1"], tmp_path)
    assert r.returncode == 1 and "cosigned by 0" in r.stderr, r.stderr
    r = _fresh(["verify", str(good), "--log-key", str(vk), "--min-witnesses", "1"], tmp_path)
    assert r.returncode == 2 and "--min-witnesses" in r.stderr, r.stderr


# -- tampering: every verifier, each byte or field -----------------------------------------------

def _fails(verifier: Verifier, proof: TlogProof, *, expect: str, **kw) -> str:
    with pytest.raises((VerificationError, BadInput)) as err:
        verify_subject(verifier.verify(TlogProof.parse(proof.format())), **kw)
    msg = err.value.message
    assert expect in msg, msg
    return msg


@pytest.mark.parametrize("subject", ["cert_index", "license", "run"])
def test_each_byte_of_each_entry_and_proof_hash_is_bound(home, ledger, story, subject) -> None:
    proof = issue_proof(ledger, story[subject])
    trust = _trust(home)
    assert verify_subject(Verifier(trust).verify(proof))[0] == {
        "cert_index": "certificate", "license": "license", "run": "run usage"}[subject]
    entries = [proof.subject, *proof.related]
    assert len(entries) >= 3
    for k, e in enumerate(entries):
        role = "subject" if k == 0 else "related"
        for pos in range(len(e.entry)):  # every byte of every entry
            changed = bytearray(e.entry)
            changed[pos] ^= 0x01
            t = ProvenEntry(e.index, bytes(changed), e.proof)
            bad = _swap(proof, k, t)
            _fails(Verifier(trust), bad, expect=f"{role} entry {e.index}")
        for j in range(len(e.proof)):  # every hash of its proof
            hashes = list(e.proof)
            hashes[j] = bytes([hashes[j][0] ^ 0x80]) + hashes[j][1:]
            _fails(Verifier(trust), _swap(proof, k, ProvenEntry(e.index, e.entry,
                                                               tuple(hashes))),
                   expect=f"{role} entry {e.index}: its inclusion proof")
        _fails(Verifier(trust), _swap(proof, k, ProvenEntry(e.index + 1, e.entry, e.proof)),
               expect=f"entry {e.index + 1}")


def _swap(proof: TlogProof, k: int, e: ProvenEntry) -> TlogProof:
    if k == 0:
        return TlogProof(e, proof.checkpoint, proof.related)
    related = list(proof.related)
    related[k - 1] = e
    return TlogProof(proof.subject, proof.checkpoint, tuple(related))


def test_the_checkpoint_key_witnesses_and_missing_keys(home, ledger, story) -> None:
    proof = issue_proof(ledger, story["cert_index"])
    trust = _trust(home)
    note = proof.checkpoint
    text_end = note.rfind(b"\n\n") + 1
    for pos in range(text_end):  # each byte of the checkpoint text
        changed = bytearray(note)
        changed[pos] = ord("A") if changed[pos] != ord("A") else ord("B")
        with pytest.raises((VerificationError, BadInput), match="checkpoint"):
            Verifier(trust).verify(TlogProof(proof.subject, bytes(changed), proof.related))
    sig_at = note.rfind(b" ") + 5
    forged = note[:sig_at] + bytes([note[sig_at] ^ 1 if note[sig_at] ^ 1 < 128 else 65]) + \
        note[sig_at + 1:]
    with pytest.raises(VerificationError, match="checkpoint"):
        Verifier(trust).verify(TlogProof(proof.subject, forged, proof.related))
    other = LogTrust(format_vkey(trust.origin, b"\x01" + os.urandom(32)))
    with pytest.raises(SignatureError, match="checkpoint: not signed by the log key"):
        Verifier(other).verify(proof)
    # A witness cosigns: K of N holds; a forged cosignature fails; too few fails.
    w1, w2 = (CosignatureSigner(f"w{i}.example", os.urandom(32)) for i in (1, 2))
    text = note[:text_end].decode()
    cosigned = note + w1.sign(text).encode()
    ok = LogTrust(trust.log.vkey, [w1.vkey, w2.vkey], 1)
    vp = Verifier(ok).verify(TlogProof(proof.subject, cosigned, proof.related))
    assert [n for n, _ in vp.checkpoint.witnesses] == ["w1.example"]
    with pytest.raises(SignatureError, match="cosigned by 1 of the given witnesses, fewer "
                                             "than --min-witnesses 2"):
        Verifier(LogTrust(trust.log.vkey, [w1.vkey, w2.vkey], 2)).verify(
            TlogProof(proof.subject, cosigned, proof.related))
    line = w1.sign(text)
    bad_line = line[:-6] + ("A" if line[-6] != "A" else "B") + line[-5:]
    with pytest.raises(SignatureError, match="witness cosignature does not verify"):
        Verifier(ok).verify(TlogProof(proof.subject, note + bad_line.encode(), proof.related))
    # The same as a c2sp.org/tlog-policy file (reelrights.core.tlog_policy): both needed.
    from reelrights.core.tlog_policy import parse_policy

    both = parse_policy(f"log {trust.log.vkey}\nwitness a {w1.vkey}\nwitness b {w2.vkey}\n"
                        "group q all a b\nquorum q\n")
    with pytest.raises(SignatureError, match="lacks the policy's witness quorum"):
        Verifier(LogTrust(trust.log.vkey, policy=both)).verify(
            TlogProof(proof.subject, cosigned, proof.related))
    twice = cosigned + w2.sign(text).encode()
    vp = Verifier(LogTrust(trust.log.vkey, policy=both)).verify(
        TlogProof(proof.subject, twice, proof.related))
    assert sorted(n for n, _ in vp.checkpoint.witnesses) == ["w1.example", "w2.example"]
    # Without the signer's key statement the entry cannot be verified; the message names it.
    no_keys = TlogProof(proof.subject, note, tuple(
        r for r in proof.related if b'"party.registered"' not in r.entry))
    with pytest.raises(VerificationError, match="no party.registered statement of its signer"):
        Verifier(trust).verify(no_keys)


def test_artifact_checks_name_the_field(home, ledger, story, tmp_path) -> None:
    trust = _trust(home)
    vp = Verifier(trust).verify(issue_proof(ledger, story["cert_index"]))
    env = story["envelope"]
    stmt = json.loads(base64.b64decode(env["payload"]))
    stmt["predicate"]["sample_size"] += 1
    altered = dict(env, payload=base64.b64encode(json.dumps(stmt).encode()).decode())
    with pytest.raises(VerificationError, match="differs from the logged one"):
        verify_subject(vp, envelope=altered)
    with pytest.raises(VerificationError, match="valid from .* not at 2200"):
        verify_subject(vp, now=datetime(2200, 1, 1, tzinfo=UTC))
    # Without the run commitment the certificate's subject cannot be checked.
    proof = issue_proof(ledger, story["cert_index"])
    no_run = TlogProof(proof.subject, proof.checkpoint, tuple(
        r for r in proof.related if r.index != story["run_index"]))
    with pytest.raises(VerificationError, match="carries no run.committed"):
        verify_subject(Verifier(trust).verify(no_run))
    # A run's usage needs each license; a license's grant must be in its proof.
    proof = issue_proof(ledger, story["run"])
    lic_index = next(r.index for r in proof.related if b'"license.granted"' in r.entry)
    with pytest.raises(VerificationError, match="carries no license.granted"):
        verify_subject(Verifier(trust).verify(TlogProof(proof.subject, proof.checkpoint, tuple(
            r for r in proof.related if r.index != lic_index))))
    # An output's manifest claim: each field compared with the record.
    img = synth.make_image(tmp_path / "o.png", size=(64, 48), seed=8)
    out = provenance.sign(home, ledger, img, story["run"], tmp_path / "o-signed.png")
    vp = Verifier(trust).verify(issue_proof(ledger, out["output"]))
    claim = {"run": story["run"], "output_record_log_index": out["log_index"],
             "model_commitment": out["model_commitment"],
             "audit_certificate_digest": out["certificate_digest"],
             "run_commitment_root": vp.of_type("run.committed")[0].body["root"]}
    assert verify_output_record(vp, claim=claim)
    for field in claim:
        wrong = dict(claim, **{field: "x"})
        with pytest.raises(VerificationError, match=f"differs from the logged record in {field}"):
            verify_output_record(vp, claim=wrong)


def test_fund_statement_document(home, ledger, tmp_path) -> None:
    from click.testing import CliRunner

    from fund_story import build, csv_report
    from reelrights.cli import cli
    from reelrights.fund import revenue_import

    ids = build(home, ledger, tmp_path)
    revenue_import.import_report(home, ledger, csv_report(
        tmp_path / "q1.csv", [(ids["production"], "2027-Q1", "US", "USD", "1000.00", "0")]),
        ids["studio"])
    out = tmp_path / "perf.json"
    r = CliRunner().invoke(cli, ["--home", str(home.path), "fund", "statement", "--party",
                                 ids["performer"], "--period", "2027-Q1", "-o", str(out)],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    proof_file = tmp_path / "perf.tlog-proof"
    proof_file.write_text(issue_proof(ledger, doc["statement_id"]).format())
    vk = tmp_path / "log.vkey"
    vk.write_text(public_log_vkey(home))
    r = _fresh(["verify", str(out), "--proof", str(proof_file), "--log-key", str(vk)], tmp_path)
    assert r.returncode == 0 and "the document is the signed one" in r.stdout, r.stderr
    vp = Verifier(_trust(home)).verify(TlogProof.parse(proof_file.read_bytes()))
    assert verify_fund_statement(vp, doc["document"])
    line = doc["document"]["summary"][0]
    for field in ("earned", "paid", "carried_forward"):
        changed = json.loads(json.dumps(doc["document"]))
        changed["summary"][0][field] = "9" + str(line[field])
        with pytest.raises(VerificationError, match="SHA-256"):
            verify_fund_statement(vp, changed)
    edited = dict(doc, document=dict(doc["document"], header=dict(doc["document"]["header"],
                                                                  period="2027-Q2")))
    out.write_text(json.dumps(edited))
    r = _fresh(["verify", str(out), "--proof", str(proof_file), "--log-key", str(vk)], tmp_path)
    assert r.returncode == 1 and "SHA-256" in r.stderr, r.stderr


def test_proof_file_round_trip_and_parse_errors(home, ledger, story) -> None:
    proof = issue_proof(ledger, story["license"])
    text = proof.format()
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra ") and \
        f"\nindex {proof.subject.index}\n" in text
    assert TlogProof.parse(text) == proof
    extra = json.loads(base64.b64decode(text.split("\n")[1][6:]))
    assert canonical_bytes(extra) == base64.b64decode(text.split("\n")[1][6:])
    for broken, why in [(text.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2", 1),
                         "first line"),
                        (text.replace("\nindex ", "\nindex 0", 1), "index"),
                        (text.split("\n\n")[0] + "\n", "blank line"),
                        (text.replace("\nextra ", "\nextra !", 1), "extra")]:
        with pytest.raises(BadInput, match=why):
            TlogProof.parse(broken)
    with pytest.raises(ReelrightsError):
        Verifier(_trust(home)).verify(TlogProof(proof.subject, proof.checkpoint,
                                                (proof.subject,)))


def test_an_embedded_proof_takes_a_cosigned_checkpoint_when_the_log_has_one(home, ledger,
                                                                            story) -> None:
    from reelrights.log.cosigned import COSIGNED_FILE, CosignedStore
    from reelrights.proofs import issue_cosigned_proof

    trust = _trust(home)
    # No witnesses: the log-only proof at once.
    assert issue_cosigned_proof(ledger, story["cert_index"], home.path).checkpoint.count(
        b"\n\xe2\x80\x94 ") == 1
    w = CosignatureSigner("w.example", os.urandom(32))
    with ledger.db.read() as conn:
        note = ledger.log.checkpoint(conn)
    size = int(note.split(b"\n")[1])
    text = note[: note.rfind(b"\n\n") + 1].decode()
    line = w.sign(text, timestamp=1_790_000_000)
    store = CosignedStore(home.path / COSIGNED_FILE)
    store.add(size, note, w.vkey, 1_790_000_000, line)
    proof = issue_cosigned_proof(ledger, story["cert_index"], home.path, wait_s=0.5)
    vp = Verifier(LogTrust(trust.log.vkey, [w.vkey], 1)).verify(proof)
    assert [n for n, _ in vp.checkpoint.witnesses] == ["w.example"]
    # An entry after the last cosigned checkpoint: it waits, then carries the log-only proof.
    later = register_party(home, ledger, "studio", "Late Studio").index
    proof = issue_cosigned_proof(ledger, later, home.path, wait_s=0.4)
    with pytest.raises(SignatureError, match="fewer than --min-witnesses 1"):
        Verifier(LogTrust(trust.log.vkey, [w.vkey], 1)).verify(proof)
    assert Verifier(trust).verify(proof).subject.index == later


def test_fund_statement_carries_its_proof(home, ledger, tmp_path) -> None:
    """`fund statement --with-proof` embeds the statement's proof: `reelrights verify` checks
    the JSON alone in a fresh process with the log key; `fund verify` checks it too; a proof
    of another entry, or an edited figure, fails; CSV cannot embed one (exit 2)."""
    from click.testing import CliRunner

    from fund_story import build, csv_report
    from reelrights.cli import cli
    from reelrights.fund import revenue_import

    ids = build(home, ledger, tmp_path)
    revenue_import.import_report(home, ledger, csv_report(
        tmp_path / "q1.csv", [(ids["production"], "2027-Q1", "US", "USD", "1000.00", "0")]),
        ids["studio"])
    out = tmp_path / "perf.json"
    base = ["--home", str(home.path), "fund", "statement", "--party", ids["performer"],
            "--period", "2027-Q1"]
    r = CliRunner().invoke(cli, [*base, "--with-proof", "-o", str(out)])
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert TlogProof.parse(doc["tlog_proof"]).subject.index == doc["log_index"]
    vk = tmp_path / "log.vkey"
    vk.write_text(public_log_vkey(home))
    r = _fresh(["verify", str(out), "--log-key", str(vk)], tmp_path)
    assert r.returncode == 0 and "the document is the signed one" in r.stdout, r.stderr
    r = CliRunner().invoke(cli, ["--home", str(home.path), "fund", "verify", str(out)])
    assert r.exit_code == 0 and "matches the log" in r.output, r.output
    # The same statement issued again without the flag is the same file without the member.
    plain = tmp_path / "plain.json"
    assert CliRunner().invoke(cli, [*base, "-o", str(plain)]).exit_code == 0
    assert json.loads(plain.read_text()) == {k: v for k, v in doc.items() if k != "tlog_proof"}
    # Another entry's proof in its place: both verifiers refuse it.
    other = dict(doc, tlog_proof=issue_proof(ledger, doc["log_index"] - 1).format())
    out.write_text(json.dumps(other))
    r = _fresh(["verify", str(out), "--log-key", str(vk)], tmp_path)
    assert r.returncode == 1, r.stdout
    r = CliRunner().invoke(cli, ["--home", str(home.path), "fund", "verify", str(out)])
    assert r.exit_code == 1 and "not statement" in r.output, r.output
    # An edited figure under the genuine proof.
    edited = json.loads(json.dumps(doc))
    edited["document"]["summary"][0]["paid"] = "9" + str(edited["document"]["summary"][0]["paid"])
    out.write_text(json.dumps(edited))
    r = _fresh(["verify", str(out), "--log-key", str(vk)], tmp_path)
    assert r.returncode == 1 and "SHA-256" in r.stderr, r.stderr
    r = CliRunner().invoke(cli, [*base, "--format", "csv", "--with-proof", "-o",
                                 str(tmp_path / "p.csv")])
    assert r.exit_code == 2 and "JSON statement only" in r.output, r.output
