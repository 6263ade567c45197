"""ScriptIndex: MinHash LSH finds a reformatted script chunk and not an unrelated one."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash

from reelrights.errors import BadInput, Conflict
from reelrights.media.index import ScriptIndex
from reelrights.media.synth import make_script


def signature(text: str) -> np.ndarray:
    """Normalized word 5-shingle MinHash, as the fingerprint module computes it."""
    words = re.findall(r"[a-z0-9']+", text.lower())
    m = MinHash(num_perm=128, seed=1, scheme="affine32")
    m.update_batch([" ".join(words[i:i + 5]).encode() for i in range(max(1, len(words) - 4))])
    return m.hashvalues.astype(np.uint64)


def scenes(path: Path) -> list[tuple[int, int, str]]:
    """(first line, last line, text) per scene, split at the CUT TO: transitions."""
    lines = path.read_text().splitlines()
    out, start = [], 0
    for i, line in enumerate(lines + ["> CUT TO:"]):
        if line.startswith("> CUT TO:"):
            out.append((start + 1, i, "\n".join(lines[start:i])))
            start = i + 1
    return out


def reformat(text: str) -> str:
    """A different layout (re-wrapped, re-cased, re-spaced, punctuation changed) and one word in
    40 edited, as a retyped copy would have."""
    words = text.split()
    words = [w + "s" if i % 40 == 20 else w for i, w in enumerate(words)]
    flat = " ".join(words).replace(".", " .").replace("!", "!!").upper()
    return "\n\n".join(textwrap.wrap(flat, 27))


@pytest.fixture
def library(tmp_path: Path) -> dict[str, str]:
    chunks = {}
    for seed in range(6):
        script = make_script(tmp_path / f"s{seed}.fountain", title=f"Film {seed}", author="A. Writer",
                             scenes=6, seed=seed)
        for first, last, text in scenes(script):
            chunks[f"{seed:064x}:{first}-{last}"] = text
    return chunks


def test_finds_reformatted_chunk_and_not_unrelated(tmp_path: Path, library: dict[str, str]) -> None:
    index = ScriptIndex.open(tmp_path / "ix")
    for key, text in library.items():
        index.add(key, signature(text))
    index.flush()
    reopened = ScriptIndex.open(tmp_path / "ix")  # rebuilt from the persisted signatures
    assert len(reopened) == len(library)
    target = sorted(library)[9]
    hits = reopened.query(signature(reformat(library[target])))
    assert hits and hits[0][0] == target and 0.6 <= hits[0][1] < 1.0
    assert all(j >= 0.5 for _, j in hits)
    unrelated = make_script(tmp_path / "other.fountain", title="Other", author="B", scenes=1, seed=99)
    assert reopened.query(signature(unrelated.read_text())) == []
    # the threshold filters on the re-ranked estimate
    assert reopened.query(signature(reformat(library[target])), threshold=hits[0][1] + 0.01) == []
    assert reopened.query(signature(library[target]), threshold=0.99) == [(target, 1.0)]


def test_incremental_adds_persist_across_writers(tmp_path: Path, library: dict[str, str]) -> None:
    keys = sorted(library)
    a = ScriptIndex.open(tmp_path, threshold=0.6)
    for k in keys[:10]:
        a.add(k, signature(library[k]))
    a.flush()
    b = ScriptIndex.open(tmp_path, threshold=0.2)  # threshold is fixed by the first writer
    assert b.threshold == 0.6
    for k in keys[10:]:
        b.add(k, signature(library[k]))
    assert b.query(signature(library[keys[12]]))[0] == (keys[12], 1.0)  # pending: searchable
    b.flush()
    c = ScriptIndex.open(tmp_path)
    assert len(c) == len(keys)
    assert c.query(signature(library[keys[3]]))[0] == (keys[3], 1.0)
    assert c.query(signature(library[keys[-1]]))[0] == (keys[-1], 1.0)


def test_bad_input(tmp_path: Path) -> None:
    index = ScriptIndex.open(tmp_path)
    sig = signature("a b c d e")
    index.add("k", sig)
    index.add("k", sig)  # same content again: a no-op
    with pytest.raises(Conflict, match="already indexed"):
        index.add("k", signature("other words entirely here"))
    with pytest.raises(BadInput, match=r"\(128,\) uint64"):
        index.add("j", sig[:64])
    with pytest.raises(BadInput, match="non-empty string"):
        index.add("", sig)
    with pytest.raises(BadInput, match="threshold"):
        ScriptIndex.open(tmp_path / "x", threshold=1.5)
    assert len(index) == 1
