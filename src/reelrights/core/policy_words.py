"""An ODRL policy of the reelrights profile in plain words, one line per rule, for the people
who co-sign or consent to it (the web app's co-signature queue and license pages). Pure.

It describes; it does not judge: the evaluator (:mod:`reelrights.core.odrl`) decides. Anything it
does not recognise is shown as written, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["describe_policy"]

_ACTIONS = {"train": "train models", "fineTune": "fine-tune models", "generate": "generate",
            "synthesizeVoice": "synthesise a performer's voice",
            "synthesizeLikeness": "synthesise a performer's likeness"}
_OPERATORS = {"eq": "is", "neq": "is not", "lt": "before", "lteq": "on or before",
              "gt": "after", "gteq": "on or after", "isPartOf": "within", "isAnyOf": "any of",
              "isNoneOf": "none of", "isA": "is a"}
_OPERANDS = {"modelFamily": "model family", "spatial": "territory", "dateTime": "date",
             "performer": "performer", "purpose": "purpose", "media": "media"}


def _value(v: Any, name: Callable[[str], str]) -> str:
    if isinstance(v, list):
        return ", ".join(_value(x, name) for x in v)
    if isinstance(v, dict):
        if "@value" in v:
            return str(v["@value"])
        if "@id" in v:
            return _iri(str(v["@id"]), name)
    return str(v)


def _iri(iri: str, name: Callable[[str], str]) -> str:
    for prefix in ("urn:reelrights:party:", "urn:reelrights:bundle:", "urn:reelrights:work:"):
        if iri.startswith(prefix):
            return name(iri[len(prefix):])
    for prefix in ("urn:reelrights:model-family:", "urn:iso:3166:"):
        if iri.startswith(prefix):
            return iri[len(prefix):]
    return iri


def _actions(a: Any) -> str:
    items = a if isinstance(a, list) else [a]
    out = []
    for item in items:
        key = item.get("rdf:value", {}).get("@id", "") if isinstance(item, dict) else str(item)
        out.append(_ACTIONS.get(key, key))
    return " and ".join(out)


def _duty(d: dict[str, Any], name: Callable[[str], str]) -> str:
    action = d.get("action")
    if action == "compensate" and "rr:fundShare" in d:
        return f"pay {d['rr:fundShare']}% of revenue to the creative fund"
    if action == "attribute":
        return f"credit {_iri(str(d.get('attributedParty', '')), name)}"
    if action == "obtainConsent":
        return f"first obtain the consent of {_iri(str(d.get('consentingParty', '')), name)}"
    return str(action)


def describe_policy(policy: dict[str, Any], name: Callable[[str], str] = str) -> list[str]:
    """``["May train models: model family is orbit-video; territory within US; date before
    2027-12-31. Must pay 2.5% of revenue to the creative fund; credit Northlight.", ...]``;
    ``name`` turns a party, bundle or work id into its name."""
    lines = []
    for rule in policy.get("permission", []):
        conds = [f"{_OPERANDS.get(str(c.get('leftOperand')), c.get('leftOperand'))} "
                 f"{_OPERATORS.get(str(c.get('operator')), c.get('operator'))} "
                 f"{_value(c.get('rightOperand'), name)}"
                 for c in rule.get("constraint", []) if isinstance(c, dict)]
        text = f"May {_actions(rule.get('action'))}"
        if conds:
            text += ": " + "; ".join(conds)
        duties = [_duty(d, name) for d in rule.get("duty", []) if isinstance(d, dict)]
        lines.append(text + "." + (" Must " + "; ".join(duties) + "." if duties else ""))
    for rule in policy.get("prohibition", []):
        lines.append(f"May not {_actions(rule.get('action'))} otherwise.")
    return lines
