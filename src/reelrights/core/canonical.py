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
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from ..errors import InvalidStatement

__all__ = ["canonical_bytes", "parse_canonical", "MAX_SAFE_INTEGER"]

MAX_SAFE_INTEGER = 2**53 - 1

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
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InvalidStatement(f"cannot be canonicalized as RFC 8785 JSON ({exc}); use strings, "
                               "safe integers, booleans, null, arrays and objects") from None


def parse_canonical(data: bytes, *, what: str = "document") -> Any:
    """Parse JSON bytes and insist they are already in RFC 8785 form.

    Rejects invalid UTF-8, invalid JSON, and anything whose re-serialization differs from the
    input: whitespace, key order, escapes, number forms, and duplicate keys (the parsed object
    keeps one of them, so it re-serializes shorter).
    """
    try:
        text = data.decode("utf-8")
        value = json.loads(text)
    except UnicodeDecodeError:
        raise InvalidStatement(f"{what} is not valid UTF-8; re-export it as UTF-8 JSON") from None
    except ValueError as exc:
        raise InvalidStatement(f"{what} is not valid JSON ({exc}); fix the JSON text") from None
    if canonical_bytes(value) != data:
        raise InvalidStatement(
            f"{what} is not in RFC 8785 canonical form; re-serialize it with a JCS library"
        )
    return value

