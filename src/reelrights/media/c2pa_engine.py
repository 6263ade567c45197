"""C2PA manifests for generated outputs: sign (embed or sidecar) and verify, fully offline.

The engine wraps c2pa-python (c2pa-rs 0.91) with one fixed, offline configuration:

* no network: ``verify.remote_manifest_fetch`` and ``verify.ocsp_fetch`` are off, so verifying a
  file never tells a server that someone looked at it;
* no thumbnails (``builder.thumbnail.enabled`` off): a thumbnail costs ~100 ms and ~200 KB per
  image and would leak a preview of an output into every copy of its manifest;
* trust: ``verify.verify_trust`` on, the project root as ``trust.user_anchors``, and the
  C2PA claim-signing and documentSigning EKUs in ``trust.trust_config``. c2pa-rs 0.91 accepts
  neither EKU under user anchors unless the trust config lists it (measured: "certificate missing
  required EKU"), so every verifier needs both the anchors and the EKU list (docs/provenance.md).

A manifest carries four assertions: ``c2pa.actions`` (v2: ``c2pa.created`` with the IPTC digital
source type ``trainedAlgorithmicMedia``), ``cawg.training-mining`` (the output's own reuse terms),
``c2pa.soft-binding`` (the output's fingerprint, to find the record again after stripping) and
``dev.reelrights.training-run`` (what links the output to the certified run). Images, video,
audio and PDF embed the manifest; plain text gets a detached ``<dst>.c2pa`` sidecar because it has
no place to hide one. The types are in :mod:`reelrights.media.c2pa_assertions`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa

from ..errors import BadInput, MediaError
from .c2pa_assertions import (
    ACTIONS_LABEL,
    TRAINING_MINING_LABEL,
    OutputAssertions,
    manifest_definition,
)

__all__ = ["EMBED_FORMATS", "SIDECAR_FORMATS", "SignResult", "SignerIdentity", "VerifyResult",
           "c2pa_settings", "manifest_label_of", "mime_for", "read_actions", "sidecar_path",
           "sign_output", "signing_context", "verify_context", "verify_file"]

#: Extension -> MIME type for formats that carry the manifest inside the file.
EMBED_FORMATS = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime",
    ".wav": "audio/wav", ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".pdf": "application/pdf",
}
#: Plain-text formats: the manifest goes to a detached ``<file>.c2pa`` sidecar.
SIDECAR_FORMATS = {".txt": "text/plain", ".fountain": "text/plain", ".md": "text/plain"}
#: The C2PA-listed EKUs our signer certificates carry; verifiers must accept them.
SIGNER_EKUS = ("1.3.6.1.4.1.62558.2.1", "1.3.6.1.5.5.7.3.36")
_LABEL_RE = re.compile(rb"urn:c2pa:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def mime_for(path: str | os.PathLike[str]) -> tuple[str, bool]:
    """(MIME type, uses a sidecar) for a file, by extension."""
    ext = Path(path).suffix.lower()
    if ext in EMBED_FORMATS:
        return EMBED_FORMATS[ext], False
    if ext in SIDECAR_FORMATS:
        return SIDECAR_FORMATS[ext], True
    known = ", ".join(sorted({*EMBED_FORMATS, *SIDECAR_FORMATS}))
    raise BadInput(f"{path}: C2PA signing supports {known}; convert the output to one of them")


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """Where a plain-text output's manifest lives: the file name plus ``.c2pa``."""
    p = Path(path)
    return p.with_name(p.name + ".c2pa")


# -- settings and contexts -------------------------------------------------------------------

_local = threading.local()  # c2pa Contexts are reused within a thread, never shared across

def c2pa_settings(anchors: bytes | None, *, verify_trust: bool = True) -> dict[str, Any]:
    """The offline settings document; ``anchors`` is a PEM bundle of trusted roots."""
    settings: dict[str, Any] = {
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False,
                   "verify_trust": verify_trust},
        "builder": {"thumbnail": {"enabled": False}},
        "trust": {"trust_config": "".join(f"{oid}\n" for oid in SIGNER_EKUS)},
    }
    if anchors:
        settings["trust"]["user_anchors"] = anchors.decode("ascii")
    return settings


def verify_context(anchors: bytes | None) -> c2pa.Context:
    """A reading context that trusts exactly ``anchors`` (cached per thread and anchor set)."""
    cache = _local.__dict__.setdefault("verify", {})
    ctx = cache.get(anchors)
    if ctx is None or not ctx.is_valid:
        if len(cache) >= 8:
            cache.clear()
        ctx = cache[anchors] = c2pa.Context(settings=c2pa.Settings.from_dict(c2pa_settings(anchors)))
    return ctx


def signing_context() -> c2pa.Context:
    """The signing context: offline, no thumbnail. The SDK re-validates the manifest after
    signing (profile, hashes); trust is the verifier's business, so it is not judged here.

    Settings never change, so each thread builds its context once (~1.3 ms saved per sign)."""
    ctx = getattr(_local, "signing", None)
    if ctx is None or not ctx.is_valid:
        ctx = _local.signing = c2pa.Context(
            settings=c2pa.Settings.from_dict(c2pa_settings(None, verify_trust=False)))
    return ctx


# -- signing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignResult:
    """What signing produced. ``manifest`` is the JUMBF manifest store (the bytes a sidecar
    holds), which the provenance service keeps server-side keyed by ``manifest_label``."""

    manifest_label: str
    format: str
    path: Path
    sidecar: Path | None
    bytes_added: int
    manifest: bytes = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"manifest_label": self.manifest_label, "format": self.format,
                "path": str(self.path), "sidecar": str(self.sidecar) if self.sidecar else None,
                "bytes_added": self.bytes_added, "manifest_bytes": len(self.manifest)}


def _c2pa_signer(signer: Any) -> c2pa.Signer:
    """A c2pa Signer from anything with ``alg``, ``cert_chain_pem`` and ``key_pem``
    (:class:`reelrights.outputs.pki.C2paSigner`)."""
    info = c2pa.C2paSignerInfo(signer.alg.encode("ascii"), signer.cert_chain_pem, signer.key_pem,
                               None)
    return c2pa.Signer.from_info(info)


def sign_output(src: str | os.PathLike[str], dst: str | os.PathLike[str], *, signer: Any,
                assertions: OutputAssertions, context: c2pa.Context | None = None) -> SignResult:
    """Write ``dst``: ``src`` with an embedded manifest, or, for plain text, a byte-identical copy
    plus the sidecar ``<dst>.c2pa``. Files appear whole or not at all (temp file + rename).

    ``signer`` holds the certificate chain (leaf first) and key; ``context`` may be a reused
    :func:`signing_context` (one is made per call otherwise)."""
    src_p, dst_p = Path(src), Path(dst)
    mime, detached = mime_for(dst_p)
    if mime != mime_for(src_p)[0]:
        raise BadInput(f"{dst_p}: its extension must match {src_p.name}'s format ({mime_for(src_p)[0]})")
    if not src_p.is_file():
        raise BadInput(f"{src_p}: no such file; pass the generated output to sign")
    if dst_p.exists() and os.path.samefile(src_p, dst_p):
        raise BadInput(f"{dst_p}: the signed copy must be a new file, not the source itself")
    definition = manifest_definition(assertions, title=dst_p.name, mime=mime)
    dst_p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dst_p.name}.", dir=dst_p.parent)
    tmp = Path(tmp_name)
    side_tmp = tmp.with_name(tmp.name + ".c2pa")
    try:
        with os.fdopen(fd, "w+b") as out, src_p.open("rb") as source:
            builder = c2pa.Builder(definition, context=context or signing_context())
            try:
                if detached:
                    builder.set_no_embed()
                manifest = builder.sign(_c2pa_signer(signer), mime, source, out)
            except c2pa.C2paError as exc:
                raise MediaError(f"{src_p}: C2PA signing failed ({_one_line(exc)}); check that "
                                 "the file decodes and the signer certificate is current",
                                 str(src_p)) from None
            finally:
                builder.close()
        if detached:
            shutil.copyfile(src_p, tmp)  # the exact bytes the data hash covers
            side_tmp.write_bytes(manifest)
            os.replace(side_tmp, sidecar_path(dst_p))
        # Unlink, then rename: on ext4 a rename over an existing file forces the new data to
        # disk first (auto_da_alloc, ~5 ms here). dst is never partial, at worst briefly absent.
        dst_p.unlink(missing_ok=True)
        os.rename(tmp, dst_p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        side_tmp.unlink(missing_ok=True)
        raise
    added = len(manifest) if detached else dst_p.stat().st_size - src_p.stat().st_size
    return SignResult(manifest_label_of(manifest), mime, dst_p,
                      sidecar_path(dst_p) if detached else None, added, manifest)


def manifest_label_of(manifest: bytes) -> str:
    """The manifest label (``urn:c2pa:<uuid>``) inside a JUMBF manifest store ("" if none)."""
    match = _LABEL_RE.search(manifest)
    return match.group().decode("ascii") if match else ""


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


# -- verifying -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignerIdentity:
    """Who signed, as the claim signature's certificate says (c2pa ``signature_info``)."""

    issuer: str
    common_name: str
    serial: str  # decimal, as c2pa reports it
    alg: str

    @property
    def serial_hex(self) -> str:
        return format(int(self.serial), "x") if self.serial.isdigit() else ""


@dataclass(frozen=True)
class VerifyResult:
    """The C2PA verdict on one file.

    ``state`` is ``Trusted`` (valid and signed under a trusted anchor), ``Valid`` (intact but the
    signer is not trusted: see ``failure_codes``), ``Invalid`` (a hash or signature fails) or
    ``NotFound`` (no manifest: never signed, or stripped)."""

    state: str
    failure_codes: tuple[str, ...] = ()
    success_codes: tuple[str, ...] = ()
    informational_codes: tuple[str, ...] = ()
    signer: SignerIdentity | None = None
    assertions: dict[str, Any] = field(default_factory=dict)
    manifest_label: str | None = None
    sidecar: Path | None = None
    explanations: tuple[str, ...] = ()

    @property
    def training_mining(self) -> dict[str, Any] | None:
        return self.assertions.get(TRAINING_MINING_LABEL)

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "failure_codes": list(self.failure_codes),
                "success_codes": list(self.success_codes),
                "informational_codes": list(self.informational_codes),
                "signer": None if self.signer is None else {**self.signer.__dict__,
                                                            "serial_hex": self.signer.serial_hex},
                "manifest_label": self.manifest_label, "assertions": self.assertions,
                "sidecar": str(self.sidecar) if self.sidecar else None,
                "explanations": list(self.explanations)}


def verify_file(path: str | os.PathLike[str], *, anchors: bytes | None,
                sidecar: str | os.PathLike[str] | None = None,
                context: c2pa.Context | None = None) -> VerifyResult:
    """Validate the manifest of ``path`` (embedded, or ``sidecar``; for plain text the sidecar
    defaults to ``<path>.c2pa``) against ``anchors``. Never raises for a missing or broken
    manifest: those are verdicts (``NotFound``, ``Invalid``)."""
    p = Path(path)
    mime, detached = mime_for(p)
    if not p.is_file():
        raise BadInput(f"{p}: no such file; pass the output to verify")
    side: Path | None = Path(sidecar) if sidecar is not None else None
    if side is None and detached and sidecar_path(p).is_file():
        side = sidecar_path(p)
    if detached and side is None:
        return VerifyResult("NotFound", explanations=(f"no sidecar {sidecar_path(p).name}",))
    manifest_data = side.read_bytes() if side is not None else None
    ctx = context or verify_context(anchors)
    try:
        with p.open("rb") as stream:
            reader = c2pa.Reader.try_create(mime, stream, manifest_data, context=ctx)
            if reader is None:
                return VerifyResult("NotFound", sidecar=side)
            try:
                return _verdict(reader, side)
            finally:
                reader.close()
    except c2pa.C2paError as exc:
        # A manifest is there but cannot even be parsed: a broken one, not a missing one.
        return VerifyResult("Invalid", failure_codes=("general.error",), sidecar=side,
                            explanations=(_one_line(exc),))


def verify_manifest_store(data: bytes, *, anchors: bytes | None) -> VerifyResult:
    """Validate a detached C2PA manifest store (``application/c2pa`` bytes) on its own: its claim
    signature and assertion hashes; its hard binding names an asset that is not given, so it
    fails by construction (``assertion.dataHash.mismatch``). Never raises for a broken one."""
    import io

    try:
        reader = c2pa.Reader.try_create("application/c2pa", io.BytesIO(data),
                                        context=verify_context(anchors))
        if reader is None:
            return VerifyResult("NotFound")
        try:
            return _verdict(reader, None)
        finally:
            reader.close()
    except c2pa.C2paError as exc:
        return VerifyResult("Invalid", failure_codes=("general.error",),
                            explanations=(_one_line(exc),))


def _verdict(reader: c2pa.Reader, side: Path | None) -> VerifyResult:
    state = reader.get_validation_state() or "Invalid"
    results = (reader.get_validation_results() or {}).get("activeManifest") or {}
    manifest = reader.get_active_manifest() or {}
    info = manifest.get("signature_info") or {}
    signer = SignerIdentity(str(info.get("issuer", "")), str(info.get("common_name", "")),
                            str(info.get("cert_serial_number", "")), str(info.get("alg", ""))) \
        if info else None
    assertions = {a["label"]: a.get("data") for a in manifest.get("assertions", [])}

    def codes(kind: str) -> tuple[str, ...]:
        return tuple(r["code"] for r in results.get(kind, []))

    failures = results.get("failure", [])
    return VerifyResult(state, codes("failure"), codes("success"), codes("informational"), signer,
                        assertions, manifest.get("label"), side,
                        tuple(f"{r['code']}: {r.get('explanation', '')}" for r in failures))


def read_actions(result: VerifyResult) -> list[dict[str, Any]]:
    """The actions of the manifest (the SDK files ``c2pa.actions`` as ``c2pa.actions.v2``)."""
    data = result.assertions.get(f"{ACTIONS_LABEL}.v2") or result.assertions.get(ACTIONS_LABEL)
    return list((data or {}).get("actions", []))

