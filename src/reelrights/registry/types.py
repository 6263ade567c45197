"""The registry's own statement types: parties, works (with their assets), credits, and the
registry's establishment by the operator."""

from __future__ import annotations

from typing import Any

from ..core.ids import check_external_id
from ..core.schema import Int, List, Obj, Ratio, Spec, Str
from ..core.statement_types import NAME, PARTY_ID, SHA256, WORK_ID, StatementType, collector
from ..errors import InvalidStatement

__all__ = ["ASSET_CATEGORIES", "CREDIT_ROLES", "PARTY_KINDS", "TYPES", "WORK_KINDS"]

PARTY_KINDS = ("studio", "guild", "performer", "writer", "developer", "auditor", "fund")
WORK_KINDS = ("film", "episode", "script", "score", "performance", "image")
CREDIT_ROLES = ("writer", "performer", "director", "composer", "vfx")
ASSET_CATEGORIES = ("video", "audio", "text", "document", "image", "other")


#: The registry's own statement types (parties, works, credits, the registry itself).
TYPES: list[StatementType] = []
register = collector(TYPES)


def _ext_id(value: str) -> str | None:
    return check_external_id(value)


def _party_ext_id(value: str) -> str | None:
    return check_external_id(value, party=True)


register(StatementType(
    "party.registered", 1,
    Obj({"id": PARTY_ID, "kind": Str(choices=PARTY_KINDS), "name": NAME,
         # Canonical base64 only: the last character before "=" carries two zero bits, so
         # only 16 of the 64 letters may stand there (any other is the same key re-spelled).
         "public_key": Str(pattern=r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=", min_len=44,
                           max_len=44, hint="the base64 of a 32-byte Ed25519 public key")},
        # ISNI, IPI or IMDb name ids, check characters verified (core/identifiers.py)
        {"external_ids": List(Str(max_len=100, extra=_party_ext_id), min_items=1,
                              max_items=20),
         # "browser": the key was made in a browser (docs/web.md); the party must set its
         # recovery key in the same batch, before its key signs anything else
         # (write/keys.py, KeyBook.check_in_force)
         "key_origin": Str(choices=("browser",))}),
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
         # generated may not appear in another work's source_material (registry.works).
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

ORIGIN = Str(max_len=300, pattern=r"[^\s+][^\s+]*", hint="the log's origin")
VKEY = Str(max_len=400, pattern=r"[^\s+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+",
           hint="the log's note verifier key")


class Predecessor(Spec):
    """The log this one succeeds (the old log key's compromise procedure, docs/deploy.md): its
    origin, its note verifier key and its last checkpoint as published (a signed note), which
    must verify under that key and name that origin. Whoever verifies the new log thereby
    holds the old log's last good tree head, signed by the old key before it was retired."""

    def __init__(self) -> None:
        self.shape = Obj({"origin": ORIGIN, "log_key": VKEY,
                          "checkpoint": Str(max_len=4000, pattern=r"[^\r]+\n",
                                            hint="a signed checkpoint note")})

    @staticmethod
    def _note_error(value: dict[str, Any]) -> str | None:
        from ..core.checkpoint import open_checkpoint
        from ..core.note import NoteVerifier
        from ..errors import BadInput, VerificationError

        try:
            verifier = NoteVerifier(value["log_key"])
            if not value["log_key"].startswith(value["origin"] + "+"):
                return "the predecessor's log_key is not a key of its origin"
            cp = open_checkpoint(value["checkpoint"].encode("utf-8"), verifier,
                                 origin=value["origin"])
        except (BadInput, VerificationError) as exc:
            return f"does not verify under the predecessor's log_key ({exc})"
        if cp.size == 0:
            return "the predecessor's checkpoint is of an empty log"
        return None

    def ok(self, value: Any) -> bool:
        return self.shape.ok(value) and self._note_error(value) is None

    def check(self, value: Any, pointer: str) -> None:
        self.shape.check(value, pointer)
        if (msg := self._note_error(value)) is not None:
            raise InvalidStatement(msg, f"{pointer}/checkpoint")


register(StatementType(
    "registry.established", 1,
    Obj({"origin": ORIGIN,
         "log_key": VKEY,
         "clock_skew_s": Int(min=0, max=3600),
         "submission_window_s": Int(min=60, max=30 * 24 * 3600),
         "v1_entries": Int(min=0)},
        {"predecessor": Predecessor(),
         # The operator's own key (not the log's): it signs the operator's later statements.
         "operator_key": Str(pattern=r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=", min_len=44,
                             max_len=44, hint="the base64 of a 32-byte Ed25519 public key"),
         # How long a key rotation waits (the recovery key may cancel it meanwhile); absent:
         # 72 h (reelrights.core.key_history, docs/keys.md).
         "key_rotation_wait_s": Int(min=0, max=90 * 24 * 3600)}),
    actor_field=None, operator=True,
    summary="The operator establishes the registry (v2 statements from here on): its id, its "
            "log's key, the clock skew and submission window it allows, and how many v1 entries "
            "precede it. Signed with the log's key. A log that succeeds another (its key retired "
            "after a compromise) names it in `predecessor`: origin, key and last checkpoint."))
