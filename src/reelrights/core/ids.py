"""Identifiers for registry objects and external catalogue ids.

Registry ids are a kind prefix and 80 random bits in lowercase base32, for example
``pty_k3vq7xw2m4a6c5de``. The signer picks the id and puts it in the body, so the statement
is complete before it reaches the registry. External ids are ``scheme:value``. EIDR ids have
their ISO 7064 Mod 37,36 check character verified, which catches a mistyped id.
"""

from __future__ import annotations

import base64
import re
import secrets

__all__ = ["ID_PATTERNS", "check_external_id", "eidr_check_char", "new_id"]

_B32 = "[a-z2-7]{16}"
_KINDS = {"party": "pty", "work": "wrk", "bundle": "bnd", "license": "lic",
          "agreement": "agr", "consent": "cns", "run": "run", "challenge": "chl",
          "certificate": "crt", "output": "out", "production": "prd"}
ID_PATTERNS = {kind: rf"{prefix}_{_B32}" for kind, prefix in _KINDS.items()}
_PREFIX = _KINDS


def new_id(kind: str) -> str:
    """A fresh random id for a registry object of ``kind`` ("party", "work", ...)."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()
    return f"{_PREFIX[kind]}_{raw}"


_EIDR_RE = re.compile(r"10\.5240/([0-9A-F]{4}-){5}[0-9A-Z]")  # used with fullmatch
_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def eidr_check_char(payload: str) -> str:
    """ISO 7064 Mod 37,36 check character over the 20 hex digits of an EIDR suffix."""
    m = 36
    p = m
    for ch in payload:
        s = (p % (m + 1)) + _CHARSET.index(ch)
        p = ((s % m) or m) * 2
    return _CHARSET[(m + 1 - p % (m + 1)) % m]


# Matched with fullmatch and ASCII digits: ``$`` would let a trailing newline through.
_OTHER_SCHEMES = {
    "imdb": re.compile(r"tt[0-9]{7,10}"),
    "isan": re.compile(r"[0-9A-F]{4}(-[0-9A-F]{4}){3}(-[0-9A-Z])?(-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-Z])?"),
    "isrc": re.compile(r"[A-Z]{2}-?[A-Z0-9]{3}-?[0-9]{2}-?[0-9]{5}"),
    "iswc": re.compile(r"T-?[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}-?[0-9]"),
}


def check_external_id(text: str) -> str | None:
    """None if ``text`` is a well-formed external id, else a one-line reason and fix."""
    scheme, sep, value = text.partition(":")
    if not sep:
        return f"{text!r} has no scheme; write it as eidr:10.5240/..., imdb:tt..., isan:, isrc: or iswc:"
    if scheme == "eidr":
        if not _EIDR_RE.fullmatch(value):
            return f"{text!r} is not an EIDR id like eidr:10.5240/7791-8534-2C23-9030-8610-5"
        digits = value[len("10.5240/"):].replace("-", "")
        if eidr_check_char(digits[:20]) != digits[20]:
            return f"{text!r} fails the EIDR check character; copy the id again from the EIDR registry"
        return None
    pattern = _OTHER_SCHEMES.get(scheme)
    if pattern is None:
        return f"unknown id scheme {scheme!r}; use eidr, imdb, isan, isrc or iswc"
    if not pattern.fullmatch(value):
        return f"{text!r} is not a well-formed {scheme} id"
    return None
