"""Sign-in without passwords: the party signs a one-time challenge with its own key.

The challenge text is domain-separated from statements (``reelrights/sign-in/v1``), names the
registry and the party, and is good once, for :data:`CHALLENGE_S` seconds. A good signature
(checked against the party's registered public key) opens a session: a random token in an
``HttpOnly; SameSite=Strict`` cookie, which expires after :data:`SESSION_S` seconds, with its
own CSRF token that every form posts back. No key and no password reaches the server; the
browser keeps its key non-extractable in IndexedDB (static/keys.js).

Sessions live in the serving process (``--workers 1``; several workers would need a shared
store, see docs/web.md).
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from ..errors import BadInput, PolicyDenied
from .forms import form

if TYPE_CHECKING:
    from ..api.state import ServiceState

__all__ = ["COOKIE", "Session", "Sessions", "challenge_text", "sessions"]

COOKIE = "rr_session"
CHALLENGE_S = 120
SESSION_S = 30 * 60
CONTEXT = "reelrights/sign-in/v1"


def challenge_text(registry: str, party: str, nonce: str) -> str:
    """The exact text a party signs to sign in (UTF-8, with a final newline)."""
    return f"{CONTEXT}\n{registry}\n{party}\n{nonce}\n"


@dataclass
class Session:
    party: str
    name: str
    kind: str
    csrf: str
    expires: float


class Sessions:
    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._challenges: dict[str, tuple[str, float]] = {}
        self._sessions: dict[str, Session] = {}

    def challenge(self, party: str) -> str:
        now = self._clock()
        self._challenges = {k: v for k, v in self._challenges.items() if v[1] > now}
        if len(self._challenges) > 10_000:
            raise PolicyDenied("too many sign-ins at once; try again in a minute")
        nonce = secrets.token_urlsafe(24)
        self._challenges[nonce] = (party, now + CHALLENGE_S)
        return nonce

    def open(self, party: str, nonce: str, signature_b64: str, public_key: bytes,
             registry: str, name: str, kind: str) -> tuple[str, Session]:
        """Check the signed challenge (once) and open a session; returns (token, session)."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        found = self._challenges.pop(nonce, None)
        if found is None or found[1] < self._clock() or found[0] != party:
            raise PolicyDenied("the sign-in challenge is unknown, used or expired; start the "
                               "sign-in again")
        try:
            sig = base64.b64decode(signature_b64, validate=True)
            Ed25519PublicKey.from_public_bytes(public_key).verify(
                sig, challenge_text(registry, party, nonce).encode("utf-8"))
        except (InvalidSignature, ValueError):
            raise PolicyDenied(f"the signature does not match {name}'s registered key; choose "
                               "that party's key file") from None
        token = secrets.token_urlsafe(32)
        session = Session(party, name, kind, secrets.token_urlsafe(24),
                          self._clock() + SESSION_S)
        self._sessions[token] = session
        return token, session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        s = self._sessions.get(token)
        if s is None:
            return None
        if s.expires < self._clock():
            del self._sessions[token]
            return None
        return s

    def close(self, token: str | None) -> None:
        if token:
            self._sessions.pop(token, None)


def sessions(state: ServiceState) -> Sessions:
    found: Sessions | None = state.parts.get("web_sessions")
    if found is None:
        found = state.parts["web_sessions"] = Sessions()
    return found


def current(request: Request) -> Session | None:
    """The request's session, also put in the scope for the templates (and its CSRF token)."""
    s = sessions(request.app.state.service).get(request.cookies.get(COOKIE))
    request.scope["web_session"] = s
    request.scope["web_csrf"] = s.csrf if s else ""
    return s


def require(request: Request, party: str | None = None) -> Session:
    s = current(request)
    if s is None:
        raise PolicyDenied("sign in first: this page acts for a party (Sign in, top right)")
    if party is not None and s.party != party:
        raise PolicyDenied(f"you are signed in as {s.name}; only {party} may do this")
    return s


async def check_csrf(request: Request, session: Session) -> Any:
    """The posted form, refused unless it carries the session's CSRF token."""
    fields = await form(request)
    if not secrets.compare_digest(fields.get("csrf", ""), session.csrf):
        raise BadInput("the form's CSRF token is missing or stale; reload the page and try again")
    return fields
