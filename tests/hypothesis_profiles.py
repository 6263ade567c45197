"""Hypothesis profiles: ``dev`` for local runs (a tenth of the examples) and ``ci`` (all of them).

``tests/conftest.py`` loads ``HYPOTHESIS_PROFILE`` when it is set, else ``ci`` under ``CI`` (as
``.ci/run`` sets it), else ``dev``. A property that needs another count than the profile's
states it for the ``ci`` profile through :func:`examples`, and ``dev`` runs the same share of
it. Neither profile has a deadline: on a shared machine a slow example is not a failure (no
test here judges time).
"""

from __future__ import annotations

import os

from hypothesis import settings

#: Examples per property under each profile (Hypothesis's own default is 100).
BUDGET = {"ci": 100, "dev": 10}

settings.register_profile("ci", max_examples=BUDGET["ci"], deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=BUDGET["dev"], deadline=None)


def chosen() -> str:
    """The profile this run uses: ``HYPOTHESIS_PROFILE``, else ``ci`` under ``CI``, else ``dev``."""
    return os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")


def examples(ci: int) -> int:
    """``ci`` examples under the ``ci`` profile, the same share of the loaded profile's budget
    otherwise (at least one)."""
    return max(1, ci * settings().max_examples // BUDGET["ci"])
