"""ISO 3166-1 territories and the regions the reelrights ODRL profile ships.

A :class:`Territory` is a canonical code plus the set of ISO 3166-1 alpha-2 country codes it
covers, so every spatial operator is a set relation: ``FR isPartOf EU`` is
``{"FR"} <= members(EU)``.

Accepted spellings (letters are case-insensitive):

* alpha-2 ``US``, alpha-3 ``USA``, numeric ``840``;
* the same behind ``urn:iso:3166:`` (``urn:iso:3166:US``, ``urn:iso:3166:USA``);
* ``https://www.iso.org/obp/ui/#iso:code:3166:US`` (the form ODRL 2.2's own example uses);
* the regions ``EU``, ``EEA`` and ``WORLD``; ``urn:iso:3166:EU`` too, since ISO 3166/MA
  exceptionally reserves the alpha-2 code EU for the European Union.

ISO 3166-2 subdivisions (``US-CA``) are not supported and are refused.

The country table comes from the maintained ``pycountry`` package (ISO 3166-1 as published by
the ISO 3166 Maintenance Agency, via Debian's iso-codes).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import pycountry

__all__ = ["REGIONS", "Territory", "parse_territory"]

# --- Region groupings ---------------------------------------------------------------------------
# EU-27: the member states of the European Union since the United Kingdom's withdrawal on
# 1 February 2020. Source: European Union, "EU countries",
# https://european-union.europa.eu/principles-countries-history/eu-countries_en (checked 2025).
# Greece is GR in ISO 3166-1 (the EU's own protocol order writes EL).
_EU27 = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
})
# EEA: the EU-27 plus the three EEA EFTA states Iceland, Liechtenstein and Norway.
# Source: Agreement on the European Economic Area (OJ L 1, 3.1.1994) and EFTA, "EEA Agreement",
# https://www.efta.int/eea (checked 2025). Switzerland is in EFTA but not in the EEA.
_EEA = _EU27 | frozenset({"IS", "LI", "NO"})

_URN = "urn:iso:3166:"
_OBP = "https://www.iso.org/obp/ui/#iso:code:3166:"


class Territory(NamedTuple):
    """A country (``is_region`` False) or a shipped region, with its member countries."""

    code: str                 # canonical: alpha-2 for a country, EU / EEA / WORLD for a region
    members: frozenset[str]   # ISO 3166-1 alpha-2 codes covered
    is_region: bool

    def __str__(self) -> str:
        return self.code


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    alpha2: dict[str, str] = {}
    alpha3: dict[str, str] = {}
    numeric: dict[str, str] = {}
    for c in pycountry.countries:
        alpha2[c.alpha_2] = c.alpha_2
        alpha3[c.alpha_3] = c.alpha_2
        numeric[c.numeric] = c.alpha_2
    return alpha2, alpha3, numeric


@lru_cache(maxsize=1)
def _regions() -> dict[str, Territory]:
    world = frozenset(_tables()[0])
    unknown = (_EEA - world)
    if unknown:  # pragma: no cover - guards the data above against a typo
        raise RuntimeError(f"region tables name unknown countries: {sorted(unknown)}")
    return {
        "EU": Territory("EU", _EU27, True),
        "EEA": Territory("EEA", _EEA, True),
        "WORLD": Territory("WORLD", world, True),
    }


#: The region codes policies may name, with their member countries.
REGIONS = ("EU", "EEA", "WORLD")


@lru_cache(maxsize=4096)
def parse_territory(text: str) -> Territory:
    """The territory ``text`` names. Raises ValueError (with the accepted forms) if unknown."""
    if type(text) is not str:
        raise ValueError(f"{text!r} is not an ISO 3166 code")
    raw = text
    body = raw
    lowered = raw.lower()
    if lowered.startswith(_URN):
        body = raw[len(_URN):]
    elif lowered.startswith(_OBP.lower()):
        body = raw[len(_OBP):]
    code = body.upper()
    if "-" in code and len(code) > 3:
        raise ValueError(f"{raw!r} is an ISO 3166-2 subdivision; only ISO 3166-1 countries and "
                         f"the regions {', '.join(REGIONS)} are supported")
    regions = _regions()
    if code in regions:
        if body is not raw and code != "EU":
            raise ValueError(f"{raw!r}: {code} is a reelrights region, not an ISO code; "
                             f"write it as plain {code!r}")
        return regions[code]
    alpha2, alpha3, numeric = _tables()
    a2 = alpha2.get(code) or alpha3.get(code) or (numeric.get(code) if code.isdigit() else None)
    if a2 is None:
        raise ValueError(f"{raw!r} is not an ISO 3166-1 country code (alpha-2 like US, alpha-3 "
                         f"like USA, numeric like 840, optionally as urn:iso:3166:US) nor one of "
                         f"the regions {', '.join(REGIONS)}")
    return Territory(a2, frozenset((a2,)), False)
