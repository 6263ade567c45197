"""Where a declared preference is read from: a local file or an https URL, in any of the formats
this capability speaks. The I/O of ``preferences import`` (the parsers are pure).

Formats, recognised from the content (or named with ``--format``):

* ``robots.txt``: ``User-Agent`` groups with ``Content-Usage`` and ``Content-Signal`` lines;
* ``rsl``: an XML document whose root is ``<rsl xmlns="https://rslstandard.org/rsl">``;
* ``tdmrep``: a JSON array (``/.well-known/tdmrep.json``);
* ``cawg``: a JSON object: a ``cawg.training-mining`` / ``c2pa.training-mining`` assertion, its
  data, or a C2PA manifest store's JSON;
* ``content-usage``: a bare ``Content-Usage`` header value (name it with ``--format``);
* ``iptc-xmp`` (media files and XMP sidecars): the XMP packet's ``plus:DataMining``; a media file
  with a C2PA manifest also gives its training-mining assertions (read with ``c2pa-python``).

A URL is fetched like any server-side fetch: https only, no redirects, a host that resolves to
a loopback, private, link-local or reserved address is refused, at most 1 MiB in at most 10 s.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import BadInput
from .aipref import parse_aipref
from .categories import Preferences, combine
from .embedded import EmbeddedError, find_xmp, parse_cawg, parse_iptc_xmp, parse_tdmrep
from .robots import parse_robots
from .rsl import RslError, parse_rsl, preferences_for

__all__ = ["MAX_BYTES", "Source", "fetch_https", "fetch_https_response", "read_file",
           "read_source"]

MAX_BYTES = 1024 * 1024
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Source:
    format: str            # one of reelrights.preferences.types.FORMATS
    sha256: str
    preferences: Preferences


def _public(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise BadInput(f"cannot resolve {host} ({exc}); check the URL") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if not addr.is_global:
            raise BadInput(f"{host} resolves to {addr}, a non-public address; a preference "
                           "URL must be a public https site (or save the file and import it)")


def fetch_https(url: str, *, allow_private: bool = False, cafile: str | None = None,
                max_bytes: int = MAX_BYTES, timeout: float = TIMEOUT_S) -> bytes:
    """The body of ``url``: :func:`fetch_https_response` without the header."""
    return fetch_https_response(url, allow_private=allow_private, cafile=cafile,
                                max_bytes=max_bytes, timeout=timeout)[0]


def fetch_https_response(url: str, *, allow_private: bool = False, cafile: str | None = None,
                         max_bytes: int = MAX_BYTES,
                         timeout: float = TIMEOUT_S) -> tuple[bytes, str | None]:
    """The body of ``url`` and its ``Content-Usage`` header (None when absent; several field
    lines are joined with ", " as RFC 9110 §5.3 combines them), https only, no redirects, size
    and time bounded. ``allow_private`` and ``cafile`` exist for tests against a local server;
    the CLI never sets them."""
    import ssl

    import httpx

    verify = ssl.create_default_context(cafile=cafile) if cafile else True
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise BadInput(f"{url!r}: only https URLs are fetched; use https:// or a local file")
    if not allow_private:
        _public(parts.hostname, parts.port or 443)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, verify=verify) as client, \
                client.stream("GET", url, headers={"Accept": "*/*"}) as r:
            if r.status_code != 200:
                raise BadInput(f"{url} answered HTTP {r.status_code}; fetch the file yourself "
                               "and import it")
            usage = r.headers.get_list("content-usage")
            chunks, size = [], 0
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise BadInput(f"{url} is larger than {max_bytes} bytes; a preference "
                                   "document is small: check the URL")
                chunks.append(chunk)
            return b"".join(chunks), (", ".join(usage) if usage else None)
    except httpx.HTTPError as exc:
        raise BadInput(f"cannot fetch {url} ({type(exc).__name__}: {exc}); check the URL or "
                       "import a local copy") from None


def read_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > 512 * MAX_BYTES:
            raise BadInput(f"{path} is {size} bytes; import the preference document, or a media "
                           "file under 512 MiB")
        return path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path}: cannot read it ({exc.strerror}); check the path") from None


def _sniff(data: bytes, name: str) -> str:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") and b"rslstandard.org/rsl" in data[:65536]:
        return "rsl"
    if head.startswith(b"["):
        return "tdmrep"
    if head.startswith(b"{"):
        return "cawg"
    if name.endswith("robots.txt") or b"user-agent" in data[:65536].lower():
        return "robots.txt"
    return "iptc-xmp"


def _c2pa_assertions(path: Path | None) -> tuple[list[dict[str, object]], str] | None:
    """A media file's active C2PA manifest assertions (``[{label, data}]``) and its validation
    state, or None (no manifest, or not a format C2PA reads). Trust is not asked: the rights
    holder imports its own file and signs the statement itself; the state goes in the notes."""
    if path is None:
        return None
    from ..media.c2pa_engine import mime_for, verify_file

    try:
        mime_for(path)
        result = verify_file(path, anchors=None)
    except (BadInput, ValueError):
        return None
    if result.state == "NotFound" or not result.assertions:
        return None
    return ([{"label": k, "data": v} for k, v in result.assertions.items()], result.state)


def read_source(data: bytes, *, name: str = "", fmt: str | None = None, path: str = "/",
                user_agent: str = "*", local: Path | None = None,
                content_usage: str | None = None) -> Source:
    """The preferences ``data`` declares for ``path`` (as ``user_agent`` sees robots.txt).

    ``content_usage``: the ``Content-Usage`` header of the response that carried ``data``. It is
    about that content (draft-ietf-aipref-attach §2), so it counts for a media file or an
    unrecognised body, and is combined with what the file says (any disallow wins); for a
    robots.txt, RSL or JSON document it is about that document, not the work, and is ignored."""
    if content_usage is not None and fmt is None and _sniff(data, name) == "iptc-xmp" \
            and find_xmp(data) is None and _c2pa_assertions(local) is None:
        header = parse_aipref(content_usage.encode("latin-1", "replace"),
                              "HTTP Content-Usage header")
        return Source("content-usage", hashlib.sha256(data).hexdigest(), header)
    fmt = fmt or _sniff(data, name)
    sha = hashlib.sha256(data).hexdigest()
    try:
        if fmt == "robots.txt":
            prefs = parse_robots(data).preferences(path, user_agent)
        elif fmt == "rsl":
            prefs = preferences_for(parse_rsl(data), path)
        elif fmt == "tdmrep":
            prefs = parse_tdmrep(_json(data, name), path)
        elif fmt == "cawg":
            prefs = parse_cawg(_json(data, name))
        elif fmt == "content-usage":
            prefs = parse_aipref(data.strip(), "Content-Usage")
        elif fmt == "iptc-xmp":
            packet = find_xmp(data)
            found = [parse_iptc_xmp(packet)] if packet is not None else []
            c2pa = _c2pa_assertions(local)
            if c2pa is not None:
                assertions, state = c2pa
                read = parse_cawg(assertions)
                found.append(Preferences(read.values, (
                    f"C2PA manifest (validation state {state})", *read.notes)))
                fmt = "cawg" if packet is None else fmt
            if not found:
                raise BadInput(f"{name or 'the input'}: no XMP packet and no C2PA manifest, and "
                               "not robots.txt, RSL, TDMRep or CAWG JSON; name the format with "
                               "--format")
            if content_usage is not None:
                found.append(parse_aipref(content_usage.encode("latin-1", "replace"),
                                          "HTTP Content-Usage header"))
            prefs = combine(found)
        else:
            raise BadInput(f"--format {fmt!r} is not one this command reads")
    except (RslError, EmbeddedError, ValueError) as exc:
        if isinstance(exc, BadInput):
            raise
        raise BadInput(f"{name or 'the input'} ({fmt}): {exc}") from None
    return Source(fmt, sha, prefs)


def _json(data: bytes, name: str) -> object:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput(f"{name or 'the input'}: not JSON ({exc}); fix the file") from None
