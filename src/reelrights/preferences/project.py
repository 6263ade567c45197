"""An rr ODRL policy written in each preference vocabulary: lossy, marked as derived, pointing
back at the policy, which governs. Pure.

Each category gets a status from the policy (:func:`reelrights.core.odrl.project.status_of`)
over the profile actions written under it (:data:`WRITTEN_UNDER`):

* ``allowed``: a ``Set`` permits every one of them to anyone, unconditionally;
* ``notAllowed``: no permission covers any of them;
* ``constrained``: anything else (every ``Agreement``): allowed only under the policy's terms.

Vocabularies that can only say yes or no (AIPREF, Content Signals, IPTC) write ``constrained``
as **no**: the public preference refuses, and the license (a contract) overrides it for its
licensee, as draft-ietf-aipref-vocab §7.2 says. RSL and CAWG can say "under terms" and do.
``search`` is not a profile action, so no vocabulary gets a search value from a policy.
"""

from __future__ import annotations

import json
from typing import Any

from ..core.odrl import Policy
from ..core.odrl.project import policy_url_of, status_of, to_cawg_training_mining, to_tdmrep
from ..core.odrl.vocab import ODRL, PROFILE_IRI, RR
from ..errors import BadInput
from .aipref import format_aipref, format_content_signals
from .categories import Preferences, Value
from .embedded import format_iptc_xmp
from .robots import format_robots
from .rsl import format_rsl

__all__ = ["TARGETS", "WRITTEN_UNDER", "category_statuses", "project"]

TARGETS = ("aipref", "content-signals", "rsl", "iptc", "cawg", "tdmrep")

#: The profile actions each category is written from. ``style`` and the syntheses happen at
#: generation time, so they are written under ai-input (a reader refuses ``style`` when either
#: training or input is refused: :data:`.categories.ACTION_CATEGORIES`).
WRITTEN_UNDER: dict[str, tuple[str, ...]] = {
    "train-ai": (RR + "train", RR + "fineTune"),
    "ai-input": (RR + "generate", RR + "ground", RR + "style", RR + "synthesizeVoice",
                 RR + "synthesizeLikeness"),
    "tdm": (ODRL + "use",),
}


def category_statuses(policy: Policy) -> dict[str, str]:
    """``allowed`` | ``constrained`` | ``notAllowed`` per category (see the module docstring)."""
    return {c: status_of(policy, actions) for c, actions in WRITTEN_UNDER.items()}


def _yes_no(statuses: dict[str, str]) -> Preferences:
    values: dict[str, Value] = {c: "allowed" if s == "allowed" else "disallowed"
                                for c, s in statuses.items() if c != "tdm"}
    return Preferences(values)


def _marker(policy: Policy, url: str | None) -> str:
    return (f"derived, lossy projection of ODRL policy {policy.uid} (profile {PROFILE_IRI})"
            + (f" at {url}" if url else "") + "; that policy governs, and a license under it "
            "overrides these preferences for its licensee")


def project(policy: Policy, target: str, *, policy_url: str | None = None,
            location: str = "/") -> tuple[str, str]:
    """``(media type, text)`` of ``policy`` written as ``target`` (one of :data:`TARGETS`)."""
    url = policy_url_of(policy, policy_url)
    statuses = category_statuses(policy)
    marker = _marker(policy, url)
    if target == "aipref":
        value = format_aipref(_yes_no(statuses))
        text = format_robots(content_usage=value, comments=(
            marker, f"HTTP response header for the same assets: Content-Usage: {value}"))
        return "text/plain", text
    if target == "content-signals":
        value = format_content_signals(_yes_no(statuses))
        return "text/plain", format_robots(content_signal=value, comments=(marker,))
    if target == "rsl":
        return "application/rsl+xml", format_rsl(
            statuses, policy_uid=policy.uid, policy_url=url, url=location).decode()
    if target == "iptc":
        return "application/rdf+xml", format_iptc_xmp(_dmi(statuses, url is not None),
                                                       other_constraints=marker,
                                                       linked_policy=url)
    if target == "cawg":
        doc: dict[str, Any] = {"label": "cawg.training-mining",
                               "data": to_cawg_training_mining(policy, policy_url=policy_url)}
        return "application/json", json.dumps(doc, indent=2) + "\n"
    if target == "tdmrep":
        rule = to_tdmrep(policy, location, policy_url=policy_url)
        return "application/json", json.dumps([rule], indent=2) + "\n"
    raise BadInput(f"--to {target!r}: use one of {', '.join(TARGETS)}")


def _dmi(statuses: dict[str, str], linked: bool) -> str:
    """The PLUS data-mining value: allowed when every use is open, the linked rights
    expression when the policy has a URL, else a training prohibition or a plain one."""
    if all(s == "allowed" for s in statuses.values()):
        return "DMI-ALLOWED"
    if linked:
        return "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR"
    if statuses["ai-input"] == "allowed" and statuses["tdm"] == "allowed":
        return "DMI-PROHIBITED-AIMLTRAINING"
    return "DMI-PROHIBITED-SEECONSTRAINT"
