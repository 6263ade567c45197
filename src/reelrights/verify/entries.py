"""Verify a proof file's entries: each in the signed checkpoint, each signed by its actor's key.

:meth:`Verifier.verify` checks a :class:`~reelrights.verify.tlog_proof.TlogProof`, naming the
first thing that fails:

1. the checkpoint: the log's signature under the given log key, its origin, the witnesses'
   cosignatures and their number (:class:`~reelrights.verify.trust.LogTrust`);
2. every entry (the subject and each related one): its index lies in the checkpoint's tree and
   its RFC 9162 inclusion proof leads from ``SHA-256(0x00 || entry)`` to the checkpoint's root;
3. every entry is a well-formed v2 leaf (``{"entry": <signed statement>, "log": {"time"}}``), all
   of one registry;
4. every entry's Ed25519 signature verifies under its actor's key: the key its
   ``party.registered`` statement (a related entry, logged earlier) names
   (:func:`~reelrights.verify.keys.key_at`); a ``party.registered`` statement under its own key;
   the operator's under the log key (or the ``operator_key`` its ``registry.established`` names).

Entries already verified against the same checkpoint (the signers' key statements most bundles
carry) are remembered by (root, index, leaf hash), as the checkpoint is, so a run of bundles pays
for one signature each. A file whose related entries are the very tuple a file verified before
against the same tree carried (:meth:`TlogProof.parse` hands out one tuple per distinct text,
for files as :meth:`TlogProof.format` writes them) has only its subject checked, with the key
book those entries made: the same checks, in the same order, with the same words as checking
them all (tests/test_verify_fast_sets.py). No I/O: the inputs are the proof's bytes and the
keys.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from ..core._accel import fast_constructor
from ..core.key_history import KEY_TYPES
from ..core.merkle import leaf_hash
from ..core.statement_types import OPERATOR
from ..core.statements import SignedStatement, decode_entry, verify_entry_signature
from ..errors import ProofError, ReelrightsError, SignatureError, VerificationError
from .inclusion import NodeMemo
from .keys import KeyBook, key_at
from .tlog_proof import ProvenEntry, TlogProof
from .trust import LogTrust, TrustedCheckpoint

__all__ = ["VerifiedEntry", "VerifiedProof", "Verifier", "check_signature"]

_REMEMBER = 4096
_TREES = 16
#: A subject of these types teaches the key book something: its book is built afresh.
_BOOK_TYPES = frozenset(KEY_TYPES) | {"party.registered", "registry.established"}


@dataclass(frozen=True)
class VerifiedEntry:
    """An entry proven included in the checkpoint and signed by its actor."""

    index: int
    leaf_hash: bytes
    statement: SignedStatement

    @property
    def type(self) -> str:
        return self.statement.type

    @property
    def body(self) -> dict:  # type: ignore[type-arg]
        return self.statement.body

    def where(self) -> str:
        return f"entry {self.index} ({self.statement.type} by {self.statement.actor})"


@dataclass(frozen=True)
class VerifiedProof:
    """What a proof file proves: its subject, its related entries, the checkpoint."""

    checkpoint: TrustedCheckpoint
    subject: VerifiedEntry
    related: dict[int, VerifiedEntry]

    def all(self) -> list[VerifiedEntry]:
        return [self.subject, *(self.related[i] for i in sorted(self.related))]

    def of_type(self, type_name: str, **body: object) -> list[VerifiedEntry]:
        """The verified entries of ``type_name`` whose body holds every ``body`` item."""
        return [e for e in self.all() if e.type == type_name
                and all(e.body.get(k) == v for k, v in body.items())]

    def key_kind(self, actor: str) -> str | None:
        """The party kind ``actor`` registered with, when its key statement was given."""
        for e in self.all():
            if e.type == "party.registered" and e.statement.actor == actor:
                return str(e.body.get("kind"))
        return None


_new_verified_entry = fast_constructor(VerifiedEntry)
_new_verified_proof = fast_constructor(VerifiedProof)



class Verifier:
    """Verifies proof files against one :class:`LogTrust`, remembering what it verified.

    Per proof file it pays for one Ed25519 verify (the subject's signature) and the subject's
    own work: its leaf hash, the lower levels of its inclusion proof (the upper ones are
    remembered, :class:`~reelrights.verify.inclusion.NodeMemo`) and its decoding. The checkpoint
    (by the note's bytes), the related entries it verified (by root and entry) and the key book
    of a set of related entries are remembered."""

    def __init__(self, trust: LogTrust) -> None:
        self.trust = trust
        self._known: OrderedDict[tuple[bytes, ProvenEntry], VerifiedEntry] = OrderedDict()
        self._trees: dict[tuple[int, bytes], NodeMemo] = {}
        self._books: dict[tuple[int, ...], tuple[tuple[VerifiedEntry, ...], KeyBook]] = {}
        #: Related-entry tuples (the parser hands out one object per distinct tail) whose every
        #: entry verified in a file against a tree: (size, root, id) -> _KnownSet.
        self._sets: dict[tuple[int, bytes, int], _KnownSet] = {}

    def verify(self, proof: TlogProof) -> VerifiedProof:
        cp = self.trust.open(proof.checkpoint)
        related = proof.related
        subject = proof.subject
        if related:
            got = self._sets.get((cp.checkpoint.size, cp.checkpoint.root, id(related)))
            if got is not None and got.related is related and subject.index not in got.indices:
                fast = self._verify_subject(cp, got, subject)
                if fast is not None:
                    return fast
        return self._verify_all(cp, proof)

    def _verify_subject(self, cp: TrustedCheckpoint, got: _KnownSet,
                        subject: ProvenEntry) -> VerifiedProof | None:
        """The proof when its related entries are a set verified before against this tree:
        only the subject is checked (what :meth:`_verify_all` would check of it, in the same
        order, with the same words); None when the subject is one the general path must see
        (another registry than the set's, a type that teaches the key book)."""
        first = self._decode(self._tree(cp), subject, "subject")
        s = first.statement
        if s.registry != got.registry or s.type in _BOOK_TYPES:
            return None
        check_signature(got.book, first.index, s, "subject")
        return _new_verified_proof(cp, first, dict(got.by_index))

    def _verify_all(self, cp: TrustedCheckpoint, proof: TlogProof) -> VerifiedProof:
        root = cp.checkpoint.root
        related = proof.related
        subject = proof.subject
        if related:
            indices = {e.index for e in related}
            if len(indices) != len(related) or subject.index in indices:
                all_ = [subject.index, *(e.index for e in related)]
                dup = next(i for i in all_ if all_.count(i) > 1)
                raise VerificationError(f"entry {dup}: the proof lists this log index twice; "
                                        "ask the issuer again")
        tree = self._tree(cp)
        known = self._known
        first = self._decode(tree, subject, "subject")
        done: list[VerifiedEntry] = [first]
        fresh = [0]
        for k, e in enumerate(related, 1):
            hit = known.get((root, e))
            if hit is None:
                hit = self._decode(tree, e, "related")
                fresh.append(k)
            done.append(hit)
        registry = first.statement.registry
        for v in done:
            if v.statement.registry != registry:
                registries = {str(v.statement.registry) for v in done}
                raise VerificationError(f"the proof's entries name several registries "
                                        f"({', '.join(sorted(registries))})")
        book = self._book(done, len(fresh) == 1)
        for k in fresh:
            v = done[k]
            check_signature(book, v.index, v.statement, "related" if k else "subject")
        for k in fresh[1:]:  # remembered once all of the file verified
            self._remember((root, related[k - 1]), done[k])
        by_index = {v.index: v for v in done[1:]}
        if related and first.type not in _BOOK_TYPES:
            self._remember_set(cp, related, registry, book, by_index)
        return _new_verified_proof(cp, first, by_index)

    def _remember_set(self, cp: TrustedCheckpoint, related: tuple[ProvenEntry, ...],
                      registry: str | None, book: KeyBook, by_index: dict[int, VerifiedEntry]
                      ) -> None:
        """Remember that every entry of ``related`` verified against this tree, with the key
        book they make (the book of the related entries alone: the subject taught it
        nothing)."""
        if len(self._sets) >= _REMEMBER:
            self._sets.clear()
        self._sets[(cp.checkpoint.size, cp.checkpoint.root, id(related))] = _KnownSet(
            related, frozenset(by_index), registry, book, dict(by_index))

    def _tree(self, cp: TrustedCheckpoint) -> NodeMemo:
        key = (cp.checkpoint.size, cp.checkpoint.root)
        tree = self._trees.get(key)
        if tree is None:
            if len(self._trees) >= _TREES:
                self._trees.clear()
            tree = self._trees[key] = NodeMemo(*key)
        return tree

    def _decode(self, tree: NodeMemo, e: ProvenEntry, role: str) -> VerifiedEntry:
        """The entry, its inclusion proof checked and its statement decoded (not its signature)."""
        lh = leaf_hash(e.entry)
        if not 0 <= e.index < tree.size:
            raise ProofError(f"{role} entry {e.index}: outside the checkpoint's tree of size "
                             f"{tree.size}")
        try:
            tree.verify(lh, e.index, e.proof)
        except ReelrightsError as exc:
            raise ProofError(f"{role} entry {e.index}: its inclusion proof does not lead to the "
                             f"checkpoint's root (size {tree.size}): the entry or the proof was "
                             f"altered ({exc.message})") from None
        try:
            s = decode_entry(e.entry)
        except ReelrightsError as exc:
            raise VerificationError(f"{role} entry {e.index}: not a signed statement "
                                    f"({exc.message})") from None
        if s.registry is None or s.log_time is None:
            raise VerificationError(f"{role} entry {e.index}: a v1 entry; only v2 "
                                    "statements (with registry and log time) verify here")
        return _new_verified_entry(e.index, lh, s)

    def _book(self, done: list[VerifiedEntry], only_subject: bool) -> KeyBook:
        """The key book of ``done``; that of the related entries is remembered (the same
        signers' key statements come with many subjects) when the subject adds no key."""
        if not only_subject or done[0].type in _BOOK_TYPES:
            return _key_book(self.trust, [(v.index, v.statement) for v in done])
        related = tuple(done[1:])
        key = tuple(map(id, related))
        hit = self._books.get(key)
        if hit is None or hit[0] != related:
            if len(self._books) >= _REMEMBER:
                self._books.clear()
            hit = self._books[key] = (related, _key_book(self.trust, [(v.index, v.statement)
                                                                      for v in related]))
        return hit[1]

    def _remember(self, key: tuple[bytes, ProvenEntry], v: VerifiedEntry) -> None:
        self._known[key] = v
        if len(self._known) > _REMEMBER:
            self._known.popitem(last=False)  # O(1); deleting a plain dict's first key is not


@dataclass(frozen=True, slots=True)
class _KnownSet:
    """Related entries that verified together against one tree (kept, so ``id`` is theirs)."""

    related: tuple[ProvenEntry, ...]
    indices: frozenset[int]
    registry: str | None
    book: KeyBook
    by_index: dict[int, VerifiedEntry]


def _key_book(trust: LogTrust, entries: Iterable[tuple[int, SignedStatement]]) -> KeyBook:
    book = KeyBook(trust.log.public_key)
    for index, s in sorted(entries, key=lambda p: p[0]):
        if s.type == "registry.established" and s.body.get("log_key", "").strip() != \
                trust.log.vkey:
            raise VerificationError(f"entry {index}: the registry.established statement names "
                                    "another log key than the one given")
        book.learn(index, s)
    return book


def check_signature(book: KeyBook, index: int, s: SignedStatement, role: str = "") -> None:
    """The entry's signature under its actor's key at ``index`` (SignatureError naming it)."""
    role = f"{role} " if role else ""
    if s.type == "party.registered":
        if s.body.get("id") != s.actor:
            raise SignatureError(f"{role}entry {index}: a party.registered statement for "
                                 f"{s.body.get('id')} signed by {s.actor}")
        keys = [base64.b64decode(s.body["public_key"])]
    elif s.type == "registry.established":
        keys = [book.log_key]  # always the log's own key, whatever operator_key it names
    else:
        keys = key_at(book, s.actor, index, s.key_seq, s.type, s.log_time)
    last: SignatureError | None = None
    for pk in keys:
        try:
            verify_entry_signature(s, pk)
            return
        except SignatureError as exc:
            last = exc
    who = "the operator" if s.actor == OPERATOR else s.actor
    raise SignatureError(f"{role}entry {index} ({s.type}): the signature does not verify under "
                         f"{who}'s key ({last.message if last else 'no key'})")
