"""The service's admission gate (what ``reelrights serve`` does by default; docs/identity.md).

A party joins pending: its ``party.registered`` statement (signed by its new key) is accepted
from anyone, and everything else only once the operator admitted it (``party.admitted``), so a
registered-but-not-admitted party's statements are refused with :class:`~reelrights.errors.
NotAdmitted` (HTTP 403 ``not-admitted``). Its admission request goes to ``POST
/v1/identity/admissions``, which checks the proof before anything is logged.

Admission replaces the allowlist for parties; the allowlist stays the operator's override: a
key on it (``reelrights service allow``) is accepted as before, admitted or not (tools, parties
of a deployment that began with the allowlist). The operator's key is always accepted. Like the
allowlist, a server process caches the admitted key ids (:data:`~.allowlist.REFRESH_S`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select

from ..core.statements import read_entry
from ..errors import NotAdmitted
from ..store.db import Database
from ..store.identity_tables import party_admissions
from ..store.service_tables import service_allowed_keys
from ..store.tables import parties
from .allowlist import Allowlist

__all__ = ["OPEN_TYPES", "AdmissionGate"]

#: What a party that is not admitted may still sign on /v1/statements: joining, and naming its
#: own recovery key (a key made in a browser must, in the same batch: docs/web.md).
OPEN_TYPES = frozenset({"party.registered", "key.recovery.set"})


class AdmissionGate(Allowlist):
    """One server process's view of the admitted keys (and the allowlist's)."""

    def __init__(self, db: Database, operator_key: bytes,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(db, operator_key, clock)

    def refresh(self) -> None:
        with self.db.read() as conn:
            allowed = {r[0] for r in conn.execute(select(service_allowed_keys.c.key_id))}
            admitted = {r[0] for r in conn.execute(
                select(parties.c.key_id).join(party_admissions,
                                              party_admissions.c.party_id == parties.c.id))}
        self._ids, self._read_at = frozenset(allowed | admitted), self.clock()

    def refusal(self, entry: bytes, key_id: str) -> NotAdmitted | None:  # type: ignore[override]
        """None when ``entry``, signed by a key that is neither admitted nor allowed, may pass
        anyway (a party joining, or a malformed entry the ledger refuses in its own words);
        else the refusal."""
        try:
            s = read_entry(entry)
        except Exception:  # noqa: BLE001 - the ledger words a malformed entry
            return None
        if s.type in OPEN_TYPES:
            return None
        # Whatever the actor claims (a party registered earlier in the same batch, another
        # party's id): the signing key is not an admitted party's, so nothing but joining passes.
        if s.type == "admission.requested":
            return NotAdmitted(f"party {s.actor} asks for admission through POST "
                               "/v1/identity/admissions (`reelrights party request-admission`), "
                               "which checks its proof before anything is logged")
        return NotAdmitted(
            f"party {s.actor} is not admitted on this service (or key {key_id} is not its "
            f"admitted key), so it may not "
            f"sign {s.type} yet; get admitted first: `reelrights party nonce {s.actor} --domain "
            f"D` and `reelrights party request-admission {s.actor} --domain D --nonce N` (or a "
            "guild's membership statement, or the operator's documented check)")
