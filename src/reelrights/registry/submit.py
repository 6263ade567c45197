"""Submitting on a party's behalf: check a statement's body, sign it with a key this home holds
(a party's, or the operator's log key) and submit it to the ledger.

Every capability's commands end here: they build a body and hand it to :func:`submit_as` (the
party whose key lives in the home) or :func:`submit_as_operator` (the registry's operator).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..catalogue import check_body
from ..core.sealed import SealedEntry, seal_body
from ..core.statement_types import OPERATOR
from ..core.statements import decode_entry, sign_statement
from ..errors import BadInput, ReelrightsError
from ..home import Home
from ..keys import PartyKey, load_key_file
from ..ledger import Ledger, Receipt

__all__ = ["archive_party_key", "next_key_path", "operator_signing_key", "sign_and_submit",
           "sign_sealed", "signing_key", "submit_as", "submit_as_operator"]


def sign_and_submit(ledger: Ledger, key: PartyKey, type_: str, actor: str,
                    body: dict[str, Any]) -> Receipt:
    """Sign the statement with ``key`` and submit it; the body is checked first, so nothing bad
    is ever signed. The statement names ``key``'s number among the actor's keys."""
    statement = ledger.new_statement(type_, actor, body, signer=key.public_key_bytes)
    check_body(type_, 1, body, actor)  # refuse bad input before anything is signed
    return ledger.submit([sign_statement(statement, key)])[0]


def submit_as(home: Home, ledger: Ledger, type_: str, actor: str, body: dict[str, Any], *,
              sealed: bool = False) -> Receipt:
    """Check ``body``, sign the statement with ``actor``'s key from the home, and submit it: what
    every capability's commands do for the party whose key lives in this home. ``sealed``: seal
    the type's private fields (docs/sealed.md; :func:`sign_sealed`)."""
    check_body(type_, 1, body, actor)  # refuse bad input before the key is even read
    if not sealed:
        return sign_and_submit(ledger, signing_key(home, ledger, actor), type_, actor, body)
    entry = sign_sealed(ledger, signing_key(home, ledger, actor), type_, actor, body)
    from ..sealed.copies import forget_own_copy, keep_own_copy

    keep_own_copy(home, entry)  # the signer's copy first: the registry's is the second
    try:
        return ledger.submit([entry])[0]
    except ReelrightsError:
        forget_own_copy(home, decode_entry(bytes(entry)).id or "")
        raise


def sign_sealed(ledger: Ledger, key: PartyKey, type_: str, actor: str,
                body: dict[str, Any]) -> SealedEntry:
    """Seal ``body``'s private fields with fresh salts, sign the sealed form and return it with
    its opening (what is submitted). The full body is checked first."""
    t = check_body(type_, 1, body, actor)
    if not t.sealed:
        raise BadInput(f"{type_} has no private fields to seal; submit it in clear")
    sealing = seal_body(body, t.sealed, t.sealed_rows)
    statement = ledger.new_statement(type_, actor, sealing.public_body, sealed=sealing.sealed,
                                     signer=key.public_key_bytes)
    return SealedEntry(sign_statement(statement, key), sealing.leaves)


def next_key_path(home: Home, party: str) -> Path:
    """Where a home keeps the key a party asked to rotate to, until it is in force."""
    return home.keys_dir / f"{party}.next.pem"


def signing_key(home: Home, ledger: Ledger, party: str) -> PartyKey:
    """The home's key for ``party`` that is in force now (docs/keys.md): ``keys/<party>.pem``,
    or the rotated-to ``keys/<party>.next.pem`` once its waiting period is over (it then
    becomes ``keys/<party>.pem``, the old one kept as ``keys/<party>.old<N>.pem``)."""
    nxt = next_key_path(home, party)
    if nxt.exists():
        key = load_key_file(nxt, home.passphrase_envs.get(party))
        now = ledger.key_seq(party)
        if now and now == ledger.key_seq(party, key.public_key_bytes):
            archive_party_key(home, party, home.party_key_path(party))
            os.replace(nxt, home.party_key_path(party))
            return key
    return home.party_key(party)


def archive_party_key(home: Home, party: str, path: Path) -> None:
    """Keep a key file the party no longer signs with as ``keys/<party>.old<N>.pem``."""
    n = 0
    while (target := home.keys_dir / f"{party}.old{n}.pem").exists():
        n += 1
    os.replace(path, target)


def submit_as_operator(home: Home, ledger: Ledger, type_: str, body: dict[str, Any]) -> Receipt:
    """Check ``body``, sign the statement as the registry's operator and submit it: with the
    operator's own key when the registry's establishment names one (``keys/operator.pem``),
    else (an older registry) with the log's key. Only the operator's home holds either."""
    check_body(type_, 1, body, OPERATOR)
    return sign_and_submit(ledger, operator_signing_key(home, ledger), type_, OPERATOR, body)


def operator_signing_key(home: Home, ledger: Ledger) -> PartyKey:
    """The key the operator's statements are signed with in this registry (see
    :func:`submit_as_operator`); refused unless this home holds it."""
    wanted = ledger.deployment().operator_key
    if wanted is None:
        return home.log_key()
    key = home.operator_key()
    if key is None or key.public_key_bytes != wanted:
        raise BadInput(f"this registry's operator statements are signed with the operator's "
                       f"key, and {home.operator_key_path} is "
                       f"{'missing' if key is None else 'another key'}; put the operator's key "
                       "there (mode 0600)")
    return key
