"""The C2PA Soft Binding Resolution API over real HTTP (issue 14, point 5): a developer
publishes with `provenance publish`, anyone resolves a stripped copy with `provenance resolve`
(by binding: only fingerprint values leave the machine; by content: the file, 20 MB / 60 s,
rate-limited), the manifest store is served as application/c2pa, and errors are problems."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from service_kit import make_home

from reelrights.cli import cli
from reelrights.core.note import NoteSigner
from reelrights.ledger import Ledger
from reelrights.media import synth
from reelrights.media.c2pa_engine import manifest_label_of
from reelrights.media.fingerprint.iscc import image_code
from reelrights.outputs import provenance
from reelrights.replica.home import public_log_vkey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_provenance import _certified_story, _media, _reencode_png  # noqa: E402
from test_softbinding import _jpeg_half  # noqa: E402


@pytest.fixture
def published(service, tmp_path):
    return _published(service, tmp_path, "sqlite")


@pytest.fixture
def published_on_each_backend(service, service_backend, tmp_path):
    return _published(service, tmp_path, service_backend)


def _published(service, tmp_path, backend: str):
    home = make_home(tmp_path / "home", backend)
    ledger = Ledger.open(home)
    try:
        ids = _certified_story(home, ledger, tmp_path, certify=False)
        m = _media(tmp_path / "gen")
        outs = [provenance.sign(home, ledger, m["image"], ids["run"], tmp_path / f"s{p}.png",
                                uncertified=True, prompt_sha256=p * 32)["output"]
                for p in ("aa", "bb")]
    finally:
        ledger.close()
    server = service(home=home)
    runner = CliRunner()
    for out in outs:
        r = runner.invoke(cli, ["--home", str(home.path), "provenance", "publish", out,
                                "--to", server.url, "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["output"] == out
    copy = _reencode_png(tmp_path / "saa.png", tmp_path / "copy.png")
    return {"server": server, "outs": outs, "copy": copy, "home": home}


def test_resolve_by_binding_and_by_content_names_both_ties(published) -> None:
    p = published
    runner = CliRunner()
    for by in ("binding", "content"):
        r = runner.invoke(cli, ["provenance", "resolve", str(p["copy"]), "--service",
                                p["server"].url, "--by", by, "--json"])
        assert r.exit_code == 0, r.output
        assert {m["output"] for m in json.loads(r.output)["matches"]} == set(p["outs"])
    algs = httpx.get(p["server"].url + "/v1/services/supportedAlgorithms").json()
    assert "dev.reelrights.pdq.1" in [a["alg"] for a in algs["fingerprints"]]
    got = httpx.get(p["server"].url + f"/v1/manifests/{p['outs'][0]}")
    assert got.status_code == 200 and got.headers["content-type"] == "application/c2pa"
    assert manifest_label_of(got.content).startswith("urn:c2pa:")


def test_errors_are_problems_and_by_content_is_bounded(published, tmp_path) -> None:
    url = published["server"].url
    bad = httpx.get(url + "/v1/matches/byBinding", params={"alg": "x.y", "value": "AAAA"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(
        "application/problem+json")
    assert "not supported" in bad.json()["detail"]
    missing = httpx.get(url + "/v1/manifests/urn:c2pa:nope")
    assert missing.status_code == 404
    big = httpx.post(url + "/v1/matches/byContent", content=b"\0" * (20 * 2**20 + 1),
                     headers={"content-type": "image/png"}, timeout=60)
    assert big.status_code == 413
    codes = [httpx.post(url + "/v1/matches/byContent", content=b"not media",
                        headers={"content-type": "image/png"}).status_code for _ in range(8)]
    assert 429 in codes  # 5 in a burst, then one every 2 s
    r = CliRunner().invoke(cli, ["provenance", "resolve", str(tmp_path / "nothing.png"),
                                 "--service", url])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_an_oversized_publication_is_refused_before_it_is_read(published) -> None:
    url = published["server"].url
    r = httpx.post(url + f"/v1/outputs/{published['outs'][0]}/binding",
                   content=b"{" * (64 * 2**20 + 1), headers={"content-type": "application/json"},
                   timeout=120)
    assert r.status_code == 413 and r.headers["content-type"].startswith(
        "application/problem+json")


CLI = "import sys; from reelrights.cli import main; sys.argv[0] = 'reelrights'; main()"
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _fresh(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`reelrights ARGS` in a new interpreter with no home (HOME points nowhere, no
    REELRIGHTS_* variable, an empty working directory but for the files given)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELRIGHTS_")}
    env.update(HOME=str(cwd / "no-such-home"), PYTHONPATH=SRC)
    return subprocess.run([sys.executable, "-c", CLI, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_stripped_output_is_recovered_and_its_embedded_proof_verifies_offline(
        published_on_each_backend, tmp_path) -> None:
    """Issue 14: strip the manifest (a lossless re-encode), recover it through the soft-binding
    API (by binding and by content), verify the recovered manifest's embedded proof in a fresh
    process with no home, the log key alone; a changed byte of the recovered manifest fails."""
    p = published_on_each_backend
    away = tmp_path / "away"
    away.mkdir()
    (away / "log.vkey").write_text(public_log_vkey(p["home"]) + "\n")
    shutil.copy(p["copy"], away / "copy.png")
    r = _fresh(["verify", "copy.png", "--log-key", "log.vkey"], away)
    assert r.returncode == 2 and "no C2PA manifest" in r.stderr, r.stderr  # stripped
    runner = CliRunner()
    for by in ("binding", "content"):
        r = runner.invoke(cli, ["provenance", "resolve", str(away / "copy.png"), "--service",
                                p["server"].url, "--by", by, "--json"])
        assert r.exit_code == 0, r.output
        found = [m["output"] for m in json.loads(r.output)["matches"]]
        assert set(found) == set(p["outs"]), by
    for out in p["outs"]:
        got = httpx.get(p["server"].url + f"/v1/manifests/{out}")
        assert got.status_code == 200 and got.headers["content-type"] == "application/c2pa"
        (away / "recovered.c2pa").write_bytes(got.content)
        r = _fresh(["verify", "recovered.c2pa", "--log-key", "log.vkey", "--json"], away)
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout)
        assert report["ok"] and report["kind"] == "output" and out in r.stdout, report
        assert any("detached C2PA manifest store: claim signature validated" in c
                   for c in report["checks"])
        assert any("manifest's run" in c for c in report["checks"])
    # A changed byte inside the embedded proof's assertion: the manifest no longer verifies.
    data = bytearray(got.content)
    at = data.index(b"c2sp.org/tlog-proof@v1") + 40
    data[at] ^= 0x01
    (away / "changed.c2pa").write_bytes(bytes(data))
    r = _fresh(["verify", "changed.c2pa", "--log-key", "log.vkey"], away)
    assert r.returncode == 1 and "does not verify" in r.stderr, r.stderr
    # Another log's key: the embedded proof's checkpoint is not that log's.
    (away / "other.vkey").write_text(NoteSigner("other.example/log", bytes([7]) * 32).vkey + "\n")
    r = _fresh(["verify", "recovered.c2pa", "--log-key", "other.vkey"], away)
    assert r.returncode == 1, r.stderr
    assert not (away / "no-such-home").exists()


def test_iscc_resolves_a_resized_jpeg_from_a_homeless_client(published_on_each_backend,
                                                             tmp_path) -> None:
    """io.iscc.v0 beside PDQ: the published image output, manifest stripped, JPEG re-encoded
    and resized 50 %, is found by its ISCC Image-Code by binding and by content from a process
    with no home, and the match gives back that output's manifest; an unrelated picture is not
    found; an unknown algorithm is a problem."""
    p = published_on_each_backend
    url = p["server"].url
    algs = httpx.get(url + "/v1/services/supportedAlgorithms").json()["fingerprints"]
    assert {"alg": "io.iscc.v0", "media": ["image"]} in algs
    assert "dev.reelrights.pdq.1" in [a["alg"] for a in algs]
    away = tmp_path / "away"
    away.mkdir()
    _jpeg_half(p["copy"], away / "copy.jpg")
    synth.make_image(away / "other.png", size=(128, 96), seed=77)
    for by in ("binding", "content"):
        r = _fresh(["provenance", "resolve", "copy.jpg", "--service", url, "--by", by,
                    "--alg", "io.iscc.v0", "--json"], away)
        assert r.returncode == 0, r.stderr
        matches = json.loads(r.stdout)["matches"]
        assert {m["output"] for m in matches} == set(p["outs"]), by
        assert {m["signal"] for m in matches} == {"iscc"}
        r = _fresh(["provenance", "resolve", "other.png", "--service", url, "--by", by,
                    "--alg", "io.iscc.v0"], away)
        assert r.returncode == 1 and "no output" in r.stdout, (by, r.stdout, r.stderr)
    # the match's manifestId gives that output's manifest store back
    code = image_code(away / "copy.jpg").iscc
    got = httpx.get(url + "/v1/matches/byBinding", params={"alg": "io.iscc.v0", "value": code})
    assert got.status_code == 200
    for m in got.json()["matches"]:
        store = httpx.get(url + f"/v1/manifests/{m['manifestId']}")
        assert store.status_code == 200 and manifest_label_of(store.content) == m["manifestId"]
        assert m["output"].encode() in store.content
    bad = httpx.post(url + "/v1/matches/byContent", params={"alg": "com.example.other"},
                     content=(away / "copy.jpg").read_bytes(),
                     headers={"content-type": "image/jpeg"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(
        "application/problem+json") and "not supported" in bad.json()["detail"]
    bad = httpx.get(url + "/v1/matches/byBinding", params={"alg": "io.iscc.v0", "value": "AAAA"})
    assert bad.status_code == 422 and "ISCC Image-Code" in bad.json()["detail"]
    assert not (away / "no-such-home").exists()
