"""Statement types: each type's body schema, who may sign it and when it takes effect.

Each capability's ``types`` modules (``registry/types.py``, ``rights/types.py``, ...) list its
types in their own ``TYPES`` (through a ``register`` made by :func:`collector`);
:mod:`reelrights.catalogue` assembles them. The registry checks a statement against its type
before it writes anything; a type not in the catalogue is refused. The field specs every
capability shares (party, work and hash ids, human names) live here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidStatement
from .ids import ID_PATTERNS
from .names import NAME  # human names: NFC, no invisible characters
from .schema import Spec, Str

__all__ = ["NAME", "OPERATOR", "PARTY_ID", "SHA256", "WORK_ID", "StatementType", "check_type_body",
           "collector"]


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


PARTY_ID = Str(pattern=ID_PATTERNS["party"], hint="a party id like pty_k3vq7xw2m4a6c5de",
               max_len=20)
WORK_ID = Str(pattern=ID_PATTERNS["work"], hint="a work id like wrk_k3vq7xw2m4a6c5de",
              max_len=20)
SHA256 = Str(pattern=r"[0-9a-f]{64}", hint="a lowercase hex SHA-256", min_len=64, max_len=64)

#: The actor of statements the operator signs with the log's key.
OPERATOR = "operator"


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
