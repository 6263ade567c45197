"""Lossy projections of an rr policy into coarser vocabularies. The policy always governs.

Both projections keep only *whether* a kind of use is open, closed or conditional, and point at
the policy for the conditions. They drop targets, assignees, territories, dates, model
families, performers, fund shares and consent duties. See docs/odrl-profile.md.

CAWG training-and-data-mining assertion v1.1 (label ``cawg.training-mining``), per entry:

=============================  ==========================================================
entry                          rr actions it stands for
=============================  ==========================================================
cawg.ai_training               train, fineTune
cawg.ai_generative_training    train, fineTune
cawg.ai_inference              generate, ground, style, synthesizeVoice, synthesizeLikeness
cawg.data_mining               use (only a permission of odrl:use opens it)
=============================  ==========================================================

``notAllowed`` when no permission covers any of those actions; ``allowed`` only when a ``Set``
policy permits every one of them to anyone, with no constraint, duty or prohibition on them;
``constrained`` otherwise, with ``constraints_info`` naming the policy. A custom entry
``dev.reelrights.odrl_projection`` (CAWG allows custom entry labels) marks the assertion as a
derived, lossy projection.
"""

from __future__ import annotations

import re
from typing import Any

from ...errors import BadInput
from .model import Policy
from .vocab import ODRL, PROFILE_IRI, RR

__all__ = ["CAWG_ENTRIES", "CAWG_LABEL", "CAWG_MARKER", "policy_url_of", "status_of",
           "to_cawg_training_mining", "to_tdmrep"]

CAWG_LABEL = "cawg.training-mining"
#: Key of the free-text field of an entry, as the CAWG v1.1 text spells it (C2PA 1.4's
#: c2pa.training-mining spelled it constraint_info).
CONSTRAINTS_INFO = "constraints_info"
CAWG_MARKER = "dev.reelrights.odrl_projection"
CAWG_ENTRIES: dict[str, tuple[str, ...]] = {
    "cawg.data_mining": (ODRL + "use",),
    "cawg.ai_inference": (RR + "generate", RR + "ground", RR + "style", RR + "synthesizeVoice",
                          RR + "synthesizeLikeness"),
    "cawg.ai_generative_training": (RR + "train", RR + "fineTune"),
    "cawg.ai_training": (RR + "train", RR + "fineTune"),
}
_URL_RE = re.compile(r"https?://[^\s]+")


def status_of(policy: Policy, actions: tuple[str, ...]) -> str:
    """notAllowed if no permission covers any of ``actions``; allowed if the policy is a Set,
    no prohibition touches them and each is covered by a permission open to anyone without
    constraint or duty; constrained otherwise."""
    covered_any, open_all, fenced = False, True, False
    for a in actions:
        perms, prohibs = policy.index.get(a, ((), ()))
        covered_any = covered_any or bool(perms)
        fenced = fenced or bool(prohibs)
        open_all = open_all and any(not p.constraints and not p.duties and not p.assignees
                                    for p, _, _ in perms)
    if not covered_any:
        return "notAllowed"
    return "allowed" if policy.type == "Set" and open_all and not fenced else "constrained"


def policy_url_of(policy: Policy, policy_url: str | None) -> str | None:
    if policy_url is not None:
        if type(policy_url) is not str or not _URL_RE.fullmatch(policy_url):
            raise BadInput(f"policy_url {policy_url!r} must be an http(s) URL")
        return policy_url
    return policy.uid if _URL_RE.fullmatch(policy.uid) else None


def to_cawg_training_mining(policy: Policy, *, policy_url: str | None = None) -> dict[str, Any]:
    """The data of a ``cawg.training-mining`` assertion derived from ``policy``.

    Embed it as ``{"label": CAWG_LABEL, "data": <this>}``. ``constraints_info`` is
    ``policy_url`` when given, else the policy uid.
    """
    info = policy_url_of(policy, policy_url) or policy.uid
    entries: dict[str, dict[str, str]] = {}
    for key, actions in CAWG_ENTRIES.items():
        use = status_of(policy, actions)
        entries[key] = ({"use": use, CONSTRAINTS_INFO: info} if use == "constrained"
                        else {"use": use})
    entries[CAWG_MARKER] = {
        "use": "constrained",
        CONSTRAINTS_INFO: (f"derived, lossy projection of ODRL policy {policy.uid} "
                           f"(profile {PROFILE_IRI}); that policy governs"),
    }
    return {"entries": entries}


def to_tdmrep(policy: Policy, location: str, *, policy_url: str | None = None) -> dict[str, Any]:
    """One rule of a ``/.well-known/tdmrep.json`` array (W3C TDMRep CG report) for ``location``.

    ``tdm-reservation`` is 0 only if a ``Set`` policy permits ``use`` to anyone without
    constraint, duty or prohibition; otherwise 1 (rights reserved), with ``tdm-policy`` set to
    ``policy_url`` (or the policy uid when it is an http(s) URL) so a TDM actor finds the terms.
    """
    if type(location) is not str or not location.startswith("/") or any(c.isspace()
                                                                         for c in location):
        raise BadInput(f"location {location!r} must be a path pattern starting with /")
    reserved = status_of(policy, (ODRL + "use",)) != "allowed"
    rule: dict[str, Any] = {"location": location, "tdm-reservation": 1 if reserved else 0}
    url = policy_url_of(policy, policy_url)
    if reserved and url is not None:
        rule["tdm-policy"] = url
    return rule
