"""The public API is ``reelrights.__all__``: this test pins it, so adding or dropping a name is
a decision made here, in one reviewed line, and never a side effect of a refactoring."""

from __future__ import annotations

import importlib
import inspect

import pytest

import reelrights

PUBLIC = [
    "BadInput", "Checkpoint", "Conflict", "DirTileSource", "Home", "InvalidStatement", "Ledger",
    "LogIntegrityError", "NotFound", "NoteVerifier", "PartyKey", "PolicyDenied", "ProofError",
    "Receipt", "ReelrightsError", "SignatureError", "SignedStatement", "VerificationError",
    "decode_entry", "make_statement", "open_checkpoint", "sign_statement", "verify_consistency",
    "verify_inclusion", "verify_tiled_log",
]


def test_all_is_exactly_the_pinned_list_in_ascii_order() -> None:
    assert reelrights.__all__ == PUBLIC
    assert sorted(PUBLIC) == PUBLIC


def test_star_import_gives_exactly_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from reelrights import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_each_name_is_importable_and_documented(name: str) -> None:
    obj = getattr(importlib.import_module("reelrights"), name)
    doc = inspect.getdoc(obj)
    assert doc and doc.strip(), f"reelrights.{name} has no docstring"
    # A dataclass without a docstring gets its signature as one: that documents nothing.
    assert not doc.startswith(f"{name}("), f"reelrights.{name} has only its generated signature"
    assert obj.__module__.startswith("reelrights."), f"reelrights.{name} is not reelrights' own"


def test_the_package_has_a_version_and_a_docstring() -> None:
    assert isinstance(reelrights.__version__, str) and reelrights.__version__
    assert reelrights.__doc__ and "public API" in reelrights.__doc__
