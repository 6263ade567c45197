"""The project certificate authority in the home, and C2PA signers for developer parties.

::

    <home>/ca/root.key.pem            the root's Ed25519 key, 0600 (never leaves the home)
    <home>/ca/root.pem                the root certificate: the trust anchor verifiers install
    <home>/ca/issued/<serial>.pem     every signer certificate ever issued (the CA's register)
    <home>/keys/<party id>.c2pa.pem   a developer's C2PA signing key, 0600

The C2PA key is separate from the party's statement key (``keys/<party id>.pem``). The two keys
do different jobs with different lifetimes: the statement key is the party's identity in the log
and may be passphrase-encrypted and kept offline, while the C2PA key signs COSE claims on a render
farm with every output, so it must load unattended and may be rotated or revoked (by letting its
certificate lapse) without touching the party's identity. Separate keys also keep the two
signature formats from ever being asked to sign each other's bytes.

The certificate profile itself (extensions, EKU, subject) is built in :mod:`reelrights.core.x509`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..core.x509 import SignerProfile, issue_signer_cert, make_root_cert, signer_profile
from ..errors import BadInput, NotFound, PolicyDenied
from ..home import Home
from ..keys import PartyKey, load_key_file, write_key_file

if TYPE_CHECKING:
    from cryptography.hazmat.primitives import hashes

    from ..ledger import Ledger

__all__ = ["C2paSigner", "ProjectCA", "ensure_signer", "init_ca", "issue_signer", "list_issued",
           "load_ca", "load_signer", "trust_anchors_pem"]

ROOT_DAYS = 3650
SIGNER_DAYS = 730
_RENEW_BEFORE = dt.timedelta(days=1)  # a signer this close to expiry is renewed, not reused


@dataclass(frozen=True)
class ProjectCA:
    """The project root: its certificate (public) and where its key is."""

    dir: Path
    cert: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def to_json(self) -> dict[str, str]:
        return {"dir": str(self.dir), "subject": self.cert.subject.rfc4514_string(),
                "serial": format(self.cert.serial_number, "x"),
                "not_after": self.cert.not_valid_after_utc.isoformat(),
                "fingerprint_sha256": self.cert.fingerprint(_sha256()).hex()}


@dataclass(frozen=True, repr=False)
class C2paSigner:
    """What c2pa-python needs to sign: the certificate chain (leaf first) and the private key.

    ``repr`` never shows the key."""

    party_id: str
    cert_chain_pem: bytes
    key_pem: bytes
    alg: str = "ed25519"

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificates(self.cert_chain_pem)[0]

    def __repr__(self) -> str:
        return f"<C2paSigner party={self.party_id} alg={self.alg}>"


def _sha256() -> hashes.SHA256:
    from cryptography.hazmat.primitives import hashes
    return hashes.SHA256()


def _ca_dir(home: Home) -> Path:
    return home.path / "ca"


def _write_public(path: Path, data: bytes) -> None:
    """Write a public file atomically (temp file + rename), so a crash leaves no half file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def init_ca(home: Home, *, days: int = ROOT_DAYS, common_name: str | None = None
            ) -> tuple[ProjectCA, bool]:
    """Create the root CA in ``<home>/ca`` unless it exists. Returns (ca, created).

    Key and certificate are made in a temporary sibling folder that is renamed into place, so
    ``ca/`` appears whole or not at all."""
    target = _ca_dir(home)
    if target.exists():
        return load_ca(home), False
    if days < 1:
        raise BadInput(f"--days {days}: the root must be valid for at least one day")
    key = PartyKey.generate()
    cert = make_root_cert(Ed25519PrivateKey.from_private_bytes(key.seed),
                          common_name=common_name or f"reelrights root CA ({home.origin})",
                          days=days)
    staging = Path(tempfile.mkdtemp(prefix=".ca-", dir=home.path))
    try:
        os.chmod(staging, 0o700)
        write_key_file(staging / "root.key.pem", key)
        _write_public(staging / "root.pem", cert.public_bytes(serialization.Encoding.PEM))
        (staging / "issued").mkdir()
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ProjectCA(target, cert), True


def load_ca(home: Home) -> ProjectCA:
    path = _ca_dir(home) / "root.pem"
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        raise NotFound(f"{home.path} has no project CA; run `reelrights ca init` first") from None
    return ProjectCA(path.parent, cert)


def trust_anchors_pem(home: Home) -> bytes:
    """The PEM verifiers pass as C2PA ``trust.user_anchors`` (or c2patool's trust anchors)."""
    return load_ca(home).cert_pem


def _root_key(ca: ProjectCA) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(load_key_file(ca.dir / "root.key.pem").seed)


def _signer_key_path(home: Home, party_id: str) -> Path:
    return home.keys_dir / f"{party_id}.c2pa.pem"


def list_issued(home: Home, party_id: str | None = None) -> list[SignerProfile]:
    """Every signer certificate the CA issued (optionally one party's), oldest first."""
    ca = load_ca(home)
    # Issue order: validity start, then the file's write time (two issues can share a second).
    files = [(x509.load_pem_x509_certificate(p.read_bytes()), p.stat().st_mtime_ns)
             for p in (ca.dir / "issued").glob("*.pem")]
    files.sort(key=lambda cf: (cf[0].not_valid_before_utc, cf[1]))
    out = [signer_profile(c) for c, _ in files]
    return [p for p in out if party_id is None or p.party_id == party_id]


def _current_cert(home: Home, party_id: str, now: dt.datetime) -> x509.Certificate | None:
    ca = load_ca(home)
    best = None
    for profile in list_issued(home, party_id):
        cert = x509.load_pem_x509_certificate((ca.dir / "issued" / f"{profile.serial}.pem").read_bytes())
        if (cert.not_valid_after_utc - _RENEW_BEFORE > now
                and cert.not_valid_before_utc <= now + dt.timedelta(minutes=10)):
            best = cert
    return best


def _developer(ledger: Ledger, party_ref: str) -> tuple[str, str]:
    """(id, name) of a registered developer party; anyone else is refused."""
    from ..registry.resolve import resolve_party
    with ledger.db.read() as conn:
        row = resolve_party(conn, party_ref)
    if row.kind != "developer":
        raise PolicyDenied(f"party {row.id} ({row.name}) is a {row.kind}; C2PA signing "
                           "certificates are issued only to developer parties")
    return row.id, row.name


def issue_signer(home: Home, ledger: Ledger, party_ref: str, *, days: int = SIGNER_DAYS,
                 renew: bool = False, now: dt.datetime | None = None) -> tuple[C2paSigner, bool]:
    """Issue (or, if a current one exists and ``renew`` is false, reuse) a developer's signer.

    Returns (signer, issued). The party's C2PA key is created on first issue (0600) and kept
    across renewals, so a renewal changes the certificate, not the key."""
    now = now or dt.datetime.now(dt.UTC)
    if days < 1:
        raise BadInput(f"--days {days}: a signer certificate must be valid for at least one day")
    party_id, party_name = _developer(ledger, party_ref)
    ca = load_ca(home)
    key_path = _signer_key_path(home, party_id)
    if not renew and key_path.exists():
        current = _current_cert(home, party_id, now)
        if current is not None:
            return _signer(home, party_id, current), False
    if not key_path.exists():
        write_key_file(key_path, PartyKey.generate())
    key = Ed25519PrivateKey.from_private_bytes(load_key_file(key_path).seed)
    cert = issue_signer_cert(_root_key(ca), ca.cert, key.public_key(), party_id=party_id,
                             party_name=party_name, days=days, now=now)
    _write_public(ca.dir / "issued" / f"{format(cert.serial_number, 'x')}.pem",
                  cert.public_bytes(serialization.Encoding.PEM))
    return _signer(home, party_id, cert), True


def ensure_signer(home: Home, ledger: Ledger, party_ref: str) -> C2paSigner:
    """The signer the provenance service uses for a developer: issued on first use, renewed
    when it is about to expire. Creates the CA too if the home has none yet."""
    init_ca(home)
    return issue_signer(home, ledger, party_ref)[0]


def _signer(home: Home, party_id: str, cert: x509.Certificate) -> C2paSigner:
    key = load_key_file(_signer_key_path(home, party_id))
    key_pem = Ed25519PrivateKey.from_private_bytes(key.seed).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return C2paSigner(party_id, cert.public_bytes(serialization.Encoding.PEM), key_pem)


def load_signer(home: Home, party_id: str, now: dt.datetime | None = None) -> C2paSigner:
    """A party's current signer, without the registry (for signing on a render node)."""
    cert = _current_cert(home, party_id, now or dt.datetime.now(dt.UTC))
    if cert is None:
        raise NotFound(f"party {party_id} has no current C2PA certificate; run "
                       f"`reelrights ca issue --party {party_id}`")
    return _signer(home, party_id, cert)
