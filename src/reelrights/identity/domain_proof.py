"""Fetching a party's domain proof: ``https://DOMAIN/.well-known/reelrights.json`` or the DNS TXT
record ``_reelrights.DOMAIN`` (docs/identity.md, "Domain control").

The server fetches what a stranger names, so the fetch is fenced:

* **HTTPS only, public addresses only.** The name is resolved **once** (A and AAAA); every
  address must be public (no loopback, private, link-local, multicast, reserved, unspecified or
  otherwise non-global address, IPv4-mapped ones judged as IPv4), and the connection goes to
  the first of them, pinned: the HTTP stack never resolves the name again (a DNS rebinding
  answer after the check is never used), while TLS still sends the domain as SNI and verifies
  the certificate for the domain, and the Host header is the domain.
* **No redirects** (a 3xx is refused), **at most** :data:`MAX_BYTES` bytes, **at most**
  :data:`TIMEOUT_S` seconds for the whole fetch, resolution included (a server that trickles
  its answer is cut off at the deadline).

:class:`FetchPolicy` holds the test-only switches (``allow_loopback`` with a ``ca_file`` for a
test certificate, a ``nameserver`` and an ``https_port``): they are explicit arguments, set by
tests through the service's ``--config-json`` (``identity_fetch``), never by default.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from ..errors import BadInput, VerificationError

__all__ = ["DOCUMENT_FORMAT", "MAX_BYTES", "TIMEOUT_S", "TXT_PREFIX", "DomainProof", "Expected",
           "FetchPolicy", "fetch_proof", "proof_document", "proof_txt", "refused_address"]

MAX_BYTES = 64 * 1024
TIMEOUT_S = 5.0
WELL_KNOWN = "/.well-known/reelrights.json"
DOCUMENT_FORMAT = "party-domain/v1"
TXT_PREFIX = "v=reelrights1"


class ProofFailed(VerificationError):
    """A domain proof could not be fetched or does not hold (the message says which)."""


@dataclass(frozen=True)
class FetchPolicy:
    """Limits and switches of one fetch. The defaults are production's; the rest is for tests."""

    timeout_s: float = TIMEOUT_S
    max_bytes: int = MAX_BYTES
    #: Tests only: loopback addresses are allowed (private and the rest never are).
    allow_loopback: bool = False
    #: Tests only: a PEM CA file trusted instead of the system's (a test certificate).
    ca_file: str | None = None
    #: Tests only: ``host:port`` of the DNS server to ask (default: the system's resolver).
    nameserver: str | None = None
    #: Tests only: the HTTPS port (a local server on port 0).
    https_port: int = 443

    @classmethod
    def from_config(cls, value: Any) -> FetchPolicy:
        """From the service's ``identity_fetch`` config (a JSON object; unknown keys refused)."""
        if value is None:
            return cls()
        if not isinstance(value, dict) or set(value) - set(cls.__dataclass_fields__):
            raise BadInput(f"identity_fetch must be an object with keys from "
                           f"{sorted(cls.__dataclass_fields__)}")
        return cls(**value)


@dataclass(frozen=True)
class Expected:
    """What the proof must say: this registry, this party, its key, the issued nonce."""

    registry: str
    party: str
    public_key: str  # base64, as party.registered carries it
    nonce: str


@dataclass(frozen=True)
class DomainProof:
    """A proof that held: where it was fetched and the SHA-256 of exactly what was read."""

    domain: str
    proof: str  # "https" or "dns"
    document_sha256: str
    #: The address connected to (https) or the record's name (dns).
    source: str


def proof_document(e: Expected) -> dict[str, str]:
    """The JSON document the party publishes at ``https://DOMAIN/.well-known/reelrights.json``."""
    return {"reelrights": DOCUMENT_FORMAT, "registry": e.registry, "party": e.party,
            "public_key": e.public_key, "nonce": e.nonce}


def proof_txt(e: Expected) -> str:
    """The TXT record's text the party publishes at ``_reelrights.DOMAIN``."""
    return (f"{TXT_PREFIX} registry={e.registry} party={e.party} key={e.public_key} "
            f"nonce={e.nonce}")


def refused_address(text: str, allow_loopback: bool = False) -> str | None:
    """Why the address ``text`` may not be fetched from, or None if it is public."""
    addr: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(text)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.is_loopback:
        return None if allow_loopback else "a loopback address"
    for flag, why in (("is_unspecified", "the unspecified address"),
                      ("is_link_local", "a link-local address"),
                      ("is_multicast", "a multicast address"),
                      ("is_reserved", "a reserved address"),
                      ("is_private", "a private address")):
        if getattr(addr, flag):
            return why
    if not addr.is_global:
        return "not a public address"
    return None


def fetch_proof(domain: str, proof: str, expected: Expected,
                policy: FetchPolicy | None = None) -> DomainProof:
    """Fetch ``domain``'s proof by ``proof`` ("https" or "dns") and check it says ``expected``.
    Raises :class:`ProofFailed` (a :class:`~reelrights.errors.VerificationError`) naming why."""
    policy = policy or FetchPolicy()
    deadline = time.monotonic() + policy.timeout_s
    if proof == "https":
        raw, source = _fetch_https(domain, policy, deadline)
        _check_document(domain, raw, expected)
    elif proof == "dns":
        raw, source = _fetch_txt(domain, policy, deadline)
        _check_txt(domain, raw, expected)
    else:
        raise BadInput(f"proof {proof!r} is not https or dns")
    return DomainProof(domain, proof, hashlib.sha256(raw).hexdigest(), source)


# -- resolution ---------------------------------------------------------------------------------

def _resolver(policy: FetchPolicy, deadline: float) -> Any:
    import dns.resolver

    if policy.nameserver is None:
        r = dns.resolver.Resolver()
    else:
        host, _, port = policy.nameserver.rpartition(":")
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = [host]
        r.port = int(port)
    r.lifetime = max(0.05, deadline - time.monotonic())
    r.timeout = r.lifetime
    return r


def _resolve_once(domain: str, policy: FetchPolicy, deadline: float) -> str:
    """The one address to connect to: every address the name has must be public."""
    import dns.exception
    import dns.resolver

    resolver = _resolver(policy, deadline)
    found: list[str] = []
    for rdtype in ("A", "AAAA"):
        try:
            answer = resolver.resolve(domain, rdtype, search=False)
        except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
            continue
        except dns.exception.Timeout:
            raise ProofFailed(f"resolving {domain} took longer than {policy.timeout_s:g} s") \
                from None
        except dns.exception.DNSException as exc:
            raise ProofFailed(f"{domain} could not be resolved ({exc})") from None
        found.extend(r.to_text() for r in answer)
        resolver.lifetime = max(0.05, deadline - time.monotonic())
    if not found:
        raise ProofFailed(f"{domain} has no address (no A or AAAA record)")
    for addr in found:
        why = refused_address(addr, policy.allow_loopback)
        if why is not None:
            raise ProofFailed(f"{domain} resolves to {addr}, {why}: a domain proof is fetched "
                              "from public addresses only")
    return found[0]


# -- HTTPS, pinned to the resolved address -----------------------------------------------------

class _PinnedBackend(httpcore.NetworkBackend):
    """Connects to ``address`` whatever host the URL names (TLS still uses the URL's host)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return self.inner.connect_tcp(self.address, port, timeout, local_address,
                                      socket_options)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:  # pragma: no cover - never asked
        raise httpcore.ConnectError("no unix sockets here")

    def sleep(self, seconds: float) -> None:  # pragma: no cover - no retries
        time.sleep(seconds)


class _PinnedTransport(httpx.HTTPTransport):
    def __init__(self, address: str, context: ssl.SSLContext) -> None:
        super().__init__(verify=context, http1=True, http2=False, retries=0)
        self._pool = httpcore.ConnectionPool(ssl_context=context, max_connections=1,
                                             retries=0, network_backend=_PinnedBackend(address))


def _remaining(deadline: float, policy: FetchPolicy, domain: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise ProofFailed(f"https://{domain}{WELL_KNOWN} did not answer in full within "
                          f"{policy.timeout_s:g} s")
    return left


def _fetch_https(domain: str, policy: FetchPolicy, deadline: float) -> tuple[bytes, str]:
    address = _resolve_once(domain, policy, deadline)
    context = ssl.create_default_context(cafile=policy.ca_file)
    port = "" if policy.https_port == 443 else f":{policy.https_port}"
    url = f"https://{domain}{port}{WELL_KNOWN}"
    timeout = httpx.Timeout(_remaining(deadline, policy, domain))
    try:
        with httpx.Client(transport=_PinnedTransport(address, context), timeout=timeout,
                          follow_redirects=False, trust_env=False) as client, \
                client.stream("GET", url, headers={"accept": "application/json"}) as response:
            if response.is_redirect:
                raise ProofFailed(f"{url} answered a redirect ({response.status_code}); "
                                  "redirects are refused: publish the document at that URL")
            if response.status_code != 200:
                raise ProofFailed(f"{url} answered HTTP {response.status_code}, not 200")
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > policy.max_bytes:
                raise ProofFailed(f"{url} is {declared} bytes, over the limit of "
                                  f"{policy.max_bytes}")
            body = bytearray()
            for chunk in response.iter_raw():
                body += chunk
                if len(body) > policy.max_bytes:
                    raise ProofFailed(f"{url} is over the limit of {policy.max_bytes} bytes")
                _remaining(deadline, policy, domain)
    except httpx.TimeoutException:
        raise ProofFailed(f"{url} did not answer in full within {policy.timeout_s:g} s") \
            from None
    except httpx.HTTPError as exc:
        cause = exc.__context__ if isinstance(exc.__context__, ssl.SSLError) else exc
        raise ProofFailed(f"{url} could not be fetched from {address} ({cause})") from None
    return bytes(body), address


def _check_document(domain: str, raw: bytes, e: Expected) -> None:
    where = f"https://{domain}{WELL_KNOWN}"
    try:
        doc = json.loads(raw)
    except ValueError:
        raise ProofFailed(f"{where} is not JSON") from None
    if not isinstance(doc, dict) or doc.get("reelrights") != DOCUMENT_FORMAT:
        raise ProofFailed(f"{where} is not a reelrights domain proof (\"reelrights\": "
                          f"\"{DOCUMENT_FORMAT}\")")
    _compare(where, {k: doc.get(k) for k in ("registry", "party", "public_key", "nonce")}, e)


def _compare(where: str, said: dict[str, Any], e: Expected) -> None:
    wanted = {"registry": e.registry, "party": e.party, "public_key": e.public_key,
              "nonce": e.nonce}
    for name, value in wanted.items():
        if said.get(name) != value:
            raise ProofFailed(f"{where} gives {name} {said.get(name)!r}, not {value!r}"
                              + ("; publish the party's current key" if name == "public_key"
                                 else "; publish the nonce this server issued"
                                 if name == "nonce" else ""))


# -- DNS TXT -----------------------------------------------------------------------------------

def _fetch_txt(domain: str, policy: FetchPolicy, deadline: float) -> tuple[bytes, str]:
    import dns.exception
    import dns.resolver

    name = f"_reelrights.{domain}"
    try:
        answer = _resolver(policy, deadline).resolve(name, "TXT", search=False)
    except dns.exception.Timeout:
        raise ProofFailed(f"the TXT record {name} did not arrive within {policy.timeout_s:g} s") \
            from None
    except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
        raise ProofFailed(f"{name} has no TXT record; publish {TXT_PREFIX} ... there") from None
    except dns.exception.DNSException as exc:
        raise ProofFailed(f"the TXT record {name} could not be read ({exc})") from None
    records = [b"".join(r.strings) for r in answer]
    ours = [r for r in records if r.startswith(TXT_PREFIX.encode() + b" ")]
    if len(ours) != 1:
        raise ProofFailed(f"{name} has {len(ours)} TXT records starting {TXT_PREFIX!r}; "
                          "publish exactly one")
    if len(ours[0]) > policy.max_bytes:
        raise ProofFailed(f"{name} is over the limit of {policy.max_bytes} bytes")
    return ours[0], name


def _check_txt(domain: str, raw: bytes, e: Expected) -> None:
    where = f"the TXT record _reelrights.{domain}"
    fields: dict[str, Any] = {}
    for word in raw.decode("utf-8", "replace").split()[1:]:
        key, sep, value = word.partition("=")
        if sep:
            fields[{"key": "public_key"}.get(key, key)] = value
    _compare(where, fields, e)
