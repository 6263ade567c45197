"""The compiled fast paths (``_native.c``), when built and not turned off.

``reelrights.core._native`` does the byte work of verifying many proof files in C: reading a
proof file as :meth:`~reelrights.verify.tlog_proof.TlogProof.format` writes it, and walking an
inclusion proof with remembered nodes. Each of its functions is the fast path of a pure-Python
one that stays the reference and answers the same (``tests/verify/test_native.py`` compares them
on generated and mutated inputs). Where it was not built (no C compiler or OpenSSL headers at
install time), or with ``REELRIGHTS_PURE_PYTHON=1`` in the environment, the pure-Python paths run.
"""

from __future__ import annotations

import os
from types import ModuleType

__all__ = ["native", "native_enabled"]


def _load() -> ModuleType | None:
    if os.environ.get("REELRIGHTS_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from . import _native  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _native  # type: ignore[no-any-return]


native = _load()


def native_enabled() -> bool:
    """Whether the compiled fast paths are in use in this process."""
    return native is not None
