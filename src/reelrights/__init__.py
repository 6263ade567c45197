"""reelrights: a neutral, verifiable clearinghouse for licensed generative AI in film.

The public API::

    from reelrights import Home, Ledger, sign_statement, make_statement

    home, _ = Home.init("~/.reelrights")
    ledger = Ledger.open(home)
    receipts = ledger.submit([entry_bytes, ...])      # statements signed anywhere

Everything raised on purpose derives from :class:`ReelrightsError` (see :mod:`reelrights.errors`).
"""

from .core.checkpoint import Checkpoint, open_checkpoint
from .core.merkle import verify_consistency, verify_inclusion
from .core.note import NoteVerifier
from .core.statements import SignedStatement, decode_entry, make_statement, sign_statement
from .errors import (BadInput, Conflict, InvalidStatement, LogIntegrityError, NotFound,
                     PolicyDenied, ProofError, ReelrightsError, SignatureError, VerificationError)
from .home import Home
from .keys import PartyKey
from .ledger import Ledger, Receipt
from .log.tiled import DirTileSource, verify_tiled_log

__version__ = "0.1.0"

__all__ = sorted([
    "BadInput", "Checkpoint", "Conflict", "DirTileSource", "Home", "InvalidStatement", "Ledger",
    "LogIntegrityError", "NotFound", "NoteVerifier", "PartyKey", "PolicyDenied", "ProofError",
    "Receipt", "ReelrightsError", "SignatureError", "SignedStatement", "VerificationError",
    "decode_entry", "make_statement", "open_checkpoint", "sign_statement", "verify_consistency",
    "verify_inclusion", "verify_tiled_log",
])
