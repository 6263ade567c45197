"""Script and text fingerprints: MinHash of word shingles, per-scene MinHash, exact line hashes.

Why two signals: MinHash (datasketch, 128 permutations, seed 1, datasketch 2.0's default
"affine32" scheme, values < 2**32 kept as uint64) over word 5-shingles estimates the
Jaccard similarity of two texts regardless of layout, so a reformatted, re-wrapped or PDF-rendered
copy of a script still scores high and MinHash LSH can find it in a large catalog; per-chunk
(scene) signatures say *which* part was copied. The exact hashes of normalized lines prove
verbatim copying line by line, with line numbers for the scan report.

Normalization (one function, :func:`normalize_line`, for both sides):

1. Unicode NFKC (compatibility forms: ligatures, full-width letters, non-breaking spaces);
2. ``str.casefold()`` (case-insensitive, also for non-ASCII);
3. every run of whitespace becomes one space;
4. punctuation and symbols (Unicode categories P* and S*) and spaces are stripped from both ends,
   so ``"> CUT TO:"`` and ``"cut to"`` agree, and a page-break line such as ``===`` becomes empty.

Lines are split as :meth:`str.splitlines` does (LF, CRLF, CR, form feed, ...), numbered from 1 in
the decoded text (for a PDF, the text pypdf extracts, pages joined by newlines). Empty lines after
normalization are skipped. Line hash: the first 8 bytes of SHA-256 of the UTF-8 normalized line,
read big-endian as an unsigned 64-bit integer. Words for shingles: ``\\w+`` runs of the NFKC,
casefolded text; a shingle is 5 consecutive words joined by single spaces, UTF-8 encoded (a text
of fewer than 5 words is one shingle). Chunks: a scene runs from one scene heading (a line
starting ``INT.``, ``EXT.``, ``EST.``, ``INT./EXT.``, ``I/E`` ...) to the next, with any text
before the first heading as its own chunk; a text without headings is cut into windows of
:data:`WINDOW_LINES` non-empty lines.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from datasketch import MinHash

from reelrights.errors import MediaError
from reelrights.media.fingerprint.base import BlobReader, check_file, pack_header

__all__ = [
    "NUM_PERM",
    "SCHEME",
    "SHINGLE_WORDS",
    "WINDOW_LINES",
    "TextChunk",
    "TextPrint",
    "fingerprint_text",
    "fingerprint_text_string",
    "jaccard",
    "normalize_line",
]

NUM_PERM = 128
SEED = 1
SHINGLE_WORDS = 5
WINDOW_LINES = 40
_KIND, _VERSION = b"T", 1
_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_HEADING = re.compile(r"^\s*(?:int\./ext|ext\./int|int/ext|i/e|int|ext|est)[. ]", re.IGNORECASE)
# datasketch 2.0's default scheme; rebuild a signature with
# MinHash(num_perm=128, seed=1, scheme=SCHEME, hashvalues=sig)
SCHEME = "affine32"
_PERM = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations  # shared: bulk() need not rebuild them


@dataclass(frozen=True, eq=False)
class TextChunk:
    """One scene (or window) of a text: its first and last line numbers, both inclusive, and the
    MinHash of its word shingles."""

    first_line: int
    last_line: int
    minhash: np.ndarray


@dataclass(frozen=True, eq=False)
class TextPrint:
    minhash: np.ndarray
    chunks: list[TextChunk]
    line_numbers: np.ndarray
    line_hashes: np.ndarray

    def to_bytes(self) -> bytes:
        parts = [pack_header(_KIND, _VERSION), struct.pack("<II", len(self.line_hashes), len(self.chunks))]
        parts.append(np.ascontiguousarray(self.minhash, dtype="<u8").tobytes())
        for c in self.chunks:
            parts.append(struct.pack("<ii", c.first_line, c.last_line))
            parts.append(np.ascontiguousarray(c.minhash, dtype="<u8").tobytes())
        parts.append(np.ascontiguousarray(self.line_numbers, dtype="<i4").tobytes())
        parts.append(np.ascontiguousarray(self.line_hashes, dtype="<u8").tobytes())
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, blob: bytes) -> TextPrint:
        r = BlobReader(blob, _KIND, (_VERSION,), "text")
        n_lines, n_chunks = r.unpack("<II")
        minhash = r.array("<u8", NUM_PERM)
        chunks = []
        for _ in range(n_chunks):
            first, last = r.unpack("<ii")
            chunks.append(TextChunk(first, last, r.array("<u8", NUM_PERM)))
        line_numbers = r.array("<i4", n_lines)
        line_hashes = r.array("<u8", n_lines)
        r.done()
        return cls(minhash, chunks, line_numbers, line_hashes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TextPrint):
            return NotImplemented
        same_chunks = len(self.chunks) == len(other.chunks) and all(
            (a.first_line, a.last_line) == (b.first_line, b.last_line) and np.array_equal(a.minhash, b.minhash)
            for a, b in zip(self.chunks, other.chunks)
        )
        return (
            same_chunks
            and np.array_equal(self.minhash, other.minhash)
            and np.array_equal(self.line_numbers, other.line_numbers)
            and np.array_equal(self.line_hashes, other.line_hashes)
        )

    __hash__ = None  # type: ignore[assignment]


def normalize_line(line: str) -> str:
    """NFKC, casefold, collapse whitespace, strip punctuation/symbols/spaces at both ends."""
    s = _WS.sub(" ", unicodedata.normalize("NFKC", line).casefold())
    lo, hi = 0, len(s)
    while lo < hi and _edge(s[lo]):
        lo += 1
    while hi > lo and _edge(s[hi - 1]):
        hi -= 1
    return s[lo:hi]


def _edge(ch: str) -> bool:
    return ch == " " or unicodedata.category(ch)[0] in "PS"


def line_hash(normalized: str) -> int:
    return int.from_bytes(hashlib.sha256(normalized.encode("utf-8")).digest()[:8], "big")


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two MinHash signatures: the share of equal minima."""
    return float(np.mean(np.asarray(a) == np.asarray(b)))


def fingerprint_text_string(text: str) -> TextPrint:
    """Fingerprint text already in memory (see the module docstring for every rule)."""
    raw_lines = text.splitlines()
    numbers: list[int] = []
    hashes: list[int] = []
    words_per_line: list[list[str]] = []
    heading_at: list[bool] = []
    for no, raw in enumerate(raw_lines, start=1):
        norm = normalize_line(raw)
        if not norm:
            continue
        numbers.append(no)
        hashes.append(line_hash(norm))
        words_per_line.append(_WORD.findall(norm))
        heading_at.append(bool(_HEADING.match(raw)))
    spans = _chunk_spans(heading_at)
    all_words = [w for ws in words_per_line for w in ws]
    shingle_sets = [_shingles(all_words)]
    for lo, hi in spans:
        shingle_sets.append(_shingles([w for ws in words_per_line[lo:hi] for w in ws]))
    sigs = MinHash.bulk(shingle_sets, num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, permutations=_PERM)
    chunks = [
        TextChunk(numbers[lo], numbers[hi - 1], sig.hashvalues.astype(np.uint64))
        for (lo, hi), sig in zip(spans, sigs[1:])
    ]
    return TextPrint(
        minhash=sigs[0].hashvalues.astype(np.uint64),
        chunks=chunks,
        line_numbers=np.array(numbers, dtype=np.int32),
        line_hashes=np.array(hashes, dtype=np.uint64),
    )


def _chunk_spans(heading_at: list[bool]) -> list[tuple[int, int]]:
    """[lo, hi) index ranges over the non-empty lines: scenes if there are headings, else windows."""
    n = len(heading_at)
    starts = [i for i, h in enumerate(heading_at) if h]
    if not starts:
        return [(lo, min(n, lo + WINDOW_LINES)) for lo in range(0, n, WINDOW_LINES)]
    if starts[0] != 0:
        starts.insert(0, 0)
    return list(zip(starts, starts[1:] + [n]))


def _shingles(words: list[str]) -> list[bytes]:
    if not words:
        return []
    if len(words) < SHINGLE_WORDS:
        return [" ".join(words).encode("utf-8")]
    return [" ".join(words[i : i + SHINGLE_WORDS]).encode("utf-8") for i in range(len(words) - SHINGLE_WORDS + 1)]


def fingerprint_text(path: str | os.PathLike[str]) -> TextPrint:
    """Fingerprint a text file (.txt, .fountain, .md...: UTF-8, or UTF-16 with a byte-order mark)
    or a PDF (its text layer, through pypdf)."""
    p = check_file(path)
    return fingerprint_text_string(read_text(p))


def read_text(path: Path) -> str:
    """The text of a plain-text or PDF file; MediaError naming the file if it has none."""
    head = path.open("rb").read(5)
    if head == b"%PDF-" or path.suffix.lower() == ".pdf":
        return _pdf_text(path)
    data = path.read_bytes()
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise MediaError(f"{path}: binary data, not text; give a UTF-8 text, Fountain or PDF file", path=str(path))
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MediaError(
            f"{path}: not valid UTF-8 (byte {exc.start}); re-save it as UTF-8", path=str(path)
        ) from None


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, struct.error) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MediaError(
            f"{path}: cannot read the PDF ({reason}); it is corrupt or truncated: re-export it", path=str(path)
        ) from None
    text = "\n".join(pages)
    if not text.strip():
        raise MediaError(
            f"{path}: the PDF has no text layer (scanned?); OCR it or give the script as text", path=str(path)
        )
    return text

