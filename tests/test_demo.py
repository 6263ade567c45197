"""`reelrights demo DIR`: the end-to-end story runs, and the home it leaves behind checks out."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reelrights.cli import cli
from reelrights.core.checkpoint import open_checkpoint
from reelrights.core.note import NoteVerifier
from reelrights.core.statements import decode_entry
from reelrights.demo import run_demo
from reelrights.errors import BadInput
from reelrights.home import Home
from reelrights.ledger import Ledger
from reelrights.registry.parties import list_parties, party_detail
from reelrights.registry.works import list_works, work_detail


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    mp = pytest.MonkeyPatch()
    mp.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    mp.delenv("REELRIGHTS_HOME", raising=False)
    directory = tmp_path_factory.mktemp("demo") / "story"
    result = CliRunner().invoke(cli, ["demo", str(directory)])
    try:
        yield {"dir": directory, "home": directory / "home", "result": result}
    finally:
        mp.undo()


def cli_ok(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
    return result.stdout


def test_demo_runs_end_to_end(demo) -> None:
    result = demo["result"]
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    out = result.stdout
    for step in ("== A fresh reelrights home", "== Parties join", "== The studio registers",
                 "== Registering the same bytes again", "== Credits with exact shares",
                 "== The log:", "== Verification", "Done."):
        assert step in out, step
    assert "refused, nothing written:" in out and "fully allocated" in out
    assert "proof verified" in out
    # the rights story: denied before the guild co-signs, then allowed; voice only with consent
    checks = [line.strip() for line in out.splitlines() if line.strip() in ("ALLOW", "DENY")]
    assert checks == ["DENY", "ALLOW", "ALLOW", "DENY"]
    assert "missing co-signature" in out and "no consent from" in out
    # evidence: the slipped-in film is caught by the sampled audit's scan, the corrected run passes
    assert "   FAIL: " in out and "   PASS: " in out
    assert "(Night Ferry) which the developer may not train on" in out
    assert out.count(": not-licensed  Night Ferry at ") == 4
    # outputs and money: trusted, recovered when stripped, invalid when tampered; statements
    # reconcile to the cent
    assert "   C2PA: Trusted" in out and "recovered by fingerprint" in out
    assert "C2PA: Invalid (assertion.bmffHash.mismatch)" in out
    assert "near-copy:" in out and "already imported, nothing changed" in out
    assert out.count(" USD = net booked ") == 2 and " != net booked" not in out


def test_demo_home_verifies(demo) -> None:
    home = str(demo["home"])
    assert cli_ok("--home", home, "log", "verify").startswith("ok: ")
    vkey = cli_ok("--home", home, "log", "key").strip()
    nowhere = demo["dir"] / "no-home-here"
    out = cli_ok("--home", str(nowhere), "log", "verify", "--tiles", str(demo["home"] / "log"),
                 "--key", vkey)
    assert out.startswith("ok: ") and not nowhere.exists()
    note = cli_ok("--home", home, "log", "checkpoint").encode()
    cp = open_checkpoint(note, NoteVerifier(vkey))
    # the registry's establishment (index 0 of every new log); 5 parties, 4 works (with the
    # festival cut), 5 credits; then the rights story: the developer,
    # a bundle, an agreement, a membership, a license, its co-signature and a consent; then the
    # evidence (a work, two runs, the auditor, two challenges and certificates) and the outputs
    # and money (two outputs, the fund, a production and its use, three reports, four statements)
    assert cp.size == 1 + 5 + 4 + 5 + 7 + 8 + 12


def test_demo_home_contents(demo) -> None:
    h = Home.open(demo["home"])
    ledger = Ledger.open(h, publish=False)
    try:
        ids = json.loads((demo["dir"] / "ids.json").read_text("utf-8"))
        assert set(ids) == {"studio", "guild", "lead", "support", "writer", "film", "score",
                            "script", "developer", "bundle", "agreement", "license", "consent",
                            "ferry", "run1", "auditor", "certificate1", "run", "certificate",
                            "output", "fund", "production", "statement_studio", "statement_lead",
                            "statement_writer", "statement_guild"}
        ps = [x.to_json() for x in list_parties(ledger.db)]
        assert len(ps) == 8
        assert sorted(p["kind"] for p in ps) == sorted(
            ["studio", "guild", "performer", "performer", "writer", "developer", "auditor",
             "fund"])
        assert {p["id"] for p in ps} == {ids[k] for k in ("studio", "guild", "lead", "support",
                                                          "writer", "developer", "auditor",
                                                          "fund")}
        for p in ps:  # every demo party's private key is in the home and matches
            key = h.party_key(p["id"])
            assert hashlib.sha256(key.public_key_bytes).hexdigest()[:16] == p["key_id"]
        ws = [x.to_json() for x in list_works(ledger.db)]
        assert len(ws) >= 3
        assert all(w["owner"] == ids["studio"] for w in ws)
        categories: dict[str, str] = {}
        media = demo["dir"] / "media"
        for label in ("film", "score", "script"):
            detail = work_detail(ledger.db, ids[label]).to_json()
            (asset,) = detail["assets"]
            categories[label] = asset["category"]
            data = (media / asset["name"]).read_bytes()
            assert asset["sha256"] == hashlib.sha256(data).hexdigest()
            assert asset["size"] == len(data)
        assert categories == {"film": "video", "score": "audio", "script": "text"}
        film = work_detail(ledger.db, ids["film"]).to_json()
        assert film["assets"][0]["media_type"] == "video/mp4"
        assert film["assets"][0]["duration_ms"] == 4000
        assert (film["assets"][0]["width"], film["assets"][0]["height"]) == (320, 240)
        assert film["external_ids"] == ["eidr:10.5240/7791-8534-2C23-9030-8610-5"]
        assert sorted((c["party"], c["role"], c["share"]) for c in film["credits"]) == sorted([
            (ids["lead"], "performer", "0.6"), (ids["support"], "performer", "0.4"),
            (ids["writer"], "writer", "1")])
        score = work_detail(ledger.db, ids["score"]).to_json()
        assert score["assets"][0]["media_type"] == "audio/wav"
        assert [(c["party"], c["share"]) for c in score["credits"]] == [(ids["lead"], "1/3")]
        script = work_detail(ledger.db, ids["script"]).to_json()
        assert script["assets"][0]["media_type"] == "text/x-fountain"
        assert script["assets"][0]["pages"] >= 1 and script["assets"][0]["lines"] > 0
        # the festival cut reuses the film's asset
        cut = [w for w in ws if w["title"] == "Harbour Lights (festival cut)"]
        assert len(cut) == 1
        cut_detail = work_detail(ledger.db, cut[0]["id"]).to_json()
        assert cut_detail["assets"][0]["sha256"] == film["assets"][0]["sha256"]
        # the guild's refused credit left nothing behind
        assert party_detail(ledger.db, ids["guild"]).credits == ()
        with ledger.db.read() as conn:
            size, _ = ledger.log.head(conn)
            stmts = [decode_entry(ledger.log.entry(conn, i)) for i in range(size)]
        types = [s.type for s in stmts]
        # every entry is a v2 leaf of this home's registry, with the log's time
        assert {s.registry for s in stmts} == {h.registry}
        assert all(s.log_time is not None and s.id.startswith("stm_") for s in stmts)
        assert len({s.id for s in stmts}) == size
        assert [s.log_time for s in stmts] == sorted(s.log_time for s in stmts)
        assert types == (["registry.established"] + ["party.registered"] * 5
                         + ["work.registered"] * 4
                         + ["work.credited"] * 5
                         + ["party.registered", "bundle.created", "guild.agreement",
                            "guild.member", "license.granted", "license.cosigned",
                            "consent.granted"]
                         + ["work.registered", "run.committed", "party.registered"]
                         + ["audit.challenged", "audit.certified"]
                         + ["run.committed", "audit.challenged", "audit.certified"]
                         + ["output.registered"] * 2
                         + ["party.registered", "production.registered", "production.uses"]
                         + ["revenue.reported"] * 3 + ["fund.statement"] * 4)
        # the developer's secrets stay on its side, 0600; the first run failed, the second passed
        opening = demo["dir"] / "orbit-ai" / "run-2.jsonl.opening"
        assert oct(opening.stat().st_mode & 0o777) == "0o600"
        from reelrights.evidence import certificates
        assert certificates.show_certificate(ledger.db, ids["certificate1"]).statement[
            "predicate"]["result"] == "fail"
        assert certificates.verify_certificate(h, ledger, ids["certificate"])["valid"]
    finally:
        ledger.db.dispose()


def test_demo_runs_again_in_the_same_folder(tmp_path: Path) -> None:
    """A second `reelrights demo DIR` starts the story over (each run its own process)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("REELRIGHTS_DATABASE_URL", "REELRIGHTS_HOME")}
    exe = Path(sys.executable).with_name("reelrights")
    ids = []
    for _ in range(2):
        done = subprocess.run([str(exe), "demo", str(tmp_path / "again")], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "Done." in done.stdout
        ids.append(json.loads((tmp_path / "again" / "ids.json").read_text("utf-8")))
    assert set(ids[0]) == set(ids[1]) and ids[0]["studio"] != ids[1]["studio"]
    home = Home.open(tmp_path / "again" / "home")
    ledger = Ledger.open(home, publish=False)
    try:
        assert len(list_parties(ledger.db)) == 8  # the old story is gone
    finally:
        ledger.db.dispose()
    assert cli_ok("--home", str(home.path), "log", "verify").startswith("ok: ")


def test_demo_runs_again_in_the_same_process(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    first = run_demo(tmp_path / "again", echo=lambda _line: None)
    second = run_demo(tmp_path / "again", echo=lambda _line: None)
    assert first["studio"] != second["studio"]


def test_demo_refuses_a_folder_that_is_not_a_demo(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(BadInput, match="is not a previous demo"):
        run_demo(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious.txt"]
