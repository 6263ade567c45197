"""Run commitments, pure parts: canonical items, salted leaves, roots, proofs, the fast path."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypothesis_profiles import examples
from reelrights.core import commitment as c
from reelrights.core import merkle
from reelrights.core.manifest import (
    FAST_LINE,
    KIND_UNITS,
    SPDX_IDS,
    check_item,
    check_key,
    fast_key,
    group_key,
    item_from_row,
)
from reelrights.core.run_totals import Tally, large_datasets
from reelrights.errors import BadInput, ProofError

B32 = "abcdefghijklmnopqrstuvwxyz234567"
ids = st.text(B32, min_size=16, max_size=16)
bases = st.one_of(
    st.builds(lambda b, lic: {"type": "license", "bundle": "bnd_" + b, "license": "lic_" + lic},
              ids, ids),
    st.just({"type": "own"}), st.just({"type": "public-domain"}),
    st.builds(lambda s: {"type": "open-license", "spdx": s},
              st.sampled_from(sorted(SPDX_IDS)) | st.just("LicenseRef-studio.1")))
kind_unit = st.sampled_from([(k, u) for k, us in KIND_UNITS.items() for u in us])
free_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Co", "Cn")),
                    min_size=1, max_size=40).filter(str.isprintable)


@st.composite
def items(draw):  # type: ignore[no-untyped-def]
    kind, unit = draw(kind_unit)
    it = {"sha256": draw(st.binary(min_size=32, max_size=32)).hex(), "kind": kind,
          "units": draw(st.integers(0, 2**53 - 1)), "unit": unit, "basis": draw(bases)}
    if draw(st.booleans()):
        it["acquired"] = f"{draw(st.integers(1900, 2100))}-{draw(st.integers(1, 12)):02d}"
    if draw(st.booleans()):
        it["language"] = draw(st.sampled_from(["en", "fr", "pt-BR", "deu", "zh-Hant-TW"]))
    if draw(st.booleans()):
        it["content_type"] = draw(st.sampled_from(["film", "tv", "script", "music"]))
    if draw(st.booleans()):
        it["dataset"] = draw(free_text | st.just("https://huggingface.co/datasets/a/b"))
    return it


@settings(max_examples=examples(400), suppress_health_check=[HealthCheck.too_slow])
@given(items())
def test_fast_encoding_equals_rfc8785(item):
    data = c.canonical_item(item)
    assert data == rfc8785.dumps(item)
    # The fast line matcher, when it accepts the canonical line, reads the same group key.
    m = FAST_LINE.fullmatch(data)
    if m is not None:
        assert fast_key(m) == group_key(item)


@settings(max_examples=examples(400))
@given(items(), st.integers(0, 400), st.binary(min_size=1, max_size=3))
def test_fast_line_accepts_only_canonical_valid_items(item, pos, junk):
    """Whatever FAST_LINE accepts, and check_key then passes (the per-group checks a commit runs
    once per group), is a valid item already in canonical form: a commit may hash it as is."""
    data = c.canonical_item(item)
    p = pos % (len(data) + 1)
    mutated = data[:p] + junk + data[p:]
    m = FAST_LINE.fullmatch(mutated)
    if m is None:
        return
    parsed = json.loads(mutated)
    try:
        check_key(fast_key(m))
    except BadInput:
        with pytest.raises(BadInput):
            check_item(parsed)
        return
    check_item(parsed)
    assert rfc8785.dumps(parsed) == mutated
    assert fast_key(m) == group_key(parsed)


def test_known_answer_leaf():
    item = {"sha256": "ab" * 32, "kind": "audio", "units": 90, "unit": "seconds",
            "basis": {"type": "own"}}
    salt = bytes(range(16))
    want = hashlib.sha256(b"\x00" + salt + b'{"basis":{"type":"own"},"kind":"audio","sha256":"'
                          + b"ab" * 32 + b'","unit":"seconds","units":90}').digest()
    assert c.leaf_hash(salt, c.canonical_item(item)) == want
    assert c.leaf_hashes([item], salt) == [want]
    # One leaf: the root is the leaf hash (RFC 9162 MTH of one entry).
    assert c.commit_items([item], salt).root == want


def _mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, recursively, as written in the RFC (an independent implementation)."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def _sample(n: int) -> list[dict]:
    return [{"sha256": hashlib.sha256(str(i).encode()).hexdigest(), "kind": "text",
             "units": i, "unit": "tokens", "basis": {"type": "public-domain"}} for i in range(n)]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 17])
def test_root_and_every_proof(n):
    items_ = _sample(n)
    salts = os.urandom(16 * n)
    com = c.commit_items(items_, salts)
    leaves = c.leaf_hashes(items_, salts)
    assert com.root == _mth(leaves) and com.count == n
    proofs = c.prove_many(leaves, range(n))
    for i in range(n):
        salt = salts[16 * i:16 * i + 16]
        c.verify_item(com.root, n, i, salt, items_[i], proofs[i])
        assert proofs[i] == c.prove(leaves, i)
        tampered = dict(items_[i], units=items_[i]["units"] + 1)
        with pytest.raises(ProofError):
            c.verify_item(com.root, n, i, salt, tampered, proofs[i])
        with pytest.raises(ProofError):
            c.verify_item(com.root, n, i, bytes(16) if salt != bytes(16) else b"\1" * 16,
                          items_[i], proofs[i])
        if n > 1:
            with pytest.raises(ProofError):
                c.verify_item(com.root, n, (i + 1) % n, salt, items_[i], proofs[i])


def test_invalid_item_in_proof_is_a_proof_error():
    with pytest.raises(ProofError, match="not a valid manifest item"):
        c.verify_item(bytes(32), 1, 0, bytes(16), {"sha256": "x"}, [])


@settings(max_examples=examples(100))
@given(st.integers(1, 300), st.lists(st.integers(1, 300), max_size=6))
def test_span_pieces_join_to_the_root(n, cuts):
    leaves = [hashlib.sha256(bytes([i % 256, i // 256])).digest() for i in range(n)]
    bounds = sorted({0, n, *(x % n for x in cuts)})
    pieces = [p for a, b in zip(bounds, bounds[1:]) for p in c.span_pieces(a, leaves[a:b])]
    assert c.combine_pieces(pieces) == (n, merkle.root_of(leaves))


def test_opening_header_round_trip():
    h = c.opening_header(b"\7" * 32, 12345)
    assert len(h) == c.OPENING_HEADER_SIZE
    assert c.parse_opening_header(h + b"salts") == (b"\7" * 32, 12345)
    with pytest.raises(BadInput):
        c.parse_opening_header(b"not an opening file at all, really, not one, no no no")


@pytest.mark.parametrize("bad, field", [
    ({"kind": "video", "unit": "tokens"}, "unit"),
    ({"units": -1}, "units"), ({"units": 1.5}, "units"), ({"units": True}, "units"),
    ({"sha256": "AB" * 32}, "sha256"), ({"kind": "smell"}, "kind"),
    ({"acquired": "2025-13"}, "acquired"), ({"content_type": "cartoon"}, "content_type"),
    ({"extra": 1}, "extra"), ({"basis": {"type": "open-license", "spdx": "WTFPL-9"}}, "basis.spdx"),
    ({"basis": {"type": "own", "bundle": "bnd_" + "a" * 16}}, "basis.bundle"),
    ({"basis": {"type": "license", "license": "lic_" + "a" * 16}}, "basis.bundle"),
    ({"basis": {"type": "stolen"}}, "basis.type"),
])
def test_bad_items_name_the_field(bad, field):
    item = {"sha256": "ab" * 32, "kind": "video", "units": 5, "unit": "seconds",
            "basis": {"type": "own"}, **bad}
    with pytest.raises(BadInput, match=f"field '{field}'"):
        check_item(item)


def test_parquet_row_unflattens_basis():
    row = {"sha256": "ab" * 32, "kind": "image", "units": 1, "unit": "images",
           "basis_type": "license", "license": "lic_" + "a" * 16, "bundle": "bnd_" + "b" * 16,
           "spdx": None, "acquired": None, "language": None, "dataset": None,
           "content_type": "still"}
    item = check_item(item_from_row(row))
    assert item["basis"] == {"type": "license", "license": "lic_" + "a" * 16,
                             "bundle": "bnd_" + "b" * 16}
    assert "acquired" not in item and item["content_type"] == "still"


def test_three_percent_rule_is_strict():
    t = lambda n: {"items": 1, "seconds": 0, "frames": 0, "tokens": n, "images": 0}  # noqa: E731
    # 3 of 100 tokens is exactly 3 %: not large; 4 of 100 is.
    per = {("a", "text"): t(3), ("b", "text"): t(4), ("c", "text"): t(93)}
    assert large_datasets(per) == [("b", "text"), ("c", "text")]


def test_tally_public_totals():
    tally = Tally()
    lic = {"type": "license", "bundle": "bnd_" + "b" * 16, "license": "lic_" + "a" * 16}
    for it in [{"sha256": "00" * 32, "kind": "video", "units": 10, "unit": "seconds", "basis": lic,
                "acquired": "2025-03"},
               {"sha256": "01" * 32, "kind": "video", "units": 48, "unit": "frames", "basis": lic,
                "acquired": "2025-07"},
               {"sha256": "02" * 32, "kind": "text", "units": 7, "unit": "tokens",
                "basis": {"type": "own"}}]:
        tally.add(group_key(it), it["units"])
    pub = tally.public()
    assert pub["usage"] == [{"bundle": "bnd_" + "b" * 16, "license": "lic_" + "a" * 16,
                             "items": 2, "seconds": 10, "frames": 48, "tokens": 0, "images": 0}]
    assert pub["bases"]["own"]["tokens"] == 7 and pub["latest_acquired"] == "2025-07"
    assert pub["basis_modalities"] == {"license": ["video"], "own": ["text"]}
    assert list(pub["modalities"]) == ["video", "text"]
