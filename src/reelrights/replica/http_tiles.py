"""Tiles served over HTTP(S): a :class:`~reelrights.log.tiled.TileSource` for any static mirror."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from ..errors import BadInput, NotFound

__all__ = ["HttpTileSource"]

#: The largest file a tiled log serves: a full entry bundle (256 entries of up to 65,535 bytes,
#: each with its 2-byte length).
_MAX_BYTES = 256 * (65_535 + 2)


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect (a CDN may send one) only to http(s): urllib would also go to ftp."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> Any:
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise urllib.error.HTTPError(req.full_url, code, "redirect off http(s) refused",
                                         headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects)


class HttpTileSource:
    """``read("tile/0/000")`` fetches ``<base>/tile/0/000`` (plain, not gzipped)."""

    def __init__(self, base: str, timeout: float = 30.0) -> None:
        self.base = base.rstrip("/")
        self.timeout = timeout

    def read(self, path: str) -> bytes:
        rel = PurePosixPath(path)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise BadInput(f"tile path {path!r} must be relative and stay under {self.base}")
        url = f"{self.base}/{path}"
        try:
            with _OPENER.open(url, timeout=self.timeout) as resp:
                data: bytes = resp.read(_MAX_BYTES + 1)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise NotFound(f"{url} is missing (HTTP 404): the mirror must serve the "
                               "complete log") from None
            raise BadInput(f"{url}: HTTP {exc.code}; check the mirror's address") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise BadInput(f"cannot fetch {url} ({reason}); check the mirror's address") from None
        if len(data) > _MAX_BYTES:
            raise BadInput(f"{url} is larger than any tile or entry bundle ({_MAX_BYTES} bytes)")
        return data
