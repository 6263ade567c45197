"""reelrights: a neutral, verifiable clearinghouse for licensed generative AI in film.

The public API::

    from reelrights import Home, Ledger, sign_statement, make_statement

    home, _ = Home.init("~/.reelrights")
    ledger = Ledger.open(home)
    receipts = ledger.submit([entry_bytes, ...])      # statements signed anywhere

Everything raised on purpose derives from :class:`ReelrightsError` (see :mod:`reelrights.errors`).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core.checkpoint import Checkpoint, open_checkpoint
    from .core.merkle import verify_consistency, verify_inclusion
    from .core.note import NoteVerifier
    from .core.statements import SignedStatement, decode_entry, make_statement, sign_statement
    from .errors import (
        BadInput,
        Conflict,
        InvalidStatement,
        LogIntegrityError,
        NotFound,
        PolicyDenied,
        ProofError,
        ReelrightsError,
        SignatureError,
        VerificationError,
    )
    from .home import Home
    from .keys import PartyKey
    from .ledger import Ledger, Receipt
    from .log.tiled import DirTileSource, verify_tiled_log

#: Where each public name lives. Imported on first use (PEP 562), so that ``import reelrights``
#: and the command line's start-up do not pay for SQLAlchemy, PyNaCl and the ledger up front.
_PUBLIC = {
    ".core.checkpoint": ("Checkpoint", "open_checkpoint"),
    ".core.merkle": ("verify_consistency", "verify_inclusion"),
    ".core.note": ("NoteVerifier",),
    ".core.statements": ("SignedStatement", "decode_entry", "make_statement", "sign_statement"),
    ".errors": ("BadInput", "Conflict", "InvalidStatement", "LogIntegrityError", "NotFound",
                "PolicyDenied", "ProofError", "ReelrightsError", "SignatureError",
                "VerificationError"),
    ".home": ("Home",),
    ".keys": ("PartyKey",),
    ".ledger": ("Ledger", "Receipt"),
    ".log.tiled": ("DirTileSource", "verify_tiled_log"),
}
_WHERE = {name: module for module, names in _PUBLIC.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'reelrights' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


__version__ = "0.1.0"

# The names _PUBLIC maps, in ASCII order; tests/test_public_api.py pins the list.
__all__ = [
    "BadInput", "Checkpoint", "Conflict", "DirTileSource", "Home", "InvalidStatement", "Ledger",
    "LogIntegrityError", "NotFound", "NoteVerifier", "PartyKey", "PolicyDenied", "ProofError",
    "Receipt", "ReelrightsError", "SignatureError", "SignedStatement", "VerificationError",
    "decode_entry", "make_statement", "open_checkpoint", "sign_statement", "verify_consistency",
    "verify_inclusion", "verify_tiled_log",
]
