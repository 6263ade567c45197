"""Sign in to a reelrights web app with a party's key (docs/web.md, "Sign-in"): ask the
challenge, sign its exact text, post the signature, and keep the session cookie. For scripts,
benchmarks and tests that read a party's pages over HTTP; a browser does the same in
``static/signin.js``. The private key never leaves this process: only the signature is sent.
"""

from __future__ import annotations

import base64

from ..errors import PolicyDenied
from ..keys import PartyKey

__all__ = ["sign_in"]


def sign_in(base_url: str, party: str, key: PartyKey) -> str:
    """The session cookie's value for ``party`` at ``base_url``, signed in with ``key``; a
    refused sign-in raises :class:`~reelrights.errors.PolicyDenied` with the server's status."""
    import httpx

    from ..web.session import COOKIE

    with httpx.Client(base_url=base_url) as client:
        c = client.post("/sign-in/challenge", data={"party": party})
        if c.status_code != 200:
            raise PolicyDenied(f"sign-in as {party} refused: no challenge ({c.status_code})")
        challenge = c.json()
        sig = base64.b64encode(key.sign(challenge["text"].encode("utf-8"))).decode("ascii")
        r = client.post("/sign-in", data={"party": party, "nonce": challenge["nonce"],
                                          "signature": sig})
        if r.status_code != 303 or COOKIE not in client.cookies:
            raise PolicyDenied(f"sign-in as {party} refused ({r.status_code})")
        return str(client.cookies[COOKIE])
