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
    │   ├── LogIntegrityError       the log disagrees with itself (carries the first bad index)
    │   └── Unauthenticated         a read of non-public data without a valid request signature
    │       ├── SignatureMissing    ... unsigned (RFC 9421 Signature and Signature-Input)
    │       ├── UnknownKey          ... signed by a key no party (nor the operator) has
    │       ├── StaleSignature      ... ``created`` outside now ± 60 s
    │       ├── ReplayedNonce       ... a nonce that key already used
    │       └── BadRequestSignature ... malformed, not covering what it must, or not verifying
    ├── PolicyDenied      (exit 3)  the request is understood and refused by a rule
    │   ├── KeyNotAllowed           a service accepts statements from allowlisted keys only
    │   ├── NotVisible              a signed reader holds no role that sees the record
    │   └── NotAdmitted             a registered party acts before the operator admitted it
    ├── DiskFull          (exit 1)  the disk (or the database server's) has no space left
    └── Unavailable       (exit 1)  not now: the database is unreachable; retry after a while
        ├── RateLimited             too many requests from one key or address; retry later
        └── WritesRefused           no writes now, whatever the statement (the operator's act)
            ├── WritesFrozen        the operator froze writes (``reelrights service freeze``)
            └── ForkRefused         the database is behind or beside the log it published

Each error's message is one line that names the bad input and says what to do. The CLI prints
``error: <message>`` and exits with :attr:`ReelrightsError.exit_code`.

A full disk is not the caller's input, so it exits 1 like any operation that could not be
completed. :func:`disk_full` recognises it behind the exceptions of SQLite (``database or disk
is full``), PostgreSQL (SQLSTATE 53100) and the operating system (``ENOSPC``, ``EDQUOT``); every
write is one transaction, so a full disk leaves the database as it was before the command.
"""

from __future__ import annotations

import errno
import os

__all__ = [
    "BadInput",
    "BadRequestSignature",
    "Conflict",
    "DiskFull",
    "ForkRefused",
    "InvalidStatement",
    "KeyNotAllowed",
    "LogIntegrityError",
    "MediaError",
    "NotAdmitted",
    "NotFound",
    "PROBLEM_TYPES",
    "PolicyDenied",
    "NotVisible",
    "ProofError",
    "RateLimited",
    "ReelrightsError",
    "ReplayedNonce",
    "SignatureError",
    "SignatureMissing",
    "StaleSignature",
    "Unauthenticated",
    "UnknownKey",
    "Unavailable",
    "VerificationError",
    "WritesFrozen",
    "WritesRefused",
    "disk_full",
]


class ReelrightsError(Exception):
    """Base of every error raised on purpose by reelrights."""

    #: The process exit code the CLI uses for this error.
    exit_code = 1
    #: The statement's position in its batch, when an applier refused it (``ledger.at``).
    position: int | None = None

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


class Unauthenticated(VerificationError):
    """A read of non-public data whose request signature (RFC 9421 HTTP Message Signatures,
    docs/visibility.md) is missing or does not check out: the service answers 401 and reads
    nothing. Each subclass names one reason; the message says what to fix."""


class SignatureMissing(Unauthenticated):
    """The record is not public and the request carries no signature."""


class UnknownKey(Unauthenticated):
    """The signature's ``keyid`` is the key of no registered party (nor the operator's)."""


class StaleSignature(Unauthenticated):
    """The signature's ``created`` is outside the server's clock ± 60 s."""


class ReplayedNonce(Unauthenticated):
    """The signature's nonce was already used by the same key (on any server process)."""


class BadRequestSignature(Unauthenticated):
    """The signature is malformed, does not cover what it must, or does not verify."""


class PolicyDenied(ReelrightsError):
    """The request is understood and refused by a license, consent or guild rule."""

    exit_code = 3


class KeyNotAllowed(PolicyDenied):
    """A service refused a statement because its signing key is not on the operator's allowlist
    (until parties are admitted by identity). ``key`` names it (``ed25519:<base64>``) when the
    refusal did. The party keeps its key and runs the command again once the operator allowed
    it (``reelrights service allow KEY``)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class NotVisible(PolicyDenied):
    """A signed reader holds no role that sees any field of the record (docs/visibility.md)."""


class NotAdmitted(PolicyDenied):
    """A registered party signed a statement before it was admitted (docs/identity.md): on a
    service that requires admission, a pending party may only register and ask for admission."""


class DiskFull(ReelrightsError):
    """No space left on the disk that holds ``where`` (a file, a folder or a database)."""

    exit_code = 1

    def __init__(self, where: str) -> None:
        super().__init__(f"the disk is full: no space left to write {where}; free some space "
                         "(or raise the quota) and run the command again")
        self.where = where


class Unavailable(ReelrightsError):
    """The request could not be served now (the database is unreachable): the same request may
    succeed after ``retry_after`` seconds. Nothing of it was written."""

    exit_code = 1

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(Unavailable):
    """Too many requests from one signing key or one address: retry after ``retry_after`` s."""


class WritesRefused(Unavailable):
    """The registry takes no writes now, whatever the statement: nothing was checked or
    written. The service answers 503; the message says why and what the operator does."""

    def __init__(self, message: str, retry_after: int = 60) -> None:
        super().__init__(message, retry_after)


class WritesFrozen(WritesRefused):
    """The operator froze writes (``reelrights service freeze``: the log key's compromise
    procedure, docs/deploy.md); reads go on."""


class ForkRefused(WritesRefused):
    """Signing now would fork the log: the database's head is behind (or differs from) the
    checkpoint the log already published. The fix is ``reelrights rebuild`` from the published
    tiles (docs/deploy.md, "Never fork")."""

    def __init__(self, message: str, retry_after: int = 300) -> None:
        super().__init__(message, retry_after)


#: How each kind of error is told over HTTP as RFC 9457 problem details: (class, status, type
#: slug, title), the most specific class first. The service answers with the first row whose
#: class the error is an instance of (:func:`reelrights.api.problems.problem_for`); the client
#: raises the class of the slug it gets back (:mod:`reelrights.client.problems`), so one table
#: keeps both sides in agreement.
PROBLEM_TYPES: tuple[tuple[type[ReelrightsError], int, str, str], ...] = (
    (NotFound, 404, "not-found", "Not found"),
    (Conflict, 409, "conflict", "Conflicts with the log"),
    (BadInput, 422, "invalid-statement", "Refused statement"),
    (KeyNotAllowed, 403, "key-not-allowed", "Signing key not allowed"),
    (NotVisible, 403, "not-visible", "Not visible to this reader"),
    (NotAdmitted, 403, "not-admitted", "Party not admitted"),
    (PolicyDenied, 403, "policy-denied", "Denied by policy"),
    (SignatureMissing, 401, "signature-missing", "Request signature missing"),
    (UnknownKey, 401, "signature-unknown-key", "Request signed by an unknown key"),
    (StaleSignature, 401, "signature-stale", "Request signature stale"),
    (ReplayedNonce, 401, "signature-replayed", "Request signature replayed"),
    (BadRequestSignature, 401, "signature-invalid", "Request signature invalid"),
    (VerificationError, 422, "verification-failed", "Verification failed"),
    (DiskFull, 507, "insufficient-storage", "The server's disk is full"),
    (RateLimited, 429, "rate-limited", "Too many requests"),
    (Unavailable, 503, "unavailable", "Service unavailable"),
)


_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_SQLITE_FULL = 13  # SQLITE_FULL: "database or disk is full"
_SQLITE_IOERR = 10  # SQLITE_IOERR_*: what SQLite says when it cannot even grow its -shm file
_NEARLY_FULL = 1 << 20  # bytes: an I/O error with less than this left is a full disk


def _existing(path: str) -> str:
    """``path`` or its nearest existing ancestor folder."""
    path = os.path.abspath(path)
    while not os.path.isdir(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def _no_space_at(path: str) -> bool:
    """Whether the file system holding ``path`` (an SQLite file) has (almost) no space left."""
    folder = os.path.dirname(path) if path else ""
    if not folder or not os.path.isdir(folder):
        return False
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize < _NEARLY_FULL
_PG_DISK_FULL = "53100"


def disk_full(exc: BaseException, database: str = "",
              paths: tuple[str, ...] = ()) -> DiskFull | None:
    """The :class:`DiskFull` that ``exc`` (or an exception it was raised from) stands for, if any.

    ``database`` names the database for the message when the database ran out of space;
    ``paths`` (the command's file arguments) name the place when the operating system's error
    carries no file name: the first of them on a file system with no space left.
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in _DISK_FULL_ERRNOS:
            if e.filename:
                return DiskFull(str(e.filename))
            full = [p for p in paths if _no_space_at(os.path.join(_existing(p), "x"))]
            return DiskFull(full[0] if full else (database or "to the disk"))
        code = getattr(e, "sqlite_errorcode", None)
        if code == _SQLITE_FULL or getattr(e, "sqlstate", None) == _PG_DISK_FULL \
                or "database or disk is full" in str(e) \
                or (code is not None and code & 0xFF == _SQLITE_IOERR and _no_space_at(database)):
            return DiskFull(f"the database {database}" if database else "the database")
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return None
