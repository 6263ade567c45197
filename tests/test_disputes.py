"""Whole-asset near-duplicates through the fingerprint index, on generated films (issue 9,
point 7): a re-encoded copy of a studio's film registered by someone else opens an ownership
dispute; a short excerpt is a segment match, reported and not blocking; idents, slates and
black frames are not content."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from reelrights.cli import cli
from reelrights.evidence.fingerprints import IDENT_MAX_MS, content_weights
from reelrights.media.synth import make_film, transcode_video
from reelrights.registry.parties import register_party
from reelrights.registry.works import work_detail
from reelrights.rights import disputes


@pytest.fixture(scope="module")
def films(tmp_path_factory):
    d = tmp_path_factory.mktemp("films")
    film = make_film(d / "harbour.mp4", seconds=16, size=(320, 184), scenes=4, seed=7)
    return {"film": film,
            "copy": transcode_video(film, d / "copy.mp4", bitrate=300_000),
            "web": transcode_video(film, d / "web.mp4", bitrate=500_000, size=(256, 148)),
            "own_with_clip": _concat([transcode_video(film, d / "clip.mp4", start=0.0,
                                                      duration=3.0),
                                      make_film(d / "own.mp4", seconds=13, size=(320, 184),
                                                scenes=3, seed=8)], d / "own_with_clip.mp4")}


def _concat(parts, dst):
    """Re-encode the video of ``parts`` one after another into ``dst`` (H.264)."""
    import av

    with av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 320, 184, "yuv420p"
        n = 0
        for part in parts:
            with av.open(str(part)) as inp:
                for frame in inp.decode(video=0):
                    new = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"),
                                                     format="rgb24").reformat(format="yuv420p")
                    new.pts = n
                    n += 1
                    out.mux(stream.encode(new))
        out.mux(stream.encode(None))
    return dst


def _add(home, owner: str, title: str, path) -> tuple[int, dict]:
    r = CliRunner().invoke(cli, ["--home", str(home.path), "work", "add", "--owner", owner,
                                 "--kind", "film", "--title", title, "--json", str(path)])
    return r.exit_code, json.loads(r.output) if r.output.strip().startswith("{") else r.output


def test_a_transcoded_copy_of_a_studios_film_opens_a_dispute(home, ledger, films) -> None:
    studio = register_party(home, ledger, "studio", "Northlight").details["id"]
    dev = register_party(home, ledger, "developer", "Orbit AI").details["id"]
    code, first = _add(home, studio, "Harbour Lights", films["film"])
    assert code == 0, first
    # The studio registering its own re-encoded copy is one chain: no dispute.
    code, web = _add(home, studio, "Harbour Lights (web)", films["web"])
    assert code == 0 and web["disputes"] == [], web
    code, out = _add(home, dev, "My Film", films["copy"])
    assert code == 3, out
    assert len(out["disputes"]) == 2  # against the film and against the studio's web copy
    originals = {work_detail(ledger.db, t).to_json()["assets"][0]["sha256"]
                 for t in ("Harbour Lights", "Harbour Lights (web)")}
    assert {d["first_asset"] for d in out["disputes"]} == originals
    for d in out["disputes"]:
        assert d["kind"] == "near-duplicate" and (d["first_owner"], d["claimant"]) == (studio, dev)
        shown = disputes.dispute_detail(ledger.db, d["dispute"]).to_json()
        assert shown["matched_ms"] * 5 >= shown["duration_ms"] * 4
    assert {x.id for x in disputes.list_disputes(ledger.db, studio)} == \
        {d["dispute"] for d in out["disputes"]}


def test_a_film_holding_a_short_clip_is_a_segment_match_not_a_dispute(home, ledger, films) -> None:
    studio = register_party(home, ledger, "studio", "Northlight").details["id"]
    dev = register_party(home, ledger, "developer", "Orbit AI").details["id"]
    assert _add(home, studio, "Harbour Lights", films["film"])[0] == 0
    code, out = _add(home, dev, "Own film", films["own_with_clip"])
    assert code == 0, out
    assert out["disputes"] == [] and disputes.list_disputes(ledger.db) == []
    (m,) = out["segment_matches"]
    assert 0 < m["share"] < 0.8


def _print(hashes, quality, times, duration):
    return SimpleNamespace(hashes=np.asarray(hashes, np.uint8), quality=np.asarray(quality),
                           time_ms=np.asarray(times), duration_ms=duration)


def test_idents_slates_and_black_frames_are_not_content() -> None:
    rng = np.random.default_rng(1)
    n = 30
    hashes = rng.integers(0, 256, (n, 32))
    hashes[0:4] = hashes[0]                  # a 4 s static studio ident at the start
    hashes[26:30] = hashes[26]               # a 4 s slate at the end
    quality = np.full(n, 90)
    quality[10:13] = 0                       # black frames
    w = content_weights(_print(hashes, quality, np.arange(n) * 1000, n * 1000))
    assert w[:4].sum() == 0 and w[26:].sum() == 0 and w[10:13].sum() == 0
    assert w.sum() == (n - 4 - 4 - 3) * 1000
    # A static opening longer than an ident is content.
    hashes[0:12] = hashes[0]
    quality[10:13] = 90
    w = content_weights(_print(hashes, quality, np.arange(n) * 1000, n * 1000))
    assert IDENT_MAX_MS < 12_000 and w[:12].sum() == 12_000


def test_only_the_operator_decides_a_dispute_with_the_log_key(home, ledger, tmp_path) -> None:
    """dispute.decided is an operator statement: `dispute decide` signs it with the home's log
    key; the same statement signed by a party (even the first owner) is refused."""
    from reelrights.core.statements import sign_statement
    from reelrights.errors import InvalidStatement

    studio = register_party(home, ledger, "studio", "Northlight").details["id"]
    dev = register_party(home, ledger, "developer", "Orbit AI").details["id"]
    script = tmp_path / "script.txt"
    script.write_text("INT. HARBOUR - NIGHT\nThe ferry horn sounds twice.\n" * 40)
    assert _add(home, studio, "Cold Open", script)[0] == 0
    code, out = _add(home, dev, "Cold Open (mine)", script)
    assert code == 3 and len(out["disputes"]) == 1, out
    dispute_id = out["disputes"][0]["dispute"]
    forged = sign_statement(ledger.new_statement(
        "dispute.decided", studio, {"dispute": dispute_id, "outcome": "first_owner",
                                    "reason": "mine"}), home.party_key(studio))
    with pytest.raises(InvalidStatement, match="signed by the operator with the log's key"):
        ledger.submit([forged])
    assert disputes.dispute_detail(ledger.db, dispute_id).status == "open"
    r = CliRunner().invoke(cli, ["--home", str(home.path), "dispute", "decide", dispute_id,
                                 "--outcome", "first_owner", "--reason",
                                 "the studio registered the script first", "--json"])
    assert r.exit_code == 0, r.output
    decided = json.loads(r.output)
    shown = disputes.dispute_detail(ledger.db, dispute_id).to_json()
    assert (shown["status"], shown["outcome"]) == ("decided", "first_owner")
    with ledger.db.read() as conn:
        from reelrights.core.statements import decode_entry
        s = decode_entry(ledger.log.entry(conn, decided["index"]))
    assert s.actor == "operator" and s.type == "dispute.decided"
    again = CliRunner().invoke(cli, ["--home", str(home.path), "dispute", "decide", dispute_id,
                                     "--outcome", "claimant", "--reason", "changed my mind"])
    assert again.exit_code != 0 and "Traceback" not in again.output
