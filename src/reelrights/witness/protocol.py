"""``add-checkpoint`` (c2sp.org/tlog-witness), checked in the spec's order:

1. the body is ``old <N>\\n``, at most 63 base64 proof lines, an empty line, a signed note (400);
2. the checkpoint's origin is one this witness knows (404);
3. a trusted key of that origin signed it, and no trusted key's line fails (403);
4. ``old`` is at most the checkpoint's size (400);
5. a size-0 checkpoint has the empty tree's root (422);
6. ``old`` is the size this witness last cosigned for the origin (409, body: that size);
7. the proof: empty from 0; empty and same root at the same size; else an RFC 9162 consistency
   proof from the recorded root (422);
8. cosign (tlog-cosignature v1, Ed25519, type 0x04, timestamp now) and record the checkpoint
   with a compare-and-swap on the state read in 6 (409 if another request won meanwhile).

A validly signed checkpoint refused in 5-7 is kept (``refused`` table): evidence of a log that
showed this witness an inconsistent tree.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Callable, Mapping, Sequence

from ..core.checkpoint import Checkpoint
from ..core.merkle import verify_consistency
from ..core.note import CosignatureSigner, NoteVerifier, open_note
from ..errors import BadInput, ProofError, SignatureError
from .store import LogRecord, WitnessStore

__all__ = ["EMPTY_ROOT", "MAX_BODY", "Refused", "Witness", "parse_request"]

EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_PROOF_LINES = 63
#: Largest request body read (a checkpoint with 100 signature lines and 63 proof lines fits).
MAX_BODY = 256 * 1024
_OLD = re.compile(r"old (0|[1-9][0-9]{0,19})")


class Refused(Exception):
    """The witness's answer is not a cosignature: an HTTP status and a one-line reason; for
    409 the size this witness has (the response body is then ``<size>\\n``)."""

    def __init__(self, status: int, reason: str, size: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.size = size


def parse_request(body: bytes) -> tuple[int, list[bytes], bytes]:
    """(old size, proof hashes, checkpoint note) of an add-checkpoint body; Refused(400)."""
    head, sep, note = body.partition(b"\n\n")
    if not sep:
        raise Refused(400, "the body needs `old N`, proof lines, an empty line, then the note")
    lines = head.split(b"\n")
    try:
        first = lines[0].decode("ascii")
    except UnicodeDecodeError:
        first = ""
    m = _OLD.fullmatch(first)
    if m is None:
        raise Refused(400, "the first line must be `old <size>` (decimal, no leading zeros)")
    proof_lines = lines[1:]
    if len(proof_lines) > MAX_PROOF_LINES:
        raise Refused(400, f"{len(proof_lines)} proof lines: at most {MAX_PROOF_LINES}")
    proof = []
    for i, line in enumerate(proof_lines, 1):
        try:
            h = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise Refused(400, f"proof line {i} is not base64") from None
        if len(h) != 32:
            raise Refused(400, f"proof line {i} is not a 32-byte hash")
        proof.append(h)
    return int(m.group(1)), proof, note


class Witness:
    """The add-checkpoint logic over a :class:`WitnessStore`, for the logs in ``logs``
    (origin -> its trusted verifier keys)."""

    def __init__(self, signer: CosignatureSigner, logs: Mapping[str, Sequence[NoteVerifier]],
                 store: WitnessStore, clock: Callable[[], float] = time.time) -> None:
        self.signer = signer
        self.logs = {o: list(v) for o, v in logs.items()}
        self.store = store
        self.clock = clock
        #: Tests only: runs between the checks and the compare-and-swap (the spec's race).
        self.stall: Callable[[], None] | None = None

    @property
    def vkey(self) -> str:
        return self.signer.vkey

    def add_checkpoint(self, body: bytes) -> bytes:
        """The cosignature line(s) for a valid request; Refused otherwise (module doc)."""
        old, proof, note = parse_request(body)
        text, _, _ = note.decode("utf-8", "replace").rpartition("\n\n")
        try:
            cp = Checkpoint.parse(text + "\n")
        except BadInput as exc:
            raise Refused(400, str(exc)) from None
        verifiers = self.logs.get(cp.origin)
        if verifiers is None:
            raise Refused(404, f"this witness does not witness the log {cp.origin[:100]!r}")
        try:
            opened = open_note(note, verifiers)
        except SignatureError as exc:
            raise Refused(403, str(exc)) from None
        except BadInput as exc:
            raise Refused(400, str(exc)) from None
        cp = Checkpoint.parse(opened.text)
        if old > cp.size:
            raise Refused(400, f"old size {old} is larger than the checkpoint's size {cp.size}")
        if cp.size == 0 and cp.root != EMPTY_ROOT:
            self._refuse(cp.origin, 422, "a size-0 checkpoint must have the empty tree's root",
                         body)
        state = self.store.get(cp.origin)
        if old != state.size:
            raise Refused(409, f"this witness has size {state.size} for {cp.origin}, not {old}",
                          state.size)
        self._check_consistency(cp, old, proof, state, body)
        if self.stall is not None:
            self.stall()
        line = self.signer.sign(opened.text, self._timestamp())
        cosigned = _strip_foreign(note, self.signer) + line.encode("utf-8")
        conflict = self.store.compare_and_swap(cp.origin, state, cp.size, cp.root, cosigned)
        if conflict is not None:
            raise Refused(409, f"another request moved {cp.origin} to size {conflict}", conflict)
        return line.encode("utf-8")

    def _timestamp(self) -> int:
        return max(1, int(self.clock()))

    def _check_consistency(self, cp: Checkpoint, old: int, proof: list[bytes],
                           state: LogRecord, body: bytes) -> None:
        if old == 0:
            if proof:
                self._refuse(cp.origin, 422, "a proof from size 0 must be empty", body)
            return
        assert state.root is not None
        if old == cp.size:
            if proof or cp.root != state.root:
                self._refuse(cp.origin, 422, f"size {old} has a different root than the one "
                             "this witness cosigned: the log forked", body)
            return
        try:
            verify_consistency(old, cp.size, proof, state.root, cp.root)
        except ProofError as exc:
            self._refuse(cp.origin, 422, f"not consistent with size {old}: {exc}", body)

    def _refuse(self, origin: str, status: int, reason: str, body: bytes) -> None:
        self.store.refuse(origin, status, reason, body)
        raise Refused(status, reason)

    def latest(self, origin_hash: str) -> bytes | None:
        """The last cosigned checkpoint of the log whose origin's SHA-256 is ``origin_hash``."""
        for origin in self.logs:
            if hashlib.sha256(origin.encode()).hexdigest() == origin_hash:
                rec = self.store.get(origin)
                return rec.note or None
        return None


def _strip_foreign(note: bytes, signer: CosignatureSigner) -> bytes:
    """The note without an older cosignature line of this witness (it is replaced)."""
    prefix = f"\u2014 {signer.name} ".encode()
    kid = signer.key_id.to_bytes(4, "big")
    lines = note.split(b"\n")
    kept = []
    for line in lines:
        if line.startswith(prefix):
            try:
                if base64.b64decode(line[len(prefix):])[:4] == kid:
                    continue
            except (binascii.Error, ValueError):
                pass
        kept.append(line)
    return b"\n".join(kept)
