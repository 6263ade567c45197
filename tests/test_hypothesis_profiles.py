"""The Hypothesis profiles (tests/hypothesis_profiles.py): which one a run loads, and what it
does to the example counts that properties state for the ``ci`` profile."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from hypothesis_profiles import BUDGET, chosen, examples

TESTS = Path(__file__).resolve().parent


def test_the_profile_is_the_variable_then_ci_then_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert chosen() == "dev"
    monkeypatch.setenv("CI", "true")
    assert chosen() == "ci"
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "dev")
    assert chosen() == "dev"


def test_this_run_loaded_the_chosen_profile_and_scales_stated_counts() -> None:
    name = chosen()
    assert settings().max_examples == BUDGET[name]
    assert settings().deadline is None
    assert examples(300) == {"ci": 300, "dev": 30}[name]
    assert examples(5) >= 1


def test_an_unknown_profile_is_refused_in_one_line() -> None:
    env = {**os.environ, "HYPOTHESIS_PROFILE": "fast"}
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "--collect-only", str(TESTS / "test_hypothesis_profiles.py")],
                       capture_output=True, text=True, env=env, cwd=TESTS.parent, check=False)
    assert r.returncode == 4, r.stdout + r.stderr
    assert r.stderr.strip().splitlines() == [
        "ERROR: HYPOTHESIS_PROFILE='fast' is not a profile here; use one of ci, dev "
        "(tests/hypothesis_profiles.py)"]
