"""The project CA: root and signer certificate profiles, key files, idempotence, refusals.

The profile checks read the certificates back with ``cryptography`` (not our own builder), and
one issued signer signs a real image that c2pa-python then reports Trusted under the exported
anchors: the profile is what the C2PA SDK accepts, not just what we think it should be.
"""

from __future__ import annotations

import datetime as dt
import json
import stat

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from reelrights.cli import cli
from reelrights.core.x509 import (
    C2PA_CLAIM_SIGNING,
    DOCUMENT_SIGNING,
    check_signer_profile,
    make_root_cert,
)
from reelrights.errors import NotFound, PolicyDenied
from reelrights.home import Home
from reelrights.outputs import pki
from reelrights.registry.parties import register_party


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _ext(cert: x509.Certificate, cls: type) -> x509.Extension:
    return cert.extensions.get_extension_for_class(cls)


@pytest.fixture
def bare_home(tmp_path, monkeypatch):
    monkeypatch.delenv("REELRIGHTS_HOME", raising=False)
    monkeypatch.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    return Home.init(tmp_path / "home")[0]


def test_root_profile_and_key_mode(bare_home):
    root, created = pki.init_ca(bare_home, days=100)
    assert created
    cert = x509.load_pem_x509_certificate((bare_home.path / "ca" / "root.pem").read_bytes())
    assert cert.subject == cert.issuer and cert.version is x509.Version.v3
    bc = _ext(cert, x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = _ext(cert, x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    assert not ku.value.digital_signature
    ski = _ext(cert, x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    assert isinstance(cert.public_key(), Ed25519PublicKey)
    assert 99 <= (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 100
    assert _mode(bare_home.path / "ca" / "root.key.pem") == 0o600
    assert b"PRIVATE KEY" not in (bare_home.path / "ca" / "root.pem").read_bytes()


def test_ca_init_is_idempotent(bare_home):
    first, _ = pki.init_ca(bare_home)
    files = {p.name: p.read_bytes() for p in (bare_home.path / "ca").iterdir() if p.is_file()}
    again, created = pki.init_ca(bare_home, days=5)
    assert not created and again.cert == first.cert
    assert {p.name: p.read_bytes() for p in (bare_home.path / "ca").iterdir()
            if p.is_file()} == files
    assert not [p for p in bare_home.path.iterdir() if p.name.startswith(".ca-")]


def test_signer_profile_is_checked_with_cryptography(home, ledger):
    dev = register_party(home, ledger, "developer", "Frame Forge AI").details["id"]
    pki.init_ca(home)
    signer, issued = pki.issue_signer(home, ledger, "Frame Forge AI", days=30)
    assert issued and signer.party_id == dev
    leaf, root = signer.certificate, pki.load_ca(home).cert
    assert leaf.version is x509.Version.v3
    assert leaf.issuer == root.subject != leaf.subject  # never self-signed
    leaf.verify_directly_issued_by(root)
    eku = _ext(leaf, x509.ExtendedKeyUsage).value
    assert C2PA_CLAIM_SIGNING in eku and DOCUMENT_SIGNING in eku
    assert ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku
    ku = _ext(leaf, x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature
    assert not (ku.value.key_cert_sign or ku.value.crl_sign or ku.value.content_commitment
                or ku.value.key_encipherment)
    bc = _ext(leaf, x509.BasicConstraints)
    assert bc.critical and not bc.value.ca
    aki = _ext(leaf, x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == _ext(root, x509.SubjectKeyIdentifier).value.digest
    assert _ext(leaf, x509.SubjectKeyIdentifier).value == \
        x509.SubjectKeyIdentifier.from_public_key(leaf.public_key())
    attrs = {a.oid: a.value for a in leaf.subject}
    assert attrs == {NameOID.COMMON_NAME: "Frame Forge AI", NameOID.ORGANIZATION_NAME: "reelrights",
                     NameOID.USER_ID: dev}
    assert 30 <= (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days <= 31
    assert check_signer_profile(leaf, root) == []
    key_path = home.keys_dir / f"{dev}.c2pa.pem"
    assert _mode(key_path) == 0o600
    assert key_path.read_bytes() != home.party_key_path(dev).read_bytes()  # a separate key
    assert "PRIVATE" not in repr(signer)


def test_issue_reuses_a_current_certificate_and_renews_with_the_same_key(home, ledger):
    dev = register_party(home, ledger, "developer", "Dev").details["id"]
    first = pki.ensure_signer(home, ledger, dev)  # creates the CA on first use
    again, issued = pki.issue_signer(home, ledger, dev)
    assert not issued and again.cert_chain_pem == first.cert_chain_pem
    renewed, issued = pki.issue_signer(home, ledger, dev, renew=True)
    assert issued and renewed.certificate.serial_number != first.certificate.serial_number
    assert renewed.certificate.public_key() == first.certificate.public_key()
    assert [p.serial for p in pki.list_issued(home, dev)] == [
        format(first.certificate.serial_number, "x"), format(renewed.certificate.serial_number, "x")]
    # a day before expiry the signer is renewed rather than handed out
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=pki.SIGNER_DAYS)
    _, issued = pki.issue_signer(home, ledger, dev, now=later)
    assert issued


def test_non_developers_are_refused_and_nothing_is_written(home, ledger):
    studio = register_party(home, ledger, "studio", "Big Studio").details["id"]
    pki.init_ca(home)
    with pytest.raises(PolicyDenied, match="is a studio; C2PA signing certificates are issued "
                                           "only to developer parties"):
        pki.issue_signer(home, ledger, studio)
    assert not (home.keys_dir / f"{studio}.c2pa.pem").exists()
    assert pki.list_issued(home) == []
    with pytest.raises(NotFound, match="ca issue --party"):
        pki.load_signer(home, studio)


def test_check_signer_profile_catches_a_ca_used_as_signer():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key = Ed25519PrivateKey.generate()
    cert = make_root_cert(key, common_name="not a signer", days=1)
    problems = check_signer_profile(cert, cert)
    assert "self-signed" in problems
    assert any("CA:false" in p for p in problems) and any("extendedKeyUsage" in p for p in problems)


def test_cli_ca_commands(tmp_path, monkeypatch):
    monkeypatch.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    home = str(tmp_path / "h")
    run = CliRunner().invoke
    assert run(cli, ["--home", home, "init"]).exit_code == 0
    r1 = run(cli, ["--home", home, "ca", "init", "--json"])
    r2 = run(cli, ["--home", home, "ca", "init"])
    assert json.loads(r1.output)["created"] is True and r2.exit_code == 0
    assert r2.stdout == json.loads(r1.output)["id"] + "\n"  # the root's SHA-256, its id
    assert r2.stderr.startswith("exists, unchanged")
    dev = run(cli, ["--home", home, "party", "add", "--kind", "developer", "--name", "D"]).output.strip()
    perf = run(cli, ["--home", home, "party", "add", "--kind", "performer", "--name", "P"]).output.strip()
    issued = run(cli, ["--home", home, "ca", "issue", "--party", dev, "--json"])
    assert issued.exit_code == 0 and json.loads(issued.output)["party_id"] == dev
    denied = run(cli, ["--home", home, "ca", "issue", "--party", perf])
    assert denied.exit_code == 3
    assert denied.output.count("\n") == 1 and denied.output.startswith("error: party")
    out = tmp_path / "anchors.pem"
    assert run(cli, ["--home", home, "ca", "anchors", "-o", str(out)]).exit_code == 0
    assert out.read_bytes() == (tmp_path / "h" / "ca" / "root.pem").read_bytes()
    shown = json.loads(run(cli, ["--home", home, "ca", "show", "--json"]).output)
    assert [p["party_id"] for p in shown["issued"]] == [dev]


def test_an_issued_signer_is_trusted_by_c2pa_under_the_exported_anchors(home, ledger, tmp_path):
    from reelrights.media import synth
    from reelrights.media.c2pa_assertions import OutputAssertions, ReuseTerm, TrainingRunClaim
    from reelrights.media.c2pa_engine import sign_output, verify_file

    dev = register_party(home, ledger, "developer", "Dev").details["id"]
    signer = pki.ensure_signer(home, ledger, dev)
    claim = OutputAssertions(TrainingRunClaim("run_1", "00" * 32, "11" * 32, "22" * 32),
                             {"cawg.ai_training": ReuseTerm("notAllowed")})
    src = synth.make_image(tmp_path / "a.png", size=(16, 16))
    signed = sign_output(src, tmp_path / "s.png", signer=signer, assertions=claim)
    verdict = verify_file(signed.path, anchors=pki.trust_anchors_pem(home))
    assert verdict.state == "Trusted", verdict.explanations
    assert format(int(verdict.signer.serial), "x") == pki.list_issued(home, dev)[0].serial
