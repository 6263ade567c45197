"""Posted forms: the pages send only ``application/x-www-form-urlencoded`` (no multipart)."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request

from ..errors import BadInput

__all__ = ["MAX_FORM_BYTES", "form"]

#: The largest form a page accepts (bytes): sign-in fields and a CSRF token are a few hundred.
MAX_FORM_BYTES = 16 * 1024


async def form(request: Request, max_bytes: int = MAX_FORM_BYTES) -> dict[str, str]:
    """The posted form, refused past ``max_bytes`` (:data:`MAX_FORM_BYTES` unless a page
    takes more, like the check form's manifest); each field's first value."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        raise BadInput("the form must be sent as application/x-www-form-urlencoded")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise BadInput(f"the form is over {max_bytes:,} bytes; nothing was done")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}
