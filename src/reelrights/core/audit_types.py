"""Statement types for audits: a challenge the developer could not predict, and a certificate.

``audit.challenged`` names the signed log checkpoint the sample indices come from (see
:mod:`reelrights.core.sampling`), so anyone can re-derive them. ``audit.certified`` carries the
auditor's DSSE envelope (an in-toto Statement v1 about the run commitment, see
:mod:`reelrights.core.dsse`); the registry checks the envelope's signature and its agreement
with the body before logging it.
"""

from __future__ import annotations

from .ids import ID_PATTERNS
from .schema import Int, List, Obj, Str
from .run_types import RUN_ID
from .statement_types import PARTY_ID, SHA256, StatementType, register

__all__ = ["AUDIT_RESULTS", "CERTIFICATE_ID", "CHALLENGE_ID", "RUN_ID", "TIME"]

CHALLENGE_ID = Str(pattern=ID_PATTERNS["challenge"],
                   hint="a challenge id like chl_k3vq7xw2m4a6c5de", max_len=20)
CERTIFICATE_ID = Str(pattern=ID_PATTERNS["certificate"],
                     hint="a certificate id like crt_k3vq7xw2m4a6c5de", max_len=20)
TIME = Str(pattern=r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z",
           hint="an RFC 3339 UTC time like 2027-01-31T00:00:00Z", min_len=20, max_len=20)
AUDIT_RESULTS = ("pass", "fail")
_B64 = r"[A-Za-z0-9+/_=-]+"

register(StatementType(
    "audit.challenged", 1,
    Obj({"id": CHALLENGE_ID, "run": RUN_ID, "auditor": PARTY_ID, "samples": Int(min=1),
         "checkpoint": Obj({"origin": Str(max_len=300, pattern=r"[^\s+][^\s+]*",
                                          hint="a log origin like example.com/log"),
                            "size": Int(min=1), "root": SHA256})}),
    actor_field="auditor",
    summary="An auditor challenges a training-run commitment: the sample indices derive from "
            "the named checkpoint, issued after the commitment, so the developer could not "
            "choose them."))

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
