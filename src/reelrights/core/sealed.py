"""Sealed statements: private fields committed by a Merkle root of salted leaves (pure, no I/O).

A statement type declares its private fields (:attr:`StatementType.sealed`), some of them lists
sealed row by row (:attr:`StatementType.sealed_rows`). A **sealed** statement carries its public
fields in clear in ``body`` and, in place of the private ones, ``"sealed": {"alg": ALG,
"root": <64 hex>}`` in the v2 envelope, which the party signs. The private fields travel
beside the signed statement as an **opening**: one leaf per private field and one per row::

    leaf  = {"path": "/body/policy", "salt": <base64url, 32 bytes>, "value": <the field>}
    hash  = SHA-256("reelrights/sealed/v1\\n" || salt || JCS({"path": path, "value": value}))
    root  = RFC 9162 Merkle tree hash over the leaf hashes, inner nodes SHA-256(0x01 || l || r)

The leaf binds its path (SD-JWT's disclosures bind the claim name the same way), so a value
cannot be moved to another field or another row. A row-sealed list with rows opens as one leaf
per row (``/body/rows/0``, ``/body/rows/1``, ...); an empty one as one leaf ``/body/rows``
holding ``[]``. Leaves stand in a fixed order: the type's sealed fields in declaration order,
each row in row order. The domain prefix's first byte (``r``) differs from the inner nodes'
``0x01``, so a leaf hash is never mistaken for a node.

A **disclosure** is a subset of leaves, each with its index, the tree size and its inclusion
proof: anyone holding the signed statement checks each disclosed value against the signed root
without seeing the rest (:func:`verify_leaves`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidStatement, VerificationError
from .canonical import canonical_bytes
from .merkle import MemoryTree, root_from_inclusion_proof, root_of

__all__ = ["ALG", "LEAF_CONTEXT", "SALT_BYTES", "DisclosedLeaf", "Leaf", "SealedEntry", "Sealing",
           "check_sealed_member", "disclose", "leaf_paths", "open_sealed", "parse_opening",
           "parse_submission", "root_of_leaves",
           "seal_body", "verify_leaves"]

#: The ``alg`` of a sealed member: this module's leaf and tree rules.
ALG = "reelrights/sealed/v1"
LEAF_CONTEXT = b"reelrights/sealed/v1\n"
SALT_BYTES = 32
#: At most this many leaves in one statement (rows included).
MAX_LEAVES = 4096
_HEX64 = re.compile(r"[0-9a-f]{64}")
_B64URL = re.compile(r"[A-Za-z0-9_-]{43}")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _salt_from(text: Any, pointer: str) -> bytes:
    if type(text) is not str or not _B64URL.fullmatch(text):
        raise InvalidStatement("must be the unpadded base64url of a 32-byte salt", pointer)
    try:
        raw = base64.urlsafe_b64decode(text + "=")
    except (binascii.Error, ValueError):
        raise InvalidStatement("must be the unpadded base64url of a 32-byte salt",
                               pointer) from None
    if len(raw) != SALT_BYTES or _b64url(raw) != text:  # one spelling per salt
        raise InvalidStatement("must be the canonical unpadded base64url of a 32-byte salt",
                               pointer)
    return raw


@dataclass(frozen=True)
class Leaf:
    """One private field or row: where it stands in the body, its value and its salt."""

    path: str
    value: Any
    salt: bytes

    def digest(self) -> bytes:
        """``SHA-256(LEAF_CONTEXT || salt || JCS({"path": path, "value": value}))``."""
        return hashlib.sha256(LEAF_CONTEXT + self.salt + canonical_bytes(
            {"path": self.path, "value": self.value})).digest()

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "salt": _b64url(self.salt), "value": self.value}

    @classmethod
    def from_json(cls, doc: Any, pointer: str) -> Leaf:
        if type(doc) is not dict or not {"path", "salt", "value"} <= doc.keys():
            raise InvalidStatement("must be a leaf {path, salt, value}", pointer)
        if type(doc["path"]) is not str or not doc["path"].startswith("/body/"):
            raise InvalidStatement("must be a /body/... path", f"{pointer}/path")
        return cls(doc["path"], doc["value"], _salt_from(doc["salt"], f"{pointer}/salt"))


def root_of_leaves(leaves: Sequence[Leaf]) -> bytes:
    """The RFC 9162 tree hash over the leaves' digests."""
    return root_of([leaf.digest() for leaf in leaves])


def leaf_paths(body: dict[str, Any], fields: Sequence[str], rows: Sequence[str]) -> list[str]:
    """The paths of the leaves that seal ``fields`` of ``body`` (absent fields: none), in
    order; ``rows`` are the fields sealed row by row."""
    out: list[str] = []
    for name in fields:
        if name not in body:
            continue
        value = body[name]
        if name in rows and type(value) is list and value:
            out.extend(f"/body/{name}/{i}" for i in range(len(value)))
        else:
            out.append(f"/body/{name}")
    return out


@dataclass(frozen=True)
class Sealing:
    """What :func:`seal_body` makes: the public body, the envelope's ``sealed`` member, and the
    opening (every leaf, in order) that travels beside the signed statement."""

    public_body: dict[str, Any]
    sealed: dict[str, str]
    leaves: tuple[Leaf, ...]

    def opening_json(self) -> list[dict[str, Any]]:
        return [leaf.to_json() for leaf in self.leaves]


def seal_body(body: dict[str, Any], fields: Sequence[str], rows: Sequence[str] = (), *,
              salt: Callable[[int], bytes] = os.urandom) -> Sealing:
    """Split ``body`` into its public part and salted leaves over its private ``fields``.

    The signer calls this (its own random salts: ``salt`` is for the known-answer vectors)."""
    leaves: list[Leaf] = []
    for path in leaf_paths(body, fields, rows):
        parts = path.split("/")[2:]
        value = body[parts[0]] if len(parts) == 1 else body[parts[0]][int(parts[1])]
        s = salt(SALT_BYTES)
        if len(s) != SALT_BYTES:
            raise ValueError(f"a salt is {SALT_BYTES} bytes")
        leaves.append(Leaf(path, value, s))
    if not leaves:
        raise InvalidStatement("this body has none of its type's private fields; sign it "
                               "without sealing", "/statement/body")
    public = {k: v for k, v in body.items() if k not in fields}
    return Sealing(public, {"alg": ALG, "root": root_of_leaves(leaves).hex()}, tuple(leaves))


def check_sealed_member(sealed: Any) -> bytes:
    """The root of a well-formed ``sealed`` member ``{"alg": ALG, "root": <64 hex>}``."""
    if (type(sealed) is not dict or sealed.keys() != {"alg", "root"}
            or type(sealed["root"]) is not str or not _HEX64.fullmatch(sealed["root"])):
        raise InvalidStatement(f'must be {{"alg": "{ALG}", "root": <64 lowercase hex>}}',
                               "/statement/sealed")
    if sealed["alg"] != ALG:
        raise InvalidStatement(f"unknown sealing {sealed['alg']!r}; this registry knows {ALG}",
                               "/statement/sealed/alg")
    return bytes.fromhex(sealed["root"])


def parse_opening(doc: Any, pointer: str = "/sealed_body") -> list[Leaf]:
    """An opening's JSON (a list of leaves) as leaves; refuses malformed ones with a pointer."""
    if type(doc) is not list or not 1 <= len(doc) <= MAX_LEAVES:
        raise InvalidStatement(f"must be a list of 1 to {MAX_LEAVES} leaves", pointer)
    return [Leaf.from_json(item, f"{pointer}/{i}") for i, item in enumerate(doc)]


def open_sealed(public_body: dict[str, Any], sealed: Any, leaves: Sequence[Leaf],
                fields: Sequence[str], rows: Sequence[str] = ()) -> dict[str, Any]:
    """The full body of a sealed statement from its public body and its opening.

    Refuses (naming what) an opening that does not hash to the signed root, a leaf out of
    place, and a public body that states a private field in clear."""
    root = check_sealed_member(sealed)
    for name in fields:
        if name in public_body:
            raise InvalidStatement(f"{name} is a private field of this type: seal it, do not "
                                   "state it in clear", f"/statement/body/{name}")
    if not leaves:
        raise InvalidStatement("a sealed statement needs its opening (its private fields and "
                               "salts)", "/sealed_body")
    if root_of_leaves(leaves) != root:
        raise VerificationError("the sealed body does not match the signed root: its fields, "
                                "salts or order differ from what the party signed")
    full = dict(public_body)
    listed: dict[str, list[Any]] = {}
    for i, leaf in enumerate(leaves):
        parts = leaf.path.split("/")[2:]
        name = parts[0]
        if name not in fields or len(parts) > 2 or (len(parts) == 2 and name not in rows):
            raise InvalidStatement(f"{leaf.path} is not a private field of this type",
                                   f"/sealed_body/{i}/path")
        if len(parts) == 1:
            if name in full or name in listed:
                raise InvalidStatement(f"{leaf.path} is opened twice", f"/sealed_body/{i}/path")
            if name in rows and leaf.value != []:
                raise InvalidStatement(f"{leaf.path} is sealed row by row; only an empty list "
                                       "stands as one leaf", f"/sealed_body/{i}/path")
            full[name] = leaf.value
            continue
        got = listed.setdefault(name, [])
        if name in full or parts[1] != str(len(got)):
            raise InvalidStatement(f"{leaf.path} is out of place: rows stand in order from 0",
                                   f"/sealed_body/{i}/path")
        got.append(leaf.value)
    full.update(listed)
    if leaf_paths(full, fields, rows) != [leaf.path for leaf in leaves]:
        raise InvalidStatement("the sealed body's leaves must follow the type's field order "
                               f"({', '.join(fields)}), rows in order", "/sealed_body")
    return full


@dataclass(frozen=True)
class DisclosedLeaf:
    """A leaf shown to someone: the leaf, its index among ``size`` leaves and its proof."""

    leaf: Leaf
    index: int
    size: int
    proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {**self.leaf.to_json(), "index": self.index, "size": self.size,
                "proof": [h.hex() for h in self.proof]}

    @classmethod
    def from_json(cls, doc: Any, pointer: str) -> DisclosedLeaf:
        leaf = Leaf.from_json(doc, pointer)
        index, size, proof = doc.get("index"), doc.get("size"), doc.get("proof")
        if type(size) is not int or not 1 <= size <= MAX_LEAVES:
            raise InvalidStatement(f"must be the number of leaves (1 to {MAX_LEAVES})",
                                   f"{pointer}/size")
        if type(index) is not int or not 0 <= index < size:
            raise InvalidStatement("must be the leaf's index, below size", f"{pointer}/index")
        if (type(proof) is not list or len(proof) > 16
                or any(type(h) is not str or not _HEX64.fullmatch(h) for h in proof)):
            raise InvalidStatement("must be the inclusion proof: a list of 64-hex hashes",
                                   f"{pointer}/proof")
        return cls(leaf, index, size, tuple(bytes.fromhex(h) for h in proof))


def disclose(leaves: Sequence[Leaf], paths: Sequence[str]) -> list[DisclosedLeaf]:
    """The leaves at ``paths`` (a field's path discloses all its rows), with their proofs."""
    tree = MemoryTree(leaf.digest() for leaf in leaves)
    out = []
    wanted = set(paths)
    found: set[str] = set()
    for i, leaf in enumerate(leaves):
        field = "/".join(leaf.path.split("/")[:3])
        for hit in (leaf.path, field):
            if hit in wanted:
                found.add(hit)
                out.append(DisclosedLeaf(leaf, i, len(leaves), tuple(tree.inclusion_proof(i))))
                break
    missing = sorted(wanted - found)
    if missing:
        known = ", ".join(leaf.path for leaf in leaves)
        raise InvalidStatement(f"no sealed field {', '.join(missing)} in this statement "
                               f"(its sealed paths: {known})", "--fields")
    return out


def verify_leaves(sealed: Any, disclosed: Sequence[DisclosedLeaf]) -> list[Leaf]:
    """Check each disclosed leaf against the signed ``sealed`` member; return the leaves.

    Raises :class:`VerificationError` naming the first leaf whose value, salt, path, index or
    proof does not lead to the signed root."""
    root = check_sealed_member(sealed)
    if not disclosed:
        raise VerificationError("the disclosure holds no leaf")
    sizes = {d.size for d in disclosed}
    if len(sizes) != 1:
        raise VerificationError("the disclosed leaves name different tree sizes")
    seen: set[int] = set()
    for d in disclosed:
        if d.index in seen:
            raise VerificationError(f"leaf {d.index} is disclosed twice")
        seen.add(d.index)
        try:
            got = root_from_inclusion_proof(d.leaf.digest(), d.index, d.size, d.proof)
        except VerificationError as exc:
            raise VerificationError(f"disclosed field {d.leaf.path} (leaf {d.index}): its "
                                    f"proof is malformed ({exc})") from None
        if got != root:
            raise VerificationError(
                f"disclosed field {d.leaf.path} (leaf {d.index}) does not match the signed "
                "root: its value, salt, path or proof was changed")
    return [d.leaf for d in disclosed]


class SealedEntry(bytes):
    """A signed sealed statement (its exact envelope bytes) carrying its opening beside it, on
    its way from the signer to the registry: the leaves travel with the entry through every
    layer that passes entries along (the service's intake and coalescer, the ledger), and only
    the bytes are logged."""

    leaves: tuple[Leaf, ...]

    def __new__(cls, entry: bytes, leaves: Sequence[Leaf]) -> SealedEntry:
        self = super().__new__(cls, entry)
        self.leaves = tuple(leaves)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (SealedEntry, (bytes(self), self.leaves))

    def submission(self) -> bytes:
        """The submission's wire form: ``JCS({"sealed_body": [leaves], "signed": <envelope
        text>})``, one line (docs/sealed.md)."""
        return canonical_bytes({"sealed_body": [leaf.to_json() for leaf in self.leaves],
                                "signed": bytes(self).decode("utf-8")})


_SUBMISSION_HEAD = b'{"sealed_body":'


def parse_submission(data: bytes) -> bytes:
    """One submitted line: a signed envelope as it is, or a sealed submission (its envelope as a
    :class:`SealedEntry` carrying its opening)."""
    if not data.startswith(_SUBMISSION_HEAD):
        return data
    from .canonical import load_json

    doc = load_json(data, what="sealed submission")
    if type(doc) is not dict or doc.keys() != {"sealed_body", "signed"} \
            or type(doc["signed"]) is not str:
        raise InvalidStatement('a sealed submission is {"sealed_body": [leaves], "signed": '
                               "<the signed statement as a JSON string>}")
    return SealedEntry(doc["signed"].encode("utf-8"), parse_opening(doc["sealed_body"]))
