"""Identifiers for registry objects and external catalogue ids.

Registry ids are a kind prefix and 80 bits in lowercase base32 letters and digits, for example
``pty_k3vq7xw2m4a6c5de``. The signer picks the id and puts it in the body, so the statement
is complete before it reaches the registry. Any 16 characters of ``[a-z2-7]`` are accepted;
:func:`new_id` makes them **time-ordered**: the 80 bits are a 48-bit Unix time in milliseconds
followed by 32 random bits (monotonic within a process, as ULIDs are), written with the base32
symbols in ASCII order (``234567abc…z``), so ids sort as they were made. The registry's primary
keys then grow at their right edge instead of taking a random page per insert, which is what
keeps a batch of thousands of new works cheap to write (docs/log.md, "Write path"). External ids
are ``scheme:value``. EIDR ids have their ISO 7064 Mod 37,36 check character verified, which
catches a mistyped id.
"""

from __future__ import annotations

import os
import secrets
import threading
import time

__all__ = ["ID_PATTERNS", "check_external_id", "eidr_check_char", "new_id"]

_B32 = "[a-z2-7]{16}"
_KINDS = {"party": "pty", "work": "wrk", "bundle": "bnd", "license": "lic",
          "agreement": "agr", "consent": "cns", "run": "run", "challenge": "chl",
          "certificate": "crt", "output": "out", "production": "prd",
          "statement": "stm", "dispute": "dsp", "strike": "stk",
          "claim": "clm", "consent_request": "cnq"}
ID_PATTERNS = {kind: rf"{prefix}_{_B32}" for kind, prefix in _KINDS.items()}
_PREFIX = _KINDS


#: The base32 symbols of RFC 4648 (lowercase) in ASCII order: digit value v is _SORTED32[v].
_SORTED32 = "234567abcdefghijklmnopqrstuvwxyz"
_id_lock = threading.Lock()
_id_state = [0, 0]  # the last (milliseconds, random part) this process issued


def ordered_id(kind: str, ms: int, low: int) -> str:
    """The id of ``kind`` for time ``ms`` (Unix milliseconds, < 2**48) and 32 bits ``low``."""
    if not (0 <= ms < 1 << 48 and 0 <= low < 1 << 32):
        raise ValueError(f"ordered_id: ms={ms} and low={low} must fit 48 and 32 bits")
    v = ms << 32 | low
    return f"{_PREFIX[kind]}_" + "".join(_SORTED32[(v >> s) & 31] for s in range(75, -1, -5))


def new_id(kind: str) -> str:
    """A fresh, time-ordered id for a registry object of ``kind`` ("party", "work", ...).

    Within one millisecond the random part counts up from a random start, so a process never
    issues the same id twice and its ids sort in issue order; another process starts from its
    own random point (a clash would need the same millisecond and the same 32 bits, and the
    registry refuses a duplicate id all the same)."""
    ms = time.time_ns() // 1_000_000
    with _id_lock:
        last_ms, last_low = _id_state
        if ms <= last_ms:  # the same millisecond, or the clock stepped back: stay monotonic
            ms, low = last_ms, last_low + 1
            if low >> 32:
                ms, low = ms + 1, secrets.randbits(31)
        else:
            low = secrets.randbits(31)  # the top bit spare: room to count up in this ms
        _id_state[:] = [ms, low]
    return ordered_id(kind, ms, low)


def _reset_after_fork() -> None:
    _id_state[:] = [0, 0]  # a child must not continue its parent's sequence


os.register_at_fork(after_in_child=_reset_after_fork)


def eidr_check_char(payload: str) -> str:
    """ISO 7064 Mod 37,36 check character over the 20 hex digits of an EIDR suffix."""
    from .identifiers import iso7064_mod37_36

    return iso7064_mod37_36(payload)


def check_external_id(text: str, *, party: bool = False) -> str | None:
    """None if ``text`` is a well-formed external id of a work (``party``: of a party), its
    check character verified (:mod:`reelrights.core.identifiers`), else a one-line reason and
    fix."""
    from .identifiers import PARTY_SCHEMES, WORK_SCHEMES, BadIdentifier, parse_identifier

    try:
        parse_identifier(text, PARTY_SCHEMES if party else WORK_SCHEMES)
    except BadIdentifier as exc:
        return str(exc)
    return None
