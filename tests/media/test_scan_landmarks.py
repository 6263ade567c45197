"""reelrights scan finds a registered recording after a pitch change and under music at 0 dB, by
the landmark prints stored when the work was fingerprinted; an unrelated recording of the same
generator is not found. End to end (register, fingerprint, scan), on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from reelrights.errors import BadInput
from reelrights.evidence import fingerprints as fp
from reelrights.evidence.scan import scan_files
from reelrights.evidence.scan_audio import LandmarkRegistry
from reelrights.media import synth
from reelrights.media.fingerprint.landmarks import (
    RATE,
    LandmarkHashes,
    fingerprint_landmarks,
    landmarks_from_bytes,
)
from reelrights.media.index import LandmarkSegmentIndex
from reelrights.media.synth_copy import mix_equal, read_wav, resample_speed, write_wav
from reelrights.registry.parties import register_party
from reelrights.registry.works import register_work
from reelrights.store.fingerprint_tables import fingerprints

ON = date(2027, 6, 1)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("scan_landmarks")
    for sub in ("ref", "scan"):
        (d / sub).mkdir()
    work = synth.make_audio(d / "ref" / "tide.wav", seconds=30, sample_rate=RATE, seed=61)
    x, rate = read_wav(work)
    # 12 s from 6 s, played 5 % slower: pitch (and tempo) down 5 %, then MP3.
    slow = write_wav(d / "slow.wav", resample_speed(x[6 * rate:18 * rate], 0.95), rate)
    bed = synth.make_audio(d / "bed.wav", seconds=20, sample_rate=RATE, seed=977)
    return {"work": work,
            "pitch": synth.transcode_audio(slow, d / "scan" / "pitch.mp3"),
            "mix": mix_equal(work, bed, d / "scan" / "mix.wav", start_s=4.0, seconds=15.0, rate=RATE),
            "other": synth.make_audio(d / "scan" / "other.wav", seconds=15, sample_rate=RATE, seed=702)}


def test_scan_finds_pitch_change_and_0db_mix_by_landmarks(home, ledger, clips):
    studio = register_party(home, ledger, "studio", "Tidewater").details["id"]
    dev = register_party(home, ledger, "developer", "Orbit AI").details["id"]
    register_work(home, ledger, studio, "film", "Tide", [clips["work"]])
    summary = fp.fingerprint_paths(home, ledger.db, [clips["work"]])
    assert summary.count("ok") == 1 and summary.outcomes[0].kinds == ["audio", "landmark"]
    sha = summary.outcomes[0].sha256
    with ledger.db.read() as conn:
        row = conn.execute(select(fingerprints).where(fingerprints.c.sha256 == sha,
                                                      fingerprints.c.kind == "landmark")).one()
    stored = landmarks_from_bytes(bytes(row.data))
    assert isinstance(stored, LandmarkHashes) and row.items == len(stored) > 1000
    assert len(row.data) == 18 + 8 * row.items  # compact: hash + anchor time per pair

    report = scan_files(home, [clips["pitch"], clips["mix"], clips["other"]], dev, "orbit", ON,
                        "US", db=ledger.db)
    pitch, mix, other = report.items
    for item in (pitch, mix):
        assert item.error is None and item.verdict == "not-licensed", item.to_json()
        [m] = item.matches
        assert (m["signal"], m["method"], m["sha256"]) == ("audio", "landmarks", sha)
        assert m["similarity"] >= 0.714 and m["contrast"] >= 3.5
    [r] = pitch.matches[0]["ranges"]
    assert abs(pitch.matches[0]["pitch"] - 0.95) <= 0.011
    assert abs(pitch.matches[0]["tempo"] - 1 / 0.95) <= 0.011
    assert r["query_start_ms"] < 1000 and abs(r["ref_start_ms"] - 6000) < 1000
    assert abs(r["ref_end_ms"] - 18000) < 1000 and r["query_end_ms"] > 12000 / 0.95 - 1000
    [r] = mix.matches[0]["ranges"]
    assert mix.matches[0]["pitch"] == mix.matches[0]["tempo"] == 1.0
    assert abs(r["ref_start_ms"] - 4000) < 1000 and abs(r["ref_end_ms"] - 19000) < 1000
    assert other.error is None and other.verdict == "no-match" and other.matches == []
    assert report.exit_code == 3


def _landmark_seq(ledger, sha: str) -> int:
    with ledger.db.read() as conn:
        return int(conn.scalar(select(fingerprints.c.seq).where(
            fingerprints.c.sha256 == sha, fingerprints.c.kind == "landmark")))


def _registry(home, ledger) -> LandmarkRegistry:
    with ledger.db.read() as conn:
        return LandmarkRegistry(home.path / "index" / "landmarks").load(conn)


def test_scan_maps_the_landmark_index_and_reads_rows_it_lacks(home, ledger, clips):
    """Fingerprinting writes the print to index/landmarks and a scan searches it without reading
    print data; a home whose index lacks the row still finds the recording (the row is read from
    the database) until --rebuild-index; a recomputed print's old seq, still in the index, gets
    no votes."""
    studio = register_party(home, ledger, "studio", "Tidewater").details["id"]
    dev = register_party(home, ledger, "developer", "Orbit AI").details["id"]
    register_work(home, ledger, studio, "film", "Tide", [clips["work"]])
    sha = fp.fingerprint_paths(home, ledger.db, [clips["work"]]).outcomes[0].sha256
    seq = _landmark_seq(ledger, sha)
    lm_dir = home.path / "index" / "landmarks"
    assert LandmarkSegmentIndex.open(lm_dir).ids.tolist() == [seq]
    query = fingerprint_landmarks(clips["mix"])
    mapped = _registry(home, ledger)
    assert mapped.unindexed == 0 and [m.id for m in mapped.search(query)] == [seq]

    shutil.rmtree(lm_dir)  # a home indexed before landmarks had an index, or a crash before the flush
    fallback = _registry(home, ledger)
    assert fallback.unindexed == 1 and fallback.search(query) == mapped.search(query)
    [item] = scan_files(home, [clips["mix"]], dev, "orbit", ON, "US", db=ledger.db).items
    assert [(m["method"], m["sha256"]) for m in item.matches] == [("landmarks", sha)]
    assert not lm_dir.exists()  # a scan writes no index

    assert fp.rebuild_indexes(home, ledger.db)["landmark"] == 1
    assert LandmarkSegmentIndex.open(lm_dir).ids.tolist() == [seq]
    assert _registry(home, ledger).unindexed == 0

    fp.fingerprint_paths(home, ledger.db, [clips["work"]], force=True)
    new_seq = _landmark_seq(ledger, sha)
    assert new_seq != seq and sorted(LandmarkSegmentIndex.open(lm_dir).ids.tolist()) == [seq, new_seq]
    fresh = _registry(home, ledger)
    assert fresh.ignore.tolist() == [seq] and fresh.unindexed == 0
    assert [m.id for m in fresh.search(query)] == [new_seq]
    [item] = scan_files(home, [clips["mix"]], dev, "orbit", ON, "US", db=ledger.db).items
    assert [(m["method"], m["sha256"]) for m in item.matches] == [("landmarks", sha)]


def test_rebuild_and_forged_landmark_blobs(home, ledger, clips):
    """Landmark rows survive an index rebuild (and are indexed again); a truncated or
    relabelled blob is refused, not read as another kind."""
    studio = register_party(home, ledger, "studio", "Tidewater").details["id"]
    register_work(home, ledger, studio, "film", "Tide", [clips["work"]])
    fp.fingerprint_paths(home, ledger.db, [clips["work"]])
    assert fp.rebuild_indexes(home, ledger.db)["landmark"] == 1
    assert len(LandmarkSegmentIndex.open(home.path / "index" / "landmarks")) == 1
    with ledger.db.read() as conn:
        blob = bytes(conn.scalar(select(fingerprints.c.data)
                                 .where(fingerprints.c.kind == "landmark")))
    with pytest.raises(BadInput, match="landmark hashes blob"):
        landmarks_from_bytes(blob[:-4])
    with pytest.raises(BadInput):  # the compact body under the full print's kind byte
        landmarks_from_bytes(blob[:4] + b"L" + blob[5:])
