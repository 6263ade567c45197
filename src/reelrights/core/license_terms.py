"""Common license terms as ODRL 2.2 Agreements in the reelrights profile.

Most studios start from the same shape: train (and fine-tune) one model family, in some
territories, until a date, paying a share of revenue to the creative fund with attribution.
Voice or likeness synthesis of named performers is allowed only with their consent, and every
other voice or likeness use is fenced off. :func:`training_agreement` writes that policy. The
result is ordinary JSON-LD, so a studio can edit it before granting; the registry parses any
policy the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .iri import bundle_iri, model_family_iri, party_iri
from .odrl import CONTEXT_IRI, PROFILE_IRI

__all__ = ["training_agreement"]

ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"


def training_agreement(*, uid: str, licensor: str, licensee: str, bundle: str,
                       model_family: str, territories: list[str], until: str,
                       fund_share: str, voice_performers: Sequence[str] = (),
                       likeness_performers: Sequence[str] = (),
                       actions: tuple[str, ...] = ("train",)) -> dict[str, Any]:
    """A license Agreement. Party and bundle arguments are registry ids."""
    def limits() -> list[dict[str, Any]]:
        return [
            {"leftOperand": "modelFamily", "operator": "eq",
             "rightOperand": {"@id": model_family_iri(model_family)}},
            _territory(territories),
            {"leftOperand": "dateTime", "operator": "lt",
             "rightOperand": {"@value": until, "@type": "xsd:date"}},
        ]

    permissions: list[dict[str, Any]] = [{
        "action": list(actions) if len(actions) > 1 else actions[0],
        "constraint": limits(),
        "duty": [
            {"action": "compensate", "rr:fundShare": fund_share},
            {"action": "attribute", "attributedParty": party_iri(licensor)},
        ],
    }]
    for action, people in (("synthesizeVoice", voice_performers),
                           ("synthesizeLikeness", likeness_performers)):
        for p in people:
            permissions.append({
                "action": action,
                "constraint": [*limits(), {"leftOperand": "performer", "operator": "eq",
                                           "rightOperand": {"@id": party_iri(p)}}],
                "duty": [{"action": "obtainConsent", "consentingParty": party_iri(p)},
                         {"action": "compensate", "rr:fundShare": fund_share}],
            })
    return {
        "@context": [ODRL_CONTEXT, CONTEXT_IRI],
        "@type": "Agreement",
        "uid": uid,
        "profile": PROFILE_IRI,
        "conflict": "rr:fence",
        "assigner": party_iri(licensor),
        "assignee": party_iri(licensee),
        "target": bundle_iri(bundle),
        "permission": permissions,
        "prohibition": [{"action": ["synthesizeVoice", "synthesizeLikeness"]}],
    }


def _territory(codes: list[str]) -> dict[str, Any]:
    iris = [{"@id": f"urn:iso:3166:{c.upper()}"} for c in codes]
    if len(iris) == 1:
        return {"leftOperand": "spatial", "operator": "isPartOf", "rightOperand": iris[0]}
    return {"or": [{"leftOperand": "spatial", "operator": "isPartOf", "rightOperand": i}
                   for i in iris]}
