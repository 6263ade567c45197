"""The signer's own copy of each sealed body (the second source of truth), and copies sealed to
the parties entitled to read them.

A home that signs a sealed statement keeps its submission (``{"sealed_body": [...],
"signed": <envelope>}``, the same bytes it sends the registry) in ``HOME/sealed/<id>.json``,
mode 0600, before it submits. :func:`home_source` serves those copies to a replay (a replica's
sync, a rebuild). :func:`encrypt_for` seals a copy to one party with libsodium's sealed box,
to the X25519 key converted from the party's registered Ed25519 key; only that party's private
key opens it (:func:`decrypt_with`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from nacl.bindings import crypto_sign_ed25519_pk_to_curve25519, crypto_sign_ed25519_sk_to_curve25519
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey
from sqlalchemy import select

from ..core.sealed import Leaf, SealedEntry, parse_submission
from ..core.statements import decode_entry
from ..errors import BadInput, NotFound, VerificationError
from ..home import Home
from ..store.db import Database
from ..store.tables import parties
from .store import BodySource

__all__ = ["copy_path", "decrypt_with", "encrypt_for", "forget_own_copy", "home_source",
           "keep_own_copy", "read_own_copy"]

_ID_OK = frozenset("abcdefghijklmnopqrstuvwxyz234567_")


def copy_path(home: Home, statement_id: str) -> Path:
    if not set(statement_id) <= _ID_OK or not statement_id.startswith("stm_"):
        raise BadInput(f"{statement_id!r} is not a statement id like stm_k3vq7xw2m4a6c5de")
    return home.path / "sealed" / f"{statement_id}.json"


def keep_own_copy(home: Home, entry: SealedEntry) -> Path:
    """Write the home's copy of a sealed submission (0600, written whole or not at all)."""
    s = decode_entry(bytes(entry))
    assert s.id is not None
    path = copy_path(home, s.id)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(entry.submission() + b"\n")
    os.replace(tmp, path)
    return path


def forget_own_copy(home: Home, statement_id: str) -> None:
    """Delete the home's copy (a refused submission; an erasure)."""
    with contextlib.suppress(FileNotFoundError):
        copy_path(home, statement_id).unlink()


def read_own_copy(home: Home, statement_id: str) -> SealedEntry | None:
    """The home's copy of a sealed statement, or None."""
    try:
        data = copy_path(home, statement_id).read_bytes()
    except FileNotFoundError:
        return None
    entry = parse_submission(data.strip())
    if not isinstance(entry, SealedEntry):
        raise BadInput(f"{copy_path(home, statement_id)} is not a sealed submission")
    return entry


def home_source(home: Home) -> BodySource:
    """The openings of the home's own (and received) copies, for a replay."""
    def source(statement_id: str) -> Sequence[Leaf] | None:
        try:
            entry = read_own_copy(home, statement_id)
        except BadInput:
            return None
        return None if entry is None else entry.leaves
    return source


def folder_source(folder: Path) -> BodySource:
    """The openings of the sealed submissions in ``folder`` (``<statement id>.json`` each)."""
    def source(statement_id: str) -> Sequence[Leaf] | None:
        if not set(statement_id) <= _ID_OK:
            return None
        try:
            entry = parse_submission((folder / f"{statement_id}.json").read_bytes().strip())
        except (FileNotFoundError, BadInput):
            return None
        return entry.leaves if isinstance(entry, SealedEntry) else None
    return source


def body_source_at(where: str) -> BodySource:
    """A body source named on the command line: a database URL (a sealed body store) or a
    folder of sealed submissions."""
    if "://" in where:
        from ..store.db import Database
        from .store import stored_leaves

        db = Database(where)

        def source(statement_id: str) -> Sequence[Leaf] | None:
            with db.read() as conn:
                return stored_leaves(conn, statement_id)
        return source
    folder = Path(where)
    if not folder.is_dir():
        raise NotFound(f"--bodies {where}: no such folder; pass a database URL or a folder "
                       "of sealed copies (HOME/sealed)")
    return folder_source(folder)


def encrypt_for(party_public_key: bytes, data: bytes) -> bytes:
    """``data`` in a sealed box only the holder of the Ed25519 key ``party_public_key`` opens."""
    return SealedBox(PublicKey(crypto_sign_ed25519_pk_to_curve25519(party_public_key))).encrypt(
        data)


def decrypt_with(seed: bytes, box: bytes) -> bytes:
    """Open a sealed box made by :func:`encrypt_for` with the party's Ed25519 private seed."""
    signing = SigningKey(seed)
    secret = crypto_sign_ed25519_sk_to_curve25519(bytes(signing) + bytes(signing.verify_key))
    try:
        return SealedBox(PrivateKey(secret)).decrypt(box)
    except CryptoError:
        raise VerificationError("this sealed copy is not for this key, or it was altered") \
            from None


def copy_for(home: Home, db: Database, ref: str, party: str) -> tuple[str, str, bytes]:
    """(statement id, party id, sealed box) of this home's copy of sealed statement ``ref``,
    encrypted to ``party``'s registered key."""
    from ..registry.resolve import resolve_party
    from .disclose import find_sealed

    with db.read() as conn:
        _, s = find_sealed(conn, ref)
        pid = resolve_party(conn, party).id
        key = bytes(conn.execute(select(parties.c.public_key)
                                 .where(parties.c.id == pid)).scalar_one())
    assert s.id is not None
    entry = read_own_copy(home, s.id)
    if entry is None:
        raise missing(s.id)
    return s.id, pid, encrypt_for(key, entry.submission())


def missing(statement_id: str) -> NotFound:
    return NotFound(f"this home holds no sealed body for {statement_id}")
