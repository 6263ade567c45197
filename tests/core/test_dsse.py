"""DSSE v1 envelopes (the spec's own test vector) and in-toto Statement v1 shape."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from reelrights.core.dsse import (
    INTOTO_PAYLOAD_TYPE,
    check_intoto_statement,
    intoto_statement,
    pae,
    parse_envelope,
    sign_envelope,
    verify_envelope,
)
from reelrights.core.statements import key_id_for
from reelrights.errors import BadInput, SignatureError
from reelrights.keys import PartyKey

# secure-systems-lab/dsse protocol.md v1.0.0, "Test Vectors".
SPEC_ENVELOPE = {
    "payload": "aGVsbG8gd29ybGQ=", "payloadType": "http://example.com/HelloWorld",
    "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJ"
                           "PcIAriEGAHTVeCUjW2JIZA=="}]}
SPEC_X = 46950820868899156662930047687818585632848591499744589407958293238635476079160
SPEC_Y = 5640078356564379163099075877009565129882514886557779369047442380624545832820

# RFC 8032 section 7.1, TEST 1: the Ed25519 secret key.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")


def test_pae_known_answer() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == \
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    assert pae("", b"") == b"DSSEv1 0  0 "
    assert pae("t\u00e9", b"x") == "DSSEv1 3 t\u00e9 1 x".encode()  # LEN counts UTF-8 bytes


def test_spec_vector_signature_verifies_over_our_pae() -> None:
    env = parse_envelope(SPEC_ENVELOPE)
    assert env.payload == b"hello world" and env.signatures[0][0] is None
    sig = env.signatures[0][1]
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    key = ec.EllipticCurvePublicNumbers(SPEC_X, SPEC_Y, ec.SECP256R1()).public_key()
    key.verify(der, pae(env.payload_type, env.payload), ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        key.verify(der, b"hello world", ec.ECDSA(hashes.SHA256()))  # the PAE is what is signed


def test_ed25519_envelope_roundtrip_matches_an_independent_signer() -> None:
    key = PartyKey(RFC8032_SEED)
    assert key.public_key_bytes.hex() == \
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"  # RFC 8032 TEST 1
    env = sign_envelope(INTOTO_PAYLOAD_TYPE, b'{"a":1}', key)
    independent = Ed25519PrivateKey.from_private_bytes(RFC8032_SEED).sign(
        pae(INTOTO_PAYLOAD_TYPE, b'{"a":1}'))
    assert env.signatures[0] == (key_id_for(key.public_key_bytes), independent)
    doc = env.to_json()
    assert doc["payloadType"] == INTOTO_PAYLOAD_TYPE
    assert base64.b64decode(doc["payload"]) == b'{"a":1}'
    again = parse_envelope(doc)
    assert verify_envelope(again, {key_id_for(key.public_key_bytes): key.public_key_bytes}) == \
        key_id_for(key.public_key_bytes)


def test_url_safe_base64_is_accepted() -> None:
    key = PartyKey(RFC8032_SEED)
    doc = sign_envelope("x", b"\xfb\xff" * 10, key).to_json()
    doc["payload"] = base64.urlsafe_b64encode(b"\xfb\xff" * 10).decode().rstrip("=")
    doc["signatures"][0]["sig"] = doc["signatures"][0]["sig"].replace("+", "-").replace("/", "_")
    verify_envelope(parse_envelope(doc), {"k": key.public_key_bytes})


def test_tampering_and_wrong_keys_fail() -> None:
    key, other = PartyKey(RFC8032_SEED), PartyKey.generate()
    keys = {key_id_for(key.public_key_bytes): key.public_key_bytes}
    doc = sign_envelope(INTOTO_PAYLOAD_TYPE, b'{"result":"fail"}', key).to_json()
    forged = dict(doc, payload=base64.b64encode(b'{"result":"pass"}').decode())
    with pytest.raises(SignatureError):
        verify_envelope(parse_envelope(forged), keys)
    with pytest.raises(SignatureError):
        verify_envelope(parse_envelope(dict(doc, payloadType="application/json")), keys)
    with pytest.raises(SignatureError):
        verify_envelope(parse_envelope(doc), {key_id_for(other.public_key_bytes):
                                              other.public_key_bytes})
    with pytest.raises(BadInput):
        parse_envelope({"payload": "!!", "payloadType": "x", "signatures": [{"sig": "AA=="}]})
    with pytest.raises(BadInput):
        parse_envelope({"payload": "", "payloadType": "x", "signatures": []})


def test_intoto_statement_shape() -> None:
    stmt = intoto_statement([{"name": "run_x", "digest": {"sha256": "ab" * 32}}],
                            "https://reelrights.dev/audit/certificate/v1", {"result": "pass"})
    assert stmt["_type"] == "https://in-toto.io/Statement/v1"
    check_intoto_statement(stmt, "https://reelrights.dev/audit/certificate/v1")
    with pytest.raises(BadInput):
        check_intoto_statement(stmt, "https://example.com/other")
    with pytest.raises(BadInput):
        check_intoto_statement(dict(stmt, _type="https://in-toto.io/Statement/v0.1"))
    with pytest.raises(BadInput):
        check_intoto_statement(dict(stmt, subject=[{"name": "run_x"}]))
