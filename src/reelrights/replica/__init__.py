"""Projections are a cache of the log.

Every registry table the commands answer from (parties, licenses, consents, credits, ...) is
written by the appliers from accepted statements, so the log alone determines it. This package
replays the log through those same appliers (:func:`replay`), compares the result with stored
tables (:func:`compare_projections`; ``reelrights log verify``), and builds a whole new home from
a log's static tiles (:func:`rebuild`; ``reelrights rebuild``). :mod:`.tables` classifies every
table of the schema as a projection, a log table or a local one.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import LogIntegrityError
from ..store.db import Database
from .compare import Difference, compare_projections
from .home import is_replica, log_verifier_key, open_ledger
from .rebuild import RebuildReport, rebuild
from .replay import ReplayReport, replay
from .tables import LOCAL_TABLES, LOG_TABLES, PROJECTION_TABLES
from .verify import ProjectionReport, verify_projections

__all__ = ["LOCAL_TABLES", "LOG_TABLES", "PROJECTION_TABLES", "Difference", "ProjectionReport",
           "RebuildReport", "ReplayReport", "check_projections", "compare_projections",
           "is_replica", "log_verifier_key", "open_ledger", "rebuild", "replay",
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
