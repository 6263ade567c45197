"""Fingerprint and scan throughput on generated films, engines side by side, with PyAV's
decode-only time of the same files as the baseline.

    .venv/bin/python benchmarks/scan_files.py [--films 4] [--seconds 10] [--size 640x360]

Prints, per engine: wall time, the workers' CPU time (per-core figure, steadier than wall time
on a shared machine), x real time, and the ratio to decoding alone.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import av

from reelrights.evidence import fingerprints
from reelrights.evidence.scan import scan_files
from reelrights.home import Home
from reelrights.ledger import Ledger
from reelrights.media import synth
from reelrights.media.engine import LocalEngine, PoolEngine, make_engine
from reelrights.registry.parties import register_party
from reelrights.registry.works import register_work
from reelrights.rights import bundles, licensing


def decode_only(paths: list[Path]) -> float:
    t0 = time.process_time()
    for p in paths:
        with av.open(str(p)) as c:
            s = c.streams.video[0]
            s.codec_context.thread_count = 1
            for _ in c.decode(s):
                pass
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--films", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--size", default="640x360")
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        films = [synth.make_film(root / f"film{i}.mp4", seconds=args.seconds, size=(w, h),
                                 seed=i) for i in range(args.films)]
        clips = [synth.transcode_video(f, root / f"clip{i}.mp4", size=(w * 2 // 3 // 2 * 2,
                                                                      h * 2 // 3 // 2 * 2),
                                       crop=0.05, start=1.0, duration=args.seconds / 2)
                 for i, f in enumerate(films)]
        media_s = args.films * args.seconds
        base_cpu = decode_only(films)
        print(f"{args.films} films x {args.seconds:g} s at {w}x{h}; decode only (1 thread): "
              f"{base_cpu:.2f} s CPU = {media_s / base_cpu:.1f}x real time per core")
        for name in ("local", "pool"):
            home, _ = Home.init(root / f"home-{name}")
            ledger = Ledger.open(home)
            studio = register_party(home, ledger, "studio", "S").details["id"]
            dev = register_party(home, ledger, "developer", "D").details["id"]
            work = register_work(home, ledger, studio, "film", "F", films).details["id"]
            bundle = bundles.create_bundle(home, ledger, studio, "B", "1", [work]).details["id"]
            from reelrights.core.license_terms import training_agreement

            licensing.grant_license(home, ledger, bundle, dev, training_agreement(
                uid="urn:x:1", licensor=studio, licensee=dev, bundle=bundle, model_family="m",
                territories=["US"], until="2030-01-01", fund_share="1"))
            with make_engine(name, 2) as engine:
                t0 = time.perf_counter()
                s = fingerprints.fingerprint_paths(home, ledger.db, films, engine=engine)
                fp_wall = time.perf_counter() - t0
                fp_cpu = sum(o.cpu_s for o in s.outcomes)
                t0 = time.perf_counter()
                rep = scan_files(home, clips, dev, "m", date(2027, 1, 1), "US", engine=engine,
                                 db=ledger.db)
                scan_wall = time.perf_counter() - t0
            assert s.count("ok") == args.films, s.to_json()
            found = sum(i.verdict == "licensed" for i in rep.items)
            scan_cpu = rep.summary()["cpu_s"]
            print(f"[{name}] fingerprint refs (+crop variants): wall {fp_wall:.2f} s, worker CPU "
                  f"{fp_cpu:.2f} s = {media_s / fp_cpu:.1f}x RT per core, "
                  f"{base_cpu / fp_cpu:.2f} of decode-only throughput")
            print(f"[{name}] scan {len(clips)} clips: wall {scan_wall:.2f} s, worker CPU "
                  f"{scan_cpu:.2f} s, {found}/{len(clips)} found licensed")
            if name == "pool":  # a one-file scan: what starting worker processes costs
                walls = {}
                for label, eng in (("pool, workers always (before)", PoolEngine(2, inline=False)),
                                   ("pool, in-process when small (now)", PoolEngine(2)),
                                   ("local", LocalEngine())):
                    with eng:
                        t0 = time.perf_counter()
                        one = scan_files(home, clips[:1], dev, "m", date(2027, 1, 1), "US",
                                         engine=eng, db=ledger.db)
                        walls[label] = time.perf_counter() - t0
                    assert one.items[0].verdict == "licensed"
                print("one-file scan wall: " + ", ".join(f"{k} {v:.2f} s"
                                                         for k, v in walls.items()))
            ledger.db.dispose()


if __name__ == "__main__":
    sys.exit(main())
