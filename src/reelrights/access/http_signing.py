"""reelrights' profile of RFC 9421 HTTP Message Signatures, over ``http-message-signatures``.

A signed read carries one signature, label ``reelrights``, Ed25519 (``alg="ed25519"``), with
``keyid`` (the key's id as statements name it: :func:`reelrights.core.statements.key_id_for`),
``created`` (Unix seconds), ``nonce`` (16 to 64 characters of ``[A-Za-z0-9_-]``) and ``tag``
(the registry's id, as ``GET /v1/log`` names it: a party using one key with two registries
cannot have a read signed for one replayed at the other, whatever Host it claims), covering
at least ``@method``, ``@authority``, ``@path`` and ``@query``, plus ``content-digest`` when
the request has a body (RFC 9530, SHA-256 or SHA-512). For example::

    Signature-Input: reelrights=("@method" "@authority" "@path" "@query");created=1767225600;\
keyid="816aef9f0e25835c";alg="ed25519";nonce="Qm9vdHN0cmFwcGluZyBub25jZQ";\
tag="rr_k3vq7xw2m4a6c5de"
    Signature: reelrights=:<base64 of the 64-byte Ed25519 signature>:

The service accepts it when ``created`` is within its clock ± :data:`WINDOW_S` seconds, the key
is a registered party's (or the operator's), the signature verifies over the signature base the
RFC defines, and the nonce was never used by that key (the database keeps it; see
:mod:`.request_signatures`). ``@authority`` and not ``@target-uri``: a TLS-terminating proxy
changes the scheme the service sees, not the host, path or query.

This module does no I/O (no database, no network): the client signs with it, the service checks
with it.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import http_sf
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)

from ..errors import BadRequestSignature, StaleSignature

__all__ = ["COVERED", "LABEL", "WINDOW_S", "SignatureParams", "accept_signature", "check_fresh",
           "new_nonce", "read_params", "sign_request", "verify_request"]

#: The signature's label in Signature-Input and Signature.
LABEL = "reelrights"
#: Components every signed request covers; ``content-digest`` too when it has a body.
COVERED: tuple[str, ...] = ("@method", "@authority", "@path", "@query")
#: ``created`` must be within the server's clock ± this many seconds.
WINDOW_S = 60
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_FIX = ("sign each request as docs/visibility.md says (the reelrights client does it when it "
        "has a party key)")


def new_nonce() -> str:
    """A fresh nonce: 128 random bits, base64url without padding (22 characters)."""
    return secrets.token_urlsafe(16)


def accept_signature() -> str:
    """The ``Accept-Signature`` field (RFC 9421 section 5.1) a 401 answers with."""
    components = " ".join(f'"{c}"' for c in COVERED)
    return f'{LABEL}=({components});keyid;created;nonce;tag;alg="ed25519"'


class _Fields:
    """Header field lines as the library reads and writes them: every line, in order."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.pairs = [(str(k), str(v)) for k, v in pairs]

    def items(self) -> list[tuple[str, str]]:
        return list(self.pairs)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k for k, _ in self.pairs))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(k.lower() == name.lower() for k, _ in self.pairs)

    def __getitem__(self, name: str) -> str:
        found = [v for k, v in self.pairs if k.lower() == name.lower()]
        if not found:
            raise KeyError(name)
        return ", ".join(found)

    def __setitem__(self, name: str, value: str) -> None:
        self.__delitem__(name)
        self.pairs.append((name, value))

    def __delitem__(self, name: str) -> None:
        self.pairs = [(k, v) for k, v in self.pairs if k.lower() != name.lower()]


@dataclass
class _Message:
    method: str
    url: str
    headers: _Fields = field(default_factory=lambda: _Fields(()))


class _OneKey(HTTPSignatureKeyResolver):
    """The one public key a request may be verified with."""

    def __init__(self, key_id: str, public: Ed25519PublicKey) -> None:
        self.key_id, self.public = key_id, public

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey | None:
        return self.public if key_id == self.key_id else None

    def resolve_private_key(self, key_id: str) -> None:
        raise KeyError(key_id)


def sign_request(method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes,
                 *, key_id: str, sign: Callable[[bytes], bytes], registry: str,
                 created: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """The header fields that sign this request (Signature-Input, Signature and, with a body,
    Content-Digest). ``sign`` makes the Ed25519 signature of the signature base (a
    :class:`~reelrights.keys.PartyKey`'s ``sign``: the private key never leaves it)."""
    message = _Message(method.upper(), url, _Fields(headers))
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519)
    prepared = signer.prepare(message, key_id=key_id, label=LABEL, covered_component_ids=COVERED,
                              created=_utc(time.time() if created is None else created),
                              nonce=new_nonce() if nonce is None else nonce, tag=registry,
                              body=body or None)
    signer.apply(message, prepared, sign(prepared.signature_base))
    wanted = {"signature-input", "signature", "content-digest"}
    return {k: v for k, v in message.headers.items() if k.lower() in wanted}


def _utc(seconds: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(int(seconds), tz=UTC)


@dataclass(frozen=True)
class SignatureParams:
    """What a request's signature claims, before it is checked."""

    key_id: str
    created: int
    nonce: str
    components: tuple[str, ...]
    #: The registry the reader signed for (``tag``).
    tag: str


def _field(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in headers if k.lower() == name]
    return ", ".join(values) if values else None


def read_params(headers: Sequence[tuple[str, str]]) -> SignatureParams | None:
    """The signature's parameters, None when the request carries no signature at all, or
    :class:`~reelrights.errors.BadRequestSignature` naming what is malformed or missing."""
    sig_input, sig = _field(headers, "signature-input"), _field(headers, "signature")
    if sig_input is None and sig is None:
        return None
    if sig_input is None or sig is None:
        raise BadRequestSignature(
            f"the request has a {'Signature' if sig_input is None else 'Signature-Input'} field "
            f"but no {'Signature-Input' if sig_input is None else 'Signature'}; {_FIX}")
    parsed: Any
    sigs: Any
    try:
        parsed = http_sf.parse(sig_input.encode("latin-1"), tltype="dictionary")
        sigs = http_sf.parse(sig.encode("latin-1"), tltype="dictionary")
    except Exception:  # noqa: BLE001 - any malformed structured field
        raise BadRequestSignature(f"Signature-Input or Signature is not an RFC 8941 dictionary; "
                                  f"{_FIX}") from None
    if not isinstance(parsed, dict) or not isinstance(sigs, dict) or len(parsed) != 1 \
            or set(parsed) != set(sigs):
        raise BadRequestSignature(f"a signed read carries exactly one signature, the same label "
                                  f"in Signature-Input and Signature; {_FIX}")
    members, params = next(iter(parsed.values()))
    if not isinstance(members, list):
        raise BadRequestSignature(f"Signature-Input's member is not an inner list; {_FIX}")
    key_id, created, nonce = params.get("keyid"), params.get("created"), params.get("nonce")
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise BadRequestSignature(f"the signature's keyid {key_id!r} is not a reelrights key id "
                                  f"(16 hex characters: SHA-256 of the public key); {_FIX}")
    if type(created) is not int:
        raise BadRequestSignature(f"the signature has no integer created parameter; {_FIX}")
    if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
        raise BadRequestSignature(f"the signature has no nonce parameter of 16 to 64 characters "
                                  f"[A-Za-z0-9_-]; {_FIX}")
    if params.get("alg", "ed25519") != "ed25519":
        raise BadRequestSignature(f"the signature's alg {params.get('alg')!r} is not ed25519; "
                                  f"{_FIX}")
    tag = params.get("tag")
    if not isinstance(tag, str) or not tag:
        raise BadRequestSignature(f"the signature has no tag parameter naming the registry it "
                                  f"is for (GET /v1/log names it); {_FIX}")
    components = tuple(str(m[0]) for m in members)
    return SignatureParams(key_id, created, nonce, components, tag)


def check_fresh(params: SignatureParams, now: float) -> None:
    """:class:`~reelrights.errors.StaleSignature` unless ``created`` is within now ± the window."""
    if abs(now - params.created) > WINDOW_S:
        raise StaleSignature(
            f"the request signature was created at {params.created} (Unix time) but the server's "
            f"clock says {int(now)}: more than {WINDOW_S} s apart; sign the request again now "
            "(and check this machine's clock)")


def verify_request(method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes,
                   params: SignatureParams, public_key: bytes, now: float,
                   registry: str) -> None:
    """Check the signature over this request with ``public_key``, made for ``registry``; raise
    :class:`~reelrights.errors.BadRequestSignature` naming what is wrong."""
    if params.tag != registry:
        raise BadRequestSignature(f"the request signature is for registry {params.tag[:40]!r}, "
                                  f"not this one ({registry}); sign with tag={registry!r}")
    required = [*COVERED, *(["content-digest"] if body else [])]
    missing = [c for c in required if c not in params.components]
    if missing:
        raise BadRequestSignature(f"the request signature does not cover {', '.join(missing)}; "
                                  f"a signed read covers {', '.join(required)}")
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519,
                                   key_resolver=_OneKey(params.key_id,
                                                        Ed25519PublicKey.from_public_bytes(public_key)))
    verifier.max_clock_skew = _seconds(WINDOW_S)
    try:
        verifier.verify(_Message(method.upper(), url, _Fields(headers)), max_age=None,
                        require_components=required, body=body if body else None)
    except InvalidSignature as exc:
        raise BadRequestSignature(
            f"the request signature by key {params.key_id} does not verify over this request "
            f"({_reason(exc)}): it was made for another request, by another key, or altered; "
            f"{_FIX}") from None
    except Exception as exc:  # noqa: BLE001 - the library's own refusals (bad components)
        raise BadRequestSignature(f"the request signature cannot be checked ({_reason(exc)}); "
                                  f"{_FIX}") from None


def _seconds(n: int) -> Any:
    from datetime import timedelta

    return timedelta(seconds=n)


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "InvalidSignature" in text or text == "":
        return "bad signature"
    return text[:160]
