"""core.sealed: known answers (tests/assets/sealed_vectors.json) and properties: any change to a
disclosed value, salt, path, index or proof fails, naming the field."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelrights.core.canonical import canonical_bytes
from reelrights.core.sealed import (
    ALG,
    DisclosedLeaf,
    Leaf,
    disclose,
    open_sealed,
    parse_opening,
    seal_body,
    verify_leaves,
)
from reelrights.errors import InvalidStatement, VerificationError

VECTORS = json.loads((Path(__file__).parent / "assets" / "sealed_vectors.json")
                     .read_text(encoding="utf-8"))


def _salts(tag: str):
    n = [0]

    def salt(k: int) -> bytes:
        n[0] += 1
        return hashlib.sha256(f"{tag}/{n[0]}".encode()).digest()[:k]
    return salt


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_known_answers(case: dict[str, Any]) -> None:
    s = seal_body(case["body"], case["fields"], case["rows"], salt=_salts(case["name"]))
    assert s.opening_json() == case["leaves"]
    assert [leaf.digest().hex() for leaf in s.leaves] == case["leaf_hashes"]
    assert s.sealed == case["sealed"] and s.public_body == case["public_body"]
    # the leaf rule written out with hashlib alone
    for leaf, want in zip(case["leaves"], case["leaf_hashes"], strict=True):
        salt = base64.urlsafe_b64decode(leaf["salt"] + "=")
        msg = b"reelrights/sealed/v1\n" + salt + canonical_bytes(
            {"path": leaf["path"], "value": leaf["value"]})
        assert hashlib.sha256(msg).hexdigest() == want
    leaves = parse_opening(case["leaves"])
    assert open_sealed(case["public_body"], case["sealed"], leaves, case["fields"],
                       case["rows"]) == case["body"]
    shown = [DisclosedLeaf.from_json(d, "/d") for d in case["disclosure"]]
    assert verify_leaves(case["sealed"], shown)[0].value == case["leaves"][-1]["value"]


ROWS = st.lists(st.fixed_dictionaries({"production": st.sampled_from(["prd_a", "prd_b"]),
                                       "gross": st.integers(0, 10**9).map(str)}),
                min_size=1, max_size=9)


@given(rows=ROWS, pick=st.integers(0, 8), data=st.data())
def test_a_changed_leaf_fails_naming_it(rows: list[dict[str, Any]], pick: int,
                                        data: st.DataObject) -> None:
    body = {"id": "x", "rows": rows, "terms": {"price": "10"}}
    s = seal_body(body, ["terms", "rows"], ["rows"])
    assert open_sealed(s.public_body, s.sealed, s.leaves, ["terms", "rows"], ["rows"]) == body
    d = disclose(s.leaves, [s.leaves[pick % len(s.leaves)].path])[0]
    assert verify_leaves(s.sealed, [d])
    what = data.draw(st.sampled_from(["value", "salt", "path", "index", "proof", "root"]))
    leaf = d.leaf
    if what == "value":
        d = DisclosedLeaf(Leaf(leaf.path, {"tampered": leaf.value}, leaf.salt), d.index,
                          d.size, d.proof)
    elif what == "salt":
        d = DisclosedLeaf(Leaf(leaf.path, leaf.value, bytes(32)), d.index, d.size, d.proof)
    elif what == "path":
        d = DisclosedLeaf(Leaf(leaf.path + "0", leaf.value, leaf.salt), d.index, d.size,
                          d.proof)
    elif what == "index":
        if d.size == 1:
            return
        d = DisclosedLeaf(leaf, (d.index + 1) % d.size, d.size, d.proof)
    elif what == "proof":
        if not d.proof:
            return
        d = DisclosedLeaf(leaf, d.index, d.size, (bytes(32),) + d.proof[1:])
    sealed = dict(s.sealed)
    if what == "root":
        sealed["root"] = "00" * 32
    with pytest.raises(VerificationError) as err:
        verify_leaves(sealed, [d])
    assert d.leaf.path in str(err.value)


@given(rows=ROWS)
def test_an_opening_must_match_and_stand_in_order(rows: list[dict[str, Any]]) -> None:
    body = {"id": "x", "rows": rows, "terms": "t"}
    s = seal_body(body, ["terms", "rows"], ["rows"])
    leaves = list(s.leaves)
    with pytest.raises(VerificationError):  # a changed value
        open_sealed(s.public_body, s.sealed, [Leaf(leaves[0].path, "other", leaves[0].salt),
                                              *leaves[1:]], ["terms", "rows"], ["rows"])
    with pytest.raises(VerificationError):  # a missing row
        open_sealed(s.public_body, s.sealed, leaves[:-1], ["terms", "rows"], ["rows"])
    with pytest.raises(InvalidStatement):  # a private field in clear too
        open_sealed({**s.public_body, "terms": "t"}, s.sealed, leaves, ["terms", "rows"],
                    ["rows"])


def test_rows_out_of_order_are_refused_even_with_a_matching_root() -> None:
    # the signer put row 1 before row 0: the root matches, the order rule refuses it
    a, b = Leaf("/body/rows/1", 1, bytes(32)), Leaf("/body/rows/0", 0, bytes(range(32)))
    from reelrights.core.sealed import root_of_leaves
    sealed = {"alg": ALG, "root": root_of_leaves([a, b]).hex()}
    with pytest.raises(InvalidStatement, match="out of place"):
        open_sealed({}, sealed, [a, b], ["rows"], ["rows"])


def test_an_empty_row_list_is_one_leaf_and_salts_have_one_spelling() -> None:
    s = seal_body({"rates": [], "x": 1}, ["rates"], ["rates"])
    assert [leaf.path for leaf in s.leaves] == ["/body/rates"]
    assert open_sealed({"x": 1}, s.sealed, s.leaves, ["rates"], ["rates"]) == {"rates": [],
                                                                                "x": 1}
    good = s.opening_json()[0]
    with pytest.raises(InvalidStatement, match="salt"):
        # the last character's 2 unused bits set: the same salt, spelled another way
        parse_opening([{**good, "salt": good["salt"][:-1] + ("_" if good["salt"][-1] != "_"
                                                             else "-")}])
    with pytest.raises(InvalidStatement, match="no sealed field"):
        disclose(s.leaves, ["/body/price"])
