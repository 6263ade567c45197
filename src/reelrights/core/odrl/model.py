"""The parsed policy, the request it is evaluated against, and the decision.

Everything here is immutable. A :class:`Policy` is built once by
:func:`~reelrights.core.odrl.parse.parse_policy` and then evaluated many times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ...errors import BadInput
from .territory import Territory, parse_territory
from .vocab import compact, expand, load_profile

if TYPE_CHECKING:
    from .constraints import Constraint

__all__ = ["Decision", "Duty", "DutyOracle", "DutyResult", "Policy", "Reason", "Request",
           "Rule"]


class _RequestFields(NamedTuple):
    action: str
    action_name: str
    target: str
    targets: frozenset[str]
    assignee: str | None
    date_time: date | None
    instant: datetime | None
    day: date | None
    spatial: Territory | None
    model_family: frozenset[str] | None
    performer: frozenset[str] | None
    production: frozenset[str] | None
    purpose: frozenset[str] | None
    count: int | None  # type: ignore[assignment]  # shadows tuple.count, which nothing calls


class Request(_RequestFields):
    """One requested use, and the values the left operands are compared with. Immutable.

    ``action`` is a rule action of the profile (``"train"``, ``"rr:train"`` or the full IRI).
    ``target`` is the IRI of the requested item; ``targets`` every IRI it belongs to (its
    bundle, its collections): a rule whose target is any of them applies. ``assignee``, when
    given, must be a rule's assignee for the rule to apply; None means the caller has already
    established who is asking. Left-operand values:

    * ``date_time``: a timezone-aware :class:`datetime`, or a :class:`date`;
    * ``spatial``: one ISO 3166-1 code (``"US"``, ``"USA"``, ``"840"``, ``"urn:iso:3166:US"``)
      or a region (``"EU"``, ``"EEA"``, ``"WORLD"``);
    * ``model_family``, ``performer``, ``production``, ``purpose``: an IRI or string, or
      several;
    * ``count``: the ordinal of this exercise of the action (1 for the first).

    A value left as None is missing: every constraint on it is unsatisfied (closed world).
    Raises :class:`~reelrights.errors.BadInput` for an unknown action or a malformed value.
    After normalisation ``targets`` includes ``target``, ``spatial`` is a
    :class:`~reelrights.core.odrl.territory.Territory`, the term fields are frozensets, and
    ``instant`` / ``day`` hold the aware datetime (if any) and the UTC date.
    """

    __slots__ = ()

    def __new__(cls, action: str, target: str, *, targets: Iterable[str] = (),
                assignee: str | None = None, date_time: date | None = None,
                spatial: str | Territory | None = None,
                model_family: str | Iterable[str] | None = None,
                performer: str | Iterable[str] | None = None,
                production: str | Iterable[str] | None = None,
                purpose: str | Iterable[str] | None = None,
                count: int | None = None) -> Request:
        term = _RULE_ACTIONS().get(expand(action) if type(action) is str else "")
        if term is None:
            known = ", ".join(t.name for t in _RULE_ACTIONS().values())
            raise BadInput(f"request action {action!r} is not a rule action of the rr profile "
                           f"(known: {known})")
        target = _iri(target, "target")
        if isinstance(targets, str):
            raise BadInput("request targets must be a collection of IRIs, not one string")
        instant: datetime | None = None
        day: date | None = None
        if isinstance(date_time, datetime):
            if date_time.utcoffset() is None:
                raise BadInput("request date_time must be timezone-aware "
                               "(e.g. datetime.now(UTC))")
            instant, day = date_time, date_time.astimezone(UTC).date()
        elif isinstance(date_time, date):
            day = date_time
        elif date_time is not None:
            raise BadInput("request date_time must be a datetime or a date")
        if spatial is not None and not isinstance(spatial, Territory):
            try:
                spatial = parse_territory(spatial)
            except ValueError as exc:
                raise BadInput(f"request spatial: {exc}") from None
        if count is not None and (type(count) is not int or count < 0):
            raise BadInput("request count must be a non-negative integer")
        return tuple.__new__(cls, (
            term.iri, term.name, target,
            frozenset((target, *(_iri(t, "targets") for t in targets))),
            None if assignee is None else _iri(assignee, "assignee"),
            date_time, instant, day, spatial,
            _terms(model_family, "model_family"), _terms(performer, "performer"),
            _terms(production, "production"), _terms(purpose, "purpose"), count))

    def _replace(self, **kwargs: Any) -> Request:
        raise TypeError("build a new Request instead; _replace would skip validation")

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in (
            "action", "target", "assignee", "date_time", "spatial", "model_family",
            "performer", "production", "purpose", "count") if getattr(self, k) is not None)
        return f"Request({fields})"


@lru_cache(maxsize=1)
def _RULE_ACTIONS() -> dict[str, Any]:  # noqa: N802 - a cached constant
    return {iri: t for iri, t in load_profile().actions.items() if not t.duty_only}


def _iri(value: Any, name: str) -> str:
    if type(value) is not str or not value or value != value.strip():
        raise BadInput(f"request {name} must be a non-empty IRI string")
    return expand(value, terms=False)


def _terms(value: Any, name: str) -> frozenset[str] | None:
    if value is None:
        return None
    if type(value) is str:
        return frozenset((_iri(value, name),))
    out = frozenset(_iri(v, name) for v in value)
    return out or None


class DutyResult(NamedTuple):
    """What the service says about one duty: fulfilled or not, and why (one line)."""

    ok: bool
    reason: str = ""


class DutyOracle(Protocol):
    """Implemented by the service: is this duty fulfilled for this request?

    Examples: ``obtainConsent`` is fulfilled iff a live consent from ``duty.consenting_party``
    covers the request; ``compensate`` when the license records ``duty.fund_share`` for
    ``duty.compensated_party``. Only ``DutyResult.ok is True`` counts as fulfilled.
    """

    def fulfilled(self, duty: Duty, request: Request) -> DutyResult: ...


@dataclass(frozen=True)
class Duty:
    """A duty of a permission (``/permission/i/duty/j``) or an obligation (``/obligation/i``)."""

    pointer: str
    action: str                          # full IRI, e.g. http://www.w3.org/ns/odrl/2/compensate
    constraints: tuple[Constraint, ...] = ()
    uid: str | None = None
    target: str | None = None
    assigner: frozenset[str] = frozenset()
    assignee: frozenset[str] = frozenset()
    #: compensate: percent of attributable revenue owed (0 < x <= 100), e.g. Decimal("2.5").
    fund_share: Decimal | None = None
    compensated_party: str | None = None
    attributed_party: str | None = None
    consenting_party: str | None = None

    @property
    def name(self) -> str:
        """``compensate``, ``attribute`` or ``obtainConsent``."""
        return compact(self.action)

    @property
    def share(self) -> Fraction | None:
        """The fund share as an exact ratio of revenue (2.5 % -> 1/40), or None."""
        return None if self.fund_share is None else Fraction(self.fund_share) / 100

    def check(self, request: Request) -> bool:
        return all(c.test(request) for c in self.constraints)


class Reason(NamedTuple):
    """One line of a decision's explanation.

    ``kind`` is one of ``granted`` (this permission allows the request), ``constraint`` (a
    constraint or refinement of a permission is not satisfied), ``duty`` (a duty of an
    otherwise applicable permission is not fulfilled), ``no-permission`` (no permission applies
    to the action, target and assignee), ``prohibited`` (a prohibition in effect that no
    fulfilled permission opens) and ``overridden`` (a prohibition in effect that a fulfilled
    permission opens). ``rule`` is the pointer of the rule concerned ("" for the policy);
    ``pointer`` the exact member (constraint, duty or rule).
    """

    kind: str
    rule: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '(policy)'}: {self.message}"


class Decision(NamedTuple):
    """The outcome of :func:`~reelrights.core.odrl.evaluate.evaluate`.

    Test ``decision.allowed``: a Decision itself has no truth value (``if decision:`` raises
    TypeError), so a denial can never be mistaken for an allowance.
    """

    allowed: bool
    reasons: tuple[Reason, ...]

    def __bool__(self) -> bool:
        raise TypeError("a Decision has no truth value; test decision.allowed")

    @property
    def granted_by(self) -> tuple[str, ...]:
        """Pointers of the permissions that allow the request."""
        return tuple(r.rule for r in self.reasons if r.kind == "granted")

    @property
    def prohibited_by(self) -> tuple[str, ...]:
        """Pointers of the prohibitions that deny the request."""
        return tuple(r.rule for r in self.reasons if r.kind == "prohibited")

    def explain(self) -> str:
        """One line: ``allowed: …`` or ``denied: …`` followed by every reason."""
        head = "allowed" if self.allowed else "denied"
        return f"{head}: " + "; ".join(str(r) for r in self.reasons)


@dataclass(frozen=True, eq=False)
class Rule:
    """A permission (``/permission/i``) or prohibition (``/prohibition/i``), after the
    policy-level target, assigner, assignee and action have been inherited."""

    kind: str                                # "permission" | "prohibition"
    pointer: str
    actions: tuple[str, ...]                 # full IRIs
    targets: frozenset[str]
    assigners: frozenset[str] = frozenset()
    assignees: frozenset[str] = frozenset()
    #: Action refinements then constraints; all must be satisfied.
    constraints: tuple[Constraint, ...] = ()
    duties: tuple[Duty, ...] = ()
    uid: str | None = None
    check: Callable[[Request], bool] = field(default=lambda r: True, repr=False)

    @property
    def action_names(self) -> tuple[str, ...]:
        return tuple(compact(a) for a in self.actions)


@dataclass(frozen=True, eq=False)
class Policy:
    """A parsed, validated rr ODRL policy."""

    uid: str
    type: str                                # "Agreement" | "Offer" | "Set"
    profile: str
    permissions: tuple[Rule, ...]
    prohibitions: tuple[Rule, ...]
    obligations: tuple[Duty, ...]
    assigner: frozenset[str] = frozenset()   # policy-level (already inherited by the rules)
    assignee: frozenset[str] = frozenset()
    target: frozenset[str] = frozenset()
    #: request action -> ((permission, indexes of the prohibitions it can open, its "granted"
    #: reason), ...) and the prohibitions whose action covers it; built by the parser.
    index: dict[str, tuple[tuple[tuple[Rule, frozenset[int], Reason], ...], tuple[Rule, ...]]] = (
        field(default_factory=dict, repr=False))
