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
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeVar

from ..core._accel import fast_constructor, native
from ..core.canonical import canonical_bytes
from ..errors import BadInput, ReelrightsError

__all__ = ["EXTRA_FORMAT", "HEADER", "ProvenEntry", "TlogProof", "looks_like_tlog_proof"]

HEADER = "c2sp.org/tlog-proof@v1"
EXTRA_FORMAT = "reelrights/tlog-proof-extra/v1"
K = TypeVar("K")
V = TypeVar("V")
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
        if native is not None:
            fast = _parse_native(data)
            if fast is not None:
                return fast
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError:
                raise _bad("not UTF-8 text") from None
        fast = None if native is not None else _parse_fast(data)
        if fast is not None:
            return fast
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
        try:
            note_b = note.encode("utf-8")
        except UnicodeEncodeError:
            raise _bad("the checkpoint is not UTF-8 text (a lone surrogate)") from None
        return cls(ProvenEntry(int(index_s), entry, proof), note_b, related)


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


_PREFIX = HEADER + "\nextra "
_EXTRA_HEAD = b'{"entry":"'
_EXTRA_MID = b'","format":"' + EXTRA_FORMAT.encode() + b'","related":'
#: The base64 of 18 bytes inside _EXTRA_MID as it reads when _EXTRA_MID starts at byte 0, 1 or 2
#: of a base64 group (from its 4th byte on): where the extra line's text turns to the related part.
_NEEDLES = tuple(base64.b64encode(b"\0" * p + _EXTRA_MID).decode()[4:28] for p in range(3))
#: Tails seen, by their last _KEY characters: (tail text, phase, related entries). The last
#: characters are the upper hashes of the last related entry's proof, often shared: a few
#: tails may share a key.
_TAILS: dict[str, list[tuple[str, int, tuple[ProvenEntry, ...]]]] = {}
_MAX_TAILS = 1024
_KEY = 1024
#: Checkpoint notes seen, as given (text or bytes) -> their bytes (one object per note, so the
#: verifier's cache by the note's bytes hashes it once), and the last one looked up.
_NOTES: dict[str | bytes, bytes] = {}
_LAST_NOTE: list[tuple[str | bytes, bytes]] = [("", b"")]


def _note_of(data: str | bytes, start: int) -> bytes | None:
    """The checkpoint note ``data[start:]`` as bytes (None unless it is UTF-8 text, which the
    general parser then words), remembered: most files carry the last file's note."""
    last, note_b = _LAST_NOTE[0]
    if (type(last) is type(data) and len(data) - start == len(last)
            and data.endswith(last)):  # type: ignore[arg-type]
        return note_b
    note = data[start:]
    found = _NOTES.get(note)
    if found is None:
        try:
            if isinstance(note, bytes):
                note.decode("utf-8")  # as the general parser reads the file
                found = note
            else:
                found = note.encode("utf-8")  # a lone surrogate fails
        except UnicodeError:
            return None
        if len(_NOTES) >= 64:
            _NOTES.clear()
        _NOTES[note] = found
    _LAST_NOTE[0] = note, found
    return found


def _parse_fast(data: str) -> TlogProof | None:
    """The proof file when it is exactly as :meth:`TlogProof.format` writes it, else None (then
    the general parser decides, and words any error). Same result as the general parser.

    The extra line is read in two parts split on a base64 group boundary inside its constant
    ``","format":...,"related":`` run: the head (the subject's entry) is decoded per file, the
    tail (the related entries: the same signers' key statements in many files) is looked up by
    its text among tails already parsed and checked to be canonical JSON. The inclusion proof is
    decoded in one pass: each hash line ``<43 chars>=`` becomes ``<43 chars>A`` (33 bytes, the
    last one zero exactly when the line is the canonical base64 of 32 bytes)."""
    if not data.startswith(_PREFIX):
        return None
    e1 = data.find("\n", len(_PREFIX))
    if e1 < 0 or not data.startswith("\nindex ", e1):
        return None
    e2 = data.find("\n", e1 + 7)
    nn = data.find("\n\n", e2)
    if e2 < 0 or nn < 0 or nn + 2 >= len(data):
        return None
    index_s = data[e1 + 7:e2]
    if not _INDEX.fullmatch(index_s) or int(index_s) >= 1 << 63:
        return None
    proof = _hash_block(data[e2 + 1:nn + 1])
    extra = data[len(_PREFIX):e1]
    known = _tail_of(extra)
    if known is None:
        phase, pos = _split(extra)
        related = None
    else:
        phase, pos, related = known
    # the head: whole base64 groups, no padding (strict a2b takes a stray "=" after a group)
    if pos <= 0 or pos % 4 or proof is None or "=" in extra[:pos]:
        return None
    try:
        head = binascii.a2b_base64(extra[:pos], strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    cut = len(head) - 3 + phase  # where _EXTRA_MID starts in the head
    if not head.startswith(_EXTRA_HEAD) or head[cut:] != _EXTRA_MID[:3 - phase]:
        return None
    if related is None:
        tail = extra[pos:]
        related = _related_of(head, tail)
        if related is None:
            return None
        if len(tail) >= _KEY:  # (shorter ones are not looked up by their last _KEY characters)
            _remember(_TAILS, tail[-_KEY:], (tail, phase, related))
    try:
        entry = binascii.a2b_base64(head[len(_EXTRA_HEAD):cut], strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    note_b = _note_of(data, nn + 2)
    if note_b is None:
        return None
    return TlogProof(ProvenEntry(int(index_s), entry, proof), note_b, related)


_new_entry = fast_constructor(ProvenEntry)
_new_proof = fast_constructor(TlogProof)
_NEEDLE_BYTES = tuple(n.encode("ascii") for n in _NEEDLES)
_PREFIX_BYTES = _PREFIX.encode("ascii")


#: Tails seen by the C path, by a 64-bit key of their bytes; one dict for text, one for bytes.
_NATIVE_TAILS: tuple[dict[int, list[tuple[str, int, tuple[ProvenEntry, ...]]]],
                     dict[int, list[tuple[bytes, int, tuple[ProvenEntry, ...]]]]] = ({}, {})


def _parse_native(data: str | bytes) -> TlogProof | None:
    """:func:`_parse_fast` with its byte work in C (:mod:`._accel`), on the file's text or its
    bytes: the same answer (None when the file is not exactly as :meth:`TlogProof.format`
    writes it, and then the general parser decides and words the error)."""
    assert native is not None
    got = native.split_proof(data, _PREFIX_BYTES, _EXTRA_HEAD, _EXTRA_MID, _NEEDLE_BYTES)
    if got is None:
        return None
    index, proof, entry, ts, te, phase, ns, key = got  # data[:ns] is ASCII (checked in C)
    tails: dict = _NATIVE_TAILS[isinstance(data, bytes)]  # type: ignore[type-arg]
    related = None
    for tail, tail_phase, known in tails.get(key, ()):
        if tail_phase == phase and te - ts == len(tail) and data.startswith(tail, ts):
            related = known
            break
    if related is None:
        tail = data[ts:te]
        head = binascii.a2b_base64(data[len(_PREFIX):ts], strict_mode=True)  # checked in C
        related = _related_of(head, tail)
        if related is None:
            return None
        _remember(tails, key, (tail, phase, related))
    note_b = _note_of(data, ns)
    if note_b is None:
        return None
    return _new_proof(_new_entry(index, entry, proof), note_b, related)


def _tail_of(extra: str) -> tuple[int, int, tuple[ProvenEntry, ...]] | None:
    """(phase, where the tail starts, related entries) when ``extra`` ends with a known tail."""
    for tail, phase, related in _TAILS.get(extra[-_KEY:], ()):
        if extra.endswith(tail) and len(extra) > len(tail):
            return phase, len(extra) - len(tail), related
    return None


def _split(extra: str) -> tuple[int, int]:
    """(phase, position) of the tail: where _EXTRA_MID's base64 run starts on a group boundary."""
    for phase, needle in enumerate(_NEEDLES):
        pos = extra.find(needle)
        if pos >= 0:
            return phase, (pos if pos % 4 == 0 else -1)
    return 0, -1


def _hash_block(block: str) -> tuple[bytes, ...] | None:
    """The hash lines ``<base64>\\n``... of ``block`` (None unless each is canonical)."""
    n, rest = divmod(len(block), 45)
    if (rest or block[43::45] != "=" * n or block[44::45] != "\n" * n
            or block.count("=") != n or not block.isascii()):
        return None
    try:  # each "=" (only at the pads, counted) reads as "A", each newline dropped
        raw = binascii.a2b_base64(block.encode("ascii").translate(_PAD_AS_A, b"\n"),
                                  strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 33 * n or raw[32::33] != bytes(n):
        return None
    return _hash_split(n).unpack(raw)


_PAD_AS_A = bytes.maketrans(b"=", b"A")


@lru_cache(maxsize=128)
def _hash_split(n: int) -> struct.Struct:
    """Splits ``n`` 33-byte groups into their first 32 bytes (a tuple of bytes, in one call)."""
    return struct.Struct("32sx" * n)


def _related_of(head: bytes, tail: str | bytes) -> tuple[ProvenEntry, ...] | None:
    """The related entries of an extra line whose tail was not seen before; None unless the
    whole extra is reelrights' and its related part canonical JSON alone."""
    try:
        whole = head + binascii.a2b_base64(tail, strict_mode=True)
        _, related = _parse_extra(whole)
    except (binascii.Error, ValueError, BadInput):
        return None
    start = whole.find(_EXTRA_MID) + len(_EXTRA_MID)
    try:  # the related part alone: not JSON when a key follows it (a second "entry", say)
        if not whole.endswith(b"}") or canonical_bytes(
                json.loads(whole[start:-1])) != whole[start:-1]:
            return None
    except (ValueError, RecursionError, ReelrightsError):
        return None
    return related


def _remember(table: dict[K, list[V]], key: K, item: V) -> None:
    """Keep ``item`` under ``key`` in a bounded table of tails (_MAX_TAILS keys, 16 each)."""
    if len(table) >= _MAX_TAILS:
        table.clear()
    same = table.setdefault(key, [])
    if len(same) >= 16:
        same.pop(0)
    same.append(item)


def looks_like_tlog_proof(data: bytes) -> bool:
    return data.startswith(HEADER.encode() + b"\n")


def related_sorted(entries: Sequence[ProvenEntry]) -> tuple[ProvenEntry, ...]:
    """Related entries in index order, each once (what the issuer writes)."""
    seen: dict[int, ProvenEntry] = {}
    for e in entries:
        seen.setdefault(e.index, e)
    return tuple(seen[i] for i in sorted(seen))
