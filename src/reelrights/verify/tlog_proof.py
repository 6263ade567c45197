"""The offline proof file: a c2sp.org/tlog-proof@v1 whose ``extra`` carries reelrights' entries.

A proof (C2SP tlog-proof) is::

    c2sp.org/tlog-proof@v1
    extra <base64(extra)>
    index <N>
    <base64 sibling hash>           one per line, leaf's sibling first (RFC 6962 2.1.1)
    ...
    <blank line>
    <the signed checkpoint note, verbatim, with any witness cosignatures>

reelrights' ``extra`` is the RFC 8785 JSON::

    {"format": "reelrights/tlog-proof-extra/v1",
     "entry": "<base64 of the leaf at index N>",
     "related": [{"index": M, "entry": "<base64 leaf>", "proof": ["<base64 hash>", ...]}, ...]}

``entry`` is the subject's exact leaf bytes, so its leaf hash is ``SHA-256(0x00 || entry)`` and
any tlog-proof verifier that is told the entry checks the file. ``related`` are the other
entries the subject's verifier needs (the signers' ``party.registered`` statements, a
certificate's run commitment, a license's grant...), each with its inclusion proof in the SAME
checkpoint. Nothing in ``extra`` is trusted: every entry is bound to the signed checkpoint by
its own proof. Parsing only; :mod:`reelrights.verify.entries` verifies. No I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from ..core.canonical import canonical_bytes
from ..errors import BadInput

__all__ = ["EXTRA_FORMAT", "HEADER", "ProvenEntry", "TlogProof", "looks_like_tlog_proof"]

HEADER = "c2sp.org/tlog-proof@v1"
EXTRA_FORMAT = "reelrights/tlog-proof-extra/v1"
_INDEX = re.compile(r"0|[1-9][0-9]{0,19}")
_MAX_RELATED = 256
_EXTRA_KEYS = frozenset({"format", "entry", "related"})
_RELATED_KEYS = frozenset({"index", "entry", "proof"})


def _bad(why: str) -> BadInput:
    return BadInput(f"malformed tlog-proof: {why}; ask the issuer for the proof file again")


def _b64(text: object, what: str) -> bytes:
    if type(text) is not str:
        raise _bad(f"{what} is not a base64 string")
    try:
        raw = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        raise _bad(f"{what} is not standard base64") from None
    return raw


def _hash(text: object, what: str) -> bytes:
    if type(text) is not str or len(text) != 44:
        raise _bad(f"{what} is not the base64 of a 32-byte hash")
    try:
        raw = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        raise _bad(f"{what} is not standard base64") from None
    if len(raw) != 32:
        raise _bad(f"{what} is not the base64 of a 32-byte hash")
    return raw


_HASH_LINES = re.compile(r"(?:[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=\n)*")


def _hashes(lines: list[str], what: str) -> tuple[bytes, ...]:
    """Base64 hash lines, checked at once (each the canonical base64 of 32 bytes)."""
    if _HASH_LINES.fullmatch("".join(h + "\n" for h in lines)):
        a2b = binascii.a2b_base64
        return tuple(a2b(h) for h in lines)
    for k, h in enumerate(lines):
        _hash(h, f"{what} {k + 1}")
    raise _bad(f"an {what} is not the canonical base64 of a 32-byte hash")


@lru_cache(maxsize=4096)
def _related_entry(k: int, index: int, entry: str, proof: tuple[str, ...]) -> ProvenEntry:
    """One related entry, decoded (remembered: most proof files carry the same few signers'
    key statements, text for text)."""
    return ProvenEntry(index, _b64(entry, f"related entry {k}"),
                       _hashes(list(proof), f"related entry {k} proof hash"))


@dataclass(frozen=True)
class ProvenEntry:
    """One log entry with its inclusion proof (hashes, leaf's sibling first)."""

    index: int
    entry: bytes
    proof: tuple[bytes, ...]


@dataclass(frozen=True)
class TlogProof:
    """A parsed proof file: the subject entry, the related entries, the checkpoint note."""

    subject: ProvenEntry
    checkpoint: bytes
    related: tuple[ProvenEntry, ...] = field(default=())

    def entries(self) -> list[ProvenEntry]:
        return [self.subject, *self.related]

    def format(self) -> str:
        """The file's text (ends with the checkpoint note, so with a newline)."""
        extra = {"format": EXTRA_FORMAT, "entry": base64.b64encode(self.subject.entry).decode(),
                 "related": [{"index": r.index, "entry": base64.b64encode(r.entry).decode(),
                              "proof": [base64.b64encode(h).decode() for h in r.proof]}
                             for r in self.related]}
        lines = [HEADER, "extra " + base64.b64encode(canonical_bytes(extra)).decode(),
                 f"index {self.subject.index}",
                 *(base64.b64encode(h).decode() for h in self.subject.proof), ""]
        return "\n".join(lines) + "\n" + self.checkpoint.decode("utf-8")

    @classmethod
    def parse(cls, data: bytes | str) -> TlogProof:
        """Parse a proof file; BadInput naming the first thing that is not as specified."""
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError:
                raise _bad("not UTF-8 text") from None
        head, sep, note = data.partition("\n\n")
        if not sep or not note:
            raise _bad("no blank line before the checkpoint")
        lines = head.split("\n")
        if lines[0] != HEADER:
            raise _bad(f"the first line is {lines[0][:40]!r}, not {HEADER}")
        pos = 1
        extra_b64 = None
        if pos < len(lines) and lines[pos].startswith("extra "):
            extra_b64 = lines[pos][len("extra "):]
            pos += 1
        if pos >= len(lines) or not lines[pos].startswith("index "):
            raise _bad("no 'index N' line after the header (and the extra line)")
        index_s = lines[pos][len("index "):]
        if not _INDEX.fullmatch(index_s) or int(index_s) >= 1 << 63:
            raise _bad(f"index {index_s[:30]!r} is not a decimal without leading zeros")
        proof = _hashes(lines[pos + 1:], "inclusion proof line")
        if extra_b64 is None:
            raise _bad("no extra line: a reelrights proof carries its entry there")
        entry, related = _parse_extra(_b64(extra_b64, "the extra line"))
        return cls(ProvenEntry(int(index_s), entry, proof), note.encode("utf-8"), related)


def _parse_extra(raw: bytes) -> tuple[bytes, tuple[ProvenEntry, ...]]:
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise _bad("the extra data is not JSON") from None
    if type(doc) is not dict or doc.get("format") != EXTRA_FORMAT:
        raise _bad(f"the extra data is not {EXTRA_FORMAT}")
    if doc.keys() != _EXTRA_KEYS:
        raise _bad("the extra data must hold exactly format, entry and related")
    related = doc["related"]
    if type(related) is not list or len(related) > _MAX_RELATED:
        raise _bad(f"related must be a list of at most {_MAX_RELATED} entries")
    out = []
    for k, r in enumerate(related):
        if type(r) is not dict or r.keys() != _RELATED_KEYS:
            raise _bad(f"related entry {k} must hold exactly index, entry and proof")
        if type(r["index"]) is not int or not 0 <= r["index"] < 1 << 53:
            raise _bad(f"related entry {k}'s index is not a log index")
        if type(r["proof"]) is not list or any(type(h) is not str for h in r["proof"]):
            raise _bad(f"related entry {k}'s proof is not a list of base64 hashes")
        if type(r["entry"]) is not str:
            raise _bad(f"related entry {k} is not a base64 string")
        out.append(_related_entry(k, r["index"], r["entry"], tuple(r["proof"])))
    return _b64(doc["entry"], "the subject entry"), tuple(out)


def looks_like_tlog_proof(data: bytes) -> bool:
    return data.startswith(HEADER.encode() + b"\n")


def related_sorted(entries: Sequence[ProvenEntry]) -> tuple[ProvenEntry, ...]:
    """Related entries in index order, each once (what the issuer writes)."""
    seen: dict[int, ProvenEntry] = {}
    for e in entries:
        seen.setdefault(e.index, e)
    return tuple(seen[i] for i in sorted(seen))
