"""The one mapping table between the preference vocabularies and the profile's actions.

Every vocabulary reelrights reads is reduced to four **categories**, each allowed, disallowed or
unknown (the AIPREF data model, draft-ietf-aipref-vocab §3). docs/preferences.md has the table;
in short, what stands for each:

* ``train-ai``: AIPREF ``train-ai`` (earlier drafts ``ai``, ``genai``, ``train-genai``); Content
  Signals ``ai-train``; RSL ``train-ai``/``ai-train``; CAWG ``ai_generative_training`` and
  ``ai_training``; IPTC ``DMI-PROHIBITED-AIMLTRAINING`` and ``…-GENAIMLTRAINING``.
* ``ai-input``: AIPREF's earlier ``ai-use``, ``inference``, ``ai-output``; Content Signals and
  RSL ``ai-input``; CAWG ``ai_inference``.
* ``search``: AIPREF, Content Signals and RSL ``search``; IPTC
  ``…-EXCEPTSEARCHENGINEINDEXING`` allows it.
* ``tdm`` (every automated use): AIPREF's earlier ``tdm``, ``all``, ``bots``; RSL ``all``;
  CAWG ``data_mining``; IPTC ``DMI-ALLOWED`` / ``DMI-PROHIBITED`` / ``…-SEE*``; TDMRep
  ``tdm-reservation``.

RSL's ``ai-all`` sets ``train-ai`` and ``ai-input``. ``tdm`` is every automated use: it decides
an action only when the action's own categories are not all explicitly allowed.

The profile's actions fall in these categories (:data:`ACTION_CATEGORIES`): ``train`` and
``fineTune`` in ``train-ai``; ``ground``, ``generate``, ``synthesizeVoice`` and
``synthesizeLikeness`` in ``ai-input`` (the asset is an input at generation time); ``style`` in
both (a style is learned, or transferred from a reference at generation time).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ACTION_CATEGORIES", "CATEGORIES", "Preferences", "Value", "combine", "decide"]

CATEGORIES = ("train-ai", "ai-input", "search", "tdm")
Value = Literal["allowed", "disallowed"]

#: Each profile action's categories (docs/preferences.md, "The mapping table").
ACTION_CATEGORIES: dict[str, tuple[str, ...]] = {
    "train": ("train-ai",),
    "fineTune": ("train-ai",),
    "style": ("train-ai", "ai-input"),
    "ground": ("ai-input",),
    "generate": ("ai-input",),
    "synthesizeVoice": ("ai-input",),
    "synthesizeLikeness": ("ai-input",),
}


@dataclass(frozen=True)
class Preferences:
    """A statement of preference: a value per category; a category absent is unknown.

    ``notes`` say where each value came from (``train-ai=n`` in ``Content-Usage``, an RSL
    ``<prohibits>``, ...), in the order read."""

    values: Mapping[str, Value] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def get(self, category: str) -> str:
        return self.values.get(category, "unknown")

    def to_json(self) -> dict[str, str]:
        return {c: self.values[c] for c in CATEGORIES if c in self.values}


def combine(statements: Iterable[Preferences]) -> Preferences:
    """Several statements about one asset, per category: any disallow wins; else any allow;
    else unknown (draft-ietf-aipref-vocab §7.1, "the most restrictive preference applies")."""
    values: dict[str, Value] = {}
    notes: list[str] = []
    for p in statements:
        notes.extend(p.notes)
        for c, v in p.values.items():
            if v == "disallowed" or c not in values:
                values[c] = v
    return Preferences(values, tuple(notes))


def decide(prefs: Preferences, action: str) -> tuple[bool, tuple[str, ...]]:
    """Whether ``prefs`` disallow ``action``, and the categories that do.

    Disallowed when any of the action's categories is disallowed; otherwise, unless all of
    them are explicitly allowed, when ``tdm`` (every automated use) is disallowed."""
    cats = ACTION_CATEGORIES.get(action)
    if cats is None:
        raise ValueError(f"no preference category for action {action!r}")
    against = tuple(c for c in cats if prefs.get(c) == "disallowed")
    if against:
        return True, against
    if not all(prefs.get(c) == "allowed" for c in cats) and prefs.get("tdm") == "disallowed":
        return True, ("tdm",)
    return False, ()
