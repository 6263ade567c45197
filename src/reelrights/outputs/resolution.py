"""Soft-binding resolution: find a stripped output's record and manifest on the service.

The C2PA Soft Binding Resolution API lets anyone who finds a file with its manifest stripped
ask a repository "whose is this?". The service answers for every output whose developer
published its binding there:

* **Publication** (:func:`publication`, :func:`publish`). The developer's home holds the output's
  prints and its manifest store. It signs them with the developer's key in a DSSE envelope
  (payload type :data:`PAYLOAD_TYPE`) and posts them. The service accepts them only when the
  output record is in its log, the envelope is signed by that record's developer, and the
  SHA-256 of the primary print equals the ``fingerprint`` the record logged: nobody can attach
  someone else's record to a picture, and the developer cannot swap in other prints later.
  (The crop variants a developer adds for robustness are not covered by the logged digest; they
  are accepted from the same signed envelope and can only make that developer's own output
  match.) The manifest store must name the output.
* **Resolution** by binding (:func:`by_binding`: the ``alg`` and a base64 value, computed by the
  client, so the content never leaves it) or by content (:func:`by_content`: the file itself, at
  most :data:`MAX_CONTENT_BYTES` and :data:`MAX_CONTENT_SECONDS`). Matches are every output
  that matches, best first, with a similarity score 0-100: two outputs that match equally well
  are both named.
* **ISCC** (``io.iscc.v0``, ISO 24138, on the C2PA soft-binding list): an image output's
  publication may carry its ISCC Image-Code (print kind ``iscc``, signed with the rest, like the
  crop variants not covered by the logged digest). ``by_binding`` with that ``alg`` takes the
  code (``ISCC:…`` or base64 of its 10 bytes) and ``by_content`` with ``alg`` computes it from
  the file; outputs within :data:`.output_index.ISCC_RADIUS` bits of its 64-bit body match.
* **Manifests** (:func:`manifest`): the stored manifest store (``application/c2pa``) by output
  id or manifest label.

Published prints and manifests are kept beside the registry (tables ``output_prints`` and
``output_manifests``); they are not in the log, so a registry rebuilt from the log alone has
none until developers publish again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, delete, select

from ..core.canonical import canonical_bytes
from ..core.dsse import Envelope, parse_envelope, sign_envelope, verify_envelope
from ..errors import BadInput, NotFound, PolicyDenied
from ..home import Home
from ..media.c2pa_engine import manifest_label_of
from ..media.fingerprint.iscc import ALG as ISCC_ALG
from ..media.fingerprint.iscc import IsccPrint
from ..store.db import Database
from ..store.key_tables import party_keys
from ..store.provenance_tables import output_manifests, output_prints, outputs
from ..store.tables import parties
from .output_index import (
    ALGS,
    OutputIndex,
    OutputPrints,
    Recovery,
    recover_all,
    recover_iscc,
    store_prints,
)

__all__ = ["MAX_CONTENT_BYTES", "MAX_CONTENT_SECONDS", "PAYLOAD_TYPE", "SUPPORTED", "Match",
           "by_binding",
           "by_content", "manifest", "publication", "publish", "supported_algorithms"]

PAYLOAD_TYPE = "application/vnd.reelrights.output-binding+json"
MAX_CONTENT_BYTES = 20 * 1024 * 1024
MAX_CONTENT_SECONDS = 60.0
MAX_RESULTS = 100
#: Chromaprint's item length (1,365 samples at 11,025 Hz), for a byBinding audio value.
_ITEM_MS = 1000.0 * 1365 / 11025
#: Print kinds a publication may carry (the primary ones and the crop variants).
_KINDS = ("video", "vcrop", "audio", "text", "iscc")
#: Every algorithm ``byBinding`` and ``byContent`` answer for.
SUPPORTED = (*ALGS.values(), ISCC_ALG)


@dataclass(frozen=True)
class Match:
    """One match: the output, its manifest (label), and how similar (0-100)."""

    output: str
    manifest_id: str
    similarity: int
    signal: str
    log_index: int

    def to_json(self) -> dict[str, Any]:
        # The API's fields (manifestId, similarityScore) and ours beside them.
        return {"manifestId": self.manifest_id, "similarityScore": self.similarity,
                "output": self.output, "signal": self.signal, "log_index": self.log_index}


def supported_algorithms() -> dict[str, Any]:
    """``/services/supportedAlgorithms``: no watermark; the reelrights fingerprints."""
    return {"watermarks": [],
            "fingerprints": [{"alg": ALGS["video"], "media": ["video", "image"]},
                             {"alg": ALGS["audio"], "media": ["audio"]},
                             {"alg": ALGS["text"], "media": ["text", "document"]},
                             {"alg": ISCC_ALG, "media": ["image"]}]}


# -- publication --------------------------------------------------------------------------------
def publication(home: Home, db: Database, output_id: str) -> Envelope:
    """The developer's signed publication of one output's prints and manifest store (read from
    its own home, where ``provenance sign`` kept them)."""
    with db.read() as conn:
        row = conn.execute(select(outputs).where(outputs.c.id == output_id)).first()
        if row is None:
            raise NotFound(f"output {output_id} is not recorded in this home; "
                           "`reelrights provenance list` shows its outputs")
        prints = {r.kind: bytes(r.data) for r in conn.execute(
            select(output_prints.c.kind, output_prints.c.data)
            .where(output_prints.c.output_id == output_id))}
        man = conn.execute(select(output_manifests).where(
            output_manifests.c.output_id == output_id)
            .order_by(output_manifests.c.signed_at.desc())).first()
    if not prints or man is None:
        raise NotFound(f"output {output_id} has no prints or manifest in this home; sign it "
                       "here with `reelrights provenance sign` first")
    payload = canonical_bytes({
        "output": output_id, "manifest_label": man.label, "format": man.format,
        "manifest": base64.b64encode(bytes(man.manifest)).decode("ascii"),
        "prints": {k: base64.b64encode(v).decode("ascii") for k, v in sorted(prints.items())}})
    return sign_envelope(PAYLOAD_TYPE, payload, home.party_key(row.developer_id))


def _b64(value: Any, what: str) -> bytes:
    if type(value) is not str:
        raise BadInput(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadInput(f"{what} is not valid base64") from None


def publish(home: Home, db: Database, envelope: Any,
            output_id: str | None = None) -> dict[str, Any]:
    """Check and store a publication (see the module docstring); idempotent. ``output_id``:
    the output the request was addressed to (the publication must be for it)."""
    from ..evidence.fingerprints import print_classes

    env = parse_envelope(envelope)
    if env.payload_type != PAYLOAD_TYPE:
        raise BadInput(f"payloadType {env.payload_type!r}: a publication is {PAYLOAD_TYPE}")
    # The signature first, by the registered keys its key ids name; then the content.
    wanted = [k for k, _ in env.signatures if k]
    with db.read() as conn:  # registered keys, and signing keys declared since (docs/keys.md)
        signers = {r.key_id: (r.id, bytes(r.public_key)) for r in conn.execute(
            select(parties.c.id, parties.c.key_id, parties.c.public_key)
            .where(parties.c.key_id.in_(wanted)))}
        signers.update({r.key_id: (r.party_id, bytes(r.public_key)) for r in conn.execute(
            select(party_keys.c.party_id, party_keys.c.key_id, party_keys.c.public_key)
            .where(party_keys.c.key_id.in_(wanted), party_keys.c.role == "signing"))})
    keyid = verify_envelope(env, {k: key for k, (_, key) in signers.items()})  # exit 1
    signer = signers[keyid][0]
    try:
        doc = json.loads(env.payload)
    except ValueError:
        raise BadInput("the publication's payload is not JSON") from None
    if type(doc) is not dict or set(doc) != {"output", "manifest_label", "format", "manifest",
                                             "prints"}:
        raise BadInput("the publication needs exactly output, manifest_label, format, "
                       "manifest and prints")
    out_id = doc["output"]
    if output_id is not None and out_id != output_id:
        raise BadInput(f"the publication is for {out_id}, not {output_id}; post it to "
                       f"/v1/outputs/{out_id}/binding")
    with db.read() as conn:
        row = conn.execute(select(outputs).where(outputs.c.id == out_id)).first() \
            if type(out_id) is str else None
    if row is None:
        raise NotFound(f"output {out_id} is not in this log; its record must be logged "
                       "before its binding is published")
    if row.developer_id != signer:
        raise PolicyDenied(f"output {out_id} is {row.developer_id}'s; {signer} cannot publish "
                           "its binding")
    if type(doc["prints"]) is not dict or not doc["prints"] \
            or not set(doc["prints"]) <= set(_KINDS):
        raise BadInput(f"prints must map kinds ({', '.join(_KINDS)}) to base64 values")
    raw = {k: _b64(v, f"prints.{k}") for k, v in doc["prints"].items()}
    if "iscc" in raw and row.media_kind != "image":
        raise BadInput(f"an ISCC Image-Code is an image's; output {out_id} is "
                       f"{row.media_kind}")
    primary = {"video": "video", "image": "video", "audio": "audio", "text": "text",
               "document": "text"}[row.media_kind]
    if primary not in raw:
        raise BadInput(f"a {row.media_kind} output's publication needs its {primary} print")
    if hashlib.sha256(raw[primary]).hexdigest() != row.fingerprint:
        raise PolicyDenied(f"the {primary} print does not hash to the fingerprint output "
                           f"{out_id} logged ({row.fingerprint[:16]}…): it is not this output's")
    classes = print_classes()
    try:
        prints = {k: classes[k].from_bytes(v) for k, v in raw.items()}
    except (ValueError, KeyError, IndexError):
        raise BadInput("a print does not decode; publish what `provenance sign` stored") from None
    manifest_bytes = _b64(doc["manifest"], "manifest")
    label = manifest_label_of(manifest_bytes)
    if not label or label != doc["manifest_label"] or out_id.encode() not in manifest_bytes:
        raise BadInput(f"the manifest store is not output {out_id}'s (its label or its "
                       "training-run assertion does not match)")
    index = OutputIndex(home)
    with db.write() as conn:
        conn.execute(delete(output_prints).where(output_prints.c.output_id == out_id))
        conn.execute(delete(output_manifests).where(output_manifests.c.label == label))
        conn.execute(output_manifests.insert().values(
            label=label, output_id=out_id, format=str(doc["format"])[:64],
            manifest=manifest_bytes, signer_serial="published",
            signed_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
    store_prints(db, index, out_id, OutputPrints(row.media_kind, row.sha256, prints))
    return {"output": out_id, "manifest_label": label, "prints": sorted(raw)}


# -- resolution ---------------------------------------------------------------------------------
def _matches(conn: Connection, found: list[Recovery], max_results: int) -> list[Match]:
    out = []
    for r in found[:max_results]:
        o = conn.execute(select(outputs.c.log_index).where(outputs.c.id == r.output_id)).first()
        label = conn.scalar(select(output_manifests.c.label)
                            .where(output_manifests.c.output_id == r.output_id)
                            .order_by(output_manifests.c.signed_at.desc()).limit(1))
        if o is None or label is None:
            continue
        sim = r.share * (1 - r.distance / 256 if r.signal == "video" else
                         1 - r.distance / 64 if r.signal == "iscc" else
                         1 - r.distance if r.signal == "audio" else 1)
        out.append(Match(r.output_id, label, max(0, min(100, round(100 * sim))), r.signal,
                         int(o.log_index)))
    return out


def _limit(max_results: int) -> int:
    if not 1 <= max_results <= MAX_RESULTS:
        raise BadInput(f"maxResults {max_results}: give 1 to {MAX_RESULTS}")
    return max_results


def by_binding(home: Home, db: Database, alg: str, value: str,
               max_results: int = 10) -> list[Match]:
    """Outputs matching one soft-binding value (one block of a ``c2pa.soft-binding``)."""
    from ..media.fingerprint import AudioPrint, TextPrint, VideoPrint

    max_results = _limit(max_results)
    if alg == ISCC_ALG:
        with db.read() as conn:
            return _matches(conn, recover_iscc(conn, _iscc_value(value)), max_results)
    raw = _b64(value, "value")
    if alg == ALGS["video"]:
        if len(raw) != 32:
            raise BadInput(f"a {alg} value is one 32-byte PDQ hash, not {len(raw)} bytes")
        p = VideoPrint(hashes=np.frombuffer(raw, np.uint8).reshape(1, 32),
                       quality=np.array([100], np.int32), time_ms=np.array([0], np.int64),
                       duration_ms=0, mode="still", width=0, height=0)
        op = OutputPrints("image", "", {"video": p})
    elif alg == ALGS["audio"]:
        if not raw or len(raw) % 4:
            raise BadInput(f"a {alg} value is Chromaprint items (uint32 little-endian)")
        items = np.frombuffer(raw, "<u4")
        op = OutputPrints("audio", "", {"audio": AudioPrint(
            items, _ITEM_MS, round(len(items) * _ITEM_MS))})
    elif alg == ALGS["text"]:
        if len(raw) != 128 * 8:
            raise BadInput(f"a {alg} value is 128 MinHash values (uint64 little-endian)")
        op = OutputPrints("text", "", {"text": TextPrint(
            np.frombuffer(raw, "<u8"), [], np.zeros(0, "<i4"), np.zeros(0, "<u8"))})
    else:
        raise BadInput(f"alg {alg!r} is not supported here; /services/supportedAlgorithms "
                       "lists " + ", ".join(SUPPORTED))
    with db.read() as conn:
        return _matches(conn, recover_all(conn, OutputIndex(home), op), max_results)


def _iscc_value(value: str) -> IsccPrint:
    """A byBinding ``io.iscc.v0`` value: the code (``ISCC:EEA…``) or base64 of its bytes."""
    try:
        if value.upper().startswith("ISCC:"):
            return IsccPrint.parse(value)
        return IsccPrint.from_bytes(_b64(value, "value"))
    except ValueError as e:
        raise BadInput(f"an {ISCC_ALG} value is a 64-bit ISCC Image-Code (ISCC:EEA… or base64 "
                       f"of its 10 bytes): {e}") from None


def by_content(home: Home, db: Database, path: Any, max_results: int = 10,
               alg: str | None = None) -> list[Match]:
    """Outputs matching a file (fingerprinted here, as ``provenance verify`` does; with
    ``alg`` ``io.iscc.v0``, by the image's ISCC Image-Code only)."""
    from ..media.probe import probe_file
    from .output_index import fingerprint_output

    max_results = _limit(max_results)
    if alg is not None and alg not in SUPPORTED:
        raise BadInput(f"alg {alg!r} is not supported here; /services/supportedAlgorithms "
                       "lists " + ", ".join(SUPPORTED))
    facts = probe_file(path)
    if alg == ISCC_ALG:
        from ..media.fingerprint.iscc import image_code

        if facts.category != "image":
            raise BadInput(f"{ISCC_ALG} is for images; this content is {facts.category} "
                           "(leave alg out to match it by its own fingerprint)")
        code = image_code(path)
        with db.read() as conn:
            return _matches(conn, recover_iscc(conn, code), max_results)
    seconds = (facts.duration_ms or 0) / 1000
    if seconds > MAX_CONTENT_SECONDS:
        raise BadInput(f"the content is {seconds:.0f} s long; byContent takes at most "
                       f"{MAX_CONTENT_SECONDS:.0f} s (cut an excerpt, or compute the binding "
                       "yourself and use byBinding)")
    op = fingerprint_output(path)
    with db.read() as conn:
        return _matches(conn, recover_all(conn, OutputIndex(home), op), max_results)


def manifest(db: Database, manifest_id: str) -> tuple[bytes, str]:
    """The manifest store by manifest label (``urn:c2pa:…``) or output id, and its label."""
    with db.read() as conn:
        row = conn.execute(select(output_manifests).where(
            (output_manifests.c.label == manifest_id)
            | (output_manifests.c.output_id == manifest_id))
            .order_by(output_manifests.c.signed_at.desc())).first()
    if row is None:
        raise NotFound(f"no manifest {manifest_id} is published here")
    return bytes(row.manifest), row.label



# -- the client side ----------------------------------------------------------------------------
#: Frames (or audio blocks) of a file a client looks up by binding, evenly spread.
CLIENT_PROBES = 8


def resolve_remote(client: Any, path: Any, *, by: str = "binding", max_results: int = 10,
                   alg: str | None = None) -> list[dict[str, Any]]:
    """Ask a service whose output ``path`` is. ``by="binding"``: fingerprint here and send only
    soft-binding values (up to :data:`CLIENT_PROBES` frames or blocks; an output is named with
    the share of probes it matched); ``by="content"``: upload the file (20 MB, 60 s). ``alg``
    ``io.iscc.v0``: the image's ISCC Image-Code instead of the file's own fingerprint."""
    from pathlib import Path

    from ..media.c2pa_engine import mime_for
    from .output_index import fingerprint_output

    path = Path(path)
    if by == "content":
        if path.stat().st_size > MAX_CONTENT_BYTES:
            raise BadInput(f"{path} is over {MAX_CONTENT_BYTES // 2**20} MB; use --by binding")
        return client.matches_by_content(path.read_bytes(), mime_for(path)[0], max_results,
                                         alg=alg)
    if by != "binding":
        raise BadInput(f"--by {by!r}: use binding or content")
    if alg == ISCC_ALG:
        from ..media.fingerprint.iscc import image_code
        from ..media.probe import probe_file

        if probe_file(path).category != "image":
            raise BadInput(f"{path}: --alg {ISCC_ALG} is for images; leave --alg out")
        code = image_code(path)
        return client.matches_by_binding(ISCC_ALG, base64.b64encode(code.code).decode("ascii"),
                                         max_results)
    if alg is not None and alg not in ALGS.values():
        raise BadInput(f"--alg {alg!r}: use {ISCC_ALG} or leave it out (the file's own "
                       "fingerprint)")
    binding = fingerprint_output(path).soft_binding()
    blocks = list(binding.blocks)
    if len(blocks) > CLIENT_PROBES:
        step = (len(blocks) - 1) / (CLIENT_PROBES - 1)
        blocks = [blocks[round(i * step)] for i in range(CLIENT_PROBES)]
    seen: dict[str, dict[str, Any]] = {}
    for block in blocks:
        value = base64.b64encode(block.value).decode("ascii")
        for m in client.matches_by_binding(binding.alg, value, max_results):
            best = seen.setdefault(m["output"], {**m, "probes": 0})
            best["probes"] += 1
            best["similarityScore"] = max(best["similarityScore"], m["similarityScore"])
    for m in seen.values():
        m["probe_share"] = round(m.pop("probes") / len(blocks), 4)
    return sorted(seen.values(), key=lambda m: (-m["probe_share"], -m["similarityScore"],
                                                m["output"]))[:max_results]
