"""Training-run commitments: canonical items, salted leaves, the Merkle root and its proofs.

A developer commits to its exact training manifest without disclosing it. Each item is encoded
canonically (RFC 8785), prefixed with 16 random bytes of salt, and hashed as an RFC 9162 leaf::

    leaf data = salt || JCS(item)
    leaf hash = SHA-256(0x00 || salt || JCS(item))

The root is the RFC 9162 Merkle tree hash over the leaf hashes in manifest order. The salt is
what keeps an unsampled item private: without it, anyone holding a candidate file could hash
``JCS(item)`` and test it against a revealed leaf. The salt is part of the leaf data, so a
salted leaf costs one SHA-256 (plus its share of interior nodes), not two.

Opening an item to an auditor means revealing (index, salt, item, inclusion proof); anyone can
then check it against the logged (root, count) with :func:`verify_item`.

The salts live in the developer's *opening file*: a 48-byte header (magic, the manifest file's
SHA-256, the item count) followed by 16 bytes of salt per item in manifest order. It never
leaves the developer (see :mod:`reelrights.evidence.runs`). Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any

from ..errors import BadInput, ProofError, ReelrightsError
from . import merkle
from .manifest import check_item, group_key
from .run_totals import Tally

__all__ = ["OPENING_HEADER_SIZE", "OPENING_MAGIC", "SALT_SIZE", "Commitment", "canonical_item",
           "combine_pieces", "commit_items", "encode_item", "leaf_hash", "leaf_hashes",
           "opening_header", "parse_opening_header", "prove", "prove_many", "span_pieces",
           "verify_item"]

SALT_SIZE = 16
OPENING_MAGIC = b"reelrights/open\n"  # 16 bytes
OPENING_HEADER_SIZE = 16 + 32 + 8
_sha256 = hashlib.sha256


@dataclass(frozen=True)
class Commitment:
    """What a run commitment publishes: the root, the item count and the public totals.

    ``usage`` holds the body parts of ``run.committed`` computed from the items: ``usage``,
    ``bases``, ``modalities`` and the optional ``latest_acquired``, ``content_types``,
    ``languages``, ``public_datasets`` (see :meth:`reelrights.core.run_totals.Tally.public`).
    """

    root: bytes
    count: int
    usage: dict[str, Any] = field(default_factory=dict)


def encode_item(item: dict[str, Any]) -> bytes:
    """RFC 8785 bytes of an already validated item, built for this fixed schema.

    Keys are written in JCS order (code-point order; every key is ASCII); strings are escaped
    exactly as JCS escapes them (only ``"``, ``\\`` and control characters); integers are safe
    integers. ``tests/core/test_commitment.py`` checks this equals ``rfc8785.dumps``.
    """
    b = item["basis"]
    t = b["type"]
    if t == "license":
        basis = f'{{"bundle":"{b["bundle"]}","license":"{b["license"]}","type":"license"}}'
    elif t == "open-license":
        basis = f'{{"spdx":{encode_basestring(b["spdx"])},"type":"open-license"}}'
    else:
        basis = f'{{"type":"{t}"}}'
    parts = ["{"]
    if "acquired" in item:
        parts.append(f'"acquired":"{item["acquired"]}",')
    parts.append(f'"basis":{basis},')
    if "content_type" in item:
        parts.append(f'"content_type":"{item["content_type"]}",')
    if "dataset" in item:
        parts.append(f'"dataset":{encode_basestring(item["dataset"])},')
    parts.append(f'"kind":"{item["kind"]}",')
    if "language" in item:
        parts.append(f'"language":"{item["language"]}",')
    parts.append(f'"sha256":"{item["sha256"]}","unit":"{item["unit"]}","units":{item["units"]}}}')
    return "".join(parts).encode("utf-8")


def canonical_item(item: dict[str, Any]) -> bytes:
    """RFC 8785 (JCS) bytes of a manifest item, after validating it (BadInput names the field)."""
    return encode_item(check_item(item))


def leaf_hash(salt: bytes, canonical: bytes) -> bytes:
    """RFC 9162 leaf hash of ``salt || canonical``: one SHA-256."""
    if len(salt) != SALT_SIZE:
        raise BadInput(f"salt has {len(salt)} bytes, want {SALT_SIZE}")
    return _sha256(b"\x00" + salt + canonical).digest()


def _salt_at(salts: bytes | Sequence[bytes], i: int) -> bytes:
    if isinstance(salts, (bytes, bytearray, memoryview)):
        return bytes(salts[i * SALT_SIZE:(i + 1) * SALT_SIZE])
    return salts[i]


def _salt_count(salts: bytes | Sequence[bytes]) -> int:
    if isinstance(salts, (bytes, bytearray, memoryview)):
        return len(salts) // SALT_SIZE
    return len(salts)


def leaf_hashes(items: Sequence[dict[str, Any]], salts: bytes | Sequence[bytes]) -> list[bytes]:
    """Leaf hashes of ``items`` in order. ``salts``: 16 bytes per item, one block or a list."""
    if _salt_count(salts) != len(items):
        raise BadInput(f"{_salt_count(salts)} salts for {len(items)} items; pass one 16-byte "
                       "salt per item, in manifest order")
    return [leaf_hash(_salt_at(salts, i), canonical_item(it)) for i, it in enumerate(items)]


def commit_items(items: Sequence[dict[str, Any]], salts: bytes | Sequence[bytes]) -> Commitment:
    """The commitment to ``items`` (in memory; the CLI streams large manifests in parallel)."""
    hashes = leaf_hashes(items, salts)
    tally = Tally()
    for it in items:
        tally.add(group_key(it), it["units"])
    return Commitment(merkle.root_of(hashes), len(items), tally.public())


def prove(hashes: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 9162 inclusion proof of leaf ``index`` in the tree over ``hashes``."""
    return prove_many(hashes, [index])[0]


def prove_many(hashes: Sequence[bytes], indices: Iterable[int]) -> list[list[bytes]]:
    """Inclusion proofs for several leaves; the tree's levels are built once."""
    tree = merkle.MemoryTree(hashes)
    return [tree.inclusion_proof(i, tree.size) for i in indices]


def verify_item(root: bytes, count: int, index: int, salt: bytes, item: dict[str, Any],
                proof: Sequence[bytes]) -> None:
    """Check that ``item`` with ``salt`` is leaf ``index`` of the committed (root, count).

    Returns None on success; raises :class:`ProofError` otherwise, also when the item is not a
    valid manifest item (then it cannot have been committed by ``run commit``).
    """
    if type(salt) is not bytes or len(salt) != SALT_SIZE:
        raise ProofError(f"salt of item {index} is not {SALT_SIZE} bytes; take it from the opening file")
    try:
        data = canonical_item(item)
    except ReelrightsError as exc:
        raise ProofError(f"item {index} is not a valid manifest item ({exc.message})") from None
    merkle.verify_inclusion(leaf_hash(salt, data), index, count, proof, root)


# -- parallel root: pieces of the tree computed apart and joined ----------------------------------
def span_pieces(start: int, hashes: Sequence[bytes]) -> list[tuple[int, bytes]]:
    """Roots of the aligned perfect subtrees covering leaves ``[start, start+len(hashes))``.

    A worker that hashed a contiguous span of the manifest returns these; :func:`combine_pieces`
    joins the pieces of all spans, in order, into the root of the whole tree.
    """
    out = []
    for level, index in merkle.perfect_subtrees(start, start + len(hashes)):
        lo = (index << level) - start
        out.append((level, merkle.root_of(hashes[lo:lo + (1 << level)])))
    return out


def combine_pieces(pieces: Iterable[tuple[int, bytes]]) -> tuple[int, bytes]:
    """(count, root) from aligned perfect-subtree roots given left to right.

    Each piece of level ``l`` starts at a multiple of ``2**l``, so it merges into the right edge
    exactly as ``l`` consecutive leaf appends would (a compact range, RFC 9162 order).
    """
    stack: list[bytes] = []
    size = 0
    sha = _sha256
    for level, h in pieces:
        if size & ((1 << level) - 1):
            raise BadInput(f"piece of level {level} at leaf {size} is not aligned")
        s = size >> level
        while s & 1:
            h = sha(b"\x01" + stack.pop() + h).digest()
            s >>= 1
        stack.append(h)
        size += 1 << level
    if not stack:
        return 0, merkle.EMPTY_ROOT
    r = stack[-1]
    for h in reversed(stack[:-1]):
        r = sha(b"\x01" + h + r).digest()
    return size, r


# -- the opening file's header ---------------------------------------------------------------------
def opening_header(manifest_sha256: bytes, count: int) -> bytes:
    """The 56-byte header: magic, the manifest file's SHA-256, the item count (big-endian u64)."""
    if len(manifest_sha256) != 32:
        raise BadInput("manifest digest must be a raw 32-byte SHA-256")
    return OPENING_MAGIC + manifest_sha256 + struct.pack(">Q", count)


def parse_opening_header(data: bytes, what: str = "opening file") -> tuple[bytes, int]:
    """(manifest SHA-256, count) from the first :data:`OPENING_HEADER_SIZE` bytes."""
    if len(data) < OPENING_HEADER_SIZE or data[:16] != OPENING_MAGIC:
        raise BadInput(f"{what} is not a reelrights opening file; pass the file `run commit` wrote")
    (count,) = struct.unpack(">Q", data[48:56])
    return bytes(data[16:48]), count
