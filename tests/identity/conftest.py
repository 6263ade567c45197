"""Fixtures of the identity tests: the loopback proof world (HTTPS with a test CA, DNS)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from proof_servers import DOMAINS, DnsResponder, HttpsServer, ProofWorld, make_ca


@pytest.fixture
def world(tmp_path: Path) -> Iterator[ProofWorld]:
    ca, cert, key = make_ca(tmp_path, DOMAINS)
    https, dns = HttpsServer(cert, key), DnsResponder()
    try:
        yield ProofWorld(https, dns, ca)
    finally:
        https.close()
        dns.close()
