"""What a submission carries before the ledger sees it: the signing key's id, a batch's lines.

Both are read without parsing the statement: an entry is RFC 8785 canonical JSON (the ledger
refuses any other spelling), whose first member is always ``signature`` with ``alg`` then
``keyid``. An entry that does not start so is decoded properly, which refuses it with the
ledger's own message.
"""

from __future__ import annotations

from ..core.statements import decode_entry
from ..errors import BadInput, InvalidStatement

__all__ = ["key_id_of", "split_batch"]

_PREFIX = b'{"signature":{"alg":"Ed25519","keyid":"'
_HEX = frozenset(b"0123456789abcdef")


def key_id_of(entry: bytes) -> str:
    """The id of the key ``entry`` says it is signed with (16 hex characters)."""
    n = len(_PREFIX)
    if entry.startswith(_PREFIX) and entry[n + 16:n + 17] == b'"':
        kid = entry[n:n + 16]
        if all(c in _HEX for c in kid):
            return kid.decode("ascii")
    return decode_entry(entry).key_id  # refuses it, worded as the ledger words it


def split_batch(body: bytes, max_entries: int) -> list[bytes]:
    """The entries of a JSONL batch: one per line, a final newline optional, no empty line.
    More than ``max_entries`` lines is refused (:class:`TooManyEntries`)."""
    if body.endswith(b"\n"):
        body = body[:-1]
    if not body:
        raise BadInput("the batch is empty; send one signed statement per line")
    lines = body.split(b"\n")
    if len(lines) > max_entries:
        raise TooManyEntries(f"the batch has {len(lines)} entries, over the limit of "
                             f"{max_entries}; split it into batches of at most {max_entries}")
    for i, line in enumerate(lines):
        if not line.strip():
            raise InvalidStatement(f"line {i + 1} of the batch is empty; send one signed "
                                   "statement per line, with no blank lines")
    return lines


class TooManyEntries(BadInput):
    """A batch with more entries than the service takes at once."""
