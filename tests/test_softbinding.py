"""Soft-binding resolution (issue 14, point 5) on both backends: a developer publishes an
output's prints and manifest, signed; anyone then recovers a stripped copy by binding or by
content, and two outputs that match equally well are both named. Attacks: another party's
signature, prints that are not the logged fingerprint, a tampered payload, a publication
addressed to another output. ISCC (io.iscc.v0): a resized JPEG copy is found by its Image-Code
by binding and by content, an unrelated picture is not; a tampered, unsigned, foreign or
malformed ISCC value in a publication is refused."""

from __future__ import annotations

import base64
import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import delete

from reelrights.core.dsse import sign_envelope
from reelrights.errors import BadInput, NotFound, PolicyDenied, SignatureError
from reelrights.keys import PartyKey
from reelrights.media import synth
from reelrights.media.fingerprint.iscc import IsccPrint, image_code
from reelrights.outputs import provenance, resolution
from reelrights.outputs.output_index import ISCC_RADIUS, fingerprint_output, index_dir
from reelrights.store.provenance_tables import output_manifests, output_prints
from test_provenance import _certified_story, _media, _reencode_png


def _signed_outputs(home, ledger, tmp_path: Path) -> dict:
    ids = _certified_story(home, ledger, tmp_path, certify=False)
    m = _media(tmp_path / "gen")
    out = {}
    # The same still signed twice (two prompts): two records that match a copy equally well.
    for name, prompt in (("still_a", "aa"), ("still_b", "bb")):
        out[name] = provenance.sign(home, ledger, m["image"], ids["run"], tmp_path / f"{name}.png",
                                    uncertified=True, prompt_sha256=prompt * 32)
    out["video"] = provenance.sign(home, ledger, m["video"], ids["run"], tmp_path / "v.mp4",
                                   uncertified=True)
    envelopes = {k: resolution.publication(home, ledger.db, v["output"]) for k, v in out.items()}
    # The service's side starts without any published prints or manifests.
    with ledger.db.write() as conn:
        conn.execute(delete(output_prints))
        conn.execute(delete(output_manifests))
    shutil.rmtree(index_dir(home), ignore_errors=True)
    return {"ids": ids, "media": m, "signed": out, "env": envelopes}


def test_publish_then_recover_by_content_and_binding(home, ledger, tmp_path) -> None:
    s = _signed_outputs(home, ledger, tmp_path)
    copy = _reencode_png(tmp_path / "still_a.png", tmp_path / "copy.png")  # manifest stripped
    assert resolution.by_content(home, ledger.db, copy) == []  # nothing published yet
    for name, env in s["env"].items():
        got = resolution.publish(home, ledger.db, env.to_json(), s["signed"][name]["output"])
        assert got["output"] == s["signed"][name]["output"]
    found = resolution.by_content(home, ledger.db, copy)
    ties = {s["signed"]["still_a"]["output"], s["signed"]["still_b"]["output"]}
    assert {m.output for m in found} == ties  # both named, neither picked silently
    assert found[0].similarity == found[1].similarity >= 90
    pdq = fingerprint_output(copy).soft_binding().blocks[0].value
    by_value = resolution.by_binding(home, ledger.db, "dev.reelrights.pdq.1",
                                     base64.b64encode(pdq).decode())
    assert {m.output for m in by_value} == ties
    data, label = resolution.manifest(ledger.db, s["signed"]["video"]["output"])
    assert label == s["signed"]["video"]["manifest_label"] and data[:4] != b""
    assert resolution.manifest(ledger.db, label)[1] == label
    with pytest.raises(NotFound):
        resolution.manifest(ledger.db, "urn:c2pa:00000000-0000-0000-0000-000000000000")
    # publishing again is idempotent (same rows, same answers)
    resolution.publish(home, ledger.db, s["env"]["video"].to_json())
    assert {m.output for m in resolution.by_content(home, ledger.db, copy)} == ties


def test_publication_attacks(home, ledger, tmp_path) -> None:
    s = _signed_outputs(home, ledger, tmp_path)
    env = s["env"]["still_a"]
    doc = json.loads(env.payload)
    # signed by another party (the studio), not the output's developer
    forged = sign_envelope(resolution.PAYLOAD_TYPE, env.payload,
                           home.party_key(s["ids"]["studio"]))
    with pytest.raises(PolicyDenied, match="cannot publish"):
        resolution.publish(home, ledger.db, forged.to_json())
    stranger = sign_envelope(resolution.PAYLOAD_TYPE, env.payload, PartyKey.generate())
    with pytest.raises(SignatureError):  # a key no party registered
        resolution.publish(home, ledger.db, stranger.to_json())
    # one byte of the payload changed after signing
    tampered = env.to_json()
    tampered["payload"] = base64.b64encode(env.payload.replace(b'"format"', b'"formaT"')).decode()
    with pytest.raises(SignatureError):
        resolution.publish(home, ledger.db, tampered)
    # the developer signs another output's prints under this output: not its logged fingerprint
    other = json.loads(s["env"]["video"].payload)
    swapped = {**doc, "prints": {"video": other["prints"]["video"]}}
    resigned = sign_envelope(resolution.PAYLOAD_TYPE, json.dumps(swapped).encode(),
                             home.party_key(s["ids"]["dev"]))
    with pytest.raises(PolicyDenied, match="does not hash to the fingerprint"):
        resolution.publish(home, ledger.db, resigned.to_json())
    # addressed to another output
    with pytest.raises(BadInput, match="is for"):
        resolution.publish(home, ledger.db, env.to_json(), s["signed"]["video"]["output"])
    with pytest.raises(BadInput):
        resolution.publish(home, ledger.db, b"not json")
    with pytest.raises(BadInput, match="not supported"):
        resolution.by_binding(home, ledger.db, "com.example.other", "AAAA")
    with pytest.raises(BadInput, match="32-byte"):
        resolution.by_binding(home, ledger.db, "dev.reelrights.pdq.1", "AAAA")
    with pytest.raises(BadInput, match="maxResults"):
        resolution.by_binding(home, ledger.db, "dev.reelrights.pdq.1", "AAAA", 0)
    # nothing was stored by any refused publication
    copy = _reencode_png(tmp_path / "still_a.png", tmp_path / "copy.png")
    assert resolution.by_content(home, ledger.db, copy) == []


# -- ISCC (io.iscc.v0) --------------------------------------------------------------------------
def _jpeg_half(src: Path, dst: Path) -> Path:
    """Manifest stripped, JPEG re-encoded and resized to 50 % (what a web upload does)."""
    import av

    from reelrights.media.fingerprint.stills import load_rgb

    rgb = load_rgb(src)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        width=rgb.shape[1] // 2, height=rgb.shape[0] // 2, format="yuvj420p")
    enc = av.CodecContext.create("mjpeg", "w")
    enc.width, enc.height, enc.pix_fmt, enc.time_base = frame.width, frame.height, "yuvj420p", \
        Fraction(1, 1)
    enc.qmin = enc.qmax = 8
    frame.pts = 0
    dst.write_bytes(b"".join(bytes(p) for p in [*enc.encode(frame), *enc.encode(None)]))
    return dst


def test_iscc_binding_and_content_find_a_resized_jpeg(home, ledger, tmp_path) -> None:
    s = _signed_outputs(home, ledger, tmp_path)
    doc = json.loads(s["env"]["still_a"].payload)
    assert "iscc" in doc["prints"] and "iscc" not in json.loads(s["env"]["video"].payload)["prints"]
    for name, env in s["env"].items():
        resolution.publish(home, ledger.db, env.to_json(), s["signed"][name]["output"])
    assert {"alg": "io.iscc.v0", "media": ["image"]} in \
        resolution.supported_algorithms()["fingerprints"]
    copy = _jpeg_half(tmp_path / "still_a.png", tmp_path / "copy.jpg")
    code = image_code(copy)
    stored = IsccPrint.from_bytes(base64.b64decode(doc["prints"]["iscc"]))
    assert 0 < (code.body ^ stored.body).bit_count() <= ISCC_RADIUS or code == stored
    ties = {s["signed"]["still_a"]["output"], s["signed"]["still_b"]["output"]}
    for value in (code.iscc, base64.b64encode(code.to_bytes()).decode()):
        found = resolution.by_binding(home, ledger.db, "io.iscc.v0", value)
        assert {m.output for m in found} == ties and found[0].signal == "iscc"
        assert found[0].similarity == found[1].similarity >= 90
    found = resolution.by_content(home, ledger.db, copy, alg="io.iscc.v0")
    assert {m.output for m in found} == ties
    label = s["signed"]["still_a"]["manifest_label"]
    assert label in {m.manifest_id for m in found}
    # an unrelated picture matches nothing, by binding or by content
    other = synth.make_image(tmp_path / "other.png", size=(128, 96), seed=77)
    assert (image_code(other).body ^ stored.body).bit_count() > ISCC_RADIUS
    assert resolution.by_content(home, ledger.db, other, alg="io.iscc.v0") == []
    assert resolution.by_binding(home, ledger.db, "io.iscc.v0", image_code(other).iscc) == []
    # bad values and algorithms are one clear line each
    with pytest.raises(BadInput, match="ISCC Image-Code"):
        resolution.by_binding(home, ledger.db, "io.iscc.v0", "AAAA")
    with pytest.raises(BadInput, match="ISCC Image-Code"):  # a text code is not an image's
        resolution.by_binding(home, ledger.db, "io.iscc.v0", "ISCC:EAASKDNZNYGUUF5A")
    with pytest.raises(BadInput, match="not supported"):
        resolution.by_content(home, ledger.db, copy, alg="com.example.other")
    with pytest.raises(BadInput, match="for images"):
        resolution.by_content(home, ledger.db, s["media"]["audio"], alg="io.iscc.v0")


def test_iscc_publication_attacks(home, ledger, tmp_path) -> None:
    s = _signed_outputs(home, ledger, tmp_path)
    env, dev = s["env"]["still_a"], home.party_key(s["ids"]["dev"])
    doc = json.loads(env.payload)
    other = image_code(synth.make_image(tmp_path / "other.png", size=(128, 96), seed=77))
    forged_doc = {**doc, "prints": {**doc["prints"],
                                    "iscc": base64.b64encode(other.to_bytes()).decode()}}
    # the ISCC value changed after signing: the signature no longer holds
    tampered = env.to_json()
    tampered["payload"] = base64.b64encode(json.dumps(forged_doc).encode()).decode()
    with pytest.raises(SignatureError):
        resolution.publish(home, ledger.db, tampered)
    unsigned = {**tampered, "signatures": []}
    with pytest.raises((SignatureError, BadInput)):
        resolution.publish(home, ledger.db, unsigned)
    stranger = sign_envelope(resolution.PAYLOAD_TYPE, json.dumps(forged_doc).encode(),
                             PartyKey.generate())
    with pytest.raises(SignatureError):
        resolution.publish(home, ledger.db, stranger.to_json())
    # another party (the studio) signing the developer's output with another picture's code
    studio = sign_envelope(resolution.PAYLOAD_TYPE, json.dumps(forged_doc).encode(),
                           home.party_key(s["ids"]["studio"]))
    with pytest.raises(PolicyDenied, match="cannot publish"):
        resolution.publish(home, ledger.db, studio.to_json())
    # the developer's own signature, but a value that is no ISCC Image-Code
    junk = {**doc, "prints": {**doc["prints"], "iscc": base64.b64encode(b"\x00" * 10).decode()}}
    with pytest.raises(BadInput, match="does not decode"):
        resolution.publish(home, ledger.db, sign_envelope(
            resolution.PAYLOAD_TYPE, json.dumps(junk).encode(), dev).to_json())
    # an ISCC Image-Code on a video output
    vdoc = json.loads(s["env"]["video"].payload)
    vdoc["prints"]["iscc"] = doc["prints"]["iscc"]
    with pytest.raises(BadInput, match="image's"):
        resolution.publish(home, ledger.db, sign_envelope(
            resolution.PAYLOAD_TYPE, json.dumps(vdoc).encode(), dev).to_json())
    # nothing stored by any of them: neither picture's code finds an output
    for code in (other, IsccPrint.from_bytes(base64.b64decode(doc["prints"]["iscc"]))):
        assert resolution.by_binding(home, ledger.db, "io.iscc.v0", code.iscc) == []
