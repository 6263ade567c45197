"""A party joins with a key made in a browser (docs/web.md, "A key made in the browser").

The browser makes the party's Ed25519 signing key (WebCrypto, non-extractable) and, before that
key signs anything, an offline **recovery key** whose private half the person saves as a key
file and the browser forgets. This module prepares the two **unsigned** statements the browser
signs with its new key and submits as one batch: ``party.registered`` (with ``key_origin``
``browser``) and ``key.recovery.set`` (seq 1, with the recovery key's proof of possession). The
log refuses a ``key_origin: browser`` registration whose recovery key is not set in the same
batch, and any other statement the key signs before it (write/keys.py), so the rule holds
whatever script signs.

The server never holds either private key: it sees public keys and a possession proof only.
"""

from __future__ import annotations

import base64
from typing import Any

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError, CryptoError

from ..catalogue import check_body
from ..core.ids import new_id
from ..core.key_history import RECOVERY, RECOVERY_SET, possession_message
from ..core.statements import make_statement
from ..errors import BadInput

__all__ = ["BROWSER", "join_statements", "new_party_id"]

#: The ``key_origin`` of a party whose signing key was made in a browser.
BROWSER = "browser"


def new_party_id() -> str:
    """A fresh party id for a browser to prove its recovery key's possession against."""
    return new_id("party")


def join_statements(ledger: Any, party: str, kind: str, name: str, public_key: str,
                    recovery_key: str = "", recovery_proof: str = "") -> list[dict[str, Any]]:
    """The unsigned statements a browser signs to join: ``party.registered`` (key_origin
    browser) and, when the recovery key is given, its ``key.recovery.set`` (seq 1). Without a
    recovery key only the registration is returned, which no honest browser signs and the log
    refuses on its own."""
    body: dict[str, Any] = {"id": party, "kind": kind, "name": name.strip(),
                            "public_key": public_key, "key_origin": BROWSER}
    check_body("party.registered", 1, body, party)
    time = ledger.rules.clock()
    out = [make_statement("party.registered", party, body, time, registry=ledger.registry)]
    if not recovery_key and not recovery_proof:
        return out
    if recovery_key == public_key:
        raise BadInput("the recovery key is the signing key; make a second key for recovery")
    recovery = {"party": party, "seq": 1, "public_key": recovery_key, "proof": recovery_proof}
    check_body(RECOVERY_SET, 1, recovery, party)
    message = possession_message(ledger.registry, party, 1, RECOVERY, recovery_key)
    try:
        crypto_sign_open(base64.b64decode(recovery_proof) + message,
                         base64.b64decode(recovery_key))
    except (BadSignatureError, CryptoError, ValueError):
        raise BadInput("recovery_proof is not the recovery key's signature of its possession "
                       "message (registry, party, seq 1, role recovery); make the recovery "
                       "key again") from None
    out.append(make_statement(RECOVERY_SET, party, recovery, time, registry=ledger.registry))
    return out
