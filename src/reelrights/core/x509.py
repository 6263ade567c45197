"""The project PKI's certificate profile: pure builders and checks, no file I/O.

C2PA validators (c2pa-rs ``certificate_profile.rs``) refuse a signer certificate that is
self-signed, lacks an Authority Key Identifier, carries ``keyCertSign``, or has no extended key
usage from the C2PA list. So the project runs a two-level PKI, modelled on the C2PA Trust List
profile:

* **root CA**: self-signed, ``basicConstraints CA:true, pathlen:0`` (critical), ``keyCertSign |
  cRLSign`` (critical), Subject Key Identifier. It signs nothing but developer signers, so no
  intermediate is needed; ``pathlen 0`` says so to every validator.
* **C2PA signer** (one per developer party): ``CA:false`` (critical), ``digitalSignature`` only
  (critical), EKU C2PA claim-signing ``1.3.6.1.4.1.62558.2.1`` plus documentSigning
  ``1.3.6.1.5.5.7.3.36`` (both on the C2PA allowed list; documentSigning lets generic PDF and
  document tools accept the same certificate), AKI = the root's SKI, SKI of its own, and a
  subject ``CN=<party name>, O=reelrights, UID=<party id>``, so a manifest names the party that
  made the output and the id resolves in the registry and the log.

Keys are Ed25519: c2pa-python signs and validates a little faster with Ed25519 than ES256
(benchmarks/provenance_sign.py and docs/provenance.md give the figures), and the rest of the
project is Ed25519 already.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

__all__ = ["C2PA_CLAIM_SIGNING", "DOCUMENT_SIGNING", "ORGANIZATION", "SignerProfile",
           "check_signer_profile", "issue_signer_cert", "make_root_cert", "signer_profile"]

C2PA_CLAIM_SIGNING = ObjectIdentifier("1.3.6.1.4.1.62558.2.1")
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
ORGANIZATION = "reelrights"
_BACKDATE = dt.timedelta(minutes=5)  # tolerate small clock skew between signer and verifier


_E = TypeVar("_E", bound=x509.ExtensionType)


def _hash_alg(key: object) -> hashes.SHA256 | None:
    return None if isinstance(key, Ed25519PrivateKey) else hashes.SHA256()


def make_root_cert(key: Ed25519PrivateKey, *, common_name: str, days: int,
                   now: dt.datetime | None = None) -> x509.Certificate:
    """The self-signed project root: CA:true pathlen 0, keyCertSign|cRLSign, SKI (= AKI)."""
    now = now or dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION)])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                           critical=False)
            .sign(key, _hash_alg(key)))


def issue_signer_cert(root_key: Ed25519PrivateKey, root_cert: x509.Certificate,
                      signer_public: Ed25519PublicKey, *, party_id: str, party_name: str,
                      days: int, now: dt.datetime | None = None) -> x509.Certificate:
    """A C2PA claim-signing leaf for one developer party, signed by the root (never self-signed)."""
    now = now or dt.datetime.now(dt.UTC)
    not_after = min(now + dt.timedelta(days=days), root_cert.not_valid_after_utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, party_name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                         x509.NameAttribute(NameOID.USER_ID, party_id)])
    root_ski = root_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(root_cert.subject).public_key(signer_public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([C2PA_CLAIM_SIGNING, DOCUMENT_SIGNING]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski),
                           critical=False)
            .sign(root_key, _hash_alg(root_key)))


@dataclass(frozen=True)
class SignerProfile:
    """What a signer certificate says about itself, for listings and checks."""

    party_id: str
    common_name: str
    serial: str  # hex; c2pa's signature_info gives it in decimal (SignerIdentity.serial_hex)
    not_before: str
    not_after: str
    issuer: str
    fingerprint_sha256: str

    def to_json(self) -> dict[str, str]:
        return dict(self.__dict__)


def _attr(name: x509.Name, oid: ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def signer_profile(cert: x509.Certificate) -> SignerProfile:
    return SignerProfile(
        party_id=_attr(cert.subject, NameOID.USER_ID),
        common_name=_attr(cert.subject, NameOID.COMMON_NAME),
        serial=format(cert.serial_number, "x"),
        not_before=cert.not_valid_before_utc.isoformat(),
        not_after=cert.not_valid_after_utc.isoformat(),
        issuer=cert.issuer.rfc4514_string(),
        fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex())


def check_signer_profile(cert: x509.Certificate, root: x509.Certificate) -> list[str]:
    """Every way ``cert`` breaks the C2PA signer profile under ``root`` ([] when it conforms)."""
    problems: list[str] = []
    ext = cert.extensions

    def get(cls: type[_E]) -> x509.Extension[_E] | None:
        try:
            return ext.get_extension_for_class(cls)
        except x509.ExtensionNotFound:
            return None

    if cert.version is not x509.Version.v3:
        problems.append("not X.509 v3")
    if cert.issuer == cert.subject:
        problems.append("self-signed")
    try:
        cert.verify_directly_issued_by(root)
    except Exception as exc:  # noqa: BLE001 - InvalidSignature, ValueError, TypeError
        problems.append(f"not signed by the root ({type(exc).__name__})")
    bc = get(x509.BasicConstraints)
    if bc is None or bc.value.ca:
        problems.append("basicConstraints must say CA:false")
    ku = get(x509.KeyUsage)
    if ku is None or not ku.critical or not ku.value.digital_signature \
            or ku.value.key_cert_sign:
        problems.append("keyUsage must be critical digitalSignature without keyCertSign")
    eku = get(x509.ExtendedKeyUsage)
    if eku is None or C2PA_CLAIM_SIGNING not in eku.value \
            or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in eku.value:
        problems.append("extendedKeyUsage must hold C2PA claim-signing and not anyExtendedKeyUsage")
    aki = get(x509.AuthorityKeyIdentifier)
    root_ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    if aki is None or aki.value.key_identifier != root_ski.digest:
        problems.append("authorityKeyIdentifier must name the root's key")
    if get(x509.SubjectKeyIdentifier) is None:
        problems.append("subjectKeyIdentifier missing")
    return problems
