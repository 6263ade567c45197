"""C2PA sign/verify round trips per format, tamper, strip and untrusted-signer cases.

Real c2pa-python signing with real certificates from the project's certificate profile, real
media from media/synth.py, and real PyAV re-encodes/remuxes for stripping. No network.
"""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import av
import pypdf
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from reelrights.core.x509 import issue_signer_cert, make_root_cert
from reelrights.errors import BadInput, MediaError
from reelrights.media import synth
from reelrights.media.c2pa_assertions import (
    SOFT_BINDING_LABEL,
    TRAINED_ALGORITHMIC_MEDIA,
    TRAINING_MINING_LABEL,
    TRAINING_RUN_LABEL,
    OutputAssertions,
    ReuseTerm,
    SoftBinding,
    SoftBindingBlock,
    TrainingRunClaim,
)
from reelrights.media.c2pa_engine import read_actions, sidecar_path, sign_output, verify_file
from reelrights.outputs.pki import C2paSigner

PEM = serialization.Encoding.PEM


def _pki(name: str) -> tuple[bytes, C2paSigner]:
    """(root PEM, a developer signer under it), built with the project profile."""
    root_key = Ed25519PrivateKey.generate()
    root = make_root_cert(root_key, common_name=f"{name} root", days=30)
    key = Ed25519PrivateKey.generate()
    leaf = issue_signer_cert(root_key, root, key.public_key(), party_id=f"pty_{name}",
                             party_name=f"{name} Dev", days=10)
    key_pem = key.private_bytes(PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return root.public_bytes(PEM), C2paSigner(f"pty_{name}", leaf.public_bytes(PEM), key_pem)


@pytest.fixture(scope="module")
def project() -> tuple[bytes, C2paSigner]:
    return _pki("project")


@pytest.fixture(scope="module")
def stranger() -> tuple[bytes, C2paSigner]:
    return _pki("stranger")


ASSERTIONS = OutputAssertions(
    training_run=TrainingRunClaim(run="run_7f3k", run_commitment_root="a1" * 32,
                                  audit_certificate_digest="sha256:" + "b2" * 32,
                                  model_commitment="c3" * 32, output_record_log_index=41,
                                  extra={"production": "prod_x"}),
    reuse={"cawg.ai_training": ReuseTerm("notAllowed"),
           "cawg.ai_generative_training": ReuseTerm("notAllowed"),
           "cawg.ai_inference": ReuseTerm("allowed"),
           "cawg.data_mining": ReuseTerm("constrained", "licensed research only")},
    soft_bindings=[SoftBinding("dev.reelrights.pdq.1",
                               (SoftBindingBlock(bytes(range(32)), 0, 1000),
                                SoftBindingBlock(bytes(range(32, 64)), 1000, 2000)),
                               name="PDQ per scene")],
)

# extension -> (maker, failure code of a flipped media byte, where to flip in the signed file)
FORMATS = {
    ".jpg": (lambda p: synth.make_image(p, size=(96, 64)), "assertion.dataHash.mismatch", -20),
    ".png": (lambda p: synth.make_image(p, size=(48, 32)), "assertion.dataHash.mismatch", b"IDAT"),
    ".mp4": (lambda p: synth.make_video(p, seconds=0.5, fps=8, size=(64, 48)),
             "assertion.bmffHash.mismatch", b"mdat"),
    ".mov": (lambda p: synth.make_video(p, seconds=0.5, fps=8, size=(64, 48)),
             "assertion.bmffHash.mismatch", b"mdat"),
    ".wav": (lambda p: synth.make_audio(p, seconds=0.3, sample_rate=8000),
             "assertion.dataHash.mismatch", b"data"),
    ".mp3": (lambda p: synth.make_audio(p, seconds=0.5), "assertion.dataHash.mismatch", -200),
    ".m4a": (lambda p: synth.make_audio(p, seconds=0.5), "assertion.bmffHash.mismatch", b"mdat"),
    ".pdf": (lambda p: synth.make_pdf(p, "INT. DINER - NIGHT\nMaya pours coffee."),
             "assertion.dataHash.mismatch", b"DINER"),
    ".fountain": (lambda p: synth.make_script(p, title="Night Shift", author="A. Writer"),
                  "assertion.dataHash.mismatch", 10),
}


def _signed(tmp_path: Path, ext: str, signer: C2paSigner):
    src = FORMATS[ext][0](tmp_path / f"out{ext}")
    return src, sign_output(src, tmp_path / f"signed{ext}", signer=signer, assertions=ASSERTIONS)


@pytest.mark.parametrize("ext", list(FORMATS))
def test_round_trip_is_trusted_and_keeps_assertions_verbatim(tmp_path, project, ext):
    anchors, signer = project
    src, result = _signed(tmp_path, ext, signer)
    assert result.manifest_label.startswith("urn:c2pa:")
    verdict = verify_file(result.path, anchors=anchors)
    assert verdict.state == "Trusted", verdict.explanations
    assert verdict.failure_codes == ()
    assert "signingCredential.trusted" in verdict.success_codes
    assert verdict.manifest_label == result.manifest_label
    assert (verdict.signer.common_name, verdict.signer.issuer) == ("project Dev", "reelrights")
    assert int(verdict.signer.serial) == signer.certificate.serial_number
    bodies = ASSERTIONS.assertion_bodies()
    for label in (TRAINING_MINING_LABEL, SOFT_BINDING_LABEL, TRAINING_RUN_LABEL):
        assert verdict.assertions[label] == bodies[label], label
    [action] = read_actions(verdict)
    assert (action["action"], action["digitalSourceType"]) == ("c2pa.created",
                                                              TRAINED_ALGORITHMIC_MEDIA)
    assert not any("thumbnail" in label for label in verdict.assertions)
    if ext == ".fountain":  # detached: the text is untouched, the manifest sits beside it
        assert result.sidecar == sidecar_path(result.path) and result.sidecar.is_file()
        assert result.path.read_bytes() == src.read_bytes()
        assert result.sidecar.read_bytes() == result.manifest
    else:
        assert result.sidecar is None
        assert result.bytes_added == result.path.stat().st_size - src.stat().st_size > 1000


@pytest.mark.parametrize("ext", list(FORMATS))
def test_flipped_media_byte_is_invalid_with_the_hash_code(tmp_path, project, ext):
    anchors, signer = project
    _, result = _signed(tmp_path, ext, signer)
    data = bytearray(result.path.read_bytes())
    where = FORMATS[ext][2]
    pos = data.index(where) + len(where) + 8 if isinstance(where, bytes) else where
    data[pos] ^= 0x01
    result.path.write_bytes(bytes(data))
    verdict = verify_file(result.path, anchors=anchors)
    assert verdict.state == "Invalid"
    assert FORMATS[ext][1] in verdict.failure_codes, verdict.failure_codes


def _reencode_image(src: Path, dst: Path) -> None:
    with av.open(str(src)) as inp:
        frame = next(inp.decode(video=0))
    codec = av.CodecContext.create("png" if dst.suffix == ".png" else "mjpeg", "w")
    codec.width, codec.height, codec.time_base = frame.width, frame.height, Fraction(1, 1)
    codec.pix_fmt = "rgb24" if dst.suffix == ".png" else "yuvj420p"
    frame = frame.reformat(format=codec.pix_fmt)
    dst.write_bytes(b"".join(bytes(p) for p in [*codec.encode(frame), *codec.encode(None)]))


def _remux(src: Path, dst: Path) -> None:
    """Stream copy into a fresh container: the packets survive, the C2PA boxes do not."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format=inp.format.name.split(",")[0]) as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams}
        for packet in inp.demux():
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)


def _rewrite_pdf(src: Path, dst: Path) -> None:
    writer = pypdf.PdfWriter()
    for page in pypdf.PdfReader(src).pages:
        writer.add_page(page)
    with dst.open("wb") as f:
        writer.write(f)


@pytest.mark.parametrize("ext", list(FORMATS))
def test_stripped_output_is_not_found(tmp_path, project, ext):
    anchors, signer = project
    _, result = _signed(tmp_path, ext, signer)
    stripped = tmp_path / f"stripped{ext}"
    if ext in (".jpg", ".png"):
        _reencode_image(result.path, stripped)
    elif ext == ".pdf":
        _rewrite_pdf(result.path, stripped)
    elif ext == ".fountain":
        shutil.copyfile(result.path, stripped)  # the text travels without its sidecar
    else:
        _remux(result.path, stripped)
    assert verify_file(stripped, anchors=anchors).state == "NotFound"


def test_an_unsigned_file_is_not_found(tmp_path, project):
    path = synth.make_image(tmp_path / "plain.png", size=(16, 16))
    assert verify_file(path, anchors=project[0]).state == "NotFound"


@pytest.mark.parametrize("ext", [".jpg", ".mp4"])
def test_a_signer_from_another_root_is_valid_but_untrusted(tmp_path, project, stranger, ext):
    _, result = _signed(tmp_path, ext, stranger[1])
    verdict = verify_file(result.path, anchors=project[0])
    assert verdict.state == "Valid"
    assert "signingCredential.untrusted" in verdict.failure_codes
    assert verify_file(result.path, anchors=None).state == "Valid"
    assert verify_file(result.path, anchors=project[0] + stranger[0]).state == "Trusted"


def test_sidecar_can_be_given_explicitly(tmp_path, project):
    anchors, signer = project
    _, result = _signed(tmp_path, ".fountain", signer)
    moved = tmp_path / "elsewhere.bin"
    result.sidecar.rename(moved)
    assert verify_file(result.path, anchors=anchors).state == "NotFound"
    assert verify_file(result.path, anchors=anchors, sidecar=moved).state == "Trusted"


def test_a_self_signed_signer_fails_and_leaves_nothing(tmp_path):
    key = Ed25519PrivateKey.generate()
    cert = make_root_cert(key, common_name="self", days=1)  # a CA cert used as a leaf
    bad = C2paSigner("pty_bad", cert.public_bytes(PEM), key.private_bytes(
        PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    src = synth.make_image(tmp_path / "a.png", size=(16, 16))
    with pytest.raises(MediaError, match="C2PA signing failed"):
        sign_output(src, tmp_path / "out" / "a.png", signer=bad, assertions=ASSERTIONS)
    assert list((tmp_path / "out").iterdir()) == []


def test_bad_input_is_refused_with_the_fix(tmp_path, project):
    src = synth.make_image(tmp_path / "a.png", size=(16, 16))
    with pytest.raises(BadInput, match=r"\.mkv"):
        sign_output(tmp_path / "a.mkv", tmp_path / "b.mkv", signer=project[1], assertions=ASSERTIONS)
    with pytest.raises(BadInput, match="extension must match"):
        sign_output(src, tmp_path / "b.jpg", signer=project[1], assertions=ASSERTIONS)
    with pytest.raises(BadInput, match="new file"):
        sign_output(src, src, signer=project[1], assertions=ASSERTIONS)
    with pytest.raises(BadInput, match="use"):
        ReuseTerm("maybe")
    with pytest.raises(BadInput, match="timespan"):
        SoftBindingBlock(b"x", 5, 1).to_json()
