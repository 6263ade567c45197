"""Decide one request against one parsed policy (pure: no I/O but the duty oracle's).

The rule, stated in the profile as the conflict strategy ``rr:fence``:

1. Closed world. Only permissions whose action covers the requested action (``train`` covers
   ``fineTune``; ``use`` covers everything), whose target is the request's target or one it
   belongs to, and whose assignee is the requester (when the request names one) *apply*.
   With none, the request is denied (``no-permission``).
2. An applicable permission *holds* when all its constraints and action refinements are
   satisfied (a left operand with no value in the request satisfies nothing) and every duty
   is fulfilled: the duty's own constraints are satisfied and the oracle says ``ok``.
3. A prohibition is *in effect* when it applies and its constraints are satisfied. Each one in
   effect must be opened by a holding permission whose covering action is the prohibited
   action or one included in it; otherwise it denies the request (``prohibited``).
4. Allowed iff some permission holds and every prohibition in effect is opened.

Permissions are tried in document order and evaluation stops once the decision is settled, so
the oracle is not asked about duties that cannot change the outcome. Reasons come in a fixed
order: permissions in document order, then ``no-permission`` if none applied, then
prohibitions in document order.
"""

from __future__ import annotations

from functools import lru_cache

from .model import Decision, DutyOracle, Policy, Reason, Request, Rule
from .vocab import compact

__all__ = ["evaluate"]


def evaluate(policy: Policy, request: Request, duties: DutyOracle) -> Decision:
    """Allowed or denied, with the reasons. See the module docstring for the rule."""
    if type(request) is not Request:
        raise TypeError(f"evaluate() needs a Request, not {type(request).__name__}")
    perms, prohibs = policy.index.get(request.action, _NOTHING)
    targets = request.targets
    who = request.assignee

    pending: set[int] | None = None         # prohibitions in effect and not yet opened
    active: tuple[int, ...] = ()
    if prohibs:
        active = tuple(j for j, q in enumerate(prohibs)
                       if not q.targets.isdisjoint(targets)
                       and (who is None or not q.assignees or who in q.assignees)
                       and q.check(request))
        if active:
            pending = set(active)

    reasons: list[Reason] = []
    granted: list[tuple[Rule, frozenset[int]]] = []
    applicable = False
    for p, opens, granted_reason in perms:
        if p.targets.isdisjoint(targets) or (who is not None and p.assignees
                                               and who not in p.assignees):
            continue
        applicable = True
        if not p.check(request):
            for c in p.constraints:
                for pointer, message in c.explain(request):
                    reasons.append(Reason("constraint", p.pointer, pointer, message))
            continue
        if p.duties and not _duties_met(p, request, duties, reasons):
            continue
        reasons.append(granted_reason)
        granted.append((p, opens))
        if pending is None:
            break
        pending -= opens
        if not pending:
            break

    if not applicable:
        reasons.append(Reason("no-permission", "", "", (
            f"no permission covers {request.action_name} on {request.target}"
            + (f" for {who}" if who is not None else "") + " (closed world: denied)")))
    for j in active:
        reasons.append(_prohibition_reason(
            prohibs[j], pending is not None and j in pending,
            tuple((p.pointer, j in opens) for p, opens in granted)))
    return Decision(bool(granted) and not pending, tuple(reasons))


_NOTHING: tuple[tuple[()], tuple[()]] = ((), ())


@lru_cache(maxsize=4096)
def _prohibition_reason(q: Rule, closed: bool, granted: tuple[tuple[str, bool], ...]) -> Reason:
    """``granted``: (pointer, opens q) for each fulfilled permission. Memoised."""
    what = f"{'/'.join(compact(a) for a in q.actions)} is prohibited"
    if closed:
        if granted:
            broad = ", ".join(p for p, _ in granted)
            why = f"; the fulfilled permission {broad} is for a broader action and cannot open it"
        else:
            why = "; no fulfilled permission for the same or a narrower action opens it"
        return Reason("prohibited", q.pointer, q.pointer, what + why)
    by = ", ".join(p for p, opens in granted if opens)
    return Reason("overridden", q.pointer, q.pointer,
                  f"{what}, but the fulfilled permission {by} opens it")


def _duties_met(p: Rule, request: Request, oracle: DutyOracle, reasons: list[Reason]) -> bool:
    met = True
    for d in p.duties:
        if d.constraints and not d.check(request):
            met = False
            for c in d.constraints:
                for pointer, message in c.explain(request):
                    reasons.append(Reason("duty", p.pointer, pointer,
                                          f"{d.name} duty not fulfilled: {message}"))
            continue
        result = oracle.fulfilled(d, request)
        if result.ok is not True:
            met = False
            reasons.append(Reason("duty", p.pointer, d.pointer,
                                  f"{d.name} not fulfilled: {result.reason or 'no reason given'}"))
    return met
