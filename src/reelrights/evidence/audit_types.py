"""Statement types for audits, and the typed reason codes audit verdicts are decided from.

``audit.challenged`` asks a developer to open a sample of a committed run. The sample's seed is
fixed by the log after the challenge is logged (:mod:`reelrights.core.audit_seed`), so the body
names no checkpoint. Challenges logged before that rule (v1) named one and keep their rule.
``audit.certified`` carries the auditor's DSSE envelope (an in-toto Statement v1 about the run
commitment, see :mod:`reelrights.core.dsse`); the registry checks the envelope's signature and
its agreement with the body before logging it. ``audit.withdrawn`` closes an open challenge
without a certificate; it counts as a failed audit of the run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from ..core.ids import ID_PATTERNS
from ..core.schema import Int, List, Obj, Str
from ..core.statement_types import PARTY_ID, SHA256, StatementType, collector
from ..errors import BadInput
from .run_types import RUN_ID

#: This capability's statement types (assembled by reelrights.catalogue).
TYPES: list[StatementType] = []
register = collector(TYPES)

__all__ = ["AUDIT_RESULTS", "CERTIFICATE_ID", "CHALLENGE_ID", "FAILING", "RUN_ID", "Reason",
           "TIME", "parse_time", "verdict_of"]

CHALLENGE_ID = Str(pattern=ID_PATTERNS["challenge"],
                   hint="a challenge id like chl_k3vq7xw2m4a6c5de", max_len=20)
CERTIFICATE_ID = Str(pattern=ID_PATTERNS["certificate"],
                     hint="a certificate id like crt_k3vq7xw2m4a6c5de", max_len=20)
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def parse_time(value: object, what: str) -> datetime:
    """An RFC 3339 UTC instant ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` as an aware datetime;
    BadInput naming ``what`` when it is not a real instant (``2026-99-99T99:99:99Z``)."""
    if type(value) is str and value.endswith("Z") and "T" in value:
        try:
            fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if "." in value else _TIME_FORMAT
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    raise BadInput(f"{what} {str(value)[:40]!r} is not a real RFC 3339 UTC instant (like "
                   "2027-01-31T00:00:00Z); the record is damaged or forged")


def _real_instant(value: str) -> str | None:
    try:
        parse_time(value, "time")
    except BadInput:
        return "is not a real instant (month 01-12, day of that month, hour 00-23, ...)"
    return None


TIME = Str(pattern=r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z",
           hint="an RFC 3339 UTC time like 2027-01-31T00:00:00Z", min_len=20, max_len=20,
           extra=_real_instant)
AUDIT_RESULTS = ("pass", "fail")
_B64 = r"[A-Za-z0-9+/_=-]+"


class Reason(StrEnum):
    """What the auditor found about one sampled item. Each finding carries (code, message)
    pairs: the codes decide the verdict, the messages are for people."""

    LICENSED = "licensed"                      # a license in force allows it / own / noted claim
    NOTED = "noted"                            # information only, decides nothing
    NOT_LICENSED = "not-licensed"              # no license of the developer allows it
    UNKNOWN_LICENSE = "unknown-license"        # the item names a license that is not registered
    WRONG_LICENSEE = "wrong-licensee"          # the license is held by someone else
    NOT_COVERED = "not-covered"                # the license's bundle does not hold the item
    NOT_IN_FORCE = "not-in-force"              # granted after the commitment
    REVOKED = "revoked"                        # revoked before the commitment
    NO_CONSENT = "consent-missing"             # a performer's consent duty is unmet
    NO_COSIGNATURE = "co-signature-missing"    # a required guild had not co-signed
    COMMITMENT_MISMATCH = "hash-mismatch"      # the media's SHA-256 is not the committed one
    INCONCLUSIVE = "inconclusive"              # the media could not be read or scanned
    PROOF_FAILED = "proof-failed"              # stops the audit (no certificate)


#: Failing codes, most decisive first: an item's verdict is its first code in this order.
FAILING = (Reason.PROOF_FAILED, Reason.COMMITMENT_MISMATCH, Reason.NOT_LICENSED,
           Reason.UNKNOWN_LICENSE, Reason.WRONG_LICENSEE, Reason.NOT_COVERED,
           Reason.NOT_IN_FORCE, Reason.REVOKED, Reason.NO_COSIGNATURE, Reason.NO_CONSENT)


def verdict_of(codes: set[Reason] | frozenset[Reason]) -> Reason:
    """The item's verdict from its reason codes: a definite failure first, then inconclusive
    (the item could not be checked), then licensed. No positive code at all is a failure."""
    for code in FAILING:
        if code in codes:
            return code
    if Reason.INCONCLUSIVE in codes:
        return Reason.INCONCLUSIVE
    return Reason.LICENSED if Reason.LICENSED in codes else Reason.NOT_LICENSED


register(StatementType(
    "audit.challenged", 1,
    Obj({"id": CHALLENGE_ID, "run": RUN_ID, "auditor": PARTY_ID, "samples": Int(min=1)},
        # v1 challenges named the checkpoint their sample came from; new ones name none.
        {"checkpoint": Obj({"origin": Str(max_len=300, pattern=r"[^\s+][^\s+]*",
                                          hint="a log origin like example.com/log"),
                            "size": Int(min=1), "root": SHA256})}),
    actor_field="auditor",
    summary="An auditor challenges a training-run commitment: the sample derives from the "
            "challenge's own leaf and the log's signature on the first checkpoint after it, so "
            "neither the developer nor the auditor could choose it."))

register(StatementType(
    "audit.certified", 1,
    Obj({"id": CERTIFICATE_ID, "run": RUN_ID, "challenge": CHALLENGE_ID, "auditor": PARTY_ID,
         "result": Str(choices=AUDIT_RESULTS), "not_before": TIME, "not_after": TIME,
         "envelope": Obj({"payload": Str(max_len=60_000, pattern=_B64, hint="base64"),
                          "payloadType": Str(max_len=200),
                          "signatures": List(Obj({"sig": Str(max_len=200, pattern=_B64,
                                                             hint="base64")},
                                                 {"keyid": Str(max_len=64)}),
                                             min_items=1, max_items=4)})}),
    actor_field="auditor",
    summary="An auditor certifies a training run: a DSSE-signed in-toto Statement about the "
            "run commitment with criteria, scope, findings, bound, result and validity."))

register(StatementType(
    "audit.withdrawn", 1,
    Obj({"challenge": CHALLENGE_ID, "run": RUN_ID, "auditor": PARTY_ID,
         "reason": Str(max_len=2000, pattern=r"[^\x00-\x1f\x7f][^\x00-\x08\x0b-\x1f\x7f]*",
                       hint="a reason in words")}),
    actor_field="auditor",
    summary="An auditor withdraws its open challenge of a run without certifying it: logged "
            "as a failed audit of the run, and the challenge is closed."))

#: One opened item of an audit response: its index in the manifest, its 16-byte salt (hex), the
#: item as its canonical JSON (RFC 8785) text, its inclusion proof, and (optionally) the name of
#: its media file in the response's media folder.
OPENED_ITEM = Obj({"index": Int(min=0),
                   "salt": Str(pattern=r"[0-9a-f]{32}", hint="16 bytes of hex", min_len=32,
                               max_len=32),
                   "item": Str(max_len=8000),
                   "proof": List(SHA256, max_items=64)},
                  {"media": Str(max_len=1000)})

register(StatementType(
    "audit.opened", 1,
    Obj({"challenge": CHALLENGE_ID, "run": RUN_ID, "developer": PARTY_ID, "auditor": PARTY_ID,
         "items": List(OPENED_ITEM, min_items=1, max_items=1000, unique_by="index")}),
    actor_field="developer",
    summary="A developer answers an audit challenge on the log, sealed: the opened items with "
            "their salts and proofs are private leaves (one per item) that the run's developer, "
            "the challenge's auditor and the operator read; the public sees which challenge of "
            "which run was answered, by whom, to whom.",
    sealed=("items",), sealed_rows=("items",)))
