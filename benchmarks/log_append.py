#!/usr/bin/env python
"""Append N signed statements to a fresh reelrights log and measure the write and read paths.

    python benchmarks/log_append.py                      # 1,000,000 statements, SQLite, temp home
    python benchmarks/log_append.py --n 100000 --batch 2000 --json out.json
    python benchmarks/log_append.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
    python benchmarks/log_append.py --n 400000 --baseline 4788fac --rounds 3 --cache /tmp/bc

What is timed, in order:

1. ``Ledger.submit(batch)`` for every batch: the real write path (decode, schema, key lookup,
   every Ed25519 signature verified, registry rows, log entries, tiles, a signed checkpoint,
   a durable commit, then the static tile folder brought up to date);
2. ``verify_log`` over the database, tree only and with every signature, and ``verify_tiled_log``
   over the static folder;
3. inclusion and consistency proofs at the final size, in one open read connection;
4. side by side, this machine's raw Ed25519-verify and SHA-256 rates, and the ratios.

Set-up is not timed: a fresh home, 1,000 parties registered through the ledger, and N
``work.registered`` statements pre-signed by their owners over every core (cached in
``--cache DIR`` when given, so a rerun with the same N skips the signing). The script prints
figures and verdicts; it never asserts. Durability is never relaxed: SQLite stays in WAL mode
with ``synchronous=FULL`` (every batch is fsynced at commit), PostgreSQL keeps its settings.

Where the work happens: a batch of at least 512 statements is decoded, type-checked and
signature-checked in full by worker processes (one per core) while the writer thread applies
and appends it, and the commit waits for their verdict (see ``reelrights.ledger``). Batches
come from ``--submitters`` threads (default 3) sharing one ledger, as a server's clients would:
while one batch holds the log head, the next is parsed and its signatures checked, and the one
before is written to the static folder (in log order). ``--submitters 1`` is the strictly
sequential case; measured at 400,000 entries: 1 thread 11,100-11,350/s, 2 threads 11,965/s,
3 threads 12,278/s. The CPU figures count this process and its workers; "other processes" are
everything else.

Batch size (``--batch``, default 10,000). A batch is one transaction: one fsync, one signed
checkpoint, one set of tile files. Past a few hundred statements those fixed costs are noise;
what keeps shrinking with bigger batches is the write amplification of the registry's
random-key indexes (the assets key and the work_assets index are content hashes): each batch
rewrites every index page it touched, in the WAL and again at the checkpoint. Measured at
200,000 entries on SQLite: 2,000 per batch wrote 18.5 KiB per statement, 5,000 wrote 11.6 KiB
and 10,000 7.8 KiB, and the gap grows with the log. At 1,000,000 entries with 3 submitters,
5,000 per batch reached 9,591/s (25.5 KiB written per statement) and 10,000 per batch
10,714/s. A batch of 10,000 commits in about a second, the cadence at which Tessera-style
logs integrate.

The figures mean something only on a machine the benchmark has to itself; each timed phase
reports how many cores other processes used meanwhile, and the raw rates are measured at the
start and again at the end.

Baseline (``--baseline REV``): the same measurement of another revision of this repository
(a git worktree of REV in a temporary folder, running REV's own copy of this script, which
signs statements of REV's own format), alternated with this tree's run ``--rounds`` times, so
that both meet the same machine load. It prints each round and the medians side by side, with
the ratio: the regression check for the write path (measured at 400,000 statements against
4788fac, the last revision before v2 statements; see the commit log for the figures).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import multiprocessing
import os
import platform
import random
import secrets
import shutil
import sqlite3
import statistics
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path

from reelrights.catalogue import check_body
from reelrights.core.ids import ordered_id
from reelrights.core.note import NoteSigner
from reelrights.core.statements import SIGNING_CONTEXT, make_statement, sign_statement
from reelrights.home import Home
from reelrights.keys import PartyKey
from reelrights.ledger import Ledger
from reelrights.log.tiled import DirTileSource, verify_tiled_log
from reelrights.log.verify import verify_log
from reelrights.log.workers import worker_cpu_seconds

#: The registry every pre-signed statement is bound to (v2 statements name their registry).
BENCH_REGISTRY = "bench.reelrights.local/append"
PARTIES = 1000
#: The clock of the pre-signed works' ids (2027-01-01T00:00:00Z): fixed, so the cache is stable.
ID_EPOCH_MS = 1_798_761_600_000
TARGETS = {"appends_per_s": 10_000, "appends_vs_raw2": 0.7, "tree_verify_per_s": 200_000,
           "inclusion_p50_ms": 1.0}
KINDS = ("film", "episode", "score", "performance")
WORDS = ("Harbour", "Lights", "Northern", "Quiet", "Storm", "Glass", "River", "Night", "Summer",
         "Echo", "Paper", "Moon", "Iron", "Garden", "Last", "Train", "Salt", "Winter")


# -- the machine and its raw rates ----------------------------------------------------------------

def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import nacl
    import sqlalchemy
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "pynacl": nacl.__version__,
            "sqlalchemy": sqlalchemy.__version__, "platform": platform.platform()}


class Load:
    """CPU used during a phase: by this process (all threads and its worker processes) and by
    every other process.

    The figures only mean something on a machine the benchmark has to itself; this says how far
    from that the run was.
    """

    def __enter__(self) -> Load:
        self._stat, self._times, self._io = _proc_stat(), os.times(), _io_written()
        self._workers = worker_cpu_seconds()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0
        busy = (_proc_stat() - self._stat) / os.sysconf("SC_CLK_TCK")
        t = os.times()
        # This process's threads and its worker processes (signature checks, leaf hashes).
        self.workers = worker_cpu_seconds() - self._workers
        self.cpu = (t.user + t.system) - (self._times.user + self._times.system) + self.workers
        self.mine = self.cpu / self.seconds
        self.others = max(0.0, busy - self.cpu) / self.seconds
        self.written = _io_written() - self._io

    def to_json(self) -> dict:
        return {"seconds": self.seconds, "cpu_seconds": self.cpu,
                "worker_cpu_seconds": self.workers, "cores_this_process": self.mine,
                "cores_other_processes": self.others, "bytes_written": self.written}


def _proc_stat() -> int:
    """Busy jiffies of the whole machine (user+nice+system+irq+softirq)."""
    try:
        v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    except OSError:
        return 0
    return v[0] + v[1] + v[2] + v[5] + v[6]


def _io_written() -> int:
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def stage_costs(entries: list[bytes], keys: dict[str, bytes]) -> dict:
    """CPU µs per statement of each check on the write path, one thread, best of 5 runs."""
    from nacl.bindings import crypto_sign_open

    from reelrights.core.canonical import parse_canonical
    from reelrights.core.statements import decode_entry

    stmts = [decode_entry(e) for e in entries]
    pairs = [(s.signature + s.message, keys[s.actor]) for s in stmts]
    stages = {
        "jcs_parse_and_check": lambda: [parse_canonical(e) for e in entries],
        "decode_entry": lambda: [decode_entry(e) for e in entries],
        "schema_check": lambda: [check_body(s.type, s.version, s.body, s.actor) for s in stmts],
        "leaf_hash": lambda: [hashlib.sha256(b"\x00" + e).digest() for e in entries],
        "ed25519_verify": lambda: [crypto_sign_open(sm, pk) for sm, pk in pairs],
    }
    out = {}
    for name, fn in stages.items():
        best = float("inf")
        for _ in range(5):
            t0 = time.thread_time()
            fn()
            best = min(best, time.thread_time() - t0)
        out[name] = best / len(entries) * 1e6
    return out


def _threads(n: int, fn, chunks) -> float:
    ts = [threading.Thread(target=fn, args=(chunks[i],)) for i in range(n)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - t0


def raw_rates(count: int = 24_000) -> dict:
    """Ed25519 verify/s (PyNaCl on 1 and 2 threads, cryptography for reference) and SHA-256/s."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from nacl.bindings import crypto_sign_open

    keys = [PartyKey.generate() for _ in range(16)]
    signed = []  # (signature || message, public key), messages shaped like real statements
    for i in range(count):
        k = keys[i % len(keys)]
        msg = SIGNING_CONTEXT + os.urandom(420)
        signed.append((k.sign(msg) + msg, k.public_key_bytes))

    def nacl_loop(items):
        for sm, pk in items:
            crypto_sign_open(sm, pk)

    ossl = {k.public_key_bytes: Ed25519PublicKey.from_public_bytes(k.public_key_bytes)
            for k in keys}

    def ossl_loop(items):
        for sm, pk in items:
            ossl[pk].verify(sm[:64], sm[64:])

    out = {}
    half = count // 2
    out["ed25519_nacl_1t"] = half / _threads(1, nacl_loop, [signed[:half]])
    out["ed25519_nacl_2t"] = count / _threads(2, nacl_loop, [signed[0::2], signed[1::2]])
    out["ed25519_ossl_1t"] = half / _threads(1, ossl_loop, [signed[:half]])
    out["ed25519_ossl_2t"] = count / _threads(2, ossl_loop, [signed[0::2], signed[1::2]])
    for size in (33, 65, 500):
        data = os.urandom(size)
        n = 300_000
        sha = hashlib.sha256
        t0 = time.perf_counter()
        for _ in range(n):
            sha(data).digest()
        out[f"sha256_{size}"] = n / (time.perf_counter() - t0)
    return out


# -- set-up: parties and pre-signed statements ----------------------------------------------------

_worker_parties: list[tuple[str, PartyKey]] = []


def _init_signer(parties: list[tuple[str, bytes]]) -> None:
    global _worker_parties
    _worker_parties = [(pid, PartyKey(seed)) for pid, seed in parties]


def _sign_chunk(job: tuple[int, int]) -> bytes:
    """Sign ``count`` work.registered statements; return them length-prefixed in one blob."""
    start, count = job
    rng = random.Random(start)
    out = bytearray()
    for i in range(start, start + count):
        owner, key = _worker_parties[rng.randrange(len(_worker_parties))]
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 4))) + f" {i}"
        kind = rng.choice(KINDS)
        # ids as new_id makes them (time-ordered; see core/ids.py): ~10 works a millisecond
        body = {"id": ordered_id("work", ID_EPOCH_MS + i // 10, rng.getrandbits(32)),
                "kind": kind, "title": title, "owner": owner, "year": rng.randint(1950, 2026),
                "assets": [{"sha256": rng.randbytes(32).hex(),
                            "size": rng.randint(10_000_000, 40_000_000_000),
                            "media_type": "video/mp4", "category": "video",
                            "duration_ms": rng.randint(60_000, 10_800_000),
                            "name": title.lower().replace(" ", "-") + ".mp4"}]}
        entry = sign_statement(make_statement("work.registered", owner, body,
                                              registry=BENCH_REGISTRY), key)
        out += struct.pack(">I", len(entry)) + entry
    return bytes(out)


def _unpack(blob: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(blob):
        (n,) = struct.unpack_from(">I", blob, pos)
        out.append(blob[pos + 4: pos + 4 + n])
        pos += 4 + n
    return out


def party_statements(keys: list[bytes]) -> tuple[list[tuple[str, bytes]], list[bytes]]:
    parties, entries = [], []
    for i, seed in enumerate(keys):
        key = PartyKey(seed)
        pid = "pty_" + base64.b32encode(hashlib.sha256(seed).digest()[:10]).decode().lower()
        body = {"id": pid, "kind": ("studio", "performer", "writer", "guild")[i % 4],
                "name": f"Party {i:04d}",
                "public_key": base64.b64encode(key.public_key_bytes).decode()}
        entries.append(sign_statement(make_statement("party.registered", pid, body,
                                                     registry=BENCH_REGISTRY), key))
        parties.append((pid, seed))
    return parties, entries


def presign(n: int, cache: Path, echo) -> tuple[list[bytes], list[bytes]]:
    """(party entries, work entries): from the cache when it matches N, else signed now."""
    # v3: v2 statements bound to BENCH_REGISTRY. The log refuses statements signed more than
    # 72 hours before it sees them, so a cache older than 48 hours is signed again.
    meta, blob = cache / f"signed-v3-{n}.json", cache / f"signed-v3-{n}.bin"
    if meta.exists() and blob.exists():
        saved = json.loads(meta.read_text())
        seeds = [bytes.fromhex(s) for s in saved["seeds"]]
        fresh = time.time() - saved.get("signed_at", 0) < 48 * 3600
        works = _unpack(blob.read_bytes()) if fresh else []
        if len(works) == n:
            echo(f"   reusing {n:,} pre-signed statements from {blob}")
            return party_statements(seeds)[1], works
    seeds = [secrets.token_bytes(32) for _ in range(PARTIES)]
    parties, party_entries = party_statements(seeds)
    step = 10_000
    jobs = [(s, min(step, n - s)) for s in range(0, n, step)]
    t0 = time.perf_counter()
    works: list[bytes] = []
    cache.mkdir(parents=True, exist_ok=True)
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 2, _init_signer,
                                                  (parties,)) as pool, open(blob, "wb") as f:
        for part in pool.imap(_sign_chunk, jobs):
            f.write(part)
            works.extend(_unpack(part))
    meta.write_text(json.dumps({"seeds": [s.hex() for s in seeds], "signed_at": time.time()}))
    echo(f"   signed {n:,} statements in {time.perf_counter() - t0:.1f}s over "
         f"{os.cpu_count()} processes (cached in {blob})")
    return party_entries, works


def fresh_database(url: str | None) -> tuple[str | None, callable]:
    """A PostgreSQL URL gets a schema of its own (dropped at the end); SQLite URLs as they are."""
    if not url or not url.startswith("postgresql"):
        return url, lambda: None
    import psycopg

    plain = url.replace("postgresql+psycopg", "postgresql")
    schema = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", drop


def durability(ledger: Ledger) -> str:
    with ledger.db.engine.connect() as conn:
        if ledger.db.dialect == "sqlite":
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
                conn.exec_driver_sql("PRAGMA synchronous").scalar()]
            return f"SQLite journal_mode={mode} synchronous={sync}: each batch is fsynced at commit"
        fsync = conn.exec_driver_sql("SHOW fsync").scalar()
        sync = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
        return (f"PostgreSQL fsync={fsync} synchronous_commit={sync}: "
                "each batch is flushed at commit")


# -- the timed phases ------------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def submit_all(ledger: Ledger, batches: list[list[bytes]], submitters: int, lat: list[float],
               progress) -> None:
    """Submit every batch from ``submitters`` threads, each taking the next batch when free.

    This is how a server meets its clients: while one batch holds the log head, the next one is
    parsed and its signatures are being checked, and the one before is written to the static
    folder. One submitter is the strictly sequential case (``--submitters 1``).
    """
    lock = threading.Lock()
    queue = iter(batches)
    done = [0]
    errors: list[BaseException] = []
    step = max(1, len(batches) // 10)

    def submitter() -> None:
        while not errors:
            with lock:
                batch = next(queue, None)
            if batch is None:
                return
            t = time.perf_counter()
            try:
                ledger.submit(batch)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                errors.append(exc)
                return
            with lock:
                lat.append(time.perf_counter() - t)
                done[0] += 1
                if progress is not None and done[0] % step == 0:
                    progress(sum(len(b) for b in batches[:done[0]]))

    threads = [threading.Thread(target=submitter, name=f"submitter-{i}")
               for i in range(submitters)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]


def run(args: argparse.Namespace) -> dict:
    res: dict = {"machine": machine(), "config": {"n": args.n, "batch": args.batch,
                                                  "submitters": args.submitters}}
    m = res["machine"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}; Python {m['python']}; SQLite {m['sqlite']}; "
          f"PyNaCl {m['pynacl']}; SQLAlchemy {m['sqlalchemy']}")
    print("raw rates (measured now, and again at the end) ...", flush=True)
    raw = res["raw"] = raw_rates()

    work = Path(args.keep).absolute() if args.keep else Path(tempfile.mkdtemp(prefix="rr-bench-"))
    if (work / "home" / "home.json").exists():
        shutil.rmtree(work / "home")  # a previous run's home
    url, drop = fresh_database(args.database_url)
    try:
        print(f"set-up in {work} (not timed)", flush=True)
        home, _ = Home.init(work / "home", database_url=url, registry=BENCH_REGISTRY)
        ledger = Ledger.open(home)
        res["config"]["database"] = ledger.db.dialect
        res["config"]["durability"] = durability(ledger)
        party_entries, works = presign(args.n, Path(args.cache or work),
                                       lambda s: print(s, flush=True))
        for i in range(0, len(party_entries), 500):
            ledger.submit(party_entries[i:i + 500])
        print(f"   {len(party_entries)} parties registered; {res['config']['durability']}")
        res["stages"] = stage_costs(works[:2000], dict(ledger.keys.registered))
        batches = [works[i:i + args.batch] for i in range(0, len(works), args.batch)]

        print(f"appending {args.n:,} statements in {len(batches):,} batches of {args.batch} ...",
              flush=True)
        lat: list[float] = []
        with Load() as load:
            submit_all(ledger, batches, args.submitters, lat,
                       (lambda done: print(f"   {done:>9,}  "
                                           f"{done / (time.perf_counter() - load._t0):>8,.0f}/s",
                                           flush=True)) if args.progress else None)
        res["append"] = {"seconds": load.seconds, "per_s": args.n / load.seconds,
                         "batch_p50_ms": pct(lat, 0.5) * 1e3, "batch_p99_ms": pct(lat, 0.99) * 1e3,
                         "cpu_us_per_statement": load.cpu / args.n * 1e6,
                         "written_bytes_per_statement": load.written / args.n,
                         "load": load.to_json()}
        del batches, works
        # Verify the log at rest, as a separate `reelrights log verify` after the writer is done:
        # closing the ledger's SQLite write connection checkpoints its WAL (up to 256 MiB).
        ledger.close()

        vkey = NoteSigner(home.origin, home.log_key().seed).vkey
        print("verifying ...", flush=True)
        res["verify"] = {}
        for name, sigs in (("tree_only", False), ("with_signatures", True)):
            with ledger.db.read() as conn, Load() as load:
                rep = verify_log(conn, ledger.log, vkey, signatures=sigs, check_body=check_body)
            res["verify"][name] = {"seconds": rep.seconds, "per_s": rep.size / rep.seconds,
                                   "entries": rep.size, "checkpoints": rep.checkpoints,
                                   "load": load.to_json()}
        with Load() as load:
            tiled = verify_tiled_log(DirTileSource(home.log_dir),
                                     (home.log_dir / "checkpoint").read_bytes(), vkey)
        res["verify"]["tiled"] = {"seconds": load.seconds, "per_s": tiled.size / load.seconds,
                                  "entries": tiled.size, "load": load.to_json()}

        print("proofs ...", flush=True)
        res["proofs"] = proofs(ledger, args.proofs)
        ledger.db.dispose()
    finally:
        if args.keep:
            print(f"kept the home in {work / 'home'}")
        else:
            shutil.rmtree(work, ignore_errors=True)
        drop()
    print("raw rates again ...", flush=True)
    res["raw_after"] = raw_rates()
    res["ratios"] = {
        "appends_vs_raw2": res["append"]["per_s"] / raw["ed25519_nacl_2t"],
        "appends_vs_raw1": res["append"]["per_s"] / raw["ed25519_nacl_1t"],
        "sig_verify_vs_raw2": res["verify"]["with_signatures"]["per_s"] / raw["ed25519_nacl_2t"],
        "tree_verify_vs_sha500": res["verify"]["tree_only"]["per_s"] / raw["sha256_500"],
        "tiled_verify_vs_sha500": res["verify"]["tiled"]["per_s"] / raw["sha256_500"],
    }
    res["verdicts"] = {
        "appends_per_s": res["append"]["per_s"] >= TARGETS["appends_per_s"],
        "appends_vs_raw2": res["ratios"]["appends_vs_raw2"] >= TARGETS["appends_vs_raw2"],
        "tree_verify_per_s": res["verify"]["tree_only"]["per_s"] >= TARGETS["tree_verify_per_s"],
        "inclusion_p50_ms": res["proofs"]["inclusion_p50_ms"] <= TARGETS["inclusion_p50_ms"],
    }
    return res


def proofs(ledger: Ledger, count: int) -> dict:
    """Inclusion and consistency proofs at the final size, all in one open read connection."""
    from reelrights.core.checkpoint import Checkpoint
    from reelrights.core.merkle import verify_consistency, verify_inclusion
    from reelrights.log.mirror import _note_text

    rng = random.Random(7)
    out: dict = {}
    with ledger.db.read() as conn:
        size, root = ledger.log.head(conn)
        assert Checkpoint.parse(_note_text(ledger.log.checkpoint(conn))).root == root
        inc, cons = [], []
        for _ in range(count):
            i = rng.randrange(size)
            t = time.perf_counter()
            p = ledger.log.inclusion(conn, i)
            inc.append(time.perf_counter() - t)
            if len(inc) <= 50:  # spot-check that the proofs are right (not timed)
                verify_inclusion(bytes.fromhex(p["leaf_hash"]), i, size,
                                 [bytes.fromhex(h) for h in p["proof"]], root)
        sizes = ledger.log.checkpoint_sizes(conn)
        for _ in range(max(1, count // 4)):
            old = rng.choice(sizes[:-1] or sizes)
            t = time.perf_counter()
            p = ledger.log.consistency(conn, old)
            cons.append(time.perf_counter() - t)
        old_root = Checkpoint.parse(_note_text(ledger.log.checkpoint(conn, old))).root
        verify_consistency(old, size, [bytes.fromhex(h) for h in p["proof"]], old_root, root)
    out.update(size=size, count=len(inc), inclusion_p50_ms=statistics.median(inc) * 1e3,
               inclusion_p99_ms=pct(inc, 0.99) * 1e3,
               consistency_count=len(cons), consistency_p50_ms=statistics.median(cons) * 1e3,
               consistency_p99_ms=pct(cons, 0.99) * 1e3)
    return out


# -- the report ------------------------------------------------------------------------------------

def report(r: dict) -> None:
    raw, after, a, v, p, q = (r["raw"], r["raw_after"], r["append"], r["verify"], r["proofs"],
                              r["ratios"])
    st = r["stages"]
    ok = {True: "met", False: "NOT MET"}

    def others(phase: dict) -> str:
        return f"other processes used {phase['load']['cores_other_processes']:.2f} cores"

    non_sig = st["decode_entry"] + st["schema_check"] + st["leaf_hash"]
    rows = [
        ("durable appends (Ledger.submit, every signature verified)", f"{a['per_s']:,.0f} /s",
         f"{r['config']['n']:,} in {a['seconds']:.1f}s; {others(a)}"),
        ("  batch latency p50 / p99", f"{a['batch_p50_ms']:.0f} / {a['batch_p99_ms']:.0f} ms",
         f"batch {r['config']['batch']}, {r['config']['submitters']} submitting threads, "
         "one ledger"),
        ("  CPU per statement (all threads and workers) / disk written",
         f"{a['cpu_us_per_statement']:.0f} µs / {a['written_bytes_per_statement'] / 1024:.1f} KiB",
         f"{a['load']['cores_this_process']:.2f} cores used on average; worker processes "
         f"{a['load']['worker_cpu_seconds'] / r['config']['n'] * 1e6:.0f} µs of it"),
        ("verify_log, tree only", f"{v['tree_only']['per_s']:,.0f} /s",
         f"{v['tree_only']['entries']:,} entries, {v['tree_only']['checkpoints']:,} checkpoints; "
         f"{others(v['tree_only'])}"),
        ("verify_log, with every signature", f"{v['with_signatures']['per_s']:,.0f} /s",
         f"{v['with_signatures']['seconds']:.1f}s; {others(v['with_signatures'])}"),
        ("verify_tiled_log (static folder)", f"{v['tiled']['per_s']:,.0f} /s",
         f"{v['tiled']['seconds']:.1f}s; {others(v['tiled'])}"),
        (f"inclusion proof at size {p['size']:,}, p50 / p99",
         f"{p['inclusion_p50_ms']:.3f} / {p['inclusion_p99_ms']:.3f} ms",
         f"{p['count']:,} random indices, one read connection"),
        ("consistency proof to the head, p50 / p99",
         f"{p['consistency_p50_ms']:.3f} / {p['consistency_p99_ms']:.3f} ms",
         f"{p['consistency_count']:,} random checkpoint sizes"),
        ("raw Ed25519 verify, PyNaCl 1 / 2 threads",
         f"{raw['ed25519_nacl_1t']:,.0f} / {raw['ed25519_nacl_2t']:,.0f} /s",
         f"crypto_sign_open; at the end: {after['ed25519_nacl_1t']:,.0f} / "
         f"{after['ed25519_nacl_2t']:,.0f}"),
        ("raw Ed25519 verify, cryptography 1 / 2 threads",
         f"{raw['ed25519_ossl_1t']:,.0f} / {raw['ed25519_ossl_2t']:,.0f} /s", "reference"),
        ("raw SHA-256, 33 / 65 / 500 bytes",
         f"{raw['sha256_33'] / 1e3:,.0f}k / {raw['sha256_65'] / 1e3:,.0f}k / "
         f"{raw['sha256_500'] / 1e3:,.0f}k /s", "hashlib, 1 thread"),
        ("CPU per statement, 1 thread: Ed25519 verify", f"{st['ed25519_verify']:.1f} µs",
         "crypto_sign_open alone"),
        ("  decode_entry (of which JCS parse+check) / schema / leaf hash",
         f"{st['decode_entry']:.1f} ({st['jcs_parse_and_check']:.1f}) / "
         f"{st['schema_check']:.1f} / {st['leaf_hash']:.1f} µs",
         f"{non_sig:.0f} µs before any database work; 0.7 x raw allows "
         f"{st['ed25519_verify'] * (1 / 0.7 - 1):.0f} µs for everything but the signature"),
        ("appends/s ÷ raw 2-thread verify/s", f"{q['appends_vs_raw2']:.2f}",
         f"target >= {TARGETS['appends_vs_raw2']}: {ok[r['verdicts']['appends_vs_raw2']]}"),
        ("appends/s ÷ raw 1-thread verify/s", f"{q['appends_vs_raw1']:.2f}", ""),
        ("signature verify/s ÷ raw 2-thread verify/s", f"{q['sig_verify_vs_raw2']:.2f}", ""),
        ("tree-only verify/s ÷ SHA-256(500 B)/s", f"{q['tree_verify_vs_sha500']:.2f}", ""),
        ("tiled verify/s ÷ SHA-256(500 B)/s", f"{q['tiled_verify_vs_sha500']:.2f}", ""),
    ]
    w0 = max(len(x[0]) for x in rows)
    w1 = max(len(x[1]) for x in rows)
    print()
    print(f"{r['config']['durability']} (durability is not relaxed for the benchmark)")
    if r["config"]["database"] != "sqlite":
        print("(the database server's own CPU and disk writes count as other processes')")
    print("-" * (w0 + w1 + 60))
    for name, value, note in rows:
        print(f"{name:<{w0}}  {value:>{w1}}  {note}")
    print("-" * (w0 + w1 + 60))
    d = r["verdicts"]
    print(f"targets: appends >= {TARGETS['appends_per_s']:,}/s: {ok[d['appends_per_s']]}; "
          f"appends >= {TARGETS['appends_vs_raw2']} x raw 2-thread verify: "
          f"{ok[d['appends_vs_raw2']]}; tree-only verify >= {TARGETS['tree_verify_per_s']:,}/s: "
          f"{ok[d['tree_verify_per_s']]}; inclusion p50 <= {TARGETS['inclusion_p50_ms']} ms: "
          f"{ok[d['inclusion_p50_ms']]}")


# -- a baseline revision, alternated with this tree --------------------------------------------

def compare(args: argparse.Namespace) -> None:
    """Run REV's script and this one alternately, ``--rounds`` times; print medians side by side."""
    import subprocess

    here = Path(__file__).resolve().parent.parent
    cache = Path(args.cache or tempfile.mkdtemp(prefix="rr-bench-cache-")).absolute()
    tree = Path(tempfile.mkdtemp(prefix="rr-baseline-")) / "tree"
    try:
        subprocess.run(["git", "-C", str(here), "worktree", "add", "--detach", "-q", str(tree),
                        args.baseline], check=True)
    except (OSError, subprocess.CalledProcessError):
        sys.exit(f"error: cannot check out {args.baseline!r} from {here} (git worktree add "
                 "failed); name a commit of this repository")
    common = ["--n", str(args.n), "--batch", str(args.batch), "--submitters",
              str(args.submitters), "--proofs", "200"]
    if args.database_url:
        common += ["--database-url", args.database_url]
    runs = {"baseline": [], "this tree": []}
    try:
        for r in range(args.rounds):
            for name, root in (("baseline", tree), ("this tree", here)):
                out = tree.parent / f"{name.replace(' ', '-')}-{r}.json"
                sub = cache / ("baseline-" + args.baseline if name == "baseline" else "current")
                env = {**os.environ, "PYTHONPATH": str(root / "src")}
                print(f"round {r + 1}/{args.rounds}: {name} ...", flush=True)
                done = subprocess.run([sys.executable, str(root / "benchmarks" / "log_append.py"),
                                       *common, "--cache", str(sub), "--json", str(out)],
                                      env=env, stdout=subprocess.DEVNULL)
                if done.returncode != 0:
                    sys.exit(f"error: the {name} run failed (exit {done.returncode}); run it "
                             f"alone: PYTHONPATH={root / 'src'} python "
                             f"{root / 'benchmarks' / 'log_append.py'} {' '.join(common)}")
                res = json.loads(out.read_text())
                a = res["append"]
                runs[name].append({"per_s": a["per_s"], "cpu": a["cpu_us_per_statement"],
                                   "workers": a["load"]["worker_cpu_seconds"] / args.n * 1e6,
                                   "others": a["load"]["cores_other_processes"]})
                print(f"   {a['per_s']:,.0f}/s, CPU {runs[name][-1]['cpu']:.0f} µs/statement "
                      f"(workers {runs[name][-1]['workers']:.0f}), other processes "
                      f"{runs[name][-1]['others']:.2f} cores", flush=True)
    finally:
        subprocess.run(["git", "-C", str(here), "worktree", "remove", "--force", str(tree)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(tree.parent, ignore_errors=True)
    med = {name: {k: statistics.median(x[k] for x in v) for k in v[0]}
           for name, v in runs.items()}
    b, t = med["baseline"], med["this tree"]
    print()
    print(f"append, {args.n:,} statements, medians of {args.rounds} alternated rounds "
          f"(baseline {args.baseline} | this tree | ratio):")
    print(f"  appends/s                         {b['per_s']:>9,.0f} | {t['per_s']:>9,.0f} | "
          f"{t['per_s'] / b['per_s']:.2f}")
    print(f"  CPU µs per statement              {b['cpu']:>9.0f} | {t['cpu']:>9.0f} | "
          f"{t['cpu'] / b['cpu']:.2f}")
    print(f"    of which worker processes       {b['workers']:>9.0f} | {t['workers']:>9.0f} | "
          f"{t['workers'] / b['workers']:.2f}")
    print(f"    of which this process (writer)  {b['cpu'] - b['workers']:>9.0f} | "
          f"{t['cpu'] - t['workers']:>9.0f} | "
          f"{(t['cpu'] - t['workers']) / (b['cpu'] - b['workers']):.2f}")
    print(f"  other processes (cores)           {b['others']:>9.2f} | {t['others']:>9.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"baseline": args.baseline, "rounds": runs,
                                               "medians": med}, indent=2) + "\n", "utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="statements to append (1,000,000)")
    ap.add_argument("--batch", type=int, default=10_000,
                    help="statements per Ledger.submit (10,000; see the module docstring)")
    ap.add_argument("--submitters", type=int, default=3,
                    help="threads submitting batches concurrently through one ledger (3)")
    ap.add_argument("--database-url", help="default: an SQLite file in the temp home; a "
                                           "postgresql+psycopg:// URL gets a fresh schema")
    ap.add_argument("--keep", metavar="DIR", help="keep the home (and signing cache) in DIR")
    ap.add_argument("--cache", metavar="DIR", help="keep pre-signed statements here across runs")
    ap.add_argument("--proofs", type=int, default=2000, help="random inclusion proofs (2000)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--progress", action="store_true", help="print the append rate as it goes")
    ap.add_argument("--baseline", metavar="REV",
                    help="also measure git revision REV, alternated with this tree (appends only "
                         "are compared; see the module docstring)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="with --baseline: alternated rounds of each (3); medians are reported")
    args = ap.parse_args()
    if args.baseline:
        if args.rounds < 1:
            sys.exit("error: --rounds must be at least 1")
        compare(args)
        return
    res = run(args)
    report(res)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n", "utf-8")
        print(f"results written to {args.json}")


if __name__ == "__main__":
    sys.exit(main())
