#!/usr/bin/env python
"""Server time of every web page on a large home, beside a static asset in the same run.

    python benchmarks/web_pages.py                 # 10,000 works, 1,000 parties, >= 100,000 entries
    python benchmarks/web_pages.py --quick         # 1,000 works, 200 parties, >= 10,000 entries
    python benchmarks/web_pages.py --requests 50 --rebuild --json out.json
    python benchmarks/web_pages.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The home (untimed, cached in ``--cache``, default ``$TMPDIR/reelrights-bench-web``, and reused
while it is younger than the log's 72-hour signing window would matter, i.e. always once built):
the demo story (``run_demo``: every kind of party, a licensed bundle, runs, certificates, an
output, a production, royalty statements), two consent requests and a second license waiting
for the guild, then bulk statements through ``Ledger.submit`` in batches of 2,000, signed by
their actors: more parties (performers, writers, studios, developers, auditors, guilds), works
(the demo studio owns 40% of them, the rest spread over the other studios) and nine performer
credits per work (the demo's lead performer on one work in five), up to the entries wanted.

Then ``reelrights serve --port 0 --workers 1`` serves the home; each page is asked
``--requests`` times one after the other (after two warm-up requests), anonymously and, for
the parties' own pages, signed in with the challenge sign-in the tests use. The **server
time** of each request is the ``duration_ms`` of the service's own access-log line (what
the service spends from the request's first byte to the response's last, without the
client); the client's wall time is shown beside it. The baseline is a static asset
(``/static/site.css``) in the same run. The target (issue 15): every page <= 200 ms p95
server time at full scale. The script prints the table and a verdict per page; it never
asserts.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import queue
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

TARGET_MS = 200.0
BUILD_VERSION = 1  # bump when the home's content changes
WORDS = ("Harbour", "Lights", "Northern", "Quiet", "Storm", "Glass", "River", "Night", "Summer",
         "Ferry", "Winter", "Signal", "Copper", "Field", "Orchard", "Tide")
FIRST = ("Ada", "Bruno", "Chiara", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
         "Kemi", "Luca", "Mina", "Nils", "Olga", "Pablo", "Rosa", "Sami", "Tess", "Umar")
LAST = ("Okafor", "Lindqvist", "Rossi", "Patel", "Novak", "Haddad", "Kim", "Moreau", "Silva",
        "Berg", "Adeyemi", "Conti", "Tanaka", "Nowak", "Ivanova", "Garcia", "Mendes", "Khan")
#: Kinds of the bulk parties, in proportion.
KINDS = ("performer",) * 14 + ("writer",) * 2 + ("studio",) * 2 + ("developer", "auditor",
                                                                    "guild")
CREDITS_PER_WORK = 9
SCALES = {"full": {"works": 10_000, "parties": 1_000, "entries": 100_000},
          "quick": {"works": 1_000, "parties": 200, "entries": 10_000}}


def echo(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the home ------------------------------------------------------------------------------------

def _extras(home: Any, ledger: Any, ids: dict[str, str]) -> dict[str, str]:
    """What the web tests add to the story: two consent requests and a license awaiting the
    guild's co-signature."""
    from reelrights.core.license_terms import training_agreement
    from reelrights.rights.consent_requests import request_consent
    from reelrights.rights.licensing import grant_license

    out = {}
    out["request"] = request_consent(
        home, ledger, requester="Orbit AI", performer="Bruno Lindqvist", kinds=["voice"],
        description="Voice for the harbour master in the Harbour Lights trailer, English lines "
                    "only", production="Harbour Lights trailer", media=["audio"],
        territory=["US", "CA"], start=date(2027, 1, 1), end=date(2027, 12, 31),
        compensation_ref="ORB-2027-014").details["id"]
    request_consent(
        home, ledger, requester="Orbit AI", performer="Ada Okafor", kinds=["likeness"],
        description="Likeness for a de-aged flashback scene in the Harbour Lights sequel",
        model_family="orbit-video", media=["video"], territory=["US"], start=date(2027, 1, 1),
        end=date(2027, 6, 30), compensation_ref="ORB-2027-015")
    policy = training_agreement(
        uid=f"urn:reelrights:policy:{ids['bundle']}-orbit-ca", licensor=ids["studio"],
        licensee=ids["developer"], bundle=ids["bundle"], model_family="orbit-video",
        territories=["CA"], until="2027-12-31", fund_share="2.5")
    out["pending_license"] = grant_license(home, ledger, ids["bundle"], ids["developer"],
                                           policy).details["id"]
    return out


def _name(rng: random.Random, kind: str, i: int) -> str:
    if kind in ("performer", "writer"):
        return f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"
    suffix = {"studio": "Pictures", "developer": "Labs", "auditor": "Audit LLP",
              "guild": "Guild"}[kind]
    return f"{rng.choice(WORDS)} {rng.choice(WORDS)} {suffix} {i}"


def build_home(directory: Path, works: int, n_parties: int, entries: int,
               batch: int = 2000) -> dict[str, Any]:
    """The demo story plus bulk parties, works and credits (see the module's docstring)."""
    from reelrights.core.ids import new_id
    from reelrights.core.statements import sign_statement
    from reelrights.demo import run_demo
    from reelrights.home import Home
    from reelrights.keys import PartyKey
    from reelrights.ledger import Ledger
    from reelrights.registry.parties import list_parties

    t0 = time.perf_counter()
    ids = run_demo(directory, echo=lambda _: None)
    home = Home.open(directory / "home")
    ledger = Ledger.open(home, publish=False)
    rng = random.Random(15)
    try:
        ids.update(_extras(home, ledger, ids))
        existing = list_parties(ledger.db)
        keys: dict[str, Any] = {p.id: home.party_key(p.id) for p in existing
                                if (home.path / "keys" / f"{p.id}.pem").exists()}
        kinds: dict[str, list[str]] = {}
        for p in existing:
            kinds.setdefault(p.kind, []).append(p.id)

        def submit(signed: list[bytes]) -> int:
            last = 0
            for k in range(0, len(signed), batch):
                last = ledger.submit(signed[k:k + batch])[-1].index
            return last + 1

        signed = []
        for i in range(max(0, n_parties - len(existing))):
            kind = KINDS[i % len(KINDS)]
            key, pid = PartyKey.generate(), new_id("party")
            body = {"id": pid, "kind": kind, "name": _name(rng, kind, i),
                    "public_key": base64.b64encode(key.public_key_bytes).decode("ascii")}
            signed.append(sign_statement(ledger.new_statement("party.registered", pid, body),
                                         key))
            keys[pid] = key
            kinds.setdefault(kind, []).append(pid)
        size = submit(signed)
        echo(f"   {len(signed):,} parties registered ({time.perf_counter() - t0:.0f} s)")
        studio, lead = ids["studio"], ids["lead"]
        others = [s for s in kinds["studio"] if s != studio and s in keys]
        performers = [p for p in kinds["performer"] if p != lead]
        with ledger.db.read() as conn:
            have = int(conn.exec_driver_sql("SELECT COUNT(*) FROM works").scalar_one())
        n_works = max(0, works - have)
        credits_each = max(CREDITS_PER_WORK, -(-(entries - size - n_works) // max(n_works, 1)))
        credits_each = min(credits_each, len(performers))
        share = f"{1 / credits_each:.6f}".rstrip("0")
        per_batch = max(1, batch // (1 + credits_each))
        for start in range(0, n_works, per_batch):
            signed = []
            for i in range(start, min(n_works, start + per_batch)):
                owner = studio if i % 5 < 2 else rng.choice(others)
                key, wid = keys[owner], new_id("work")
                title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 3))) + f" {i}"
                body = {"id": wid, "kind": rng.choice(("film", "episode", "performance")),
                        "owner": owner, "title": title, "year": rng.randint(1960, 2026),
                        "assets": [{"sha256": rng.randbytes(32).hex(),
                                    "size": rng.randint(10**7, 10**10),
                                    "media_type": "video/mp4", "category": "video",
                                    "duration_ms": rng.randint(60_000, 7_200_000),
                                    "name": title.lower().replace(" ", "-") + ".mp4"}]}
                signed.append(sign_statement(ledger.new_statement("work.registered", owner,
                                                                  body), key))
                cast = rng.sample(performers, credits_each)
                if i % 5 == 0:
                    cast[0] = lead
                for party in cast:
                    credit = {"work": wid, "party": party, "role": "performer", "share": share}
                    signed.append(sign_statement(ledger.new_statement("work.credited", owner,
                                                                      credit), key))
            size = submit(signed)
            if (start // per_batch) % 10 == 0:
                echo(f"   {size:,} entries ({time.perf_counter() - t0:.0f} s)")
    finally:
        ledger.close()
        ledger.db.dispose()
    meta = {"version": BUILD_VERSION, "ids": ids, "entries": size, "works": works,
            "parties": n_parties, "built_s": round(time.perf_counter() - t0, 1),
            "built_at": time.time()}
    (directory / "bench.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def cached_home(cache: Path, scale: dict[str, int], rebuild: bool) -> tuple[Path, dict[str, Any]]:
    directory = cache / f"home-v{BUILD_VERSION}-{scale['works']}-{scale['parties']}-" \
                        f"{scale['entries']}"
    meta_file = directory / "bench.json"
    if meta_file.exists() and not rebuild:
        meta = json.loads(meta_file.read_text())
        echo(f"reusing the home in {directory} ({meta['entries']:,} entries, built in "
             f"{meta['built_s']} s)")
        return directory / "home", meta
    shutil.rmtree(directory, ignore_errors=True)
    echo(f"building the home in {directory} (untimed)...")
    meta = build_home(directory, scale["works"], scale["parties"], scale["entries"])
    echo(f"   built: {meta['entries']:,} entries in {meta['built_s']} s")
    return directory / "home", meta


# -- the server ----------------------------------------------------------------------------------

class Served:
    """``reelrights --home HOME serve --port 0``; its access log (standard error) collected."""

    CLI = "import sys; from reelrights.cli import main; sys.argv[0] = 'reelrights'; main()"

    def __init__(self, home: Path) -> None:
        env = dict(os.environ)  # REELRIGHTS_DATABASE_URL only when --database-url set it
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.CLI, "--home", str(home), "serve", "--port", "0",
             "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            start_new_session=True)
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.other: list[str] = []
        threading.Thread(target=self._errors, daemon=True).start()
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 120
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            if line.startswith("reelrights serving "):
                self.url = line.split(" at ", 1)[1].split(" ", 1)[0]
                break
            if time.monotonic() > deadline:
                break
        else:
            raise SystemExit("error: reelrights serve ended: " + "".join(self.other[-20:]))
        threading.Thread(target=lambda: [None for _ in self.proc.stdout or ()],
                         daemon=True).start()

    def _errors(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace")
            if line.startswith('{"time"'):
                self.lines.put(json.loads(line))
            else:
                self.other.append(line)

    def server_ms(self, path: str) -> float:
        """The access-log duration of the next logged request to ``path``."""
        while True:
            rec = self.lines.get(timeout=30)
            if rec["path"] == path:
                return float(rec["duration_ms"])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def sign_in(url: str, home: Path, party: str) -> str:
    """A session cookie for ``party``: the challenge signed with its key file."""
    from reelrights.client.web_session import sign_in as signed_in
    from reelrights.errors import PolicyDenied
    from reelrights.keys import load_key_file

    try:
        return signed_in(url, party, load_key_file(home / "keys" / f"{party}.pem"))
    except PolicyDenied as exc:
        raise SystemExit(f"error: {exc}") from None


def pages(meta: dict[str, Any], url: str) -> list[tuple[str, list[str], str | None]]:
    """(label, paths cycled over, party signed in as or None)."""
    import httpx

    ids = meta["ids"]
    size = meta["entries"]
    rng = random.Random(3)
    html = httpx.get(url + f"/parties/{ids['studio']}", timeout=60).text
    works = re.findall(r'href="(/works/wrk_[a-z2-7]{16})"', html)
    bulk = httpx.get(url + "/parties?kind=studio", timeout=60).text
    studios = [s for s in re.findall(r'href="/parties/(pty_[a-z2-7]{16})"', bulk)
               if s != ids["studio"]]
    perf = httpx.get(url + "/parties?kind=performer", timeout=60).text
    performers = [p for p in re.findall(r'href="/parties/(pty_[a-z2-7]{16})"', perf)
                  if p not in (ids["lead"], ids["support"])]
    anon: list[tuple[str, list[str], str | None]] = [
        ("static asset (baseline)", ["/static/site.css"], None),
        ("explorer home", ["/"], None),
        ("entry by index", [f"/log/{rng.randrange(size)}" for _ in range(20)], None),
        ("find (redirect)", [f"/find?q={rng.randrange(size)}"], None),
        ("every entry, newest", ["/log"], None),
        ("every entry, deep pages", [f"/log?before={rng.randrange(size)}" for _ in range(20)],
         None),
        ("one party's entries, deep", [f"/log?by={ids['studio']}&before={rng.randrange(size)}"
                                       for _ in range(20)], None),
        ("party directory", ["/parties"], None),
        ("party directory (performers)", ["/parties?kind=performer"], None),
        ("sign-in page", ["/sign-in"], None),
        ("studio (demo, 40% of works)", [f"/parties/{ids['studio']}"], None),
        ("studio (bulk)", [f"/parties/{s}" for s in studios[:10]], None),
        ("guild", [f"/parties/{ids['guild']}"], None),
        ("performer (demo lead)", [f"/parties/{ids['lead']}"], None),
        ("performer (bulk)", [f"/parties/{p}" for p in performers[:10]], None),
        ("writer", [f"/parties/{ids['writer']}"], None),
        ("developer", [f"/parties/{ids['developer']}"], None),
        ("auditor", [f"/parties/{ids['auditor']}"], None),
        ("fund", [f"/parties/{ids['fund']}"], None),
        ("work facts", works[:10] or [f"/works/{ids['film']}"], None),
        ("work facts (demo film)", [f"/works/{ids['film']}"], None),
        ("license facts", [f"/licenses/{ids['license']}"], None),
        ("run facts", [f"/runs/{ids['run']}"], None),
        ("certificate facts", [f"/certificates/{ids['certificate']}"], None),
        ("output facts", [f"/outputs/{ids['output']}"], None),
        ("bundle facts", [f"/bundles/{ids['bundle']}"], None),
        ("consent facts", [f"/consents/{ids['consent']}"], None),
        ("production facts", [f"/productions/{ids['production']}"], None),
    ]
    signed = [
        ("performer, signed in", [f"/parties/{ids['lead']}"], ids["lead"]),
        ("royalty statement, signed in", [f"/royalty-statements/{ids['statement_lead']}"],
         ids["lead"]),
        ("consent facts, signed in", [f"/consents/{ids['consent']}"], ids["lead"]),
        ("approve request, signed in", [f"/requests/{ids['request']}/approve"], ids["support"]),
        ("guild, signed in", [f"/parties/{ids['guild']}"], ids["guild"]),
        ("co-sign license, signed in", [f"/licenses/{ids['pending_license']}/cosign"],
         ids["guild"]),
        ("studio, signed in", [f"/parties/{ids['studio']}"], ids["studio"]),
        ("license facts, signed in", [f"/licenses/{ids['license']}"], ids["studio"]),
        ("developer, signed in", [f"/parties/{ids['developer']}"], ids["developer"]),
        ("auditor, signed in", [f"/parties/{ids['auditor']}"], ids["auditor"]),
    ]
    return anon + signed


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * len(s) + 0.5) - 1))]


def measure(served: Served, home: Path, todo: list[tuple[str, list[str], str | None]],
            n: int) -> list[dict[str, Any]]:
    import httpx

    from reelrights.web.session import COOKIE

    cookies: dict[str, str] = {}
    rows = []
    with httpx.Client(base_url=served.url, timeout=120) as client:
        for label, paths, party in todo:
            if party and party not in cookies:
                cookies[party] = sign_in(served.url, home, party)
            jar = {COOKIE: cookies[party]} if party else {}
            server, wall, statuses, sizes = [], [], set(), []
            for i in range(n + 2):
                path = paths[i % len(paths)]
                t = time.perf_counter()
                r = client.get(path, cookies=jar)
                elapsed = (time.perf_counter() - t) * 1000
                ms = served.server_ms(path.partition("?")[0])
                statuses.add(r.status_code)
                sizes.append(len(r.content))
                if i >= 2:  # two warm-up requests
                    server.append(ms)
                    wall.append(elapsed)
            rows.append({"page": label, "p50": statistics.median(server),
                         "p95": pct(server, 0.95), "max": max(server),
                         "wall_p50": statistics.median(wall), "status": sorted(statuses),
                         "kib": statistics.median(sizes) / 1024, "paths": len(paths)})
            r = rows[-1]
            echo(f"   {label}: p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms")
    return rows


def report(meta: dict[str, Any], rows: list[dict[str, Any]], n: int, scale: str) -> None:
    base = rows[0]
    print(f"\nweb pages, {scale} scale: {meta['entries']:,} log entries, {meta['works']:,} works, "
          f"{meta['parties']:,} parties ({meta.get('backend', 'SQLite')}, 1 worker, {os.cpu_count()} cores); "
          f"{n} requests per page, one at a time; server time = the access log's duration_ms")
    print(f"{'page':<32}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'client p50':>11}{'KiB':>7}"
          f"{'status':>8}  target p95 <= {TARGET_MS:.0f} ms")
    misses = 0
    for r in rows:
        ok = r["p95"] <= TARGET_MS and all(s < 400 for s in r["status"])
        misses += 0 if ok or r is base else 1
        verdict = "baseline" if r is base else ("met" if ok else "NOT met")
        print(f"{r['page']:<32}{r['p50']:>8.1f}{r['p95']:>8.1f}{r['max']:>8.1f}"
              f"{r['wall_p50']:>11.1f}{r['kib']:>7.0f}{'/'.join(map(str, r['status'])):>8}  "
              f"{verdict}")
    worst = max(rows[1:], key=lambda r: r["p95"])
    print(f"slowest page: {worst['page']} at p95 {worst['p95']:.1f} ms = "
          f"{worst['p95'] / max(base['p95'], 0.001):.0f}x the static asset's p95; "
          f"{misses} page(s) miss the target")


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg", "postgresql")


def pg_schema(url: str) -> tuple[str, str]:
    """A fresh schema in the PostgreSQL database ``url`` and the URL that uses it."""
    import secrets

    import psycopg

    schema = f"web_bench_{secrets.token_hex(4)}"
    with psycopg.connect(_plain(url), autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    return schema, f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def analyze_schema(url: str, schema: str) -> None:
    """ANALYZE the schema's tables: what autovacuum does for a running deployment after a bulk
    load (a test server may run without it; without statistics the planner guesses)."""
    import psycopg

    with psycopg.connect(_plain(url), autocommit=True) as c:
        for (table,) in c.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s",
                                  (schema,)).fetchall():
            c.execute(f'ANALYZE "{schema}"."{table}"')


def drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(_plain(url), autocommit=True) as c:
        c.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="1,000 works, 200 parties, 10,000 entries (default: the full scale)")
    ap.add_argument("--requests", type=int, default=40, help="requests per page (default 40)")
    ap.add_argument("--cache", type=Path,
                    default=Path(tempfile.gettempdir()) / "reelrights-bench-web",
                    help="where the built home is kept and reused")
    ap.add_argument("--rebuild", action="store_true", help="build the home again")
    ap.add_argument("--database-url", metavar="URL",
                    help="PostgreSQL (a schema of its own is made, built into, ANALYZEd and "
                         "dropped: not cached); default SQLite in the home")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    scale = "quick" if args.quick else "full"
    os.environ.pop("REELRIGHTS_DATABASE_URL", None)
    schema = scratch = None
    try:
        if args.database_url:
            schema, os.environ["REELRIGHTS_DATABASE_URL"] = pg_schema(args.database_url)
            scratch = Path(tempfile.mkdtemp(prefix="rr-web-pg-"))
            home, meta = cached_home(scratch, SCALES[scale], True)
            analyze_schema(args.database_url, schema)
        else:
            home, meta = cached_home(args.cache, SCALES[scale], args.rebuild)
        served = Served(home)
        try:
            todo = pages(meta, served.url)
            echo(f"serving at {served.url}; {len(todo)} pages x {args.requests} requests")
            rows = measure(served, home, todo, args.requests)
        finally:
            served.stop()
    finally:
        if schema:
            drop_schema(args.database_url, schema)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    meta["backend"] = "PostgreSQL" if schema else "SQLite"
    report(meta, rows, args.requests, scale)
    if args.json:
        args.json.write_text(json.dumps({"scale": scale, "meta": meta, "rows": rows}, indent=2)
                             + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
