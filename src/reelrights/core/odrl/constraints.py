"""Constraints: validated once, compiled to closures, explained only when they fail.

Each constraint carries ``test(request) -> bool`` (the fast path: no allocation beyond the
comparison) and ``explain(request) -> list[(pointer, message)]`` (used only for a failure).
:mod:`.operands` types the right operands and defines what each operator means.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from .operands import MAX_ITEMS, XSD_TYPES, compile_atomic
from .territory import Territory
from .vocab import LOGICAL_OPERANDS, ODRL, InvalidPolicy, LeftOperandTerm, expand, load_profile

if TYPE_CHECKING:
    from .model import Request

__all__ = ["Atomic", "Constraint", "Logical", "build_constraint", "build_constraints",
           "esc"]

_ATOMIC_KEYS = ("leftOperand", "operator", "rightOperand", "dataType", "uid", "@id", "@type")
MAX_DEPTH = 8


def esc(key: str) -> str:
    """RFC 6901 escaping of one reference token."""
    return key.replace("~", "~0").replace("/", "~1")


class Atomic:
    """``leftOperand operator rightOperand``, compiled."""

    __slots__ = ("pointer", "left", "operator", "right", "right_text", "test")

    def __init__(self, pointer: str, left: LeftOperandTerm, operator: str, right: Any,
                 right_text: str, test: Callable[[Request], bool]) -> None:
        self.pointer, self.left, self.operator = pointer, left, operator
        self.right, self.right_text, self.test = right, right_text, test

    def __repr__(self) -> str:
        return f"<{self.pointer}: {self}>"

    def __str__(self) -> str:
        return f"{self.left.name} {self.operator} {self.right_text}"

    def explain(self, request: Request) -> list[tuple[str, str]]:
        if self.test(request):
            return []
        value = getattr(request, self.left.field)
        if self.left.kind == "temporal":
            if request.day is None:
                return [(self.pointer, f"{self}, request has no dateTime")]
            if isinstance(self.right, datetime) and request.instant is None:
                return [(self.pointer, f"{self}, request has only the date {request.day}; "
                         f"pass a timezone-aware datetime")]
        if value is None:
            return [(self.pointer, f"{self}, request has no {self.left.name}")]
        return [(self.pointer, f"{self}, request has {_show(value)}")]


class Logical:
    """``and`` / ``or`` / ``xone`` / ``andSequence`` over two or more constraints."""

    __slots__ = ("pointer", "operand", "children", "test")
    test: Callable[[Request], bool]

    def __init__(self, pointer: str, operand: str, children: tuple[Constraint, ...]) -> None:
        self.pointer, self.operand, self.children = pointer, operand, children
        tests = tuple(c.test for c in children)
        if operand in ("and", "andSequence"):
            def test(r: Request) -> bool:
                for t in tests:  # noqa: SIM110  (a plain loop: cheaper than all() on this hot path)
                    if not t(r):
                        return False
                return True
        elif operand == "or":
            def test(r: Request) -> bool:
                for t in tests:  # noqa: SIM110  (a plain loop: cheaper than any() on this hot path)
                    if t(r):
                        return True
                return False
        else:  # xone: exactly one
            def test(r: Request) -> bool:
                n = 0
                for t in tests:
                    if t(r):
                        n += 1
                        if n > 1:
                            return False
                return n == 1
        self.test = test

    def __repr__(self) -> str:
        return f"<{self.pointer}: {self}>"

    def __str__(self) -> str:
        return f"{self.operand}(" + ", ".join(str(c) for c in self.children) + ")"

    def explain(self, request: Request) -> list[tuple[str, str]]:
        if self.test(request):
            return []
        n = len(self.children)
        if self.operand == "and":
            return [line for c in self.children for line in c.explain(request)]
        if self.operand == "andSequence":
            first = next(c for c in self.children if not c.test(request))
            return [(p, f"{m} (andSequence stops at the first unsatisfied constraint)")
                    for p, m in first.explain(request)]
        held = [c.pointer for c in self.children if c.test(request)]
        if held:  # xone with several satisfied
            return [(self.pointer, f"xone: {len(held)} of {n} constraints are satisfied "
                     f"({', '.join(held)}); exactly one is required")]
        head = (f"{self.operand}: none of the {n} constraints is satisfied"
                + ("; exactly one is required" if self.operand == "xone" else ""))
        return [(self.pointer, head)] + [line for c in self.children
                                         for line in c.explain(request)]


Constraint = Atomic | Logical


def _show(value: Any) -> str:
    if isinstance(value, frozenset):
        return ", ".join(sorted(value))
    if isinstance(value, (date, Territory)):
        return str(value)
    return repr(value) if isinstance(value, str) else str(value)


def build_constraints(value: Any, pointer: str, what: str) -> tuple[Constraint, ...]:
    """A ``constraint`` or ``refinement`` member: one constraint object or an array of them."""
    if isinstance(value, dict):
        return (build_constraint(value, pointer),)
    if type(value) is not list:
        raise InvalidPolicy(f"{what} must be an array of constraints", pointer,
                            'write "' + what + '": [{"leftOperand": …, "operator": …, '
                            '"rightOperand": …}]')
    if not 1 <= len(value) <= MAX_ITEMS:
        raise InvalidPolicy(f"{what} must hold 1 to {MAX_ITEMS} constraints", pointer,
                            f"remove the empty {what} array")
    return tuple(build_constraint(c, f"{pointer}/{i}") for i, c in enumerate(value))


def build_constraint(node: Any, pointer: str, depth: int = 0) -> Constraint:
    if type(node) is not dict:
        raise InvalidPolicy("a constraint must be an object", pointer,
                            "inline the constraint; constraints referenced by IRI are not "
                            "supported")
    logical = [k for k in node if expand(k) in {ODRL + o for o in LOGICAL_OPERANDS}]
    if logical:
        return _logical(node, pointer, logical, depth)
    for key in node:
        if key not in _ATOMIC_KEYS:
            problem = (f"{key!r} is not supported in the rr profile"
                       if key in ("rightOperandReference", "unit", "status")
                       else f"unknown constraint member {key!r}")
            fixes = {"rightOperandReference": "inline the value as rightOperand",
                     "unit": "no rr left operand takes a unit; remove it",
                     "status": "remove it; the service supplies current values"}
            raise InvalidPolicy(problem, f"{pointer}/{esc(key)}",
                                fixes.get(key, "allowed: " + ", ".join(_ATOMIC_KEYS[:4])))
    _check_type(node, pointer, ("Constraint",))
    for key in ("leftOperand", "operator", "rightOperand"):
        if key not in node:
            raise InvalidPolicy(f"constraint has no {key}", pointer,
                                "an atomic constraint needs leftOperand, operator and "
                                "rightOperand; a logical one needs and, or, xone or andSequence")
    profile = load_profile()
    left_iri = _iri_member(node["leftOperand"], f"{pointer}/leftOperand")
    left = profile.left_operands.get(left_iri)
    if left is None:
        known = ", ".join(sorted(t.name for t in profile.left_operands.values()))
        raise InvalidPolicy(f"unknown left operand {node['leftOperand']!r}",
                            f"{pointer}/leftOperand", f"the rr profile defines: {known}")
    op_iri = _iri_member(node["operator"], f"{pointer}/operator")
    name = op_iri[len(ODRL):] if op_iri.startswith(ODRL) else op_iri
    if name not in left.operators:
        known = ", ".join(sorted(left.operators))
        problem = (f"operator {name!r} is not defined for {left.name}" if op_iri.startswith(ODRL)
                   and name in _KNOWN_OPS else f"unknown operator {node['operator']!r}")
        raise InvalidPolicy(problem, f"{pointer}/operator", f"use one of: {known}")
    data_type = None
    if "dataType" in node:
        dt = node["dataType"]
        data_type = expand(dt) if type(dt) is str else None
        if data_type not in XSD_TYPES:
            raise InvalidPolicy(f"unsupported dataType {dt!r}", f"{pointer}/dataType",
                                "use xsd:date, xsd:dateTime, xsd:decimal, xsd:integer, "
                                "xsd:string or xsd:anyURI")
    right, text, test = compile_atomic(left, name, node["rightOperand"],
                                       f"{pointer}/rightOperand", data_type)
    return Atomic(pointer, left, name, right, text, test)


_KNOWN_OPS = frozenset(("eq", "neq", "lt", "lteq", "gt", "gteq", "isA", "hasPart", "isPartOf",
                        "isAllOf", "isAnyOf", "isNoneOf"))


def _check_type(node: dict[str, Any], pointer: str, allowed: tuple[str, ...]) -> None:
    if "@type" in node and (type(node["@type"]) is not str
                            or expand(node["@type"]) not in {ODRL + a for a in allowed}):
        raise InvalidPolicy(f"@type {node['@type']!r} is not {' or '.join(allowed)}",
                            f"{pointer}/@type", "remove @type or correct it")


def _iri_member(value: Any, pointer: str) -> str:
    if isinstance(value, dict) and set(value) == {"@id"}:
        value = value["@id"]
    if type(value) is not str or not value:
        raise InvalidPolicy("must be a term or IRI string", pointer, 'write e.g. "spatial"')
    return expand(value)


def _logical(node: dict[str, Any], pointer: str, keys: list[str], depth: int) -> Logical:
    if len(keys) != 1:
        raise InvalidPolicy("a logical constraint has exactly one operand",
                            f"{pointer}/{esc(keys[1])}", "nest the logical constraints instead")
    key = keys[0]
    for other in node:
        if other not in (key, "@type", "uid", "@id"):
            raise InvalidPolicy(f"{other!r} does not belong in a logical constraint",
                                f"{pointer}/{esc(other)}",
                                f"move it into one of the constraints of {key}")
    _check_type(node, pointer, ("LogicalConstraint",))
    if depth >= MAX_DEPTH:
        raise InvalidPolicy(f"logical constraints nest deeper than {MAX_DEPTH}", pointer,
                            "flatten the expression")
    operand = expand(key)[len(ODRL):]
    here = f"{pointer}/{esc(key)}"
    items = node[key]
    if isinstance(items, dict) and set(items) == {"@list"}:
        items, here = items["@list"], f"{here}/@list"
    if type(items) is not list or not 2 <= len(items) <= MAX_ITEMS:
        raise InvalidPolicy(f"{operand} must list 2 to {MAX_ITEMS} constraints", here,
                            f'write "{key}": [{{…}}, {{…}}]')
    seen: dict[str, int] = {}
    children = []
    for i, child in enumerate(items):
        canon = json.dumps(child, sort_keys=True, separators=(",", ":"))
        if canon in seen:
            raise InvalidPolicy(f"repeats constraint {seen[canon]} of the same {operand}",
                                f"{here}/{i}", "ODRL requires the operands to be unique; "
                                "remove the duplicate")
        seen[canon] = i
        children.append(build_constraint(child, f"{here}/{i}", depth + 1))
    return Logical(pointer, operand, tuple(children))
