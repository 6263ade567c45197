"""The web app's own assets (style sheet, scripts), served from the package: no CDN, no build."""

from __future__ import annotations

import functools
import hashlib
from importlib import resources

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from .pages import SECURITY_HEADERS

__all__ = ["asset"]

_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".svg": "image/svg+xml", ".png": "image/png"}


@functools.cache
def _assets() -> dict[str, tuple[bytes, str, str]]:
    """name -> (bytes, media type, ETag): read once; only files with a known type are served."""
    out = {}
    for item in resources.files("reelrights.web").joinpath("static").iterdir():
        suffix = "." + item.name.rpartition(".")[2]
        if item.is_file() and suffix in _TYPES:
            data = item.read_bytes()
            out[item.name] = (data, _TYPES[suffix], hashlib.sha256(data).hexdigest()[:16])
    return out


async def asset(request: Request) -> Response:
    found = _assets().get(request.path_params["name"])
    if found is None:
        return PlainTextResponse("not found", status_code=404, headers=SECURITY_HEADERS)
    data, media_type, etag = found
    headers = {**SECURITY_HEADERS, "cache-control": "public, max-age=300", "etag": f'"{etag}"'}
    if request.headers.get("if-none-match") == f'"{etag}"':
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)
