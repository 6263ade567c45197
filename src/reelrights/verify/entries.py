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
for one signature each. No I/O: the inputs are the proof's bytes and the keys.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from ..core.merkle import leaf_hash, verify_inclusion
from ..core.statement_types import OPERATOR
from ..core.statements import SignedStatement, decode_entry, verify_entry_signature
from ..errors import ProofError, ReelrightsError, SignatureError, VerificationError
from .keys import KeyBook, key_at
from .tlog_proof import ProvenEntry, TlogProof
from .trust import LogTrust, TrustedCheckpoint

__all__ = ["VerifiedEntry", "VerifiedProof", "Verifier", "check_signature"]

_REMEMBER = 4096


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


class Verifier:
    """Verifies proof files against one :class:`LogTrust`, remembering what it verified."""

    def __init__(self, trust: LogTrust) -> None:
        self.trust = trust
        self._known: OrderedDict[tuple[bytes, ProvenEntry], VerifiedEntry] = OrderedDict()

    def verify(self, proof: TlogProof) -> VerifiedProof:
        cp = self.trust.open(proof.checkpoint)
        root = cp.checkpoint.root
        entries = proof.entries()
        indices = [e.index for e in entries]
        if len(set(indices)) != len(indices):
            dup = next(i for i in indices if indices.count(i) > 1)
            raise VerificationError(f"entry {dup}: the proof lists this log index twice; ask "
                                    "the issuer again")
        known = self._known
        out: list[VerifiedEntry | None] = []
        fresh: list[tuple[int, VerifiedEntry]] = []
        for k, e in enumerate(entries):
            hit = known.get((root, e))
            if hit is not None:
                out.append(hit)
                continue
            role = "subject" if k == 0 else "related"
            lh = leaf_hash(e.entry)
            _include(cp, e, lh, role)
            try:
                s = decode_entry(e.entry)
            except ReelrightsError as exc:
                raise VerificationError(f"{role} entry {e.index}: not a signed statement "
                                        f"({exc.message})") from None
            if s.registry is None or s.log_time is None:
                raise VerificationError(f"{role} entry {e.index}: a v1 entry; only v2 "
                                        "statements (with registry and log time) verify here")
            v = VerifiedEntry(e.index, lh, s)
            out.append(v)
            fresh.append((k, v))
        done = [v for v in out if v is not None]
        registries = {v.statement.registry for v in done}
        if len(registries) != 1:
            raise VerificationError(f"the proof's entries name several registries "
                                    f"({', '.join(sorted(map(str, registries)))})")
        if fresh:
            book = _key_book(self.trust, [(v.index, v.statement) for v in done])
            for k, v in fresh:
                check_signature(book, v.index, v.statement, "subject" if k == 0 else "related")
                self._remember((root, entries[k]), v)
        return VerifiedProof(cp, done[0], {v.index: v for v in done[1:]})

    def _remember(self, key: tuple[bytes, ProvenEntry], v: VerifiedEntry) -> None:
        self._known[key] = v
        if len(self._known) > _REMEMBER:
            self._known.popitem(last=False)  # O(1); deleting a plain dict's first key is not


def _include(cp: TrustedCheckpoint, e: ProvenEntry, lh: bytes, role: str) -> None:
    size = cp.checkpoint.size
    if not 0 <= e.index < size:
        raise ProofError(f"{role} entry {e.index}: outside the checkpoint's tree of size {size}")
    try:
        verify_inclusion(lh, e.index, size, list(e.proof), cp.checkpoint.root)
    except ReelrightsError as exc:
        raise ProofError(f"{role} entry {e.index}: its inclusion proof does not lead to the "
                         f"checkpoint's root (size {size}): the entry or the proof was altered "
                         f"({exc.message})") from None


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
