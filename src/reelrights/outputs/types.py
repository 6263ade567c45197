"""Statement type ``output.registered``: a developer's record of one generated output.

The record ties an output (by the SHA-256 of its unsigned bytes and the digest of its
fingerprint) to the training run that produced it, the run's audit certificate and, where
known, the production that uses it. It names the model only through a salted commitment
(:func:`model_commitment`): the salt stays with the developer (a 0600 file) and goes only to
auditors, so the public record does not disclose which exact model made the output. The C2PA
manifest embedded in the output points back to this record by its log index.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from ..core.canonical import canonical_bytes
from ..core.ids import ID_PATTERNS
from ..core.schema import Obj, Str
from ..core.statement_types import PARTY_ID, SHA256, StatementType, collector
from ..evidence.run_types import RUN_ID

#: This capability's statement types (assembled by reelrights.catalogue).
TYPES: list[StatementType] = []
register = collector(TYPES)

__all__ = ["MEDIA_KINDS", "MODEL_COMMITMENT_CONTEXT", "OUTPUT_ID", "check_model_commitment",
           "model_commitment"]

OUTPUT_ID = Str(pattern=ID_PATTERNS["output"], hint="an output id like out_k3vq7xw2m4a6c5de",
                max_len=20)
CERTIFICATE_ID = Str(pattern=ID_PATTERNS["certificate"], max_len=20,
                     hint="a certificate id like crt_k3vq7xw2m4a6c5de")
PRODUCTION_ID = Str(pattern=ID_PATTERNS["production"], max_len=20,
                    hint="a production id like prd_k3vq7xw2m4a6c5de")
MEDIA_KINDS = ("video", "audio", "image", "text", "document")
FINGERPRINT_ALG = Str(pattern=r"[a-z0-9][a-z0-9.\-]*\.[a-z0-9.\-]+", max_len=64,
                      hint="a dotted fingerprint algorithm id like dev.reelrights.pdq.1")
TIME = Str(pattern=r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z",
           hint="an RFC 3339 UTC time like 2026-01-31T12:00:00Z", max_len=32)
#: Domain separation: a model commitment can never be mistaken for any other SHA-256.
MODEL_COMMITMENT_CONTEXT = b"reelrights/model-commitment/v1\n"

register(StatementType(
    "output.registered", 1,
    Obj({"id": OUTPUT_ID, "developer": PARTY_ID, "run": RUN_ID,
         "media_kind": Str(choices=MEDIA_KINDS), "sha256": SHA256,
         "fingerprint_alg": FINGERPRINT_ALG, "fingerprint": SHA256,
         "model_commitment": SHA256, "created": TIME},
        {"certificate": CERTIFICATE_ID, "production": PRODUCTION_ID, "prompt_sha256": SHA256}),
    actor_field="developer",
    summary="A developer records a generated output: its content hash and fingerprint digest, "
            "the training run and audit certificate behind it, and a salted commitment to the "
            "model identity."))


def model_commitment(salt: bytes, identity: dict[str, Any]) -> str:
    """SHA-256(context || salt || JCS(identity)) in hex. ``identity`` names the model (run,
    model family, model and any weights digest); ``salt`` is 32 random bytes."""
    if len(salt) != 32:
        raise ValueError("the model-commitment salt must be 32 bytes")
    return hashlib.sha256(MODEL_COMMITMENT_CONTEXT + salt + canonical_bytes(identity)).hexdigest()


def check_model_commitment(commitment: str, salt: bytes, identity: dict[str, Any]) -> bool:
    """What an auditor holding the salt does: does the opening match the commitment?"""
    return hmac.compare_digest(model_commitment(salt, identity), commitment)
