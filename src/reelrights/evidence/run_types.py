"""Statement types ``run.started`` and ``run.committed``: a training run announced before
training (its licenses and model family) and the developer's commitment to its manifest.

The body publishes the Merkle root over the salted manifest items, the item count and the
public totals (usage per bundle and license for royalties; totals per basis and modality, and
the few fields the EU training-content summary needs). It never names an item: no content hash,
no salt. See :mod:`reelrights.core.commitment` and docs/runs.md.
"""

from __future__ import annotations

from ..core.ids import ID_PATTERNS
from ..core.manifest import BASIS_TYPES, CONTENT_TYPES, KINDS
from ..core.schema import Int, List, Obj, Str
from ..core.statement_types import NAME, PARTY_ID, SHA256, StatementType, collector
from ..rights.types import BUNDLE_ID, LICENSE_ID

#: This capability's statement types (assembled by reelrights.catalogue).
TYPES: list[StatementType] = []
register = collector(TYPES)

__all__ = ["RUN_ID", "UNIT_TOTALS"]

RUN_ID = Str(pattern=ID_PATTERNS["run"], hint="a run id like run_k3vq7xw2m4a6c5de", max_len=20)
_T = {"items": Int(), "seconds": Int(), "frames": Int(), "tokens": Int(), "images": Int()}
UNIT_TOTALS = Obj(dict(_T))
MONTH = Str(pattern=r"[0-9]{4}-(0[1-9]|1[0-2])", hint="a month like 2025-06", min_len=7, max_len=7)
MODEL = Str(max_len=300, pattern=r"[^\x00-\x1f\x7f]+", hint="a model name without control characters")
_MODALITIES = Obj({}, {k: UNIT_TOTALS for k in KINDS})

register(StatementType(
    "run.committed", 1,
    Obj({"id": RUN_ID, "developer": PARTY_ID, "model_family": MODEL, "model": MODEL,
         "root": SHA256, "count": Int(),
         "usage": List(Obj({"bundle": BUNDLE_ID, "license": LICENSE_ID, **_T}), max_items=500),
         "bases": Obj({"own": UNIT_TOTALS, "public-domain": UNIT_TOTALS,
                       "open-license": List(Obj({"spdx": Str(max_len=72), **_T}),
                                            max_items=200, unique_by="spdx")}),
         "modalities": _MODALITIES},
        {"basis_modalities": Obj({}, {b: List(Str(choices=KINDS), min_items=1, max_items=4)
                                      for b in BASIS_TYPES}),
         "base_model": MODEL, "latest_acquired": MONTH, "description": Str(max_len=2000),
         "content_types": List(Str(choices=CONTENT_TYPES), min_items=1, max_items=len(CONTENT_TYPES)),
         "languages": List(Str(max_len=35, pattern=r"[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}",
                               hint="a BCP 47 language tag"), min_items=1, max_items=300),
         "public_datasets": Obj({"modalities": _MODALITIES,
                                 "large": List(Obj({"dataset": NAME, "kind": Str(choices=KINDS),
                                                    **_T}), max_items=140)})}),
    actor_field="developer",
    summary="A developer commits to a training run: the RFC 9162 Merkle root over its salted "
            "manifest items, their count, and public usage totals per bundle, license, basis "
            "and modality. Items and salts stay with the developer."))

register(StatementType(
    "run.started", 1,
    Obj({"id": RUN_ID, "developer": PARTY_ID, "model_family": MODEL,
         "licenses": List(LICENSE_ID, min_items=1, max_items=500)},
        {"note": Str(max_len=2000)}),
    actor_field="developer",
    summary="A developer starts a training run, before training: the licenses it relies on and "
            "the model family. Its licenses are then judged over the log-time interval from "
            "this start to the run's commitment (run.committed with the same id)."))
