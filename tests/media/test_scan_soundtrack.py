"""A film's soundtrack gets a landmark print when the film is fingerprinted, so a scan finds the
film by its sound after a +5 % pitch change inside a re-encoded video, under other music at 0 dB
beneath another film's pictures, and in an audio-only rip; a different film with its own
soundtrack matches nothing. End to end (register, fingerprint, scan), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from reelrights.evidence import fingerprints as fp
from reelrights.evidence.scan import scan_files
from reelrights.media import synth
from reelrights.media.engine import FileJob, file_job
from reelrights.media.fingerprint import fingerprint_file
from reelrights.media.fingerprint.landmarks import (
    LandmarkHashes,
    LandmarkPrint,
    landmarks_from_bytes,
)
from reelrights.media.synth_copy import (
    mix_samples,
    pitch_shift,
    read_soundtrack,
    with_soundtrack,
    write_wav,
)
from reelrights.registry.parties import register_party
from reelrights.registry.works import register_work
from reelrights.store.fingerprint_tables import fingerprints

ON = date(2027, 6, 1)
RATE = 44100
SECONDS = 16


@pytest.fixture(scope="module")
def films(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("scan_soundtrack")
    for sub in ("ref", "scan"):
        (d / sub).mkdir()
    kw = {"seconds": SECONDS, "fps": 8, "size": (256, 144), "scenes": 2, "with_audio": True}
    work = synth.make_film(d / "ref" / "harbour.mp4", seed=31, **kw)
    other = synth.make_film(d / "scan" / "other.mp4", seed=32, **kw)  # its own pictures and melody
    sound = read_soundtrack(work, RATE)
    music = read_soundtrack(synth.make_audio(d / "music.wav", seconds=SECONDS, seed=977), RATE)
    higher = pitch_shift(sound, RATE, 1.05)
    return {"work": work, "other": other,
            "pitch": with_soundtrack(work, higher, RATE, d / "scan" / "pitch.mp4"),
            "mix": with_soundtrack(other, mix_samples(sound, music), RATE, d / "scan" / "mix.mp4"),
            "rip": synth.transcode_audio(write_wav(d / "rip.wav", higher[4 * RATE:], RATE),
                                         d / "scan" / "rip.m4a")}


def test_one_decode_gives_chromaprint_and_landmarks(films):
    """fingerprint_file's soundtrack landmarks are those of the decoded audio alone; a
    reference keeps the compact hashes, a copy the full print."""
    both = fingerprint_file(films["work"], "video", landmarks=True)
    assert both.video is not None and both.audio is not None and len(both.landmark) > 500
    assert fingerprint_file(films["work"], "video").landmark is None  # only when asked
    ref = file_job(FileJob(str(films["work"]), "video", crops=True))
    copy = file_job(FileJob(str(films["work"]), "video"))
    assert sorted(ref.prints) == ["audio", "landmark", "vcrop", "video"] and ref.error is None
    assert isinstance(landmarks_from_bytes(ref.prints["landmark"]), LandmarkHashes)
    full = landmarks_from_bytes(copy.prints["landmark"])
    assert isinstance(full, LandmarkPrint) and np.array_equal(full.t1, both.landmark.t1)
    silent = synth.make_film(films["work"].parent.parent / "silent.mp4", seconds=2, fps=6, size=(128, 96))
    assert "landmark" not in file_job(FileJob(str(silent), "video", crops=True)).prints


def test_scan_finds_soundtrack_after_pitch_change_and_0db_mix(home, ledger, films):
    studio = register_party(home, ledger, "studio", "Harbourlight").details["id"]
    dev = register_party(home, ledger, "developer", "Orbit AI").details["id"]
    work_id = register_work(home, ledger, studio, "film", "Harbour", [films["work"]]).details["id"]
    summary = fp.fingerprint_paths(home, ledger.db, [films["work"]])
    assert summary.count("ok") == 1 and summary.outcomes[0].kinds == ["audio", "landmark", "vcrop", "video"]
    sha = summary.outcomes[0].sha256
    with ledger.db.read() as conn:
        row = conn.execute(select(fingerprints).where(fingerprints.c.sha256 == sha,
                                                      fingerprints.c.kind == "landmark")).one()
    assert isinstance(landmarks_from_bytes(bytes(row.data)), LandmarkHashes) and row.items > 500

    report = scan_files(home, [films["pitch"], films["mix"], films["rip"], films["other"]], dev, "orbit",
                        ON, "US", db=ledger.db)
    pitch, mix, rip, other = report.items
    for item in (pitch, mix, rip):
        assert item.error is None and item.verdict == "not-licensed", item.to_json()
        [m] = [m for m in item.matches if m["signal"] == "audio"]
        assert (m["method"], m["sha256"], m["works"]) == ("landmarks", sha, [work_id])
        assert m["similarity"] >= 0.714 and m["contrast"] >= 3.5
    # the re-encoded film: pitch up 5 %, same duration; the whole soundtrack lines up
    m = next(m for m in pitch.matches if m["signal"] == "audio")
    assert abs(m["pitch"] - 1.05) <= 0.011 and m["tempo"] == 1.0
    [r] = m["ranges"]
    assert r["query_start_ms"] < 1000 and r["ref_start_ms"] < 1000
    assert r["query_end_ms"] > (SECONDS - 1) * 1000 and r["ref_end_ms"] > (SECONDS - 1) * 1000
    assert any(m["signal"] == "video" and m["sha256"] == sha for m in pitch.matches)  # its pictures too
    # the 0 dB mix under another film's pictures: found by its sound alone
    assert [m["signal"] for m in mix.matches] == ["audio"] and mix.matches[0]["pitch"] == 1.0
    # the audio-only rip from 4 s: its range starts 4 s into the film
    [r] = rip.matches[0]["ranges"]
    assert rip.category == "audio" and abs(r["ref_start_ms"] - 4000) < 1000 and r["query_start_ms"] < 1000
    assert other.error is None and other.verdict == "no-match" and other.matches == []
    assert report.exit_code == 3
