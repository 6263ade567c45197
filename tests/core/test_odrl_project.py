"""Lossy projections of rr policies: CAWG training-and-data-mining and TDMRep."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reelrights.core.odrl import (
    CONTEXT_IRI,
    PROFILE_IRI,
    Policy,
    parse_policy,
    to_cawg_training_mining,
    to_tdmrep,
)
from reelrights.core.odrl.project import CAWG_ENTRIES, CAWG_MARKER
from reelrights.errors import BadInput

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "src" / "reelrights" / "profile" / "examples" / "license-train-us.json"
CTX = ["http://www.w3.org/ns/odrl.jsonld", CONTEXT_IRI]
BUNDLE = "urn:reelrights:bundle:b"
URL = "https://reelrights.dev/licenses/northlight-orbit-2026-001"


def license_policy() -> Policy:
    return parse_policy(json.loads(EXAMPLE.read_text("utf-8")))


def policy(type_: str = "Set", uid: str = "urn:x:p", **rules: Any) -> Policy:
    return parse_policy({"@context": CTX, "@type": type_, "uid": uid, "profile": PROFILE_IRI,
                         "target": BUNDLE, **rules})


def test_cawg_projection_of_the_example_license() -> None:
    entries = to_cawg_training_mining(license_policy())["entries"]
    uid = "urn:reelrights:license:northlight-orbit-2026-001"
    assert set(entries) == {*CAWG_ENTRIES, CAWG_MARKER}
    for key in ("cawg.ai_training", "cawg.ai_generative_training", "cawg.ai_inference"):
        assert entries[key] == {"use": "constrained", "constraints_info": uid}, key
    assert entries["cawg.data_mining"] == {"use": "notAllowed"}
    marker = entries[CAWG_MARKER]
    assert marker["use"] == "constrained"
    assert "derived, lossy projection" in marker["constraints_info"] and uid in \
        marker["constraints_info"]


def test_cawg_policy_url_and_value_domain() -> None:
    entries = to_cawg_training_mining(license_policy(), policy_url=URL)["entries"]
    assert entries["cawg.ai_training"]["constraints_info"] == URL
    for key, entry in entries.items():
        assert entry["use"] in ("allowed", "notAllowed", "constrained"), key
        assert ("constraints_info" in entry) == (entry["use"] == "constrained"), key
    with pytest.raises(BadInput):
        to_cawg_training_mining(license_policy(), policy_url="ftp://x")


def test_cawg_allowed_only_for_an_open_unconditional_set() -> None:
    open_set = policy(permission=[{"action": "train"}])
    entries = to_cawg_training_mining(open_set)["entries"]
    assert entries["cawg.ai_training"] == {"use": "allowed"}
    assert entries["cawg.ai_generative_training"] == {"use": "allowed"}
    assert entries["cawg.ai_inference"] == {"use": "notAllowed"}
    # the same permission in an Agreement is granted to one assignee only
    agreement = policy("Agreement", permission=[{"action": "train"}],
                       assigner="urn:x:a", assignee="urn:x:b")
    assert to_cawg_training_mining(agreement)["entries"]["cawg.ai_training"]["use"] == \
        "constrained"
    # a prohibition touching the action makes it conditional
    fenced = policy(permission=[{"action": "train"}], prohibition=[{"action": "fineTune"}])
    assert to_cawg_training_mining(fenced)["entries"]["cawg.ai_training"]["use"] == "constrained"
    # an open permission for part of an entry's actions (fine-tuning only) is not "allowed"
    fine_open = policy(permission=[{"action": "fineTune"}])
    assert to_cawg_training_mining(fine_open)["entries"]["cawg.ai_training"]["use"] == \
        "constrained"
    # fine-tuning alone still counts as (constrained) training
    fine = policy(permission=[{"action": "fineTune", "constraint": [
        {"leftOperand": "count", "operator": "lteq", "rightOperand": 1}]}])
    assert to_cawg_training_mining(fine)["entries"]["cawg.ai_training"]["use"] == "constrained"


def test_cawg_use_permission_opens_data_mining() -> None:
    entries = to_cawg_training_mining(policy(permission=[{"action": "use"}]))["entries"]
    assert {k: v["use"] for k, v in entries.items() if k in CAWG_ENTRIES} == {
        "cawg.data_mining": "allowed", "cawg.ai_inference": "allowed",
        "cawg.ai_generative_training": "allowed", "cawg.ai_training": "allowed"}
    prohibited_only = policy(prohibition=[{"action": "use"}])
    entries = to_cawg_training_mining(prohibited_only)["entries"]
    assert all(entries[k]["use"] == "notAllowed" for k in CAWG_ENTRIES)


def test_tdmrep_rule() -> None:
    lic = license_policy()
    assert to_tdmrep(lic, "/bundles/northlight-classics/", policy_url=URL) == {
        "location": "/bundles/northlight-classics/", "tdm-reservation": 1, "tdm-policy": URL}
    # a urn uid is not a URL a TDM agent could fetch: reservation only
    assert to_tdmrep(lic, "/") == {"location": "/", "tdm-reservation": 1}
    url_uid = policy(uid=URL, permission=[{"action": "train"}])
    assert to_tdmrep(url_uid, "/a/*.mp4")["tdm-policy"] == URL
    open_use = policy(permission=[{"action": "use"}])
    assert to_tdmrep(open_use, "/open/", policy_url=URL) == {"location": "/open/",
                                                             "tdm-reservation": 0}
    for bad in ("bundles/", "", "/a b"):
        with pytest.raises(BadInput):
            to_tdmrep(lic, bad)
