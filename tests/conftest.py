"""Shared pytest fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ASSETS = Path(__file__).parent / "assets"


@pytest.fixture(scope="session")
def tlog_vectors() -> dict[str, Any]:
    """Interop vectors for RFC 9162 / C2SP (tests/assets/tlog_vectors.json).

    Extracted from transparency-dev/merkle, golang/mod sumdb, C2SP, transparency-dev/formats,
    transparency-dev/tessera and FiloSottile/sunlight at the commits in its ``sources`` section.
    """
    with (ASSETS / "tlog_vectors.json").open(encoding="utf-8") as f:
        return json.load(f)
