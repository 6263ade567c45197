"""The assertions a reelrights output manifest carries, and the manifest definition JSON.

Pure data: no I/O, no c2pa calls, so the provenance service can build, store and compare the
exact assertion bodies it asked for (they come back verbatim from :func:`verify_file`).

* ``c2pa.actions`` (filed as ``c2pa.actions.v2``): one ``c2pa.created`` action with the IPTC
  digital source type ``trainedAlgorithmicMedia`` and reelrights as the software agent.
* ``cawg.training-mining``: the output's *own* reuse terms, an entry per use
  (``cawg.ai_training``, ``cawg.ai_generative_training``, ``cawg.ai_inference``,
  ``cawg.data_mining``), each ``allowed``, ``notAllowed`` or ``constrained`` (with
  ``constraint_info``). The CAWG assertion replaced ``c2pa.training-mining`` in C2PA 2.0.
* ``c2pa.soft-binding``: the output's fingerprint (``alg`` such as ``dev.reelrights.pdq.1``,
  blocks of base64 values, a timespan scope in milliseconds for video and audio), which finds
  the output record again when the manifest has been stripped.
* ``dev.reelrights.training-run``: the run commitment root, the audit certificate digest, the
  output record's log index and a salted commitment to the model identity (the salt goes only
  to auditors, so the manifest does not disclose the model).
* ``dev.reelrights.tlog-proof``: ``{"proof": <c2sp.org/tlog-proof text>}``, the output record's
  offline proof (its run, certificate and signers' keys with it), so ``reelrights verify FILE``
  checks the chain with the log's public key alone (docs/verify.md).
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import BadInput

__all__ = ["ACTIONS_LABEL", "REUSE_USES", "SOFT_BINDING_LABEL", "STANDARD_REUSE_ENTRIES",
           "TLOG_PROOF_LABEL", "TRAINED_ALGORITHMIC_MEDIA", "TRAINING_MINING_LABEL",
           "TRAINING_RUN_LABEL",
           "OutputAssertions", "ReuseTerm", "SoftBinding", "SoftBindingBlock", "TrainingRunClaim",
           "manifest_definition"]

ACTIONS_LABEL = "c2pa.actions"
TRAINING_MINING_LABEL = "cawg.training-mining"
SOFT_BINDING_LABEL = "c2pa.soft-binding"
TRAINING_RUN_LABEL = "dev.reelrights.training-run"
TLOG_PROOF_LABEL = "dev.reelrights.tlog-proof"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
STANDARD_REUSE_ENTRIES = ("cawg.ai_training", "cawg.ai_generative_training", "cawg.ai_inference",
                          "cawg.data_mining")
REUSE_USES = ("allowed", "notAllowed", "constrained")
_ALG_RE = re.compile(r"^[a-z0-9][a-z0-9.\-]*\.[a-z0-9.\-]+$", re.I)
_ENTRY_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_\-]+)+$", re.I)


@dataclass(frozen=True)
class ReuseTerm:
    """One ``cawg.training-mining`` entry: may this output be used for a given purpose?"""

    use: str
    constraint_info: str | None = None

    def __post_init__(self) -> None:
        if self.use not in REUSE_USES:
            raise BadInput(f"reuse use {self.use!r}: must be one of {', '.join(REUSE_USES)}")
        if self.constraint_info is not None and self.use != "constrained":
            raise BadInput("constraint_info is only for use 'constrained'; drop it or say constrained")

    def to_json(self) -> dict[str, str]:
        out = {"use": self.use}
        if self.constraint_info is not None:
            out["constraint_info"] = self.constraint_info
        return out


@dataclass(frozen=True)
class SoftBindingBlock:
    """One fingerprint value; ``start_ms``/``end_ms`` scope it to a stretch of video or audio."""

    value: bytes
    start_ms: int | None = None
    end_ms: int | None = None

    def to_json(self) -> dict[str, Any]:
        scope: dict[str, Any] = {}
        if self.start_ms is not None or self.end_ms is not None:
            if self.start_ms is None or self.end_ms is None or not 0 <= self.start_ms <= self.end_ms:
                raise BadInput(f"soft-binding timespan {self.start_ms}..{self.end_ms}: give both "
                               "ends in milliseconds, start <= end")
            scope["timespan"] = {"start": self.start_ms, "end": self.end_ms}
        return {"scope": scope, "value": base64.b64encode(self.value).decode("ascii")}


@dataclass(frozen=True)
class SoftBinding:
    """A ``c2pa.soft-binding`` assertion: a fingerprint algorithm id and its values."""

    alg: str
    blocks: tuple[SoftBindingBlock, ...]
    name: str | None = None

    def __post_init__(self) -> None:
        if not _ALG_RE.match(self.alg):
            raise BadInput(f"soft-binding alg {self.alg!r}: use a dotted id like dev.reelrights.pdq.1")
        if not self.blocks:
            raise BadInput(f"soft-binding {self.alg}: give at least one fingerprint block")

    @classmethod
    def whole(cls, alg: str, value: bytes, name: str | None = None) -> SoftBinding:
        """A fingerprint of the whole output (one block, no scope)."""
        return cls(alg, (SoftBindingBlock(value),), name)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"alg": self.alg, "blocks": [b.to_json() for b in self.blocks],
                               "pad": []}
        if self.name:
            out["name"] = self.name
        return out


@dataclass(frozen=True)
class TrainingRunClaim:
    """The ``dev.reelrights.training-run`` assertion: what ties an output to a certified run.

    ``output_record_log_index`` is None when the output record is logged after signing."""

    run: str
    run_commitment_root: str
    audit_certificate_digest: str
    model_commitment: str
    output_record_log_index: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.extra, "run": self.run,
                               "run_commitment_root": self.run_commitment_root,
                               "audit_certificate_digest": self.audit_certificate_digest,
                               "model_commitment": self.model_commitment}
        if self.output_record_log_index is not None:
            out["output_record_log_index"] = self.output_record_log_index
        return out


@dataclass(frozen=True)
class OutputAssertions:
    """Everything the caller decides about one output's manifest."""

    training_run: TrainingRunClaim
    reuse: Mapping[str, ReuseTerm]
    soft_bindings: Sequence[SoftBinding] = ()
    software_agent: str = "reelrights"
    tlog_proof: str | None = None  # the output record's c2sp.org/tlog-proof text

    def __post_init__(self) -> None:
        if not self.reuse:
            raise BadInput("reuse terms are empty; give at least cawg.ai_training "
                           "(allowed, notAllowed or constrained)")
        for key in self.reuse:
            if not _ENTRY_RE.match(key):
                raise BadInput(f"reuse entry {key!r}: use a dotted name like cawg.ai_training")

    def assertion_bodies(self) -> dict[str, Any]:
        """label -> data, in manifest order (soft bindings share one label, so at most one)."""
        if len(self.soft_bindings) > 1:
            raise BadInput("one soft binding per manifest: combine the blocks under one alg")
        out: dict[str, Any] = {
            ACTIONS_LABEL: {"actions": [{"action": "c2pa.created",
                                         "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                                         "softwareAgent": {"name": self.software_agent}}]},
            TRAINING_MINING_LABEL: {"entries": {k: v.to_json() for k, v in self.reuse.items()}},
        }
        for sb in self.soft_bindings:
            out[SOFT_BINDING_LABEL] = sb.to_json()
        out[TRAINING_RUN_LABEL] = self.training_run.to_json()
        if self.tlog_proof is not None:
            out[TLOG_PROOF_LABEL] = {"proof": self.tlog_proof}
        return out


@functools.cache
def _our_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("reelrights")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def manifest_definition(assertions: OutputAssertions, *, title: str, mime: str) -> dict[str, Any]:
    """The c2pa-python Builder definition for one output."""
    return {"claim_generator_info": [{"name": "reelrights", "version": _our_version()}],
            "title": title, "format": mime,
            "assertions": [{"label": k, "data": v}
                           for k, v in assertions.assertion_bodies().items()]}
