"""A log server seen from outside: its checkpoint, consistency proofs and tiles, over HTTP.

Everything fetched here is checked by the pure verifiers (:mod:`reelrights.verify`) before it
counts: the checkpoint under the log key, the proofs against the checkpoints.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

from ..errors import BadInput
from ..replica.http_tiles import HttpTileSource

__all__ = ["LogServer"]


class LogServer:
    """``url`` is the service's base URL (``reelrights serve``) or a static mirror's (then only
    the checkpoint and the tiles are there)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BadInput(f"--server {url!r} is not an http(s) URL; pass the service's address")
        self.url = url.rstrip("/")
        self.tiles = HttpTileSource(self.url, timeout)

    def checkpoint(self) -> bytes:
        """The latest published checkpoint note (unverified)."""
        return self.tiles.read("checkpoint")

    def _json(self, path: str) -> Any:
        raw = self.tiles.read(path)
        try:
            return json.loads(raw)
        except ValueError:
            raise BadInput(f"{self.url}/{path} did not answer JSON; is it a reelrights "
                           "service?") from None

    def consistency(self, old: int, new: int) -> list[bytes]:
        """The consistency proof between tree sizes ``old`` and ``new`` (unverified)."""
        doc = self._json(f"v1/proofs/consistency?old={old}&new={new}")
        try:
            return [bytes.fromhex(h) for h in doc["proof"]]
        except (KeyError, TypeError, ValueError):
            raise BadInput(f"{self.url}: its consistency proof is not a list of hex "
                           "hashes") from None

    def checkpoint_at(self, size: int) -> bytes | None:
        """The checkpoint the server issued at exactly ``size`` (None if it has none)."""
        doc = self._json(f"v1/checkpoints?after={size - 1}&limit=1")
        for c in doc.get("checkpoints", []) if isinstance(doc, dict) else []:
            if c.get("size") == size and isinstance(c.get("note"), str):
                return str(c["note"]).encode("utf-8")
        return None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
