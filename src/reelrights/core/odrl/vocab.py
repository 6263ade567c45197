"""The reelrights ODRL profile: IRIs, and the vocabulary read from the packaged profile file.

``src/reelrights/profile/odrl-profile.jsonld`` is the single source of the profile's terms: the
actions and their ``odrl:includedIn`` parents, the left operands with their value types and
operators, the duty actions and the properties they take, and the conflict strategy. This module
loads it once (through :mod:`importlib.resources`, the only I/O in :mod:`reelrights.core.odrl`)
and checks it against what the evaluator implements, so the file cannot drift from the code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ...errors import InvalidStatement

__all__ = [
    "ODRL", "RR", "XSD", "PROFILE_IRI", "CONTEXT_IRI", "ODRL_CONTEXTS", "PREFIXES",
    "ActionTerm", "InvalidPolicy", "LeftOperandTerm", "Profile", "compact", "expand",
    "load_profile", "profile_document",
]

ODRL = "http://www.w3.org/ns/odrl/2/"
RR = "https://reelrights.dev/odrl/profile/v1#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PROFILE_IRI = "https://reelrights.dev/odrl/profile/v1"
CONTEXT_IRI = "https://reelrights.dev/odrl/profile/v1/context.jsonld"
#: The ODRL 2.2 JSON-LD context (ODRL Vocabulary & Expression 2.2, section 4.1), either scheme.
ODRL_CONTEXTS = ("http://www.w3.org/ns/odrl.jsonld", "https://www.w3.org/ns/odrl.jsonld")

#: Prefixes a policy may use in compact IRIs, and (for inline @context objects) must map exactly.
PREFIXES: dict[str, tuple[str, ...]] = {
    "odrl": (ODRL,),
    "rr": (RR,),
    "xsd": (XSD,),
    "rdf": (RDF,),
    "rdfs": ("http://www.w3.org/2000/01/rdf-schema#",),
    "dc": ("http://purl.org/dc/terms/", "http://purl.org/dc/elements/1.1/"),
    "dct": ("http://purl.org/dc/terms/",),
    "dcterms": ("http://purl.org/dc/terms/",),
    "vcard": ("http://www.w3.org/2006/vcard/ns#",),
    "foaf": ("http://xmlns.com/foaf/0.1/",),
    "skos": ("http://www.w3.org/2004/02/skos/core#",),
}

# What the evaluator implements, per value type of a left operand. The profile file must agree.
KIND_OF_VALUE_TYPE = {
    XSD + "dateTime": "temporal",
    XSD + "decimal": "numeric",
    RR + "Territory": "territory",
    XSD + "anyURI": "term",
}
OPERATORS_OF_KIND = {
    "temporal": frozenset({"eq", "neq", "lt", "lteq", "gt", "gteq"}),
    "numeric": frozenset({"eq", "neq", "lt", "lteq", "gt", "gteq"}),
    "territory": frozenset({"eq", "neq", "isPartOf", "hasPart", "isA", "isAnyOf", "isAllOf",
                            "isNoneOf"}),
    "term": frozenset({"eq", "neq", "isPartOf", "hasPart", "isAnyOf", "isAllOf", "isNoneOf"}),
}
#: Request attribute holding each left operand's value.
REQUEST_FIELD = {
    ODRL + "dateTime": "date_time",
    ODRL + "count": "count",
    ODRL + "spatial": "spatial",
    ODRL + "purpose": "purpose",
    RR + "modelFamily": "model_family",
    RR + "performer": "performer",
    RR + "production": "production",
}
ALL_OPERATORS = ("eq", "neq", "lt", "lteq", "gt", "gteq", "isA", "hasPart", "isPartOf",
                 "isAllOf", "isAnyOf", "isNoneOf")
LOGICAL_OPERANDS = ("and", "or", "xone", "andSequence")


class InvalidPolicy(InvalidStatement):
    """An ODRL policy that is malformed, or uses something the rr profile does not support.

    ``pointer`` is the RFC 6901 JSON pointer of the offending member ("" for the whole
    document); ``problem`` says what is wrong and ``fix`` what to write instead. Exit code 2.
    """

    def __init__(self, problem: str, pointer: str = "", fix: str = "") -> None:
        super().__init__(f"{problem}; {fix}" if fix else problem, pointer)
        self.problem = problem
        self.fix = fix


@dataclass(frozen=True)
class ActionTerm:
    iri: str
    name: str                      # compact name used in messages: "train", "use", ...
    parent: str | None             # odrl:includedIn
    duty_only: bool                # compensate / attribute / obtainConsent
    duty_properties: frozenset[str]
    required_properties: frozenset[str]
    ancestors: tuple[str, ...]     # itself first, then includedIn transitively


@dataclass(frozen=True)
class LeftOperandTerm:
    iri: str
    name: str
    kind: str                      # temporal | numeric | territory | term
    operators: frozenset[str]      # short names
    field: str                     # Request attribute


@dataclass(frozen=True)
class Profile:
    iri: str
    conflict: str
    actions: dict[str, ActionTerm]
    left_operands: dict[str, LeftOperandTerm]
    terms: dict[str, str]          # bare term -> IRI (ODRL's and the profile context's)
    regions: tuple[str, ...]

    def covered(self, action: str) -> frozenset[str]:
        """Every rule action that a rule of ``action`` covers: itself and what is included in it."""
        return frozenset(a for a, t in self.actions.items()
                         if not t.duty_only and action in t.ancestors)


def _read(name: str) -> dict[str, Any]:
    text = resources.files("reelrights").joinpath("profile", name).read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


@lru_cache(maxsize=1)
def profile_document() -> dict[str, Any]:
    """The packaged profile, as JSON (``reelrights/profile/odrl-profile.jsonld``)."""
    return _read("odrl-profile.jsonld")


def _expand_with(ctx: dict[str, Any], value: str) -> str:
    prefix, sep, rest = value.partition(":")
    base = ctx.get(prefix)
    if sep and isinstance(base, str):
        return base + rest
    return value


def _types(node: dict[str, Any]) -> list[str]:
    t = node.get("@type", [])
    return [t] if isinstance(t, str) else list(t)


@lru_cache(maxsize=1)
def load_profile() -> Profile:
    """Load and check the packaged profile. Raises RuntimeError if it disagrees with the code."""
    doc = profile_document()
    ctx = doc["@context"]

    def iri(v: str) -> str:
        return _expand_with(ctx, v)

    def ids(v: Any) -> list[str]:
        return [iri(x) for x in ([v] if isinstance(v, str) else (v or []))]

    head = next(n for n in doc["@graph"] if n["@id"] == PROFILE_IRI)
    parents: dict[str, str | None] = {}
    raw_actions: dict[str, dict[str, Any]] = {}
    left: dict[str, LeftOperandTerm] = {}
    regions: tuple[str, ...] = ()
    for node in doc["@graph"]:
        node_iri, types = iri(node["@id"]), [iri(t) for t in _types(node)]
        if ODRL + "Action" in types:
            raw_actions[node_iri] = node
            parents[node_iri] = iri(node["odrl:includedIn"]) if "odrl:includedIn" in node else None
        elif ODRL + "LeftOperand" in types:
            kind = KIND_OF_VALUE_TYPE.get(iri(node["rr:valueType"]))
            ops = frozenset(o[len(ODRL):] for o in ids(node["rr:operator"]))
            if kind is None or not ops <= OPERATORS_OF_KIND[kind] or node_iri not in REQUEST_FIELD:
                raise RuntimeError(f"profile left operand {node_iri} is not implemented as written")
            left[node_iri] = LeftOperandTerm(node_iri, compact(node_iri), kind, ops,
                                             REQUEST_FIELD[node_iri])
        elif node_iri == RR + "Territory":
            regions = tuple(node["rr:region"])
    if set(left) != set(REQUEST_FIELD):
        raise RuntimeError("profile left operands differ from the evaluator's")

    actions: dict[str, ActionTerm] = {}
    for a, node in raw_actions.items():
        chain, cur = [a], parents[a]
        while cur is not None:
            if cur in chain or cur not in parents:
                raise RuntimeError(f"profile action {a}: includedIn chain is broken at {cur}")
            chain.append(cur)
            cur = parents[cur]
        if chain[-1] != ODRL + "use":
            raise RuntimeError(f"profile action {a} is not included in odrl:use")
        actions[a] = ActionTerm(a, compact(a), parents[a], bool(node.get("rr:dutyOnly")),
                                frozenset(ids(node.get("rr:dutyProperty"))),
                                frozenset(ids(node.get("rr:requiredProperty"))), tuple(chain))

    context = _read("context.jsonld")["@context"]
    terms = {name: ODRL + name for name in (
        *(t[len(ODRL):] for t in (*actions, *left) if t.startswith(ODRL)),
        *ALL_OPERATORS, *LOGICAL_OPERANDS, "Agreement", "Offer", "Set", "Policy", "perm",
        "prohibit", "invalid", "compensatedParty", "attributedParty", "consentingParty",
        "Asset", "AssetCollection", "Party", "PartyCollection", "Permission", "Prohibition",
        "Duty", "Constraint", "LogicalConstraint")}
    for name, value in context.items():
        if name.startswith("@") or ":" in name:
            continue
        target = value if isinstance(value, str) else value.get("@id")
        if isinstance(target, str) and target.startswith("rr:"):
            terms[name] = RR + target[3:]
    return Profile(PROFILE_IRI, iri(head["odrl:conflict"]), actions, left, terms, regions)


def expand(value: str, terms: bool = True) -> str:
    """The full IRI of a bare term (``train``), a compact IRI (``rr:train``) or an IRI.

    A bare term that neither ODRL nor the profile defines is returned unchanged, so callers
    can tell it apart (it contains no colon). With ``terms=False`` bare words are never
    resolved: that is how JSON-LD reads ``@id`` values and literals, which are not vocabulary
    terms.
    """
    prefix, sep, rest = value.partition(":")
    if sep:
        iris = PREFIXES.get(prefix)
        return iris[0] + rest if iris and not rest.startswith("//") else value
    return load_profile().terms.get(value, value) if terms else value


def compact(iri: str) -> str:
    """A short name for messages: ``train``, ``dateTime``, ``compensate``; else the IRI."""
    for base in (ODRL, RR):
        if iri.startswith(base):
            return iri[len(base):]
    return iri
