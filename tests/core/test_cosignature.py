"""tlog-policy parsing, cosigned checkpoints checked against a K-of-N quorum, and the log-time
bounds witnesses give (pure functions: reelrights.core.tlog_policy, reelrights.core.cosignature).
"""

from __future__ import annotations

import pytest

from reelrights.core.checkpoint import Checkpoint, sign_checkpoint
from reelrights.core.cosignature import (
    check_log_times,
    open_cosigned,
    verify_cosigned_checkpoint,
)
from reelrights.core.note import CosignatureSigner, NoteSigner
from reelrights.core.tlog_policy import parse_policy
from reelrights.errors import BadInput, LogIntegrityError, SignatureError

LOG = NoteSigner("example.com/log", b"\x01" * 32)
W = [CosignatureSigner(f"w{i}.example", bytes([0x10 + i]) * 32) for i in range(4)]


def cosigned(size: int, signers: list[CosignatureSigner], ts: int = 1_800_000_000,
             root: bytes = b"\x02" * 32) -> bytes:
    cp = Checkpoint(LOG.name, size, root)
    note = sign_checkpoint(cp, LOG)
    return note + "".join(s.sign(cp.text(), ts) for s in signers).encode()


def policy(quorum_lines: str, n: int = 3) -> str:
    lines = [f"log {LOG.vkey}"] + [f"witness X{i} {W[i].vkey} https://w{i}.example/"
                                   for i in range(n)]
    return "\n".join(lines) + "\n" + quorum_lines + "\n"


def test_parses_the_spec_example_shape() -> None:
    text = policy("group X 2 X0 X1 X2\n# a comment\n\tquorum X  ", 3)
    p = parse_policy(text)
    assert [w.name for w in p.witnesses] == ["X0", "X1", "X2"]
    assert p.logs[0].origin == LOG.name and p.witnesses[0].url == "https://w0.example/"
    assert p.groups["X"].threshold == 2 and p.quorum == "X"
    two_level = policy("group A any X0 X1\ngroup B all X2 X3\ngroup AB all A B\nquorum AB", 4)
    q = parse_policy(two_level)
    assert q.satisfied({"X1", "X2", "X3"})[0]
    assert not q.satisfied({"X0", "X1", "X2"})[0]
    assert parse_policy("quorum none\n").satisfied(set())[0]


@pytest.mark.parametrize(("tail", "why"), [
    ("", "no quorum line"),
    ("quorum X9", "not a witness or group defined above"),
    ("quorum X0\nquorum X1", "a second quorum line"),
    ("group G 4 X0 X1 X2\nquorum G", "threshold '4'"),
    ("group G 0 X0\nquorum G", "threshold '0'"),
    ("group G any X0 X0\nquorum G", "lists a member twice"),
    ("group G any Y\nquorum G", "member 'Y' is not defined above"),
    ("group X0 any X1\nquorum X0", "already defined"),
    (f"witness X7 {W[0].vkey}\nquorum X0", "listed twice"),
    (f"witness none {W[3].vkey}\nquorum none", "reserved"),
    (f"log {W[3].vkey}\nquorum none", "must be an Ed25519 note"),
    (f"witness X8 {LOG.vkey}\nquorum none", "must be an Ed25519 cosignature"),
    ("frobnicate\nquorum none", "unknown keyword"),
    ("quorum X0\x07", "control character"),
])
def test_refuses_bad_policies(tail: str, why: str) -> None:
    with pytest.raises(BadInput, match=why):
        parse_policy(policy(tail))


def test_k_of_n_quorum_passes_and_fails() -> None:
    p = parse_policy(policy("group G 2 X0 X1 X2\nquorum G"))
    ok = verify_cosigned_checkpoint(cosigned(5, [W[0], W[2]]), None, p)
    assert ok.checkpoint.size == 5 and ok.quorum == "G"
    assert len(ok.cosignatures) == 2 and ok.timestamps == [1_800_000_000] * 2
    with pytest.raises(SignatureError, match=r"needs 2 of X0, X1, X2; met: X1"):
        verify_cosigned_checkpoint(cosigned(5, [W[1]]), LOG.vkey, p)
    # a cosignature by a witness outside the policy counts for nothing
    with pytest.raises(SignatureError, match="quorum"):
        verify_cosigned_checkpoint(cosigned(5, [W[1], W[3]]), LOG.vkey, p)
    # a single-witness quorum
    single = parse_policy(policy("quorum X1"))
    verify_cosigned_checkpoint(cosigned(5, [W[1]]), LOG.vkey, single)
    with pytest.raises(SignatureError, match="witness X1 has not cosigned"):
        verify_cosigned_checkpoint(cosigned(5, [W[0]]), LOG.vkey, single)


def test_forged_replayed_and_unsigned_cosignatures_fail() -> None:
    p = parse_policy(policy("group G 2 X0 X1 X2\nquorum G"))
    note = cosigned(5, [W[0], W[1]])
    # one bit of a known witness's cosignature flipped: the whole note is refused
    lines = note.split(b"\n")
    forged = bytearray(lines[-2])
    forged[-6] = ord("A") if forged[-6] != ord("A") else ord("B")
    with pytest.raises(SignatureError):
        verify_cosigned_checkpoint(b"\n".join([*lines[:-2], bytes(forged), b""]), LOG.vkey, p)
    # cosignatures replayed onto another checkpoint (another root) do not verify
    other = cosigned(5, [], root=b"\x03" * 32)
    replayed = other + b"\n".join(lines[-3:-1]) + b"\n"
    with pytest.raises(SignatureError):
        verify_cosigned_checkpoint(replayed, LOG.vkey, p)
    # the timestamp changed (the signed message covers it)
    import base64
    name, b64 = lines[-2].decode().split(" ", 2)[1:]
    raw = bytearray(base64.b64decode(b64))
    raw[11] ^= 1
    moved = f"\u2014 {name} {base64.b64encode(bytes(raw)).decode()}".encode()
    with pytest.raises(SignatureError):
        verify_cosigned_checkpoint(b"\n".join([*lines[:-2], moved, b""]), LOG.vkey, p)
    # witnesses alone, without the log's signature: not this log's checkpoint
    cp = Checkpoint(LOG.name, 5, b"\x02" * 32)
    only_witnesses = sign_checkpoint(cp, [W[0], W[1]])
    with pytest.raises(SignatureError, match="not signed by the log key"):
        verify_cosigned_checkpoint(only_witnesses, LOG.vkey, p)
    # another log's key
    with pytest.raises(SignatureError):
        verify_cosigned_checkpoint(note, NoteSigner("example.com/log", b"\x09" * 32).vkey, p)
    assert open_cosigned(note, LOG.vkey, []).cosignatures == ()


def test_log_times_lie_between_the_witnessed_checkpoints() -> None:
    history = [open_cosigned(cosigned(s, [W[0]], ts), LOG.vkey, [W[0].vkey])
               for s, ts in ((2, 1000), (5, 2000), (9, 3000))]
    # index 3 is in size 5 (cosigned at 2000), not in size 2 (cosigned at 1000)
    assert check_log_times([(0, 900), (3, 1500), (6, 2500), (9, 3500)], history, 0) == 4
    with pytest.raises(LogIntegrityError, match="log index 3: .* after a witness") as err:
        check_log_times([(3, 2100)], history, 0)
    assert err.value.index == 3
    with pytest.raises(LogIntegrityError, match="log index 6: .* before a witness"):
        check_log_times([(6, 1900)], history, 0)
    # within the slack both pass
    assert check_log_times([(3, 2100), (6, 1900)], history, 300) == 2
    assert check_log_times([(1, 5.0)], [], 0) == 0
