"""Reading the log over HTTP: the static log (C2SP tlog-tiles), proofs, entries and lookups by id.

Each route parses its request, calls one library function (:class:`~reelrights.log.serving.
LogServer` for the log; :func:`reelrights.access.visibility.read_visible` for the records by id,
which loads what the CLI's ``show --json`` prints and cuts it to what the visibility matrix
gives the reader, docs/visibility.md) and renders it. A record's reader is anyone, or the party
whose RFC 9421 signature the request carries (:mod:`reelrights.access.request_signatures`). A
full tile or entry bundle already in memory is answered on the event loop; everything else runs
in the thread pool.

``BadInput`` from a read is a 400 problem (slug ``bad-request``); ``NotFound`` a 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..access.records import id_example, id_pattern
from ..core.ids import ID_PATTERNS
from ..errors import BadInput, NotFound, Unavailable
from ..store.db import unavailable
from .problems import Problem

if TYPE_CHECKING:
    from ..access.request_signatures import ReadAuthenticator
    from ..log.serving import LogServer
    from .state import ServiceState

__all__ = ["FULL_TILE_CACHE", "LOOKUPS", "PUBLIC_LOG_ROUTES", "reader", "route_kinds", "routes"]

#: Cache-Control of full tiles and bundles (they never change), of partial ones (they are
#: replaced by wider versions, and a client should move on to those) and of the checkpoint.
FULL_TILE_CACHE = "public, max-age=31536000, immutable"
PARTIAL_TILE_CACHE = "public, max-age=60"
CHECKPOINT_CACHE = "public, max-age=2"
OCTETS = "application/octet-stream"
_FULL_HEADERS = {"cache-control": FULL_TILE_CACHE}
_PARTIAL_HEADERS = {"cache-control": PARTIAL_TILE_CACHE}
_INDEX = re.compile(r"[0-9]{1,19}")
_MAX_INDEX = (1 << 63) - 1


#: Reads running at once in one process's thread pool: as many as the database pool lends
#: connections (PostgreSQL: 4 + 4 overflow); more only queue inside the pool, behind the GIL.
READ_THREADS = 8


@dataclass
class _Reads:
    server: LogServer
    origin: str
    log_key: str
    limiter: anyio.CapacityLimiter

    async def aclose(self) -> None:
        self.server.db.close_kept()


def reader(request: Request) -> _Reads:
    state: ServiceState = request.app.state.service
    reads: _Reads | None = state.parts.get("reads")
    if reads is None:
        from ..log.serving import LogServer
        from ..replica import log_verifier_key

        assert state.ledger is not None and state.home is not None
        reads = _Reads(LogServer(state.ledger.db, state.ledger.log), state.home.origin,
                       log_verifier_key(state.home), anyio.CapacityLimiter(READ_THREADS))
        state.parts["reads"] = reads
    return reads


async def _call(request: Request, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in the thread pool; a ``BadInput`` that is not a ``NotFound`` is a 400, a
    database that cannot be reached a 503 (slug ``unavailable``, with Retry-After)."""
    try:
        return await anyio.to_thread.run_sync(partial(fn, *args), limiter=reader(request).limiter)
    except NotFound:
        raise
    except BadInput as exc:
        raise Problem(400, "bad-request", "Bad request", str(exc),
                      exit_code=exc.exit_code) from None
    except Exception as exc:
        why = unavailable(exc)
        if why is None:
            raise
        raise Unavailable(f"the database is unavailable ({why}); try again in "
                          f"{RETRY_AFTER_S} s", RETRY_AFTER_S) from None


# -- the static log (C2SP tlog-tiles) ---------------------------------------------------------
async def checkpoint(request: Request) -> Response:
    """The latest checkpoint, with the cosignatures its witnesses returned for it (if any)."""
    note = await _call(request, reader(request).server.checkpoint)
    cosigned = request.app.state.service.cosigned
    if cosigned is not None:
        note = await _call(request, _with_cosignatures, cosigned, note)
    return Response(note, media_type="text/plain; charset=utf-8",
                    headers={"cache-control": CHECKPOINT_CACHE})


def _with_cosignatures(cosigned: Any, note: bytes) -> bytes:
    from ..core.checkpoint import Checkpoint

    size = Checkpoint.parse(note[: note.rfind(b"\n\n") + 1]).size
    return bytes(cosigned.published(note, size))


async def tile(request: Request) -> Response:
    p = request.path_params
    path = f"tile/{p['L']}/{p['N']}" if "L" in p else f"tile/entries/{p['N']}"
    server = reader(request).server
    data = server.cached(path)
    if data is not None:
        return Response(data, media_type=OCTETS, headers=_FULL_HEADERS)
    found = await _call(request, server.tile, path)
    return Response(found.data, media_type=OCTETS,
                    headers=_FULL_HEADERS if found.full else _PARTIAL_HEADERS)


# -- the log as JSON --------------------------------------------------------------------------
async def log_info(request: Request) -> Response:
    reads = reader(request)
    head = await _call(request, reads.server.head)
    out = {"origin": reads.origin, "log_key": reads.log_key, **head}
    cosigned = request.app.state.service.cosigned
    if cosigned is not None:  # the largest checkpoint witnesses cosigned, with their lines
        latest = await _call(request, cosigned.latest)
        out["cosigned_checkpoint"] = latest.decode("utf-8") if latest else ""
    return JSONResponse(out)


def _int_param(request: Request, name: str, *, required: bool, minimum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if required:
            raise Problem(400, "bad-request", "Bad request",
                          f"query parameter {name} is missing; pass {name}=<integer>")
        return None
    if not _INDEX.fullmatch(raw) or not minimum <= int(raw) <= _MAX_INDEX:
        raise Problem(400, "bad-request", "Bad request",
                      f"query parameter {name}={raw[:40]!r} is not an integer from {minimum} to "
                      f"{_MAX_INDEX}")
    return int(raw)


async def inclusion(request: Request) -> Response:
    index = _int_param(request, "index", required=True, minimum=0)
    size = _int_param(request, "size", required=False, minimum=1)
    return JSONResponse(await _call(request, reader(request).server.inclusion, index, size))


async def consistency(request: Request) -> Response:
    old = _int_param(request, "old", required=True, minimum=1)
    new = _int_param(request, "new", required=False, minimum=1)
    return JSONResponse(await _call(request, reader(request).server.consistency, old, new))


def _proof_text(state: Any, ref: str) -> str:
    from ..proofs import issue_proof

    return issue_proof(state.ledger, ref).format()


async def proof_file(request: Request) -> Response:
    """``GET /v1/proofs/file?ref=REF``: the offline proof (c2sp.org/tlog-proof) of a log index or
    of a license, certificate, output, run or royalty statement id (docs/verify.md)."""
    ref = request.query_params.get("ref", "")
    if not ref or len(ref) > 40:
        raise Problem(400, "bad-request", "Bad request", "give ref: a log index or an id "
                      "(lic_, crt_, out_, run_, fst_)", exit_code=2)
    text = await _call(request, _proof_text, request.app.state.service, ref)
    return Response(text, media_type="text/plain; charset=utf-8")


#: Seconds a client waits before asking again while the database is unavailable.
RETRY_AFTER_S = 2
#: Most checkpoints one ``GET /v1/checkpoints`` lists (and its default).
MAX_CHECKPOINTS = 1000


async def checkpoints(request: Request) -> Response:
    after = _int_param(request, "after", required=False, minimum=0) or 0
    limit = _int_param(request, "limit", required=False, minimum=1) or MAX_CHECKPOINTS
    rows = await _call(request, reader(request).server.checkpoints_after, after,
                       min(limit, MAX_CHECKPOINTS))
    return JSONResponse({"checkpoints": rows})


async def entry(request: Request) -> Response:
    raw = request.path_params["index"]
    if not _INDEX.fullmatch(raw) or int(raw) > _MAX_INDEX:
        raise Problem(404, "not-found", "Not found",
                      f"{raw[:40]!r} is not a log index (a decimal integer from 0)")
    return JSONResponse(await _call(request, reader(request).server.entry, int(raw)))


async def statement(request: Request) -> Response:
    sid = _checked_id(request, "statement")
    return JSONResponse(await _call(request, reader(request).server.statement, sid))


# -- records by id, as the reader may see them ------------------------------------------------
#: Collection -> the record kind it serves (reelrights.access.matrix; loaders in
#: reelrights.access.records). Every answer is the projection the visibility matrix gives the
#: reader: reelrights.access.visibility.read_visible, the one place that decides.
LOOKUPS: dict[str, str] = {
    "parties": "party",
    "works": "work",
    "bundles": "bundle",
    "licenses": "license",
    "runs": "run",
    "certificates": "certificate",
    "outputs": "output",
    "consents": "consent",
    "productions": "production",
    "disputes": "dispute",
    "revenue-reports": "revenue_report",
    "royalty-statements": "royalty_statement",
    "fund-totals": "fund_totals",
}
_PATTERNS = {kind: re.compile(id_pattern(kind)) for kind in LOOKUPS.values()}
_PATTERNS["statement"] = re.compile(ID_PATTERNS["statement"])
#: Answers that depend on who asks are never kept by a shared cache.
_PRIVATE = "private, no-store"


def _checked_id(request: Request, kind: str) -> str:
    """The path's id, refused as 404 unless it is an id of ``kind`` (never a name or a path:
    some ``show`` functions also open files or resolve names, which the service must not)."""
    ref = request.path_params["id"]
    if not _PATTERNS[kind].fullmatch(ref):
        example = id_example(kind) if kind != "statement" else "stm_k3vq7xw2m4a6c5de"
        raise Problem(404, "not-found", "Not found",
                      f"{ref[:60]!r} is not a {kind.replace('_', ' ')} id like {example}")
    return str(ref)


def _authenticator(request: Request) -> ReadAuthenticator:
    state: ServiceState = request.app.state.service
    auth: ReadAuthenticator | None = state.parts.get("read_auth")
    if auth is None:
        from ..access.request_signatures import ReadAuthenticator
        from ..core.statement_types import OPERATOR
        from ..write.decode import LOG_SIGNER

        assert state.ledger is not None
        keys = state.ledger.keys.registered
        auth = ReadAuthenticator(state.ledger.db, state.ledger.registry,
                                 [k for k in (keys.get(OPERATOR), keys.get(LOG_SIGNER)) if k],
                                 state.ledger.deployment().key_rotation_wait_s)
        state.parts["read_auth"] = auth
    return auth


def _request_url(request: Request) -> str:
    """The URL the client addressed: its Host, the raw path and the query, as sent."""
    scope = request.scope
    host = request.headers.get("host") or "{}:{}".format(*(scope.get("server") or ("", 0)))
    path = (scope.get("raw_path") or scope["path"].encode("utf-8")).decode("latin-1")
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scope.get('scheme', 'http')}://{host}{path}" + (f"?{query}" if query else "")


def _viewer(request: Request) -> Any:
    """The reader: anyone, or the party (operator) whose RFC 9421 signature the request carries
    (checked: fresh, known key, verifies, nonce unused). Runs in the thread pool."""
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]]
    return _authenticator(request).viewer(request.method, _request_url(request), headers)


def _lookup(collection: str) -> Callable[[Request], Any]:
    kind = LOOKUPS[collection]

    async def endpoint(request: Request) -> Response:
        from ..access.visibility import read_visible

        ref = _checked_id(request, kind)
        viewer = await _call(request, _viewer, request)
        ledger = request.app.state.service.ledger
        seen = await _call(request, read_visible, ledger.db, ledger.log, viewer, kind, ref)
        headers = {"cache-control": _PRIVATE,
                   "reelrights-roles": ",".join(sorted(seen.roles))}
        if seen.withheld:
            headers["reelrights-withheld"] = ",".join(seen.withheld)
        return JSONResponse(seen.fields, headers=headers)

    endpoint.__name__ = f"get_{kind}"
    return endpoint


#: The read routes of the public log (C2SP tlog-tiles, proofs, entries, where a statement is
#: logged): matrix kind ``log``, public whole. Each route of reads.routes() is here or a lookup.
PUBLIC_LOG_ROUTES = ("/checkpoint", "/tile/entries/{N:path}", "/tile/{L}/{N:path}", "/v1/log",
                     "/v1/proofs/inclusion", "/v1/proofs/consistency", "/v1/checkpoints",
                     "/v1/entries/{index}", "/v1/statements/{id}", "/v1/proofs/file")


def route_kinds() -> dict[str, str]:
    """Every read route's path -> its kind in the visibility matrix."""
    return {**dict.fromkeys(PUBLIC_LOG_ROUTES, "log"),
            **{f"/v1/{c}/{{id}}": kind for c, kind in LOOKUPS.items()},
            # a sealed statement's body, as a disclosure of what the reader is entitled to
            # (reelrights.sealed.entitled: the matrix's sealed_body row)
            "/v1/sealed/{id}": "sealed_body"}


def _public(kind: str) -> None:
    """Refuse to serve a kind's routes unfiltered unless the matrix makes it wholly public."""
    from ..access.matrix import MATRIX

    if MATRIX[kind].get("public") != frozenset({"*"}):
        raise RuntimeError(f"the {kind} routes answer whole; the visibility matrix must make "
                           f"{kind} public whole, or the routes must project it")


def routes() -> list[BaseRoute]:
    _public("log")
    return [
        Route("/checkpoint", checkpoint, methods=["GET"]),
        Route("/tile/entries/{N:path}", tile, methods=["GET"]),
        Route("/tile/{L}/{N:path}", tile, methods=["GET"]),
        Route("/v1/log", log_info, methods=["GET"]),
        Route("/v1/proofs/inclusion", inclusion, methods=["GET"]),
        Route("/v1/proofs/consistency", consistency, methods=["GET"]),
        Route("/v1/proofs/file", proof_file, methods=["GET"]),
        Route("/v1/checkpoints", checkpoints, methods=["GET"]),
        Route("/v1/entries/{index}", entry, methods=["GET"]),
        Route("/v1/statements/{id}", statement, methods=["GET"]),
        *(Route(f"/v1/{c}/{{id}}", _lookup(c), methods=["GET"]) for c in LOOKUPS),
    ]
