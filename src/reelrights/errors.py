"""One exception tree for the whole library.

::

    ReelrightsError                 every error the library raises on purpose
    ├── BadInput          (exit 2)  the caller gave something unusable: a path, an id, a value
    │   ├── NotFound                an id, index or file that does not exist
    │   ├── InvalidStatement        a statement whose body or envelope breaks its schema
    │   ├── MediaError              a media file that cannot be decoded (corrupt, truncated)
    │   └── Conflict                a well-formed request that contradicts what is recorded
    ├── VerificationError (exit 1)  a signature, proof, tile or checkpoint does not check out
    │   ├── ProofError              an inclusion or consistency proof fails
    │   ├── SignatureError          a signature does not verify, or is by an unknown key
    │   └── LogIntegrityError       the log disagrees with itself (carries the first bad index)
    └── PolicyDenied      (exit 3)  the request is understood and refused by a rule

Each error's message is one line that names the bad input and says what to do. The CLI prints
``error: <message>`` and exits with :attr:`ReelrightsError.exit_code`.
"""

from __future__ import annotations

__all__ = [
    "BadInput",
    "Conflict",
    "InvalidStatement",
    "LogIntegrityError",
    "MediaError",
    "NotFound",
    "PolicyDenied",
    "ProofError",
    "ReelrightsError",
    "SignatureError",
    "VerificationError",
]


class ReelrightsError(Exception):
    """Base of every error raised on purpose by reelrights."""

    #: The process exit code the CLI uses for this error.
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BadInput(ReelrightsError):
    """The caller gave something unusable. The message names it and the fix."""

    exit_code = 2


class NotFound(BadInput):
    """An id, log index or file that does not exist."""


class Conflict(BadInput):
    """A well-formed request that contradicts what is already recorded."""


class InvalidStatement(BadInput):
    """A statement whose envelope or body breaks its schema.

    ``pointer`` is the RFC 6901 JSON pointer of the offending field ("" for the whole document).
    """

    def __init__(self, message: str, pointer: str = "") -> None:
        super().__init__(message if not pointer else f"{pointer}: {message}")
        self.pointer = pointer


class MediaError(BadInput):
    """A media file that cannot be decoded or fingerprinted (corrupt, truncated, unsupported).

    ``path`` names the file, so a batch can report it and carry on with the rest.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class VerificationError(ReelrightsError):
    """A signature, proof, tile or checkpoint does not check out."""

    exit_code = 1


class ProofError(VerificationError):
    """An inclusion or consistency proof does not verify."""


class SignatureError(VerificationError):
    """A signature does not verify, or no trusted key made it."""


class LogIntegrityError(VerificationError):
    """The log disagrees with itself. ``index`` is the first bad leaf index (or None)."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


class PolicyDenied(ReelrightsError):
    """The request is understood and refused by a license, consent or guild rule."""

    exit_code = 3
