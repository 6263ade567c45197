#!/usr/bin/env python
"""Scan PDQ frame hashes against a large PDQ index, exactly within distance 31, beside FAISS flat.

    python benchmarks/pdq_scan.py                           # 10,000,000 codes, 100,000 queries
    python benchmarks/pdq_scan.py --n 1000000 --queries 10000 --flat-queries 500
    python benchmarks/pdq_scan.py --slot-bits 23            # force a slot width

What runs, in order, all in one process:

1. data: ``--n`` uniform random 256-bit codes (seeded), and ``--queries`` queries of which half
   are stored codes with 0..40 random bits flipped (planted neighbours, every distance equally
   often) and half are fresh random codes (which match nothing at radius 31 in practice);
2. ``PDQIndex`` build: ``add`` + ``compact()`` into a temp directory (MIH tables, written with
   fsync), then a fresh ``PDQIndex.open`` of it (memory-mapped) - both timed;
3. the exact scan of every query within 31 bits on ``--threads`` threads: wall time, q/s, and the
   process CPU seconds (so a noisy shared machine can be judged per core);
4. the baseline: FAISS ``IndexBinaryFlat.range_search`` (``FlatPDQIndex``, same threads) on the
   first ``--flat-queries`` queries, extrapolated linearly to all queries (labelled so), the
   ratio, and whether both indexes return identical (query, id, distance) sets on that subsample;
5. planted recall: every planted neighbour at distance <= 31 must be in the MIH result.

It prints figures and verdicts; it never asserts.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from reelrights.media.index import FlatPDQIndex, PDQIndex


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu() -> float:
    t = os.times()  # this process and its reaped children (the forked search workers)
    return t.user + t.system + t.children_user + t.children_system


def make_queries(codes: np.ndarray, n_queries: int, rng: np.random.Generator):
    planted = n_queries // 2
    src = rng.integers(0, codes.shape[0], planted)
    dist = np.arange(planted) % 41
    bits = np.unpackbits(codes[src], axis=1)
    order = np.argsort(rng.random((planted, 256)), axis=1)  # a random bit permutation per query
    flip = np.arange(256)[None, :] < dist[:, None]
    rows = np.repeat(np.arange(planted), 256).reshape(planted, 256)
    bits[rows[flip], order[flip]] ^= 1
    queries = np.concatenate([np.packbits(bits, axis=1),
                              rng.integers(0, 256, (n_queries - planted, 32), dtype=np.uint8)])
    return queries, src, dist


def approx_recall(codes: np.ndarray, ids: np.ndarray, queries: np.ndarray, args: argparse.Namespace,
                  workdir: Path) -> None:
    """ApproxPDQIndex (IVF) against the exact PDQIndex on the same codes: recall by distance."""
    from reelrights.media.index import ApproxPDQIndex

    exact = PDQIndex.open(workdir / "mih-small")
    exact.add(codes, ids)
    exact.compact()
    want = exact.search(queries, args.radius, threads=args.threads)
    t0 = time.perf_counter()
    approx = ApproxPDQIndex.open(workdir / "ivf")
    approx.add(codes, ids)
    approx.compact()
    nlist = approx._manifest["segments"][0].get("nlist")
    print(f"ApproxPDQIndex on {len(codes):,} codes: IVF nlist {nlist}, train + add "
          f"{time.perf_counter() - t0:.1f} s; {len(want):,} true pairs within {args.radius}")
    truth = {(q, i): d for q, i, d in zip(want.query.tolist(), want.id.tolist(), want.distance.tolist())}
    bands = [(0, 10), (11, 20), (21, args.radius)]
    for nprobe in args.nprobe:
        approx = ApproxPDQIndex.open(workdir / "ivf", nprobe=nprobe)
        t0 = time.perf_counter()
        got = approx.search(queries, args.radius, threads=args.threads)
        secs = time.perf_counter() - t0
        found = set(zip(got.query.tolist(), got.id.tolist()))
        by_band = []
        for lo, hi in bands:
            pairs = [k for k, d in truth.items() if lo <= d <= hi]
            by_band.append(f"{sum(k in found for k in pairs) / max(1, len(pairs)):.2f}")
        total = sum(k in found for k in truth) / max(1, len(truth))
        print(f"  nprobe {nprobe}: recall {total:.3f} (by distance 0-10 / 11-20 / 21-{args.radius}: "
              f"{' / '.join(by_band)}), {len(queries) / secs:,.0f} q/s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--queries", type=int, default=100_000)
    ap.add_argument("--flat-queries", type=int, default=1_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--radius", type=int, default=31)
    ap.add_argument("--slot-bits", type=int, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--approx-n", type=int, default=0,
                    help="also measure ApproxPDQIndex (IVF) recall on the first N codes (0: skip)")
    ap.add_argument("--nprobe", type=int, nargs="*", default=[8, 32, 128])
    ap.add_argument("--dir", type=Path, default=None, help="index directory (default: a temp dir)")
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    base_rss = rss_mb()
    t0 = time.perf_counter()
    codes = rng.integers(0, 256, (args.n, 32), dtype=np.uint8)
    ids = np.arange(args.n, dtype=np.int64)
    queries, src, dist = make_queries(codes, args.queries, rng)
    print(f"data: {args.n:,} random codes, {args.queries:,} queries "
          f"({len(src):,} planted at 0..40 bits, rest random); {time.perf_counter() - t0:.1f} s")

    workdir = args.dir or Path(tempfile.mkdtemp(prefix="pdq_scan_"))
    try:
        t0, c0 = time.perf_counter(), cpu()
        index = PDQIndex.open(workdir / "mih", slot_bits=args.slot_bits)
        index.add(codes, ids)
        index.compact()
        build_s, build_cpu = time.perf_counter() - t0, cpu() - c0
        del index
        t0 = time.perf_counter()
        index = PDQIndex.open(workdir / "mih")
        open_s = time.perf_counter() - t0
        seg = index._segments[0]
        disk = sum(f.stat().st_size for f in (workdir / "mih").iterdir()) / 2**20
        print(f"PDQIndex build (add + compact, fsynced): {build_s:.1f} s wall, {build_cpu:.1f} s CPU; "
              f"slots {len(seg.widths)} x {sorted(set(seg.widths))} bits; {disk:,.0f} MB on disk; "
              f"reopen {open_s * 1000:.0f} ms (memory-mapped)")

        t0, c0 = time.perf_counter(), cpu()
        result = index.search(queries, args.radius, threads=args.threads)
        scan_s, scan_cpu = time.perf_counter() - t0, cpu() - c0
        print(f"PDQIndex exact scan r<={args.radius}: {args.queries:,} queries in {scan_s:.1f} s wall "
              f"({args.queries / scan_s:,.0f} q/s on {args.threads} threads), {scan_cpu:.1f} s CPU "
              f"({args.queries / scan_cpu:,.0f} q/s per core-second); {len(result):,} matches; "
              f"RSS {rss_mb() - base_rss:,.0f} MB above start, peak {peak_mb():,.0f} MB")

        sub = min(args.flat_queries, args.queries)
        pick = np.unique(np.concatenate([np.arange(sub // 2), len(src) + np.arange(sub - sub // 2)]))
        pick = pick[pick < args.queries]
        flat = FlatPDQIndex.open(workdir / "flat")
        flat.add(codes, ids)  # in memory: the baseline's build is a copy
        flat.search(queries[:1], args.radius)  # build the FAISS index outside the timing
        t0, c0 = time.perf_counter(), cpu()
        fres = flat.search(queries[pick], args.radius, threads=args.threads)
        flat_s, flat_cpu = time.perf_counter() - t0, cpu() - c0
        flat_qps = len(pick) / flat_s
        extrapolated = args.queries / flat_qps
        print(f"FAISS IndexBinaryFlat range_search ({args.threads} threads): {len(pick):,} queries "
              f"in {flat_s:.1f} s wall ({flat_qps:,.1f} q/s), {flat_cpu:.1f} s CPU; "
              f"EXTRAPOLATED to {args.queries:,} queries: {extrapolated:,.0f} s")
        mine = index.search(queries[pick], args.radius, threads=args.threads)
        same = mine.pairs() == fres.pairs()
        print(f"ratio flat / PDQIndex (wall): {extrapolated / scan_s:.1f}x "
              f"(target: <= 60 s and ~20x); per core-second: "
              f"{(extrapolated * flat_cpu / flat_s) / scan_cpu:.1f}x")
        print(f"identical results on the {len(pick):,}-query subsample: {same} "
              f"({len(fres):,} pairs)")

        found = set(zip(result.query.tolist(), result.id.tolist()))
        want = [(i, int(src[i])) for i in range(len(src)) if dist[i] <= args.radius]
        hit = sum((q, s) in found for q, s in want)
        print(f"planted neighbours within {args.radius}: {hit:,} / {len(want):,} found")
        print(f"scan target <= 60 s: {'met' if scan_s <= 60 else 'NOT met'} ({scan_s:.1f} s)")
        if args.approx_n:
            approx_recall(codes[:args.approx_n], ids[:args.approx_n], queries, args, workdir)
    finally:
        if args.dir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
