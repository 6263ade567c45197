"""Script fingerprints: normalization, MinHash under reformatting, scene chunks, line hashes, errors."""

from __future__ import annotations

import hashlib
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash

from reelrights.errors import BadInput, MediaError
from reelrights.media.fingerprint import (
    TextPrint,
    fingerprint_file,
    fingerprint_text,
    fingerprint_text_string,
    jaccard,
    normalize_line,
)
from reelrights.media.fingerprint.text import SCHEME, WINDOW_LINES
from reelrights.media.synth import make_pdf, make_script


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("fp_text")
    return make_script(d / "ferry.fountain", title="Night Ferry", author="A. Writer", scenes=12, seed=4)


@pytest.fixture(scope="module")
def original(script: Path) -> TextPrint:
    return fingerprint_text(script)


def _lines(text: str) -> list[str]:
    return text.splitlines()


def test_normalize_line() -> None:
    assert normalize_line("  INT. KITCHEN - NIGHT  ") == "int. kitchen - night"
    assert normalize_line("> CUT TO:") == "cut to"
    assert normalize_line("===") == ""
    assert normalize_line("Straße\u00a0 \t ＡＢＣ…") == "strasse abc"  # NFKC + casefold + whitespace
    assert normalize_line("(quietly)") == "quietly"
    assert normalize_line("Don't   go!") == "don't go"


def test_line_hashes_are_sha256_prefixes(script: Path, original: TextPrint) -> None:
    raw = _lines(script.read_text())
    kept = [(i + 1, normalize_line(line)) for i, line in enumerate(raw) if normalize_line(line)]
    assert original.line_numbers.tolist() == [n for n, _ in kept]
    want = [int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], "big") for _, s in kept]
    assert original.line_hashes.tolist() == want
    assert original.line_hashes.dtype == np.uint64 and original.line_numbers.dtype == np.int32


def test_minhash_is_datasketch_over_word_5_shingles(script: Path, original: TextPrint) -> None:
    words = re.findall(r"\w+", script.read_text().casefold())
    m = MinHash(num_perm=128, seed=1)
    m.update_batch([" ".join(words[i : i + 5]).encode() for i in range(len(words) - 4)])
    assert original.minhash.dtype == np.uint64 and original.minhash.shape == (128,)
    assert np.array_equal(original.minhash, m.hashvalues)
    rebuilt = MinHash(num_perm=128, seed=1, scheme=SCHEME, hashvalues=original.minhash)
    assert rebuilt.jaccard(m) == 1.0


def test_scene_chunks(script: Path, original: TextPrint) -> None:
    raw = _lines(script.read_text())
    headings = [i + 1 for i, line in enumerate(raw) if line.startswith(("INT.", "EXT."))]
    assert len(headings) == 12
    assert len(original.chunks) == 13  # the title page, then one chunk per scene
    assert [c.first_line for c in original.chunks[1:]] == headings
    assert original.chunks[0].first_line == 1
    for a, b in zip(original.chunks, original.chunks[1:]):
        assert a.first_line <= a.last_line < b.first_line
    assert original.chunks[-1].last_line == original.line_numbers[-1]


def test_without_headings_windows_of_40_lines() -> None:
    fp = fingerprint_text_string("\n".join(f"line number {i} of a poem" for i in range(100)))
    assert [(c.first_line, c.last_line) for c in fp.chunks] == [(1, 40), (41, 80), (81, 100)]
    assert WINDOW_LINES == 40


def _reformat(text: str) -> str:
    """Upper case, indentation and trailing spaces, doubled blank lines, CRLF and form feeds."""
    out = []
    for line in _lines(text):
        out.append("      " + line.upper().replace(" ", "   ") + "   ")
        if not line.strip():
            out.append("")
        if line.startswith(("INT.", "EXT.")):
            out.insert(len(out) - 1, "\f")
    return "\r\n".join(out)


def test_reformatted_copy_keeps_every_line_hash(script: Path, original: TextPrint) -> None:
    copy = fingerprint_text_string(_reformat(script.read_text()))
    assert copy.line_hashes.tolist() == original.line_hashes.tolist()  # same lines, same order
    assert copy.line_numbers.tolist() != original.line_numbers.tolist()  # at other line numbers
    assert jaccard(copy.minhash, original.minhash) == 1.0
    assert len(copy.chunks) == len(original.chunks)


def test_rewrapped_copy(script: Path, original: TextPrint) -> None:
    text = script.read_text()
    wrapped = "\n".join(textwrap.fill(line, 28) if line else "" for line in _lines(text))
    copy = fingerprint_text_string(wrapped)
    assert jaccard(copy.minhash, original.minhash) >= 0.8  # the word stream is unchanged
    short = {line_hash for line, line_hash in _hashes_by_line(text).items() if len(line) <= 28}
    assert short and short <= set(copy.line_hashes.tolist())  # unchanged (unwrapped) lines kept


def _hashes_by_line(text: str) -> dict[str, int]:
    fp = fingerprint_text_string(text)
    raw = _lines(text)
    return {raw[n - 1]: h for n, h in zip(fp.line_numbers.tolist(), fp.line_hashes.tolist())}


def test_pdf_rendering(script: Path, original: TextPrint, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "ferry.pdf", script.read_text(), lines_per_page=40)
    fp = fingerprint_file(pdf, "document").text
    assert fp is not None
    assert jaccard(fp.minhash, original.minhash) >= 0.8
    assert set(original.line_hashes.tolist()) <= set(fp.line_hashes.tolist())


def test_one_copied_scene_is_found_by_its_chunk(script: Path, original: TextPrint, tmp_path: Path) -> None:
    other = make_script(tmp_path / "other.fountain", title="Dry Season", author="B. Writer", scenes=6, seed=9)
    stolen = original.chunks[5]
    raw = _lines(script.read_text())
    mixed = other.read_text() + "\n" + "\n".join(raw[stolen.first_line - 1 : stolen.last_line]) + "\n"
    fp = fingerprint_text_string(mixed)
    best = max(jaccard(c.minhash, stolen.minhash) for c in fp.chunks)
    assert best >= 0.8
    assert jaccard(fp.minhash, original.minhash) < 0.5  # the whole scripts are not alike


def test_unrelated_script_is_far(original: TextPrint, tmp_path: Path) -> None:
    other = make_script(tmp_path / "other.fountain", title="Dry Season", author="B. Writer", scenes=12, seed=77)
    fp = fingerprint_text(other)
    assert jaccard(fp.minhash, original.minhash) < 0.2


def test_serialization_roundtrip(original: TextPrint) -> None:
    blob = original.to_bytes()
    assert TextPrint.from_bytes(blob) == original
    with pytest.raises(BadInput):
        TextPrint.from_bytes(blob[:-8])
    with pytest.raises(BadInput, match="version"):
        TextPrint.from_bytes(blob[:5] + b"\x09" + blob[6:])


def test_encodings(tmp_path: Path) -> None:
    text = "INT. CAFÉ - DAY\n\nZoë orders coffee.\n"
    utf16 = tmp_path / "a.txt"
    utf16.write_bytes(text.encode("utf-16"))
    bom = tmp_path / "b.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert fingerprint_text(utf16) == fingerprint_text(bom) == fingerprint_text_string(text)


def test_bad_text_files_raise_media_error(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("café crème".encode("latin-1"))
    with pytest.raises(MediaError, match="UTF-8") as err:
        fingerprint_text(latin1)
    assert str(latin1) in str(err.value) and err.value.path == str(latin1)
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(MediaError, match="binary"):
        fingerprint_text(binary)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog")
    with pytest.raises(MediaError, match="broken.pdf"):
        fingerprint_text(broken)
    blank = make_pdf(tmp_path / "blank.pdf", "")
    with pytest.raises(MediaError, match="no text layer"):
        fingerprint_text(blank)
