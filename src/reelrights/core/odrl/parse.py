"""Validate an rr ODRL 2.2 policy (JSON-LD, compacted with the ODRL and rr contexts).

The policy is read as the JSON the contexts define, without a JSON-LD processor: every member
must be one ODRL 2.2 or the rr profile gives a meaning to, so what this parser reads is what a
JSON-LD processor would read. Anything else is refused with an :class:`InvalidPolicy` carrying
the RFC 6901 pointer of the offending member and a one-line fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .constraints import Constraint, build_constraints, esc
from .members import READERS, canon, read_duty, read_uid, unknown
from .model import Duty, Policy, Reason, Request, Rule
from .vocab import (
    CONTEXT_IRI,
    ODRL,
    ODRL_CONTEXTS,
    PREFIXES,
    PROFILE_IRI,
    RR,
    InvalidPolicy,
    expand,
    load_profile,
)

__all__ = ["parse_policy"]

_TYPES = {"Agreement": "Agreement", "Offer": "Offer", "Set": "Set", "Policy": "Set"}
_METADATA_PREFIXES = ("dc:", "dct:", "dcterms:")
_SHARED = ("target", "assigner", "assignee", "action")


def parse_policy(doc: dict[str, Any]) -> Policy:
    """Validate ``doc`` and return the :class:`Policy` to evaluate.

    Raises :class:`InvalidPolicy` (with the RFC 6901 pointer of the offending member).
    """
    if type(doc) is not dict:
        raise InvalidPolicy("a policy must be a JSON object", "", "pass the parsed JSON-LD object")
    keys = canon(doc, "")
    _check_context(doc)
    for key, (orig, _) in keys.items():
        if key in ("@context", "@type", "uid", "@id", "profile", "conflict", "permission",
                   "prohibition", "obligation", *_SHARED) or orig.startswith(_METADATA_PREFIXES):
            continue
        unknown(orig, f"/{esc(orig)}", "policy", "@context, @type, uid, profile, assigner, "
                 "assignee, target, action, permission, prohibition, obligation, dc:*")
    ptype = _policy_type(keys)
    uid = read_uid(keys, "")
    _check_profile(keys)
    if "conflict" in keys:
        orig, value = keys["conflict"]
        if type(value) is not str or expand(value) != RR + "fence":
            raise InvalidPolicy(f"conflict strategy {value!r} is not the rr profile's",
                                f"/{esc(orig)}", 'remove "conflict" (rr:fence applies) or write '
                                '"conflict": "rr:fence"')
    shared: dict[str, Any] = {}
    for name in _SHARED:
        if name in keys:
            orig, value = keys[name]
            shared[name] = (READERS[name](value, f"/{esc(orig)}"), f"/{esc(orig)}")
    rules: dict[str, list[Any]] = {}
    for kind in ("permission", "prohibition", "obligation"):
        rules[kind] = []
        if kind not in keys:
            continue
        orig, value = keys[kind]
        pointer = f"/{esc(orig)}"
        if type(value) is not list:
            raise InvalidPolicy(f"{kind} must be an array of rules", pointer,
                                f'write "{kind}": [{{…}}]')
        for i, node in enumerate(value):
            if kind == "obligation":
                rules[kind].append(read_duty(node, f"{pointer}/{i}", shared, obligation=True))
            else:
                rules[kind].append(_rule(node, f"{pointer}/{i}", kind, shared))
    if not any(rules.values()):
        raise InvalidPolicy("the policy has no rules", "",
                            "add at least one permission, prohibition or obligation")
    for rule in (*rules["permission"], *rules["prohibition"]):
        if ptype in ("Agreement", "Offer") and not rule.assigners:
            raise InvalidPolicy(f"a rule of an {ptype} needs an assigner", rule.pointer,
                                'add "assigner" to the rule or to the policy')
        if ptype == "Agreement" and not rule.assignees:
            raise InvalidPolicy("a rule of an Agreement needs an assignee", rule.pointer,
                                'add "assignee" to the rule or to the policy')
    perms, prohibs = tuple(rules["permission"]), tuple(rules["prohibition"])

    def level(name: str) -> frozenset[str]:
        value = shared.get(name, (frozenset(), ""))[0]
        return value if isinstance(value, frozenset) else frozenset()

    return Policy(uid=uid, type=ptype, profile=PROFILE_IRI, permissions=perms,
                  prohibitions=prohibs, obligations=tuple(rules["obligation"]),
                  assigner=level("assigner"), assignee=level("assignee"),
                  target=level("target"), index=_index(perms, prohibs))


def _check_context(doc: dict[str, Any]) -> None:
    if "@context" not in doc:
        raise InvalidPolicy("missing @context", "", f'add "@context": ["{ODRL_CONTEXTS[0]}", '
                            f'"{CONTEXT_IRI}"]')
    ctx = doc["@context"]
    items = ctx if type(ctx) is list else [ctx]
    seen: set[str] = set()
    for i, item in enumerate(items):
        p = f"/@context/{i}" if type(ctx) is list else "/@context"
        if type(item) is str:
            if item in ODRL_CONTEXTS:
                seen.add("odrl")
            elif item == CONTEXT_IRI:
                seen.add("rr")
            else:
                raise InvalidPolicy(f"unknown context {item!r}", p,
                                    f"use only {ODRL_CONTEXTS[0]}, {CONTEXT_IRI} and prefix maps")
        elif type(item) is dict:
            for key, value in item.items():
                if key not in PREFIXES or value not in PREFIXES[key]:
                    raise InvalidPolicy(f"context entry {key!r} is not allowed", f"{p}/{esc(key)}",
                                        "inline contexts may only declare the prefixes " +
                                        ", ".join(f"{k}: {v[0]}" for k, v in PREFIXES.items()))
        else:
            raise InvalidPolicy("a context must be an IRI or an object", p,
                                "list context IRIs as strings")
    for name, iri in (("odrl", ODRL_CONTEXTS[0]), ("rr", CONTEXT_IRI)):
        if name not in seen:
            raise InvalidPolicy(f"@context does not include {iri}", "/@context",
                                f"add {iri!r} to @context")


def _policy_type(keys: dict[str, tuple[str, Any]]) -> str:
    if "@type" not in keys:
        raise InvalidPolicy("missing @type", "", 'add "@type": "Agreement"')
    value = keys["@type"][1]
    full = expand(value) if type(value) is str else ""
    name = full[len(ODRL):] if full.startswith(ODRL) else None
    if name not in _TYPES:
        raise InvalidPolicy(f"@type {value!r} is not a policy type the rr profile supports",
                            "/@type", 'use "Agreement" (or "Offer" / "Set")')
    return _TYPES[name]


def _check_profile(keys: dict[str, tuple[str, Any]]) -> None:
    if "profile" not in keys:
        raise InvalidPolicy("missing profile", "", f'add "profile": "{PROFILE_IRI}"')
    orig, value = keys["profile"]
    items = value if type(value) is list else [value]
    for i, item in enumerate(items):
        p = f"/{esc(orig)}/{i}" if type(value) is list else f"/{esc(orig)}"
        if item != PROFILE_IRI:
            raise InvalidPolicy(f"profile {item!r} is not understood by this evaluator", p,
                                f"ODRL requires processors to stop on unknown profiles; use "
                                f"only {PROFILE_IRI}")


def _inherit(keys: dict[str, tuple[str, Any]], name: str, pointer: str,
             shared: dict[str, Any]) -> Any:
    own = None
    if name in keys:
        orig, value = keys[name]
        own = READERS[name](value, f"{pointer}/{esc(orig)}")
    if name not in shared:
        return own
    inherited, spointer = shared[name]
    if own is None:
        return inherited
    same = (own[0] == inherited[0] and not (own[1] and inherited[1]) if name == "action"
            else own == inherited)
    if not same:
        raise InvalidPolicy(f"{name} differs from the policy-level {name} at {spointer}",
                            f"{pointer}/{esc(keys[name][0])}",
                            f"declare {name} either on the policy or on each rule")
    return (own[0], own[1] or inherited[1]) if name == "action" else own


def _rule(node: Any, pointer: str, kind: str, shared: dict[str, Any]) -> Rule:
    if type(node) is not dict:
        raise InvalidPolicy(f"a {kind} must be an object", pointer, "write {\"action\": …}")
    keys = canon(node, pointer)
    allowed = ["uid", "@id", "@type", "target", "action", "assigner", "assignee", "constraint"]
    if kind == "permission":
        allowed.append("duty")
    for key, (orig, _) in keys.items():
        if key not in allowed:
            unknown(orig, f"{pointer}/{esc(orig)}", kind, ", ".join(allowed))
    if "@type" in keys and expand(str(keys["@type"][1])) != ODRL + kind.capitalize():
        raise InvalidPolicy(f"@type {keys['@type'][1]!r} in a {kind}", f"{pointer}/@type",
                            "remove @type or correct it")
    uid = read_uid(keys, pointer, required=False)
    targets = _inherit(keys, "target", pointer, shared)
    if not targets:
        raise InvalidPolicy(f"the {kind} has no target", pointer,
                            'add "target" to the rule or to the policy')
    act = _inherit(keys, "action", pointer, shared)
    if act is None:
        raise InvalidPolicy(f"the {kind} has no action", pointer, 'add "action": "train"')
    actions, refinements = act
    assigners = _inherit(keys, "assigner", pointer, shared) or frozenset()
    assignees = _inherit(keys, "assignee", pointer, shared) or frozenset()
    constraints: tuple[Constraint, ...] = ()
    if "constraint" in keys:
        orig, value = keys["constraint"]
        constraints = build_constraints(value, f"{pointer}/{esc(orig)}", "constraint")
    duties: tuple[Duty, ...] = ()
    if "duty" in keys:
        orig, value = keys["duty"]
        if type(value) is not list or not value:
            raise InvalidPolicy("duty must be a non-empty array", f"{pointer}/{esc(orig)}",
                                'write "duty": [{"action": "attribute"}]')
        parties = {"assigner": (assigners, ""), "assignee": (assignees, "")}
        duties = tuple(read_duty(d, f"{pointer}/{esc(orig)}/{i}", parties)
                       for i, d in enumerate(value))
    conditions = refinements + constraints
    return Rule(kind=kind, pointer=pointer, actions=actions, targets=targets,
                assigners=assigners, assignees=assignees, constraints=conditions,
                duties=duties, uid=uid, check=_all(tuple(c.test for c in conditions)))


def _all(tests: tuple[Callable[[Request], bool], ...]) -> Callable[[Request], bool]:
    if not tests:
        return lambda r: True
    if len(tests) == 1:
        return tests[0]

    def check(r: Request) -> bool:
        for t in tests:  # noqa: SIM110  (a plain loop: cheaper than all() on this hot path)
            if not t(r):
                return False
        return True
    return check


def _index(perms: tuple[Rule, ...], prohibs: tuple[Rule, ...]) -> dict[str, Any]:
    """For every request action: the permissions and prohibitions whose action covers it, and
    for each permission the prohibitions it may open (its covering action is the prohibition's
    covering action or is included in it)."""
    profile = load_profile()
    covered = {a: profile.covered(a) for a in profile.actions}
    index: dict[str, Any] = {}
    for req, term in profile.actions.items():
        if term.duty_only:
            continue
        qs = tuple(q for q in prohibs if any(req in covered[a] for a in q.actions))
        entries = []
        for p in perms:
            mine = [a for a in p.actions if req in covered[a]]
            if not mine:
                continue
            opens = frozenset(j for j, q in enumerate(qs) if any(
                aq in profile.actions[ap].ancestors
                for ap in mine for aq in q.actions if req in covered[aq]))
            held = [w for w, present in (("constraints satisfied", p.constraints),
                                         ("duties fulfilled", p.duties)) if present]
            granted = Reason("granted", p.pointer, p.pointer, f"permits {term.name}"
                             + (f" ({' and '.join(held)})" if held else ""))
            entries.append((p, opens, granted))
        index[req] = (tuple(entries), qs)
    return index
