"""Real servers for domain proofs on loopback: an HTTPS server with a test CA's certificate, and
a tiny UDP DNS responder built with dnspython's message API. Both on 127.0.0.1, port 0."""

from __future__ import annotations

import contextlib
import datetime
import http.server
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from reelrights.identity.domain_proof import FetchPolicy


def make_ca(folder: Path, names: list[str]) -> tuple[Path, Path, Path]:
    """A test CA (ca.pem) and one certificate for ``names`` signed by it (cert.pem, key.pem)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "reelrights test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                       crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False,
                                       decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(cert.public_bytes(pem))
    paths[2].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@dataclass
class Page:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds between 1-byte chunks (a server that trickles its answer).
    drip_s: float = 0.0


class HttpsServer:
    """Serves ``pages[(host, path)]`` over TLS with the test certificate; records each request's
    Host header."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.pages: dict[tuple[str, str], Page] = {}
        self.hosts: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                host = (self.headers.get("host") or "").split(":")[0]
                outer.hosts.append(host)
                page = outer.pages.get((host, self.path), Page(b"missing", 404))
                self.send_response(page.status)
                for k, v in page.headers.items():
                    self.send_header(k, v)
                if "content-length" not in {k.lower() for k in page.headers}:
                    self.send_header("content-length", str(len(page.body)))
                self.end_headers()
                try:
                    if page.drip_s:
                        for i in range(len(page.body)):
                            self.wfile.write(page.body[i:i + 1])
                            self.wfile.flush()
                            time.sleep(page.drip_s)
                    else:
                        self.wfile.write(page.body)
                except OSError:
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class DnsResponder:
    """Answers A and TXT queries from ``a[name]`` (a list of addresses, or a function of the
    query count) and ``txt[name]``; counts the queries per (name, type)."""

    def __init__(self) -> None:
        self.a: dict[str, list[str] | Callable[[int], list[str]]] = {}
        self.txt: dict[str, list[str]] = {}
        self.queries: dict[tuple[str, str], int] = {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            q = dns.message.from_wire(data)
            r = dns.message.make_response(q)
            question = q.question[0]
            name = question.name.to_text().rstrip(".").lower()
            kind = dns.rdatatype.to_text(question.rdtype)
            n = self.queries[(name, kind)] = self.queries.get((name, kind), 0) + 1
            if kind == "A" and name in self.a:
                spec = self.a[name]
                addrs = spec(n) if callable(spec) else spec
                r.answer.append(dns.rrset.from_text_list(question.name, 0, "IN", "A", addrs))
            elif kind == "TXT" and name in self.txt:
                texts = [" ".join(f'"{c}"' for c in _chunks(t)) for t in self.txt[name]]
                r.answer.append(dns.rrset.from_text_list(question.name, 0, "IN", "TXT", texts))
            self.sock.sendto(r.to_wire(), peer)

    def close(self) -> None:
        self._stop = True
        self.sock.close()


def _chunks(text: str) -> list[str]:
    return [text[i:i + 200] for i in range(0, len(text), 200)] or [""]


@dataclass
class ProofWorld:
    """The test internet: an HTTPS server, a DNS responder and the fetch policy that uses them."""

    https: HttpsServer
    dns: DnsResponder
    ca: Path

    def policy(self, **kw: Any) -> FetchPolicy:
        return FetchPolicy(allow_loopback=True, ca_file=str(self.ca),
                           nameserver=f"127.0.0.1:{self.dns.port}", https_port=self.https.port,
                           **kw)

    def config(self) -> dict[str, Any]:
        """The service's ``identity_fetch`` setting for this world."""
        return {"allow_loopback": True, "ca_file": str(self.ca),
                "nameserver": f"127.0.0.1:{self.dns.port}", "https_port": self.https.port}

    def publish(self, domain: str, document: Any, **page: Any) -> None:
        import json

        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.dns.a.setdefault(domain, ["127.0.0.1"])
        headers = {"content-type": "application/json", **page.pop("headers", {})}
        self.https.pages[(domain, "/.well-known/reelrights.json")] = Page(
            body, headers=headers, **page)


DOMAINS = ["northlight.example", "impostor.example", "sag.example", "slow.example",
           "big.example", "moved.example", "private.example", "rebind.example",
           "xn--northlight-pictres-9kc.example"]


@contextlib.contextmanager
def proof_world(folder: Path) -> Iterator[ProofWorld]:
    """A running proof world whose certificate covers :data:`DOMAINS` (stopped after use)."""
    ca, cert, key = make_ca(folder, DOMAINS)
    https, dns = HttpsServer(cert, key), DnsResponder()
    try:
        yield ProofWorld(https, dns, ca)
    finally:
        https.close()
        dns.close()
