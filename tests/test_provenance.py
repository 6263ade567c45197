"""Output provenance on both backends: sign (record first, then the C2PA manifest), verify the
chain (record, run, certificate), recover stripped copies by fingerprint, tamper and untrusted
signers. Real c2pa-python, real certificates from the project CA, media from media/synth.py.
"""

from __future__ import annotations

import hashlib
import json
import stat
from fractions import Fraction
from pathlib import Path

import av
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fake_works import register_fake_work
from reelrights.cli import cli
from reelrights.core.commitment import canonical_item
from reelrights.core.ids import new_id
from reelrights.core.license_terms import training_agreement
from reelrights.core.statements import decode_entry
from reelrights.core.x509 import issue_signer_cert, make_root_cert
from reelrights.errors import BadInput, MediaError, PolicyDenied
from reelrights.evidence import audit_challenge, certificates, runs
from reelrights.media import synth
from reelrights.media.c2pa_assertions import (
    SOFT_BINDING_LABEL,
    TRAINING_MINING_LABEL,
    TRAINING_RUN_LABEL,
    OutputAssertions,
    ReuseTerm,
    TrainingRunClaim,
)
from reelrights.media.c2pa_engine import sign_output, verify_file
from reelrights.outputs import pki, provenance
from reelrights.outputs.output_index import rebuild_output_index
from reelrights.outputs.pki import C2paSigner, trust_anchors_pem
from reelrights.outputs.provenance_verify import verify_output
from reelrights.outputs.types import check_model_commitment
from reelrights.registry.parties import register_party
from reelrights.rights import bundles, licensing
from reelrights.store.provenance_tables import output_manifests, output_prints, outputs

# -- a certified run ----------------------------------------------------------------------------


def _certified_story(home, ledger, tmp_path: Path, *, certify: bool = True) -> dict:
    ids: dict = {}
    for label, kind, name in [("studio", "studio", "Northlight"), ("dev", "developer", "Orbit AI"),
                              ("auditor", "auditor", "Fair Audit LLP")]:
        ids[label] = register_party(home, ledger, kind, name).details["id"]
    film, shas = register_fake_work(home, ledger, ids["studio"], "Harbour Lights")
    ids["bundle"] = bundles.create_bundle(home, ledger, ids["studio"], "Catalog", "1",
                                          [film]).details["id"]
    policy = training_agreement(
        uid="urn:reelrights:policy:prov-1", licensor=ids["studio"], licensee=ids["dev"],
        bundle=ids["bundle"], model_family="orbit", territories=["US"], until="2099-12-31",
        fund_share="2.5")
    ids["license"] = licensing.grant_license(home, ledger, ids["bundle"], ids["dev"],
                                             policy).details["id"]
    items = [{"sha256": s, "kind": "video", "units": 60, "unit": "seconds",
              "basis": {"type": "license", "license": ids["license"], "bundle": ids["bundle"]}}
             for s in shas]
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_bytes(b"".join(canonical_item(it) + b"\n" for it in items))
    run = runs.commit_run(home, ledger, manifest, ids["dev"], "orbit", "orbit-1")
    ids["run"], ids["run_index"] = run["id"], run["log_index"]
    if certify:
        ch = audit_challenge.challenge_run(home, ledger, ids["run"], 2, ids["auditor"])
        resp = tmp_path / "resp.json"
        audit_challenge.write_private(resp, audit_challenge.respond(ledger, ch["challenge"],
                                                                    manifest))
        out = certificates.certify(home, ledger, resp, ids["auditor"], territory="US")
        assert out["result"] == "pass"
        ids["cert"], ids["cert_index"] = out["certificate"], out["log_index"]
    return ids


def _media(root: Path) -> dict[str, Path]:
    root.mkdir(parents=True, exist_ok=True)
    return {
        "image": synth.make_image(root / "still.png", size=(128, 96), seed=3),
        "video": synth.make_film(root / "shot.mp4", seconds=3.0, fps=12, size=(256, 144),
                                 scenes=2, seed=5),
        "audio": synth.make_audio(root / "line.wav", seconds=6.0, sample_rate=22050, seed=7),
        "text": synth.make_script(root / "scene.fountain", title="Generated", author="Orbit",
                                  scenes=6, seed=9),
        "pdf": synth.make_pdf(root / "treatment.pdf", "\n".join(
            f"Scene {n}: the harbour lights come on one by one, line {n}." for n in range(80))),
    }


def _reencode_png(src: Path, dst: Path) -> Path:
    """A lossless re-encode: same pixels, new file, no manifest (what an image tool does)."""
    with av.open(str(src)) as inp:
        frame = next(inp.decode(video=0)).to_ndarray(format="rgb24")
    _write_png(frame, dst)
    return dst


def _write_png(rgb, dst: Path) -> None:
    with av.open(str(dst), "w", format="image2") as out:
        s = out.add_stream("png", rate=1)
        s.width, s.height, s.pix_fmt = rgb.shape[1], rgb.shape[0], "rgb24"
        for p in s.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
            out.mux(p)
        for p in s.encode():
            out.mux(p)


def _screenshot(video: Path, dst: Path, at_s: float = 1.0) -> Path:
    with av.open(str(video)) as inp:
        for frame in inp.decode(video=0):
            if frame.time is not None and frame.time >= at_s:
                _write_png(frame.to_ndarray(format="rgb24"), dst)
                return dst
    raise AssertionError("video too short")


def _chain(report: dict) -> dict[str, dict]:
    return {link["check"]: link for link in report["chain"]}


# -- tests ------------------------------------------------------------------------------------------


def test_sign_verify_recover_per_kind(home, ledger, tmp_path) -> None:
    ids = _certified_story(home, ledger, tmp_path)
    m = _media(tmp_path / "gen")
    signed: dict[str, dict] = {}
    for kind, src in m.items():
        dst = tmp_path / "signed" / f"{kind}{src.suffix}"
        out = provenance.sign(home, ledger, src, ids["run"], dst,
                              reuse=["ai_training=notAllowed", "data_mining=constrained:research"])
        signed[kind] = out
        assert out["certificate"] == ids["cert"] and out["manifest_label"].startswith("urn:c2pa:")
        # The record was logged first: the manifest names its log index.
        v = verify_file(dst, anchors=trust_anchors_pem(home))
        assert v.state == "Trusted", (kind, v.failure_codes)
        claim = v.assertions[TRAINING_RUN_LABEL]
        assert claim["output_record_log_index"] == out["log_index"]
        assert claim["output"] == out["output"] and claim["run"] == ids["run"]
        assert claim["audit_certificate_digest"].startswith("sha256:")
        assert v.assertions[TRAINING_MINING_LABEL]["entries"] == {
            "cawg.ai_training": {"use": "notAllowed"},
            "cawg.data_mining": {"use": "constrained", "constraint_info": "research"}}
        assert v.assertions[SOFT_BINDING_LABEL]["alg"] == out["soft_binding"]
        report = verify_output(home, ledger, dst)
        assert report["exit_code"] == 0 and report["verified"], (kind, report["problems"])
        assert report["found_by"] == "manifest"
        chain = _chain(report)
        assert chain["output record"]["log_index"] == out["log_index"]
        assert chain["run commitment"]["log_index"] == ids["run_index"]
        assert chain["audit certificate"]["log_index"] == ids["cert_index"]
        assert chain["manifest matches record"]["ok"]
    assert signed["text"]["sidecar"] and Path(signed["text"]["sidecar"]).is_file()
    assert signed["image"]["soft_binding"] == "dev.reelrights.pdq.1"
    assert signed["audio"]["soft_binding"] == "dev.reelrights.chromaprint.1"
    assert signed["text"]["soft_binding"] == "dev.reelrights.minhash.1"
    with ledger.db.read() as conn:
        rows = {r.id: r for r in conn.execute(outputs.select())}
        assert len(rows) == 5
        assert conn.execute(output_manifests.select()).all().__len__() == 5
    assert rows[signed["pdf"]["output"]].media_kind == "document"
    # The record: the content hash of the unsigned output, the model only as a commitment.
    rec = rows[signed["video"]["output"]]
    assert rec.sha256 == hashlib.sha256(m["video"].read_bytes()).hexdigest()
    assert rec.run_id == ids["run"] and rec.developer_id == ids["dev"]
    entry = decode_entry(ledger.log.entry(ledger.db.engine.connect(), rec.log_index))
    assert entry.type == "output.registered" and "orbit-1" not in json.dumps(entry.body)
    opening = home.path / "provenance" / f"{ids['run']}.model-opening.json"
    assert stat.S_IMODE(opening.stat().st_mode) == 0o600
    doc = json.loads(opening.read_text())
    assert doc["identity"]["model"] == "orbit-1"
    assert check_model_commitment(rec.model_commitment, bytes.fromhex(doc["salt"]),
                                  doc["identity"])
    assert not check_model_commitment(rec.model_commitment, bytes.fromhex(doc["salt"]),
                                      {**doc["identity"], "model": "orbit-2"})

    # Stripped copies are recovered by fingerprint, with the same chain.
    strip = tmp_path / "strip"
    strip.mkdir()
    cases = {
        "image": _reencode_png(tmp_path / "signed" / "image.png", strip / "image.png"),
        "video": synth.transcode_video(tmp_path / "signed" / "video.mp4", strip / "video.mp4",
                                       bitrate=250_000),
        "frame": _screenshot(tmp_path / "signed" / "video.mp4", strip / "frame.png"),
        "audio": synth.transcode_audio(tmp_path / "signed" / "audio.wav", strip / "audio.mp3"),
        "text": Path(strip / "scene.fountain"),
    }
    cases["text"].write_bytes((tmp_path / "signed" / "text.fountain").read_bytes())  # no sidecar
    for kind, path in cases.items():
        assert verify_file(path, anchors=trust_anchors_pem(home)).state == "NotFound", kind
        report = verify_output(home, ledger, path)
        want = signed["video" if kind == "frame" else kind]["output"]
        assert report["found_by"] == "fingerprint", (kind, report["problems"])
        assert report["output"]["id"] == want, kind
        assert report["recovered_note"].startswith("recovered by fingerprint")
        assert report["exit_code"] == 0, (kind, report["problems"])
        assert _chain(report)["output record"]["log_index"] == signed[
            "video" if kind == "frame" else kind]["log_index"]
    assert verify_output(home, ledger, cases["image"])["recovered"]["distance"] == 0

    # The outputs index rebuilds from the table and still recovers.
    assert rebuild_output_index(home, ledger.db) >= 4
    assert verify_output(home, ledger, cases["frame"])["output"]["id"] == signed["video"]["output"]

    # A file that nothing matches: no manifest, no record (exit 1).
    other = synth.make_image(tmp_path / "other.png", size=(128, 96), seed=999)
    report = verify_output(home, ledger, other)
    assert report["exit_code"] == 1 and report["found_by"] is None


def test_tamper_untrusted_and_broken_chain(home, ledger, tmp_path) -> None:
    ids = _certified_story(home, ledger, tmp_path)
    src = synth.make_image(tmp_path / "still.png", size=(128, 96), seed=3)
    dst = tmp_path / "signed.png"
    out = provenance.sign(home, ledger, src, ids["run"], dst)
    # Tamper: one media byte flipped -> Invalid with the C2PA failure code, exit 1.
    data = bytearray(dst.read_bytes())
    pos = data.index(b"IDAT") + 12
    data[pos] ^= 0x01
    bad = tmp_path / "tampered.png"
    bad.write_bytes(bytes(data))
    report = verify_output(home, ledger, bad)
    assert report["c2pa"]["state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in report["c2pa"]["failure_codes"]
    assert report["exit_code"] == 1 and not report["verified"]
    # Untrusted signer: the same claims signed under another root -> Valid, not Trusted.
    root_key = Ed25519PrivateKey.generate()
    root = make_root_cert(root_key, common_name="stranger root", days=30)
    key = Ed25519PrivateKey.generate()
    leaf = issue_signer_cert(root_key, root, key.public_key(), party_id=ids["dev"],
                             party_name="Orbit AI", days=10)
    pem = serialization.Encoding.PEM
    signer = C2paSigner(ids["dev"], leaf.public_bytes(pem), key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    claims = verify_file(dst, anchors=trust_anchors_pem(home)).assertions[TRAINING_RUN_LABEL]
    forged = tmp_path / "forged.png"
    sign_output(src, forged, signer=signer, assertions=OutputAssertions(
        training_run=TrainingRunClaim(
            run=claims["run"], run_commitment_root=claims["run_commitment_root"],
            audit_certificate_digest=claims["audit_certificate_digest"],
            model_commitment=claims["model_commitment"],
            output_record_log_index=claims["output_record_log_index"],
            extra={"output": claims["output"]}),
        reuse={"cawg.ai_training": ReuseTerm("notAllowed")}))
    report = verify_output(home, ledger, forged)
    assert report["c2pa"]["state"] == "Valid"
    assert "signingCredential.untrusted" in report["c2pa"]["failure_codes"]
    assert report["exit_code"] == 1
    assert not _chain(report)["manifest matches record"]["ok"]  # not the CA's certificate
    # Signing the same output again reuses its record (a retry after a failed signing).
    again = provenance.sign(home, ledger, src, ids["run"], tmp_path / "again.png")
    assert again["reused_record"] and again["output"] == out["output"]
    assert again["log_index"] == out["log_index"]
    assert again["manifest_label"] != out["manifest_label"]
    with ledger.db.read() as conn:
        assert len(conn.execute(outputs.select()).all()) == 1
        # one print per kind: the picture, its crop grid and its ISCC Image-Code (re-signing
        # stores no more)
        assert sorted(r.kind for r in conn.execute(output_prints.select())) == [
            "iscc", "vcrop", "video"]


def test_uncertified_run_and_bad_input(home, ledger, tmp_path) -> None:
    ids = _certified_story(home, ledger, tmp_path, certify=False)
    src = synth.make_audio(tmp_path / "line.wav", seconds=4.0, sample_rate=22050, seed=1)
    with pytest.raises(PolicyDenied, match="no audit certificate"):
        provenance.sign(home, ledger, src, ids["run"], tmp_path / "signed.wav")
    assert not (tmp_path / "signed.wav").exists()
    with ledger.db.read() as conn:
        assert conn.execute(outputs.select()).first() is None  # refused before logging
    with pytest.raises(BadInput, match="--reuse"):
        provenance.sign(home, ledger, src, ids["run"], tmp_path / "x.wav", reuse=["bogus"])
    with pytest.raises(BadInput, match="production"):
        provenance.sign(home, ledger, src, ids["run"], tmp_path / "x.wav", production="film-1")
    # Signing fails after the record is logged (a broken C2PA key): the error says so, the
    # record stays, and the retry reuses it.
    production = new_id("production")
    pki.init_ca(home)
    broken = home.keys_dir / f"{ids['dev']}.c2pa.pem"
    broken.write_text("not a key\n")
    with pytest.raises(MediaError, match=r"is logged at index \d+, but C2PA signing failed"):
        provenance.sign(home, ledger, src, ids["run"], tmp_path / "signed.wav",
                        uncertified=True, production=production, prompt_sha256="ab" * 32)
    assert not (tmp_path / "signed.wav").exists()
    with ledger.db.read() as conn:
        first = conn.execute(outputs.select()).one()
    broken.unlink()
    out = provenance.sign(home, ledger, src, ids["run"], tmp_path / "signed.wav",
                          uncertified=True, production=production, prompt_sha256="ab" * 32)
    assert out["reused_record"] and out["output"] == first.id
    assert out["log_index"] == first.log_index and first.production_id == production
    assert out["certificate"] is None
    report = verify_output(home, ledger, tmp_path / "signed.wav")
    assert report["c2pa"]["state"] == "Trusted"
    link = _chain(report)["audit certificate"]
    assert not link["ok"] and "uncertified" in link["detail"]
    assert report["exit_code"] == 1


def test_cli_sign_and_verify(home, ledger, tmp_path) -> None:
    ids = _certified_story(home, ledger, tmp_path)
    src = synth.make_script(tmp_path / "scene.fountain", title="Gen", author="Orbit", scenes=4,
                            seed=2)
    runner = CliRunner()
    base = ["--home", str(home.path)]
    dst = tmp_path / "out" / "scene.fountain"
    res = runner.invoke(cli, [*base, "provenance", "sign", str(src), "--run", ids["run"],
                              "-o", str(dst), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["id"].startswith("out_") and out["sidecar"].endswith(".c2pa")
    res = runner.invoke(cli, [*base, "provenance", "verify", str(dst)])
    assert res.exit_code == 0, res.output
    assert "Trusted" in res.output and f"log {out['log_index']}" in res.output
    dst.write_text(dst.read_text() + "\nEXTRA LINE\n")  # edited after signing
    res = runner.invoke(cli, [*base, "provenance", "verify", str(dst), "--json"])
    assert res.exit_code == 1
    assert "assertion.dataHash.mismatch" in json.loads(res.output)["c2pa"]["failure_codes"]
    res = runner.invoke(cli, [*base, "provenance", "verify", str(tmp_path / "missing.png")])
    assert res.exit_code == 2 and res.output.startswith("error:")
    res = runner.invoke(cli, [*base, "provenance", "sign", str(src), "--run", "run_nope",
                              "-o", str(tmp_path / "y.fountain")])
    assert res.exit_code == 2 and "error:" in res.output


def test_cli_model_check_opens_the_commitment_only_with_the_right_opening(home, ledger,
                                                                          tmp_path) -> None:
    """An auditor given the run's model opening confirms which model made an output, from the
    output's id or from a copy whose manifest was stripped; a wrong salt or model is refused."""
    ids = _certified_story(home, ledger, tmp_path)
    src = synth.make_image(tmp_path / "still.png", size=(128, 96), seed=11)
    runner = CliRunner()
    base = ["--home", str(home.path)]
    signed = tmp_path / "still.signed.png"
    res = runner.invoke(cli, [*base, "provenance", "sign", str(src), "--run", ids["run"],
                              "-o", str(signed), "--json"])
    assert res.exit_code == 0, res.output
    out_id = json.loads(res.output)["id"]
    opening = home.path / "provenance" / f"{ids['run']}.model-opening.json"
    res = runner.invoke(cli, [*base, "provenance", "model-check", out_id, "--opening",
                              str(opening), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["ok"] and doc["output"] == out_id and doc["identity"]["model"] == "orbit-1"
    stripped = _reencode_png(signed, tmp_path / "stripped.png")
    res = runner.invoke(cli, [*base, "provenance", "model-check", str(stripped), "--opening",
                              str(opening)])
    assert res.exit_code == 0 and f"ok: output {out_id}" in res.output, res.output
    doc = json.loads(opening.read_text())
    for name, change in (("model", {"identity": {**doc["identity"], "model": "orbit-2"}}),
                         ("salt", {"salt": "00" * 32})):
        forged = tmp_path / f"forged-{name}.json"
        forged.write_text(json.dumps({**doc, **change}))
        res = runner.invoke(cli, [*base, "provenance", "model-check", out_id, "--opening",
                                  str(forged)])
        assert res.exit_code == 1 and "does not open" in res.output, (name, res.output)
    bad = tmp_path / "not-an-opening.json"
    bad.write_text("[]")
    res = runner.invoke(cli, [*base, "provenance", "model-check", out_id, "--opening", str(bad)])
    assert res.exit_code == 2 and res.output.startswith("error:"), res.output


def test_output_verdict_comes_from_the_signed_record_not_the_row(home, ledger, tmp_path) -> None:
    """An uncertified output, stripped of its manifest, is found by fingerprint. Pointing its
    outputs row at a passing certificate of the run (UPDATE) used to make it verify; the signed
    record says it was signed uncertified, and that decides."""
    from sqlalchemy import update

    ids = _certified_story(home, ledger, tmp_path, certify=False)
    src = _media(tmp_path / "media")["image"]
    signed = tmp_path / "signed.png"
    out = provenance.sign(home, ledger, src, ids["run"], signed, uncertified=True)
    assert out["certificate"] is None
    stripped = _reencode_png(signed, tmp_path / "stripped.png")
    # The run is certified later; the output record stays uncertified (it was signed so).
    ch = audit_challenge.challenge_run(home, ledger, ids["run"], 2, ids["auditor"])
    resp = tmp_path / "resp.json"
    audit_challenge.write_private(resp, audit_challenge.respond(
        ledger, ch["challenge"], tmp_path / "manifest.jsonl"))
    cert = certificates.certify(home, ledger, resp, ids["auditor"], territory="US")
    assert cert["result"] == "pass"
    with ledger.db.write() as conn:
        conn.execute(update(outputs).where(outputs.c.id == out["output"])
                     .values(certificate_id=cert["certificate"]))
    report = verify_output(home, ledger, stripped)
    assert report["found_by"] == "fingerprint"
    link = _chain(report)["audit certificate"]
    assert not link["ok"] and "uncertified" in link["detail"]
    assert report["output"]["certificate"] is None and report["exit_code"] == 1


def _crop_png(src: Path, dst: Path, top: float, bottom: float, left: float, right: float,
              *, jpeg: bool = False, half: bool = False) -> Path:
    """Cut the given fractions from each side (then optionally JPEG at quality 10 and a 50 %
    resize): what an image tool or an augmentation pipeline does, with no manifest."""
    with av.open(str(src)) as inp:
        rgb = next(inp.decode(video=0)).to_ndarray(format="rgb24")
    h, w = rgb.shape[:2]
    rgb = rgb[round(h * top):h - round(h * bottom), round(w * left):w - round(w * right)]
    frame = av.VideoFrame.from_ndarray(rgb[: rgb.shape[0] // 2 * 2, : rgb.shape[1] // 2 * 2].copy(),
                                       format="rgb24")
    if half:
        frame = frame.reformat(width=frame.width // 4 * 2, height=frame.height // 4 * 2)
    if jpeg:
        codec = av.CodecContext.create("mjpeg", "w")
        codec.width, codec.height, codec.pix_fmt = frame.width, frame.height, "yuvj420p"
        codec.time_base, codec.qmin, codec.qmax = Fraction(1, 1), 10, 10
        f = frame.reformat(format="yuvj420p")
        f.pts = 0
        dst = dst.with_suffix(".jpg")
        dst.write_bytes(b"".join(bytes(p) for p in [*codec.encode(f), *codec.encode(None)]))
        return dst
    _write_png(frame.to_ndarray(format="rgb24"), dst)
    return dst


def test_stripped_crops_are_recovered_and_attributed(home, ledger, tmp_path) -> None:
    """Crops of up to 10 % (centred, in a corner, on one side; with JPEG and a resize) of a signed
    still, and 10 % crops of a signed video (centred, and off-centre between the windows' grid
    points), are traced back to their records; a crop
    of another picture of the same generator is not."""
    ids = _certified_story(home, ledger, tmp_path)
    gen = tmp_path / "gen"
    gen.mkdir()
    still = synth.make_image(gen / "still.png", size=(320, 240), seed=21)
    film = synth.make_film(gen / "shot.mp4", seconds=3.0, fps=12, size=(256, 144), scenes=2, seed=22)
    signed = {k: provenance.sign(home, ledger, src, ids["run"], tmp_path / f"signed-{src.name}")
              for k, src in (("still", still), ("film", film))}
    s = tmp_path / f"signed-{still.name}"
    cases = {
        "centre 5 %": _crop_png(s, tmp_path / "c5.png", .025, .025, .025, .025),
        "corner 10 %": _crop_png(s, tmp_path / "k10.png", .10, 0, 0, .10),
        "one side 10 %": _crop_png(s, tmp_path / "s10.png", 0, 0, .10, 0),
        "crop 8 % + jpeg + 50 %": _crop_png(s, tmp_path / "j.png", .04, .04, 0, .08, jpeg=True, half=True),
    }
    for name, path in cases.items():
        report = verify_output(home, ledger, path)
        assert report["found_by"] == "fingerprint", (name, report["problems"])
        assert report["output"]["id"] == signed["still"]["output"], name
        assert report["exit_code"] == 0, (name, report["problems"])
    video = synth.transcode_video(tmp_path / f"signed-{film.name}", tmp_path / "crop.mp4", crop=0.10,
                                  bitrate=300_000)
    report = verify_output(home, ledger, video)
    assert report["found_by"] == "fingerprint" and report["output"]["id"] == signed["film"]["output"]
    # off-centre: 10 % cut, 3.5 % of it from the left and 6.5 % from the top (between the
    # signed video's 5 % windows, reached by the lookup's boxes)
    moved = synth.transcode_video(tmp_path / f"signed-{film.name}", tmp_path / "moved.mp4", crop=0.10,
                                  crop_origin=(0.065, 0.035), bitrate=300_000)
    report = verify_output(home, ledger, moved)
    assert report["found_by"] == "fingerprint" and report["output"]["id"] == signed["film"]["output"]
    # attribute traces the cropped still to its record the same way
    from reelrights.outputs.attribution import attribute
    assert attribute(home, ledger, cases["corner 10 %"])["output"]["id"] == signed["still"]["output"]
    # another picture of the generator, cropped the same way: no record
    other = synth.make_image(gen / "other.png", size=(320, 240), seed=23)
    miss = verify_output(home, ledger, _crop_png(other, tmp_path / "o.png", .10, 0, 0, .10))
    assert miss["found_by"] is None and miss["exit_code"] == 1
