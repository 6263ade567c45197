"""reelrights scan: registered works are found after the transformations a training set puts
them through, each match gets the policy engine's verdict, and the report and exit codes say
what a developer may keep. On SQLite and PostgreSQL.

The story (tests/fp_story.py): Harbour Lights (film + theme) is licensed to Orbit AI and in
force; Night Ferry (film + script) is registered and not licensed; Cold Open (script) is licensed
but lacks the guild's co-signature.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from fp_story import media, rights_story  # noqa: F401 (media is a fixture)
from reelrights.cli import cli
from reelrights.errors import BadInput, NotFound
from reelrights.evidence import fingerprints as fp
from reelrights.evidence.scan import read_inputs, scan_files

ON = date(2027, 6, 1)
REFS = ("film_a", "film_b", "song", "script_b", "script_c")
EXPECTED = {  # scanned item -> (verdict, signal, registered original)
    "a_reencoded": ("licensed", "video", "film_a"),
    "a_resized": ("licensed", "video", "film_a"),
    "a_cropped": ("licensed", "video", "film_a"),
    "a_trimmed": ("licensed", "video", "film_a"),
    "b_everything": ("not-licensed", "video", "film_b"),
    "song_mp3": ("licensed", "audio", "song"),
    "song_m4a": ("licensed", "audio", "song"),
    "script_b_reformatted": ("not-licensed", "text", "script_b"),
    "script_c_copy": ("licensed-consent-missing", "text", "script_c"),
    "own_film": ("no-match", None, None),
    "own_audio": ("no-match", None, None),
    "own_script": ("no-match", None, None),
}


@pytest.fixture
def world(home, ledger, media):
    ids = rights_story(home, ledger, media)
    summary = fp.fingerprint_paths(home, ledger.db, [media[k] for k in REFS])
    assert summary.count("ok") == len(REFS), summary.to_json()
    ids["sha"] = {o.path: o.sha256 for o in summary.outcomes}
    return ids


def sha_of(world, media, key: str) -> str:
    return world["sha"][str(media[key].absolute())]


def test_every_transformation_is_found_and_judged(home, ledger, world, media):
    items = [media[k] for k in EXPECTED]
    report = scan_files(home, items, world["dev"], "orbit", ON, "US", db=ledger.db)
    assert [Path(i.path) for i in report.items] == items
    for key, item in zip(EXPECTED, report.items, strict=True):
        verdict, signal, original = EXPECTED[key]
        assert item.error is None, item.error
        assert item.verdict == verdict, (key, item.to_json())
        if original is None:
            assert item.matches == []
            continue
        [m] = item.matches
        assert (m["signal"], m["sha256"]) == (signal, sha_of(world, media, original)), key
        assert m["verdict"] == verdict and m["similarity"] >= 0.8 and m["ranges"]
        if verdict == "licensed":
            assert m["license"] == world["lic_harbour"] and isinstance(m["license_log_index"], int)
        if verdict == "licensed-consent-missing":
            assert m["license"] == world["lic_cold"] and m["missing"] == ["co-signature"]
        if verdict == "not-licensed":
            assert m["license"] is None and any("no bundle licensed" in r for r in m["reasons"])
    by = {k: i.to_json() for k, i in zip(EXPECTED, report.items, strict=True)}
    # Time ranges: the 4 s excerpt from 3 s lines up with the reference from 3 s on.
    [trim] = by["a_trimmed"]["matches"][0]["ranges"]
    assert trim["query_start_ms"] == 0 and trim["ref_start_ms"] == 3000
    assert trim["ref_end_ms"] - trim["ref_start_ms"] == trim["query_end_ms"] - trim["query_start_ms"]
    [b] = by["b_everything"]["matches"][0]["ranges"]
    assert b["ref_start_ms"] - b["query_start_ms"] == 2000  # cut from 2 s, and cropped, resized
    audio = by["song_mp3"]["matches"][0]
    # Audio files are matched by landmarks (the song has a landmark print): factors 1, from 0 s.
    assert audio["method"] == "landmarks" and audio["pitch"] == audio["tempo"] == 1.0
    assert audio["similarity"] > 0.9 and audio["ranges"][0]["ref_start_ms"] < 500
    # Line ranges: the reformatted script's lines map back to the registered script's.
    text = by["script_b_reformatted"]["matches"][0]
    assert text["jaccard"] > 0.9 and text["line_share"] > 0.5
    assert all(r["lines"] >= 2 and r["ref_first_line"] <= r["ref_last_line"]
               for r in text["ranges"])
    s = report.summary()
    assert s["items"] == 12 and s["unreadable"] == 0
    assert {v: d["items"] for v, d in s["by_verdict"].items()} == {
        "licensed": 6, "licensed-consent-missing": 1, "not-licensed": 2, "no-match": 3}
    assert s["by_verdict"]["licensed"]["share"] == 0.5
    assert s["pages"] > 0 and 0 < s["hours"] < 0.05
    assert report.exit_code == 3


def test_cli_scan_writes_jsonl_and_exits_by_finding(home, ledger, world, media, tmp_path):
    base = ["--home", str(home.path), "scan", "--licensee", "Orbit AI", "--model-family", "orbit",
            "--date", "2027-06-01", "--territory", "US", "--engine", "local"]
    runner = CliRunner()
    clean = tmp_path / "clean"
    clean.mkdir()
    for k in ("a_trimmed", "song_m4a", "own_script"):
        (clean / media[k].name).write_bytes(media[k].read_bytes())
    out = tmp_path / "report.jsonl"
    r = runner.invoke(cli, [*base, str(clean), "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == 4 and lines[-1]["summary"] is True
    assert json.loads(r.stdout) == lines[-1]
    assert sorted(x["verdict"] for x in lines[:-1]) == ["licensed", "licensed", "no-match"]
    # A manifest (paths relative to it) with one unlicensed item: exit 3, report on stdout.
    (tmp_path / "data").mkdir()
    for k in ("a_resized", "script_b_reformatted"):
        (tmp_path / "data" / media[k].name).write_bytes(media[k].read_bytes())
    manifest = tmp_path / "train.jsonl"
    manifest.write_text("".join(json.dumps({"path": f"data/{media[k].name}"}) + "\n"
                                for k in ("a_resized", "script_b_reformatted")))
    r = runner.invoke(cli, [*base, str(manifest)])
    assert r.exit_code == 3, r.output
    items = [json.loads(x) for x in r.stdout.splitlines()]
    assert [i.get("verdict") for i in items[:-1]] == ["licensed", "not-licensed"]
    assert "2 items" in r.stderr


def test_unreadable_items_are_reported_and_the_rest_scanned(home, ledger, world, media, tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "broken.mp4").write_bytes(media["film_a"].read_bytes()[:2000])
    (folder / "clip.mp4").write_bytes(media["a_reencoded"].read_bytes())
    (folder / ".hidden.mp4").write_bytes(b"not scanned")
    r = CliRunner().invoke(cli, ["--home", str(home.path), "scan", str(folder), "--licensee",
                                 world["dev"], "--model-family", "orbit", "--date", "2027-06-01",
                                 "--territory", "US", "--engine", "local"])
    assert r.exit_code == 2, r.output
    items = [json.loads(x) for x in r.stdout.splitlines()]
    assert [Path(i["path"]).name for i in items[:-1]] == ["broken.mp4", "clip.mp4"]
    assert items[0]["verdict"] is None and "broken.mp4" in items[0]["error"]
    assert items[1]["verdict"] == "licensed"
    assert items[-1]["unreadable"] == 1
    assert sum(line.startswith("error: ") for line in r.stderr.splitlines()) == 1


def test_bad_input_is_one_line_exit_2(home, ledger, world, media, tmp_path):
    bad_manifest = tmp_path / "m.jsonl"
    bad_manifest.write_text('{"path": "nowhere.mp4"}\n')
    not_json = tmp_path / "n.jsonl"
    not_json.write_text("film.mp4\n")
    runner = CliRunner()
    base = ["--home", str(home.path), "scan", "--model-family", "orbit", "--engine", "local"]
    for args in ([str(tmp_path / "missing"), "--licensee", world["dev"]],
                 [str(bad_manifest), "--licensee", world["dev"]],
                 [str(not_json), "--licensee", world["dev"]],
                 [str(media["own_script"]), "--licensee", "Nobody AI"]):
        r = runner.invoke(cli, [*base, *args])
        assert r.exit_code == 2, (args, r.output)
        assert r.output.startswith("error: ") and r.output.count("\n") == 1, r.output
    with pytest.raises(NotFound):
        scan_files(home, [media["own_script"]], "Nobody AI", "orbit", db=ledger.db)
    with pytest.raises(BadInput, match="m.jsonl:1"):
        read_inputs(bad_manifest)


def test_stale_index_entries_are_ignored_after_recomputing(home, ledger, world, media):
    fp.fingerprint_paths(home, ledger.db, [media["film_a"]], force=True)
    report = scan_files(home, [media["a_resized"]], world["dev"], "orbit", ON, "US", db=ledger.db)
    [item] = report.items
    assert len(item.matches) == 1 and item.verdict == "licensed"


def _cropped(src: Path, dst: Path, cut_w: float, cut_h: float, *, centred: bool) -> Path:
    """``src`` with ``cut_w`` of its width and ``cut_h`` of its height cut away: centred, or
    keeping the top-left corner."""
    import av

    with av.open(str(src)) as c, av.open(str(dst), "w") as out:
        vs = c.streams.video[0]
        s = out.add_stream("libx264", rate=vs.average_rate)
        s.width, s.height = round(vs.width * (1 - cut_w)) & ~1, round(vs.height * (1 - cut_h)) & ~1
        s.pix_fmt = "yuv420p"
        x, y = ((vs.width - s.width) // 2, (vs.height - s.height) // 2) if centred else (0, 0)
        for i, f in enumerate(c.decode(vs)):
            pic = f.to_ndarray(format="rgb24")[y:y + s.height, x:x + s.width]
            g = av.VideoFrame.from_ndarray(pic.copy(), format="rgb24").reformat(format="yuv420p")
            g.pts = i
            out.mux(s.encode(g))
        out.mux(s.encode(None))
    return dst


def test_thorough_mode_finds_a_corner_crop_that_fast_mode_misses(home, ledger, world, media, tmp_path):
    copy = _cropped(media["film_a"], tmp_path / "corner.mp4", 0.2, 0.2, centred=False)
    fast = scan_files(home, [copy], world["dev"], "orbit", ON, "US", db=ledger.db)
    assert fast.items[0].verdict == "no-match"  # fast references have no off-centre windows
    summary = fp.fingerprint_paths(home, ledger.db, [media["film_a"]], force=True, mode="thorough")
    assert summary.count("ok") == 1
    base = ["--home", str(home.path), "scan", str(copy), "--licensee", "Orbit AI", "--model-family",
            "orbit", "--date", "2027-06-01", "--territory", "US", "--engine", "local"]
    r = CliRunner().invoke(cli, [*base, "--mode", "thorough"])
    assert r.exit_code == 0, r.output
    [item] = [json.loads(x) for x in r.stdout.splitlines()][:-1]
    assert item["verdict"] == "licensed" and item["matches"][0]["sha256"] == sha_of(world, media, "film_a")
    r = CliRunner().invoke(cli, [*base, "--mode", "slow"])
    assert r.exit_code == 2 and "slow" in r.output
    with pytest.raises(BadInput, match="fast or thorough|fast, thorough"):
        scan_files(home, [copy], world["dev"], "orbit", ON, "US", db=ledger.db, mode="slow")


def test_a_scan_cuts_a_copy_back_to_the_registered_aspect(home, ledger, world, media, tmp_path):
    # 10 % of the width only: found in fast mode because the scan hands the registered films'
    # aspects to the copy's job (aspect cuts), end to end through the engine
    copy = _cropped(media["film_a"], tmp_path / "narrow.mp4", 0.1, 0.0, centred=True)
    [item] = scan_files(home, [copy], world["dev"], "orbit", ON, "US", db=ledger.db).items
    assert item.verdict == "licensed", item.matches
    assert [m["sha256"] for m in item.matches] == [sha_of(world, media, "film_a")]
