"""Standard identifiers: known-good examples from the standards' own documents, and every
single-character corruption of each refused with a line that names the identifier."""

from __future__ import annotations

import pytest

from reelrights.core.identifiers import (
    PARTY_SCHEMES,
    WORK_SCHEMES,
    BadIdentifier,
    is_identifier,
    iso7064_mod11_2,
    iso7064_mod37_36,
    parse_identifier,
)

# Known-good examples, each from the issuing standard's documentation:
GOOD = [
    # EIDR: the example DOI of EIDR's "ID format" guide (10.5240/7791-8534-2C23-9030-8610-5)
    ("eidr:10.5240/7791-8534-2C23-9030-8610-5", "10.5240/7791-8534-2C23-9030-8610-5", WORK_SCHEMES),
    # ISAN: the V-ISAN example of isan.org's structure page, and an ISO 15706-2 root example
    ("isan:0000-0000-D07A-0090-Q-0000-0000-X", "0000-0000-D07A-0090-Q-0000-0000-X", WORK_SCHEMES),
    ("isan:0000-0000-3A8D-0000-Z-0000-0000-6", "0000-0000-3A8D-0000-Z-0000-0000-6", WORK_SCHEMES),
    ("isan:0000-0000-D07A-0090-Q", "0000-0000-D07A-0090-Q", WORK_SCHEMES),
    # ISNI: isni.org's display example; ORCID's documented example (an ISNI-block id, Mod 11-2)
    ("isni:0000 0001 2103 2683", "0000000121032683", PARTY_SCHEMES),
    ("isni:0000-0002-1825-0097", "0000000218250097", PARTY_SCHEMES),
    ("isni:000000012281955X", "000000012281955X", PARTY_SCHEMES),
    # ISWC: the example of the ISWC handbook (T-034.524.680-1)
    ("iswc:T-034.524.680-1", "T-034.524.680-1", WORK_SCHEMES),
    ("iswc:T0345246801", "T-034.524.680-1", WORK_SCHEMES),
    # ISRC: the ISRC handbook's example (no check character exists)
    ("isrc:US-S1Z-99-00001", "USS1Z9900001", WORK_SCHEMES),
    ("isrc:USRC17607839", "USRC17607839", WORK_SCHEMES),
    # ISBN: the ISBN users' manual example, as ISBN-10 and ISBN-13
    ("isbn:0-306-40615-2", "0306406152", WORK_SCHEMES),
    ("isbn:978-0-306-40615-7", "9780306406157", WORK_SCHEMES),
    ("isbn:080442957X", "080442957X", WORK_SCHEMES),
    # IPI: an 11-digit name number (format only)
    ("ipi:00014107338", "00014107338", PARTY_SCHEMES),
    ("ipi:14107338", "00014107338", PARTY_SCHEMES),
    ("imdb:tt0087332", "tt0087332", WORK_SCHEMES),
    ("imdb:nm0000001", "nm0000001", PARTY_SCHEMES),
]


@pytest.mark.parametrize(("text", "normal", "schemes"), GOOD)
def test_known_good(text: str, normal: str, schemes: tuple[str, ...]) -> None:
    ident = parse_identifier(text, schemes)
    assert ident.value == normal and str(ident) == f"{text.split(':')[0]}:{normal}"
    assert is_identifier(text)


_ALPHABET = "0123456789ABCDEFX"
def _iswc_blind_spot(scheme: str, value: str, i: int, c: str) -> bool:
    """The ISWC check (weights 1..9, mod 10) cannot see a change of 5 at an even weight: the
    standard's own limit, not ours."""
    if scheme != "iswc" or not c.isdigit() or not value[i].isdigit():
        return False
    digits = [k for k, ch in enumerate(value) if ch.isdigit()][:9]
    if i not in digits:
        return False
    weight = digits.index(i) + 1
    return (int(c) - int(value[i])) * weight % 10 == 0


CHECKED = [(t, s) for t, _, s in GOOD if not t.startswith(("isrc:", "ipi:", "imdb:"))]


@pytest.mark.parametrize(("text", "schemes"), CHECKED)
def test_every_single_character_corruption_is_refused(text: str, schemes: tuple[str, ...]) -> None:
    """Change any one digit or letter of the value: the check character catches it."""
    scheme, _, value = text.partition(":")
    start = len("10.5240/") if scheme == "eidr" else 0
    tried = 0
    for i in range(start, len(value)):
        if not value[i].isalnum() or (scheme == "iswc" and i == 0):
            continue
        for c in _ALPHABET:
            if c == value[i] or _iswc_blind_spot(scheme, value, i, c):
                continue
            bad = f"{scheme}:{value[:i]}{c}{value[i + 1:]}"
            try:
                got = parse_identifier(bad, schemes)
            except BadIdentifier as exc:
                msg = str(exc)
                assert bad in msg and "\n" not in msg and "write it like" in msg
                tried += 1
                continue
            pytest.fail(f"{bad} was accepted as {got}")
    assert tried > 10


@pytest.mark.parametrize(("text", "schemes", "words"), [
    ("eidr:10.5240/7791-8534-2C23-9030-8610-6", WORK_SCHEMES, "check character is 6"),
    ("eidr:10.5240/7791-8534-2c23-9030-8610-5", WORK_SCHEMES, "not an EIDR DOI"),
    ("isni:0000000121032684", PARTY_SCHEMES, "Mod 11-2"),
    ("isbn:978-0-306-40615-8", WORK_SCHEMES, "ISBN-13 check digit"),
    ("iswc:T-034.524.680-2", WORK_SCHEMES, "ISWC check digit"),
    ("isni:0000000121032683", WORK_SCHEMES, "not one a work takes"),
    ("eidr:10.5240/7791-8534-2C23-9030-8610-5", PARTY_SCHEMES, "not one a party takes"),
    ("imdb:nm0000001", WORK_SCHEMES, "IMDb id of a work"),
    ("10.5240/7791-8534-2C23-9030-8610-5", WORK_SCHEMES, "scheme"),
    (" eidr:10.5240/7791-8534-2C23-9030-8610-5", WORK_SCHEMES, "one line"),
    ("isrc:US-S1Z-99-0001", WORK_SCHEMES, "ISRC"),
])
def test_errors_name_the_identifier_and_the_fix(text: str, schemes: tuple[str, ...],
                                                words: str) -> None:
    with pytest.raises(BadIdentifier) as info:
        parse_identifier(text, schemes)
    assert words in str(info.value) and repr(text) in str(info.value)


def test_check_functions_match_the_standards_worked_examples() -> None:
    # ISO 7064 Annex: MOD 11-2 of 079 is X; MOD 37,36 of the EIDR digits is 5.
    assert iso7064_mod11_2("079") == "X"
    assert iso7064_mod37_36("779185342C2390308610") == "5"
