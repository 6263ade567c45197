"""Right operands: typing them by their left operand, and compiling each comparison.

Operator semantics per value type (set relations; ``V`` is the request's value, ``R`` the
right operand):

=========  ==========================  ===============================  ====================
operator   temporal / numeric           territory (country sets)         term (string sets)
=========  ==========================  ===============================  ====================
eq / neq   V = R / V != R              same code / different code       V = {R} / R not in V
lt .. gteq ordering                    refused                          refused
isPartOf   refused                     V within R                       V subset of R
hasPart    refused                     V contains R                     V superset of R
isA        refused                     V within region R                refused
isAnyOf    refused                     V within one of R                V subset of R
isAllOf    refused                     V within every one of R          V superset of R
isNoneOf   refused                     V disjoint from every one of R   V disjoint from R
=========  ==========================  ===============================  ====================
"""

from __future__ import annotations

import json
import operator as op
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from .territory import Territory, parse_territory
from .vocab import XSD, InvalidPolicy, LeftOperandTerm, expand

if TYPE_CHECKING:
    from .model import Request

__all__ = ["MAX_ITEMS", "XSD_TYPES", "compile_atomic"]

_CMP = {"eq": op.eq, "neq": op.ne, "lt": op.lt, "lteq": op.le, "gt": op.gt, "gteq": op.ge}
_SET_OPS = frozenset({"isAnyOf", "isAllOf", "isNoneOf"})
# Used with fullmatch: "$" with re.match would let a trailing newline through.
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DATETIME_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})", re.ASCII)
_DECIMAL_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)", re.ASCII)
XSD_TYPES = frozenset(XSD + t for t in ("date", "dateTime", "decimal", "integer", "string",
                                        "anyURI"))
MAX_ITEMS = 1000


def _items(value: Any, pointer: str, op_name: str) -> tuple[list[tuple[Any, str]], bool]:
    """[(item, pointer)] and whether the right operand was a list."""
    if isinstance(value, dict) and set(value) in ({"@list"}, {"@set"}):
        (key, value), = value.items()
        pointer = f"{pointer}/{key}"
    if type(value) is list:
        if not 1 <= len(value) <= MAX_ITEMS:
            raise InvalidPolicy(f"the list must hold 1 to {MAX_ITEMS} values", pointer,
                                "give at least one value")
        return [(v, f"{pointer}/{i}") for i, v in enumerate(value)], True
    if op_name in _SET_OPS:
        raise InvalidPolicy(f"{op_name} takes a list of values", pointer,
                            f'write "rightOperand": [{json.dumps(value)}]')
    return [(value, pointer)], False


def _literal(item: Any, pointer: str, data_type: str | None) -> tuple[str, str | None, bool]:
    """(lexical form, datatype IRI or None, is-an-@id)."""
    if isinstance(item, dict):
        if set(item) == {"@id"} and type(item["@id"]) is str and item["@id"]:
            return item["@id"], None, True
        if "@value" in item and set(item) <= {"@value", "@type"}:
            v, t = item["@value"], item.get("@type")
            if t is not None and (type(t) is not str or expand(t) not in XSD_TYPES):
                raise InvalidPolicy(f"unsupported literal type {t!r}", f"{pointer}/@type",
                                    "use xsd:date, xsd:dateTime, xsd:decimal, xsd:integer, "
                                    "xsd:string or xsd:anyURI")
            t = None if t is None else expand(t)
            if data_type and t and t != data_type:
                raise InvalidPolicy(f"@type {item['@type']!r} contradicts the constraint's "
                                    "dataType", f"{pointer}/@type", "make them agree")
            lexical, _, _ = _literal(v, f"{pointer}/@value", None)
            return lexical, t or data_type, False
        raise InvalidPolicy("a right operand object must be {\"@value\": …, \"@type\": …} or "
                            "{\"@id\": …}", pointer, "use one of those two forms")
    if type(item) is str and item:
        return item, data_type, False
    if type(item) is int:
        return str(item), data_type or XSD + "integer", False
    if type(item) is float:
        raise InvalidPolicy("JSON floating-point numbers are not exact", pointer,
                            f'write the number as a decimal string, e.g. "{item}"')
    raise InvalidPolicy(f"{json.dumps(item)} is not a valid right operand value", pointer,
                        "give a string, an integer, {\"@value\": …} or {\"@id\": …}")


def compile_atomic(left: LeftOperandTerm, op_name: str, value: Any, pointer: str,
                   data_type: str | None) -> tuple[Any, str, Callable[[Request], bool]]:
    """Type-check the right operand ``value`` (at ``pointer``) and compile the comparison.

    Returns (the typed right operand, its text for messages, ``test(request) -> bool``).
    """
    items, is_list = _items(value, pointer, op_name)
    kind = left.kind
    if is_list and not (op_name in _SET_OPS or (kind == "term" and op_name in
                                                ("isPartOf", "hasPart"))):
        raise InvalidPolicy(f"{op_name} on {left.name} takes a single value, not a list",
                            pointer, "give one value, or use isAnyOf / isAllOf / isNoneOf")
    parsed, lexicals = [], []
    for item, ipointer in items:
        lexical, dtype, is_id = _literal(item, ipointer, data_type)
        parsed.append(_convert(kind, op_name, lexical, dtype, is_id, ipointer, left))
        lexicals.append(lexical)
    text = "[" + ", ".join(lexicals) + "]" if is_list else lexicals[0]
    getter = op.attrgetter(left.field)
    test: Callable[[Request], bool]
    if kind == "temporal":
        right, cmp = parsed[0], _CMP[op_name]
        if isinstance(right, datetime):
            def test(r: Request) -> bool:
                t = r.instant
                return t is not None and cmp(t, right)
        else:
            def test(r: Request) -> bool:
                d = r.day
                return d is not None and cmp(d, right)
    elif kind == "numeric":
        right, cmp = parsed[0], _CMP[op_name]

        def test(r: Request) -> bool:
            v = r.count
            return v is not None and cmp(v, right)
    elif kind == "territory":
        test = _territory_test(op_name, parsed)
    else:
        test = _term_test(op_name, frozenset(parsed), getter)
    return (parsed if is_list else parsed[0]), text, test


def _xsd(iri: str | None) -> str:
    return f"xsd:{iri[len(XSD):]}" if iri and iri.startswith(XSD) else str(iri)


def _convert(kind: str, op_name: str, lexical: str, dtype: str | None, is_id: bool,
             pointer: str, left: LeftOperandTerm) -> Any:
    if kind == "temporal":
        if is_id or dtype not in (None, XSD + "date", XSD + "dateTime"):
            raise InvalidPolicy(f"{left.name} needs an xsd:date or xsd:dateTime, not "
                                f"{'an IRI' if is_id else _xsd(dtype)}", pointer,
                                'write {"@value": "2027-12-31", "@type": "xsd:date"}')
        if _DATE_RE.fullmatch(lexical) and dtype != XSD + "dateTime":
            try:
                return date.fromisoformat(lexical)
            except ValueError:
                pass
        elif _DATETIME_RE.fullmatch(lexical) and dtype != XSD + "date":
            try:
                return datetime.fromisoformat(lexical.replace("Z", "+00:00"))
            except ValueError:
                pass
        raise InvalidPolicy(f"{lexical!r} is not an xsd:date (YYYY-MM-DD) or an xsd:dateTime "
                            "with a time zone", pointer,
                            'write e.g. "2027-12-31" or "2027-12-31T23:59:59Z"')
    if kind == "numeric":
        if is_id or dtype not in (None, XSD + "decimal", XSD + "integer"):
            raise InvalidPolicy(f"{left.name} needs a number", pointer,
                                'write e.g. 3 or {"@value": "3", "@type": "xsd:integer"}')
        integer = dtype == XSD + "integer"
        if _DECIMAL_RE.fullmatch(lexical) and (not integer or lexical.lstrip("+-").isdigit()):
            try:
                return Decimal(lexical)
            except InvalidOperation:  # pragma: no cover - the regex admits only valid forms
                pass
        raise InvalidPolicy(f"{lexical!r} is not an xsd:{'integer' if integer else 'decimal'}",
                            pointer, 'write digits, e.g. "3" or "2.5"')
    if dtype not in (None, XSD + "string", XSD + "anyURI"):
        raise InvalidPolicy(f"{left.name} compares IRIs or strings, not {_xsd(dtype)}", pointer,
                            "remove the @type or use xsd:anyURI")
    if not lexical or lexical != lexical.strip():
        raise InvalidPolicy(f"{lexical!r} has leading or trailing white space", pointer,
                            "remove the white space")
    if kind == "territory":
        try:
            territory = parse_territory(lexical)
        except ValueError as exc:
            raise InvalidPolicy(str(exc), pointer, "use an ISO 3166-1 code or EU, EEA, WORLD") \
                from None
        if op_name == "isA" and not territory.is_region:
            raise InvalidPolicy(f"isA needs a region (a class of territories), and "
                                f"{lexical!r} is a country", pointer,
                                "use eq for one country, or a region: EU, EEA, WORLD")
        return territory
    return expand(lexical, terms=False)


def _territory_test(op_name: str, rights: list[Territory]) -> Callable[[Request], bool]:
    right = rights[0]
    code, members = right.code, right.members
    many = tuple(t.members for t in rights)
    if op_name == "eq":
        return lambda r: r.spatial is not None and r.spatial.code == code
    if op_name == "neq":
        return lambda r: r.spatial is not None and r.spatial.code != code
    if op_name in ("isPartOf", "isA"):
        return lambda r: r.spatial is not None and r.spatial.members <= members
    if op_name == "hasPart":
        return lambda r: r.spatial is not None and members <= r.spatial.members
    if op_name == "isAnyOf":
        return lambda r: r.spatial is not None and any(r.spatial.members <= m for m in many)
    if op_name == "isAllOf":
        return lambda r: r.spatial is not None and all(r.spatial.members <= m for m in many)
    return lambda r: r.spatial is not None and all(r.spatial.members.isdisjoint(m) for m in many)


def _term_test(op_name: str, rights: frozenset[str],
               get: Callable[[Request], frozenset[str] | None]) -> Callable[[Request], bool]:
    one = next(iter(rights))
    if op_name == "eq":
        def test(r: Request) -> bool:
            v = get(r)
            return v is not None and v == rights
    elif op_name == "neq":
        def test(r: Request) -> bool:
            v = get(r)
            return v is not None and one not in v
    elif op_name in ("isPartOf", "isAnyOf"):
        def test(r: Request) -> bool:
            v = get(r)
            return v is not None and v <= rights
    elif op_name in ("hasPart", "isAllOf"):
        def test(r: Request) -> bool:
            v = get(r)
            return v is not None and rights <= v
    else:  # isNoneOf
        def test(r: Request) -> bool:
            v = get(r)
            return v is not None and v.isdisjoint(rights)
    return test
