"""What every page shares: the Jinja2 environment, the security headers, the error pages.

A page handler parses its request, calls one library function in the thread pool
(:func:`call`), and renders a template (:func:`render`). The library's typed errors become HTML
pages with the same message the CLI prints (:func:`page`): ``NotFound`` 404, other ``BadInput``
400, ``PolicyDenied`` 403, ``Unavailable`` 503; nothing else is said about an unexpected fault.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from jinja2 import ChainableUndefined, Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ..core.money import format_amount
from ..errors import BadInput, NotFound, PolicyDenied, ReelrightsError, Unavailable

if TYPE_CHECKING:
    from ..api.state import ServiceState
    from ..store.db import Database

__all__ = ["SECURITY_HEADERS", "call", "call_writing", "check_page", "db", "page", "page_number",
           "render", "state"]

#: On every page and asset: scripts and styles only from this origin (no inline script, no
#: inline style), no framing, no referrer, no sniffing. ``connect-src 'self'``: the proof
#: checker and the signer talk only to this service.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
#: Pages show the registry as it is now and may show a signed-in party's own data.
PAGE_HEADERS = {**SECURITY_HEADERS, "cache-control": "no-store"}

_log = logging.getLogger("reelrights.web")


def _money(minor: int, currency: str) -> str:
    """``12345678`` USD -> ``123,456.78`` (thousands separators, the currency's decimals)."""
    text = format_amount(minor, currency)
    sign = "-" if text.startswith("-") else ""
    whole, dot, frac = text.lstrip("-").partition(".")
    return f"{sign}{int(whole):,}{dot}{frac}"


def _when(text: str | None) -> str:
    """An RFC 3339 time as ``2027-03-01 14:05 UTC`` (what a person reads)."""
    if not text:
        return ""
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return text
    return t.strftime("%Y-%m-%d %H:%M UTC")


def _words(code: str | None) -> str:
    """``fineTune`` / ``consent.granted`` / ``in_force`` -> words."""
    if not code:
        return ""
    out = []
    for ch in code.replace(".", " ").replace("_", " "):
        out.append(" " + ch.lower() if ch.isupper() else ch)
    return "".join(out).strip()


#: Id prefix -> the page showing it.
HREFS = {"pty": "/parties/", "lic": "/licenses/", "run": "/runs/", "crt": "/certificates/",
         "out": "/outputs/", "wrk": "/works/", "bnd": "/bundles/", "cns": "/consents/",
         "prd": "/productions/", "chl": "/challenges/"}


def _href(ref: object) -> str | None:
    """The page of a registry id, None for anything else."""
    if isinstance(ref, str) and len(ref) == 20 and ref[3] == "_" and ref[:3] in HREFS:
        return HREFS[ref[:3]] + ref
    return None


@functools.cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("reelrights.web", "templates"),
                      autoescape=select_autoescape(default=True), undefined=ChainableUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=_money, when=_when, words=_words)
    env.globals.update(href=_href)
    return env


def state(request: Request) -> ServiceState:
    found: ServiceState = request.app.state.service
    return found


def db(request: Request) -> Database:
    ledger = state(request).ledger
    assert ledger is not None
    return ledger.db


async def call(request: Request, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in the thread pool (the library is synchronous), its reads in
    one snapshot of the database (pages only read: statements are written by the API)."""
    return await state(request).call(_in_one_snapshot, db(request), fn, args, kwargs)


async def call_writing(request: Request, fn: Callable[..., Any], *args: Any,
                       **kwargs: Any) -> Any:
    """:func:`call` for the few writes a page makes itself (sign-in challenges and sessions):
    no snapshot held around them (a writer holding a pooled read connection while it waits
    for another could exhaust the pool)."""
    return await state(request).call(fn, *args, **kwargs)


def _in_one_snapshot(database: Database, fn: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    with database.one_snapshot():
        return fn(*args, **kwargs)


def page_number(request: Request) -> int:
    """The ``page`` query parameter of a paged list (1 when absent)."""
    raw = request.query_params.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 1_000_000:
        raise BadInput(f"page {raw[:20]!r} is not a page number; pages are numbered from 1")
    return int(raw)


def check_page(listing: Any, number: int) -> None:
    """NotFound for a page past the end of ``listing`` (a :class:`~..registry.listing.Page`)."""
    if number > listing.pages:
        raise NotFound(f"page {number} does not exist: the list has {listing.pages} page(s)")


def viewer(request: Request) -> Any:
    """The reader of a page for the visibility matrix (docs/visibility.md): the signed-in
    party, or anyone."""
    from ..access.viewer import ANONYMOUS, Viewer
    from .session import current

    found = current(request)
    return Viewer(party=found.party) if found is not None else ANONYMOUS


def render(request: Request, template: str, context: Mapping[str, Any], *,
           status: int = 200, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    if "web_session" not in request.scope:
        from .session import current

        current(request)
    html = environment().get_template(template).render(
        request=request, path=request.url.path, session=request.scope.get("web_session"),
        csrf=request.scope.get("web_csrf", ""), **context)
    return HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})


def _error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", {"title": title, "message": message}, status=status)


def page(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """The typed errors of the library as error pages, with the CLI's one-line message."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        from .session import load_session

        try:
            await load_session(request)
            return await handler(request)
        except NotFound as exc:
            return _error_page(request, 404, "Not found", str(exc))
        except BadInput as exc:
            return _error_page(request, 400, "That did not work", str(exc))
        except PolicyDenied as exc:
            return _error_page(request, 403, "Not allowed", str(exc))
        except Unavailable as exc:
            return _error_page(request, 503, "Try again shortly", str(exc))
        except ReelrightsError as exc:
            return _error_page(request, 422, "That did not work", str(exc))
        except Exception:
            _log.exception("unexpected error on %s %s", request.method, request.url.path)
            return _error_page(request, 500, "Something went wrong",
                               "The service failed on this page; nothing was changed. Try again "
                               "later; the operator's log has the details.")

    return wrapped
