"""The statement types of admission (docs/identity.md, docs/statements.md).

A party joins pending; it asks to be admitted (``admission.requested``, signed by the
party) and the operator admits it (``party.admitted``, actor ``operator``) recording how its
identity was verified. A domain is re-verified every :data:`REVERIFY_DAYS` days by the operator:
``domain.reverified`` when the proof is still published, ``domain.lapsed`` when not.
"""

from __future__ import annotations

from typing import Any

from ..core.ids import ID_PATTERNS
from ..core.schema import Obj, Str
from ..core.statement_types import PARTY_ID, SHA256, StatementType, collector
from ..errors import InvalidStatement

__all__ = ["ADMISSION_METHODS", "DOMAIN", "NONCE", "PROOF_KINDS", "REQUEST_METHODS",
           "REVERIFY_DAYS", "TYPES", "check_method_fields"]

#: How a party's identity was verified.
ADMISSION_METHODS = ("domain", "guild", "manual")
#: What a party may ask for itself (a manual check is the operator's own act).
REQUEST_METHODS = ("domain", "guild")
#: Where a domain proof is published: the .well-known document over HTTPS, or a DNS TXT record.
PROOF_KINDS = ("https", "dns")
#: A verified domain is verified again at least this often; past it the party shows "lapsed".
REVERIFY_DAYS = 90

#: A DNS name of two labels or more, lowercase ASCII (IDNs in their xn-- form), no port.
DOMAIN = Str(pattern=r"(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}"
                     r"[a-z0-9]", min_len=4, max_len=253,
             hint="a lowercase DNS name like northlight.example (IDNs in their xn-- form)")
#: A server-issued nonce (URL-safe base64 of 24 random bytes).
NONCE = Str(pattern=r"[A-Za-z0-9_-]{32}", min_len=32, max_len=32,
            hint="a nonce from `reelrights party nonce`")
STATEMENT_ID = Str(pattern=ID_PATTERNS["statement"], max_len=20,
                   hint="a statement id like stm_k3vq7xw2m4a6c5de")
REFERENCE = Str(max_len=300, pattern=r"[^\r\n]+",
                hint="one line naming the record of the check (a ticket, a file number)")
REASON = Str(max_len=500, pattern=r"[^\r\n]+", hint="one line")

#: Fields each method needs (and the only method-specific fields it may carry).
_METHOD_FIELDS: dict[str, tuple[str, ...]] = {
    "domain": ("domain", "nonce", "proof"),
    "guild": ("attestation",),
    "manual": ("reference",),
}
_ADMITTED_EXTRA = {"domain": ("document_sha256", "request"), "guild": ("guild", "request"),
                   "manual": ()}

TYPES: list[StatementType] = []
register = collector(TYPES)


def check_method_fields(body: dict[str, Any], pointer: str, *, admitted: bool) -> None:
    """The fields ``body['method']`` needs are there, and no other method's (beyond the schema:
    a statement with a domain but no nonce, or a manual reference beside a domain, is refused)."""
    method = body["method"]
    wanted = set(_METHOD_FIELDS[method]) | (set(_ADMITTED_EXTRA[method]) if admitted else set())
    others = {f for m, fs in _METHOD_FIELDS.items() if m != method for f in fs}
    others |= {f for m, fs in _ADMITTED_EXTRA.items() if m != method for f in fs} - wanted
    for name in sorted(wanted):
        if name not in body:
            raise InvalidStatement(f"method {method} needs field {name!r}", pointer)
    for name in sorted(others & set(body)):
        raise InvalidStatement(f"field {name!r} does not belong to method {method}",
                               f"{pointer}/{name}")


register(StatementType(
    "admission.requested", 1,
    Obj({"party": PARTY_ID, "method": Str(choices=REQUEST_METHODS)},
        {"domain": DOMAIN, "nonce": NONCE, "proof": Str(choices=PROOF_KINDS),
         "attestation": STATEMENT_ID}),
    actor_field="party",
    summary="A registered party asks to be admitted: by the domain it controls (with the "
            "server-issued nonce its proof carries) or by its guild's membership statement."))

register(StatementType(
    "party.admitted", 1,
    Obj({"party": PARTY_ID, "method": Str(choices=ADMISSION_METHODS)},
        {"domain": DOMAIN, "nonce": NONCE, "proof": Str(choices=PROOF_KINDS),
         "document_sha256": SHA256, "request": STATEMENT_ID,
         "attestation": STATEMENT_ID, "guild": PARTY_ID, "reference": REFERENCE}),
    actor_field=None, operator=True,
    summary="The operator admits a party, recording how its identity was verified: the domain "
            "proof it fetched (domain, https or dns, the nonce, the SHA-256 of the document), "
            "the guild's membership statement, or a reference to its own documented check."))

register(StatementType(
    "domain.reverified", 1,
    Obj({"party": PARTY_ID, "domain": DOMAIN, "proof": Str(choices=PROOF_KINDS),
         "nonce": NONCE, "document_sha256": SHA256}),
    actor_field=None, operator=True,
    summary=f"The operator fetched an admitted party's domain proof again and it still holds "
            f"(due every {REVERIFY_DAYS} days)."))

register(StatementType(
    "domain.lapsed", 1,
    Obj({"party": PARTY_ID, "domain": DOMAIN, "reason": REASON}),
    actor_field=None, operator=True,
    summary="The operator's re-verification of a party's domain failed: the party shows "
            "\"lapsed\" beside its name until a later re-verification or admission succeeds."))
