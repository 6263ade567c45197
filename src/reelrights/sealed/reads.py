"""Serving a sealed statement's private fields to the parties entitled to them.

A reader proves who it is by signing its request with its registered Ed25519 key (until the
service's RFC 9421 signed requests take over; docs/sealed.md)::

    Reelrights-Reader: <party id> <unix seconds> <base64 Ed25519 signature>

over ``"reelrights/sealed-read/v1\\n" + registry + "\\n" + party + "\\n" + path + "\\n" +
seconds``, within :data:`WINDOW_S` of the server's clock. The answer is a disclosure (the file
``reelrights sealed verify`` checks) of exactly the leaves :func:`~.entitled.entitled_paths`
allows: every field to a party the statement names, a payee's rows of a revenue report to her.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError, CryptoError
from sqlalchemy import Connection, select

from ..errors import BadInput, NotFound, PolicyDenied, SignatureError
from ..log.database_log import DatabaseLog
from ..store.fund_tables import fund_lines
from ..store.tables import parties
from .disclose import find_sealed, make_disclosure
from .entitled import entitled_paths
from .store import database_source, stored_leaves

__all__ = ["HEADER", "WINDOW_S", "authenticate", "entitled_disclosure", "reader_header"]

HEADER = "Reelrights-Reader"
CONTEXT = b"reelrights/sealed-read/v1\n"
WINDOW_S = 60


def _message(registry: str, party: str, path: str, seconds: int) -> bytes:
    return CONTEXT + f"{registry}\n{party}\n{path}\n{seconds}".encode()


def reader_header(registry: str, party: str, path: str, key: Any,
                  now: float | None = None) -> str:
    """The header value a reader sends (``key``: its :class:`~reelrights.keys.PartyKey`)."""
    seconds = int(time.time() if now is None else now)
    sig = key.sign(_message(registry, party, path, seconds))
    return f"{party} {seconds} {base64.b64encode(sig).decode('ascii')}"


def authenticate(conn: Connection, registry: str, path: str, header: str | None,
                 now: float | None = None) -> str:
    """The registered party that signed ``header`` for ``path`` just now, or a refusal."""
    if not header:
        raise PolicyDenied(f"sealed bodies are shown only to the parties entitled to them: sign "
                           f"the request ({HEADER}: <party> <unix seconds> <signature>)")
    parts = header.split(" ")
    if len(parts) != 3 or not parts[1].isdigit():
        raise BadInput(f"{HEADER} must be '<party id> <unix seconds> <base64 signature>'")
    party, seconds = parts[0], int(parts[1])
    if abs((time.time() if now is None else now) - seconds) > WINDOW_S:
        raise SignatureError(f"the {HEADER} signature is stale or from the future (more than "
                             f"{WINDOW_S} s from the server's clock); sign the request again")
    try:
        sig = base64.b64decode(parts[2], validate=True)
    except (binascii.Error, ValueError):
        sig = b""
    key = conn.scalar(select(parties.c.public_key).where(parties.c.id == party))
    if key is None:
        raise PolicyDenied(f"{party[:40]!r} is not a registered party")
    try:
        if len(sig) != 64:
            raise BadSignatureError
        crypto_sign_open(sig + _message(registry, party, path, seconds), bytes(key))
    except (BadSignatureError, CryptoError):
        raise SignatureError(f"the {HEADER} signature does not verify with {party}'s "
                             "registered key") from None
    return party


def entitled_disclosure(conn: Connection, log: DatabaseLog, ref: str,
                        requester: str) -> dict[str, Any]:
    """A disclosure of the leaves of sealed statement ``ref`` that ``requester`` may read."""
    _, s = find_sealed(conn, ref)
    assert s.id is not None
    leaves = stored_leaves(conn, s.id)
    if leaves is None:
        raise NotFound(f"{ref}: this registry holds no body for it (erased or unavailable)")
    earns = set(conn.scalars(select(fund_lines.c.production_id)
                             .where(fund_lines.c.payee_id == requester)))
    paths = entitled_paths(requester, type_=s.type, actor=s.actor, public_body=s.body,
                           leaves=[(leaf.path, leaf.value) for leaf in leaves],
                           payee_productions=earns)
    if not paths:
        raise PolicyDenied(f"{requester} is not entitled to any sealed field of {ref}")
    return make_disclosure(conn, log, ref, paths, [database_source(conn)])
