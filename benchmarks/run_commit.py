"""Benchmark: commit a training manifest (item 8), beside this machine's raw SHA-256 rate.

    .venv/bin/python benchmarks/run_commit.py [--items 10000000] [--dir /tmp/rr-bench] [--keep]

Generates a manifest of N items (JSONL and Parquet; a realistic mix of kinds, bases, months,
datasets and languages, every line in canonical form as ``run commit`` tooling writes it), then
times ``commit_manifest`` on each. Beside it, in the same run, the baseline: hashlib SHA-256 over
leaves of the same average size (0x00 || 16-byte salt || the item), on 1 core and on 2
processes, and the ratio commit / raw. Target: >= 300,000 items/s on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from reelrights.evidence.manifest_scan import commit_manifest

_KINDS = [("video", "seconds"), ("video", "frames"), ("audio", "seconds"), ("text", "tokens"),
          ("image", "images")]


def _bases(rng: random.Random) -> list[str]:
    b32 = "abcdefghijklmnopqrstuvwxyz234567"
    out = []
    for _ in range(8):
        bnd = "bnd_" + "".join(rng.choice(b32) for _ in range(16))
        lic = "lic_" + "".join(rng.choice(b32) for _ in range(16))
        out.append(f'{{"bundle":"{bnd}","license":"{lic}","type":"license"}}')
    out += ['{"type":"own"}', '{"type":"public-domain"}',
            '{"spdx":"CC-BY-4.0","type":"open-license"}', '{"spdx":"CC0-1.0","type":"open-license"}']
    return out


def generate(path: Path, n: int, seed: int = 7) -> None:
    """N canonical JSONL items, in blocks (hex digests from one urandom block per 100k)."""
    rng = random.Random(seed)
    bases = _bases(rng)
    months = [f"20{y:02d}-{m:02d}" for y in (23, 24, 25) for m in range(1, 13)]
    with open(path, "w", encoding="ascii") as f:
        done = 0
        while done < n:
            k = min(100_000, n - done)
            digests = os.urandom(32 * k).hex()
            lines = []
            for i in range(k):
                kind, unit = _KINDS[rng.randrange(5)]
                acq = f'"acquired":"{months[rng.randrange(36)]}",' if rng.random() < 0.8 else ""
                b = bases[rng.randrange(len(bases))]
                ds = f'"dataset":"hf:public/set-{rng.randrange(40)}",' if rng.random() < 0.1 else ""
                lang = '"language":"en",' if kind == "text" else ""
                ct = '"content_type":"film",' if kind == "video" else ""
                lines.append(f'{{{acq}"basis":{b},{ct}{ds}"kind":"{kind}",{lang}"sha256":"'
                             f'{digests[64 * i:64 * i + 64]}","unit":"{unit}","units":'
                             f'{rng.randrange(1, 100_000)}}}\n')
            f.write("".join(lines))
            done += k


def to_parquet(jsonl: Path, out: Path) -> None:
    import pyarrow as pa
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    t = pj.read_json(jsonl, read_options=pj.ReadOptions(block_size=64 << 20))
    basis = t.column("basis").combine_chunks()
    cols = {name: t.column(name) for name in t.column_names if name != "basis"}
    cols["basis_type"] = basis.field("type")
    for name in ("license", "bundle", "spdx"):
        cols[name] = basis.field(name)
    pq.write_table(pa.table(cols), out, row_group_size=1 << 20)


def _raw(args: tuple[int, int]) -> float:
    n, size = args
    data = [os.urandom(size) for _ in range(1000)]
    sha = hashlib.sha256
    t = time.perf_counter()
    for i in range(n):
        sha(data[i % 1000]).digest()
    return time.perf_counter() - t


def raw_rate(n: int, size: int, procs: int) -> float:
    if procs == 1:
        return n / _raw((n, size))
    with ProcessPoolExecutor(procs) as pool:
        list(pool.map(_raw, [(1000, size)] * procs))  # warm up
        t = time.perf_counter()
        list(pool.map(_raw, [(n // procs, size)] * procs))
        return n / (time.perf_counter() - t)


def _cpu() -> float:
    r, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def time_commit(path: Path, opening: Path) -> tuple[float, float, int]:
    opening.unlink(missing_ok=True)
    cpu0, t0 = _cpu(), time.perf_counter()
    d = commit_manifest(path, opening)
    return time.perf_counter() - t0, _cpu() - cpu0, d.count


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=10_000_000)
    ap.add_argument("--dir", default="/tmp/rr-bench-run-commit")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    jsonl, parquet = d / "manifest.jsonl", d / "manifest.parquet"
    if not jsonl.exists() or jsonl.read_bytes().count(b"\n") != a.items:
        t = time.perf_counter()
        generate(jsonl, a.items)
        print(f"generated {a.items:,} items ({jsonl.stat().st_size / 1e6:,.0f} MB) "
              f"in {time.perf_counter() - t:.1f} s")
        parquet.unlink(missing_ok=True)
    if not parquet.exists():
        to_parquet(jsonl, parquet)
    leaf = 1 + 16 + jsonl.stat().st_size // a.items - 1
    n_raw = min(a.items, 2_000_000)
    raw1 = raw_rate(n_raw, leaf, 1)
    raw2 = raw_rate(n_raw, leaf, 2)
    print(f"raw hashlib SHA-256 on {leaf}-byte leaves: {raw1:,.0f}/s on 1 core, "
          f"{raw2:,.0f}/s on 2 processes (an item costs ~2 hashes: leaf + interior node)")
    for label, path in (("JSONL", jsonl), ("Parquet", parquet)):
        wall, cpu, n = time_commit(path, d / f"{label}.opening")
        rate = n / wall
        print(f"commit {label:8s} {n:,} items: {wall:.1f} s wall, {cpu:.1f} s CPU "
              f"({n / cpu:,.0f} items per CPU-second), {rate:,.0f} items/s; "
              f"ratio to raw 2-process hashes/2: {rate / (raw2 / 2):.2f}, per CPU-second to "
              f"1-core hashes/2: {n / cpu / (raw1 / 2):.2f}; target 300,000/s: "
              f"{'met' if rate >= 300_000 else 'NOT met'}")
    if not a.keep:
        shutil.rmtree(d)


if __name__ == "__main__":
    main()
