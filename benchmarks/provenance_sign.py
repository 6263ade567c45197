"""What reelrights' C2PA signing costs next to c2pa-python's own minimal sign-and-embed.

For the same files (a ~1 MB PNG, a ~5 MB H.264 MP4, a WAV) and the same signer, it times

* **ours**: :func:`reelrights.media.c2pa_engine.sign_output` in full: building the four
  assertions (actions, cawg.training-mining, a soft binding with per-second blocks, the
  training-run claim), the manifest definition, the offline Context, the Signer, sign + embed,
  temp file + rename, manifest label;
* **baseline**: a c2pa-python Builder with one ``c2pa.actions`` assertion, the same signer and
  the same settings, signing file to file;

interleaved (ours, baseline, ours, ...) so load drift hits both alike, and prints the median
wall and per-process CPU milliseconds and the ratio (target <= 1.2x). A second table compares
Ed25519 with ES256 signer keys (sign + embed, read + validate) on the PNG: the reason the
project CA issues Ed25519.

    .venv/bin/python benchmarks/provenance_sign.py [--runs 15] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import wave
from pathlib import Path

import c2pa
import numpy as np
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from reelrights.core.x509 import issue_signer_cert, make_root_cert
from reelrights.media import synth
from reelrights.media.c2pa_assertions import (
    TRAINED_ALGORITHMIC_MEDIA,
    OutputAssertions,
    ReuseTerm,
    SoftBinding,
    SoftBindingBlock,
    TrainingRunClaim,
)
from reelrights.media.c2pa_engine import c2pa_settings, sign_output, verify_file
from reelrights.outputs.pki import C2paSigner

PEM = serialization.Encoding.PEM


def make_pki(alg: str) -> tuple[bytes, C2paSigner]:
    root_key = Ed25519PrivateKey.generate()
    root = make_root_cert(root_key, common_name="bench root", days=30)
    key = Ed25519PrivateKey.generate() if alg == "ed25519" else ec.generate_private_key(ec.SECP256R1())
    leaf = issue_signer_cert(root_key, root, key.public_key(), party_id="pty_bench",  # type: ignore[arg-type]
                             party_name="Bench Dev", days=10)
    key_pem = key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return root.public_bytes(PEM), C2paSigner("pty_bench", leaf.public_bytes(PEM), key_pem, alg)


def make_media(d: Path, quick: bool) -> dict[str, Path]:
    rng = np.random.default_rng(1)
    h, w = (300, 300) if quick else (560, 600)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx + yy) * 127 // (w + h))], axis=-1)
    img = np.clip(img + rng.normal(0, 40, img.shape), 0, 255).astype(np.uint8)  # film grain
    png = d / "still.png"
    png.write_bytes(synth._png(img))  # noqa: SLF001 - the project's own minimal PNG writer
    mp4 = synth.make_film(d / "shot.mp4", seconds=1.5 if quick else 7.0, size=(640, 360),
                          bitrate=6_000_000, grain=12)
    wav = synth.make_audio(d / "cue.wav", seconds=3.0 if quick else 10.0, sample_rate=48000)
    return {"png": png, "mp4": mp4, "wav": wav}


def our_assertions(seconds: int) -> OutputAssertions:
    """What the provenance service will pass: built inside the timed region."""
    blocks = tuple(SoftBindingBlock(bytes(range(32)), s * 1000, (s + 1) * 1000)
                   for s in range(max(1, seconds)))
    return OutputAssertions(
        TrainingRunClaim("run_bench", "a1" * 32, "sha256:" + "b2" * 32, "c3" * 32, 12345),
        {"cawg.ai_training": ReuseTerm("notAllowed"),
         "cawg.ai_generative_training": ReuseTerm("notAllowed"),
         "cawg.ai_inference": ReuseTerm("allowed"),
         "cawg.data_mining": ReuseTerm("constrained", "licensed research only")},
        [SoftBinding("dev.reelrights.pdq.1", blocks)])


MIMES = {"png": "image/png", "mp4": "video/mp4", "wav": "audio/wav"}


_BASE_CTX: list[c2pa.Context] = []


def baseline(src: Path, dst: Path, signer: C2paSigner, mime: str) -> None:
    """c2pa-python's own minimal sign-and-embed with the same signer and settings. Like ours,
    it reuses one Context (settings parsed once); Builder and Signer are made per call."""
    if not _BASE_CTX:
        _BASE_CTX.append(c2pa.Context(settings=c2pa.Settings.from_dict(
            c2pa_settings(None, verify_trust=False))))
    ctx = _BASE_CTX[0]
    definition = {"assertions": [{"label": "c2pa.actions", "data": {"actions": [
        {"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA}]}}]}
    info = c2pa.C2paSignerInfo(signer.alg.encode(), signer.cert_chain_pem, signer.key_pem, None)
    with c2pa.Builder(definition, context=ctx) as builder, src.open("rb") as s, dst.open("w+b") as o:
        builder.sign(c2pa.Signer.from_info(info), mime, s, o)


def timed(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    w, c = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000


def duration_s(path: Path) -> int:
    if path.suffix == ".wav":
        with wave.open(str(path)) as f:
            return round(f.getnframes() / f.getframerate())
    return 7 if path.suffix == ".mp4" else 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="small files, for a smoke run")
    args = ap.parse_args()
    anchors, signer = make_pki("ed25519")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        media = make_media(d, args.quick)
        print(f"c2pa-python {c2pa.__version__} (c2pa-rs {c2pa.sdk_version()}), Ed25519 signer, "
              f"median of {args.runs} interleaved runs; cpu = this process's CPU time")
        print(f"{'file':<5} {'MB':>6} | {'ours wall':>9} {'cpu':>7} | {'base wall':>9} {'cpu':>7} | "
              f"{'ratio wall':>10} {'cpu':>6} | {'+bytes':>6} {'state':>8}")
        for kind, src in media.items():
            secs = duration_s(src)
            ours, base = [], []
            for i in range(args.runs + 1):  # run 0 warms caches and is dropped
                # Both write a new file, as signing an output does; removing last run's copy
                # is not timed (on ext4, freeing a just-written MB costs ~1.5 ms).
                (d / f"ours.{kind}").unlink(missing_ok=True)
                o = timed(lambda src=src, kind=kind, secs=secs: sign_output(
                    src, d / f"ours.{kind}", signer=signer, assertions=our_assertions(secs)))
                (d / f"base.{kind}").unlink(missing_ok=True)
                b = timed(lambda src=src, kind=kind: baseline(src, d / f"base.{kind}", signer,
                                                              MIMES[kind]))
                if i:
                    ours.append(o)
                    base.append(b)
            med = lambda xs, k: statistics.median(x[k] for x in xs)  # noqa: E731
            state = verify_file(d / f"ours.{kind}", anchors=anchors).state
            added = (d / f"ours.{kind}").stat().st_size - src.stat().st_size
            print(f"{kind:<5} {src.stat().st_size / 1e6:6.2f} | {med(ours, 0):9.1f} {med(ours, 1):7.1f} | "
                  f"{med(base, 0):9.1f} {med(base, 1):7.1f} | {med(ours, 0) / med(base, 0):9.2f}x "
                  f"{med(ours, 1) / med(base, 1):5.2f}x | {added:6d} {state:>8}")
        print("\nsigner key algorithm, PNG, baseline sign+embed and read+validate (ms, median):")
        for alg in ("ed25519", "es256"):
            a_anchors, a_signer = make_pki(alg)
            src, dst = media["png"], d / f"alg.{alg}.png"
            signs = []
            for _ in range(args.runs):
                dst.unlink(missing_ok=True)
                signs.append(timed(lambda src=src, dst=dst, a_signer=a_signer:
                                   baseline(src, dst, a_signer, "image/png")))
            reads = [timed(lambda dst=dst, a_anchors=a_anchors: verify_file(dst, anchors=a_anchors))
                     for _ in range(args.runs)]
            print(f"  {alg:<8} sign {statistics.median(s[0] for s in signs):6.1f} wall "
                  f"{statistics.median(s[1] for s in signs):6.1f} cpu | verify "
                  f"{statistics.median(r[0] for r in reads):6.1f} wall "
                  f"{statistics.median(r[1] for r in reads):6.1f} cpu | "
                  f"{verify_file(dst, anchors=a_anchors).state}")


if __name__ == "__main__":
    main()
