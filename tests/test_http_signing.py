"""RFC 9421 HTTP Message Signatures as reelrights profiles them (reelrights.access.http_signing,
over the http-message-signatures library): the RFC's Ed25519 known-answer vector (appendix
B.2.6, tests/assets/rfc9421_b26.json) signs and verifies byte for byte, and the profile's own
rules (keyid, created window, nonce, covered components, Content-Digest) refuse what they must.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    algorithms,
)

from reelrights.access.http_signing import (
    WINDOW_S,
    _Fields,
    _Message,
    _OneKey,
    check_fresh,
    read_params,
    sign_request,
    verify_request,
)
from reelrights.core.statements import key_id_for
from reelrights.errors import BadRequestSignature, StaleSignature
from reelrights.keys import PartyKey

VECTOR = json.loads((Path(__file__).parent / "assets" / "rfc9421_b26.json").read_text())
URL = "http://127.0.0.1:8080/v1/licenses/lic_aaaaaaaaaaaaaaaa"
REGISTRY = "rr_k3vq7xw2m4a6c5de"


def _b64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _vector_message(headers: list[list[str]] | None = None) -> _Message:
    req = VECTOR["request"]
    return _Message(req["method"], req["url"], _Fields(map(tuple, headers or req["headers"])))


def test_rfc9421_b26_signature_base_and_signature_are_reproduced() -> None:
    seed = _b64u(VECTOR["key"]["d"])
    key = Ed25519PrivateKey.from_private_bytes(seed)
    assert base64.urlsafe_b64encode(key.public_key().public_bytes_raw()).rstrip(b"=") == \
        VECTOR["key"]["x"].encode()
    message = _vector_message()
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519)
    prepared = signer.prepare(message, key_id=VECTOR["key"]["kid"], label=VECTOR["label"],
                              include_alg=False, covered_component_ids=VECTOR["covered"],
                              created=datetime.fromtimestamp(VECTOR["created"], tz=UTC),
                              use_existing_digest=True)
    assert prepared.signature_base.decode() == VECTOR["signature_base"]
    signer.apply(message, prepared, PartyKey(seed).sign(prepared.signature_base))
    assert message.headers["Signature-Input"] == VECTOR["signature_input"]
    assert message.headers["Signature"] == VECTOR["signature"]  # Ed25519 is deterministic


def test_rfc9421_b26_verifies_and_an_edit_does_not() -> None:
    public = Ed25519PrivateKey.from_private_bytes(_b64u(VECTOR["key"]["d"])).public_key()
    signed = [*VECTOR["request"]["headers"], ["Signature-Input", VECTOR["signature_input"]],
              ["Signature", VECTOR["signature"]]]
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519,
                                   key_resolver=_OneKey(VECTOR["key"]["kid"], public))
    result = verifier.verify(_vector_message(signed), max_age=None)
    assert result[0].parameters["created"] == VECTOR["created"]
    edited = [[k, "Wed, 21 Apr 2021 02:07:55 GMT" if k == "Date" else v] for k, v in signed]
    with pytest.raises(InvalidSignature):
        verifier.verify(_vector_message(edited), max_age=None)


def test_the_profile_refuses_the_rfc_vector_itself() -> None:
    """Our reads need a reelrights key id, a nonce and the request's path and query."""
    signed = [(k, v) for k, v in VECTOR["request"]["headers"]] + [
        ("Signature-Input", VECTOR["signature_input"]), ("Signature", VECTOR["signature"])]
    with pytest.raises(BadRequestSignature, match="keyid"):
        read_params(signed)


def _signed(key: PartyKey, url: str = URL, body: bytes = b"", method: str = "GET",
            **kw: object) -> list[tuple[str, str]]:
    host = [("host", "127.0.0.1:8080")]
    return host + list(sign_request(method, url, host, body, key_id=key_id_for(
        key.public_key_bytes), sign=key.sign, registry=REGISTRY,
        **kw).items())  # type: ignore[arg-type]


def test_a_signed_read_round_trips_and_names_what_is_wrong() -> None:
    key, other = PartyKey.generate(), PartyKey.generate()
    headers = _signed(key)
    params = read_params(headers)
    assert params is not None and params.key_id == key_id_for(key.public_key_bytes)
    assert params.components == ("@method", "@authority", "@path", "@query")
    assert 16 <= len(params.nonce) <= 64
    now = time.time()
    verify_request("GET", URL, headers, b"", params, key.public_key_bytes, now, REGISTRY)
    with pytest.raises(BadRequestSignature, match="does not verify"):  # another request
        verify_request("GET", URL.replace("lic_a", "lic_b"), headers, b"", params,
                       key.public_key_bytes, time.time(), REGISTRY)
    with pytest.raises(BadRequestSignature, match="does not verify"):  # another key
        verify_request("GET", URL, headers, b"", params, other.public_key_bytes, now, REGISTRY)
    with pytest.raises(BadRequestSignature, match="does not verify"):  # another query
        verify_request("GET", URL + "?all=1", headers, b"", params, key.public_key_bytes,
                       time.time(), REGISTRY)
    assert read_params([("host", "x")]) is None  # unsigned: anyone
    assert params.tag == REGISTRY
    with pytest.raises(BadRequestSignature, match="is for registry 'rr_k3vq7xw2m4a6c5de', not "
                                                  "this one"):  # signed for another registry
        verify_request("GET", URL, headers, b"", params, key.public_key_bytes, time.time(),
                       "rr_another0registry")


def test_created_must_be_within_the_window() -> None:
    key = PartyKey.generate()
    now = time.time()
    for created, ok in ((now - WINDOW_S + 2, True), (now + WINDOW_S - 2, True),
                        (now - WINDOW_S - 5, False), (now + WINDOW_S + 5, False)):
        params = read_params(_signed(key, created=int(created)))
        assert params is not None
        if ok:
            check_fresh(params, now)
        else:
            with pytest.raises(StaleSignature, match="more than 60 s apart"):
                check_fresh(params, now)


def test_a_body_is_covered_by_its_digest() -> None:
    key = PartyKey.generate()
    headers = _signed(key, body=b'{"a": 1}', method="POST")
    params = read_params(headers)
    assert params is not None and "content-digest" in params.components
    now = time.time()
    verify_request("POST", URL, headers, b'{"a": 1}', params, key.public_key_bytes, now, REGISTRY)
    with pytest.raises(BadRequestSignature, match="Content-Digest"):
        verify_request("POST", URL, headers, b'{"a": 2}', params, key.public_key_bytes,
                       time.time(), REGISTRY)
    bare = _signed(key)  # signed without a body, sent with one
    p = read_params(bare)
    assert p is not None
    with pytest.raises(BadRequestSignature, match="does not cover content-digest"):
        verify_request("POST", URL, bare, b"{}", p, key.public_key_bytes, now, REGISTRY)


@pytest.mark.parametrize("edit,match", [
    (lambda h: [(k, v) for k, v in h if k != "Signature"], "no Signature"),
    (lambda h: [(k, v.replace(';nonce="', ';x="')) for k, v in h], "nonce"),
    (lambda h: [(k, v.replace('nonce="', 'nonce="!')) for k, v in h], "nonce"),
    (lambda h: [(k, v.replace(';created=', ';made=')) for k, v in h], "created"),
    (lambda h: [(k, v.replace('"ed25519"', '"hmac-sha256"')) for k, v in h], "alg"),
    (lambda h: [(k, v.replace(';tag="', ';other="')) for k, v in h], "tag parameter"),
    (lambda h: [*h, ("Signature-Input", 'b=("@method");created=1;keyid="0123456789abcdef"')],
     "exactly one"),
    (lambda h: [(k, "not a ( dictionary") if k == "Signature-Input" else (k, v) for k, v in h],
     "RFC 8941"),
])
def test_malformed_signatures_are_refused_with_their_reason(edit, match) -> None:
    with pytest.raises(BadRequestSignature, match=match):
        read_params(edit(_signed(PartyKey.generate())))


def test_a_signature_not_covering_the_path_is_refused() -> None:
    key = PartyKey.generate()
    host = [("host", "127.0.0.1:8080")]
    message = _Message("GET", URL, _Fields(host))
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519)
    prepared = signer.prepare(message, key_id=key_id_for(key.public_key_bytes),
                              label="reelrights", covered_component_ids=("@method", "@authority"),
                              nonce="n" * 22, tag=REGISTRY)
    signer.apply(message, prepared, key.sign(prepared.signature_base))
    params = read_params(message.headers.items())
    assert params is not None
    with pytest.raises(BadRequestSignature, match="does not cover @path, @query"):
        verify_request("GET", URL, message.headers.items(), b"", params, key.public_key_bytes,
                       time.time(), REGISTRY)
