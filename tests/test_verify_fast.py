"""The fast paths of the offline verifier (issue 14's benchmark) are as strict as the general
ones: the proof-file parser gives the general parser's result or defers to it for every changed
character, the remembered inclusion-proof nodes never let a changed hash through, and the
orjson canonical-JSON check refuses what the general check refuses."""

from __future__ import annotations

import base64
import random

import pytest

from reelrights.core import canonical
from reelrights.core.canonical import parse_canonical
from reelrights.core.checkpoint import Checkpoint, sign_checkpoint
from reelrights.core.ids import new_id
from reelrights.core.merkle import MemoryTree, leaf_hash
from reelrights.core.note import NoteSigner
from reelrights.core.statements import make_leaf, make_statement, sign_statement
from reelrights.errors import BadInput, InvalidStatement, ProofError, ReelrightsError
from reelrights.keys import PartyKey
from reelrights.verify import LogTrust, ProvenEntry, TlogProof, Verifier, tlog_proof
from reelrights.verify.inclusion import NodeMemo

REGISTRY = "fast.example/registry"
LOG_TIME = "2026-12-01T12:00:00.000000Z"


def _log(n_subjects: int = 6, size: int = 300):
    rng = random.Random(3)
    key = PartyKey(rng.randbytes(32))
    pid = new_id("party")
    body = {"id": pid, "kind": "studio", "name": "Studio",
            "public_key": base64.b64encode(key.public_key_bytes).decode()}
    leaves = {0: make_leaf(sign_statement(make_statement(
        "party.registered", pid, body, "2026-12-01T11:00:00.000001Z", registry=REGISTRY), key),
        LOG_TIME)}
    spots = rng.sample(range(1, size), n_subjects)
    for k, i in enumerate(spots):
        work = {"id": new_id("work"), "kind": "film", "title": f"Film {k}" + "x" * k,
                "owner": pid, "year": 2026}
        leaves[i] = make_leaf(sign_statement(make_statement(
            "work.registered", pid, work, f"2026-12-01T11:59:0{k}.12345{k}Z",
            registry=REGISTRY), key), LOG_TIME)
    tree = MemoryTree(leaf_hash(leaves[i]) if i in leaves else leaf_hash(i.to_bytes(8, "big"))
                      for i in range(size))
    signer = NoteSigner("fast.example/log", rng.randbytes(32))
    note = sign_checkpoint(Checkpoint("fast.example/log", size, tree.root()), signer)
    related = (ProvenEntry(0, leaves[0], tuple(tree.inclusion_proof(0))),)
    proofs = [TlogProof(ProvenEntry(i, leaves[i], tuple(tree.inclusion_proof(i))), note, related)
              for i in spots]
    return proofs, signer.vkey, tree


def _general(text: str | bytes):
    try:
        return _slow(text)
    except BadInput as exc:
        return ("bad", exc.message)


def _slow(text: str | bytes) -> TlogProof:
    """The general parser's answer (neither fast path: the C one nor the pure-Python one)."""
    fast, native = tlog_proof._parse_fast, tlog_proof.native
    tlog_proof._parse_fast, tlog_proof.native = (lambda data: None), None
    try:
        return TlogProof.parse(text)
    finally:
        tlog_proof._parse_fast, tlog_proof.native = fast, native


def test_the_fast_parser_gives_the_general_parsers_result_for_every_changed_character() -> None:
    proofs, vkey, _ = _log(n_subjects=3)
    for p in proofs:  # the three phases of the extra's base64 (entry lengths differ)
        text = p.format()
        assert tlog_proof._parse_fast(text) == _slow(text) == p
    text = proofs[0].format()
    trust = LogTrust(vkey)
    assert Verifier(trust).verify(TlogProof.parse(text)).subject.index == proofs[0].subject.index
    seen_fast = 0
    for pos in range(len(text)):
        for ch in {"A", "=", "\n", "x"} - {text[pos]}:
            changed = text[:pos] + ch + text[pos + 1:]
            fast = tlog_proof._parse_fast(changed)
            general = _general(changed)
            if fast is not None:
                seen_fast += 1
                assert fast == general, (pos, ch)
            try:
                got = Verifier(trust).verify(TlogProof.parse(changed))
            except (BadInput, ReelrightsError):
                continue
            # only a change the file's format ignores may verify: the same entries, proven
            assert got.subject.statement.entry in proofs[0].subject.entry and \
                TlogProof.parse(changed).subject == proofs[0].subject, (pos, ch)
    assert seen_fast > 0


def test_remembered_nodes_never_pass_a_changed_hash() -> None:
    size = 1000
    tree = MemoryTree(leaf_hash(i.to_bytes(4, "big")) for i in range(size))
    memo = NodeMemo(size, tree.root())
    for i in range(0, size, 7):  # fill the memo with good paths
        memo.verify(leaf_hash(i.to_bytes(4, "big")), i, tuple(tree.inclusion_proof(i)))
    assert len(memo.nodes) > 100
    for i in (1, 2, 500, 998, 999):
        lh, proof = leaf_hash(i.to_bytes(4, "big")), tuple(tree.inclusion_proof(i))
        memo.verify(lh, i, proof)
        for j in range(len(proof)):  # every hash, the upper ones reached through the memo too
            bad = proof[:j] + (bytes([proof[j][0] ^ 1]) + proof[j][1:],) + proof[j + 1:]
            with pytest.raises(ProofError):
                memo.verify(lh, i, bad)
        with pytest.raises(ProofError):
            memo.verify(leaf_hash(b"other"), i, proof)
        with pytest.raises(ProofError):
            memo.verify(lh, i ^ 1, proof)
        with pytest.raises(ProofError):
            memo.verify(lh, i, proof[:-1])
        with pytest.raises(ProofError):
            memo.verify(lh, i, proof + (proof[-1],))


@pytest.mark.parametrize("doc", [b"1.0", b"[1.0]", b'{"a":1.0}',
                                 b'{"a":-0}', b'{"a":1E5}', b'{"a":"\\u001F"}',
                                 b'{"a":1,"a":1}', b'{"b":1,"a":2}', b'{"a":9007199254740993}',
                                 b'{"a": 1}', b'"\\ud800"'])
def test_the_orjson_path_refuses_what_the_general_path_refuses(doc: bytes) -> None:
    with pytest.raises(InvalidStatement):
        parse_canonical(doc)
    assert canonical._parse_fast(doc) is canonical._MISS


def test_the_orjson_path_accepts_floatlike_strings_and_checks_floats_where_told() -> None:
    assert canonical._parse_fast(b'{"a":[1,2.5]}') is canonical._MISS  # a float: general path
    assert parse_canonical(b'{"a":[1,2.5]}') == {"a": [1, 2.5]}
    doc = b'{"a":"x,1.5","b":"9e7","t":"11:59:00.5Z"}'
    assert parse_canonical(doc) == {"a": "x,1.5", "b": "9e7", "t": "11:59:00.5Z"}
    # told floats stand only in "body": a float elsewhere is the caller's to refuse
    assert canonical._parse_fast(b'{"body":{"x":1.5},"v":1}', lambda d: d["body"]) is \
        canonical._MISS
