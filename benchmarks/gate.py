"""Benchmark: the training gate's policy decisions beside a bare iteration (not a test).

Setup (not timed): the policy_check.py story (a studio's works in bundles licensed to a
developer for model family "orbit" in the US), then a dataset of items (mappings with sha256,
kind, units, unit): 80 % licensed assets, 20 % hashes the registry never saw, shuffled.

Timed, side by side in one run, over the same items, each the best of --rounds:
* bare: ``for item in items: consume(item)`` (the loader without a gate);
* decisions: ``DecisionTable.decide(sha)`` per item (warm: the table is loaded before timing);
* gate: ``TrainingGate.wrap`` (describe, decide, validate, write the manifest line), with
  ``run.started`` logged before timing starts.
Target (issue 16): >= 200,000 items/s of policy decisions on 2 cores with a warm cache.

Usage: python benchmarks/gate.py [--assets 200000] [--items 1000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from policy_check import machine, setup  # noqa: E402
from reelrights.gate import TrainingGate  # noqa: E402


def best(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--assets", type=int, default=200_000)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="rr-gate-") as tmp:
        s = setup(Path(tmp), args.assets)
        rng = random.Random(11)
        items = [{"sha256": rng.choice(s["shas"]) if rng.random() < 0.8
                  else hashlib.sha256(rng.randbytes(8)).hexdigest(),
                  "kind": "video", "units": rng.randrange(1, 600), "unit": "seconds"}
                 for _ in range(args.items)]
        gates = []

        def new_gate() -> TrainingGate:
            g = TrainingGate.open(s["home"], s["ledger"], developer=s["ids"]["dev"],
                                  model_family="orbit", territory="US", on=date(2027, 6, 1),
                                  manifest=Path(tmp) / f"m{len(gates)}.jsonl")
            g.start()
            gates.append(g)
            return g

        table = new_gate().table
        sink = []

        def bare() -> None:
            n = 0
            for item in items:
                n += item["units"]
            sink.append(n)

        def decisions() -> None:
            decide = table.decide
            allowed = 0
            for item in items:
                allowed += decide(item["sha256"]).verdict.allowed
            sink.append(allowed)

        def gated() -> None:
            g = new_gate()
            n = 0
            for item in g.wrap(items):
                n += item["units"]
            g.manifest.close()
            sink.append(n)

        t_bare = best(bare, args.rounds)
        t_dec = best(decisions, args.rounds)
        t_gate = best(gated, args.rounds)
        allowed = gates[-1].allowed
    n = args.items
    print(f"\n{'items':<46}{n:>14,}\n{'  allowed by the gate':<46}{allowed:>14,}")
    print(f"{'bare iteration':<46}{n / t_bare:>14,.0f} items/s")
    print(f"{'policy decisions (warm table)':<46}{n / t_dec:>14,.0f} items/s   "
          f"{t_dec / t_bare:.1f}x the bare loop's time")
    print(f"{'gate (decide + validate + manifest line)':<46}{n / t_gate:>14,.0f} items/s   "
          f"{t_gate / t_bare:.1f}x the bare loop's time")
    print(f"{'target: decisions >= 200,000 items/s':<46}"
          f"{'met' if n / t_dec >= 200_000 else 'NOT met':>14}")


if __name__ == "__main__":
    main()
