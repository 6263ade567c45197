"""Statement types for rights: bundles, licenses, guild agreements and membership, consent.

Each type's body is closed (see :mod:`reelrights.core.schema`), and the registry re-derives
everything a signer could get wrong. A bundle's Merkle root and totals are recomputed from the
registry before the bundle is accepted. A license's required guild co-signatures come from the
credits on the bundle's works.
"""

from __future__ import annotations

from typing import Any

from ..core.ids import ID_PATTERNS
from ..core.schema import Int, List, Obj, Spec, Str
from ..core.statement_types import NAME, PARTY_ID, SHA256, WORK_ID, StatementType, collector
from ..errors import InvalidStatement

#: This capability's statement types (assembled by reelrights.catalogue).
TYPES: list[StatementType] = []
register = collector(TYPES)

__all__ = ["BUNDLE_ID", "CONSENT_ID", "REQUEST_ID", "CONSENT_KINDS", "LICENSE_ID", "AGREEMENT_ID",
           "REPRESENTATION"]

BUNDLE_ID = Str(pattern=ID_PATTERNS["bundle"], hint="a bundle id like bnd_k3vq7xw2m4a6c5de",
                max_len=20)
LICENSE_ID = Str(pattern=ID_PATTERNS["license"], hint="a license id like lic_k3vq7xw2m4a6c5de",
                 max_len=20)
AGREEMENT_ID = Str(pattern=ID_PATTERNS["agreement"],
                   hint="an agreement id like agr_k3vq7xw2m4a6c5de", max_len=20)
CONSENT_ID = Str(pattern=ID_PATTERNS["consent"], hint="a consent id like cns_k3vq7xw2m4a6c5de",
                 max_len=20)
STRIKE_ID = Str(pattern=ID_PATTERNS["strike"], hint="a strike id like stk_k3vq7xw2m4a6c5de",
                max_len=20)
REQUEST_ID = Str(pattern=ID_PATTERNS["consent_request"],
                 hint="a consent request id like cnq_k3vq7xw2m4a6c5de", max_len=20)
DATE = Str(pattern=r"\d{4}-\d{2}-\d{2}", hint="a date like 2027-12-31", min_len=10, max_len=10)
PERCENT = Str(pattern=r"(100|[1-9]?\d)(\.\d{1,4})?", hint="a percentage like 25 or 2.5",
              max_len=9)
COUNTRY = Str(pattern=r"[A-Z]{2}|EU|EEA|WORLD", hint="an ISO 3166 alpha-2 code, EU, EEA or WORLD",
              max_len=5)
CONSENT_KINDS = ("voice", "likeness")
REPRESENTATION = ("counsel", "guild", "none")
COVERED_ROLES = ("performer", "writer", "director", "composer", "vfx")
MEDIA = ("audio", "video", "image", "text")

TOTALS = Obj({"assets": Int(), "video_ms": Int(), "audio_ms": Int(), "script_pages": Int(),
              "script_lines": Int(), "images": Int(), "other": Int()})

register(StatementType(
    "bundle.created", 1,
    Obj({"id": BUNDLE_ID, "owner": PARTY_ID, "name": NAME,
         "version": Str(max_len=40, pattern=r"[0-9A-Za-z][0-9A-Za-z._-]*",
                        hint="a version label like 1 or 2026.1"),
         "works": List(WORK_ID, max_items=2000), "assets": List(SHA256, max_items=800),
         "root": SHA256, "totals": TOTALS,
         "contributors": List(PARTY_ID, max_items=2000)},
        {"predecessor": BUNDLE_ID, "description": Str(max_len=2000)}),
    actor_field="owner",
    summary="A rights holder fixes an immutable, versioned set of works and assets; the root is "
            "the RFC 9162 Merkle root over the sorted asset hashes."))


class PolicyDocument(Spec):
    """An ODRL policy object; the license service parses it fully (with JSON pointers)."""

    def check(self, value: Any, pointer: str) -> None:
        if type(value) is not dict or not value:
            raise InvalidStatement("must be an ODRL policy object", pointer)


register(StatementType(
    "license.granted", 1,
    Obj({"id": LICENSE_ID, "bundle": BUNDLE_ID, "licensor": PARTY_ID, "licensee": PARTY_ID,
         "policy": PolicyDocument(), "required_cosigners": List(PARTY_ID, max_items=50)}),
    actor_field="licensor",
    summary="The bundle's owner licenses it to a developer under an ODRL 2.2 Agreement; the "
            "guilds whose members are credited in covered roles must co-sign.",
    sealed=("policy",)))

register(StatementType(
    "license.cosigned", 1,
    Obj({"license": LICENSE_ID, "guild": PARTY_ID, "agreement": AGREEMENT_ID}),
    actor_field="guild",
    summary="A guild co-signs a license on work credited to its members, under its agreement."))

register(StatementType(
    "license.revoked", 1,
    Obj({"license": LICENSE_ID, "reason": Str(max_len=2000)}),
    actor_field=None,
    summary="The licensor revokes a license; it applies from the statement's time on."))

register(StatementType(
    "guild.agreement", 1,
    Obj({"id": AGREEMENT_ID, "guild": PARTY_ID, "name": NAME,
         "covers": List(Str(choices=COVERED_ROLES), min_items=1, max_items=5),
         "fund_share": PERCENT},
        {"effective": DATE, "expires": DATE}),
    actor_field="guild",
    summary="A guild registers its collective agreement: the roles it covers and the share of "
            "members' earnings paid to the guild fund."))

register(StatementType(
    "guild.member", 1,
    Obj({"guild": PARTY_ID, "member": PARTY_ID}, {"since": DATE}),
    actor_field="guild",
    summary="A guild records that a party is its member."))

register(StatementType(
    "strike.declared", 1,
    Obj({"id": STRIKE_ID, "guild": PARTY_ID, "start": DATE,
         "description": Str(min_len=1, max_len=2000)}),
    actor_field="guild", effect="declared", effect_field="start",
    effect_bound="at_least_log_time_minus_skew",
    summary="A guild declares a strike from a day on: while it lasts, no license needing the "
            "guild's co-signature and no consent of its members is in force for new runs and "
            "generations (SAG-AFTRA's rule); the start cannot be backdated."))

register(StatementType(
    "strike.ended", 1,
    Obj({"strike": STRIKE_ID, "end": DATE}),
    actor_field=None, effect="declared", effect_field="end",
    effect_bound="at_least_log_time_minus_skew",
    summary="The striking guild ends its strike: its last day is the day before ``end`` "
            "(not backdated: a strike cannot be shortened after the fact)."))

register(StatementType(
    "consent.granted", 1,
    Obj({"id": CONSENT_ID, "performer": PARTY_ID,
         "kinds": List(Str(choices=CONSENT_KINDS), min_items=1, max_items=2),
         "description": Str(min_len=20, max_len=4000),
         "media": List(Str(choices=MEDIA), min_items=1, max_items=4),
         "territory": List(COUNTRY, min_items=1, max_items=300),
         "start": DATE, "end": DATE, "compensation_ref": Str(max_len=300),
         "represented_by": Str(choices=REPRESENTATION)},
        {"production": Str(max_len=300), "model_family": Str(max_len=300),
         "licensee": PARTY_ID, "post_mortem_representative": PARTY_ID,
         "request": REQUEST_ID}),
    actor_field=None, effect="declared", effect_field="start",
    effect_bound="at_least_log_time_minus_skew",
    summary="A performer (or, after death, the authorised representative) consents to a "
            "specific digital-replica use of voice and/or likeness.",
    sealed=("description", "compensation_ref")))

register(StatementType(
    "consent.revoked", 1,
    Obj({"consent": CONSENT_ID, "reason": Str(max_len=2000)}),
    actor_field=None,
    summary="The performer (or representative) revokes a consent from the statement's time on."))

register(StatementType(
    "performer.deceased", 1,
    Obj({"performer": PARTY_ID, "date": DATE, "representative": PARTY_ID}),
    actor_field="representative", effect="declared", effect_field="date",
    effect_bound="at_most_log_time",
    summary="The authorised representative records a performer's death; from then on only the "
            "representative can consent (SAG-AFTRA 2023, rule R6)."))

register(StatementType(
    "consent.requested", 1,
    Obj({"id": REQUEST_ID, "requester": PARTY_ID, "performer": PARTY_ID,
         "kinds": List(Str(choices=CONSENT_KINDS), min_items=1, max_items=2),
         "description": Str(min_len=20, max_len=4000),
         "media": List(Str(choices=MEDIA), min_items=1, max_items=4),
         "territory": List(COUNTRY, min_items=1, max_items=300),
         "start": DATE, "end": DATE, "compensation_ref": Str(max_len=300)},
        {"production": Str(max_len=300), "model_family": Str(max_len=300)}),
    actor_field="requester",
    summary="A developer or a production asks a performer for a specific use of her voice "
            "and/or likeness; she approves it (a consent.granted naming the request) or "
            "declines it."))

register(StatementType(
    "consent.request.declined", 1,
    Obj({"request": REQUEST_ID, "reason": Str(min_len=1, max_len=2000)}),
    actor_field=None,
    summary="The performer (or, after death, her representative) declines a consent request, "
            "with a reason the requester reads."))
