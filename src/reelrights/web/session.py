"""Sign-in without passwords: the party signs a one-time challenge with its own key.

The challenge text is domain-separated from statements (``reelrights/sign-in/v1``), names the
registry and the party, and is good once, for :data:`CHALLENGE_S` seconds. A good signature
(checked against the party's registered public key) opens a session: a random token in an
``HttpOnly; SameSite=Strict`` cookie, which expires after :data:`SESSION_S` seconds, with its
own CSRF token that every form posts back. No key and no password reaches the server; the
browser keeps its key non-extractable in IndexedDB (static/keys.js).

Challenges and sessions are rows of the database (``web_challenges``, ``web_sessions``,
migration 0021), so every server process of ``serve --workers N`` (and every host on PostgreSQL)
shares them: a challenge issued by one process is used once in any, a session opened in one is
seen and closed in all. The cookie's token itself is never stored, only its SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select
from starlette.requests import Request

from ..errors import BadInput, PolicyDenied
from ..store.access_tables import web_challenges, web_sessions
from ..store.db import Database
from .forms import form

if TYPE_CHECKING:
    from ..api.state import ServiceState

__all__ = ["COOKIE", "Session", "Sessions", "challenge_text", "load_session", "sessions"]

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
    """Sign-in challenges and sessions in one database (blocking: call from a thread)."""

    #: At most this many challenges waiting at once (a flood is refused, not stored).
    MAX_CHALLENGES = 10_000

    def __init__(self, db: Database, clock: Any = time.time) -> None:
        self.db, self._clock = db, clock

    def challenge(self, party: str) -> str:
        now = self._clock()
        nonce = secrets.token_urlsafe(24)
        with self.db.write() as conn:
            conn.execute(delete(web_challenges).where(web_challenges.c.expires_at < int(now)))
            waiting = conn.scalar(select(func.count()).select_from(web_challenges)) or 0
            if waiting >= self.MAX_CHALLENGES:
                raise PolicyDenied("too many sign-ins at once; try again in a minute")
            conn.execute(insert(web_challenges).values(
                nonce=nonce, party=party, expires_at=int(now + CHALLENGE_S)))
        return nonce

    def open(self, party: str, nonce: str, signature_b64: str, public_key: bytes,
             registry: str, name: str, kind: str) -> tuple[str, Session]:
        """Check the signed challenge (once) and open a session; returns (token, session)."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        found = None
        if len(nonce) <= 64:  # longer than any nonce issued: no challenge
            with self.db.write() as conn:  # used up whatever follows: one try per challenge
                found = conn.execute(select(web_challenges.c.party, web_challenges.c.expires_at)
                                     .where(web_challenges.c.nonce == nonce)).first()
                if found is not None:
                    conn.execute(delete(web_challenges).where(web_challenges.c.nonce == nonce))
        if found is None or found.expires_at < self._clock() or found.party != party:
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
        now = self._clock()
        with self.db.write() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < int(now)))
            conn.execute(insert(web_sessions).values(
                token_sha256=_digest(token), party=party, name=name[:512], kind=kind,
                csrf=session.csrf, expires_at=int(session.expires)))
        return token, session

    def get(self, token: str | None) -> Session | None:
        if not token or len(token) > 128:
            return None
        with self.db.read() as conn:
            row = conn.execute(select(web_sessions).where(
                web_sessions.c.token_sha256 == _digest(token))).first()
        if row is None or row.expires_at < self._clock():
            return None
        return Session(row.party, row.name, row.kind, row.csrf, float(row.expires_at))

    def close(self, token: str | None) -> None:
        if token and len(token) <= 128:
            with self.db.write() as conn:
                conn.execute(delete(web_sessions).where(
                    web_sessions.c.token_sha256 == _digest(token)))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def sessions(state: ServiceState) -> Sessions:
    found: Sessions | None = state.parts.get("web_sessions")
    if found is None:
        assert state.ledger is not None
        found = state.parts["web_sessions"] = Sessions(state.ledger.db)
    return found


async def load_session(request: Request) -> None:
    """Read the request's session (if its cookie names one) into the scope, in the thread pool:
    :func:`current` then answers from the scope."""
    token = request.cookies.get(COOKIE)
    state: ServiceState = request.app.state.service
    found = await state.call(sessions(state).get, token) if token else None
    request.scope["web_session"] = found
    request.scope["web_csrf"] = found.csrf if found else ""


def current(request: Request) -> Session | None:
    """The request's session (read by :func:`load_session`, which every page runs first; read
    here otherwise), also put in the scope for the templates (and its CSRF token)."""
    if "web_session" in request.scope:
        found: Session | None = request.scope["web_session"]
        return found
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
