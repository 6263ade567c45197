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
from functools import cached_property
from typing import Any

from ..errors import InvalidStatement
from .ids import ID_PATTERNS
from .names import NAME  # human names: NFC, no invisible characters
from .schema import Obj, Spec, Str

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
    #: Private fields: a statement of this type may be sealed (:mod:`reelrights.core.sealed`),
    #: its body then holding every other field in clear and these only as salted leaves under
    #: the signed root. In the order the leaves stand.
    sealed: tuple[str, ...] = ()
    #: Which of ``sealed`` (lists) are sealed row by row, one leaf per row, so that a row can be
    #: disclosed alone (a payee's rows of a revenue report).
    sealed_rows: tuple[str, ...] = ()

    @cached_property
    def public_body(self) -> Spec:
        """The schema of a sealed statement's public body: the body without its private
        fields (which must then not appear in clear)."""
        spec = self.body
        if not self.sealed or not isinstance(spec, Obj):
            return spec
        return Obj({k: v for k, v in spec.required.items() if k not in self.sealed},
                   {k: v for k, v in spec.optional.items() if k not in self.sealed})


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


def check_type_body(t: StatementType, body: Any, actor: str, *,
                    sealed: bool = False) -> StatementType:
    """Validate a statement's body and signer against its type ``t``; return ``t``.
    (:func:`reelrights.catalogue.check_body` finds ``t`` by name and version.) ``sealed``: the
    body is a sealed statement's public body (checked without the private fields, which must
    not stand in clear)."""
    name = t.name
    if sealed:
        if not t.sealed:
            raise InvalidStatement(f"{name} has no private fields to seal; remove sealed and "
                                   "state the body in clear", "/statement/sealed")
        if type(body) is dict:
            for field in t.sealed:
                if field in body:
                    raise InvalidStatement(f"{field} is a private field of {name}: a sealed "
                                           "statement carries it only under the sealed root",
                                           f"/statement/body/{field}")
    if t.operator != (actor == OPERATOR):
        raise InvalidStatement(
            f"{name} is signed by the operator with the log's key, not by a party" if t.operator
            else f"the operator does not sign {name} statements; the party it concerns does",
            "/statement/actor")
    (t.public_body if sealed else t.body).check(body, "/statement/body")
    if t.actor_field is not None and body[t.actor_field] != actor:
        raise InvalidStatement(
            f"actor {actor} must be the party named in body.{t.actor_field} "
            f"({body[t.actor_field]}); sign with that party's key", "/statement/actor")
    return t


#: ``check_body(name, version, body, actor, sealed=False)`` (the catalogue's).
Checker = Callable[..., StatementType]
