"""C2SP tlog-checkpoint v1.0.0.

Vectors: tests/assets/tlog_vectors.json ``tessera_log`` (transparency-dev/tessera @1811ae1a
testdata/log/checkpoint.N, 16 checkpoints signed by Tessera) and ``signed_notes`` (the real
sum.golang.org checkpoint from transparency-dev/formats @0b850f1a log/note_test.go).
"""

from __future__ import annotations

import base64
import itertools
import re
from typing import Any

import pytest

from reelrights.core.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from reelrights.core.merkle import EMPTY_ROOT, MemoryTree, consistency_proof, verify_consistency
from reelrights.core.note import NoteSigner, NoteVerifier, parse_skey
from reelrights.errors import BadInput, SignatureError

ROOT = bytes(range(32))
ROOT64 = base64.b64encode(ROOT).decode()


def test_tessera_checkpoints_open_and_resign_exactly(tlog_vectors: dict[str, Any]) -> None:
    """All 16 Tessera checkpoints verify, parse to (origin, size, root) and re-sign byte-exact."""
    log = tlog_vectors["tessera_log"]
    signer = parse_skey(log["skey"])
    verifier = NoteVerifier(log["vkey"])
    assert signer.vkey == log["vkey"]
    assert len(log["checkpoints"]) == 16
    for c in log["checkpoints"]:
        cp = open_checkpoint(c["signed_note"].encode(), verifier, origin=log["origin"])
        assert (cp.origin, cp.size, cp.root.hex()) == (c["origin"], c["size"], c["root"])
        assert sign_checkpoint(cp, signer) == c["signed_note"].encode()
        assert Checkpoint.parse(cp.text()) == cp


def test_tessera_roots_match_entries_and_are_consistent(tlog_vectors: dict[str, Any]) -> None:
    """Each checkpoint root is the MTH of the first N words; all 105 size pairs are consistent."""
    log = tlog_vectors["tessera_log"]
    tree = MemoryTree.from_entries(e.encode() for e in log["entries_text"])
    cps = [open_checkpoint(c["signed_note"].encode(), NoteVerifier(log["vkey"])) for c in log["checkpoints"]]
    assert cps[0].root == EMPTY_ROOT
    for cp in cps:
        assert tree.root(cp.size) == cp.root
    pairs = 0
    for a, b in itertools.combinations(cps[1:], 2):
        verify_consistency(a.size, b.size, consistency_proof(a.size, b.size, tree), a.root, b.root)
        pairs += 1
    assert pairs == 105


def test_sumdb_checkpoint(tlog_vectors: dict[str, Any]) -> None:
    """The real sum.golang.org checkpoint (origin 'go.sum database tree') parses."""
    vec = next(v for v in tlog_vectors["signed_notes"]["vectors"] if "checkpoint" in v)
    cp = open_checkpoint(vec["signed_note"].encode(), NoteVerifier(vec["vkey"]))
    want = vec["checkpoint"]
    assert (cp.origin, cp.size, cp.root.hex()) == (want["origin"], want["size"], want["root"])


def test_wrong_key_or_origin(tlog_vectors: dict[str, Any]) -> None:
    log = tlog_vectors["tessera_log"]
    note = log["checkpoints"][3]["signed_note"].encode()
    with pytest.raises(SignatureError):
        open_checkpoint(note, NoteVerifier(NoteSigner(log["origin"], bytes(32)).vkey))
    with pytest.raises(SignatureError, match=re.escape("not 'example.com/other'")):
        open_checkpoint(note, NoteVerifier(log["vkey"]), origin="example.com/other")
    tampered = note.replace(b"\n3\n", b"\n4\n")
    assert tampered != note
    with pytest.raises(SignatureError):
        open_checkpoint(tampered, NoteVerifier(log["vkey"]))


def test_text_and_extensions_round_trip() -> None:
    cp = Checkpoint("example.com/log", 12, ROOT, ("ext one", "ext two"))
    assert cp.text() == f"example.com/log\n12\n{ROOT64}\next one\next two\n"
    assert Checkpoint.parse(cp.text()) == cp
    assert Checkpoint.parse(cp.text().encode()) == cp
    signer = NoteSigner("example.com/log", bytes(32))
    assert open_checkpoint(sign_checkpoint(cp, signer), NoteVerifier(signer.vkey)) == cp
    assert Checkpoint("o", 0, EMPTY_ROOT).text().split("\n")[1] == "0"


@pytest.mark.parametrize(
    "text",
    [
        f"example.com/log\n12\n{ROOT64}",  # no final newline
        "example.com/log\n12\n",  # no root line
        f"\n12\n{ROOT64}\n",  # empty origin
        f"o\n012\n{ROOT64}\n",  # leading zero
        f"o\n-1\n{ROOT64}\n",  # sign
        f"o\n+1\n{ROOT64}\n",
        f"o\n 1\n{ROOT64}\n",
        f"o\n1.0\n{ROOT64}\n",
        f"o\n{1 << 64}\n{ROOT64}\n",  # beyond uint64
        "o\n1\nAAAA\n",  # root of 3 bytes
        f"o\n1\n{ROOT64[:-1]}\n",  # bad padding
        f"o\n1\n{base64.b64encode(bytes(33)).decode()}\n",  # 33 bytes
        f"o\n1\n{ROOT64}\n\n",  # empty extension line
        f"o\n1\n{ROOT64}\next\n\n",
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(BadInput):
        Checkpoint.parse(text)


def test_constructor_validates() -> None:
    assert Checkpoint("o", 0, ROOT).size == 0
    for args in [("", 1, ROOT), ("a\nb", 1, ROOT), ("o", -1, ROOT), ("o", 1, ROOT[:31]), ("o", True, ROOT)]:
        with pytest.raises(BadInput):
            Checkpoint(*args)  # type: ignore[arg-type]
    with pytest.raises(BadInput):
        Checkpoint("o", 1, ROOT, ("",))
