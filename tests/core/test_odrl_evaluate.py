"""Evaluating rr ODRL policies: operators, logic, closed world, duties and the fence rule."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_profiles import examples
from reelrights.core.odrl import (
    CONTEXT_IRI,
    PROFILE_IRI,
    Decision,
    Duty,
    DutyResult,
    Policy,
    Request,
    evaluate,
    parse_policy,
)
from reelrights.errors import BadInput

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "src" / "reelrights" / "profile" / "examples" / "license-train-us.json"
CTX = ["http://www.w3.org/ns/odrl.jsonld", CONTEXT_IRI]
BUNDLE = "urn:reelrights:bundle:northlight-classics"
FAMILY = "urn:reelrights:model-family:orbit-video"
JANE = "urn:reelrights:party:jane-roe"
DEV = "urn:reelrights:party:orbit-ai"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
X, Y, Z = "urn:x:fam:x", "urn:x:fam:y", "urn:x:fam:z"


class Oracle:
    """Fulfils every duty except those named in ``unmet``; records what it was asked."""

    def __init__(self, *unmet: str, reason: str = "not recorded") -> None:
        self.unmet, self.reason, self.calls = set(unmet), reason, []

    def fulfilled(self, duty: Duty, request: Request) -> DutyResult:
        self.calls.append(duty)
        return DutyResult(duty.name not in self.unmet, self.reason)


def license_policy() -> Policy:
    return parse_policy(json.loads(EXAMPLE.read_text("utf-8")))


def train(**kw: Any) -> Request:
    base: dict[str, Any] = dict(date_time=NOW, spatial="US", model_family=FAMILY)
    base.update(kw)
    return Request(kw.pop("action", "train"), kw.pop("target", BUNDLE),
                   **{k: v for k, v in base.items() if k not in ("action", "target")})


def set_policy(*constraints: Any, action: Any = "train", **rule: Any) -> Policy:
    perm: dict[str, Any] = {"target": BUNDLE, "action": action, **rule}
    if constraints:
        perm["constraint"] = list(constraints)
    return parse_policy({"@context": CTX, "@type": "Set", "uid": "urn:x:policy",
                         "profile": PROFILE_IRI, "permission": [perm]})


def c(left: str, op: str, right: Any) -> dict[str, Any]:
    return {"leftOperand": left, "operator": op, "rightOperand": right}


def holds(constraint: dict[str, Any], **kw: Any) -> bool:
    return evaluate(set_policy(constraint), Request("train", BUNDLE, **kw), Oracle()).allowed


D = {"@type": "xsd:date"}


def d(s: str) -> dict[str, str]:
    return {"@value": s, "@type": "xsd:date"}


def dt(s: str) -> dict[str, str]:
    return {"@value": s, "@type": "xsd:dateTime"}


OPERATOR_CASES: list[tuple[dict[str, Any], dict[str, Any], bool]] = [
    # temporal: dates
    (c("dateTime", "eq", d("2027-06-01")), dict(date_time=date(2027, 6, 1)), True),
    (c("dateTime", "eq", d("2027-06-01")), dict(date_time=date(2027, 6, 2)), False),
    (c("dateTime", "neq", d("2027-06-01")), dict(date_time=date(2027, 6, 2)), True),
    (c("dateTime", "neq", d("2027-06-01")), dict(date_time=date(2027, 6, 1)), False),
    (c("dateTime", "lt", d("2027-12-31")), dict(date_time=date(2027, 12, 30)), True),
    (c("dateTime", "lt", d("2027-12-31")), dict(date_time=date(2027, 12, 31)), False),
    (c("dateTime", "lteq", "2027-12-31"), dict(date_time=date(2027, 12, 31)), True),
    (c("dateTime", "lteq", "2027-12-31"), dict(date_time=date(2028, 1, 1)), False),
    (c("dateTime", "gt", d("2027-01-01")), dict(date_time=date(2027, 1, 2)), True),
    (c("dateTime", "gt", d("2027-01-01")), dict(date_time=date(2027, 1, 1)), False),
    (c("dateTime", "gteq", d("2027-01-01")), dict(date_time=date(2027, 1, 1)), True),
    (c("dateTime", "gteq", d("2027-01-01")), dict(date_time=date(2026, 12, 31)), False),
    # temporal: instants (time zones honoured)
    (c("dateTime", "lt", dt("2027-06-01T12:00:00Z")),
     dict(date_time=datetime(2027, 6, 1, 11, 59, tzinfo=UTC)), True),
    (c("dateTime", "lt", dt("2027-06-01T12:00:00Z")),
     dict(date_time=datetime(2027, 6, 1, 12, 0, tzinfo=UTC)), False),
    (c("dateTime", "lt", dt("2027-06-01T12:00:00Z")),
     dict(date_time=datetime(2027, 6, 1, 13, 30, tzinfo=timezone(timedelta(hours=2)))), True),
    (c("dateTime", "eq", "2027-06-01T14:00:00+02:00"),
     dict(date_time=datetime(2027, 6, 1, 12, 0, tzinfo=UTC)), True),
    # a date operand against a datetime context uses the UTC date of the context
    (c("dateTime", "lt", d("2027-12-31")),
     dict(date_time=datetime(2027, 12, 30, 23, 30, tzinfo=timezone(timedelta(hours=-5)))), False),
    (c("dateTime", "lt", d("2027-12-31")),
     dict(date_time=datetime(2027, 12, 30, 18, 0, tzinfo=timezone(timedelta(hours=-5)))), True),
    # an instant operand against a date-only context is unsatisfied
    (c("dateTime", "lt", dt("2030-01-01T00:00:00Z")), dict(date_time=date(2027, 1, 1)), False),
    # numeric
    (c("count", "eq", 3), dict(count=3), True),
    (c("count", "eq", 3), dict(count=4), False),
    (c("count", "neq", 3), dict(count=4), True),
    (c("count", "neq", 3), dict(count=3), False),
    (c("count", "lt", {"@value": "3", "@type": "xsd:integer"}), dict(count=2), True),
    (c("count", "lt", {"@value": "3", "@type": "xsd:integer"}), dict(count=3), False),
    (c("count", "lteq", 3), dict(count=3), True),
    (c("count", "lteq", 3), dict(count=4), False),
    (c("count", "gt", {"@value": "2.5", "@type": "xsd:decimal"}), dict(count=3), True),
    (c("count", "gt", {"@value": "2.5", "@type": "xsd:decimal"}), dict(count=2), False),
    (c("count", "gteq", "3"), dict(count=3), True),
    (c("count", "gteq", "3"), dict(count=2), False),
    # territory
    (c("spatial", "eq", "urn:iso:3166:USA"), dict(spatial="US"), True),
    (c("spatial", "eq", "US"), dict(spatial="CA"), False),
    (c("spatial", "neq", "840"), dict(spatial="CA"), True),
    (c("spatial", "neq", "840"), dict(spatial="urn:iso:3166:US"), False),
    (c("spatial", "isPartOf", "EU"), dict(spatial="FR"), True),
    (c("spatial", "isPartOf", "EU"), dict(spatial="US"), False),
    (c("spatial", "isPartOf", "EEA"), dict(spatial="EU"), True),
    (c("spatial", "isPartOf", "EU"), dict(spatial="EEA"), False),
    (c("spatial", "isPartOf", {"@id": "urn:iso:3166:US"}), dict(spatial="USA"), True),
    (c("spatial", "hasPart", "FR"), dict(spatial="EU"), True),
    (c("spatial", "hasPart", "EU"), dict(spatial="FR"), False),
    (c("spatial", "isA", "EEA"), dict(spatial="NO"), True),
    (c("spatial", "isA", "EEA"), dict(spatial="CH"), False),
    (c("spatial", "isAnyOf", ["US", "EU"]), dict(spatial="FR"), True),
    (c("spatial", "isAnyOf", ["US", "CA"]), dict(spatial="FR"), False),
    (c("spatial", "isAllOf", ["EU", "EEA"]), dict(spatial="FR"), True),
    (c("spatial", "isAllOf", ["EU", "EEA"]), dict(spatial="NO"), False),
    (c("spatial", "isNoneOf", ["CN", "RU"]), dict(spatial="US"), True),
    (c("spatial", "isNoneOf", ["CN", "RU"]), dict(spatial="CN"), False),
    (c("spatial", "isNoneOf", ["CN"]), dict(spatial="WORLD"), False),  # WORLD includes CN
    # terms (strings / IRIs; the request may carry several)
    (c("modelFamily", "eq", X), dict(model_family=X), True),
    (c("modelFamily", "eq", X), dict(model_family=Y), False),
    (c("modelFamily", "eq", X), dict(model_family=[X, Y]), False),
    (c("modelFamily", "neq", X), dict(model_family=Y), True),
    (c("modelFamily", "neq", X), dict(model_family=[X, Y]), False),
    (c("modelFamily", "isPartOf", [X, Y]), dict(model_family=X), True),
    (c("modelFamily", "isPartOf", [X, Y]), dict(model_family=[X, Z]), False),
    (c("modelFamily", "hasPart", X), dict(model_family=[X, Y]), True),
    (c("modelFamily", "hasPart", X), dict(model_family=Y), False),
    (c("performer", "isAnyOf", [X, Y]), dict(performer=Y), True),
    (c("performer", "isAnyOf", [X, Y]), dict(performer=[Y, Z]), False),
    (c("production", "isAllOf", [X, Y]), dict(production=[X, Y, Z]), True),
    (c("production", "isAllOf", [X, Y]), dict(production=X), False),
    (c("purpose", "isNoneOf", [X]), dict(purpose=Y), True),
    (c("purpose", "isNoneOf", [X]), dict(purpose=[X, Y]), False),
    (c("purpose", "eq", {"@value": "film", "@type": "xsd:string"}), dict(purpose="film"), True),
    # a literal that happens to be a profile term stays a literal; compact IRIs are expanded
    (c("purpose", "eq", "generate"), dict(purpose="generate"), True),
    (c("purpose", "eq", "generate"), dict(purpose="rr:generate"), False),
    (c("purpose", "eq", {"@id": "rr:research"}),
     dict(purpose="https://reelrights.dev/odrl/profile/v1#research"), True),
]


@pytest.mark.parametrize(("constraint", "kw", "expected"), OPERATOR_CASES,
                         ids=[f"{x['leftOperand']}-{x['operator']}-{i}"
                              for i, (x, _, _) in enumerate(OPERATOR_CASES)])
def test_operator(constraint: dict[str, Any], kw: dict[str, Any], expected: bool) -> None:
    assert holds(constraint, **kw) is expected


@pytest.mark.parametrize(("constraint", "missing"), [
    (c("dateTime", "lt", d("2027-12-31")), "dateTime"),
    (c("count", "lteq", 3), "count"),
    (c("spatial", "isPartOf", "EU"), "spatial"),
    (c("modelFamily", "eq", X), "modelFamily"),
    (c("purpose", "isNoneOf", [X]), "purpose"),  # closed world even for a negative operator
])
def test_missing_context_value_never_satisfies(constraint: dict[str, Any], missing: str) -> None:
    decision = evaluate(set_policy(constraint), Request("train", BUNDLE), Oracle())
    assert not decision.allowed
    reason, = decision.reasons
    assert reason.kind == "constraint" and reason.pointer == "/permission/0/constraint/0"
    assert reason.message.endswith(f"request has no {missing}")


def test_failure_reason_names_constraint_operand_and_value() -> None:
    decision = evaluate(license_policy(), train(spatial="FR"), Oracle())
    assert str(decision.reasons[0]) == \
        "/permission/0/constraint/1: spatial isPartOf urn:iso:3166:US, request has FR"
    decision = evaluate(set_policy(c("dateTime", "lt", dt("2030-01-01T00:00:00Z"))),
                        Request("train", BUNDLE, date_time=date(2027, 1, 1)), Oracle())
    assert "timezone-aware datetime" in decision.reasons[0].message


# --- logical constraints ----------------------------------------------------------------------

def count_eq(k: int) -> dict[str, Any]:
    return c("count", "eq", k)


@pytest.mark.parametrize(("operand", "count", "expected"), [
    ("and", 1, False), ("andSequence", 1, False), ("or", 1, True), ("or", 9, False),
    ("xone", 1, True), ("xone", 9, False)])
def test_logical_operands(operand: str, count: int, expected: bool) -> None:
    pol = set_policy({operand: [count_eq(1), count_eq(2)]})
    assert evaluate(pol, Request("train", BUNDLE, count=count), Oracle()).allowed is expected


def test_and_needs_all_and_xone_refuses_two() -> None:
    both = set_policy({"and": [c("count", "gteq", 1), c("count", "lteq", 3)]})
    assert evaluate(both, Request("train", BUNDLE, count=2), Oracle()).allowed
    assert not evaluate(both, Request("train", BUNDLE, count=4), Oracle()).allowed
    two = set_policy({"xone": [c("count", "gteq", 1), c("count", "lteq", 3)]})
    decision = evaluate(two, Request("train", BUNDLE, count=2), Oracle())
    assert not decision.allowed
    assert decision.reasons[0].message.startswith("xone: 2 of 2 constraints are satisfied")
    seq = set_policy({"andSequence": [c("count", "gteq", 5), c("count", "lteq", 3)]})
    decision = evaluate(seq, Request("train", BUNDLE, count=4), Oracle())
    assert [r.pointer for r in decision.reasons] == ["/permission/0/constraint/0/andSequence/0"]
    none = set_policy({"or": [count_eq(1), count_eq(2)]})
    decision = evaluate(none, Request("train", BUNDLE, count=3), Oracle())
    assert [r.pointer for r in decision.reasons] == [
        "/permission/0/constraint/0", "/permission/0/constraint/0/or/0",
        "/permission/0/constraint/0/or/1"]


OPS = {"eq": int.__eq__, "neq": int.__ne__, "lt": int.__lt__, "lteq": int.__le__,
       "gt": int.__gt__, "gteq": int.__ge__}
atoms = st.lists(st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 6)), min_size=2,
                 max_size=6, unique=True)


@settings(max_examples=examples(150), deadline=None)
@given(atoms, st.integers(0, 6), st.sampled_from(["and", "or", "xone", "andSequence"]))
def test_logical_semantics_property(pairs: list[tuple[str, int]], count: int,
                                    operand: str) -> None:
    results = [OPS[op](count, k) for op, k in pairs]
    expected = {"and": all(results), "andSequence": all(results), "or": any(results),
                "xone": sum(results) == 1}[operand]
    pol = set_policy({operand: [c("count", op, k) for op, k in pairs]})
    decision = evaluate(pol, Request("train", BUNDLE, count=count), Oracle())
    assert decision.allowed is expected
    assert (decision.reasons[0].kind == "granted") is expected


@settings(max_examples=examples(100), deadline=None)
@given(st.sets(st.sampled_from([X, Y, Z, "urn:x:w"]), min_size=1),
       st.sets(st.sampled_from([X, Y, Z, "urn:x:w"]), min_size=1))
def test_term_set_operators_property(values: set[str], right: set[str]) -> None:
    rights = sorted(right)
    expect = {"isAnyOf": values <= right, "isAllOf": values >= right,
              "isNoneOf": not (values & right), "isPartOf": values <= right,
              "hasPart": values >= right}
    for op, want in expect.items():
        assert holds(c("purpose", op, rights), purpose=values) is want, op


# --- closed world, inheritance, targets, assignees ----------------------------------------------

def test_no_permission_means_deny() -> None:
    decision = evaluate(license_policy(), train(action="generate"), Oracle())
    assert not decision.allowed
    reason, = decision.reasons
    assert reason.kind == "no-permission" and reason.pointer == ""
    assert "closed world" in reason.message
    other_target = evaluate(license_policy(), train(target="urn:reelrights:bundle:x"), Oracle())
    assert not other_target.allowed and other_target.reasons[0].kind == "no-permission"


def test_policy_level_target_and_assignee_are_inherited() -> None:
    pol = license_policy()
    assert evaluate(pol, train(assignee=DEV), Oracle()).allowed
    stranger = evaluate(pol, train(assignee="urn:reelrights:party:someone"), Oracle())
    assert not stranger.allowed and stranger.reasons[0].kind == "no-permission"
    assert "someone" in stranger.reasons[0].message
    # the request item is part of the licensed bundle
    work = train(target="urn:reelrights:work:w1", targets=[BUNDLE])
    assert evaluate(pol, work, Oracle()).allowed
    assert not evaluate(pol, train(target="urn:reelrights:work:w1"), Oracle()).allowed


def test_example_license_allows_licensed_training() -> None:
    oracle = Oracle()
    decision = evaluate(license_policy(), train(), oracle)
    assert decision.allowed and decision.granted_by == ("/permission/0",)
    assert [duty.pointer for duty in oracle.calls] == ["/permission/0/duty/0",
                                                       "/permission/0/duty/1"]
    assert oracle.calls[0].fund_share is not None
    assert decision.explain() == ("allowed: /permission/0: permits train (constraints "
                                  "satisfied and duties fulfilled)")


def test_fine_tune_is_covered_by_train_but_not_the_reverse() -> None:
    assert evaluate(license_policy(), train(action="fineTune"), Oracle()).allowed
    fine_only = set_policy(action="fineTune")
    assert evaluate(fine_only, Request("fineTune", BUNDLE), Oracle()).allowed
    assert not evaluate(fine_only, Request("train", BUNDLE), Oracle()).allowed


def test_generate_does_not_cover_voice_or_likeness() -> None:
    gen = set_policy(action="generate")
    assert evaluate(gen, Request("generate", BUNDLE), Oracle()).allowed
    for action in ("synthesizeVoice", "synthesizeLikeness"):
        decision = evaluate(gen, Request(action, BUNDLE), Oracle())
        assert not decision.allowed and decision.reasons[0].kind == "no-permission"
    use = set_policy(action="use")
    assert evaluate(use, Request("synthesizeLikeness", BUNDLE), Oracle()).allowed


def test_date_expiry() -> None:
    pol = license_policy()
    assert evaluate(pol, train(date_time=date(2027, 12, 30)), Oracle()).allowed
    for day in (date(2027, 12, 31), date(2028, 6, 1)):
        decision = evaluate(pol, train(date_time=day), Oracle())
        assert not decision.allowed
        assert decision.reasons[0].pointer == "/permission/0/constraint/2"


def test_territory_containment() -> None:
    eu = set_policy(c("spatial", "isPartOf", "EU"))
    assert evaluate(eu, Request("train", BUNDLE, spatial="FR"), Oracle()).allowed
    assert evaluate(eu, Request("train", BUNDLE, spatial="urn:iso:3166:DEU"), Oracle()).allowed
    assert not evaluate(eu, Request("train", BUNDLE, spatial="US"), Oracle()).allowed
    assert not evaluate(license_policy(), train(spatial="FR"), Oracle()).allowed


# --- duties -----------------------------------------------------------------------------------

def test_unmet_duty_means_the_permission_does_not_count() -> None:
    oracle = Oracle("compensate", reason="no fund share recorded on the license")
    decision = evaluate(license_policy(), train(), oracle)
    assert not decision.allowed
    reason, = decision.reasons
    assert (reason.kind, reason.rule, reason.pointer) == ("duty", "/permission/0",
                                                          "/permission/0/duty/0")
    assert reason.message == "compensate not fulfilled: no fund share recorded on the license"


def test_oracle_is_not_asked_when_constraints_fail_and_must_say_true() -> None:
    oracle = Oracle()
    assert not evaluate(license_policy(), train(spatial="FR"), oracle).allowed
    assert oracle.calls == []

    class Sloppy:
        def fulfilled(self, duty: Duty, request: Request) -> Any:
            return DutyResult("yes", "")  # truthy, but not True

    assert not evaluate(license_policy(), train(), Sloppy()).allowed


def test_duty_constraints_must_hold() -> None:
    pol = set_policy(duty=[{"action": "attribute",
                            "constraint": [c("dateTime", "lt", d("2027-01-01"))]}])
    oracle = Oracle()
    ok = evaluate(pol, Request("train", BUNDLE, date_time=date(2026, 6, 1)), oracle)
    assert ok.allowed and len(oracle.calls) == 1
    late = evaluate(pol, Request("train", BUNDLE, date_time=date(2027, 6, 1)), oracle)
    assert not late.allowed and len(oracle.calls) == 1
    assert late.reasons[0].pointer == "/permission/0/duty/0/constraint/0"


# --- the fence rule: permissions and prohibitions ------------------------------------------------

def test_fulfilled_permission_overrides_the_prohibition() -> None:
    decision = evaluate(license_policy(), Request("synthesizeVoice", BUNDLE, performer=JANE),
                        Oracle())
    assert decision.allowed
    assert [(r.kind, r.pointer) for r in decision.reasons] == [
        ("granted", "/permission/1"), ("overridden", "/prohibition/0")]
    assert decision.prohibited_by == ()


def test_prohibition_denies_when_no_permission_is_fulfilled() -> None:
    no_consent = evaluate(license_policy(), Request("synthesizeVoice", BUNDLE, performer=JANE),
                          Oracle("obtainConsent", reason="no live consent from jane-roe"))
    assert not no_consent.allowed
    assert [(r.kind, r.pointer) for r in no_consent.reasons] == [
        ("duty", "/permission/1/duty/0"), ("prohibited", "/prohibition/0")]
    assert no_consent.prohibited_by == ("/prohibition/0",)
    other = evaluate(license_policy(), Request("synthesizeVoice", BUNDLE,
                                               performer="urn:reelrights:party:john"), Oracle())
    assert not other.allowed and other.prohibited_by == ("/prohibition/0",)
    likeness = evaluate(license_policy(), Request("synthesizeLikeness", BUNDLE, performer=JANE),
                        Oracle())
    assert [r.kind for r in likeness.reasons] == ["no-permission", "prohibited"]


def test_prohibition_alone_denies() -> None:
    pol = parse_policy({"@context": CTX, "@type": "Set", "uid": "urn:x:p", "profile": PROFILE_IRI,
                        "prohibition": [{"target": BUNDLE, "action": "train"}]})
    decision = evaluate(pol, Request("fineTune", BUNDLE), Oracle())
    assert not decision.allowed
    assert [r.kind for r in decision.reasons] == ["no-permission", "prohibited"]


def test_broader_permission_cannot_open_a_narrower_prohibition() -> None:
    pol = parse_policy({"@context": CTX, "@type": "Set", "uid": "urn:x:p", "profile": PROFILE_IRI,
                        "target": BUNDLE,
                        "permission": [{"action": "use"}],
                        "prohibition": [{"action": "synthesizeVoice"}]})
    assert evaluate(pol, Request("train", BUNDLE), Oracle()).allowed
    voice = evaluate(pol, Request("synthesizeVoice", BUNDLE), Oracle())
    assert not voice.allowed
    assert voice.reasons[-1].kind == "prohibited"
    assert "broader action" in voice.reasons[-1].message


def test_narrower_permission_opens_a_general_prohibition() -> None:
    pol = parse_policy({"@context": CTX, "@type": "Set", "uid": "urn:x:p", "profile": PROFILE_IRI,
                        "target": BUNDLE,
                        "permission": [{"action": "fineTune"}],
                        "prohibition": [{"action": "use"}]})
    assert evaluate(pol, Request("fineTune", BUNDLE), Oracle()).allowed
    assert not evaluate(pol, Request("train", BUNDLE), Oracle()).allowed


def test_prohibition_with_unsatisfied_constraint_is_not_in_effect() -> None:
    pol = parse_policy({"@context": CTX, "@type": "Set", "uid": "urn:x:p", "profile": PROFILE_IRI,
                        "target": BUNDLE, "permission": [{"action": "train"}],
                        "prohibition": [{"action": "train",
                                         "constraint": [c("spatial", "isPartOf", "CN")]}]})
    us = evaluate(pol, Request("train", BUNDLE, spatial="US"), Oracle())
    assert us.allowed and [r.kind for r in us.reasons] == ["granted"]
    cn = evaluate(pol, Request("train", BUNDLE, spatial="CN"), Oracle())
    assert cn.allowed and [r.kind for r in cn.reasons] == ["granted", "overridden"]


def test_action_refinement_is_a_condition() -> None:
    pol = set_policy(action={"rdf:value": {"@id": "rr:generate"}, "refinement": [
        c("production", "eq", "urn:reelrights:production:p1")]})
    ok = evaluate(pol, Request("generate", BUNDLE, production="urn:reelrights:production:p1"),
                  Oracle())
    assert ok.allowed
    no = evaluate(pol, Request("generate", BUNDLE, production="urn:reelrights:production:p2"),
                  Oracle())
    assert not no.allowed and no.reasons[0].pointer == "/permission/0/action/refinement/0"


def test_odrl_spec_example_adapted_to_the_profile() -> None:
    """ODRL 2.2 Information Model, section "Constraint property with a Rule" (policy:6163:
    distribute before 2018-01-01), with rr:train instead of odrl:distribute, and the attribute
    duty of the section "Consequence property with a Permission/Obligation Duty" folded in."""
    offer = parse_policy({
        "@context": CTX, "@type": "Offer", "uid": "http://example.com/policy:6163",
        "profile": PROFILE_IRI,
        "permission": [{
            "target": "http://example.com/document:1234",
            "assigner": "http://example.com/org:616",
            "action": "train",
            "constraint": [{"leftOperand": "dateTime", "operator": "lt",
                            "rightOperand": {"@value": "2018-01-01", "@type": "xsd:date"}}],
            "duty": [{"action": "attribute", "attributedParty": "http://australia.gov.au/"}],
        }]})
    doc = "http://example.com/document:1234"
    oracle = Oracle()
    assert evaluate(offer, Request("train", doc, date_time=date(2017, 12, 31)), oracle).allowed
    assert oracle.calls[0].attributed_party == "http://australia.gov.au/"
    assert not evaluate(offer, Request("train", doc, date_time=date(2018, 1, 1)), oracle).allowed


# --- the decision and the request ---------------------------------------------------------------

def test_decision_has_no_truth_value_and_is_deterministic() -> None:
    pol, req = license_policy(), Request("synthesizeVoice", BUNDLE, performer=JANE)
    decision = evaluate(pol, req, Oracle("obtainConsent"))
    with pytest.raises(TypeError):
        bool(decision)
    assert decision == evaluate(pol, req, Oracle("obtainConsent"))
    assert isinstance(decision, Decision)
    assert decision.explain().startswith("denied: /permission/1/duty/0: obtainConsent not ")


@pytest.mark.parametrize(("kwargs", "word"), [
    (dict(action="paint", target=BUNDLE), "not a rule action"),
    (dict(action="compensate", target=BUNDLE), "not a rule action"),
    (dict(action="train", target=""), "target"),
    (dict(action="train", target=BUNDLE, targets="urn:x:a"), "collection"),
    (dict(action="train", target=BUNDLE, date_time=datetime(2027, 1, 1)), "timezone-aware"),
    (dict(action="train", target=BUNDLE, date_time="2027-01-01"), "datetime or a date"),
    (dict(action="train", target=BUNDLE, spatial="Narnia"), "ISO 3166"),
    (dict(action="train", target=BUNDLE, count=-1), "count"),
    (dict(action="train", target=BUNDLE, performer=[JANE, 7]), "performer"),
])
def test_bad_requests_are_refused(kwargs: dict[str, Any], word: str) -> None:
    action, target = kwargs.pop("action"), kwargs.pop("target")
    with pytest.raises(BadInput) as e:
        Request(action, target, **kwargs)
    assert word in str(e.value)


def test_request_accepts_iri_forms_and_is_immutable() -> None:
    a = Request("rr:train", BUNDLE)
    b = Request("https://reelrights.dev/odrl/profile/v1#train", BUNDLE)
    assert a.action == b.action and a.action_name == "train"
    with pytest.raises(AttributeError):
        a.count = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        evaluate(license_policy(), {"action": "train"}, Oracle())  # type: ignore[arg-type]
