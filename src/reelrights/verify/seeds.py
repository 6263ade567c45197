"""An audit certificate's challenge seed, re-derived from public material.

A challenge's seed (:mod:`reelrights.core.audit_seed`) is ``SHA-256`` of the challenge entry's
leaf hash and the log's signature on the first checkpoint after it (rule v2), and, when the log
has witnesses, their cosignatures made within the window after the challenge (rule v3). The
certificate records that material in ``predicate.challenge.seed``: the seed, and the notes it
came from (the log's note of that checkpoint; for each checkpoint a joined cosignature is on,
the log's note of it with those cosignature lines). The verifier re-derives the seed from the
proof's ``audit.challenged`` entry and those notes, opened with the log key and the witnesses'
keys it trusts, and compares. What a proof cannot show: that the checkpoint is the FIRST after
the challenge, and that no witness's earlier cosignature was left out (a monitor of the log and
its witnesses sees both). No I/O.
"""

from __future__ import annotations

from typing import Any

from ..core import audit_seed
from ..core.audit_seed import challenge_seed, log_signature, seed_cosignatures
from ..core.checkpoint import Checkpoint
from ..core.cosignature import CosignedCheckpoint, open_cosigned
from ..core.note import NoteVerifier
from ..core.statements import parse_time
from ..errors import BadInput, SignatureError, VerificationError
from .entries import VerifiedProof

__all__ = ["verify_challenge_seed"]


def _fail(what: str) -> VerificationError:
    return VerificationError(what)


def _size(note: bytes) -> int:
    return Checkpoint.parse(note[: note.rfind(b"\n\n") + 1]).size


def _signature_lines(note: bytes) -> int:
    return sum(1 for line in note[note.rfind(b"\n\n") + 2:].splitlines() if line)


def verify_challenge_seed(vp: VerifiedProof, challenge: dict[str, Any],
                          sample_size: object = None) -> list[str]:
    """Re-derive the seed a certificate's ``predicate.challenge`` records (module doc); the
    checks made, VerificationError naming the first that fails."""
    cid = challenge.get("id")
    rule = challenge.get("seed_rule")
    if rule == "v1":
        return [f"challenge {cid}: seed rule v1 (from the checkpoint it named), not re-derived"]
    rec = challenge.get("seed")
    if not isinstance(rec, dict):
        return [f"challenge {cid}: the certificate records no seed material (issued before it "
                "did), so its seed is not re-derived"]
    found = vp.of_type("audit.challenged", id=cid)
    if not found:
        raise _fail(f"challenge {cid}: the proof carries no audit.challenged statement, so its "
                    "seed cannot be re-derived; ask for the certificate's proof again")
    ch = found[0]
    notes = rec.get("notes")
    if (type(notes) is not list or not notes or any(type(n) is not str for n in notes)
            or type(rec.get("seed")) is not str):
        raise _fail(f"challenge {cid}: the recorded seed material is malformed")
    cp = vp.checkpoint
    log = NoteVerifier(cp.log_vkey)
    where = f"challenge {cid} (entry {ch.index})"
    try:
        first = notes[0].encode("utf-8")
        size = _size(first)
        signature = log_signature(first, log, size)
        history: list[CosignedCheckpoint] = []
        for n in notes[1:]:
            if not cp.witness_keys:
                raise _fail(f"{where}: its seed takes witnesses' cosignatures; give the "
                            "witnesses' keys (--witness or --policy) to check them")
            got = open_cosigned(n.encode("utf-8"), log, cp.witness_keys)
            if len(got.cosignatures) != _signature_lines(n.encode("utf-8")) - 1:
                raise _fail(f"{where}: a cosignature its seed takes is by a witness whose key "
                            "was not given (or is not a cosignature)")
            history.append(got)
    except (BadInput, SignatureError) as exc:
        raise _fail(f"{where}: a note of its seed does not verify under the log's and the "
                    f"witnesses' keys ({exc.message})") from None
    for size_k in [size, *(h.checkpoint.size for h in history)]:
        if not ch.index < size_k <= cp.checkpoint.size:
            raise _fail(f"{where}: its seed names checkpoint size {size_k}, which does not hold "
                        f"the challenge or is beyond the proof's checkpoint (size "
                        f"{cp.checkpoint.size})")
    t = parse_time(ch.statement.log_time or "", f"entry {ch.index} /log/time").timestamp()
    cosigs = seed_cosignatures(history, ch.index, t, audit_seed.WITNESS_WINDOW_S)
    seed = challenge_seed(ch.leaf_hash, signature, cosigs)
    if seed.hex() != rec["seed"] or rule != ("v3" if cosigs else "v2"):
        raise _fail(f"{where}: the recorded seed (rule {rule}) is not the one its public "
                    f"material gives ({seed.hex()[:16]}…, rule {'v3' if cosigs else 'v2'})")
    checks = [f"{where}: seed re-derived from its entry and the log's signature on checkpoint "
              f"size {size}" + (f", with {len(cosigs)} witness cosignature(s) made within "
                                f"{audit_seed.WITNESS_WINDOW_S} s" if cosigs else
                                " (no witness cosignature: the log-only rule v2)")
              + "; that this is the first checkpoint after it and that no witness's "
              "cosignature was left out: not shown by a proof (a monitor checks)"]
    samples, count = ch.body.get("samples"), None
    runs = vp.of_type("run.committed", id=ch.body.get("run"))
    if runs:
        count = runs[0].body.get("count")
    if type(samples) is int and type(count) is int and sample_size is not None:
        want = min(samples, count)
        if sample_size != want:
            raise _fail(f"{where}: the certificate's sample size {sample_size} is not the "
                        f"{want} item(s) the challenge asked of the run's {count}")
        checks.append(f"sample size {want} = the challenge's samples of the run's {count} items")
    return checks
