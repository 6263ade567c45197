"""The verifier's remembered related-entry sets and resolved keys give what the general path
gives: a verifier that has seen a proof file's related entries checks only the subject of the
next file carrying the same ones, and for every subject, valid or changed (a byte of its entry,
a hash of its proof, its index), it returns the same result or raises the same error, with the
same words, as a fresh verifier that checks every entry."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from reelrights.core.statements import (
    decode_entry,
    make_leaf,
    make_statement,
    sign_statement,
)
from reelrights.errors import InvalidStatement, ReelrightsError
from reelrights.keys import PartyKey
from reelrights.verify import LogTrust, ProvenEntry, TlogProof, Verifier
from reelrights.verify.keys import KeyBook, key_at
from test_verify_fast import LOG_TIME, REGISTRY, _log

PROOFS, VKEY, _ = _log(n_subjects=6)
TRUST = LogTrust(VKEY)


def _outcome(verifier: Verifier, proof: TlogProof) -> tuple[object, ...]:
    try:
        got = verifier.verify(proof)
    except ReelrightsError as exc:
        return type(exc).__name__, exc.message
    return ("ok", got.subject.index, got.subject.leaf_hash, got.subject.statement,
            sorted(got.related), [v.statement for v in got.all()])


def _warm() -> Verifier:
    """A verifier that verified one file: it remembers PROOFS' related entries as a set."""
    verifier = Verifier(TRUST)
    verifier.verify(PROOFS[0])
    assert len(verifier._sets) == 1
    return verifier


def _changed(k: int, where: str, pos: int, bit: int) -> TlogProof:
    p = PROOFS[k]
    s = p.subject
    if where == "entry":
        pos %= len(s.entry)
        entry = s.entry[:pos] + bytes([s.entry[pos] ^ (1 << bit)]) + s.entry[pos + 1:]
        subject = ProvenEntry(s.index, entry, s.proof)
    elif where == "proof":
        h = pos % len(s.proof)
        bad = bytes([s.proof[h][0] ^ (1 << bit)]) + s.proof[h][1:]
        subject = ProvenEntry(s.index, s.entry, s.proof[:h] + (bad,) + s.proof[h + 1:])
    else:  # another index: elsewhere in the tree, one of the related ones, or outside
        subject = ProvenEntry((s.index ^ (1 << bit)) if pos % 3 else p.related[0].index,
                              s.entry, s.proof)
    return TlogProof(subject, p.checkpoint, p.related)  # the same related tuple: the fast path


def test_valid_files_verify_alike_through_the_remembered_set() -> None:
    warm = _warm()
    for p in PROOFS:
        assert _outcome(warm, p) == _outcome(Verifier(TRUST), p)
        assert _outcome(warm, p)[0] == "ok"


@given(k=st.integers(0, len(PROOFS) - 1), where=st.sampled_from(["entry", "proof", "index"]),
       pos=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_changed_subjects_fail_alike_with_the_same_words(k: int, where: str, pos: int,
                                                         bit: int) -> None:
    proof = _changed(k, where, pos, bit)
    assert _outcome(_warm(), proof) == _outcome(Verifier(TRUST), proof)


def test_every_changed_subject_byte_fails_alike() -> None:
    warm = _warm()
    entry = PROOFS[1].subject.entry
    for pos in range(0, len(entry), 3):
        proof = _changed(1, "entry", pos, pos % 8)
        slow = _outcome(Verifier(TRUST), proof)
        assert slow[0] != "ok"
        assert _outcome(warm, proof) == slow, pos


def test_a_subject_that_teaches_keys_or_names_another_registry_takes_the_general_path() -> None:
    key = PartyKey(b"\x05" * 32)
    body = {"id": "pty_aaaaaaaaaaaaaaaa", "kind": "studio", "name": "Other",
            "public_key": base64.b64encode(key.public_key_bytes).decode()}
    for registry, type_ in ((REGISTRY, "party.registered"), ("other.example/r", "work.noted")):
        leaf = make_leaf(sign_statement(make_statement(
            type_, "pty_aaaaaaaaaaaaaaaa", body, "2026-12-01T11:00:00Z", registry=registry),
            key), LOG_TIME)
        p = PROOFS[2]
        proof = TlogProof(ProvenEntry(p.subject.index, leaf, p.subject.proof), p.checkpoint,
                          p.related)
        assert _outcome(_warm(), proof) == _outcome(Verifier(TRUST), proof)


def test_a_resolved_key_is_what_the_key_history_gives_and_learning_resets_it() -> None:
    p = PROOFS[0]
    party = decode_entry(p.related[0].entry)
    book = KeyBook(TRUST.log.public_key)
    book.learn(p.related[0].index, party)
    first = base64.b64decode(party.body["public_key"])
    for _ in range(2):  # resolved, then remembered
        assert key_at(book, party.actor, p.related[0].index + 1) == [first]
    assert party.actor in book.only_key
    for index, seq in ((p.related[0].index, 0), (p.related[0].index + 1, 1)):
        try:
            key_at(book, party.actor, index, seq)
        except ReelrightsError as exc:
            assert party.actor in exc.message
        else:  # pragma: no cover
            raise AssertionError("an index before the registration or key 1 resolved")
    again = PartyKey(b"\x07" * 32)
    body = dict(party.body, public_key=base64.b64encode(again.public_key_bytes).decode())
    later = decode_entry(make_leaf(sign_statement(make_statement(
        "party.registered", party.actor, body, "2026-12-01T11:30:00Z", registry=REGISTRY),
        again), LOG_TIME))
    book.learn(250, later)
    assert book.only_key == {}
    assert key_at(book, party.actor, 251) == [first]  # key 0: the first registration's
    assert party.actor not in book.only_key  # two registrations: not resolved by the shortcut


def test_remembered_types_and_key_ids_refuse_other_values_with_the_same_words() -> None:
    good = decode_entry(PROOFS[0].subject.entry)  # its type and key id are remembered now
    for bad_keyid in ([good.key_id], {"k": 1}, 7, good.key_id.upper(), good.type):
        entry = good.entry.replace(f'"keyid":"{good.key_id}"'.encode(),
                                   b'"keyid":' + _json(bad_keyid))
        try:
            decode_entry(entry)
        except InvalidStatement as exc:
            assert exc.message.startswith("/signature/keyid:") or "canonical" in exc.message
        else:  # pragma: no cover
            raise AssertionError(bad_keyid)


def _json(value: object) -> bytes:
    from reelrights.core.canonical import canonical_bytes
    return canonical_bytes(value)
