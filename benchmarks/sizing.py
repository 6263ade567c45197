#!/usr/bin/env python
"""How much disk a log takes: bytes per million entries in the database and in the static tiles.

    python benchmarks/sizing.py                      # 50,000 statements, SQLite and PostgreSQL
    python benchmarks/sizing.py --n 20000 --backend sqlite --json out.json

A realistic mix is appended through ``Ledger.submit`` in batches of ``--batch`` (the service's
coalesced batches: one signed checkpoint each): ``--parties`` studios and performers, then works
(two assets each, the title, the year) and two credits per work. Then, measured on the same log:

* the **database**: SQLite's pages in use (``dbstat``, per table with its indexes), PostgreSQL's
  ``pg_total_relation_size`` (heap, indexes, TOAST) of each table after ``VACUUM ANALYZE``;
  split into the log tables (entries, tiles, checkpoints, head) and the rest (projections,
  local tables);
* the **static tiles** (``log export``: checkpoint, hash tiles, entry bundles): bytes in the
  files and bytes of disk blocks, and the number of files;
* the **baseline** beside them: the leaves' own bytes (what any copy of the log must hold).

Each figure is extrapolated to one million entries (linearly: the log is never pruned, tiles
and rows grow with the entries). The script prints figures; it never asserts.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from reelrights.core.ids import new_id
from reelrights.core.statements import sign_statement
from reelrights.home import Home
from reelrights.keys import PartyKey
from reelrights.ledger import Ledger
from reelrights.log.mirror import export_log

PG_URL = os.environ.get("REELRIGHTS_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LOG_TABLES = ("log_entries", "log_tiles", "log_checkpoints", "log_head")
WORDS = ("Harbour", "Lights", "Northern", "Quiet", "Storm", "Glass", "River", "Night", "Summer")


def statements(ledger: Ledger, n: int, n_parties: int) -> tuple[list[bytes], list[bytes]]:
    """The parties (one batch), then works each followed by two credits."""
    rng = random.Random(11)
    parties: list[tuple[str, PartyKey, str]] = []
    first = []
    for i in range(n_parties):
        key, pid = PartyKey.generate(), new_id("party")
        kind = "studio" if i % 4 == 0 else "performer"
        body = {"id": pid, "kind": kind, "name": f"{rng.choice(WORDS)} {kind} {i}",
                "public_key": base64.b64encode(key.public_key_bytes).decode("ascii")}
        first.append(sign_statement(ledger.new_statement("party.registered", pid, body), key))
        parties.append((pid, key, kind))
    studios = [p for p in parties if p[2] == "studio"]
    performers = [p for p in parties if p[2] == "performer"]
    rest: list[bytes] = []
    while len(rest) + n_parties < n:
        owner, key, _ = rng.choice(studios)
        wid = new_id("work")
        body = {"id": wid, "kind": "film", "owner": owner,
                "title": " ".join(rng.choice(WORDS) for _ in range(3)) + f" {len(rest)}",
                "year": rng.randint(1950, 2026),
                "assets": [{"sha256": rng.randbytes(32).hex(), "size": rng.randint(10**7, 10**10),
                            "media_type": "video/mp4", "category": "video",
                            "duration_ms": rng.randint(60_000, 7_200_000), "name": f"reel{k}.mp4"}
                           for k in range(2)]}
        rest.append(sign_statement(ledger.new_statement("work.registered", owner, body), key))
        for share, perf in zip(("0.6", "0.4"), rng.sample(performers, 2)):
            credit = {"work": wid, "party": perf[0], "role": "performer", "share": share}
            rest.append(sign_statement(ledger.new_statement("work.credited", owner, credit), key))
    return first, rest[: n - n_parties]


def sqlite_sizes(path: Path) -> dict[str, int]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
        owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master").fetchall())
    finally:
        conn.close()
    sizes: dict[str, int] = {}
    for name, size in rows:
        table = owner.get(name, name)
        if name.startswith("sqlite_autoindex_"):
            table = name.removeprefix("sqlite_autoindex_").rsplit("_", 1)[0]
        sizes[table] = sizes.get(table, 0) + int(size)
    return sizes


def pg_sizes(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
            rows = conn.exec_driver_sql(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'r' AND n.nspname = current_schema()").all()
    finally:
        engine.dispose()
    return {name: int(size) for name, size in rows}


def folder_sizes(root: Path) -> tuple[int, int, int]:
    data = blocks = files = 0
    for dirpath, _, names in os.walk(root):
        for n in names:
            st = os.stat(os.path.join(dirpath, n))
            data += st.st_size
            blocks += st.st_blocks * 512
            files += 1
    return data, blocks, files


def measure(backend: str, n: int, n_parties: int, batch: int, work: Path) -> dict[str, Any]:
    schema = None
    url = None
    if backend == "postgresql":
        import psycopg

        schema = f"sizing_{secrets.token_hex(4)}"
        with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"),
                             autocommit=True) as c:
            c.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    try:
        home, _ = Home.init(work / backend, origin="sizing.example/log", database_url=url)
        ledger = Ledger.open(home)
        parties_batch, rest = statements(ledger, n, n_parties)
        started = time.perf_counter()
        ledger.submit(parties_batch)
        for i in range(0, len(rest), batch):
            ledger.submit(rest[i:i + batch])
        seconds = time.perf_counter() - started
        with ledger.db.read() as conn:
            size, _ = ledger.log.head(conn)
            leaf_bytes = int(conn.exec_driver_sql(
                "SELECT SUM(LENGTH(entry)) FROM log_entries").scalar_one())
            checkpoints = int(conn.exec_driver_sql(
                "SELECT COUNT(*) FROM log_checkpoints").scalar_one())
            exported = work / f"{backend}-tiles"
            export_log(exported, ledger.log, conn)
        ledger.close()
        ledger.db.dispose()
        sizes = (sqlite_sizes(home.path / "reelrights.db") if backend == "sqlite"
                 else pg_sizes(url or ""))
        data, blocks, files = folder_sizes(exported)
    finally:
        if schema:
            import psycopg

            with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"),
                                 autocommit=True) as c:
                c.execute(f'DROP SCHEMA "{schema}" CASCADE')
    log_db = sum(v for k, v in sizes.items() if k in LOG_TABLES)
    total_db = sum(sizes.values())
    return {"backend": backend, "entries": size, "checkpoints": checkpoints,
            "append_seconds": round(seconds, 2), "leaf_bytes": leaf_bytes,
            "db_total_bytes": total_db, "db_log_bytes": log_db,
            "db_other_bytes": total_db - log_db, "tiles_bytes": data,
            "tiles_disk_bytes": blocks, "tiles_files": files,
            "tables": dict(sorted(sizes.items(), key=lambda kv: -kv[1])[:8])}


def per_million(value: int, entries: int) -> str:
    return f"{value / entries * 1e6 / 2**30:7.2f} GiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50_000, help="statements in the log")
    ap.add_argument("--parties", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=64,
                    help="statements per batch (one checkpoint each), as the service coalesces")
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = []
    with tempfile.TemporaryDirectory(prefix="reelrights-sizing-") as tmp:
        for backend in backends:
            try:
                results.append(measure(backend, args.n, args.parties, args.batch, Path(tmp)))
            except Exception as exc:  # noqa: BLE001 - e.g. PostgreSQL unreachable: say so
                print(f"{backend}: not measured ({type(exc).__name__}: {exc})", file=sys.stderr)
    print(f"sizing: {args.n:,} statements (parties, works with two assets, two credits each), "
          f"batches of {args.batch}; per million entries, extrapolated linearly")
    print(f"{'backend':<11} {'leaves (baseline)':>18} {'database':>12} {'of it log':>12} "
          f"{'tiles (files)':>14} {'tiles (disk)':>13} {'files':>8}")
    for r in results:
        e = r["entries"]
        print(f"{r['backend']:<11} {per_million(r['leaf_bytes'], e):>18} "
              f"{per_million(r['db_total_bytes'], e):>12} {per_million(r['db_log_bytes'], e):>12} "
              f"{per_million(r['tiles_bytes'], e):>14} {per_million(r['tiles_disk_bytes'], e):>13} "
              f"{int(r['tiles_files'] / e * 1e6):>8,}")
        print(f"  {r['backend']}: {e:,} entries, {r['checkpoints']:,} checkpoints, appended in "
              f"{r['append_seconds']}s; bytes per entry: leaf {r['leaf_bytes'] / e:.0f}, database "
              f"{r['db_total_bytes'] / e:.0f} (log {r['db_log_bytes'] / e:.0f}), tiles "
              f"{r['tiles_bytes'] / e:.0f}; largest tables: "
              + ", ".join(f"{k} {v / e:.0f}" for k, v in list(r["tables"].items())[:5]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
