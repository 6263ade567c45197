"""The log's own rules for a batch, under the head lock (step 3).

The statements' format and registry, the log time and the signed times' bounds, and no
statement id twice (:mod:`reelrights.admission` holds the rules themselves). A legacy log (no
``registry.established`` yet) takes v1 statements and no log time, until its establishment.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import NoReturn

from sqlalchemy import Connection, select

from .. import admission
from ..admission import Deployment
from ..core.statements import SignedStatement, decode_entry, utc_now
from ..errors import Conflict, InvalidStatement, ReelrightsError
from ..log.database_log import DatabaseLog, Head
from ..store.tables import log_entries
from .decode import raise_at

__all__ = ["LogRules", "deployment_at"]


class LogRules:
    """The rules of one log: its registry's deployment (read once) and its clock."""

    def __init__(self, log: DatabaseLog, clock: Callable[[], str] = utc_now) -> None:
        self.log = log
        #: The time now, written as log times are (a test may give a fixed sequence).
        self.clock = clock
        #: The registry's rules, from its logged registry.established statement (read once).
        self.deployment: Deployment | None = None

    def admit(self, conn: Connection, head: Head, stmts: Sequence[SignedStatement], *,
              look_up_ids: bool = True) -> tuple[str | None, Deployment | None]:
        """Check the batch against the log's rules; return (log time, the deployment this
        batch establishes or None). ``look_up_ids``: look logged ids up (else the unique index
        on ``log_entries.statement_id`` refuses a replay at the append)."""
        total = len(stmts)

        def refuse(pos: int, exc: ReelrightsError) -> NoReturn:
            raise_at(pos, total, exc)

        if head.registry is None:
            return self._before_establishment(conn, head, stmts, refuse)
        rules = self.deployment
        if rules is None or rules.registry != head.registry:
            rules = self.deployment = deployment_at(conn, head)
        registry = head.registry
        for pos, s in enumerate(stmts):
            if s.registry == registry and s.type != "registry.established":
                continue  # (v1 statements have no registry)
            if s.format != 2:
                refuse(pos, InvalidStatement(
                    "v1 statements are no longer accepted: this registry logs v2 statements "
                    f"since log index {head.v2_from}; sign it again as v2 (reelrights/statement/"
                    f"v2, registry {head.registry})", "/statement"))
            if s.registry != head.registry:
                refuse(pos, InvalidStatement(
                    f"this statement is signed for registry {s.registry!r}, not this one "
                    f"({head.registry!r}); a statement is valid only in the registry it names",
                    "/statement/registry"))
            if s.type == "registry.established":
                refuse(pos, Conflict(f"this registry was established at log index "
                                     f"{head.v2_from}; it is established once"))
        log_time = admission.log_time_after(head.time, self.clock())
        admission.check_times(stmts, log_time, rules, refuse)
        if look_up_ids:
            admission.check_ids(conn, stmts, refuse)
        return log_time, None

    def _before_establishment(self, conn: Connection, head: Head,
                              stmts: Sequence[SignedStatement],
                              refuse: Callable[[int, ReelrightsError], NoReturn],
                              ) -> tuple[str | None, Deployment | None]:
        total = len(stmts)
        log = self.log
        for pos, s in enumerate(stmts):
            if s.type == "registry.established":
                if pos != 0 or total != 1:
                    refuse(pos, InvalidStatement("registry.established is submitted alone"))
                if (s.body["origin"] != log.origin or log.signer is None
                        or s.body["log_key"] != log.signer.vkey):
                    refuse(pos, InvalidStatement(
                        f"registry.established must name this log's origin "
                        f"{log.origin!r} and its note key", "/statement/body"))
                if s.body["v1_entries"] != head.size:
                    refuse(pos, InvalidStatement(
                        f"v1_entries must be the log's size ({head.size})",
                        "/statement/body/v1_entries"))
                if s.registry is None:
                    refuse(pos, InvalidStatement("registry.established must be a v2 statement "
                                                 "(it names the registry)"))
                log_time = admission.log_time_after(head.time, self.clock())
                established = Deployment(
                    s.registry, s.body["clock_skew_s"], s.body["submission_window_s"],
                    head.size, key_rotation_wait_s=s.body.get(
                        "key_rotation_wait_s", admission.DEFAULT_KEY_ROTATION_WAIT_S))
                admission.check_times(stmts, log_time, established, refuse)
                admission.check_ids(conn, stmts, refuse)
                return log_time, established
            if s.format != 1:
                refuse(pos, InvalidStatement(
                    "this log has no registry.established statement yet, so it takes only "
                    "v1 statements; open it with Ledger.open(home) to establish it"))
        return None, None


def deployment_at(conn: Connection, head: Head) -> Deployment:
    """The rules of the registry.established statement at ``head.v2_from``."""
    row = conn.execute(select(log_entries.c.entry).where(log_entries.c.idx == head.v2_from)).one()
    s = decode_entry(bytes(row.entry))
    operator = s.body.get("operator_key")
    return Deployment(s.registry or "", s.body["clock_skew_s"], s.body["submission_window_s"],
                      int(head.v2_from or 0),
                      base64.b64decode(operator) if operator is not None else None,
                      s.body.get("key_rotation_wait_s", admission.DEFAULT_KEY_ROTATION_WAIT_S))
