"""What the write path yields: accepted statements (for the appliers) and receipts (for callers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from ..core.statements import SignedStatement

__all__ = ["Accepted", "Applier", "Receipt"]


@dataclass(frozen=True, slots=True)
class Accepted:
    """A statement that passed every check, with the log index it is about to take."""

    index: int
    statement: SignedStatement
    #: The log's time for this entry (RFC 3339 UTC): when the fact takes effect, whatever time
    #: the signer wrote. Appliers record this, never ``statement.time``.
    time: str = ""

    def __post_init__(self) -> None:
        if not self.time:
            object.__setattr__(self, "time", self.statement.time)


@dataclass
class Receipt:
    """What the registry returns for each accepted statement: where the log put it and when."""

    index: int
    type: str
    actor: str
    leaf_hash: str
    details: dict[str, Any] = field(default_factory=dict)
    #: The statement's id (v2) and the log's time of its entry (v2: in the leaf).
    statement_id: str | None = None
    log_time: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"index": self.index, "type": self.type, "actor": self.actor,
               "leaf_hash": self.leaf_hash}
        if self.statement_id is not None:
            out["statement"] = self.statement_id
        if self.log_time is not None:
            out["log_time"] = self.log_time
        return {**out, **self.details}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Receipt:
        """The inverse of :meth:`to_json` (a service's answer): the applier's details are every
        key but the receipt's own, in their order."""
        own = ("index", "type", "actor", "leaf_hash", "statement", "log_time")
        return cls(int(data["index"]), str(data["type"]), str(data["actor"]),
                   str(data["leaf_hash"]), {k: v for k, v in data.items() if k not in own},
                   data.get("statement"), data.get("log_time"))


#: type name -> function applying a run of accepted statements; returns one details dict each.
Applier = Callable[[Connection, list[Accepted]], list[dict[str, Any]]]
