"""What the witnesses' cosignatures say about a log held in the database (``log verify
--policy``): every cosigned checkpoint the server collected is cosigned by known witnesses and
is the log's own checkpoint at that size, the largest satisfies the policy's quorum, and every
entry's log time lies between the cosignature timestamps of the witnessed checkpoints before and
after it (:func:`reelrights.core.cosignature.check_log_times`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection

from ..core.cosignature import (
    DEFAULT_SLACK_S,
    CosignedCheckpoint,
    check_log_times,
    open_cosigned,
    verify_cosigned_checkpoint,
)
from ..core.statements import open_leaf, parse_time
from ..core.tlog_policy import Policy
from ..errors import LogIntegrityError, NotFound, SignatureError
from .cosigned import CosignedStore
from .database_log import DatabaseLog

__all__ = ["WitnessedReport", "verify_witnessed"]


@dataclass(frozen=True)
class WitnessedReport:
    cosigned: int  # cosigned checkpoint sizes checked
    latest: int  # size of the largest cosigned checkpoint (0: none)
    witnesses: int  # distinct witnesses that cosigned it
    bounded: int  # entries whose log time had a witness bound

    def summary(self) -> str:
        if not self.cosigned:
            return "witnesses: no cosigned checkpoint yet"
        return (f"witnesses: {self.cosigned} cosigned checkpoints, the largest (size "
                f"{self.latest}) meets the policy's quorum with {self.witnesses} witnesses; "
                f"{self.bounded} entries' log times lie within the witnesses' timestamps")


def _log_times(conn: Connection, log: DatabaseLog, size: int) -> Iterator[tuple[int, float]]:
    for idx, _, entry in log.entries_between(conn, 0, size):
        _, t = open_leaf(entry)
        if t is not None:
            yield idx, parse_time(t, f"log index {idx} /log/time").timestamp()


def verify_witnessed(conn: Connection, log: DatabaseLog, vkey: str, policy: Policy,
                     store: CosignedStore | None, *, slack_s: float = DEFAULT_SLACK_S,
                     require: bool = True) -> WitnessedReport:
    """Check the collected cosignatures against ``policy`` and the log (module doc). With
    ``require``, a log with no cosigned checkpoint fails when the policy's quorum needs one.
    ``store`` None: the home never collected a cosignature."""
    witnesses = [w.verifier for w in policy.witnesses]
    history: list[CosignedCheckpoint] = []
    latest: bytes | None = None
    for note, size in store.history() if store is not None else ():
        try:
            got = open_cosigned(note, vkey, witnesses)
        except SignatureError as exc:
            raise SignatureError(f"the cosigned checkpoint of size {size}: {exc}") from None
        try:
            ours = log.checkpoint(conn, size)
        except NotFound:
            raise LogIntegrityError(f"witnesses cosigned a checkpoint of size {size} the log "
                                    "never issued: the cosignature file is not this log's") from None
        if ours[: ours.rfind(b"\n\n")] != note[: note.rfind(b"\n\n")]:
            raise LogIntegrityError(f"the cosigned checkpoint of size {size} differs from the "
                                    "log's checkpoint at that size: a split view")
        history.append(got)
        latest = note
    if latest is None:
        if require and policy.quorum != "none":
            raise SignatureError("no witness has cosigned this log's checkpoints yet: start "
                                 "`reelrights serve --witness URL=VKEY` (docs/witness.md)")
        return WitnessedReport(0, 0, 0, 0)
    top = verify_cosigned_checkpoint(latest, vkey, policy)
    bounded = check_log_times(_log_times(conn, log, _size(conn, log)), history, slack_s)
    return WitnessedReport(len({c.checkpoint.size for c in history}), top.checkpoint.size,
                           len({c.witness for c in top.cosignatures}), bounded)


def _size(conn: Connection, log: DatabaseLog) -> int:
    size, _ = log.head(conn)
    return int(size)
