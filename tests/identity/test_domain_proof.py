"""The domain-proof fetcher against real servers on loopback: what holds, and every way an
attacker could make the server fetch or believe something else."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from proof_servers import Page, ProofWorld, proof_world
from reelrights.errors import VerificationError
from reelrights.identity.domain_proof import (
    Expected,
    FetchPolicy,
    fetch_proof,
    proof_document,
    proof_txt,
    refused_address,
)

E = Expected("reelrights.local/abcdefghij", "pty_k3vq7xw2m4a6c5de",
             "V8vU0Ig5Jd1pK0mJb0m6pP3CnR5r3w2Ub9y6Gq1h0dA=", "n" * 32)

@pytest.fixture
def world(tmp_path: Path) -> Iterator[ProofWorld]:
    """The loopback proof world: HTTPS with a test CA, and a DNS responder."""
    with proof_world(tmp_path) as w:
        yield w



def test_a_published_document_holds_and_its_hash_is_of_the_bytes_read(world: ProofWorld) -> None:
    body = json.dumps(proof_document(E)).encode()
    world.publish("northlight.example", body)
    found = fetch_proof("northlight.example", "https", E, world.policy())
    assert found.document_sha256 == hashlib.sha256(body).hexdigest()
    assert found.source == "127.0.0.1" and found.proof == "https"
    assert world.https.hosts == ["northlight.example"]  # Host (and SNI) is the domain


def test_a_txt_record_holds(world: ProofWorld) -> None:
    world.dns.txt["_reelrights.northlight.example"] = ["other=1", proof_txt(E)]
    found = fetch_proof("northlight.example", "dns", E, world.policy())
    assert found.document_sha256 == hashlib.sha256(proof_txt(E).encode()).hexdigest()


def test_a_wrong_nonce_or_key_or_party_or_registry_is_refused(world: ProofWorld) -> None:
    for field, value, words in (("nonce", "x" * 32, "nonce"),
                                ("public_key", "A" * 43 + "=", "current key"),
                                ("party", "pty_aaaaaaaaaaaaaaaa", "party"),
                                ("registry", "other.example/aaaaaaaaaa", "registry")):
        world.publish("northlight.example", {**proof_document(E), field: value})
        with pytest.raises(VerificationError, match=words):
            fetch_proof("northlight.example", "https", E, world.policy())
    world.dns.txt["_reelrights.northlight.example"] = [proof_txt(E).replace(E.nonce, "y" * 32)]
    with pytest.raises(VerificationError, match="nonce"):
        fetch_proof("northlight.example", "dns", E, world.policy())


def test_a_redirect_is_refused(world: ProofWorld) -> None:
    world.dns.a["moved.example"] = ["127.0.0.1"]
    world.https.pages[("moved.example", "/.well-known/reelrights.json")] = Page(
        b"", 302, {"location": "https://northlight.example/.well-known/reelrights.json"})
    world.publish("northlight.example", proof_document(E))
    with pytest.raises(VerificationError, match="redirect"):
        fetch_proof("moved.example", "https", E, world.policy())
    assert world.https.hosts == ["moved.example"]  # never followed


@pytest.mark.parametrize("address", ["10.0.0.7", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                                     "0.0.0.0", "224.0.0.1", "240.0.0.1"])
def test_a_private_or_special_address_is_refused_before_any_connection(
        world: ProofWorld, address: str) -> None:
    world.dns.a["private.example"] = [address]
    with pytest.raises(VerificationError, match="public addresses only"):
        fetch_proof("private.example", "https", E, world.policy())
    assert world.https.hosts == []


def test_one_private_address_among_public_ones_is_refused(world: ProofWorld) -> None:
    world.dns.a["private.example"] = ["127.0.0.1", "10.1.2.3"]
    with pytest.raises(VerificationError, match="10.1.2.3"):
        fetch_proof("private.example", "https", E, world.policy())


def test_loopback_is_refused_without_the_test_switch(world: ProofWorld) -> None:
    world.publish("northlight.example", proof_document(E))
    policy = FetchPolicy(ca_file=str(world.ca), nameserver=f"127.0.0.1:{world.dns.port}",
                         https_port=world.https.port)
    with pytest.raises(VerificationError, match="loopback"):
        fetch_proof("northlight.example", "https", E, policy)
    assert world.https.hosts == []


def test_a_certificate_of_another_ca_is_refused(world: ProofWorld) -> None:
    world.publish("northlight.example", proof_document(E))
    policy = FetchPolicy(allow_loopback=True, nameserver=f"127.0.0.1:{world.dns.port}",
                         https_port=world.https.port)  # the system's CAs: not the test CA
    with pytest.raises(VerificationError, match="could not be fetched"):
        fetch_proof("northlight.example", "https", E, policy)


def test_a_name_the_certificate_does_not_cover_is_refused(world: ProofWorld) -> None:
    world.dns.a["uncovered.example"] = ["127.0.0.1"]
    with pytest.raises(VerificationError, match="could not be fetched"):
        fetch_proof("uncovered.example", "https", E, world.policy())


def test_an_oversize_document_is_refused(world: ProofWorld) -> None:
    big = json.dumps({**proof_document(E), "pad": "x" * 70_000}).encode()
    world.publish("big.example", big)
    with pytest.raises(VerificationError, match="over the limit"):
        fetch_proof("big.example", "https", E, world.policy())
    # ... and a server that declares a short length gets no further than it (truncated)
    world.publish("big.example", big, headers={"content-length": "100"})
    with pytest.raises(VerificationError, match="not JSON"):
        fetch_proof("big.example", "https", E, world.policy())


def test_a_slow_server_is_cut_off_at_the_deadline(world: ProofWorld) -> None:
    world.publish("slow.example", json.dumps(proof_document(E)).encode(), drip_s=0.05)
    started = time.monotonic()
    with pytest.raises(VerificationError, match="within 1 s"):
        fetch_proof("slow.example", "https", E, world.policy(timeout_s=1.0))
    assert time.monotonic() - started < 2.5


def test_dns_rebinding_is_defeated_by_resolving_once_and_pinning(world: ProofWorld) -> None:
    """The first answer is the (allowed) test address; any later one would be the cloud
    metadata address. The name is resolved once, and the connection goes to that address."""
    world.publish("rebind.example", proof_document(E))
    world.dns.a["rebind.example"] = lambda n: ["127.0.0.1"] if n == 1 else ["169.254.169.254"]
    found = fetch_proof("rebind.example", "https", E, world.policy())
    assert found.source == "127.0.0.1"
    assert world.dns.queries[("rebind.example", "A")] == 1


def test_the_address_rules() -> None:
    assert refused_address("8.8.8.8") is None and refused_address("2001:4860::8888") is None
    for bad in ("127.0.0.1", "::1", "::ffff:10.0.0.1", "fe80::1", "fc00::1", "10.0.0.1"):
        assert refused_address(bad) is not None, bad
    assert refused_address("127.0.0.1", allow_loopback=True) is None
    assert refused_address("10.0.0.1", allow_loopback=True) is not None
