"""Benchmark: the policy engine over a 1,000,000-item training manifest (not a test).

Setup (not timed): a studio registers works with 1,000,000 assets in total through the
ledger. It groups them into bundles (at most 2,000 works per bundle statement), licenses the
bundles to a developer under a training Agreement, and a guild co-signs. The manifest mixes
bundled assets with assets the registry has never seen, in a random order.

Timed, side by side in one run:
* ``check_manifest`` over the whole manifest: load the bundle membership, then one verdict per
  item;
* the floor: a bare Python loop of one dict look-up per item, over the same manifest;
* the naive baseline: one ODRL evaluation per item, with no caching by bundle set, timed on a
  sample and extrapolated. Afterwards (not timed) each sampled item's baseline decision is
  compared with the engine's: any mismatch is counted, printed, and fails the run (exit 1).

Usage: python benchmarks/policy_check.py [--items 1000000] [--assets 1000000] [--json FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from reelrights.core.ids import new_id
from reelrights.core.license_terms import training_agreement
from reelrights.core.statements import sign_statement
from reelrights.home import Home
from reelrights.ledger import Ledger
from reelrights.registry.parties import register_party
from reelrights.rights import bundles, licensing
from reelrights.rights.policy import _decide, check_manifest, resolve_context


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def setup(root: Path, n_assets: int, per_work: int = 200) -> dict:
    home, _ = Home.init(root / "home")
    ledger = Ledger.open(home, publish=False)
    ids = {k: register_party(home, ledger, kind, name).details["id"]
           for k, kind, name in [("studio", "studio", "Bench Studio"),
                                 ("dev", "developer", "Bench AI")]}
    key = home.party_key(ids["studio"])
    works, shas = [], []
    t0 = time.perf_counter()
    batch = []
    for w in range(-(-n_assets // per_work)):
        assets = []
        for i in range(min(per_work, n_assets - w * per_work)):
            sha = hashlib.sha256(f"{w}/{i}".encode()).hexdigest()
            shas.append(sha)
            assets.append({"sha256": sha, "size": 1_000_000 + i, "media_type": "video/mp4",
                           "category": "video", "duration_ms": 30_000, "name": f"clip{i}.mp4"})
        body = {"id": new_id("work"), "kind": "episode", "title": f"Episode {w}",
                "owner": ids["studio"], "assets": assets}
        works.append(body["id"])
        batch.append(sign_statement(ledger.new_statement("work.registered", ids["studio"], body),
                                    key))
        if len(batch) == 50:
            ledger.submit(batch)
            batch = []
    if batch:
        ledger.submit(batch)
    print(f"setup: registered {len(shas):,} assets in {len(works):,} works "
          f"({time.perf_counter() - t0:.1f} s)", flush=True)
    bundle_ids = []
    for k in range(0, len(works), 2000):
        bundle_ids.append(bundles.create_bundle(home, ledger, ids["studio"], f"Catalog {k // 2000}",
                                                "1", works[k:k + 2000]).details["id"])
    for b in bundle_ids:
        policy = training_agreement(uid=f"urn:reelrights:policy:{b}", licensor=ids["studio"],
                                    licensee=ids["dev"], bundle=b, model_family="orbit",
                                    territories=["US"], until="2027-12-31", fund_share="2.5")
        licensing.grant_license(home, ledger, b, ids["dev"], policy)
    return {"home": home, "ledger": ledger, "ids": ids, "shas": shas, "bundles": bundle_ids}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--assets", type=int, default=1_000_000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="rr-policy-") as tmp:
        s = setup(Path(tmp), args.assets)
        rng = random.Random(7)
        known = s["shas"]
        manifest = [rng.choice(known) if rng.random() < 0.8
                    else hashlib.sha256(rng.randbytes(8)).hexdigest() for _ in range(args.items)]
        ledger = s["ledger"]
        with ledger.db.read() as conn:
            ctx = resolve_context(conn, licensee=s["ids"]["dev"], action="train",
                                  model_family="orbit", on=date(2027, 6, 1), territory="US")
            t0 = time.perf_counter()
            decisions = [v.allowed for _, v in check_manifest(conn, ctx, manifest)]
            engine_s = time.perf_counter() - t0
            allowed = sum(decisions)

            member = {sha: 1 for sha in known}
            t0 = time.perf_counter()
            floor_hits = 0
            for sha in manifest:
                floor_hits += member.get(sha, 0)
            floor_s = time.perf_counter() - t0

            sample = manifest[:5_000]
            bundle_of = {}
            for b in s["bundles"]:
                for sha in bundles.bundle_asset_hashes(conn, b):
                    bundle_of[sha] = frozenset({b})
            t0 = time.perf_counter()
            baseline = [_decide(conn, ctx, bundle_of.get(sha, frozenset()),
                                frozenset({f"urn:sha256:{sha}"}), sha, {}).allowed
                        for sha in sample]
            naive_s = (time.perf_counter() - t0) * len(manifest) / len(sample)
    # Not timed: the baseline must decide every sampled item as the engine did.
    mismatches = sum(1 for b, e in zip(baseline, decisions) if b != e)
    rate = args.items / engine_s
    result = {"items": args.items, "assets": args.assets, "allowed": allowed,
              "engine_s": round(engine_s, 3), "engine_items_per_s": round(rate),
              "floor_dict_loop_s": round(floor_s, 3),
              "naive_per_item_s_extrapolated": round(naive_s, 1),
              "baseline_sample": len(sample), "baseline_mismatches": mismatches,
              "target_s": 10.0, "target_met": engine_s <= 10.0}
    print()
    print(f"{'manifest items':<44}{args.items:>14,}")
    print(f"{'  allowed (bundled and licensed)':<44}{allowed:>14,}")
    print(f"{'check_manifest, end to end':<44}{engine_s:>13.2f} s   {rate:>10,.0f} items/s")
    print(f"{'floor: bare dict look-up loop':<44}{floor_s:>13.2f} s   "
          f"(engine / floor = {engine_s / floor_s:.1f}x)")
    print(f"{'baseline: one evaluation per item (extrap.)':<44}{naive_s:>13.1f} s   "
          f"(baseline / engine = {naive_s / engine_s:.0f}x)")
    print(f"{'baseline and engine disagree on':<44}{mismatches:>14,} of {len(sample):,} "
          "sampled items")
    print(f"{'target: 1,000,000 items in <= 10 s':<44}{'met' if engine_s <= 10 else 'NOT met':>14}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if mismatches:
        print(f"error: the baseline and the engine decide {mismatches} sampled items differently",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
