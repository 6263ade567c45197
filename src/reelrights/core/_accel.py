"""The compiled fast paths (``_native.c``), when built and not turned off.

``reelrights.core._native`` does the byte work of verifying many proof files in C: reading a
proof file as :meth:`~reelrights.verify.tlog_proof.TlogProof.format` writes it, walking an
inclusion proof with remembered nodes, the leaf hash, looking for floats in canonical JSON, and
building frozen dataclasses (:func:`fast_constructor`). Each is the fast path of pure-Python
code that stays the reference and answers the same (``tests/test_verify_native.py`` compares
them on real and mutated inputs). Where it was not built (no C compiler or OpenSSL headers at
install time), or with ``REELRIGHTS_PURE_PYTHON=1`` in the environment, the pure-Python paths
run: the same answers, slower (docs/verify.md, "Performance").
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TypeVar

__all__ = ["fast_constructor", "native", "native_enabled"]

T = TypeVar("T")


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


def fast_constructor(cls: type[T]) -> Callable[..., T]:
    """``cls`` itself, or (native) the same construction of a frozen dataclass without a Python
    call per field: give every field, positionally, in order. For classes with no
    ``__post_init__`` and no field left out of ``__init__`` (others are refused here)."""
    if (hasattr(cls, "__post_init__") or not dataclasses.is_dataclass(cls)
            or not all(f.init for f in dataclasses.fields(cls))):
        raise TypeError(f"{cls.__name__}: a dataclass whose fields all are __init__'s "
                        "arguments, without __post_init__")
    if native is None:
        return cls
    names = tuple(sys.intern(f.name) for f in dataclasses.fields(cls))
    return functools.partial(native.frozen_new, cls, names)
