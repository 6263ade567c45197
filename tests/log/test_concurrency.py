"""Many writers, one log: threads, OS processes and a writer killed with SIGKILL mid-run.

Every test runs on SQLite and PostgreSQL. Writers never share a Ledger: each thread or process
opens its own from the home (for PostgreSQL, home.json holds the URL), so the log head lock in
the database is the only thing that orders them.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from reelrights.catalogue import check_body
from reelrights.core.ids import new_id
from reelrights.core.merkle import MemoryTree, leaf_hash
from reelrights.core.note import NoteSigner
from reelrights.core.statements import decode_entry, make_statement, open_leaf, sign_statement
from reelrights.home import Home
from reelrights.keys import PartyKey
from reelrights.ledger import Ledger
from reelrights.log.tiled import DirTileSource, verify_tiled_log
from reelrights.log.verify import verify_log
from reelrights.registry.parties import register_party
from reelrights.store.tables import log_entries, parties, works

_counter = itertools.count()


def work_entry(registry: str, pid: str, key: Any, tag: str = "") -> bytes:
    n = next(_counter)
    wid = new_id("work")
    body = {"id": wid, "kind": "film", "title": f"Concurrent {tag}{n}", "owner": pid,
            "assets": [{"sha256": hashlib.sha256(wid.encode()).hexdigest(), "size": 1 + n,
                        "media_type": "video/mp4", "category": "video", "name": f"c{n}.mp4"}]}
    return sign_statement(make_statement("work.registered", pid, body, registry=registry), key)


def writer_plan(registry: str, tag: str, batches: int, per_batch: int) -> list[list[bytes]]:
    """Pre-signed batches for one writer: its own party.registered first, then its works."""
    key = PartyKey.generate()
    pid = new_id("party")
    body = {"id": pid, "kind": "studio", "name": f"Writer {tag}",
            "public_key": base64.b64encode(key.public_key_bytes).decode("ascii")}
    first = [sign_statement(make_statement("party.registered", pid, body, registry=registry), key)]
    first += [work_entry(registry, pid, key, tag) for _ in range(per_batch - 1)]
    return [first] + [[work_entry(registry, pid, key, tag) for _ in range(per_batch)] for _ in range(batches - 1)]


#: Per writer thread, its (batch, receipt indices) in submission order.
Acks = list[list[tuple[list[bytes], list[int]]]]


def switches(acks: Acks) -> int:
    """How often the log passes from one writer's batch to another's (writers run one after
    another: writers - 1)."""
    order = sorted((indices[0], w) for w, batches in enumerate(acks) for _, indices in batches)
    return sum(1 for a, b in zip(order, order[1:]) if a[1] != b[1])


def submit_in_threads(plans: list[list[list[bytes]]], ledger: Ledger | None = None,
                      home: Home | None = None) -> Acks:
    """One thread per plan, released together, each submitting its batches in order: through
    ``ledger`` when given (a server's request threads share one), else through a Ledger of its
    own opened on ``home``. Returns each thread's (batch, receipt indices); a thread that hangs
    or raises fails the test."""
    barrier = threading.Barrier(len(plans))
    acks: Acks = [[] for _ in plans]
    errors: list[BaseException] = []

    def run(t: int) -> None:
        own = Ledger.open(home) if ledger is None else None
        try:
            barrier.wait(timeout=60)
            for batch in plans[t]:
                acks[t].append((batch, [r.index for r in (ledger or own).submit(batch)]))
        except BaseException as exc:  # noqa: BLE001 (re-raised in the main thread)
            errors.append(exc)
        finally:
            if own is not None:
                own.db.dispose()

    threads = [threading.Thread(target=run, args=(t,)) for t in range(len(plans))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not any(th.is_alive() for th in threads), "a writer thread hung"
    assert not errors, errors
    return acks


def vkey_of(home: Home) -> str:
    return NoteSigner(home.origin, home.log_key().seed).vkey


def check_log(home: Home, batches: list[tuple[list[bytes], list[int]]], statements: int) -> None:
    """The log holds its registry.established entry (index 0: logged once, however many writers
    opened the home first), then exactly the acknowledged batches (``statements`` statements),
    each contiguous at its receipt indices under one log time, one checkpoint per batch, and it
    verifies in the database and in the mirror."""
    ledger = Ledger.open(home)
    try:
        with ledger.db.read() as conn:
            size, root = ledger.log.head(conn)
            rows = [(int(r.idx), bytes(r.leaf_hash), bytes(r.entry)) for r in conn.execute(
                select(log_entries.c.idx, log_entries.c.leaf_hash, log_entries.c.entry)
                .order_by(log_entries.c.idx))]
            checkpoint_sizes = ledger.log.checkpoint_sizes(conn)
            report = verify_log(conn, ledger.log, vkey_of(home), check_body=check_body)
            n_parties = len(conn.execute(select(parties.c.id)).all())
            n_works = len(conn.execute(select(works.c.id)).all())
    finally:
        ledger.db.dispose()
    total = statements + 1
    assert size == total == len(rows)
    assert [i for i, _, _ in rows] == list(range(total)), "indices must be 0..n-1, no gaps or duplicates"
    decoded = [decode_entry(e) for _, _, e in rows]
    assert [s.type for s in decoded].count("registry.established") == 1
    assert (decoded[0].type, decoded[0].registry) == ("registry.established", home.registry)
    times = [s.log_time for s in decoded]
    assert None not in times and times == sorted(times), "log times never decrease"
    envelopes = [open_leaf(e)[0] for _, _, e in rows]
    stored = Counter(envelopes[1:])
    submitted = Counter(e for batch, _ in batches for e in batch)
    assert stored == submitted and max(stored.values()) == 1, "every statement exactly once"
    ends = [1]  # the establishment's own batch
    for batch, indices in batches:
        assert len(indices) == len(batch)
        assert indices == list(range(indices[0], indices[0] + len(batch))), "a batch is contiguous"
        assert [envelopes[i] for i in indices] == batch, "each receipt names its own statement"
        assert len({times[i] for i in indices}) == 1, "a batch has one log time"
        ends.append(indices[-1] + 1)
    assert checkpoint_sizes == sorted(ends), "exactly one checkpoint per batch"
    assert root == MemoryTree.from_entries(e for _, _, e in rows).root()
    assert all(h == leaf_hash(e) for _, h, e in rows)
    assert (report.size, report.checkpoints) == (total, len(batches) + 1)
    assert n_works + n_parties == statements
    mirror = home.log_dir
    tiled = verify_tiled_log(DirTileSource(mirror), (mirror / "checkpoint").read_bytes(), vkey_of(home))
    assert (tiled.size, tiled.root_hex) == (total, root.hex()), "the mirror caught up with the last batch"


# --------------------------------------------------------------------------------------------
# Threads
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_threads_each_with_own_ledger(home: Home) -> None:
    plans = [writer_plan(home.registry, f"t{t}-", batches=25, per_batch=4) for t in range(4)]
    acks = submit_in_threads(plans, home=home)
    assert [len(a) for a in acks] == [25] * 4
    assert switches(acks) > 3, "the threads ran one after another: no concurrency was exercised"
    check_log(home, [b for a in acks for b in a], 400)


@pytest.mark.slow
def test_threads_share_one_ledger(home: Home, ledger: Ledger) -> None:
    """A server shares one Ledger (one engine, one cached tile edge) between request threads."""
    plans = [writer_plan(home.registry, f"s{t}-", batches=10, per_batch=3) for t in range(4)]
    acks = submit_in_threads(plans, ledger)
    check_log(home, [b for a in acks for b in a], 120)


@pytest.mark.slow
def test_shared_ledger_publishes_in_log_order(home: Home, ledger: Ledger,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches that commit one after another through one ledger reach the static folder in
    log order, each from its own tiles in memory: none finds a gap it has to re-read from the
    database. Every checkpoint the folder shows is one the log issued, and never goes back."""
    from reelrights.log import mirror

    gap_fills: list[int] = []
    real_export = mirror._export_locked

    def counting_export(root, log, conn, *, since):  # type: ignore[no-untyped-def]
        gap_fills.append(since)
        return real_export(root, log, conn, since=since)

    seen: list[int] = []
    real_finish = mirror._finish

    def watching_finish(staged, note):  # type: ignore[no-untyped-def]
        real_finish(staged, note)  # the checkpoint is in place
        seen.append(int(note.split(b"\n")[1]))

    from reelrights.write.keys import KeyBook

    real_remember = KeyBook.remember

    def slow_remember(self, stmts):  # type: ignore[no-untyped-def]
        time.sleep(random.uniform(0, 0.03))  # after its commit, this thread loses the CPU a while
        real_remember(self, stmts)

    monkeypatch.setattr(KeyBook, "remember", slow_remember)
    monkeypatch.setattr(mirror, "_export_locked", counting_export)
    monkeypatch.setattr(mirror, "_finish", watching_finish)
    plans = [writer_plan(home.registry, f"o{t}-", batches=12, per_batch=5) for t in range(3)]
    # Register the writers first, one after another.
    first = [(plan[0], [r.index for r in ledger.submit(plan[0])]) for plan in plans]
    acks = submit_in_threads([plan[1:] for plan in plans], ledger)
    assert switches(acks) > 2, "the threads ran one after another: no concurrency was exercised"
    assert gap_fills == [], "a batch was published before an earlier one of the same ledger"
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 3 + 3 * 11
    with ledger.db.read() as conn:
        assert seen == ledger.log.checkpoint_sizes(conn)[-len(seen):]
    check_log(home, first + [b for a in acks for b in a], 3 * 12 * 5)


# --------------------------------------------------------------------------------------------
# OS processes
# --------------------------------------------------------------------------------------------

WRITER = r"""
import base64, json, sys, time
from pathlib import Path
from reelrights.home import Home
from reelrights.ledger import Ledger

home = Home.open(sys.argv[1])
plan = [[base64.b64decode(e) for e in b] for b in json.loads(Path(sys.argv[2]).read_text())]
go = Path(sys.argv[3])
late = sys.argv[4] == "late"  # open the Ledger (and so the database) only once told to go
ledger = None if late else Ledger.open(home)
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
ledger = ledger or Ledger.open(home)
for batch in plan:
    receipts = ledger.submit(batch)
    print(json.dumps([r.index for r in receipts]), flush=True)
"""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REELRIGHTS_DATABASE_URL", None)
    env.pop("REELRIGHTS_HOME", None)
    return env


def start_writers(home: Home, tmp_path: Path, plans: list[list[list[bytes]]],
                  open_late: bool = False) -> tuple[list[Any], Path]:
    go = tmp_path / "go"
    procs = []
    for i, plan in enumerate(plans):
        plan_file = tmp_path / f"plan{i}.json"
        plan_file.write_text(json.dumps([[base64.b64encode(e).decode() for e in b] for b in plan]))
        procs.append(subprocess.Popen(
            [sys.executable, "-c", WRITER, str(home.path), str(plan_file), str(go),
             "late" if open_late else "early"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env()))
    return procs, go


def finish_writers(procs: list[Any], plans: list[list[list[bytes]]]) -> list[tuple[list[bytes], list[int]]]:
    acked = []
    for proc, plan in zip(procs, plans, strict=True):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        indices = [json.loads(line) for line in out.splitlines() if line != "ready"]
        assert len(indices) == len(plan), err
        acked += list(zip(plan, indices, strict=True))
    return acked


@pytest.mark.slow
def test_processes_write_to_one_home(home: Home, ledger: Ledger, tmp_path: Path) -> None:
    """3 processes, 25 batches each; the home (and its database) exists before they start."""
    ledger.db.dispose()
    plans = [writer_plan(home.registry, f"p{i}-", batches=25, per_batch=4) for i in range(3)]
    procs, go = start_writers(home, tmp_path, plans)
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        go.touch()
        acked = finish_writers(procs, plans)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    by_writer = [[b for b in acked if b[0] in plan] for plan in plans]
    assert switches(by_writer) > 2, "the processes ran one after another: no concurrency exercised"
    check_log(home, acked, 300)


FRESH_WRITER = r"""
import base64, json, sys, time
from pathlib import Path
from reelrights.home import Home
from reelrights.ledger import Ledger

for r, job in enumerate(json.loads(Path(sys.argv[1]).read_text())):
    plan = [[base64.b64decode(e) for e in b] for b in job["plan"]]
    go = Path(job["go"])
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.0005)
    try:
        ledger = Ledger.open(Home.open(job["home"]))  # the first open of that database
        out = [[x.index for x in ledger.submit(batch)] for batch in plan]
        ledger.db.dispose()
    except Exception as exc:
        print("failed " + json.dumps(f"{type(exc).__module__}.{type(exc).__name__}: {exc}"), flush=True)
    else:
        print("done " + json.dumps(out), flush=True)
"""

FRESH_ROUNDS = 15


@pytest.mark.slow
def test_processes_first_open_of_fresh_home(home: Home, tmp_path: Path) -> None:
    """3 processes start writing at once to a fresh home whose database was never opened.

    The race needs the processes to collide, so the same 3 processes go through up to
    FRESH_ROUNDS fresh homes (a fresh database each) and the test stops at the first round in
    which any of them fails.
    """
    homes = [home]
    for round_ in range(1, FRESH_ROUNDS):
        url = home.database_url_setting
        url = (f"sqlite:///{tmp_path / f'round{round_}.db'}" if url.startswith("sqlite")
               else _fresh_pg_schema(url, round_))
        homes.append(Home.init(tmp_path / f"home{round_}", database_url=url)[0])
    plans = [[writer_plan(homes[r].registry, f"f{r}.{w}-", batches=2, per_batch=2) for r in range(FRESH_ROUNDS)]
             for w in range(3)]
    procs = []
    for w in range(3):
        jobs = [{"home": str(homes[r].path), "go": str(tmp_path / f"go{r}"),
                 "plan": [[base64.b64encode(e).decode() for e in b] for b in plans[w][r]]}
                for r in range(FRESH_ROUNDS)]
        (tmp_path / f"jobs{w}.json").write_text(json.dumps(jobs))
        procs.append(subprocess.Popen([sys.executable, "-c", FRESH_WRITER, str(tmp_path / f"jobs{w}.json")],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      env=child_env()))
    try:
        for r in range(FRESH_ROUNDS):
            for proc in procs:
                assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
            (tmp_path / f"go{r}").touch()
            results = [proc.stdout.readline().strip() for proc in procs]
            failures = [json.loads(x.split(" ", 1)[1]) for x in results if x.startswith("failed ")]
            assert not failures, f"round {r}: {failures}"
            acked = [(batch, indices) for w, x in enumerate(results)
                     for batch, indices in zip(plans[w][r], json.loads(x.split(" ", 1)[1]), strict=True)]
            check_log(homes[r], acked, 12)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _fresh_pg_schema(url: str, round_: int) -> str:
    """Another empty schema next to the fixture's (dropped with it: same name prefix + suffix)."""
    import psycopg

    base, _, options = url.partition("?")
    schema = options.split("%3D", 1)[1] + f"_r{round_}"
    plain = base.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    _SCHEMAS.append((plain, schema))
    return f"{base}?options=-csearch_path%3D{schema}"


_SCHEMAS: list[tuple[str, str]] = []


@pytest.fixture(autouse=True)
def _drop_extra_schemas() -> Any:
    yield
    import psycopg

    while _SCHEMAS:
        plain, schema = _SCHEMAS.pop()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# --------------------------------------------------------------------------------------------
# Crash safety: SIGKILL a writer mid-run
# --------------------------------------------------------------------------------------------

CRASHER = r"""
import hashlib, random, sys
from reelrights.core.ids import new_id
from reelrights.core.statements import make_statement, sign_statement
from reelrights.home import Home
from reelrights.ledger import Ledger

home = Home.open(sys.argv[1])
pid, rng = sys.argv[2], random.Random(int(sys.argv[3]))
key = home.party_key(pid)
ledger = Ledger.open(home)
print("ready", flush=True)
n = 0
while True:
    batch = []
    for _ in range(rng.randint(1, 40)):
        n += 1
        wid = new_id("work")
        body = {"id": wid, "kind": "film", "title": f"Crash {sys.argv[3]} {n}", "owner": pid,
                "assets": [{"sha256": hashlib.sha256(wid.encode()).hexdigest(), "size": n,
                            "media_type": "video/mp4", "category": "video", "name": f"k{n}.mp4"}]}
        batch.append(sign_statement(ledger.new_statement("work.registered", pid, body), key))
    receipts = ledger.submit(batch)
    sys.stdout.write(f"{receipts[-1].index} {receipts[-1].leaf_hash}\n")  # one write per ack line
    sys.stdout.flush()
"""


def _lines(stream: Any, out: queue.Queue) -> None:
    """Queue each complete line; a line cut off by the kill (no newline) is not an acknowledgement."""
    for line in stream:
        if line.endswith("\n"):
            out.put(line[:-1])
    out.put(None)


def run_and_kill(home: Home, pid: str, seed: int, rng: random.Random, tmp_path: Path) -> list[tuple[int, str]]:
    """Start a writer, SIGKILL it at a random moment after a few acks; return every ack it printed."""
    err_path = tmp_path / f"crasher{seed}.err"
    with open(err_path, "w") as err:
        proc = subprocess.Popen([sys.executable, "-c", CRASHER, str(home.path), pid, str(seed)],
                                stdout=subprocess.PIPE, stderr=err, text=True, env=child_env())
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True)
    reader.start()
    acks: list[tuple[int, str]] = []
    try:
        assert lines.get(timeout=60) == "ready", err_path.read_text()
        want = rng.randint(2, 6)
        while len(acks) < want:
            line = lines.get(timeout=60)
            assert line is not None, f"writer died on its own: {err_path.read_text()}"
            index, h = line.split()
            acks.append((int(index), h))
        time.sleep(rng.uniform(0, 0.08))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    while (line := lines.get(timeout=30)) is not None:  # acks printed before the kill landed
        index, h = line.split()
        acks.append((int(index), h))
    reader.join(timeout=30)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, err_path.read_text())
    return acks


@pytest.mark.slow
def test_sigkill_mid_run_loses_nothing_acknowledged(home: Home, ledger: Ledger, tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    pid = register_party(home, ledger, "studio", "Crash test").details["id"]
    ledger.db.dispose()
    vkey = vkey_of(home)
    all_acks: list[tuple[int, str]] = []
    for round_ in range(4):
        acks = run_and_kill(home, pid, seed + round_, rng, tmp_path)
        assert [i for i, _ in acks] == sorted({i for i, _ in acks}), f"seed {seed}: acks out of order"
        all_acks += acks
        fresh = Ledger.open(home)  # a new process would do the same: nothing cached
        try:
            with fresh.db.read() as conn:
                size, _ = fresh.log.head(conn)
                for index, h in all_acks:  # every acknowledged batch survived, bytes unchanged
                    assert fresh.log.leaf_hash(conn, index).hex() == h, f"seed {seed}: index {index}"
                assert size > all_acks[-1][0]
                assert fresh.log.checkpoint_sizes(conn)[-1] == size
                report = verify_log(conn, fresh.log, vkey, check_body=check_body)
                assert report.size == size
            # The writer is gone; a fresh ledger appends right after its last commit (the tile
            # edge reloads from the database) and brings the mirror up to date.
            receipts = fresh.submit([work_entry(home.registry, pid, home.party_key(pid), f"after{round_}-")
                                     for _ in range(3)])
            assert [r.index for r in receipts] == [size, size + 1, size + 2]
            with fresh.db.read() as conn:
                assert verify_log(conn, fresh.log, vkey, check_body=check_body).size == size + 3
                head_note = fresh.log.checkpoint(conn)
        finally:
            fresh.db.dispose()
        mirror = home.log_dir
        assert (mirror / "checkpoint").read_bytes() == head_note, f"seed {seed}: mirror behind"
        tiled = verify_tiled_log(DirTileSource(mirror), head_note, vkey)
        assert tiled.size == size + 3
    assert all_acks[-1][0] >= 20, f"seed {seed}: too few acks to mean anything"


# --------------------------------------------------------------------------------------------
# Readers of the mirror holding an older checkpoint
# --------------------------------------------------------------------------------------------


def test_older_checkpoint_verifies_after_tile_fills(home: Home, ledger: Ledger) -> None:
    pid = register_party(home, ledger, "studio", "Old reader").details["id"]
    key = home.party_key(pid)
    ledger.submit([work_entry(home.registry, pid, key) for _ in range(200)])
    old_note = (home.log_dir / "checkpoint").read_bytes()
    vkey = vkey_of(home)
    # the registry.established entry, the party and its 200 works
    assert verify_tiled_log(DirTileSource(home.log_dir), old_note, vkey).size == 202
    ledger.submit([work_entry(home.registry, pid, key) for _ in range(100)])  # fills tile 0, size 302
    assert verify_tiled_log(DirTileSource(home.log_dir), old_note, vkey).size == 202
