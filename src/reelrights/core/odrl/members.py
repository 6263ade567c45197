"""Reading the members of a policy: IRIs, targets and parties, actions, and duties.

Every reader takes the JSON value and its RFC 6901 pointer, and raises
:class:`~reelrights.core.odrl.vocab.InvalidPolicy` at the exact member that is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal, overload

from .constraints import Constraint, build_constraints, esc
from .model import Duty
from .vocab import ODRL, RR, XSD, InvalidPolicy, expand, load_profile

__all__ = ["READERS", "canon", "entities", "read_actions", "read_duty", "read_uid", "unknown"]

# Used with fullmatch: "$" with re.match would let a trailing newline through.
_IRI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+")
_SHARE_RE = re.compile(r"(0|[1-9]\d{0,2})(\.\d{1,12})?", re.ASCII)
#: Members ODRL 2.2 defines that the rr profile refuses, with the fix to suggest.
_UNSUPPORTED = {
    "inheritFrom": "policy inheritance needs the parent policy; inline its rules instead",
    "constraint": "policy-level constraints apply to no rule in ODRL 2.2; put them on each rule",
    "remedy": "remedies are not evaluated; remove it",
    "consequence": "consequences are not evaluated; remove it",
    "output": "output relations are not supported; remove it",
    "refinement": 'put refinements on the action: {"rdf:value": {"@id": …}, "refinement": […]}',
}


def canon(node: dict[str, Any], pointer: str) -> dict[str, tuple[str, Any]]:
    """Map each member to its canonical name (``odrl:action`` -> ``action``)."""
    out: dict[str, tuple[str, Any]] = {}
    for key, value in node.items():
        if type(key) is not str:
            raise InvalidPolicy(f"member name {key!r} is not a string", pointer,
                                "pass the policy as parsed JSON")
        if key.startswith("@"):
            name = key
        else:
            full = expand(key)
            name = (full[len(ODRL):] if full.startswith(ODRL)
                    else "rr:fundShare" if full == RR + "fundShare" else key)
        if name in out:
            raise InvalidPolicy(f"{key!r} repeats {out[name][0]!r}", f"{pointer}/{esc(key)}",
                                "keep one of them")
        out[name] = (key, value)
    return out


def unknown(key: str, pointer: str, where: str, allowed: str) -> None:
    name = expand(key)
    name = name[len(ODRL):] if name.startswith(ODRL) else key
    if name in _UNSUPPORTED:
        raise InvalidPolicy(f"{key!r} is not supported in the rr profile", pointer,
                            _UNSUPPORTED[name])
    raise InvalidPolicy(f"unknown {where} member {key!r}", pointer, f"allowed: {allowed}")


@overload
def read_uid(keys: dict[str, tuple[str, Any]], pointer: str,
             required: Literal[True] = True) -> str: ...
@overload
def read_uid(keys: dict[str, tuple[str, Any]], pointer: str, required: bool) -> str | None: ...
def read_uid(keys: dict[str, tuple[str, Any]], pointer: str, required: bool = True) -> str | None:
    uid = keys.get("uid")
    at_id = keys.get("@id")
    if uid and at_id and uid[1] != at_id[1]:
        raise InvalidPolicy("uid and @id differ", f"{pointer}/@id", "keep only uid")
    found = uid or at_id
    if found is None:
        if required:
            raise InvalidPolicy("missing uid", pointer, 'add "uid": "urn:reelrights:license:…"')
        return None
    return _iri(found[1], f"{pointer}/{esc(found[0])}")


def _iri(value: Any, pointer: str) -> str:
    if isinstance(value, dict) and set(value) == {"@id"}:
        value = value["@id"]
    full = expand(value, terms=False) if type(value) is str else None
    if full is None or not _IRI_RE.fullmatch(full):
        raise InvalidPolicy(f"{value!r} is not an absolute IRI", pointer,
                            'write e.g. "urn:reelrights:bundle:…" or "https://…"')
    return full


def entities(value: Any, pointer: str, kind: str) -> frozenset[str]:
    """Targets (kind "Asset") or parties (kind "Party"): IRIs, objects with uid, or a list."""
    items = value if type(value) is list else [value]
    if not items:
        raise InvalidPolicy(f"an empty {kind.lower()} list", pointer, "name at least one")
    out = []
    for i, item in enumerate(items):
        p = f"{pointer}/{i}" if type(value) is list else pointer
        if type(item) is dict and set(item) != {"@id"}:
            keys = canon(item, p)
            for key, (orig, v) in keys.items():
                if key in ("uid", "@id") or (key == "@type" and _entity_type(v, kind)) or (
                        kind == "Party" and orig.startswith("vcard:")):
                    continue
                if key in ("source", "refinement", "partOf"):
                    raise InvalidPolicy(f"{kind} collections with {key} are not supported",
                                        f"{p}/{esc(orig)}", f"name the {kind.lower()} by uid")
                allowed = "uid, @type" + (", vcard:*" if kind == "Party" else "")
                raise InvalidPolicy(f"unknown {kind.lower()} member {orig!r}", f"{p}/{esc(orig)}",
                                    f"allowed: {allowed}")
            out.append(read_uid(keys, p) or "")  # required: never None
        else:
            out.append(_iri(item, p))
    return frozenset(out)


def _entity_type(value: Any, kind: str) -> bool:
    values = value if type(value) is list else [value]
    ok = {ODRL + kind, ODRL + kind + "Collection"}
    return all(type(v) is str and (expand(v) in ok or v.startswith("vcard:")) for v in values)


def read_actions(value: Any, pointer: str) -> tuple[tuple[str, ...], tuple[Constraint, ...]]:
    """Rule actions: a term, an object with rdf:value and refinement, or a list of terms."""
    items = value if type(value) is list else [value]
    if not items:
        raise InvalidPolicy("an empty action list", pointer, 'write "action": "train"')
    actions: list[str] = []
    refinements: tuple[Constraint, ...] = ()
    for i, item in enumerate(items):
        p = f"{pointer}/{i}" if type(value) is list else pointer
        iri, refs = _action(item, p, duty=False)
        if refs and len(items) > 1:
            raise InvalidPolicy("a refined action must be the rule's only action",
                                f"{p}/refinement", "split the rule: one rule per refined action")
        actions.append(iri)
        refinements = refs
    return tuple(dict.fromkeys(actions)), refinements


def _action(item: Any, pointer: str, duty: bool) -> tuple[str, tuple[Constraint, ...]]:
    refinements: tuple[Constraint, ...] = ()
    name_pointer = pointer
    if type(item) is dict and set(item) != {"@id"}:
        keys = canon(item, pointer)
        for key, (orig, _) in keys.items():
            if key not in ("rdf:value", "refinement", "@type"):
                raise InvalidPolicy(f"unknown action member {orig!r}", f"{pointer}/{esc(orig)}",
                                    "allowed: rdf:value, refinement")
        if "rdf:value" not in keys:
            raise InvalidPolicy("a refined action needs rdf:value", pointer,
                                'write {"rdf:value": {"@id": "rr:train"}, "refinement": […]}')
        orig, item = keys["rdf:value"]
        name_pointer = f"{pointer}/{esc(orig)}"
        if "refinement" in keys:
            rorig, rvalue = keys["refinement"]
            if duty:
                raise InvalidPolicy("refinements on duty actions are not supported",
                                    f"{pointer}/{esc(rorig)}", "use rr:fundShare or a party "
                                    "property on the duty")
            refinements = build_constraints(rvalue, f"{pointer}/{esc(rorig)}", "refinement")
    if type(item) is dict and set(item) == {"@id"}:
        name_pointer, item = f"{name_pointer}/@id", item["@id"]
    if type(item) is not str or not item:
        raise InvalidPolicy("an action must be a term or IRI", name_pointer,
                            'write e.g. "train" or "rr:train"')
    profile = load_profile()
    iri = expand(item)
    term = profile.actions.get(iri)
    if term is None or term.duty_only != duty:
        wanted = [t.name for t in profile.actions.values() if t.duty_only == duty]
        what = "duty action" if duty else "rule action"
        problem = (f"{item!r} is a duty action, not a rule action" if term and not duty else
                   f"{item!r} is not a {what} of the rr profile")
        raise InvalidPolicy(problem, name_pointer, f"use one of: {', '.join(wanted)}")
    return iri, refinements


READERS: dict[str, Callable[[Any, str], Any]] = {
    "target": lambda v, p: entities(v, p, "Asset"),
    "assigner": lambda v, p: entities(v, p, "Party"),
    "assignee": lambda v, p: entities(v, p, "Party"),
    "action": read_actions,
}


#: The duty members that carry a party or the fund share, by canonical name.
_DUTY_PARTIES = {"compensatedParty": ODRL + "compensatedParty",
                 "attributedParty": ODRL + "attributedParty",
                 "consentingParty": ODRL + "consentingParty", "rr:fundShare": RR + "fundShare"}


def read_duty(node: Any, pointer: str, inherited: dict[str, Any], obligation: bool = False) -> Duty:
    if type(node) is not dict:
        raise InvalidPolicy("a duty must be an object", pointer, 'write {"action": "attribute"}')
    keys = canon(node, pointer)
    allowed = ("uid", "@id", "@type", "action", "constraint", "target", "assigner", "assignee",
               *_DUTY_PARTIES)
    for key, (orig, _) in keys.items():
        if key not in allowed:
            unknown(orig, f"{pointer}/{esc(orig)}", "duty", ", ".join(allowed))
    if "@type" in keys and expand(str(keys["@type"][1])) != ODRL + "Duty":
        raise InvalidPolicy(f"@type {keys['@type'][1]!r} in a duty", f"{pointer}/@type",
                            "remove @type or correct it")
    if "action" not in keys:
        raise InvalidPolicy("the duty has no action", pointer, 'add "action": "compensate"')
    orig, value = keys["action"]
    action, _ = _action(value, f"{pointer}/{esc(orig)}", duty=True)
    term = load_profile().actions[action]
    fields: dict[str, Any] = {}
    for key, iri in _DUTY_PARTIES.items():
        if key not in keys:
            if iri in term.required_properties:
                article = "an" if term.name[0] in "aeiou" else "a"
                raise InvalidPolicy(f"{article} {term.name} duty needs {key}", pointer,
                                    "add " + ('"rr:fundShare": "2.5"' if key == "rr:fundShare"
                                              else f'"{key}": "urn:reelrights:party:…"'))
            continue
        orig, value = keys[key]
        p = f"{pointer}/{esc(orig)}"
        if iri not in term.duty_properties:
            raise InvalidPolicy(f"{key} does not apply to a {term.name} duty", p, "remove it")
        fields[key] = _fund_share(value, p) if key == "rr:fundShare" else _one(value, p, "Party")
    parties = {}
    for name in ("assigner", "assignee"):
        if name in keys:
            o, v = keys[name]
            parties[name] = frozenset({_one(v, f"{pointer}/{esc(o)}", "Party")})
        else:
            parties[name] = inherited.get(name, (frozenset(), ""))[0]
    target = None
    if "target" in keys:
        o, v = keys["target"]
        target = _one(v, f"{pointer}/{esc(o)}", "Asset")
    elif obligation and "target" in inherited:
        if len(inherited["target"][0]) != 1:
            raise InvalidPolicy("the obligation would inherit several policy-level targets",
                                pointer, 'give the obligation its own "target"')
        target = next(iter(inherited["target"][0]))
    constraints: tuple[Constraint, ...] = ()
    if "constraint" in keys:
        o, v = keys["constraint"]
        constraints = build_constraints(v, f"{pointer}/{esc(o)}", "constraint")
    return Duty(pointer=pointer, action=action, constraints=constraints,
                uid=read_uid(keys, pointer, required=False), target=target,
                assigner=parties["assigner"], assignee=parties["assignee"],
                fund_share=fields.get("rr:fundShare"),
                compensated_party=fields.get("compensatedParty"),
                attributed_party=fields.get("attributedParty"),
                consenting_party=fields.get("consentingParty"))


def _one(value: Any, pointer: str, kind: str) -> str:
    if type(value) is list:
        raise InvalidPolicy(f"a duty names one {kind.lower()} here, not a list", pointer,
                            "use one duty per party")
    return next(iter(entities(value, pointer, kind)))


def _fund_share(value: Any, pointer: str) -> Decimal:
    if isinstance(value, dict) and set(value) <= {"@value", "@type"} and "@value" in value:
        if expand(str(value.get("@type", "xsd:decimal"))) != XSD + "decimal":
            raise InvalidPolicy("rr:fundShare is an xsd:decimal", f"{pointer}/@type",
                                'write "@type": "xsd:decimal" or drop it')
        pointer, value = f"{pointer}/@value", value["@value"]
    if type(value) is not str or not _SHARE_RE.fullmatch(value):
        raise InvalidPolicy(f"rr:fundShare {value!r} is not a percentage written as a decimal "
                            "string", pointer, 'write e.g. "rr:fundShare": "2.5" for 2.5 %')
    share = Decimal(value)
    if not 0 < share <= 100:
        raise InvalidPolicy(f"rr:fundShare {value} is not in (0, 100]", pointer,
                            "give a percentage greater than 0 and at most 100")
    return share
