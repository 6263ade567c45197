"""Benchmark: allocate 1,000,000 revenue lines to 100,000 payees (target: <= 10 s).

The workload is what the creative fund does at the end of a quarter: many pools (production x
period x report), each split exactly among its lines by largest remainder
(:func:`reelrights.core.royalty.allocate`), then summed per payee and passed through the payout
threshold (:func:`reelrights.core.royalty.apply_threshold`). Shares are exact fractions with
mixed denominators, as :func:`~reelrights.core.royalty.flatten` produces them (fund shares such
as 1/40, credit shares such as 1/3, a guild's 1/4).

Side by side, in the same run: a naive baseline that rounds each line with its own Fraction
arithmetic (exact amount, floor, Fraction remainder, sort by remainder). It is timed alone on a
subsample of whole pools and extrapolated linearly to the full line count; the figure is labelled
as such. Its cents are compared with reelrights' afterwards, outside the timing. Times are process
CPU seconds (one core) and wall seconds.

    .venv/bin/python benchmarks/fund_allocate.py                 # 10,000 pools x 100 lines
    .venv/bin/python benchmarks/fund_allocate.py --pools 500     # a quick run
"""

from __future__ import annotations

import argparse
import math
import random
import time
from fractions import Fraction

from reelrights.core.royalty import allocate, apply_threshold

_DENOMS = (40, 80, 3, 7, 4, 100, 12, 1)


def make_pools(n_pools: int, per_pool: int, n_payees: int, seed: int = 2027):
    rnd = random.Random(seed)
    payees = [f"pty_{i:016d}" for i in range(n_payees)]
    pools = []
    for _ in range(n_pools):
        keys = rnd.sample(payees, per_pool)
        raw = {k: Fraction(rnd.randint(1, 1000), rnd.choice(_DENOMS)) for k in keys}
        total = sum(raw.values())
        pools.append((rnd.randint(10_000, 10**9), {k: v / total for k, v in raw.items()}))
    return pools


def fast(pools, threshold: int) -> tuple[dict[str, int], dict[str, int]]:
    balances: dict[str, int] = {}
    get = balances.get
    for total, shares in pools:
        amounts = allocate(total, shares)
        if sum(amounts.values()) != total:  # the invariant, checked on every pool
            raise AssertionError("pool does not sum")
        for k, v in amounts.items():
            balances[k] = get(k, 0) + v
    return apply_threshold(balances, threshold)


def naive_allocate(total: int, shares: dict[str, Fraction]) -> dict[str, int]:
    """Per-line Fraction arithmetic: the straightforward way to write largest remainder."""
    exact = {k: Fraction(total) * s for k, s in shares.items()}
    out = {k: math.floor(x) for k, x in exact.items()}
    left = total - sum(out.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - out[k]), k))[:left]:
        out[k] += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pools", type=int, default=10_000)
    ap.add_argument("--lines-per-pool", type=int, default=100)
    ap.add_argument("--payees", type=int, default=100_000)
    ap.add_argument("--baseline-pools", type=int, default=200,
                    help="pools of the naive baseline's subsample (extrapolated)")
    args = ap.parse_args()
    lines = args.pools * args.lines_per_pool
    print(f"workload: {args.pools:,} pools x {args.lines_per_pool} lines = {lines:,} lines, "
          f"{args.payees:,} payees")
    t0 = time.perf_counter()
    pools = make_pools(args.pools, args.lines_per_pool, args.payees)
    print(f"  (generated in {time.perf_counter() - t0:.1f} s, not timed)")

    c0, w0 = time.process_time(), time.perf_counter()
    paid, carried = fast(pools, threshold=5_000)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    total = sum(t for t, _ in pools)
    assert sum(paid.values()) + sum(carried.values()) == total
    print(f"reelrights allocate + threshold: {cpu:.2f} s CPU, {wall:.2f} s wall "
          f"({lines / cpu / 1e6:.2f} M lines/s); {len(paid):,} payees paid, "
          f"{len(carried):,} carried forward; every pool sums exactly")

    sub = pools[:args.baseline_pools]
    sub_lines = sum(len(s) for _, s in sub)
    c0 = time.process_time()
    naive = [naive_allocate(t, s) for t, s in sub]  # the baseline alone is timed
    naive_cpu = (time.process_time() - c0) * lines / sub_lines
    differ = sum(1 for (t, s), n in zip(sub, naive) if n != allocate(t, s))
    if differ:  # same cents: only the speed may differ
        raise SystemExit(f"error: the baseline and reelrights allocate {differ} of {len(sub)} "
                         "pools differently")
    print(f"naive per-line Fraction baseline: {naive_cpu:.2f} s CPU "
          f"(EXTRAPOLATED from {sub_lines:,} lines), same cents")
    print(f"ratio naive / reelrights: {naive_cpu / cpu:.1f}x; target <= 10 s: "
          f"{'met' if cpu <= 10 else 'NOT met'} ({cpu:.2f} s)")


if __name__ == "__main__":
    main()
