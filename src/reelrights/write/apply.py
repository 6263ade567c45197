"""Step 4: accepted statements become registry rows, run by run of one type, in log order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from .. import admission
from ..catalogue import catalogue
from ..errors import BadInput, ReelrightsError
from .accepted import Accepted, Applier

__all__ = ["apply_statements", "at", "each_statement"]


def apply_statements(conn: Connection, accepted: list[Accepted]) -> list[dict[str, Any]]:
    """Write the registry rows of accepted statements, in log order, run by run of one type.

    The one place statements become rows: the ledger calls it inside its write transaction,
    and a rebuild or a verification replays the log through it, so both build the same tables.
    Returns one details dict per statement.
    """
    details: list[dict[str, Any]] = []
    start = 0
    total = len(accepted)
    stmts = [a.statement for a in accepted]

    def refuse(pos: int, exc: ReelrightsError) -> None:
        if total > 1:
            exc.message = f"statement {pos + 1} of {total}: {exc.message}"
            exc.args = (exc.message,)
        raise exc

    while start < total:
        type_name = accepted[start].statement.type
        end = start
        while end < total and accepted[end].statement.type == type_name:
            end += 1
        fn = catalogue().applier(type_name)
        if fn is None:
            raise BadInput(f"statement type {type_name} has no registry handler")
        try:
            details.extend(fn(conn, accepted[start:end]))
        except ReelrightsError as exc:
            pos = getattr(exc, "position", None)
            if total > 1 and pos is not None:
                exc.message = f"statement {start + pos + 1} of {total}: {exc.message}"
                exc.args = (exc.message,)
            raise
        if any(a.statement.sealed is not None for a in accepted[start:end]):
            from ..sealed.store import record_sealed

            record_sealed(conn, accepted[start:end])  # before a later run can name them
        start = end
    # Compare-and-swap last: the appliers name the domain's own refusals first (an unknown
    # license, one already revoked); this catches what they cannot, a stale or replayed
    # replacement of a fact that has changed since it was signed.
    if any(s.format == 2 for s in stmts):
        current = admission.check_supersedes(conn, stmts, refuse)
        if current:
            admission.record_current(conn, stmts, accepted[0].index, current)
    return details


def at(position: int, exc: ReelrightsError) -> ReelrightsError:
    """Mark an applier's error with the statement's position in its run (for batch messages)."""
    exc.position = position
    return exc


def each_statement(apply_one: Callable[[Connection, Accepted], dict[str, Any]]) -> Applier:
    """An applier that applies a run one statement at a time, in log order; a refusal names
    the statement's position in the run (see :func:`at`)."""
    def apply(conn: Connection, run: list[Accepted]) -> list[dict[str, Any]]:
        out = []
        for pos, a in enumerate(run):
            try:
                out.append(apply_one(conn, a))
            except ReelrightsError as exc:
                raise at(pos, exc) from None
        return out
    return apply
