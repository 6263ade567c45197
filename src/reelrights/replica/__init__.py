"""Projections are a cache of the log.

Every registry table the commands answer from (parties, licenses, consents, credits, ...) is
written by the appliers from accepted statements, so the log alone determines it. This package
replays the log through those same appliers (:func:`replay`), compares the result with stored
tables (:func:`compare_projections`; ``reelrights log verify``), and builds a whole new home from
a log's static tiles (:func:`rebuild`; ``reelrights rebuild``), or keeps one up to date from a
server's tiles, incrementally (:func:`sync`; a party's home, :mod:`.remote`). :mod:`.tables` classifies every
table of the schema as a projection, a log table or a local one.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import LogIntegrityError
from ..store.db import Database
from .compare import Difference, compare_projections
from .home import is_replica, log_verifier_key
from .rebuild import RebuildReport, rebuild
from .remote import RemoteLedger, join, open_ledger, open_remote_home
from .replay import ReplayReport, replay
from .sync import SplitView, SyncReport, sync
from .tables import LOCAL_TABLES, LOG_TABLES, PROJECTION_TABLES
from .verify import ProjectionReport, verify_projections

__all__ = ["LOCAL_TABLES", "LOG_TABLES", "PROJECTION_TABLES", "Difference", "ProjectionReport",
           "RebuildReport", "RemoteLedger", "ReplayReport", "SplitView", "SyncReport",
           "check_projections", "compare_projections", "is_replica", "join",
           "log_verifier_key", "open_ledger", "open_remote_home", "rebuild", "replay", "sync",
           "verify_projections"]


def check_projections(db: Database, show: Callable[[str], None]) -> str:
    """``log verify``'s projection step: the summary line, or LogIntegrityError (exit 1) after
    ``show`` got the first differences, one line each."""
    report = verify_projections(db)
    if report.differences:
        for line in report.lines():
            show(line)
        raise LogIntegrityError(report.failure(), None)
    return report.summary()
