"""Honest set-up and figures: what the README says the set-up does, what `.ci/run` enforces, and
that the benchmarks compare like with like (run small, for real, in a subprocess)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _setup_section() -> str:
    readme = (ROOT / "README.md").read_text("utf-8")
    return readme.split("## Set up", 1)[1].split("\n## ", 1)[0]


def test_readme_names_what_the_setup_installs_besides_pypi() -> None:
    """Every system package the Makefile installs with apt-get is named in the set-up section,
    together with apt-get."""
    makefile = (ROOT / "Makefile").read_text("utf-8")
    packages = set(re.findall(r"apt-get install -y -q ([a-z0-9][a-z0-9.+-]+)", makefile))
    assert packages, "the Makefile installs no apt package: update this test"
    setup = _setup_section()
    assert "apt-get" in setup
    for package in packages:
        assert f"`{package}`" in setup, f"README's set-up does not say it installs {package}"


def test_ci_run_sets_ci_itself(tmp_path: Path) -> None:
    """`.ci/run` exports CI=true, so an unreachable PostgreSQL fails the run wherever it runs;
    it runs `make check` (lint, types, structural tests) first, then `make test`."""
    fake = tmp_path / "bin"
    fake.mkdir()
    make = fake / "make"
    make.write_text('#!/bin/sh\necho "CI=${CI:-unset} args=$*"\n')
    make.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = f"{fake}:{env.get('PATH', '')}"
    done = subprocess.run(["bash", str(ROOT / ".ci" / "run")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["CI=true args=check", "CI=true args=test"]


def _bench(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), *args],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)


def test_fund_benchmark_times_its_baseline_alone() -> None:
    """The baseline's timed loop runs the naive allocation only; the cents are compared after."""
    source = (ROOT / "benchmarks" / "fund_allocate.py").read_text("utf-8")
    timed = source.split("c0 = time.process_time()\n", 1)[1].split("naive_cpu =", 1)[0]
    assert "naive_allocate" in timed and "allocate(t, s)" not in timed.replace(
        "naive_allocate(t, s)", ""), timed
    done = _bench("fund_allocate", "--pools", "60", "--payees", "2000", "--baseline-pools", "20")
    assert done.returncode == 0, done.stderr
    assert "same cents" in done.stdout


@pytest.mark.slow
def test_policy_benchmark_checks_the_baseline_agrees() -> None:
    done = _bench("policy_check", "--items", "3000", "--assets", "2000")
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert re.search(r"baseline and engine disagree on\s+0 of 3,000 sampled items", done.stdout), \
        done.stdout
