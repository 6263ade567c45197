"""The labor rules a system can check, as small pure predicates.

Each function checks one rule. Its docstring cites the rule's source, and ``docs/rules.md`` says
what the rule requires, what the system checks, what it cannot check, and which test proves the
check. The functions take plain values and touch no database. :mod:`reelrights.rights.consent`
and the registry call them, and so does the policy engine (through :func:`consent_required`).

Functions that look for a problem return ``None`` when the rule holds. Otherwise they return a
one-line reason that names the rule and says what to do. The caller turns the reason into an
error (at grant time) or a reason line (in :func:`reelrights.rights.consent.find_consent`).

Sources (see ``/work/shared/research/domain.md`` §6):

* SAG-AFTRA 2023 TV/Theatrical contract, digital-replica provisions (ratified 5 Dec 2023),
  rules R1 to R9 as numbered in the research notes;
* WGA 2023 MBA, Article 72 (generative AI), rules W1 to W4;
* California AB 2602 (2025: a replica clause needs a reasonably specific description and
  counsel or union representation) and AB 1836 (replicas of deceased personalities need the
  estate's consent);
* the Johansson / "Sky" episode (May 2024): a sound-alike is a use of the performer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from ..errors import BadInput

__all__ = [
    "BLANKET_PHRASES",
    "CONSENT_ACTIONS",
    "MIN_DESCRIPTION_WORDS",
    "consent_kind_for",
    "consent_required",
    "deceased_consent_problem",
    "description_problem",
    "licensee_problem",
    "model_family_problem",
    "performers_requiring_consent",
    "period_problem",
    "production_problem",
    "representation_note",
    "scope_problem",
    "signer_problem",
    "source_material_problem",
]

# ---------------------------------------------------------------------------------------------
# R1: clear and conspicuous consent, separately signed, with a reasonably specific description
# ---------------------------------------------------------------------------------------------


def signer_problem(actor: str, performer: str, *, representative: str | None,
                   died_on: date | None) -> str | None:
    """Who may sign a consent for ``performer`` (SAG-AFTRA 2023 R1 and R6; CA AB 1836).

    R1 requires consent that is "separately signed" by the performer and not buried in other
    terms. A ``consent.granted`` statement is a separate document of its own, and the ledger
    has already checked that the performer's own key signed it. This function adds who may be
    the actor. While the performer lives, only the performer may. Once a death is recorded
    (``died_on`` is set), only the recorded ``representative`` may (R6: "consent of the
    authorised representative"; AB 1836: the estate consents for a deceased personality).
    """
    if died_on is None:
        if actor != performer:
            return (f"consent for {performer} must be signed by {performer}'s own key, not by "
                    f"{actor}: SAG-AFTRA 2023 R1 requires consent separately signed by the "
                    "performer (an agent, studio or developer cannot consent for them)")
        return None
    if actor != representative:
        return (f"{performer} died on {died_on.isoformat()}; only the recorded representative "
                f"{representative} may consent for them (SAG-AFTRA 2023 R6, CA AB 1836), "
                f"not {actor}")
    return None


#: A consent description must contain at least this many distinct content words.
MIN_DESCRIPTION_WORDS = 5

#: Phrases that make a description blanket boilerplate rather than a specific use (R1, AB 2602).
#: They are matched on the description in lower case, with punctuation replaced by spaces.
BLANKET_PHRASES = (
    "any use", "any uses", "all uses", "any and all", "any purpose", "any purposes",
    "all purposes", "for any reason", "any manner", "any media", "all media",
    "now known or hereafter", "hereafter devised", "in perpetuity", "throughout the universe",
    "throughout the world and universe", "without limitation", "without restriction",
    "unlimited use", "whatsoever", "any project", "any production", "all productions",
    "any and every", "as the company sees fit", "sole discretion",
)

# Words that carry no description on their own (not counted as content words).
_STOPWORDS = frozenset("""
a an and are as at be by for from in into is it its my of on or our the their this to with
will being use used uses using voice likeness me i we you your any all other such
""".split())
_WORD = re.compile(r"[^\W\d_]{3,}")


def description_problem(text: str) -> str | None:
    """Is the description of the intended use "reasonably specific"? (SAG-AFTRA 2023 R1, R5).

    R1 and R5 require "a reasonably specific description of the intended use". CA AB 2602
    makes a replica clause unenforceable without one. A machine cannot judge specificity, but
    it can refuse what is certainly not specific: boilerplate that grants everything (any phrase
    in :data:`BLANKET_PHRASES`), and text with fewer than :data:`MIN_DESCRIPTION_WORDS` distinct
    content words (words of three or more letters outside a small stop list, which includes
    "voice", "likeness" and "use").
    """
    flat = " " + re.sub(r"[\W_]+", " ", text.lower()).strip() + " "
    for phrase in BLANKET_PHRASES:
        if f" {phrase} " in flat:
            return (f"the description contains {phrase!r}, which is blanket boilerplate: "
                    "SAG-AFTRA 2023 R1 requires a reasonably specific description of the "
                    "intended use; say which production, role or scenes, and what is generated")
    words = {w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS}
    if len(words) < MIN_DESCRIPTION_WORDS:
        return (f"the description has {len(words)} distinct content words, fewer than "
                f"{MIN_DESCRIPTION_WORDS}: SAG-AFTRA 2023 R1 requires a reasonably specific "
                "description of the intended use; say which production, role or scenes, and "
                "what is generated")
    return None


# ---------------------------------------------------------------------------------------------
# Scope and period: no blanket consent
# ---------------------------------------------------------------------------------------------

_GENERIC_SCOPES = frozenset({"*", "any", "all", "every", "everything", "anything", "none",
                             "n/a", "na", "tbd", "various", "any production", "all productions",
                             "any model", "all models", "any model family", "unlimited"})


def scope_problem(production: str | None, model_family: str | None) -> str | None:
    """Does the consent name its scope: a production and/or a model family? (R1, R4, AB 2602).

    A consent that names neither is a blanket consent. R4 requires a new consent for each other
    production, which cannot be checked against a consent that names none. A wildcard such as
    "*", "any" or "all productions" is refused for the same reason.
    """
    if production is None and model_family is None:
        return ("the consent names neither a production nor a model family: blanket consent "
                "is refused (SAG-AFTRA 2023 R1, R4); pass --production and/or --model-family")
    for label, value in (("production", production), ("model family", model_family)):
        if value is not None and (not value.strip() or value.strip().lower() in _GENERIC_SCOPES):
            return (f"the {label} {value!r} is a wildcard, not a scope: blanket consent is "
                    "refused (SAG-AFTRA 2023 R1, R4); name the production or model family")
    return None


def period_problem(start: date, end: date) -> str | None:
    """A consent's period must run forward: start on or before end (recorded period)."""
    if start > end:
        return (f"the period starts {start.isoformat()} after it ends {end.isoformat()}; "
                "pass --from on or before --until")
    return None


# ---------------------------------------------------------------------------------------------
# R4: a new consent for use in another production; model family and licensee likewise
# ---------------------------------------------------------------------------------------------


def production_problem(consented: str | None, requested: str | None) -> str | None:
    """Does the request's production match the consent's? (SAG-AFTRA 2023 R4).

    R4: using a replica "in another picture" requires a new, separate consent at the time of
    use. A consent that names a production covers that production only, compared exactly.
    A consent that names no production is scoped by its model family instead.
    """
    if consented is None or consented == requested:
        return None
    if requested is None:
        return (f"is for production {consented}, and the request names no production: "
                "SAG-AFTRA 2023 R4 requires a new consent for another production")
    return (f"is for production {consented}, not {requested}: SAG-AFTRA 2023 R4 requires a "
            "new consent for another production")


def model_family_problem(consented: str | None, requested: str | None) -> str | None:
    """Does the request's model family match the consent's? (R4 applied to models).

    A consent scoped to a model family covers only that family, compared exactly. A new family
    is a new use, and it needs a new consent, just as R4 requires for a new production.
    """
    if consented is None or consented == requested:
        return None
    if requested is None:
        return (f"is for model family {consented}, and the request names no model family; "
                "a new model family needs a new consent (SAG-AFTRA 2023 R4)")
    return (f"is for model family {consented}, not {requested}; a new model family needs a "
            "new consent (SAG-AFTRA 2023 R4)")


def licensee_problem(consented: str | None, requested: str | None) -> str | None:
    """A consent that names a licensee covers only that licensee (the consent's own terms)."""
    if consented is None or consented == requested:
        return None
    if requested is None:
        return f"is only for licensee {consented}, and the request names no licensee"
    return f"is only for licensee {consented}, not {requested}"


# ---------------------------------------------------------------------------------------------
# R6: after death, only the authorised representative's consent counts
# ---------------------------------------------------------------------------------------------


def deceased_consent_problem(*, died_on: date | None, on: date, signed_by: str,
                             representative: str | None, granted_after_death: bool) -> str | None:
    """After a performer's death, does this consent still count? (SAG-AFTRA 2023 R6; AB 1836).

    R6: for a deceased performer, the consent of the authorised representative is needed (or
    the union's, if no representative can be found). AB 1836 requires the estate's consent for
    a digital replica of a deceased personality. reelrights reads both conservatively. For a use
    dated on or after the recorded death, only a consent signed by the recorded representative
    after the death was recorded counts. Consents the performer signed in life count for uses
    dated before the death.
    """
    if died_on is None or on < died_on:
        return None
    if signed_by == representative and granted_after_death:
        return None
    return (f"performer died on {died_on.isoformat()}; only consent signed by representative "
            f"{representative} after the death counts (SAG-AFTRA 2023 R6, CA AB 1836)")


# ---------------------------------------------------------------------------------------------
# R9 and the Johansson rule: a sound-alike or look-alike is a use of the performer
# ---------------------------------------------------------------------------------------------

#: Actions that put a performer's voice or likeness in an output when the request names one.
CONSENT_ACTIONS = frozenset({"synthesizeVoice", "synthesizeLikeness", "generate", "ground", "style",
                             "use"})
_NO_CONSENT_ACTIONS = frozenset({"train", "fineTune"})


def _action_name(action: str) -> str:
    """``rr:synthesizeVoice`` and full IRIs reduce to the compact name ``synthesizeVoice``."""
    return re.split(r"[#/:]", action.strip())[-1]


def consent_required(action: str, performer: str | None) -> tuple[bool, str]:
    """Does ``action`` need ``performer``'s consent? (SAG-AFTRA 2023 R9; Johansson/"Sky").

    ``performer`` is the performer the request *names*: the one prompted by name, claimed, or
    resembled by the output. It is not the performer whose recordings were used. A synthesize,
    generate or use request that names a performer needs that performer's consent, whichever
    recordings went in. A sound-alike or look-alike is a use of the performer (R9: "prompting
    with a performer's name or facial feature ⇒ that performer's consent"). OpenAI's "Sky"
    voice (May 2024) showed why: Scarlett Johansson had declined, and the resemblance alone
    was the problem. With no performer named, a synthesized voice or face is a synthetic
    performer, which is not a replica. No consent is needed, though R9 requires notice to the
    union when it replaces a human. ``train`` and ``fineTune`` put no performer in an output.
    The license governs them, and consent is checked on the request that generates.

    Returns ``(required, reason)``. The reason is one line for the engine's explanation.
    Raises :class:`~reelrights.errors.BadInput` for an action the profile does not know.
    """
    name = _action_name(action)
    if name not in CONSENT_ACTIONS | _NO_CONSENT_ACTIONS:
        known = ", ".join(sorted(CONSENT_ACTIONS | _NO_CONSENT_ACTIONS))
        raise BadInput(f"action {action!r} is not a reelrights action; use one of {known}")
    who = performer.strip() if performer is not None else ""
    if name in _NO_CONSENT_ACTIONS:
        return (False, f"{name} puts no performer in an output; the license governs it, and "
                       "consent is checked on the synthesize or generate request")
    if not who:
        return (False, f"{name} names no performer: a synthetic performer is not a digital "
                       "replica, so no consent is needed (SAG-AFTRA 2023 R9 requires notice to "
                       "the union when one replaces a human performer)")
    return (True, f"{name} naming performer {who} needs {who}'s consent whatever recordings "
                  "were used: a sound-alike or look-alike is a use of the performer "
                  "(SAG-AFTRA 2023 R9; the Johansson/Sky lesson)")


def performers_requiring_consent(named: Iterable[str], resembled: Iterable[str],
                                 recordings_of: Iterable[str] = ()) -> frozenset[str]:
    """Whose consent an output needs: every performer named or resembled (R9; Johansson).

    ``recordings_of`` (the performers whose recordings trained or conditioned the model) is
    accepted only to say plainly that it changes nothing. Using only other people's recordings
    does not waive the consent of the performer the output sounds or looks like. A performer
    whose recordings were used but who is not resembled needs no replica consent here. The
    license on those recordings governs that use.
    """
    del recordings_of  # deliberately ignored: see the docstring
    return frozenset(p for p in (*named, *resembled) if p and p.strip())


def consent_kind_for(action: str, medium: str | None = None) -> str | None:
    """The consent kind a request needs: ``voice`` or ``likeness``, or None if none applies.

    ``synthesizeVoice`` needs voice and ``synthesizeLikeness`` needs likeness. For ``generate``
    and ``use``, the output's medium decides: audio needs voice, and video or image needs
    likeness. With no medium given, None: the caller must ask for both kinds.
    """
    name = _action_name(action)
    if name == "synthesizeVoice":
        return "voice"
    if name == "synthesizeLikeness":
        return "likeness"
    if name in ("generate", "use"):
        return {"audio": "voice", "video": "likeness", "image": "likeness"}.get(medium or "")
    return None


# ---------------------------------------------------------------------------------------------
# CA AB 2602: representation
# ---------------------------------------------------------------------------------------------


def representation_note(represented_by: str) -> str | None:
    """A warning when the performer had neither counsel nor union representation (AB 2602).

    CA AB 2602 (in force 2025) makes unenforceable a contract clause that allows a digital
    replica in place of work the performer would otherwise have done, unless the performer
    was represented by counsel or a union. The rule is California contract law, not a use
    rule, so reelrights records ``represented_by`` and flags ``none`` without refusing it.
    """
    if represented_by == "none":
        return ("the performer had neither counsel nor guild representation: under CA AB 2602 "
                "a replica clause may be unenforceable in California")
    return None


# ---------------------------------------------------------------------------------------------
# WGA 2023 Article 72, W1: generated material is not source material
# ---------------------------------------------------------------------------------------------


def source_material_problem(source: str, source_is_generated: bool) -> str | None:
    """Is ``source`` allowed as source material? (WGA 2023 MBA Article 72, rule W1).

    W1: GAI is not a writer, and what it generates is neither literary material nor source
    material. A work registered with ``generated: true`` therefore cannot be listed in another
    work's ``source_material``. Listing it there would give the writer a "based on" credit and
    cut the writer's credit and pay, which is exactly what Article 72 forbids.
    """
    if source_is_generated:
        return (f"work {source} is generated material, which is not source material "
                "(WGA 2023 MBA Article 72, W1); remove it from source_material")
    return None
