"""RFC 8785 JSON Canonicalization Scheme (JCS).

``rfc8785`` (Trail of Bits) is the reference here. It is exact but pure Python (about 70 µs for a
small statement), and the log canonicalizes every statement it accepts. For the common case we
take a fast path that gives the same bytes. That case is: no floats anywhere, every integer in
the IEEE-754 safe range, and every object key ASCII. ``json.dumps`` with sorted keys, compact
separators and ``ensure_ascii=False`` then matches JCS byte for byte:

* JCS sorts keys by UTF-16 code units. For ASCII keys that is the same as code points.
* JCS escapes only ``"``, ``\\`` and control characters, the controls as ``\\b \\f \\n \\r \\t``
  or ``\\u00xx`` in lowercase hex. CPython's encoder does exactly that.
* Integers print in decimal, as ECMAScript prints them inside the safe range.

Anything else goes to ``rfc8785``. ``tests/core/test_canonical.py`` checks that the two paths agree
on generated documents.

:func:`parse_canonical` runs for every statement the log accepts, so it has a fast path of its
own: the C scanner with hooks that bail out on any float or unsafe integer, and the C encoder
built once. It accepts exactly what the general path accepts; anything unusual (and every
error) goes through the general path, which words the error.

Depth is bounded: a document nested more than :data:`MAX_JSON_DEPTH` levels is refused with one
line (CPython's parsers recurse once per level, so 5,000 levels would otherwise surface as a
``RecursionError`` traceback). :func:`load_json` applies the same bound to any JSON the command
line reads (statement bodies, policies, manifests).
"""

from __future__ import annotations

import json
import json.encoder
import json.scanner
from collections.abc import Callable, Iterable
from typing import Any

import rfc8785

try:  # the C parser and encoder of the fast path; the stdlib's C scanner without it
    import orjson
except ImportError:  # pragma: no cover - a dependency, but the stdlib path stays correct
    orjson = None  # type: ignore[assignment]

from ..errors import BadInput, InvalidStatement
from ._accel import native

__all__ = ["MAX_JSON_DEPTH", "MAX_SAFE_INTEGER", "canonical_bytes", "json_depth", "load_json",
           "parse_canonical"]

MAX_SAFE_INTEGER = 2**53 - 1

#: The deepest nesting of arrays and objects accepted anywhere (a statement is about 5 deep).
MAX_JSON_DEPTH = 64


def json_depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar is 0, ``[]`` is 1); no recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if type(v) is dict:
            children: Any = v.values()
        elif type(v) is list or type(v) is tuple:
            children = v
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((c, depth + 1) for c in children if type(c) in (dict, list, tuple))
    return deepest


def _too_deep(what: str) -> str:
    return (f"{what} nests arrays or objects more than {MAX_JSON_DEPTH} levels deep; "
            f"flatten it to at most {MAX_JSON_DEPTH} levels")


def _shallow_enough(data: bytes | str, value: Any) -> bool:
    # Fewer brackets than the limit cannot nest past it: no walk for ordinary documents.
    if isinstance(data, str):
        brackets = data.count("[") + data.count("{")
    else:
        raw = data if isinstance(data, (bytes, bytearray)) else bytes(data)
        brackets = raw.count(b"[") + raw.count(b"{")
    return brackets <= MAX_JSON_DEPTH or json_depth(value) <= MAX_JSON_DEPTH


def load_json(data: bytes | str, *, what: str) -> Any:
    """Parse JSON text (any form) read from ``what`` (a file name), nesting bounded.

    Raises :class:`~reelrights.errors.BadInput` naming ``what`` for invalid UTF-8, invalid JSON
    or nesting deeper than :data:`MAX_JSON_DEPTH`.
    """
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        value = json.loads(text)
    except UnicodeDecodeError:
        raise BadInput(f"{what}: not valid UTF-8; save it as UTF-8 JSON") from None
    except RecursionError:
        raise BadInput(f"{what}: {_too_deep('the JSON')}") from None
    except ValueError as exc:
        raise BadInput(f"{what}: not valid JSON ({exc}); fix the JSON text") from None
    if not _shallow_enough(text, value):
        raise BadInput(f"{what}: {_too_deep('the JSON')}")
    return value

_fast_encoder = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


def _fast_path_ok(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is str or v is None or t is bool:
            continue
        if t is int:
            if -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER:
                continue
            return False
        if t is dict:
            for k, item in v.items():
                if type(k) is not str or not k.isascii():
                    return False
                stack.append(item)
            continue
        if t is list or t is tuple:
            stack.extend(v)
            continue
        return False  # floats, subclasses, anything exotic: let rfc8785 decide
    return True


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value."""
    try:
        if _fast_path_ok(value):
            return _fast_encoder.encode(value).encode("utf-8")
        return rfc8785.dumps(value)
    except RecursionError:
        raise InvalidStatement(_too_deep("the value")) from None
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InvalidStatement(f"cannot be canonicalized as RFC 8785 JSON ({exc}); use strings, "
                               "safe integers, booleans, null, arrays and objects") from None


class _NotFast(Exception):
    """The document holds a float, an unsafe integer or NaN: the general path decides."""


def _safe_int(text: str) -> int:
    value = int(text)
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return value
    raise _NotFast


def _not_fast(_text: str) -> Any:
    raise _NotFast


# CPython's C scanner and encoder (None on interpreters without them; typeshed omits them).
_c_make_scanner = getattr(json.scanner, "c_make_scanner", None)
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_scan: Callable[[str, int], tuple[Any, int]] | None = None
_encode: Callable[[Any, int], Iterable[str]] | None = None
if _c_make_scanner is not None and _c_make_encoder is not None:
    _scan = _c_make_scanner(json.JSONDecoder(
        parse_float=_not_fast, parse_int=_safe_int, parse_constant=_not_fast))
    # markers=None: parsed JSON has no cycles. Same options as _fast_encoder.
    _encode = _c_make_encoder(None, None, json.encoder.encode_basestring, None,
                              ":", ",", True, False, False)


_MISS = object()


def _no_floats(value: Any) -> bool:
    """Whether no float is anywhere in ``value`` (parsed JSON)."""
    stack = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        v = pop()
        t = type(v)
        if t is dict:
            push(v.values())
        elif t is list:
            push(v)
        elif t is float:
            return False
    return True


def _parse_orjson(data: bytes, floats_in: Callable[[Any], Any] | None = None) -> Any:
    """:func:`_parse_fast` with orjson (about 4x the stdlib's C scanner and encoder): orjson's
    compact, key-sorted, 53-bit-integer output is JCS for ASCII keys and no floats, so bytes that
    equal it are canonical. Documents with floats or non-ASCII keys go to the general path."""
    try:
        value = orjson.loads(data)
        out = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER)
    except (TypeError, ValueError, RecursionError):  # JSONDecodeError, JSONEncodeError
        return _MISS
    if out != data:
        return _MISS
    if not data.isascii():
        return value if _fast_path_ok(value) else _MISS
    if native is not None and not native.may_hold_float(data):  # no number with . or e
        return value
    return value if _no_floats(value if floats_in is None else floats_in(value)) else _MISS


def _parse_fast(data: bytes, floats_in: Callable[[Any], Any] | None = None) -> Any:
    """The parsed value when ``data`` is canonical and in the fast path's domain, else _MISS."""
    if orjson is not None:
        return _parse_orjson(data, floats_in)
    if _scan is None or _encode is None:
        return _MISS
    try:
        text = data.decode("utf-8")
        value, end = _scan(text, 0)
    except (_NotFast, ValueError, StopIteration, RecursionError):
        return _MISS
    if end != len(text) or (not data.isascii() and not _fast_path_ok(value)):
        return _MISS  # trailing bytes, or a non-ASCII key (JCS sorts those by UTF-16 units)
    return value if "".join(_encode(value, 0)) == text else _MISS


def parse_canonical(data: bytes, *, what: str = "document",
                    floats_in: Callable[[Any], Any] | None = None) -> Any:
    """Parse JSON bytes and insist they are already in RFC 8785 form.

    Rejects invalid UTF-8, invalid JSON, and anything whose re-serialization differs from the
    input: whitespace, key order, escapes, number forms, and duplicate keys (the parsed object
    keeps one of them, so it re-serializes shorter).

    ``floats_in(value)``, when given, is the part of the parsed value that may hold a float: the
    caller refuses a float anywhere else by its own type checks, so the fast path looks for
    floats (which it leaves to the general path) only there.
    """
    if (_scan is not None or orjson is not None) and type(data) is bytes:
        value = _parse_fast(data, floats_in)
        if value is not _MISS:
            if (data.count(b"[") + data.count(b"{") > MAX_JSON_DEPTH
                    and json_depth(value) > MAX_JSON_DEPTH):  # _shallow_enough, for bytes
                raise InvalidStatement(_too_deep(what))
            return value
    try:
        text = data.decode("utf-8")
        value = json.loads(text)
    except UnicodeDecodeError:
        raise InvalidStatement(f"{what} is not valid UTF-8; re-export it as UTF-8 JSON") from None
    except RecursionError:
        raise InvalidStatement(_too_deep(what)) from None
    except ValueError as exc:
        raise InvalidStatement(f"{what} is not valid JSON ({exc}); fix the JSON text") from None
    if not _shallow_enough(data, value):
        raise InvalidStatement(_too_deep(what))
    try:
        canonical = canonical_bytes(value)
    except InvalidStatement as exc:  # NaN, Infinity, integers beyond 2**53: name the document
        raise InvalidStatement(f"{what} {exc.message}") from None
    if canonical != data:
        raise InvalidStatement(
            f"{what} is not in RFC 8785 canonical form; re-serialize it with a JCS library"
        )
    return value

