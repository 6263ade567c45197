"""What a verifier trusts: the log's public key and, optionally, K of N witnesses' keys.

:class:`LogTrust` opens a checkpoint note: the log's Ed25519 signature (C2SP signed-note) under
the configured log key, for that key's origin, then the witnesses' cosignatures
(c2sp.org/tlog-cosignature, type 0x04: ``cosignature/v1\\ntime T\\n`` + the checkpoint text)
and at least ``min_witnesses`` of them. A checkpoint note opened once is cached by its exact
bytes (a proof bundle carries the same note as many others), so verifying many bundles costs
one checkpoint signature check.

The witness policy is a c2sp.org/tlog-policy (:mod:`reelrights.core.tlog_policy`): a policy
file, or ``--witness`` keys with ``--min-witnesses K`` (:func:`witness_policy`, K of those N);
:func:`reelrights.core.cosignature.verify_cosigned_checkpoint` decides it. No I/O.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from ..core.checkpoint import Checkpoint
from ..core.cosignature import open_cosigned, verify_cosigned_checkpoint
from ..core.note import ALG_COSIGNATURE_V1, ALG_ED25519, NoteVerifier, open_note
from ..core.tlog_policy import Group, Policy, PolicyWitness
from ..errors import BadInput, SignatureError, VerificationError

__all__ = ["LogTrust", "TrustedCheckpoint", "witness_policy"]

_CACHE = 64


@dataclass(frozen=True)
class TrustedCheckpoint:
    """A checkpoint whose log signature (and witness policy) verified."""

    checkpoint: Checkpoint
    note: bytes
    witnesses: tuple[tuple[str, int], ...]  # (witness name, cosignature timestamp)
    #: The log key it was opened with and the witnesses' keys trusted (for other notes an
    #: artifact carries, such as an audit seed's: :func:`reelrights.verify.seeds`).
    log_vkey: str = ""
    witness_keys: tuple[str, ...] = ()


def witness_policy(witnesses: Sequence[str], min_witnesses: int) -> Policy:
    """``--witness VKEY``... ``--min-witnesses K`` as a c2sp.org/tlog-policy: K of the N."""
    policy = Policy()
    for w in witnesses:
        v = NoteVerifier(w.strip())
        if v.alg != ALG_COSIGNATURE_V1:
            raise BadInput(f"--witness {v.name}: a witness key is a cosignature/v1 key (type "
                           "0x04); this one is a plain note key")
        policy.witnesses.append(PolicyWitness(v.name, v))
    if not 0 <= min_witnesses <= len(policy.witnesses):
        raise BadInput(f"--min-witnesses {min_witnesses} asks for more witnesses than the "
                       f"{len(policy.witnesses)} --witness key(s) given")
    if min_witnesses:
        policy.groups["given"] = Group("given", min_witnesses,
                                       tuple(w.name for w in policy.witnesses))
        policy.quorum = "given"
    return policy


class LogTrust:
    """The log key (a note verifier key, as ``log.vkey`` holds it) and the witness policy."""

    def __init__(self, log_vkey: str, witnesses: Sequence[str] = (), min_witnesses: int = 0,
                 *, policy: Policy | None = None) -> None:
        self.log = NoteVerifier(log_vkey.strip())
        if self.log.alg != ALG_ED25519:
            raise BadInput("--log-key must be the log's Ed25519 note key (type 0x01), not a "
                           "witness cosignature key")
        if policy is not None and (witnesses or min_witnesses):
            raise BadInput("give the witnesses either with --policy FILE or with --witness and "
                           "--min-witnesses, not both")
        if policy is not None and policy.logs and \
                self.log.vkey not in {v.vkey for v in policy.logs}:
            raise BadInput(f"--policy lists other logs than {self.log.name}'s key given with "
                           "--log-key")
        self.policy = policy if policy is not None else witness_policy(witnesses,
                                                                       min_witnesses)
        self.from_file = policy is not None
        self.min_witnesses = min_witnesses
        self._cache: OrderedDict[bytes, TrustedCheckpoint] = OrderedDict()

    @property
    def origin(self) -> str:
        return self.log.name

    def open(self, note: bytes) -> TrustedCheckpoint:
        """The checkpoint in ``note``, its signatures checked (cached by the note's bytes)."""
        hit = self._cache.get(note)
        if hit is not None:
            self._cache.move_to_end(note)
            return hit
        try:
            opened = open_note(note, [self.log])
        except SignatureError as exc:
            raise SignatureError(f"checkpoint: not signed by the log key {self.log.name}+"
                                 f"{self.log.key_id:08x} ({exc.message})") from None
        except BadInput as exc:
            raise VerificationError(f"checkpoint: {exc.message}") from None
        try:
            cp = Checkpoint.parse(opened.text)
        except BadInput as exc:
            raise VerificationError(f"checkpoint: {exc.message}") from None
        if cp.origin != self.log.name:
            raise SignatureError(f"checkpoint: for log {cp.origin!r}, not {self.log.name!r}")
        trusted = TrustedCheckpoint(cp, note, self._witnessed(note), self.log.vkey,
                                    tuple(w.verifier.vkey for w in self.policy.witnesses))
        self._cache[note] = trusted
        if len(self._cache) > _CACHE:
            self._cache.popitem(last=False)
        return trusted

    @property
    def witnessed(self) -> bool:
        """Whether this trust asks for any witness cosignature."""
        return self.policy.quorum != "none"

    def _witnessed(self, note: bytes) -> tuple[tuple[str, int], ...]:
        """The witnesses' cosignatures on ``note`` under the policy (reelrights.core.cosignature);
        SignatureError naming what fails: a forged cosignature, or too few."""
        if not self.policy.witnesses:
            return ()
        try:
            got = open_cosigned(note, self.log, [w.verifier for w in self.policy.witnesses])
        except SignatureError as exc:
            raise SignatureError(f"checkpoint: a witness cosignature does not verify "
                                 f"({exc.message})") from None
        seen = tuple((c.witness.split("+")[0], c.timestamp) for c in got.cosignatures)
        try:
            verify_cosigned_checkpoint(note, self.log.vkey, self.policy)
        except SignatureError as exc:
            if self.from_file:
                raise SignatureError(f"checkpoint: {exc.message}") from None
            raise SignatureError(f"checkpoint: cosigned by {len(seen)} of the given "
                                 f"witnesses, fewer than --min-witnesses "
                                 f"{self.min_witnesses}; fetch a newer, cosigned checkpoint "
                                 "(--server URL)") from None
        return seen
