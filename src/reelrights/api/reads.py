"""Reading the log over HTTP: the static log (C2SP tlog-tiles), proofs, entries and lookups by id.

Each route parses its request, calls one library function (:class:`~reelrights.log.serving.
LogServer` for the log, the capability packages' ``*_detail``/``show`` functions for the
lookups, the same the CLI's ``show --json`` prints) and renders it. A full tile or entry bundle
already in memory is answered on the event loop; everything else runs in the thread pool.

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

from ..core.ids import ID_PATTERNS
from ..errors import BadInput, NotFound, Unavailable
from ..store.db import unavailable
from .problems import Problem

if TYPE_CHECKING:
    from ..log.serving import LogServer
    from .state import ServiceState

__all__ = ["FULL_TILE_CACHE", "LOOKUPS", "reader", "routes"]

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


# -- lookups by id ----------------------------------------------------------------------------
def _party(state: ServiceState, ref: str) -> dict[str, Any]:
    from ..identity.display import party_shown

    assert state.ledger is not None
    return party_shown(state.ledger.db, ref)


def _work(state: ServiceState, ref: str) -> dict[str, Any]:
    from ..registry.works import work_detail

    assert state.ledger is not None
    return work_detail(state.ledger.db, ref).to_json()


def _bundle(state: ServiceState, ref: str) -> dict[str, Any]:
    from ..rights.bundles import bundle_detail

    assert state.ledger is not None
    return bundle_detail(state.ledger.db, ref).to_json()


def _license(state: ServiceState, ref: str) -> dict[str, Any]:
    from ..rights.licensing import license_detail

    assert state.ledger is not None
    return license_detail(state.ledger.db, ref).to_json()


def _run(state: ServiceState, ref: str) -> dict[str, Any]:
    from ..evidence.audit_status import run_show

    assert state.ledger is not None
    return run_show(state.ledger.db, state.ledger.log, ref)


def _certificate(state: ServiceState, ref: str) -> dict[str, Any]:
    from ..evidence.certificates import show_certificate

    assert state.ledger is not None
    return show_certificate(state.ledger.db, ref).to_json()


def _output(state: ServiceState, ref: str) -> dict[str, Any]:
    from ..outputs.records import output_detail

    assert state.ledger is not None
    return output_detail(state.ledger.db, ref).to_json()


#: Collection -> (id kind, the function answering the CLI's ``show --json``).
LOOKUPS: dict[str, tuple[str, Callable[[ServiceState, str], dict[str, Any]]]] = {
    "parties": ("party", _party),
    "works": ("work", _work),
    "bundles": ("bundle", _bundle),
    "licenses": ("license", _license),
    "runs": ("run", _run),
    "certificates": ("certificate", _certificate),
    "outputs": ("output", _output),
}
_PATTERNS = {kind: re.compile(ID_PATTERNS[kind]) for kind in
             [*(k for k, _ in LOOKUPS.values()), "statement"]}


def _checked_id(request: Request, kind: str) -> str:
    """The path's id, refused as 404 unless it is an id of ``kind`` (never a name or a path:
    some ``show`` functions also open files or resolve names, which the service must not)."""
    ref = request.path_params["id"]
    if not _PATTERNS[kind].fullmatch(ref):
        example = ID_PATTERNS[kind].split("_")[0] + "_k3vq7xw2m4a6c5de"
        raise Problem(404, "not-found", "Not found",
                      f"{ref[:60]!r} is not a {kind} id like {example}")
    return str(ref)


def _shown(fn: Callable[[ServiceState, str], dict[str, Any]], state: ServiceState,
           ref: str) -> dict[str, Any]:
    """``fn``'s document with each party it names shown with its verification
    (:func:`reelrights.identity.display.shown_json`)."""
    from ..identity.display import shown_json

    assert state.ledger is not None
    return shown_json(state.ledger.db, fn(state, ref))


def _lookup(collection: str) -> Callable[[Request], Any]:
    kind, fn = LOOKUPS[collection]

    async def endpoint(request: Request) -> Response:
        ref = _checked_id(request, kind)
        return JSONResponse(await _call(request, _shown, fn, request.app.state.service, ref))

    endpoint.__name__ = f"get_{kind}"
    return endpoint


def routes() -> list[BaseRoute]:
    return [
        Route("/checkpoint", checkpoint, methods=["GET"]),
        Route("/tile/entries/{N:path}", tile, methods=["GET"]),
        Route("/tile/{L}/{N:path}", tile, methods=["GET"]),
        Route("/v1/log", log_info, methods=["GET"]),
        Route("/v1/proofs/inclusion", inclusion, methods=["GET"]),
        Route("/v1/proofs/consistency", consistency, methods=["GET"]),
        Route("/v1/checkpoints", checkpoints, methods=["GET"]),
        Route("/v1/entries/{index}", entry, methods=["GET"]),
        Route("/v1/statements/{id}", statement, methods=["GET"]),
        *(Route(f"/v1/{c}/{{id}}", _lookup(c), methods=["GET"]) for c in LOOKUPS),
    ]
