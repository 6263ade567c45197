#!/usr/bin/env python
"""How long the command line takes to start, beside a bare Python start in the same run.

    python benchmarks/cli_startup.py            # 15 runs of each command
    python benchmarks/cli_startup.py --runs 30

Each command runs in a fresh process (as a script calling the CLI 300 times would), timed wall
clock from spawn to exit. The baseline is ``python -c pass`` on the same interpreter: what no
change to reelrights can remove. ``party list`` runs on a small home (three parties) made once,
untimed. The script prints figures and the Architecture issue's targets (``--help`` at most
0.25 s, ``party list`` at most 0.5 s); it never asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _time(cmd: list[str], runs: int, env: dict[str, str]) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=env)
        out.append(time.perf_counter() - t)
    return out


def _imported(code: str, env: dict[str, str]) -> int:
    """How many modules a fresh interpreter holds after ``code``."""
    r = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(len(sys.modules))"],
                       capture_output=True, text=True, env=env, check=True)
    return int(r.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15, help="runs of each command (default 15)")
    args = ap.parse_args()
    exe = Path(sys.executable).with_name("reelrights")
    if not exe.exists():
        print(f"error: {exe} is missing; run `make` (pip install -e .) first", file=sys.stderr)
        return 2
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="rr-startup-") as tmp:
        home = str(Path(tmp) / "home")
        subprocess.run([str(exe), "--home", home, "init"], check=True, stdout=subprocess.DEVNULL,
                       env=env)
        for i, kind in enumerate(("studio", "performer", "developer")):
            subprocess.run([str(exe), "--home", home, "party", "add", "--kind", kind, "--name",
                            f"Party {i}"], check=True, stdout=subprocess.DEVNULL, env=env)
        rows = [
            ("python -c pass (baseline)", [sys.executable, "-c", "pass"], None),
            ("reelrights --help", [str(exe), "--help"], 0.25),
            ("reelrights party list (3 parties)", [str(exe), "--home", home, "party", "list"],
             0.5),
        ]
        _time([str(exe), "--help"], 2, env)  # warm the file cache
        print(f"{'command':<40} {'median':>9} {'p90':>9} {'min':>9}  target")
        print("-" * 80)
        base = None
        for label, cmd, target in rows:
            ts = sorted(_time(cmd, args.runs, env))
            med = statistics.median(ts)
            p90 = ts[min(len(ts) - 1, int(0.9 * len(ts)))]
            base = base if base is not None else med
            verdict = "" if target is None else (
                f"<= {target:.2f} s: {'met' if med <= target else 'NOT MET'}"
                f" ({med / base:.1f} x baseline)")
            print(f"{label:<40} {med:>8.3f}s {p90:>8.3f}s {ts[0]:>8.3f}s  {verdict}")
    print("-" * 80)
    print(f"modules loaded: python -c pass {_imported('pass', env)}; "
          f"import reelrights.cli {_imported('import reelrights.cli', env)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
