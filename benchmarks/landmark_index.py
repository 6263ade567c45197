"""Scan start-up against a catalogue of films' soundtracks: the landmark index read from the
database rows (before index/landmarks) against the memory-mapped index, side by side.

    .venv/bin/python benchmarks/landmark_index.py [--films 25] [--hours 2] [--flush-every 10]

Makes a home (SQLite) with ``--films`` registered soundtracks' ``landmark`` rows: synthetic
:class:`LandmarkHashes` of realistic size (170 peak pairs a second, 8 bytes each: 10 MB for a
2-hour film), written to ``index/landmarks`` as ``fingerprint`` does (one flush per
``--flush-every`` films, so the size-tier merges run). Then, each in a fresh process (so peak RSS
is the path's own): load the landmark tables and search one 15 s excerpt of one film (pitch,
interval and gap kept: an exact copy) over every pitch x tempo factor, then search it again
(``again``: the CPU a scan's later items pay, once the process's heap has grown; the first
query of a small fresh process page-faults its temporaries in).

* ``rows``: what every scan did before: read every ``landmark`` row with its data, build the
  in-memory table (concatenate + argsort), search;
* ``mapped``: :class:`reelrights.evidence.scan_audio.LandmarkRegistry` as a scan uses it now: map
  the index, select seq and sha256 of the rows (no data), search the segments.

Prints wall and CPU seconds of the load and of the query, the bytes the process read through
read() calls (``rchar``: the database file; the mapped segments' pages come in by page faults,
not counted there: see the page faults) and peak RSS (``resource.getrusage``; for the mapped
path it counts the index pages the query touched, which are page cache shared with every other
reader, not memory of the process's own); both paths must return the same matches. The page
cache is warm for both (the files were just written).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import select

from reelrights.evidence.fingerprints import Indexes
from reelrights.evidence.scan_audio import LandmarkRegistry
from reelrights.home import Home
from reelrights.media.fingerprint.landmarks import (
    FRAME_S,
    LandmarkHashes,
    LandmarkIndex,
    LandmarkPrint,
    landmarks_from_bytes,
)
from reelrights.store.db import Database
from reelrights.store.fingerprint_tables import fingerprints
from reelrights.store.tables import assets

PAIRS_PER_S = 170
QUERY_S = 15.0


def film_print(seed: int, seconds: float) -> LandmarkPrint:
    """Peak pairs of a synthetic soundtrack: anchors spread over the film, pitches over the
    4 octaves above 150 Hz, intervals within an octave, gaps of 2-48 frames."""
    rng = np.random.default_rng(seed)
    n = int(PAIRS_PER_S * seconds)
    t1 = np.sort(rng.uniform(0, seconds / FRAME_S, n)).astype(np.float32)
    pitch = rng.uniform(20, 164, n).astype(np.float32)
    interval = rng.uniform(-35, 35, n).astype(np.float32)
    gap = rng.uniform(2, 48, n).astype(np.float32)
    return LandmarkPrint(t1, pitch, interval, gap, round(1000 * seconds))


def excerpt(p: LandmarkPrint, start_s: float, seconds: float) -> LandmarkPrint:
    a, b = start_s / FRAME_S, (start_s + seconds) / FRAME_S
    sel = (p.t1 >= a) & (p.t1 < b)
    return LandmarkPrint(p.t1[sel] - np.float32(a), p.pitch[sel], p.interval[sel], p.gap[sel],
                         round(1000 * seconds))


def build(root: Path, films: int, seconds: float, flush_every: int) -> tuple[Home, int]:
    home, _ = Home.init(root / "home")
    db = Database(home.database_url)
    indexes = Indexes(home)
    pending: list[tuple[str, LandmarkHashes]] = []
    nbytes = 0
    for i in range(films):
        sha = f"{i:064x}"
        pending.append((sha, film_print(i, seconds).compact()))
        if len(pending) == flush_every or i == films - 1:
            with db.write() as conn:
                for s, h in pending:
                    conn.execute(assets.insert().values(sha256=s, size=1, media_type="video/mp4",
                                                        category="video", log_index=0))
                    blob = h.to_bytes()
                    nbytes += len(blob)
                    seq = conn.execute(fingerprints.insert().values(
                        sha256=s, kind="landmark", status="ok", params="{}", items=len(h), data=blob,
                        computed_at="2027-01-01T00:00:00Z").returning(fingerprints.c.seq)).scalar_one()
                    indexes.add("landmark", int(seq), h)
            indexes.flush()
            pending = []
    db.dispose()
    return home, nbytes


def rchar() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    return 0


def child(path: str, home_dir: str, query_file: str) -> None:
    home = Home.open(Path(home_dir))
    db = Database(home.database_url)
    query = LandmarkPrint.from_bytes(Path(query_file).read_bytes())
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    rss0 = ru0.ru_maxrss
    r0, w0, c0 = rchar(), time.perf_counter(), time.process_time()
    with db.read() as conn:
        if path == "rows":  # the scan's LandmarkRegistry.load before index/landmarks
            index, sha = LandmarkIndex(), {}
            for r in conn.execute(select(fingerprints.c.seq, fingerprints.c.sha256, fingerprints.c.data)
                                  .where(fingerprints.c.kind == "landmark", fingerprints.c.status == "ok")
                                  .order_by(fingerprints.c.seq)):
                p = landmarks_from_bytes(bytes(r.data))
                index.add(int(r.seq), p if isinstance(p, LandmarkHashes) else p.compact())
                sha[int(r.seq)] = r.sha256
            index.table()
            search = index.search
        else:
            reg = LandmarkRegistry(Indexes(home).dir("landmarks")).load(conn)
            search = reg.search
    w1, c1, r1 = time.perf_counter(), time.process_time(), rchar()
    matches = search(query)
    w2, c2 = time.perf_counter(), time.process_time()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    c3 = time.process_time()
    assert search(query) == matches
    again = time.process_time() - c3  # the same query again: a scan's second item with sound
    print(json.dumps({"load_wall": w1 - w0, "load_cpu": c1 - c0, "query_wall": w2 - w1,
                      "query_cpu": c2 - c1, "again_cpu": again, "read_mb": (r1 - r0) / 1e6,
                      "rss0_mb": rss0 / 1024,
                      "peak_rss_mb": ru.ru_maxrss / 1024, "faults": ru.ru_minflt - ru0.ru_minflt,
                      "major": ru.ru_majflt - ru0.ru_majflt,
                      "matches": [m.__dict__ for m in matches]}))
    db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--films", type=int, default=25)
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--flush-every", type=int, default=10)
    ap.add_argument("--child", nargs=3, metavar=("PATH", "HOME", "QUERY"), help=argparse.SUPPRESS)
    ap.add_argument("--build", metavar="ROOT", help=argparse.SUPPRESS)
    args = ap.parse_args()
    seconds = args.hours * 3600
    if args.child:
        child(*args.child)
        return
    if args.build:  # in a process of its own: a child's peak RSS starts at its parent's
        home, nbytes = build(Path(args.build), args.films, seconds, args.flush_every)
        print(json.dumps({"home": str(home.path), "nbytes": nbytes}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, __file__, "--build", str(root), "--films", str(args.films),
                              "--hours", str(args.hours), "--flush-every", str(args.flush_every)],
                             check=True, capture_output=True, text=True)
        built = time.perf_counter() - t0
        info = json.loads(res.stdout)
        home, nbytes = Home.open(Path(info["home"])), info["nbytes"]
        target = args.films // 2
        query = excerpt(film_print(target, seconds), seconds / 3, QUERY_S)
        (root / "q.bin").write_bytes(query.to_bytes())
        lm = Indexes(home).dir("landmarks")
        on_disk = sum(f.stat().st_size for f in lm.iterdir())
        segs = len(json.loads((lm / "MANIFEST.json").read_text())["segments"])
        print(f"{args.films} films x {args.hours:g} h at {PAIRS_PER_S} pairs/s: "
              f"{nbytes / 1e9:.2f} GB of landmark rows, index/landmarks {on_disk / 1e9:.2f} GB in "
              f"{segs} segments (home built in {built:.0f} s); query: {QUERY_S:g} s excerpt, "
              f"{len(query)} pairs, 169 pitch x tempo factors")
        out = {}
        for path in ("rows", "mapped"):
            res = subprocess.run([sys.executable, __file__, "--child", path, str(home.path),
                                  str(root / "q.bin")], check=True, capture_output=True, text=True)
            out[path] = json.loads(res.stdout)
        assert out["rows"]["matches"] == out["mapped"]["matches"], "the two paths disagree"
        assert [m["id"] for m in out["rows"]["matches"]][:1], "the excerpt was not found"
        print(f"{'path':8} {'load wall s':>11} {'load CPU s':>10} {'query wall s':>12} "
              f"{'query CPU s':>11} {'again CPU s':>11} {'read MB':>9} {'page faults (major)':>19} "
              f"{'RSS after imports MB':>20} {'peak RSS MB':>11}")
        for path, r in out.items():
            print(f"{path:8} {r['load_wall']:11.2f} {r['load_cpu']:10.2f} {r['query_wall']:12.2f} "
                  f"{r['query_cpu']:11.2f} {r['again_cpu']:11.2f} {r['read_mb']:9.1f} "
                  f"{r['faults']:>11} ({r['major']:>5}) {r['rss0_mb']:20.0f} {r['peak_rss_mb']:11.0f}")
        m = out["mapped"]["matches"][0]
        print(f"same matches on both paths: {len(out['rows']['matches'])} "
              f"(best: id {m['id']}, {m['votes']} votes, contrast {m['contrast']})")


if __name__ == "__main__":
    main()
