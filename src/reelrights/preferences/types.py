"""The preferences capability's statement type: ``preference.declared``.

A rights holder records what it has already declared elsewhere (an AIPREF ``Content-Usage``
rule, Content Signals, an RSL license, IPTC ``plus:DataMining``, a CAWG assertion, TDMRep) about
one registered work, reduced to the AIPREF data model: a value per category
(:mod:`reelrights.preferences.categories`), with the SHA-256 of the document it was read from.
The signer is the work's owner or a party credited on it (checked by the applier). A later
declaration by the same party about the same work replaces its earlier one; one with no values
withdraws it.
"""

from __future__ import annotations

from ..core.schema import List, Obj, Str
from ..core.statement_types import PARTY_ID, SHA256, WORK_ID, StatementType, collector
from .categories import CATEGORIES

__all__ = ["FORMATS", "TYPES"]

#: The formats a preference is read from.
FORMATS = ("content-usage", "robots.txt", "rsl", "iptc-xmp", "cawg", "tdmrep")

#: This capability's statement types (assembled by reelrights.catalogue).
TYPES: list[StatementType] = []
register = collector(TYPES)

VALUE = Str(choices=("allowed", "disallowed"))

register(StatementType(
    "preference.declared", 1,
    Obj({"work": WORK_ID, "declarer": PARTY_ID,
         "values": Obj({}, {c: VALUE for c in CATEGORIES}),
         "source": Obj({"format": Str(choices=FORMATS), "sha256": SHA256},
                       {"url": Str(max_len=2000, pattern=r"https://[^\s]+",
                                   hint="an https URL"),
                        "path": Str(max_len=2000, pattern=r"/[^\s]*", hint="a path like /"),
                        "user_agent": Str(max_len=200, pattern=r"[^\s]+",
                                          hint="a product token like *")})},
        {"notes": List(Str(max_len=500), min_items=1, max_items=40)}),
    actor_field="declarer",
    summary="A rights holder records its declared AI-use preference for a work (AIPREF, Content "
            "Signals, RSL, IPTC, CAWG or TDMRep); check denies a use it disallows unless a "
            "license of the declarer says otherwise."))
