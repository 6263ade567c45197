#!/usr/bin/env python
"""Replay a log into fresh projection tables, beside the ledger appending the same statements.

    python benchmarks/log_rebuild.py                 # 50,000 work.registered statements, SQLite
    python benchmarks/log_rebuild.py --n 200000 --json out.json

What is timed, on the same statements in the same run:

1. the baseline: ``Ledger.submit`` in batches of ``--batch`` (every check, every signature, the
   registry rows, the log entries, tiles and a signed checkpoint per batch, durable commits);
2. ``replay``: the stored entries streamed from the database and replayed through the same
   appliers into a scratch SQLite database (what ``log verify`` and ``rebuild`` do), without
   the signature checks (``log verify`` checks them before, in its own step);
3. ``compare_projections``: every projection row of the home against the replayed one;
4. ``verify_projections``: 2 and 3 end to end, scratch migration included.

Set-up is not timed: a fresh home, ``--parties`` parties registered in one batch, and N
``work.registered`` statements (two assets each) signed by their owners. The script prints
figures; it never asserts.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from reelrights.core.ids import new_id
from reelrights.core.statements import sign_statement
from reelrights.home import Home
from reelrights.keys import PartyKey
from reelrights.ledger import Ledger
from reelrights.replica.compare import compare_projections
from reelrights.replica.replay import replay
from reelrights.replica.verify import scratch_database, stored_leaves, verify_projections

WORDS = ("Harbour", "Lights", "Northern", "Quiet", "Storm", "Glass", "River", "Night", "Summer")


def signed_parties(ledger: Ledger, n: int) -> tuple[list[bytes], list[tuple[str, PartyKey]]]:
    entries, parties = [], []
    for i in range(n):
        key = PartyKey.generate()
        pid = new_id("party")
        body = {"id": pid, "kind": "studio", "name": f"Studio {i}",
                "public_key": base64.b64encode(key.public_key_bytes).decode("ascii")}
        entries.append(sign_statement(ledger.new_statement("party.registered", pid, body), key))
        parties.append((pid, key))
    return entries, parties


def signed_works(ledger: Ledger, parties: list[tuple[str, PartyKey]], n: int) -> list[bytes]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        owner, key = parties[rng.randrange(len(parties))]
        body = {"id": new_id("work"), "kind": "film", "owner": owner,
                "title": " ".join(rng.choice(WORDS) for _ in range(3)) + f" {i}",
                "year": rng.randint(1950, 2026),
                "assets": [{"sha256": rng.randbytes(32).hex(), "size": rng.randint(10**7, 10**10),
                            "media_type": "video/mp4", "category": "video",
                            "duration_ms": rng.randint(60_000, 7_200_000), "name": f"reel{k}.mp4"}
                           for k in range(2)]}
        out.append(sign_statement(ledger.new_statement("work.registered", owner, body), key))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50_000, help="work.registered statements")
    ap.add_argument("--parties", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=10_000, help="statements per submitted batch")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="reelrights-bench-") as tmp:
        home, _ = Home.init(Path(tmp) / "home")
        ledger = Ledger.open(home, publish=False)
        party_entries, parties = signed_parties(ledger, args.parties)
        ledger.submit(party_entries)
        print(f"signing {args.n:,} statements...", file=sys.stderr)
        works = signed_works(ledger, parties, args.n)

        t0 = time.perf_counter()
        for k in range(0, len(works), args.batch):
            ledger.submit(works[k:k + args.batch])
        append_s = time.perf_counter() - t0
        ledger.close()

        with ledger.db.read() as stored, scratch_database() as scratch:
            size = int(stored.exec_driver_sql("SELECT size FROM log_head").scalar_one())
            t0 = time.perf_counter()
            report = replay(scratch, stored_leaves(stored, size))
            replay_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            differences = compare_projections(stored, scratch)
            compare_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        verify_projections(ledger.db)
        verify_s = time.perf_counter() - t0

    figures = {
        "statements": size, "batch": args.batch,
        "append_per_s": args.n / append_s, "append_s": append_s,
        "replay_per_s": report.entries / replay_s, "replay_s": replay_s,
        "compare_s": compare_s, "differences": len(differences),
        "verify_projections_s": verify_s,
    }
    print(f"log of {size:,} statements ({args.parties:,} parties, {args.n:,} works of 2 assets)")
    print(f"  ledger append (baseline)  {figures['append_per_s']:>10,.0f} statements/s  "
          f"({append_s:.2f} s, batches of {args.batch:,})")
    print(f"  replay                    {figures['replay_per_s']:>10,.0f} statements/s  "
          f"({replay_s:.2f} s)  = {figures['replay_per_s'] / figures['append_per_s']:.2f}x "
          "the append rate")
    print(f"  compare every projection  {compare_s:>10.2f} s  ({len(differences)} differences)")
    print(f"  verify_projections total  {verify_s:>10.2f} s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
