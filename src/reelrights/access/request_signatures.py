"""Who signed a request: the RFC 9421 profile (:mod:`.http_signing`) against the registry's
keys and the database's nonces.

:meth:`ReadAuthenticator.viewer` turns a request into a :class:`~.viewer.Viewer`: anyone when
it carries no signature; else the party (or the operator) whose key made it, once the
signature is fresh (``created`` within now ± 60 s), by a known key, verifies over this request,
and its nonce is new for that key. Each refusal is one of
:class:`~reelrights.errors.Unauthenticated`'s subclasses, naming what is wrong. The nonce is
recorded last, so a request that fails any other check uses up nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from ..errors import UnknownKey
from ..store.db import Database
from .http_signing import WINDOW_S, check_fresh, read_params, verify_request
from .nonces import NonceBook
from .viewer import ANONYMOUS, Viewer, key_holder

__all__ = ["ReadAuthenticator"]


class ReadAuthenticator:
    """Checks signed reads against one database (its parties and its nonces)."""

    def __init__(self, db: Database, registry: str, operator_keys: Iterable[bytes] = (),
                 wait_s: int | None = None) -> None:
        self.db = db
        #: The registry's key rotation wait (docs/keys.md): which party keys are in force.
        self.wait_s = wait_s
        #: The registry id a signature's ``tag`` must name.
        self.registry = registry
        self.operator_keys = tuple(operator_keys)
        self.nonces = NonceBook(db)

    def viewer(self, method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes = b"",
               now: float | None = None) -> Viewer:
        """The reader this request is from (see the module docstring)."""
        params = read_params(headers)
        if params is None:
            return ANONYMOUS
        now = time.time() if now is None else now
        check_fresh(params, now)
        with self.db.read() as conn:
            holder = key_holder(conn, params.key_id, self.operator_keys, self.registry,
                                self.wait_s)
        if holder is None:
            raise UnknownKey(f"the request is signed by key {params.key_id}, which is no "
                             "registered party's key (nor the operator's); sign with the key of "
                             "a party of this registry (`reelrights party show PARTY` shows its "
                             "key_id)")
        verify_request(method, url, headers, body, params, holder.public_key, now,
                       self.registry)
        self.nonces.use(params.key_id, params.nonce, params.created + WINDOW_S + 1, now)
        return holder.viewer
