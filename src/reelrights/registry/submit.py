"""Submitting on a party's behalf: check a statement's body, sign it with a key this home holds
(a party's, or the operator's log key) and submit it to the ledger.

Every capability's commands end here: they build a body and hand it to :func:`submit_as` (the
party whose key lives in the home) or :func:`submit_as_operator` (the registry's operator).
"""

from __future__ import annotations

from typing import Any

from ..catalogue import check_body
from ..core.statement_types import OPERATOR
from ..core.statements import sign_statement
from ..errors import BadInput
from ..home import Home
from ..keys import PartyKey
from ..ledger import Ledger, Receipt

__all__ = ["operator_signing_key", "sign_and_submit", "submit_as", "submit_as_operator"]


def sign_and_submit(ledger: Ledger, key: PartyKey, type_: str, actor: str,
                    body: dict[str, Any]) -> Receipt:
    """Sign the statement with ``key`` and submit it; the body is checked first, so nothing bad
    is ever signed."""
    statement = ledger.new_statement(type_, actor, body)
    check_body(type_, 1, body, actor)  # refuse bad input before anything is signed
    return ledger.submit([sign_statement(statement, key)])[0]


def submit_as(home: Home, ledger: Ledger, type_: str, actor: str, body: dict[str, Any]) -> Receipt:
    """Check ``body``, sign the statement with ``actor``'s key from the home, and submit it: what
    every capability's commands do for the party whose key lives in this home."""
    check_body(type_, 1, body, actor)  # refuse bad input before the key is even read
    return sign_and_submit(ledger, home.party_key(actor), type_, actor, body)


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
