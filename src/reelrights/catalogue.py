"""The statement catalogue: every statement type reelrights logs, assembled here and only here.

A statement type is three things: its body schema and signer rule
(:class:`~reelrights.core.statement_types.StatementType`), its **effect time** (declared on the
type: at log time, or a date in the body bounded by the log time), and its **applier**, the
function that writes its projection rows. Each capability lists its types in a ``TYPES`` tuple
of a ``core/*_types.py`` module and marks its appliers with :func:`applier` in its service
modules. Neither registers anything anywhere when imported: this module names every capability
explicitly (:data:`CAPABILITIES`) and builds the one :class:`Catalogue` from them, so the ledger,
``verify_log``, the worker processes, a replay and any fresh interpreter see the same catalogue,
whatever they imported before.

An applier has one of two shapes:

* **One statement at a time** (the rule): ``@applier("type.name")`` over
  :func:`~reelrights.ledger.each_statement`, on a function ``(conn, a: Accepted) -> dict`` that
  checks one statement, writes its rows and returns its details, raising its typed errors as
  they come. The wrapper applies the run in log order and names the refusing statement's
  position (``statement 2 of 3: ...``).
* **The whole run** (the exception): ``@applier("type.name", batch=True)`` on a function
  ``(conn, run: list[Accepted]) -> list[dict]``, kept only where set-based inserts are a
  measured hot path (``party.registered`` and ``work.registered``, for
  ``benchmarks/log_append.py``). It names a refusing statement itself with
  :func:`~reelrights.ledger.at`.

``tests/test_catalogue.py`` holds every applier to one of the two.

The interface (``catalogue()``, ``lookup``, ``check_body``, ``Catalogue.applier``,
``Catalogue.types``) is the stable one: moving a capability's modules only changes its
:class:`Capability` line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

from .core.statement_types import StatementType, check_type_body
from .errors import InvalidStatement

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from .write.accepted import Accepted

__all__ = ["CAPABILITIES", "Capability", "Catalogue", "applier", "catalogue", "check_body",
           "is_batch", "lookup"]

Applier = Callable[["Connection", "list[Accepted]"], "list[dict[str, Any]]"]

_TAG = "__reelrights_statement_type__"
_BATCH = "__reelrights_batch__"


def applier(type_name: str, *, batch: bool = False) -> Callable[[Applier], Applier]:
    """Mark ``fn`` as the applier of ``type_name`` (it records nothing anywhere: the catalogue
    finds marked functions in the modules its capabilities list). ``batch`` marks an applier
    that takes the whole run itself (see the module docstring); any other is an
    :func:`~reelrights.ledger.each_statement`."""
    def mark(fn: Applier) -> Applier:
        setattr(fn, _TAG, type_name)
        setattr(fn, _BATCH, batch)
        return fn
    return mark


def is_batch(fn: Applier) -> bool:
    """Whether ``fn`` was marked ``@applier(..., batch=True)``."""
    return bool(getattr(fn, _BATCH, False))


@dataclass(frozen=True)
class Capability:
    """One capability: the modules that define its statement types and its appliers."""

    name: str
    types: tuple[str, ...]
    appliers: tuple[str, ...]


#: Every capability, explicitly. A statement type exists only if it is listed here.
CAPABILITIES: tuple[Capability, ...] = (
    Capability("registry", ("reelrights.registry.types",),
               ("reelrights.registry.deployment", "reelrights.registry.parties",
                "reelrights.registry.works", "reelrights.registry.credits")),
    Capability("rights", ("reelrights.rights.types",),
               ("reelrights.rights.licensing", "reelrights.rights.consent",
                "reelrights.rights.consent_requests", "reelrights.rights.bundles",
                "reelrights.rights.strikes")),
    Capability("disputes", ("reelrights.rights.dispute_types",), ("reelrights.rights.disputes",)),
    Capability("evidence", ("reelrights.evidence.run_types", "reelrights.evidence.audit_types"),
               ("reelrights.evidence.runs", "reelrights.evidence.audit_challenge",
                "reelrights.evidence.audit_status", "reelrights.evidence.certificates",
                "reelrights.evidence.audit_opened")),
    Capability("outputs", ("reelrights.outputs.types",),
               ("reelrights.outputs.provenance",)),
    Capability("preferences", ("reelrights.preferences.types",),
               ("reelrights.preferences.declared",)),
    Capability("keys", ("reelrights.identity.key_types",),
               ("reelrights.identity.keys", "reelrights.identity.statement_disputes")),
    Capability("fund", ("reelrights.fund.types", "reelrights.fund.claim_types"),
               ("reelrights.fund.productions", "reelrights.fund.revenue_import",
                "reelrights.fund.royalty_statement_issue", "reelrights.fund.suspense")),
    Capability("identity", ("reelrights.identity.admission_types",),
               ("reelrights.identity.admission",)),
    Capability("sealed", ("reelrights.sealed.types",), ("reelrights.sealed.erasure",)),
)


class Catalogue:
    """Statement types by (name, version), each with its applier and its capability."""

    def __init__(self, capabilities: Sequence[Capability]) -> None:
        self._types: dict[tuple[str, int], StatementType] = {}
        self._appliers: dict[str, Applier] = {}
        self._capability: dict[str, str] = {}
        for cap in capabilities:
            for mod_name in cap.types:
                for t in import_module(mod_name).TYPES:
                    if (t.name, t.version) in self._types:
                        raise RuntimeError(f"statement type {t.name} v{t.version} is defined "
                                           f"twice (again in {mod_name})")
                    self._types[(t.name, t.version)] = t
                    self._capability[t.name] = cap.name
            for mod_name in cap.appliers:
                module = import_module(mod_name)
                for value in vars(module).values():
                    name = getattr(value, _TAG, None)
                    if name is None:
                        continue
                    if name in self._appliers and self._appliers[name] is not value:
                        raise RuntimeError(f"statement type {name} has two appliers")
                    self._appliers[name] = value
        names = {n for n, _ in self._types}
        missing = sorted(names - set(self._appliers))
        stray = sorted(set(self._appliers) - names)
        if missing or stray:
            raise RuntimeError(f"catalogue mismatch: types without an applier {missing}, "
                               f"appliers without a type {stray}")

    def lookup(self, name: str, version: int) -> StatementType:
        try:
            return self._types[(name, version)]
        except KeyError:
            known = ", ".join(sorted({n for n, _ in self._types}))
            raise InvalidStatement(
                f"unknown statement type {name!r} version {version}; known types: {known}",
                "/statement/type") from None

    def check_body(self, name: str, version: int, body: Any, actor: str, *,
                   sealed: bool = False) -> StatementType:
        """Validate a statement's body and signer against its type; return the type.
        ``sealed``: ``body`` is a sealed statement's public body."""
        return check_type_body(self.lookup(name, version), body, actor, sealed=sealed)

    def applier(self, name: str) -> Applier | None:
        return self._appliers.get(name)

    def capability(self, name: str) -> str:
        return self._capability[name]

    def types(self) -> list[StatementType]:
        return sorted(self._types.values(), key=lambda t: (t.name, t.version))


@cache
def catalogue() -> Catalogue:
    """The catalogue of :data:`CAPABILITIES` (built once per process)."""
    return Catalogue(CAPABILITIES)


def lookup(name: str, version: int) -> StatementType:
    return catalogue().lookup(name, version)


def check_body(name: str, version: int, body: Any, actor: str, *,
               sealed: bool = False) -> StatementType:
    return catalogue().check_body(name, version, body, actor, sealed=sealed)
