"""Human names (parties, works, bundles, productions, agreements): one visible form each.

A name that looks like another is an attack on whoever reads it: four studios can all display as
"Northlight Pictures" with a zero-width space (U+200B), a right-to-left override (U+202E), a
no-break space (U+00A0) or a Cyrillic "о". So a name is

* in Unicode NFC (the command line normalises what is typed before signing; the schema refuses
  a non-NFC name signed elsewhere, since two spellings of one name would be two names);
* free of invisible, bidi-control and non-printing characters: the general categories Cc
  (controls), Cf (formats: zero-width, bidi controls, tags, BOM), Co (private use), Cs
  (surrogates), Cn (unassigned), Zl and Zp (line and paragraph separators), every Zs space but
  U+0020, plus the explicit list :data:`INVISIBLE` of characters that render as nothing but sit
  in other categories (fillers, variation selectors, the combining grapheme joiner);
* without leading, trailing or doubled spaces.

Homoglyphs from other scripts are legitimate letters and are not refused; ``party add`` warns
when a new name's Unicode TR 39 skeleton matches an existing party's (:func:`skeleton`, from
the maintained ``disarm`` package's TR 39 tables).
"""

from __future__ import annotations

import unicodedata

from .schema import Str

__all__ = ["INVISIBLE", "NAME", "name_problem", "normalize_name", "skeleton"]

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp", "Zs"})

#: Characters that display as nothing (or as a blank) outside the refused categories.
INVISIBLE = frozenset(
    {0x034F,                      # COMBINING GRAPHEME JOINER (Mn)
     0x115F, 0x1160, 0x3164, 0xFFA0,  # HANGUL (HALFWIDTH) FILLERS (Lo)
     0x17B4, 0x17B5,              # KHMER VOWEL INHERENT AQ / AA (Mn)
     0x2800,                      # BRAILLE PATTERN BLANK (So)
     0x180B, 0x180C, 0x180D, 0x180F}  # MONGOLIAN FREE VARIATION SELECTORS (Mn)
    | set(range(0xFE00, 0xFE10))      # VARIATION SELECTOR-1..16 (Mn)
    | set(range(0xE0100, 0xE01F0))    # VARIATION SELECTOR-17..256 (Mn)
)


_UNNAMED = {"Cc": "(a control character)", "Cn": "(an unassigned code point)",
            "Co": "(a private-use character)", "Cs": "(a surrogate)"}


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "") or _UNNAMED.get(unicodedata.category(ch), "")
    return f"U+{ord(ch):04X} {name}".rstrip()


def name_problem(value: str) -> str | None:
    """Why ``value`` is not an acceptable name, or None. One line, naming the character."""
    if not (value.isascii() and value.isprintable()):  # printable ASCII is NFC and visible
        problem = _unicode_problem(value)
        if problem:
            return problem
    if value != value.strip(" "):
        return "starts or ends with a space; remove it"
    if "  " in value:
        return "holds two spaces in a row; use one"
    return None


def _unicode_problem(value: str) -> str | None:
    if unicodedata.normalize("NFC", value) != value:
        return ("is not in Unicode NFC form (a decomposed spelling of a name); normalise it "
                "to NFC before signing")
    for i, ch in enumerate(value):
        if ch == " ":
            continue
        if ord(ch) in INVISIBLE or unicodedata.category(ch) in _REFUSED_CATEGORIES:
            return (f"holds {_describe(ch)} at character {i + 1}, an invisible, bidi-control "
                    "or non-printing character; retype the name without it")
    return None


#: The schema of every human name in a statement body.
NAME = Str(max_len=300, extra=name_problem)


def normalize_name(value: str) -> str:
    """``value`` in NFC: what a command signs for a typed name (nothing else is changed)."""
    return unicodedata.normalize("NFC", value)


def skeleton(value: str) -> str:
    """The Unicode TR 39 skeleton of ``value``, case- and space-folded: equal skeletons mean
    the two names can be mistaken for each other."""
    from disarm import skeleton_key

    return skeleton_key(value, digit_policy="tr39")
