"""Fixtures of the identity tests: the loopback proof world (HTTPS with a test CA, DNS)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from proof_servers import ProofWorld, proof_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[ProofWorld]:
    with proof_world(tmp_path) as w:
        yield w
