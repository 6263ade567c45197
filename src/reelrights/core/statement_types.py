"""Statement types: each type's body schema, who may sign it and when it takes effect.

Each capability's ``core/*_types.py`` module lists its types in its own ``TYPES`` (through a
``register`` made by :func:`collector`); :mod:`reelrights.catalogue` assembles them. The
registry checks a statement against its type before it writes anything; a type not in the
catalogue is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidStatement
from .ids import ID_PATTERNS, check_external_id
from .schema import Int, List, Obj, Ratio, Spec, Str

__all__ = ["StatementType", "TYPES", "check_type_body", "collector",
           "PARTY_KINDS", "WORK_KINDS", "CREDIT_ROLES"]

PARTY_KINDS = ("studio", "guild", "performer", "writer", "developer", "auditor", "fund")
WORK_KINDS = ("film", "episode", "script", "score", "performance", "image")
CREDIT_ROLES = ("writer", "performer", "director", "composer", "vfx")
ASSET_CATEGORIES = ("video", "audio", "text", "document", "image", "other")


@dataclass(frozen=True)
class StatementType:
    name: str
    version: int
    body: Spec
    #: Body field that must equal the statement's actor (None: the service decides).
    actor_field: str | None
    summary: str
    #: For self-certifying statements: the body field holding the signer's public key.
    key_field: str | None = None
    #: Signed by the operator (actor ``operator``, the log's key) instead of a party.
    operator: bool = False
    #: When the fact takes effect. ``"log"``: at its log time (grants, co-signatures,
    #: revocations, terms, key changes: never the signer's ``time``). ``"declared"``: at a date
    #: in the body that is backdated by nature, bounded by the log time (see ``effect_field``
    #: and ``effect_bound``).
    effect: str = "log"
    #: For ``effect == "declared"``: the body field holding the declared date.
    effect_field: str | None = None
    #: For ``effect == "declared"``: ``"at_most_log_time"`` (a death date is at most T) or
    #: ``"at_least_log_time_minus_skew"`` (a consent's start is at least T minus the skew).
    effect_bound: str | None = None


def collector(types: list[StatementType]) -> Callable[[StatementType], StatementType]:
    """``register`` for one ``*_types`` module: it appends to that module's own ``TYPES`` list
    and nothing else (:mod:`reelrights.catalogue` assembles the catalogue from those lists)."""
    def register(t: StatementType) -> StatementType:
        types.append(t)
        return t
    return register


#: The registry's own statement types (parties, works, credits, the registry itself).
TYPES: list[StatementType] = []
register = collector(TYPES)


def _ext_id(value: str) -> str | None:
    return check_external_id(value)


PARTY_ID = Str(pattern=ID_PATTERNS["party"], hint="a party id like pty_k3vq7xw2m4a6c5de",
               max_len=20)
WORK_ID = Str(pattern=ID_PATTERNS["work"], hint="a work id like wrk_k3vq7xw2m4a6c5de",
              max_len=20)
SHA256 = Str(pattern=r"[0-9a-f]{64}", hint="a lowercase hex SHA-256", min_len=64, max_len=64)
from .names import NAME  # noqa: E402  (human names: NFC, no invisible characters)

register(StatementType(
    "party.registered", 1,
    Obj({"id": PARTY_ID, "kind": Str(choices=PARTY_KINDS), "name": NAME,
         # Canonical base64 only: the last character before "=" carries two zero bits, so
         # only 16 of the 64 letters may stand there (any other is the same key re-spelled).
         "public_key": Str(pattern=r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=", min_len=44,
                           max_len=44, hint="the base64 of a 32-byte Ed25519 public key")}),
    actor_field="id", key_field="public_key",
    summary="A party joins the registry with its own Ed25519 key (self-signed: proof of "
            "possession)."))

ASSET = Obj(
    {"sha256": SHA256, "size": Int(min=1), "media_type": Str(max_len=127, pattern=r"[a-z]+/[a-zA-Z0-9.+-]+",
                                                           hint="an IANA media type"),
     "category": Str(choices=ASSET_CATEGORIES), "name": NAME},
    {"duration_ms": Int(), "pages": Int(), "lines": Int(), "width": Int(min=1), "height": Int(min=1)},
)


class Flag(Spec):
    """A JSON boolean (``true`` or ``false``; no other value)."""

    def check(self, value: Any, pointer: str) -> None:
        if type(value) is not bool:
            raise InvalidStatement("must be true or false", pointer)


register(StatementType(
    "work.registered", 1,
    Obj({"id": WORK_ID, "kind": Str(choices=WORK_KINDS), "title": NAME, "owner": PARTY_ID,
         "assets": List(ASSET, min_items=1, max_items=200, unique_by="sha256")},
        {"year": Int(min=1850, max=2200),
         "external_ids": List(Str(max_len=100, extra=_ext_id), min_items=1, max_items=20),
         # WGA 2023 Article 72 (W1): generated material is not source material. A work marked
         # generated may not appear in another work's source_material (registry.registry).
         "generated": Flag(),
         "source_material": List(WORK_ID, min_items=1, max_items=50)}),
    actor_field="owner",
    summary="A rights holder registers a work and the content hashes of its files."))

register(StatementType(
    "work.credited", 1,
    Obj({"work": WORK_ID, "party": PARTY_ID, "role": Str(choices=CREDIT_ROLES),
         "share": Ratio()}),
    actor_field=None,
    summary="The work's owner credits a party with a role and an exact share of that role."))


OPERATOR = "operator"

register(StatementType(
    "registry.established", 1,
    Obj({"origin": Str(max_len=300, pattern=r"[^\s+][^\s+]*", hint="the log's origin"),
         "log_key": Str(max_len=400, pattern=r"[^\s+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+",
                        hint="the log's note verifier key"),
         "clock_skew_s": Int(min=0, max=3600),
         "submission_window_s": Int(min=60, max=30 * 24 * 3600),
         "v1_entries": Int(min=0)}),
    actor_field=None, operator=True,
    summary="The operator establishes the registry (v2 statements from here on): its id, its "
            "log's key, the clock skew and submission window it allows, and how many v1 entries "
            "precede it. Signed with the log's key."))


def check_type_body(t: StatementType, body: Any, actor: str) -> StatementType:
    """Validate a statement's body and signer against its type ``t``; return ``t``.
    (:func:`reelrights.catalogue.check_body` finds ``t`` by name and version.)"""
    name = t.name
    if t.operator != (actor == OPERATOR):
        raise InvalidStatement(
            f"{name} is signed by the operator with the log's key, not by a party" if t.operator
            else f"the operator does not sign {name} statements; the party it concerns does",
            "/statement/actor")
    t.body.check(body, "/statement/body")
    if t.actor_field is not None and body[t.actor_field] != actor:
        raise InvalidStatement(
            f"actor {actor} must be the party named in body.{t.actor_field} "
            f"({body[t.actor_field]}); sign with that party's key", "/statement/actor")
    return t


Checker = Callable[[str, int, Any, str], StatementType]
