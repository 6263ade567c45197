"""The public totals of a training run: what a commitment discloses besides its root.

Royalties need usage per (bundle, license); the EU training-content summary needs totals per
modality, per legal basis, content types, languages, the latest acquisition month and the
public datasets that are "large" (more than 3 % of the public data used for a modality). None of
these names an item. Items are counted by a grouping key (see
:data:`reelrights.core.manifest.GroupKey`), so parallel workers tally apart and merge.

Pure functions, no I/O.
"""

from __future__ import annotations

from typing import Any

from .manifest import KINDS, UNITS, GroupKey

__all__ = ["LARGE_DATASET_PERCENT", "NOMINAL_FPS", "Tally", "empty_totals", "large_datasets",
           "modality_size"]

#: Frame-counted video is converted to time at this nominal rate (for size bins and shares).
NOMINAL_FPS = 24
#: EU template §2.1: list the public datasets above this share of a modality's public data.
LARGE_DATASET_PERCENT = 3


def empty_totals() -> dict[str, int]:
    return {"items": 0, **{u: 0 for u in UNITS}}


def _add(totals: dict[str, int], unit: str, items: int, units: int) -> None:
    totals["items"] += items
    totals[unit] += units


def modality_size(kind: str, totals: dict[str, int]) -> int:
    """One size per modality, in its natural unit: tokens, images, audio seconds, video frames
    (seconds at :data:`NOMINAL_FPS`). Shares within a modality compare these."""
    if kind == "text":
        return totals["tokens"]
    if kind == "image":
        return totals["images"]
    if kind == "audio":
        return totals["seconds"]
    return totals["seconds"] * NOMINAL_FPS + totals["frames"]


def large_datasets(per_dataset: dict[tuple[str, str], dict[str, int]],
                   percent: int = LARGE_DATASET_PERCENT) -> list[tuple[str, str]]:
    """The (dataset, kind) pairs above ``percent`` % of their modality's public data, strictly.

    Exactly 3 % is not "more than 3 %". Integer arithmetic, so the boundary is exact.
    """
    per_kind: dict[str, int] = {}
    for (_ds, kind), t in per_dataset.items():
        per_kind[kind] = per_kind.get(kind, 0) + modality_size(kind, t)
    return sorted((ds, kind) for (ds, kind), t in per_dataset.items()
                  if per_kind[kind] and modality_size(kind, t) * 100 > percent * per_kind[kind])


class Tally:
    """Item counts and unit sums per grouping key."""

    __slots__ = ("groups",)

    def __init__(self) -> None:
        #: key -> [items, units]
        self.groups: dict[GroupKey, list[int]] = {}

    def add(self, key: GroupKey, units: int, items: int = 1) -> None:
        g = self.groups.get(key)
        if g is None:
            self.groups[key] = [items, units]
        else:
            g[0] += items
            g[1] += units

    def merge(self, other: Tally | dict[GroupKey, list[int]]) -> None:
        groups = other.groups if isinstance(other, Tally) else other
        for key, (items, units) in groups.items():
            self.add(key, units, items)

    @property
    def count(self) -> int:
        return sum(g[0] for g in self.groups.values())

    def public(self) -> dict[str, Any]:
        """The body parts of ``run.committed`` (usage, bases, modalities and the EU extras)."""
        usage: dict[tuple[str, str], dict[str, int]] = {}
        own, pd = empty_totals(), empty_totals()
        open_lic: dict[str, dict[str, int]] = {}
        modalities: dict[str, dict[str, int]] = {}
        datasets: dict[tuple[str, str], dict[str, int]] = {}
        public_kinds: dict[str, dict[str, int]] = {}
        basis_kinds: dict[str, set[str]] = {}
        ctypes: set[str] = set()
        langs: set[str] = set()
        latest = None
        for key, (items, units) in self.groups.items():
            kind, unit, btype, bundle, lic, spdx, acquired, ctype, lang, ds = key
            if btype == "license":
                t = usage.setdefault((bundle, lic), empty_totals())
            elif btype == "own":
                t = own
            elif btype == "public-domain":
                t = pd
            else:
                t = open_lic.setdefault(spdx, empty_totals())
            _add(t, unit, items, units)
            basis_kinds.setdefault(btype, set()).add(kind)
            _add(modalities.setdefault(kind, empty_totals()), unit, items, units)
            if ds is not None:
                _add(datasets.setdefault((ds, kind), empty_totals()), unit, items, units)
                _add(public_kinds.setdefault(kind, empty_totals()), unit, items, units)
            if ctype is not None:
                ctypes.add(ctype)
            if lang is not None:
                langs.add(lang)
            if acquired is not None and (latest is None or acquired > latest):
                latest = acquired
        out: dict[str, Any] = {
            "usage": [{"bundle": b, "license": lic, **t} for (b, lic), t in sorted(usage.items())],
            "bases": {"own": own, "public-domain": pd,
                      "open-license": [{"spdx": s, **t} for s, t in sorted(open_lic.items())]},
            "modalities": {k: modalities[k] for k in KINDS if k in modalities},
            "basis_modalities": {b: [k for k in KINDS if k in ks]
                                 for b, ks in sorted(basis_kinds.items())},
        }
        if latest is not None:
            out["latest_acquired"] = latest
        if ctypes:
            out["content_types"] = sorted(ctypes)
        if langs:
            out["languages"] = sorted(langs)
        if datasets:
            out["public_datasets"] = {
                "modalities": {k: public_kinds[k] for k in KINDS if k in public_kinds},
                "large": [{"dataset": ds, "kind": kind, **datasets[(ds, kind)]}
                          for ds, kind in large_datasets(datasets)],
            }
        return out
