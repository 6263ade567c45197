"""Standard identifiers of works and parties: parse, verify the check character, normalise.

Every identifier is written ``scheme:value``. :func:`parse_identifier` returns the normal form
(what the registry indexes and looks up) or raises :class:`BadIdentifier` with one line that
names the identifier, what is wrong and the fix. Pure: no I/O.

=========  =====================================================  ==============================
scheme     standard, check                                        normal form
=========  =====================================================  ==============================
eidr       EIDR DOI ``10.5240/XXXX-XXXX-XXXX-XXXX-XXXX-C``;         ``10.5240/7791-…-8610-5``
           ISO 7064 Mod 37,36 over the 20 hex digits
isan       ISO 15706-2: root (12 hex) + episode (4 hex) + check 1   ``0000-0000-D07A-0090-Q``
           (Mod 37,36 over the 16), optional version (8 hex) +      ``[-0000-0000-X]``
           check 2 (Mod 37,36 over all 24)
isni       ISO 27729: 15 digits + ISO 7064 Mod 11-2 check (X=10)    16 characters, no spaces
ipi        CISAC IPI name number: 11 digits (format only; the       11 digits
           check-digit rule is not public)
isrc       ISO 3901: CC-XXX-YY-NNNNN (no check character exists)    12 characters, no hyphens
iswc       ISO 15707: T + 9 digits + check (1 + Σ i·dᵢ, mod 10)     ``T-034.524.680-1``
isbn       ISO 2108: ISBN-10 (Mod 11, X=10) or ISBN-13 (EAN-13)     digits (and X), no hyphens
imdb       IMDb title or name id (format only)                      ``tt0087332``
=========  =====================================================  ==============================

``WORK_SCHEMES`` and ``PARTY_SCHEMES`` say which identifiers each registers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PARTY_SCHEMES", "SCHEMES", "WORK_SCHEMES", "BadIdentifier", "Identifier",
           "is_identifier", "iso7064_mod11_2", "iso7064_mod37_36", "isbn10_check",
           "isbn13_check", "iswc_check", "parse_identifier"]

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: Schemes a work may carry, and schemes a party may carry.
WORK_SCHEMES = ("eidr", "isan", "isrc", "iswc", "isbn", "imdb")
PARTY_SCHEMES = ("isni", "ipi", "imdb")
SCHEMES = ("eidr", "isan", "isni", "ipi", "isrc", "iswc", "isbn", "imdb")

_EXAMPLE = {
    "eidr": "eidr:10.5240/7791-8534-2C23-9030-8610-5",
    "isan": "isan:0000-0000-D07A-0090-Q-0000-0000-X",
    "isni": "isni:0000000121032683",
    "ipi": "ipi:00014107338",
    "isrc": "isrc:USRC17607839",
    "iswc": "iswc:T-034.524.680-1",
    "isbn": "isbn:978-0-306-40615-7",
    "imdb": "imdb:tt0087332",
}


class BadIdentifier(ValueError):
    """An identifier that is malformed or fails its check character. ``str()`` is one line."""


@dataclass(frozen=True)
class Identifier:
    scheme: str
    value: str          # normal form

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}"


def iso7064_mod37_36(chars: str) -> str:
    """ISO/IEC 7064 MOD 37,36 (hybrid) check character over digits and letters A-Z."""
    m = 36
    p = m
    for ch in chars:
        s = (p % (m + 1)) + _ALNUM.index(ch)
        p = ((s % m) or m) * 2
    return _ALNUM[(m + 1 - p % (m + 1)) % m]


def iso7064_mod11_2(digits: str) -> str:
    """ISO/IEC 7064 MOD 11-2 (pure) check character ("X" for 10) over decimal digits."""
    p = 0
    for ch in digits:
        p = (p + int(ch)) * 2 % 11
    c = (12 - p) % 11
    return "X" if c == 10 else str(c)


def isbn10_check(nine: str) -> str:
    c = (11 - sum((10 - i) * int(d) for i, d in enumerate(nine)) % 11) % 11
    return "X" if c == 10 else str(c)


def isbn13_check(twelve: str) -> str:
    return str((10 - sum((3 if i % 2 else 1) * int(d) for i, d in enumerate(twelve)) % 10) % 10)


def iswc_check(nine: str) -> str:
    return str((10 - (1 + sum((i + 1) * int(d) for i, d in enumerate(nine))) % 10) % 10)


def _fail(text: str, problem: str, scheme: str) -> BadIdentifier:
    return BadIdentifier(f"{text!r}: {problem}; write it like {_EXAMPLE[scheme]} "
                         "(copy it again from the registry that issued it)")


_EIDR = re.compile(r"10\.5240/((?:[0-9A-F]{4}-){5})([0-9A-Z])")
_ISAN = re.compile(r"([0-9A-F]{4})-?([0-9A-F]{4})-?([0-9A-F]{4})-?([0-9A-F]{4})"
                   r"(?:-?([0-9A-Z])(?:-?([0-9A-F]{4})-?([0-9A-F]{4})-?([0-9A-Z]))?)?")
_ISNI = re.compile(r"[0-9]{15}[0-9X]")
_IPI = re.compile(r"[0-9]{8,11}")
_ISRC = re.compile(r"([A-Z]{2})-?([A-Z0-9]{3})-?([0-9]{2})-?([0-9]{5})")
_ISWC = re.compile(r"T-?([0-9]{3})\.?([0-9]{3})\.?([0-9]{3})-?([0-9])")
_IMDB = {"work": re.compile(r"tt[0-9]{7,10}"), "party": re.compile(r"(?:nm|co)[0-9]{7,10}")}


def _eidr(text: str, v: str) -> str:
    m = _EIDR.fullmatch(v)
    if not m:
        raise _fail(text, "not an EIDR DOI of the form 10.5240/XXXX-XXXX-XXXX-XXXX-XXXX-C "
                          "(20 hex digits and a check character)", "eidr")
    hexes = m.group(1).replace("-", "")
    want = iso7064_mod37_36(hexes)
    if m.group(2) != want:
        raise _fail(text, f"the EIDR check character is {m.group(2)}, but the digits give {want} "
                          "(ISO 7064 Mod 37,36): a character is mistyped", "eidr")
    return v


def _isan(text: str, v: str) -> str:
    m = _ISAN.fullmatch(v)
    if not m:
        raise _fail(text, "not an ISAN (16 hex digits, a check character, and optionally an "
                          "8-hex-digit version and its check character)", "isan")
    root = "".join(m.group(i) for i in range(1, 5))
    parts = [m.group(1), m.group(2), m.group(3), m.group(4)]
    if m.group(5):
        want = iso7064_mod37_36(root)
        if m.group(5) != want:
            raise _fail(text, f"the ISAN check character is {m.group(5)}, but the root and "
                              f"episode give {want} (ISO 7064 Mod 37,36)", "isan")
        parts.append(m.group(5))
    if m.group(6):
        version = m.group(6) + m.group(7)
        want = iso7064_mod37_36(root + version)
        if m.group(8) != want:
            raise _fail(text, f"the ISAN version check character is {m.group(8)}, but the "
                              f"digits give {want} (ISO 7064 Mod 37,36)", "isan")
        parts += [m.group(6), m.group(7), m.group(8)]
    return "-".join(parts)


def _isni(text: str, v: str) -> str:
    s = re.sub(r"[ -]", "", v)
    if not _ISNI.fullmatch(s):
        raise _fail(text, "an ISNI is 16 characters: 15 digits and a check digit or X", "isni")
    want = iso7064_mod11_2(s[:15])
    if s[15] != want:
        raise _fail(text, f"the ISNI check character is {s[15]}, but the digits give {want} "
                          "(ISO 7064 Mod 11-2)", "isni")
    return s


def _ipi(text: str, v: str) -> str:
    s = re.sub(r"[ .-]", "", v)
    if not _IPI.fullmatch(s):
        raise _fail(text, "an IPI name number is 11 digits (shorter ones are zero-padded)", "ipi")
    return s.zfill(11)


def _isrc(text: str, v: str) -> str:
    m = _ISRC.fullmatch(v)
    if not m:
        raise _fail(text, "an ISRC is a country code, a 3-character registrant, a 2-digit year "
                          "and a 5-digit designation (CC-XXX-YY-NNNNN)", "isrc")
    return "".join(m.groups())


def _iswc(text: str, v: str) -> str:
    m = _ISWC.fullmatch(v)
    if not m:
        raise _fail(text, "an ISWC is T, 9 digits and a check digit (T-DDD.DDD.DDD-C)", "iswc")
    nine = m.group(1) + m.group(2) + m.group(3)
    want = iswc_check(nine)
    if m.group(4) != want:
        raise _fail(text, f"the ISWC check digit is {m.group(4)}, but the digits give {want}",
                    "iswc")
    return f"T-{m.group(1)}.{m.group(2)}.{m.group(3)}-{m.group(4)}"


def _isbn(text: str, v: str) -> str:
    s = re.sub(r"[ -]", "", v)
    if re.fullmatch(r"[0-9]{9}[0-9X]", s):
        want = isbn10_check(s[:9])
        if s[9] != want:
            raise _fail(text, f"the ISBN-10 check character is {s[9]}, but the digits give "
                              f"{want} (Mod 11)", "isbn")
        return s
    if re.fullmatch(r"97[89][0-9]{10}", s):
        want = isbn13_check(s[:12])
        if s[12] != want:
            raise _fail(text, f"the ISBN-13 check digit is {s[12]}, but the digits give {want} "
                              "(EAN-13)", "isbn")
        return s
    raise _fail(text, "an ISBN is 10 characters (9 digits and a check digit or X) or 13 digits "
                      "starting 978 or 979", "isbn")


def _imdb(text: str, v: str, of: str) -> str:
    if not _IMDB[of].fullmatch(v):
        raise _fail(text, "an IMDb id of a work is tt and 7 to 10 digits; of a person or "
                          "company, nm or co and 7 to 10 digits", "imdb")
    return v


_PARSERS = {"eidr": _eidr, "isan": _isan, "isni": _isni, "ipi": _ipi, "isrc": _isrc,
            "iswc": _iswc, "isbn": _isbn}


def parse_identifier(text: str, allowed: tuple[str, ...] = SCHEMES) -> Identifier:
    """The identifier ``text`` (``scheme:value``) in normal form, its check character verified.

    Raises :class:`BadIdentifier` naming ``text``, the problem and the fix. ``allowed`` limits
    the schemes (a work takes ``WORK_SCHEMES``, a party ``PARTY_SCHEMES``)."""
    if type(text) is not str or not text.isascii() or not text.isprintable() \
            or text != text.strip():
        raise BadIdentifier(f"{text!r}: an identifier is one line of ASCII, scheme:value")
    scheme, sep, value = text.partition(":")
    if not sep or not value:
        raise BadIdentifier(f"{text!r} has no scheme; write scheme:value, one of "
                            f"{', '.join(s + ':' for s in allowed)}")
    if scheme not in allowed:
        where = ("a work" if allowed == WORK_SCHEMES else "a party" if allowed == PARTY_SCHEMES
                 else "here")
        raise BadIdentifier(f"{text!r}: the scheme {scheme!r} is not one {where} takes; use "
                            f"{', '.join(allowed)}")
    if scheme == "imdb":
        return Identifier(scheme, _imdb(text, value, "party" if allowed == PARTY_SCHEMES
                                        else "work"))
    return Identifier(scheme, _PARSERS[scheme](text, value))


def is_identifier(text: str) -> bool:
    """Whether ``text`` starts with a known ``scheme:`` (a lookup key, not a registry id)."""
    scheme, sep, _ = text.partition(":")
    return bool(sep) and scheme.lower() in SCHEMES
