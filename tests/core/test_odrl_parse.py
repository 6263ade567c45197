"""Parsing and validating rr ODRL policies: shapes, inheritance, and refusals with pointers."""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from reelrights.core.odrl import (
    CONTEXT_IRI,
    ODRL,
    PROFILE_IRI,
    RR,
    InvalidPolicy,
    load_profile,
    parse_policy,
)
from reelrights.core.odrl.vocab import profile_document
from reelrights.errors import BadInput, InvalidStatement

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "src" / "reelrights" / "profile" / "examples" / "license-train-us.json"
DOCS = ROOT / "docs" / "odrl-profile.md"


def example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text("utf-8"))


def test_example_license_parses_with_inheritance() -> None:
    p = parse_policy(example())
    assert (p.uid, p.type, p.profile) == (
        "urn:reelrights:license:northlight-orbit-2026-001", "Agreement", PROFILE_IRI)
    assert [r.pointer for r in p.permissions] == ["/permission/0", "/permission/1"]
    train, voice = p.permissions
    # Policy-level target, assigner and assignee are inherited by every rule (ODRL 2.2, Compact Policy).
    for rule in (*p.permissions, *p.prohibitions):
        assert rule.targets == {"urn:reelrights:bundle:northlight-classics"}
        assert rule.assigners == {"urn:reelrights:party:northlight-studios"}
        assert rule.assignees == {"urn:reelrights:party:orbit-ai"}
    assert train.actions == (RR + "train",)
    assert [str(c) for c in train.constraints] == [
        "modelFamily eq urn:reelrights:model-family:orbit-video",
        "spatial isPartOf urn:iso:3166:US", "dateTime lt 2027-12-31"]
    compensate, attribute = train.duties
    assert compensate.name == "compensate" and compensate.pointer == "/permission/0/duty/0"
    assert compensate.fund_share == Decimal("2.5") and compensate.share == Fraction(1, 40)
    assert compensate.compensated_party == "urn:reelrights:party:creative-fund"
    # A duty without assigner/assignee takes the permission's (ODRL 2.2, "Duty property with a Permission").
    assert compensate.assignee == {"urn:reelrights:party:orbit-ai"}
    assert attribute.attributed_party == "urn:reelrights:party:northlight-studios"
    consent, = voice.duties
    assert consent.name == "obtainConsent"
    assert consent.consenting_party == "urn:reelrights:party:jane-roe"
    assert p.prohibitions[0].actions == (RR + "synthesizeVoice", RR + "synthesizeLikeness")


def test_compact_and_full_iris_read_the_same() -> None:
    short = example()
    full = example()
    full["@type"] = ODRL + "Agreement"
    full["permission"][0]["action"] = RR + "train"
    full["permission"][0]["constraint"][0]["leftOperand"] = RR + "modelFamily"
    full["permission"][0]["constraint"][1]["operator"] = "odrl:isPartOf"
    full["permission"][0]["duty"][0] = {
        "odrl:action": {"@id": ODRL + "compensate"}, RR + "fundShare": "2.5",
        "odrl:compensatedParty": "urn:reelrights:party:creative-fund"}
    prefixed = example()
    prefixed["permission"][0]["action"] = "rr:train"
    prefixed["permission"][0]["duty"][0]["fundShare"] = prefixed["permission"][0]["duty"][0].pop(
        "rr:fundShare")
    for doc in (full, prefixed):
        p, q = parse_policy(short), parse_policy(doc)
        assert p.type == q.type and p.permissions[0].actions == q.permissions[0].actions
        assert [str(c) for c in p.permissions[0].constraints][0] == \
            str(q.permissions[0].constraints[0]).replace(RR, "")
        assert q.permissions[0].duties[0].fund_share == Decimal("2.5")


@pytest.mark.parametrize(("type_", "expected"), [
    ("Agreement", "Agreement"), ("Offer", "Offer"), ("Set", "Set"), ("Policy", "Set"),
    ("odrl:Offer", "Offer")])
def test_policy_type_is_exposed(type_: str, expected: str) -> None:
    doc = example()
    doc["@type"] = type_
    assert parse_policy(doc).type == expected


def test_offer_and_set_need_fewer_parties() -> None:
    doc = example()
    del doc["assignee"]
    doc["@type"] = "Offer"
    assert parse_policy(doc).permissions[0].assignees == frozenset()
    del doc["assigner"]
    with pytest.raises(InvalidPolicy) as e:
        parse_policy(doc)
    assert e.value.pointer == "/permission/0" and "assigner" in e.value.problem
    doc["@type"] = "Set"
    assert parse_policy(doc).type == "Set"


def test_rule_level_parties_and_lists() -> None:
    doc = example()
    del doc["assignee"], doc["target"]
    for rule in (*doc["permission"], *doc["prohibition"]):
        rule["assignee"] = {"@type": "Party", "uid": "urn:reelrights:party:orbit-ai",
                            "vcard:fn": "Orbit AI"}
        rule["target"] = ["urn:reelrights:bundle:a", {"@type": "AssetCollection",
                                                      "uid": "urn:reelrights:bundle:b"}]
    p = parse_policy(doc)
    assert p.permissions[0].targets == {"urn:reelrights:bundle:a", "urn:reelrights:bundle:b"}
    assert p.permissions[1].assignees == {"urn:reelrights:party:orbit-ai"}
    assert p.target == frozenset() and p.assignee == frozenset()


def test_same_value_at_both_levels_is_accepted() -> None:
    doc = example()
    doc["permission"][0]["target"] = doc["target"]
    assert parse_policy(doc).permissions[0].targets == {doc["target"]}


def test_refinement_logical_list_and_obligation_shapes() -> None:
    doc = example()
    doc["permission"].append({
        "action": [{"rdf:value": {"@id": "rr:generate"}, "refinement": [
            {"leftOperand": "production", "operator": "isAnyOf",
             "rightOperand": {"@list": ["urn:p:1", "urn:p:2"]}}]}],
        "constraint": [{"@type": "LogicalConstraint", "andSequence": {"@list": [
            {"leftOperand": "purpose", "operator": "eq", "rightOperand": "urn:purpose:film"},
            {"@type": "Constraint", "leftOperand": "count", "operator": "lteq",
             "rightOperand": 3}]}}]})
    doc["obligation"] = [{"action": "attribute"}]
    p = parse_policy(doc)
    gen = p.permissions[2]
    assert gen.actions == (RR + "generate",)
    refinement, logical = gen.constraints
    assert refinement.pointer == "/permission/2/action/0/refinement/0"
    assert logical.operand == "andSequence"
    assert [c.pointer for c in logical.children] == [
        "/permission/2/constraint/0/andSequence/@list/0",
        "/permission/2/constraint/0/andSequence/@list/1"]
    ob, = p.obligations
    assert ob.pointer == "/obligation/0"
    assert ob.target == "urn:reelrights:bundle:northlight-classics"
    assert ob.assignee == {"urn:reelrights:party:orbit-ai"}


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = [int(p) if p.isdigit() else p for p in path.strip("/").split("/")]
    node = doc
    for part in parents:
        node = node[part]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value


_DELETE = object()
C0 = "/permission/0/constraint/0"
C1 = "/permission/0/constraint/1"
C2 = "/permission/0/constraint/2"

# (edit path, new value, expected pointer, a word the message must contain)
BAD: list[tuple[str, Any, str, str]] = [
    ("/@context", "http://www.w3.org/ns/odrl.jsonld", "/@context", CONTEXT_IRI),
    ("/@context", ["http://www.w3.org/ns/odrl.jsonld", CONTEXT_IRI, {"train": "ex:t"}],
     "/@context/2/train", "prefixes"),
    ("/@context/1", "https://schema.org/", "/@context/1", "unknown context"),
    ("/profile", "http://www.w3.org/ns/tdmrep", "/profile", "profile"),
    ("/@type", "Ticket", "/@type", "Agreement"),
    ("/uid", "license 1", "/uid", "IRI"),
    ("/target", "train", "/target", "absolute IRI"),  # a bare term is not an @id
    ("/assignee", {"uid": "urn:x:a", "source": "urn:x:s"}, "/assignee/source", "uid"),
    ("/conflict", "perm", "/conflict", "rr:fence"),
    ("/inheritFrom", "urn:x:parent", "/inheritFrom", "inline"),
    ("/permission", {"action": "train"}, "/permission", "array"),
    ("/permission/0/action", "play", "/permission/0/action", "train"),
    ("/permission/0/action", "compensate", "/permission/0/action", "duty action"),
    ("/permission/0/foo", 1, "/permission/0/foo", "allowed"),
    ("/permission/0/target", "urn:reelrights:bundle:other", "/permission/0/target", "policy"),
    (C1 + "/leftOperand", "recipient", C1 + "/leftOperand", "modelFamily"),
    (C1 + "/operator", "approx", C1 + "/operator", "isPartOf"),
    (C1 + "/operator", "lt", C1 + "/operator", "not defined for spatial"),
    (C2 + "/rightOperand", "urn:iso:3166:US", C2 + "/rightOperand", "xsd:date"),
    (C2 + "/rightOperand", {"@value": "2027-12-31T00:00:00", "@type": "xsd:dateTime"},
     C2 + "/rightOperand", "time zone"),
    (C2 + "/rightOperand", {"@value": "2027-12-31", "@type": "xsd:integer"},
     C2 + "/rightOperand", "xsd:date"),
    (C1 + "/rightOperand", 2.5, C1 + "/rightOperand", "decimal string"),
    (C1 + "/rightOperand", {"@id": "urn:iso:3166:XX"}, C1 + "/rightOperand", "ISO 3166"),
    (C1 + "/rightOperand", ["US", "CA"], C1 + "/rightOperand", "isAnyOf"),
    (C1 + "/operator", "isAnyOf", C1 + "/rightOperand", "list"),
    (C1 + "/operator", "isA", C1 + "/rightOperand", "region"),
    (C0 + "/rightOperandReference", "urn:x:ref", C0 + "/rightOperandReference", "inline"),
    (C0 + "/unit", "urn:x:unit", C0 + "/unit", "unit"),
    (C0 + "/operator", "isA", C0 + "/operator", "not defined for modelFamily"),
    (C0, {"xone": [{"leftOperand": "count", "operator": "eq", "rightOperand": 1}]},
     C0 + "/xone", "2 to"),
    (C0, {"and": [{"leftOperand": "count", "operator": "eq", "rightOperand": 1},
                  {"leftOperand": "count", "operator": "eq", "rightOperand": 1}]},
     C0 + "/and/1", "unique"),
    (C0, {"or": [{"leftOperand": "count", "operator": "eq", "rightOperand": 1}],
          "and": [{"leftOperand": "count", "operator": "eq", "rightOperand": 2}]},
     C0 + "/and", "exactly one operand"),
    (C0, "urn:x:constraint:1", C0, "inline"),
    ("/permission/0/duty/0/rr:fundShare", _DELETE, "/permission/0/duty/0", "rr:fundShare"),
    ("/permission/0/duty/0/rr:fundShare", 2.5, "/permission/0/duty/0/rr:fundShare", "2.5"),
    ("/permission/0/duty/0/rr:fundShare", "150", "/permission/0/duty/0/rr:fundShare", "100"),
    ("/permission/0/duty/0/consentingParty", "urn:x:p", "/permission/0/duty/0/consentingParty",
     "compensate"),
    ("/permission/1/duty/0/consentingParty", _DELETE, "/permission/1/duty/0",
     "consentingParty"),
    ("/permission/0/duty/1/action", {"rdf:value": {"@id": "odrl:attribute"},
                                     "refinement": [{"leftOperand": "count", "operator": "eq",
                                                     "rightOperand": 1}]},
     "/permission/0/duty/1/action/refinement", "fundShare"),
    ("/permission/0/duty/1/consequence", [{"action": "compensate"}],
     "/permission/0/duty/1/consequence", "not supported"),
    ("/permission/0/action", [{"rdf:value": {"@id": "rr:train"}, "refinement": [
        {"leftOperand": "count", "operator": "eq", "rightOperand": 1}]}, "generate"],
     "/permission/0/action/0/refinement", "split"),
    ("/permission/0/action", {"rdf:value": {"@id": "rr:paint"}},
     "/permission/0/action/rdf:value/@id", "not a rule action"),
    ("/prohibition/0/remedy", [{"action": "compensate"}], "/prohibition/0/remedy", "remed"),
    ("/assignee", _DELETE, "/permission/0", "assignee"),
    # hidden white space never slips through ("$" with re.match would accept a final newline)
    ("/uid", "urn:reelrights:license:1\n", "/uid", "IRI"),
    ("/permission/0/duty/0/rr:fundShare", "2.5\n", "/permission/0/duty/0/rr:fundShare", "2.5"),
    (C2 + "/rightOperand", "2027-12-31\n", C2 + "/rightOperand", "xsd:date"),
    (C0 + "/rightOperand", "urn:reelrights:model-family:x ", C0 + "/rightOperand",
     "white space"),
    (C1 + "/rightOperand", " US", C1 + "/rightOperand", "white space"),
    (C0, {"leftOperand": "count", "operator": "eq", "rightOperand": "3\n"},
     C0 + "/rightOperand", "decimal"),
    (C0, {"leftOperand": "count", "operator": "eq", "rightOperand": "\u0663"},
     C0 + "/rightOperand", "decimal"),
    ("/permission/0/duty/0/https:~1~1reelrights.dev~1odrl~1profile~1v1#fundShare", "3",
     "/permission/0/duty/0/https:~1~1reelrights.dev~1odrl~1profile~1v1#fundShare", "repeats"),
]


@pytest.mark.parametrize(("path", "value", "pointer", "word"), BAD,
                         ids=[f"{i:02d}:{b[2]}" for i, b in enumerate(BAD)])
def test_bad_policies_are_refused_with_the_exact_pointer(path: str, value: Any, pointer: str,
                                                         word: str) -> None:
    doc = example()
    real_path = path.replace("~1", "\x00").replace("\x00", "/") if "https:" in path else path
    if "https:" in path:  # a key holding slashes: set it directly
        doc["permission"][0]["duty"][0][real_path.split("/duty/0/", 1)[1]] = value
    else:
        _set(doc, path, value)
    with pytest.raises(InvalidPolicy) as e:
        parse_policy(doc)
    err = e.value
    assert err.pointer == pointer, str(err)
    assert word.lower() in str(err).lower(), str(err)
    assert isinstance(err, InvalidStatement) and isinstance(err, BadInput)
    assert err.exit_code == 2
    assert str(err).startswith(f"{pointer}: ") if pointer else True
    assert err.fix, "every refusal says how to fix it"


def test_whole_document_refusals() -> None:
    for doc, word in ((42, "JSON object"),
                      ({k: v for k, v in example().items() if k != "@context"}, "@context"),
                      ({k: v for k, v in example().items()
                        if k not in ("permission", "prohibition")}, "no rules")):
        with pytest.raises(InvalidPolicy) as e:
            parse_policy(doc)  # type: ignore[arg-type]
        assert e.value.pointer == "" and word in str(e.value)


def test_nesting_depth_is_bounded() -> None:
    leaf: Any = {"leftOperand": "count", "operator": "eq", "rightOperand": 1}
    node = leaf
    for i in range(10):
        node = {"or": [node, {"leftOperand": "count", "operator": "eq", "rightOperand": i + 2}]}
    doc = example()
    doc["permission"][0]["constraint"] = [node]
    with pytest.raises(InvalidPolicy) as e:
        parse_policy(doc)
    assert e.value.pointer == "/permission/0/constraint/0" + "/or/0" * 8
    assert "deeper" in e.value.problem


def test_policy_is_not_mutated_and_parse_is_deterministic() -> None:
    doc = example()
    before = copy.deepcopy(doc)
    a, b = parse_policy(doc), parse_policy(doc)
    assert doc == before
    assert [str(c) for c in a.permissions[0].constraints] == \
        [str(c) for c in b.permissions[0].constraints]


# --- the profile file and its documentation --------------------------------------------------

def test_profile_file_defines_the_actions_and_their_inclusion() -> None:
    prof = load_profile()
    assert prof.iri == PROFILE_IRI and prof.conflict == RR + "fence"
    anc = {t.name: t.ancestors for t in prof.actions.values()}
    assert anc["fineTune"] == (RR + "fineTune", RR + "train", ODRL + "use")
    assert RR + "generate" not in anc["synthesizeVoice"]
    assert RR + "generate" not in anc["synthesizeLikeness"]
    assert prof.covered(RR + "train") == {RR + "train", RR + "fineTune"}
    assert prof.covered(RR + "fineTune") == {RR + "fineTune"}
    assert prof.covered(ODRL + "use") == {a for a, t in prof.actions.items() if not t.duty_only}
    assert {t.name for t in prof.actions.values() if t.duty_only} == {
        "compensate", "attribute", "obtainConsent"}
    assert set(prof.regions) == {"EU", "EEA", "WORLD"}


def test_context_terms_resolve_to_profile_terms() -> None:
    context = json.loads((ROOT / "src/reelrights/profile/context.jsonld").read_text("utf-8"))
    profile_ids = {n["@id"].replace("rr:", RR) for n in profile_document()["@graph"]}
    for term, value in context["@context"].items():
        if term.startswith("@") or term in ("rr", "odrl", "xsd"):
            continue
        iri = (value if isinstance(value, str) else value.get("@id", term)).replace("rr:", RR)
        assert iri in profile_ids, term


def test_docs_cover_every_term_and_ship_the_example() -> None:
    doc = DOCS.read_text("utf-8")
    prof = load_profile()
    names = [t.name for t in prof.actions.values()] + [t.name for t in prof.left_operands.values()]
    ops = {op for t in prof.left_operands.values() for op in t.operators}
    for word in [*names, *ops, "and", "or", "xone", "andSequence", "rr:fundShare",
                 "consentingParty", "compensatedParty", "attributedParty", "rr:fence", "EU",
                 "EEA", "WORLD", PROFILE_IRI, CONTEXT_IRI]:
        assert f"`{word}`" in doc, f"{word} is not documented in docs/odrl-profile.md"
    blocks = re.findall(r"```json\n(.*?)```", doc, re.S)
    assert json.loads(EXAMPLE.read_text("utf-8")) in [json.loads(b) for b in blocks], \
        "docs/odrl-profile.md must show the shipped example license verbatim"
    for block in blocks:
        parsed = json.loads(block)
        if parsed.get("profile") == PROFILE_IRI:
            parse_policy(parsed)  # every full policy in the docs is valid
