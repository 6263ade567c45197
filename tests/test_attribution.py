"""Attribution of outputs to licensed works, on both backends: weights per work and bundle,
near-copies (memorized frames and script lines), and performers without covering consent.

The story: Northlight registers Harbour Lights (a film crediting performer Ada), Night Ferry
(a film) and Cold Open (a script), bundled as Catalog A (Harbour Lights, Cold Open) and
Catalog B (Night Ferry), both licensed to Orbit AI. Orbit's run uses both. An output made of
4 s of Harbour Lights and 2 s of Night Ferry is signed for a production and attributed.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import av
import pytest
from click.testing import CliRunner

from reelrights.cli import cli
from reelrights.core.commitment import canonical_item
from reelrights.core.ids import new_id
from reelrights.core.license_terms import training_agreement
from reelrights.evidence import fingerprints, runs
from reelrights.media import synth
from reelrights.media.engine import LocalEngine
from reelrights.outputs import provenance
from reelrights.outputs.attribution import attribute
from reelrights.registry.credits import credit_work
from reelrights.registry.parties import register_party
from reelrights.registry.works import register_work
from reelrights.rights import bundles, consent, licensing

FILM = dict(seconds=8.0, fps=12, size=(320, 180), scenes=4)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("attr")
    m = {"harbour": synth.make_film(root / "harbour.mp4", seed=11, **FILM),
         "ferry": synth.make_film(root / "ferry.mp4", seed=22, **FILM),
         "cold": synth.make_script(root / "cold.fountain", title="Cold Open", author="Ike",
                                   scenes=10, seed=55)}
    m["mix"] = _concat([(m["harbour"], 0.0, 4.0), (m["ferry"], 4.0, 2.0)], root / "mix.mp4")
    lines = m["cold"].read_text("utf-8").split("\n")
    body = [ln for ln in lines if not ln.startswith(("Title:", "Credit:", "Author:"))]
    m["lines"] = root / "generated.txt"
    m["lines"].write_text("\n".join(body[:len(body) // 2]) + "\n", "utf-8")
    return m


def _concat(parts: list[tuple[Path, float, float]], dst: Path) -> Path:
    """Frames [start, start + seconds) of each source, one after another, as one H.264 clip."""
    with av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=FILM["fps"])
        stream.width, stream.height, stream.pix_fmt = *FILM["size"], "yuv420p"
        for src, start, seconds in parts:
            with av.open(str(src)) as inp:
                for frame in inp.decode(video=0):
                    if start <= frame.time < start + seconds - 1e-6:
                        img = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"),
                                                         format="rgb24")
                        for pkt in stream.encode(img.reformat(format="yuv420p")):
                            out.mux(pkt)
        for pkt in stream.encode():
            out.mux(pkt)
    return dst


def _story(home, ledger, media, tmp_path: Path) -> dict:
    ids: dict = {}
    for label, kind, name in [("studio", "studio", "Northlight"), ("dev", "developer", "Orbit AI"),
                              ("ada", "performer", "Ada")]:
        ids[label] = register_party(home, ledger, kind, name).details["id"]
    for label, kind, title in [("harbour", "film", "Harbour Lights"),
                               ("ferry", "film", "Night Ferry"), ("cold", "script", "Cold Open")]:
        ids[label] = register_work(home, ledger, ids["studio"], kind, title,
                                            [media[label]]).details["id"]
    credit_work(home, ledger, ids["harbour"], ids["ada"], "performer", "1")
    summary = fingerprints.fingerprint_paths(home, ledger.db, [media[k] for k in
                                                               ("harbour", "ferry", "cold")],
                                             engine=LocalEngine())
    assert summary.count("ok") == 3
    items = []
    for n, (label, works) in enumerate([("A", ["harbour", "cold"]), ("B", ["ferry"])]):
        b = bundles.create_bundle(home, ledger, ids["studio"], f"Catalog {label}", "1",
                                  [ids[w] for w in works]).details["id"]
        policy = training_agreement(
            uid=f"urn:reelrights:policy:attr-{n}", licensor=ids["studio"], licensee=ids["dev"],
            bundle=b, model_family="orbit", territories=["US"], until="2099-12-31",
            fund_share="2.5")
        lic = licensing.grant_license(home, ledger, b, ids["dev"], policy).details["id"]
        ids[f"bundle_{label}"], ids[f"license_{label}"] = b, lic
        from reelrights.media.probe import sha256_file
        for w in works:
            items.append({"sha256": sha256_file(media[w])[0],
                          "kind": "text" if w == "cold" else "video", "units": 8,
                          "unit": "seconds" if w != "cold" else "tokens",
                          "basis": {"type": "license", "license": lic, "bundle": b}})
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_bytes(b"".join(canonical_item(it) + b"\n" for it in items))
    ids["run"] = runs.commit_run(home, ledger, manifest, ids["dev"], "orbit", "orbit-1")["id"]
    ids["production"] = new_id("production")
    return ids


def test_attribute_weights_near_copies_and_consent(home, ledger, media, tmp_path) -> None:
    ids = _story(home, ledger, media, tmp_path)
    signed = tmp_path / "mix.signed.mp4"
    out = provenance.sign(home, ledger, media["mix"], ids["run"], signed, uncertified=True,
                          production=ids["production"])
    report = attribute(home, ledger, signed, territory="US")
    assert report["found_by"] == "manifest" and report["output"]["id"] == out["output"]
    works = {w["work"]: w for w in report["works"]}
    assert set(works) == {ids["harbour"], ids["ferry"]}
    # 4 s of Harbour Lights, 2 s of Night Ferry: weights about 2/3 and 1/3, summing to 1.
    assert works[ids["harbour"]]["weight"] == pytest.approx(2 / 3, abs=0.1)
    assert works[ids["ferry"]]["weight"] == pytest.approx(1 / 3, abs=0.1)
    assert sum(w["weight"] for w in works.values()) == pytest.approx(1.0, abs=1e-5)
    bundles_ = {b["bundle"]: b for b in report["bundles"]}
    assert set(bundles_) == {ids["bundle_A"], ids["bundle_B"]}
    assert bundles_[ids["bundle_A"]]["weight"] > bundles_[ids["bundle_B"]]["weight"]
    assert all(b["used_by_run"] for b in report["bundles"])
    # Every matched frame is a near-copy of a registered frame, with both times.
    frames = [n for n in report["near_copies"] if n["signal"] == "video"]
    assert frames and all(n["distance"] <= 31 for n in frames)
    assert {w for n in frames for w in n["works"]} == {ids["harbour"], ids["ferry"]}
    ferry = [n for n in frames if ids["ferry"] in n["works"]]
    assert all(n["output_ms"] >= 3900 and n["ref_ms"] >= 3900 for n in ferry)
    # Ada is credited on Harbour Lights and has given no consent: flagged (likeness).
    assert [(f["performer"], f["work"], f["kind"]) for f in report["consent_flags"]] == [
        (ids["ada"], ids["harbour"], "likeness")]
    assert report["exit_code"] == 3
    # Once Ada consents for this production, developer and model family, the flag goes.
    consent.grant_consent(home, ledger, performer=ids["ada"], kinds=["likeness"],
                          description="digital replica of Ada generated for the harbour montage "
                                      "scenes in this production", media=["video"],
                          territory=["US"], start=datetime.now(UTC).date(), end=date(2099, 1, 1),
                          compensation_ref="contract-7", represented_by="none",
                          production=ids["production"], licensee=ids["dev"],
                          model_family="orbit")
    again = attribute(home, ledger, signed, territory="US")
    assert again["consent_flags"] == []
    # A stripped copy is still attributed, and its record found by fingerprint.
    stripped = synth.transcode_video(signed, tmp_path / "stripped.mp4", bitrate=300_000)
    third = attribute(home, ledger, stripped, territory="US")
    assert third["found_by"] == "fingerprint" and third["output"]["id"] == out["output"]
    assert {w["work"] for w in third["works"]} == {ids["harbour"], ids["ferry"]}


def test_attribute_script_lines_and_cli(home, ledger, media, tmp_path) -> None:
    ids = _story(home, ledger, media, tmp_path)
    report = attribute(home, ledger, media["lines"])
    assert report["output"] is None and report["found_by"] is None
    assert [w["work"] for w in report["works"]] == [ids["cold"]]
    assert report["works"][0]["weight"] == 1.0
    assert report["works"][0]["signals"]["text"] > 0.5
    assert [b["bundle"] for b in report["bundles"]] == [ids["bundle_A"]]
    lines = [n for n in report["near_copies"] if n["signal"] == "text"]
    assert lines and all(n["lines"] >= 2 and n["works"] == [ids["cold"]] for n in lines)
    assert report["consent_flags"] == []  # a script match is no depiction
    own = synth.make_script(tmp_path / "own.fountain", title="Own", author="Orbit", scenes=6,
                            seed=77)
    res = CliRunner().invoke(cli, ["--home", str(home.path), "attribute", str(own), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["works"] == []
    res = CliRunner().invoke(cli, ["--home", str(home.path), "attribute", str(media["lines"])])
    assert res.exit_code == 3 and "Cold Open" in res.output and "near-copies" in res.output
