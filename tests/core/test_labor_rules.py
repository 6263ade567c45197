"""The labor rules as pure predicates (reelrights.core.labor_rules); docs/rules.md names these."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reelrights.core import labor_rules as rules
from reelrights.errors import BadInput

SPECIFIC = ("Synthesized replacement dialogue for the character Mara Ellison in the feature "
            "film Harbour Lights, ADR of scenes 12 to 14 only")


# -- R1: separately signed --------------------------------------------------------------------

def test_signer_problem_only_the_performer_signs_in_life() -> None:
    assert rules.signer_problem("pty_p", "pty_p", representative=None, died_on=None) is None
    why = rules.signer_problem("pty_studio", "pty_p", representative=None, died_on=None)
    assert why is not None and "pty_p's own key" in why and "R1" in why


def test_signer_problem_only_the_representative_signs_after_death() -> None:
    died = date(2025, 1, 1)
    assert rules.signer_problem("pty_r", "pty_p", representative="pty_r", died_on=died) is None
    why = rules.signer_problem("pty_p", "pty_p", representative="pty_r", died_on=died)
    assert why is not None and "2025-01-01" in why and "R6" in why and "pty_r" in why


# -- R1: reasonably specific description ------------------------------------------------------

def test_description_problem_accepts_a_specific_description() -> None:
    assert rules.description_problem(SPECIFIC) is None


@pytest.mark.parametrize("text", [
    "Any use of my voice and likeness for all purposes",
    "Digital replica usable in perpetuity throughout the universe for the film Harbour Lights",
    "Synthesized dialogue for Harbour Lights and any and all sequels",
    "Voice replica for Harbour Lights, without limitation as to scenes or media",
    "All media now known or hereafter devised, feature film Harbour Lights",
])
def test_description_problem_refuses_blanket_boilerplate(text: str) -> None:
    why = rules.description_problem(text)
    assert why is not None and "blanket boilerplate" in why and "R1" in why


@pytest.mark.parametrize("text", [
    "use of my voice in the film",            # 1 content word: film
    "voice voice voice voice voice voice",    # no content word
    "the film the film the film the film",    # one distinct content word
])
def test_description_problem_refuses_too_few_content_words(text: str) -> None:
    why = rules.description_problem(text)
    assert why is not None and "distinct content words" in why


@given(st.sampled_from(rules.BLANKET_PHRASES), st.sampled_from([".", ",", " ", "; ", "!"]))
def test_description_problem_finds_blanket_phrases_anywhere(phrase: str, sep: str) -> None:
    """Any deny-listed phrase, in any case and next to any punctuation, refuses the text."""
    assert rules.description_problem(f"{SPECIFIC}{sep}{phrase.upper()}{sep}") is not None
    assert rules.description_problem(f"{phrase.title()}{sep}{SPECIFIC}") is not None


# -- scope and period -------------------------------------------------------------------------

def test_scope_problem_refuses_blanket_consent() -> None:
    assert rules.scope_problem("Harbour Lights", None) is None
    assert rules.scope_problem(None, "orbit-tts-3") is None
    assert rules.scope_problem("Harbour Lights", "orbit-tts-3") is None
    assert "neither a production nor a model family" in rules.scope_problem(None, None)
    for wildcard in ("*", "ANY", "all productions", " any model "):
        assert "wildcard" in rules.scope_problem(wildcard, None)
        assert "wildcard" in rules.scope_problem(None, wildcard)


def test_period_problem() -> None:
    assert rules.period_problem(date(2027, 1, 1), date(2027, 1, 1)) is None
    assert "after it ends" in rules.period_problem(date(2027, 1, 2), date(2027, 1, 1))


# -- R4: another production, another model family, another licensee ----------------------------

def test_production_problem_requires_a_new_consent_for_another_production() -> None:
    assert rules.production_problem("Harbour Lights", "Harbour Lights") is None
    assert rules.production_problem(None, "Anything") is None  # scoped by model family instead
    why = rules.production_problem("Harbour Lights", "Harbour Lights II")
    assert why == ("is for production Harbour Lights, not Harbour Lights II: SAG-AFTRA 2023 R4 "
                   "requires a new consent for another production")
    assert "names no production" in rules.production_problem("Harbour Lights", None)


def test_model_family_and_licensee_problems() -> None:
    assert rules.model_family_problem("orbit-tts-3", "orbit-tts-3") is None
    assert rules.model_family_problem(None, "x") is None
    assert "not orbit-tts-4" in rules.model_family_problem("orbit-tts-3", "orbit-tts-4")
    assert "names no model family" in rules.model_family_problem("orbit-tts-3", None)
    assert rules.licensee_problem("pty_a", "pty_a") is None
    assert rules.licensee_problem(None, "pty_b") is None
    assert rules.licensee_problem("pty_a", "pty_b") == "is only for licensee pty_a, not pty_b"
    assert "names no licensee" in rules.licensee_problem("pty_a", None)


# -- R6: after death -------------------------------------------------------------------------

def test_deceased_consent_problem() -> None:
    died = date(2025, 1, 1)
    kw = {"died_on": died, "representative": "pty_r"}
    # alive, or a use dated before the death: the rule does not apply
    assert rules.deceased_consent_problem(died_on=None, on=date(2030, 1, 1), signed_by="pty_p",
                                          representative=None, granted_after_death=False) is None
    assert rules.deceased_consent_problem(on=date(2024, 12, 31), signed_by="pty_p",
                                          granted_after_death=False, **kw) is None
    # on or after the death: only the representative's consent, granted after the death
    assert rules.deceased_consent_problem(on=died, signed_by="pty_r", granted_after_death=True,
                                          **kw) is None
    why = rules.deceased_consent_problem(on=died, signed_by="pty_p", granted_after_death=False,
                                         **kw)
    assert why is not None and why.startswith("performer died on 2025-01-01") and "R6" in why
    assert rules.deceased_consent_problem(on=died, signed_by="pty_r", granted_after_death=False,
                                          **kw) is not None


# -- R9 and the Johansson rule ---------------------------------------------------------------

@pytest.mark.parametrize("action", ["synthesizeVoice", "synthesizeLikeness", "generate", "use",
                                    "rr:synthesizeVoice",
                                    "https://w3id.org/reelrights/profile#synthesizeLikeness"])
def test_sound_alike_requires_the_named_performers_consent(action: str) -> None:
    required, why = rules.consent_required(action, "pty_jane")
    assert required is True
    assert "pty_jane's consent whatever recordings were used" in why and "R9" in why
    assert "Johansson" in why


@pytest.mark.parametrize("action", ["synthesizeVoice", "generate"])
@pytest.mark.parametrize("performer", [None, "", "  "])
def test_no_performer_named_is_a_synthetic_performer(action: str, performer: str | None) -> None:
    required, why = rules.consent_required(action, performer)
    assert required is False and "synthetic performer" in why and "notice to the union" in why


@pytest.mark.parametrize("action", ["train", "fineTune", "rr:train"])
def test_training_needs_no_replica_consent(action: str) -> None:
    required, why = rules.consent_required(action, "pty_jane")
    assert required is False and "license governs it" in why


def test_consent_required_refuses_unknown_actions() -> None:
    with pytest.raises(BadInput, match="'dance' is not a reelrights action"):
        rules.consent_required("dance", "pty_jane")


def test_performers_requiring_consent_ignores_whose_recordings_were_used() -> None:
    """The Johansson lesson: the output resembles Jane, trained only on Sky's recordings."""
    assert rules.performers_requiring_consent([], ["pty_jane"], ["pty_sky"]) == {"pty_jane"}
    assert rules.performers_requiring_consent(["pty_a"], ["pty_b", ""], []) == {"pty_a", "pty_b"}
    assert rules.performers_requiring_consent([], [], ["pty_sky"]) == frozenset()


def test_consent_kind_for() -> None:
    assert rules.consent_kind_for("synthesizeVoice") == "voice"
    assert rules.consent_kind_for("rr:synthesizeLikeness") == "likeness"
    assert rules.consent_kind_for("generate", "audio") == "voice"
    assert rules.consent_kind_for("generate", "video") == "likeness"
    assert rules.consent_kind_for("generate") is None
    assert rules.consent_kind_for("train", "audio") is None


# -- CA AB 2602 and WGA W1 -------------------------------------------------------------------

def test_representation_note() -> None:
    assert rules.representation_note("counsel") is None
    assert rules.representation_note("guild") is None
    assert "AB 2602" in rules.representation_note("none")


def test_source_material_problem() -> None:
    assert rules.source_material_problem("wrk_a", False) is None
    why = rules.source_material_problem("wrk_a", True)
    assert why is not None and "not source material" in why and "Article 72" in why
