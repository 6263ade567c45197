"""The service's client over httpx: submit signed statements, read the log and its proofs.

Only what a party signed ever leaves: the exact log entry bytes (the signed statement, RFC 8785
JSON), one per request (``application/json``) or several as one all-or-nothing batch
(``application/jsonl``). Reads are the static log (``/checkpoint``, ``/tile/...``: a
:class:`~reelrights.log.tiled.TileSource`), ``/v1/log``, proofs and lookups.

Retries: a 429 or 503 (after its ``Retry-After``, capped) and a failed connection are retried
with exponential backoff and jitter, up to ``retries`` times. Submitting again is safe: the
service keys statements by the hash of their bytes and answers a repeat with the original
receipt. Every other refusal is problem details (RFC 9457), turned back into the library's own
error with the same message and exit code (:mod:`.problems`).
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..access.http_signing import sign_request
from ..core.sealed import SealedEntry
from ..core.statements import key_id_for
from ..errors import BadInput, NotFound, ReelrightsError
from ..keys import PartyKey
from ..write.accepted import Receipt
from .problems import ServiceError, error_from_problem, problem_of

__all__ = ["Client", "LogInfo", "SignedReads", "Submitted", "check_server_url"]

#: The largest static file the log serves: a full entry bundle (256 entries of up to 65,535
#: bytes, each with its 2-byte length).
MAX_TILE_BYTES = 256 * (65_535 + 2)
#: The largest JSON answer read (receipts of a 1,000-entry batch, 1,000 checkpoints, a lookup
#: are far smaller): a server streaming more is refused, not buffered.
MAX_JSON_BYTES = 16 * 1024 * 1024
#: Longest wait a Retry-After may impose, and the first backoff step (seconds).
MAX_RETRY_AFTER = 30.0
_RETRY_STATUS = frozenset({429, 502, 503, 504})
_USER_AGENT = "reelrights-client"


def check_server_url(url: str) -> str:
    """``url`` without a trailing slash, or BadInput (exit 2) saying what a server URL is."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment:
        raise BadInput(f"server URL {url!r} is not an http(s) URL of a reelrights service; pass "
                       "one like https://registry.example.org (--server or REELRIGHTS_SERVER)")
    try:
        _ = parts.port
    except ValueError:
        raise BadInput(f"server URL {url!r} has a bad port; pass one like "
                       "http://127.0.0.1:8080") from None
    return url.strip().rstrip("/")


@dataclass(frozen=True)
class LogInfo:
    """``GET /v1/log``: the log's origin, note verifier key, registry, size and checkpoint."""

    origin: str
    log_key: str
    registry: str | None
    size: int
    checkpoint: bytes


@dataclass(frozen=True)
class Submitted:
    """A submission's answer: one receipt per entry, and a signed checkpoint that covers them."""

    receipts: list[Receipt]
    checkpoint: bytes
    duplicate: bool = False


class Client:
    """A reelrights service at ``base_url``. ``transport`` replaces httpx's (tests, proxies)."""

    def __init__(self, base_url: str, *, timeout: float = 30.0, retries: int = 5,
                 backoff: float = 0.1, transport: httpx.BaseTransport | None = None,
                 key: PartyKey | None = None, registry: str | None = None) -> None:
        self.base_url = check_server_url(base_url)
        self.retries = retries
        self.backoff = backoff
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport,
                                  headers={"User-Agent": _USER_AGENT}, follow_redirects=False,
                                  auth=None if key is None else SignedReads(key, registry))

    # -- lifecycle ----------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the write path -----------------------------------------------------------------------
    def submit(self, entries: Sequence[bytes]) -> list[Receipt]:
        """Submit signed statements (one: a single request; several: one all-or-nothing batch)
        and return their receipts."""
        return self.append(entries).receipts

    def append(self, entries: Sequence[bytes]) -> Submitted:
        """:meth:`submit`, also returning the checkpoint the service published with them."""
        if not entries:
            raise BadInput("nothing to submit; pass at least one signed statement")
        entries = [e.submission() if isinstance(e, SealedEntry) else bytes(e) for e in entries]
        if len(entries) == 1:
            body, media = bytes(entries[0]), "application/json"
        else:
            for i, e in enumerate(entries):
                if b"\n" in e or b"\r" in e:
                    raise BadInput(f"statement {i + 1} of {len(entries)} holds a line break; "
                                   "a signed statement is one line of canonical JSON")
            body, media = b"\n".join(bytes(e) for e in entries) + b"\n", "application/jsonl"
        resp = self._request("POST", "/v1/statements", content=body,
                             headers={"Content-Type": media, "Accept": "application/json"})
        data = self._json(resp)
        try:
            receipts = [Receipt.from_json(r) for r in data["receipts"]]
            checkpoint = str(data["checkpoint"]).encode("utf-8")
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ServiceError(f"{self.base_url}/v1/statements answered without receipts and a "
                               "checkpoint; is this a reelrights service?") from None
        if len(receipts) != len(entries):
            raise ServiceError(f"{self.base_url}/v1/statements answered {len(receipts)} receipts "
                               f"for {len(entries)} statements")
        return Submitted(receipts, checkpoint,
                         resp.headers.get("Reelrights-Duplicate", "").lower() == "true")

    # -- identity (docs/identity.md) ----------------------------------------------------------
    def issue_nonce(self, request: dict[str, str]) -> dict[str, Any]:
        """A nonce for the party's proof of a domain, with the document and TXT record to
        publish (``POST /v1/identity/nonces``; ``request`` is signed by the party:
        :func:`reelrights.identity.admit.signed_nonce_request`)."""
        return dict(self._json(self._request(
            "POST", "/v1/identity/nonces", json=request,
            headers={"Accept": "application/json"})))

    def request_admission(self, entry: bytes) -> Submitted:
        """Post a signed ``admission.requested``: the service checks the proof it names
        and answers with its receipt and the admission's (``POST /v1/identity/admissions``)."""
        resp = self._request("POST", "/v1/identity/admissions", content=bytes(entry),
                             headers={"Content-Type": "application/json",
                                      "Accept": "application/json"})
        data = self._json(resp)
        try:
            receipts = [Receipt.from_json(r) for r in data["receipts"]]
            checkpoint = str(data["checkpoint"]).encode("utf-8")
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ServiceError(f"{self.base_url}/v1/identity/admissions answered without "
                               "receipts and a checkpoint") from None
        return Submitted(receipts, checkpoint)

    # -- reads --------------------------------------------------------------------------------
    def log_info(self) -> LogInfo:
        data = self._json(self._request("GET", "/v1/log"))
        try:
            return LogInfo(str(data["origin"]), str(data["log_key"]), data.get("registry"),
                           int(data["size"]), str(data["checkpoint"]).encode("utf-8"))
        except (KeyError, TypeError, ValueError):
            raise ServiceError(f"{self.base_url}/v1/log is not a reelrights log description "
                               "(origin, log_key, size, checkpoint); check --server") from None

    def checkpoint(self) -> bytes:
        """The latest published checkpoint (``GET /checkpoint``), as the signed note's bytes."""
        return self.read("checkpoint")

    def read(self, path: str) -> bytes:
        """A file of the static log: ``checkpoint``, ``tile/0/000``, ``tile/entries/001.p/5``
        (a :class:`~reelrights.log.tiled.TileSource`)."""
        rel = PurePosixPath(path)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise BadInput(f"tile path {path!r} must be relative and stay under {self.base_url}")
        resp = self._request("GET", f"/{path}", stream_limit=MAX_TILE_BYTES)
        return resp.content

    def checkpoint_after(self, index: int) -> bytes | None:
        """The first checkpoint the log issued with a size above ``index`` (the signed note),
        or None when the service does not say (``GET /v1/checkpoints?after=INDEX&limit=1``)."""
        try:
            data = self._json(self._request("GET", "/v1/checkpoints",
                                            params={"after": index, "limit": 1}))
        except (NotFound, BadInput):
            return None
        rows = data.get("checkpoints") if isinstance(data, dict) else None
        if not rows or not isinstance(rows[0], dict) or "note" not in rows[0]:
            return None
        return str(rows[0]["note"]).encode("utf-8")

    def inclusion(self, index: int, size: int) -> dict[str, Any]:
        return self._json(self._request("GET", "/v1/proofs/inclusion",
                                        params={"index": index, "size": size}))

    def consistency(self, old: int, new: int) -> dict[str, Any]:
        return self._json(self._request("GET", "/v1/proofs/consistency",
                                        params={"old": old, "new": new}))

    def lookup(self, kind: str, ref: str) -> dict[str, Any]:
        """``GET /v1/<kind>/<id>``: the JSON the CLI's ``show --json`` prints, cut to what the
        visibility matrix gives this client's party (signed with its key, when it has one)
        or anyone (docs/visibility.md)."""
        return self._json(self._request("GET", f"/v1/{kind}/{ref}"))

    # -- soft-binding resolution (C2PA Soft Binding API, docs/provenance.md) --------------------
    def publish_binding(self, output_id: str, envelope: dict[str, Any]) -> dict[str, Any]:
        """Post a developer's signed publication of an output's prints and manifest."""
        return self._json(self._request(
            "POST", f"/v1/outputs/{output_id}/binding",
            content=json.dumps(envelope).encode("utf-8"),
            headers={"Content-Type": "application/json"}))

    def matches_by_binding(self, alg: str, value: str, max_results: int = 10) -> list[dict]:
        data = self._json(self._request("POST", "/v1/matches/byBinding", json={
            "alg": alg, "value": value, "maxResults": max_results}))
        return list(data.get("matches", [])) if isinstance(data, dict) else []

    def matches_by_content(self, content: bytes, media_type: str, max_results: int = 10,
                           alg: str | None = None) -> list[dict]:
        params: dict[str, Any] = {"maxResults": max_results}
        if alg is not None:
            params["alg"] = alg
        data = self._json(self._request("POST", "/v1/matches/byContent", content=content,
                                        params=params,
                                        headers={"Content-Type": media_type}))
        return list(data.get("matches", [])) if isinstance(data, dict) else []

    def manifest(self, manifest_id: str) -> bytes:
        """The manifest store (``application/c2pa``) by label or output id."""
        return self._request("GET", f"/v1/manifests/{manifest_id}",
                             stream_limit=64 * 2**20).content

    def sealed(self, ref: str, key: PartyKey, registry: str | None = None,
               fields: Sequence[str] = ()) -> dict[str, Any]:
        """``GET /v1/sealed/<id>`` signed with ``key`` (RFC 9421, as every non-public read): a
        disclosure of the sealed fields its party may read (only ``fields``, when given), which
        ``reelrights sealed verify`` checks."""
        params = {"fields": ",".join(fields)} if fields else None
        doc: dict[str, Any] = self._json(self._request(
            "GET", f"/v1/sealed/{ref}", params=params, auth=SignedReads(key, registry)))
        return doc

    def sealed_grant(self, ref: str, to: str, fields: Sequence[str], key: PartyKey,
                     registry: str | None = None) -> dict[str, Any]:
        """``POST /v1/sealed/<id>/grants`` signed with ``key``: disclose ``fields`` of a sealed
        statement to party ``to``, who may then fetch exactly those with :meth:`sealed`."""
        body = json.dumps({"to": to, "fields": list(fields)}, sort_keys=True).encode("utf-8")
        doc: dict[str, Any] = self._json(self._request(
            "POST", f"/v1/sealed/{ref}/grants", content=body,
            headers={"Content-Type": "application/json"},
            auth=SignedReads(key, registry, sign_posts=True)))
        return doc

    def sealed_withdraw(self, ref: str, grant: int, key: PartyKey,
                        registry: str | None = None) -> dict[str, Any]:
        """``DELETE /v1/sealed/<id>/grants/<grant>`` signed with ``key`` (its granter's or the
        statement's signer's): the recipient reads nothing more of it."""
        doc: dict[str, Any] = self._json(self._request(
            "DELETE", f"/v1/sealed/{ref}/grants/{int(grant)}", auth=SignedReads(key, registry)))
        return doc

    # -- plumbing -----------------------------------------------------------------------------
    def _json(self, resp: httpx.Response) -> Any:
        try:
            return resp.json()
        except (ValueError, json.JSONDecodeError):
            raise ServiceError(f"{resp.request.url} answered {len(resp.content)} bytes that are "
                               "not JSON; is this a reelrights service?") from None

    def _request(self, method: str, path: str, *, stream_limit: int | None = None,
                 **kwargs: Any) -> httpx.Response:
        url = f"{self.base_url}{path}"
        attempt = 0
        while True:
            try:
                resp = self._send(method, path, stream_limit, **kwargs)
            except httpx.TransportError as exc:
                if attempt >= self.retries or isinstance(exc, httpx.UnsupportedProtocol):
                    raise BadInput(f"cannot reach {url} ({_reason(exc)}); check the server's "
                                   "address (--server) and that the service runs") from None
                self._sleep(attempt, None)
                attempt += 1
                continue
            if resp.status_code < 300:
                return resp
            if resp.status_code in _RETRY_STATUS and attempt < self.retries:
                self._sleep(attempt, resp.headers.get("Retry-After"))
                attempt += 1
                continue
            raise self._error(resp, url)

    def _send(self, method: str, path: str, stream_limit: int | None,
              **kwargs: Any) -> httpx.Response:
        limit = MAX_JSON_BYTES if stream_limit is None else stream_limit
        what = "any answer of the service" if stream_limit is None else \
            "any tile or entry bundle"
        with self._http.stream(method, path, **kwargs) as resp:
            chunks, total = [], 0
            try:
                for chunk in resp.iter_bytes():
                    total += len(chunk)
                    if total > limit:
                        raise ServiceError(f"{self.base_url}{path} answered more than {what} "
                                           f"({limit:,} bytes); is this a reelrights service?")
                    chunks.append(chunk)
            except httpx.DecodingError:
                raise ServiceError(f"{self.base_url}{path} answered a body that does not "
                                   "decode as its Content-Encoding says; is this a reelrights "
                                   "service?") from None
            body = b"".join(chunks)
        # the body is decoded already (gzip from a proxy): its encoding and length must go
        headers = [(k, v) for k, v in resp.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length",
                                        "transfer-encoding")]
        return httpx.Response(resp.status_code, headers=headers, content=body,
                              request=resp.request)

    def _error(self, resp: httpx.Response, url: str) -> ReelrightsError:
        media = resp.headers.get("Content-Type", "")
        problem = problem_of(media, resp.content)
        text = resp.content[:400].decode("utf-8", "replace") if media.startswith("text/plain") \
            else resp.reason_phrase
        return error_from_problem(resp.status_code, problem, url, text)

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        wait = self.backoff * (2 ** attempt) * (0.5 + random.random())  # noqa: S311 - jitter
        if retry_after:
            with contextlib.suppress(ValueError):  # an HTTP date: keep the backoff
                wait = max(wait, min(float(retry_after), MAX_RETRY_AFTER))
        time.sleep(wait)


#: Paths of the public log: never signed (a signature would only spend a nonce).
_PUBLIC_PATHS = ("/checkpoint", "/tile/", "/v1/log", "/v1/proofs/", "/v1/checkpoints",
                 "/v1/entries/", "/v1/statements", "/healthz", "/readyz", "/metrics",
                 "/openapi.json")


class SignedReads(httpx.Auth):
    """Signs each read of a record (``GET /v1/<collection>/<id>``) with the party's key: RFC 9421
    HTTP Message Signatures as :mod:`reelrights.access.http_signing` profiles them (``created``
    now, a fresh nonce, so a retry is signed anew, and the registry's id as ``tag``: given, or
    asked once from the service's public ``GET /v1/log``). Statements are signed on their own
    and the public log needs no signature, so neither is signed here. The private key never
    leaves the :class:`~reelrights.keys.PartyKey`: only the signature base reaches it."""

    requires_request_body = True
    requires_response_body = True

    def __init__(self, key: PartyKey, registry: str | None = None, *,
                 sign_posts: bool = False) -> None:
        #: Also sign POSTs (a disclosure grant: a signed request with a body, Content-Digest).
        self.sign_posts = sign_posts
        self.key = key
        self.key_id = key_id_for(key.public_key_bytes)
        self.registry = registry

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if (request.method == "POST" and not self.sign_posts) \
                or request.url.path.startswith(_PUBLIC_PATHS):
            yield request
            return
        if self.registry is None:
            answer = yield httpx.Request("GET", request.url.copy_with(
                path="/v1/log", query=None), headers={"User-Agent": _USER_AGENT})
            try:
                self.registry = str(json.loads(answer.content)["registry"])
            except (ValueError, KeyError, TypeError):
                raise ServiceError(f"{request.url.copy_with(path='/v1/log', query=None)} does "
                                   "not name the registry; is this a reelrights service?"
                                   ) from None
        request.headers.update(sign_request(
            request.method, str(request.url), request.headers.multi_items(), request.content,
            key_id=self.key_id, sign=self.key.sign, registry=self.registry))
        yield request


def _reason(exc: httpx.TransportError) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())[:200]
