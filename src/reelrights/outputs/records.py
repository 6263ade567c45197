"""The outputs record: one generated output as ``output.registered`` recorded it.

As in :mod:`reelrights.registry.records`: an immutable value read from its row (``from_row``),
attributes named as the columns (``run_id``), ``to_json`` with the keys of the signed
statement's body (``run``, ``created``) and the output's log index. The registry's row only
finds an output: verification decides from the signed record in the log
(:mod:`reelrights.outputs.provenance_verify`). :data:`OUTPUT` finds one by id; a reference that
is not an output id is refused before the database is asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.ids import ID_PATTERNS
from ..errors import BadInput
from ..store.provenance_tables import outputs
from ..store.resolve import JsonObject, Kind, StoredRow, resolve

if TYPE_CHECKING:
    from ..store.db import Database

__all__ = ["OUTPUT", "Output", "output_detail"]


@dataclass(frozen=True, slots=True)
class Output:
    """A generated output: its run and developer, the production it is for, the certificate it
    was signed under, its content hash, fingerprint digest and model commitment."""

    id: str
    run_id: str
    developer_id: str
    production_id: str | None
    certificate_id: str | None
    media_kind: str
    sha256: str
    fingerprint_alg: str
    fingerprint: str
    model_commitment: str
    prompt_sha256: str | None
    created_at: str
    log_index: int

    @classmethod
    def from_row(cls, row: StoredRow) -> Output:
        return cls(row.id, row.run_id, row.developer_id, row.production_id, row.certificate_id,
                   row.media_kind, row.sha256, row.fingerprint_alg, row.fingerprint,
                   row.model_commitment, row.prompt_sha256, row.created_at, row.log_index)

    def to_json(self) -> JsonObject:
        out: JsonObject = {"id": self.id, "developer": self.developer_id, "run": self.run_id,
                           "media_kind": self.media_kind, "sha256": self.sha256,
                           "fingerprint_alg": self.fingerprint_alg,
                           "fingerprint": self.fingerprint,
                           "model_commitment": self.model_commitment, "created": self.created_at}
        for key, value in (("certificate", self.certificate_id),
                           ("production", self.production_id),
                           ("prompt_sha256", self.prompt_sha256)):
            if value is not None:
                out[key] = value
        out["log_index"] = self.log_index
        return out


def _check_output_id(ref: str) -> None:
    if not re.fullmatch(ID_PATTERNS["output"], ref):
        raise BadInput(f"{ref!r} is not an output id like out_k3vq7xw2m4a6c5de")


OUTPUT: Kind[Output] = Kind(
    noun="output", table=outputs, record=Output.from_row, check=_check_output_id,
    missing="no output {ref!r} in the registry")


def output_detail(db: Database, ref: str) -> Output:
    """The output record with id ``ref`` (BadInput for a non-id, NotFound when not logged)."""
    with db.read() as conn:
        return resolve(conn, OUTPUT, ref)
