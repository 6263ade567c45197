#!/usr/bin/env python
"""Reads through the HTTP service, driven by wrk, beside a bare Starlette baseline in the same run.

    python benchmarks/api_reads.py                      # SQLite, 2 workers, 5 s per scenario
    python benchmarks/api_reads.py --workers 1 --duration 10
    python benchmarks/api_reads.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

A home with ``--entries`` logged statements is made once (untimed). Each scenario starts a
server process (uvicorn, ``--workers`` workers, the service's JSON access log written to a
file), warms it up for one second, then runs ``wrk`` (Debian's package: a native driver, so the
load costs little of the 2 cores) with ``--connections`` connections for ``--duration`` seconds:

- baseline: a bare Starlette endpoint answering a constant 8,192 bytes (a full tile's size);
- full tile: ``/tile/0/<N>`` cycling over every full level-0 tile (from memory after the first);
- inclusion proof: ``/v1/proofs/inclusion?index=I&size=S``, I cycling over the whole log, S the
  log's size (the database and the proof's tiles every time).

It prints requests/s, latency p50/p99 and the issue's targets (full tile >= 4,000/s, inclusion
proof >= 1,500/s on 2 cores); it never asserts.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TARGETS = {"full tile": 4000, "inclusion proof": 1500}

APP = """\
from pathlib import Path
from reelrights.api import ServiceConfig, create_app
app = create_app(ServiceConfig(home=Path({home!r})))
"""
BASELINE = """\
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
BODY = bytes(8192)
async def constant(request):
    return Response(BODY, media_type="application/octet-stream",
                    headers={{"cache-control": "public, max-age=31536000, immutable"}})
app = Starlette(routes=[Route("/tile/0/{{n:path}}", constant)])
"""
CYCLE = """\
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", {expr})
end
"""


def make_home(root: Path, entries: int, database_url: str | None) -> tuple[Path, int]:
    from reelrights.core.ids import new_id
    from reelrights.core.statements import sign_statement
    from reelrights.home import Home
    from reelrights.ledger import Ledger
    from reelrights.registry.parties import register_party

    home, _ = Home.init(root / "home", database_url=database_url)
    ledger = Ledger.open(home)
    party = register_party(home, ledger, "studio", "Bench Pictures").details["id"]
    key = home.party_key(party)
    with ledger.db.read() as conn:
        size = ledger.log.head(conn)[0]
    while size < entries:
        batch = []
        for _ in range(min(500, entries - size)):
            wid = new_id("work")
            body = {"id": wid, "kind": "image", "title": f"still {wid}", "owner": party,
                    "assets": [{"sha256": (wid.encode().hex() * 4)[:64], "size": 10,
                                "media_type": "image/png", "category": "image",
                                "name": "a.png"}]}
            batch.append(sign_statement(ledger.new_statement("work.registered", party, body),
                                        key))
        size = ledger.submit(batch)[-1].index + 1
    ledger.close()
    ledger.db.dispose()
    return home.path, size


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, module: str, workdir: Path, workers: int, log: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(workdir), *sys.path])}
        if workers > 1:
            metrics = workdir / f"metrics-{module}"
            shutil.rmtree(metrics, ignore_errors=True)
            metrics.mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
        self.log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", f"{module}:app", "--host", "127.0.0.1", "--port",
             str(self.port), "--workers", str(workers), "--log-level", "warning",
             "--no-access-log"], env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait(self, probe: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"error: the server exited (see {self.log.name})")
            try:
                with urllib.request.urlopen(self.url + probe, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("error: the server did not answer within 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def wrk(url: str, script: Path, duration: float, connections: int, threads: int) -> dict[str, float]:
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s",
                          "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)

    def pct(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if m is None:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    return {"rate": rate, "p50": pct("50"), "p99": pct("99"),
            "non2xx": float(bad.group(1)) if bad else 0.0, "socket_errors": 1.0 if errors else 0.0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=3000, help="log size (default 3000)")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn workers (default 2)")
    ap.add_argument("--duration", type=float, default=5, help="seconds per scenario (default 5)")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    ap.add_argument("--database-url", help="PostgreSQL (an empty database or schema); "
                                           "default SQLite in the home")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        print("error: wrk is missing; `make wrk` installs it (apt-get install wrk)",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="rr-api-reads-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        home, size = make_home(work, args.entries, args.database_url)
        print(f"home: {size} entries on {'PostgreSQL' if args.database_url else 'SQLite'} "
              f"(made in {time.perf_counter() - t:.1f} s, untimed); {args.workers} worker(s), "
              f"wrk {args.threads} thread(s) x {args.connections} connections, "
              f"{args.duration:g} s each; {os.cpu_count()} cores")
        (work / "served_app.py").write_text(APP.format(home=str(home)))
        (work / "baseline_app.py").write_text(BASELINE.format())
        full = size // 256
        tiles = work / "tiles.lua"
        tiles.write_text(CYCLE.format(expr=f'string.format("/tile/0/%03d", counter % {full})'))
        proofs = work / "proofs.lua"
        proofs.write_text(CYCLE.format(
            expr=f'"/v1/proofs/inclusion?index=" .. (counter % {size}) .. "&size={size}"'))
        scenarios = [("baseline (bare Starlette, constant 8 KiB)", "baseline_app", tiles),
                     ("full tile", "served_app", tiles),
                     ("inclusion proof", "served_app", proofs)]
        rows = []
        for name, module, script in scenarios:
            server = Server(module, work, args.workers, work / "server.log")
            try:
                server.wait("/tile/0/000")
                wrk(server.url, script, 1, args.connections, args.threads)  # warm-up
                rows.append((name, wrk(server.url, script, args.duration, args.connections,
                                       args.threads)))
            finally:
                server.stop()
        lines = sum(1 for _ in (work / "server.log").open("rb"))
        print(f"\n{'scenario':<44}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}  target")
        for name, r in rows:
            target = TARGETS.get(name)
            verdict = "" if target is None else (
                f">= {target:,}/s: {'met' if r['rate'] >= target else 'NOT met'}")
            print(f"{name:<44}{r['rate']:>10,.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}"
                  f"{r['non2xx']:>9.0f}  {verdict}")
        base = rows[0][1]["rate"]
        for name, r in rows[1:]:
            print(f"{name}: {r['rate'] / base:.0%} of the baseline's rate")
        print(f"(the service wrote {lines:,} access-log lines, one per request)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
