"""Steps 1 and 2: decode each entry, find the keys already known, start the signature checks.

Two ways to decode a batch. :func:`decode_batch` checks each entry in full in the calling thread
(canonical RFC 8785 bytes, envelope shape, at most 65,535 bytes, the body against its type) and
stops at the first refusal. :func:`read_batch` only parses (:func:`~reelrights.core.statements.read_entry`,
unchecked), for a road on which worker processes check every entry in full before the commit.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn

from ..catalogue import check_body, lookup
from ..core.sealed import Leaf, open_sealed
from ..core.statement_types import StatementType
from ..core.statements import SignedStatement, decode_entry, read_entry
from ..errors import InvalidStatement, ReelrightsError
from ..log.workers import check_signatures

__all__ = ["Decoded", "check_signatures", "decode_batch", "raise_at", "read_batch"]


@dataclass(slots=True)
class Decoded:
    """A decoded batch, before the write lock is taken."""

    entries: Sequence[bytes]
    stmts: list[SignedStatement] = field(default_factory=list)
    #: The first entry that failed to decode or to fit its type: (position, error).
    refused: tuple[int, ReelrightsError] | None = None
    #: Positions whose actor's key was known (or carried in the body), and those keys.
    known: list[int] = field(default_factory=list)
    keys: list[bytes] = field(default_factory=list)
    #: Positions whose actor's key is not known yet: resolved under the lock.
    pending: list[int] = field(default_factory=list)
    #: Whether the batch registers parties (their keys then serve the rest of the batch).
    registers: bool = False

    def raise_refusal(self) -> None:
        """Raise the first entry's refusal, naming its position (if any entry was refused)."""
        if self.refused is not None:
            pos, exc = self.refused
            raise_at(pos, len(self.entries), exc)


def decode_batch(entries: Sequence[bytes], known: dict[str, bytes],
                 rotated: dict[tuple[str, int], bytes] | None = None) -> Decoded:
    """Decode and type-check every entry, and find the keys that are already known: ``known``
    by signer for key seq 0, ``rotated`` by (actor, seq) for keys declared later.

    This runs in the calling thread: it holds the GIL throughout, so threads would only add
    switching. The signatures are checked elsewhere (:func:`check_signatures`).
    """
    out = Decoded(entries)
    stmts = out.stmts
    for i, entry in enumerate(entries):
        try:
            s, t = decode_one(entry)
        except ReelrightsError as exc:
            out.refused = (i, exc)  # the first refusal wins; the rest of the batch is moot
            return out
        if s.log_time is not None:
            out.refused = (i, InvalidStatement(
                "this is a log leaf, not a signed statement: submit the signed statement "
                '(the value of "entry"); the log writes its own time'))
            return out
        stmts.append(s)
        key: bytes | None
        if t.key_field is not None:
            out.registers = True
            key = base64.b64decode(s.body[t.key_field])
        elif s.key_seq:
            key = None if rotated is None else rotated.get((s.actor, s.key_seq))
        else:
            key = known.get(signer_of(s))
        if key is None:
            out.pending.append(i)
        else:
            out.known.append(i)
            out.keys.append(key)
    return out


def decode_one(entry: bytes) -> tuple[SignedStatement, StatementType]:
    """Decode one entry and check its body against its type. A sealed statement is opened with
    the leaves its :class:`~reelrights.core.sealed.SealedEntry` carries: the leaves must hash to
    the signed root, and the full body (what the appliers see) must fit the type."""
    s = decode_entry(entry)
    leaves = getattr(entry, "leaves", None)
    if s.sealed is None:
        if leaves is not None:
            raise InvalidStatement("this statement is not sealed; submit it without a sealed "
                                   "body", "/sealed_body")
        return s, check_body(s.type, s.version, s.body, s.actor)
    t = check_body(s.type, s.version, s.body, s.actor, sealed=True)
    if leaves is None:
        raise InvalidStatement("this statement is sealed: submit its private fields and salts "
                               'beside it ({"sealed_body": [...], "signed": ...}; '
                               "docs/sealed.md)", "/sealed_body")
    return open_sealed_statement(s, leaves), t


def open_sealed_statement(s: SignedStatement, leaves: Sequence[Leaf]) -> SignedStatement:
    """``s`` (sealed, its public body checked) with its full body, opened from ``leaves``:
    they must hash to the signed root, and the full body must fit the type."""
    t = lookup(s.type, s.version)
    full = open_sealed(s.body, s.sealed, leaves, t.sealed, t.sealed_rows)
    check_body(s.type, s.version, full, s.actor)
    return replace(s, body=full)


_UNSEEN = object()

#: Where a key book keeps the log's own key: ``registry.established`` is always signed with it,
#: whatever key the operator's other statements use (never an actor: ids have no NUL).
LOG_SIGNER = "\x00log"


def signer_of(s: SignedStatement) -> str:
    """Whose key checks ``s``: its actor's, or the log's for the registry's establishment."""
    return LOG_SIGNER if s.type == "registry.established" else s.actor


def read_batch(entries: Sequence[bytes], known: dict[str, bytes],
               rotated: dict[tuple[str, int], bytes] | None = None) -> Decoded:
    """Parse every entry WITHOUT checking it, and find the keys already known.

    For a road whose workers check every entry in full before the commit: anything odd here
    raises (whatever the parser raises), which means "take the ordinary road".
    """
    out = Decoded(entries)
    stmts, known_pos, known_keys, pending = out.stmts, out.known, out.keys, out.pending
    key_fields: dict[tuple[str, int], Any] = {}
    for i, entry in enumerate(entries):
        s = read_entry(entry)
        if s.sealed is not None:  # opened against its root on the ordinary road only
            raise ValueError("a sealed statement takes the ordinary road")
        kind = (s.type, s.version)
        key_field = key_fields.get(kind, _UNSEEN)
        if key_field is _UNSEEN:
            key_field = key_fields[kind] = lookup(*kind).key_field
        key: bytes | None
        if key_field is not None:
            out.registers = True
            key = base64.b64decode(s.body[key_field])
        elif s.key_seq:
            key = None if rotated is None else rotated.get((s.actor, s.key_seq))
        else:
            key = known.get(signer_of(s))
        if key is None:
            pending.append(i)
        else:
            known_pos.append(i)
            known_keys.append(key)
        stmts.append(s)
    return out


def raise_at(pos: int, total: int, exc: ReelrightsError) -> NoReturn:
    """Raise ``exc``; in a batch of several, its message names the statement's position."""
    if total > 1:
        exc.message = f"statement {pos + 1} of {total}: {exc.message}"
        exc.args = (exc.message,)
    raise exc


def raising_at(pos: int, total: int, fn: Callable[[], Any]) -> Any:
    """Run ``fn``; if it fails in a batch of several, say which statement it was."""
    try:
        return fn()
    except ReelrightsError as exc:
        raise_at(pos, total, exc)
