"""Audit challenge seeds with the witnesses' cosignatures (rule v3, core.audit_seed): without
cosignatures the seed is the v2 seed (old challenges keep theirs); with them it changes, is
re-derived by anyone holding the cosigned checkpoints, ignores late or untrusted cosignatures
and cannot be taken before the window closes. Both backends (the ``home`` fixtures)."""

from __future__ import annotations

import pytest

from reelrights.core.audit_seed import challenge_seed, challenge_seed_v2, seed_cosignatures
from reelrights.core.checkpoint import Checkpoint
from reelrights.core.cosignature import open_cosigned
from reelrights.core.note import CosignatureSigner
from reelrights.core.statements import open_leaf, parse_time
from reelrights.errors import BadInput
from reelrights.evidence import audit_challenge
from test_audits import _clean_items, commit_run, story  # noqa: F401

W = [CosignatureSigner(f"w{i}.example", bytes([0x20 + i]) * 32) for i in range(3)]


def _cosign(note: bytes, signers: list[CosignatureSigner], ts: int) -> bytes:
    text = note[: note.rfind(b"\n\n") + 1].decode()
    return note + "".join(s.sign(text, ts) for s in signers).encode()


def test_witnessed_seed(home, ledger, story, tmp_path) -> None:  # noqa: F811
    from reelrights.core.ids import new_id
    from reelrights.registry.submit import submit_as

    run_id, _ = commit_run(home, ledger, story["dev"], _clean_items(story, 40), tmp_path)
    body = {"id": new_id("challenge"), "run": run_id, "auditor": story["auditor"],
            "samples": 5}
    receipt = submit_as(home, ledger, "audit.challenged", story["auditor"], body)
    with ledger.db.read() as conn:
        v2 = audit_challenge.load_challenge(conn, ledger.log, body["id"])
        note = ledger.log.checkpoint(conn, v2.checkpoint[1])
        entry = next(iter(ledger.log.entries_between(conn, receipt.index, receipt.index + 1)))[2]
    t = int(parse_time(open_leaf(entry)[1] or "").timestamp())
    vkey = home.log_vkey()
    trusted = [w.vkey for w in W[:2]]  # W[2] is not trusted: its cosignature is never read
    history = [open_cosigned(_cosign(note, W, t + 5), vkey, trusted),
               open_cosigned(_cosign(note, W[:1], t + 2), vkey, trusted),  # w0's earliest
               open_cosigned(_cosign(note, W[1:2], t + 300), vkey, trusted)]  # late: ignored
    before = Checkpoint.parse(note[: note.rfind(b"\n\n") + 1])
    assert before.size > receipt.index
    with ledger.db.read() as conn:
        # no cosignatures (or none given): the v2 seed, unchanged
        same = audit_challenge.load_challenge(conn, ledger.log, body["id"], witnessed=[],
                                              now=t + 61)
        assert same.rule == "v2" and same.seed == v2.seed
        with pytest.raises(BadInput, match="try again in"):
            audit_challenge.load_challenge(conn, ledger.log, body["id"], witnessed=history,
                                           now=t + 10)
        v3 = audit_challenge.load_challenge(conn, ledger.log, body["id"], witnessed=history,
                                            now=t + 61)
    assert v3.rule == "v3" and v3.seed != v2.seed and v3.indices() != []
    picked = {(c.witness.split("+")[0], c.timestamp) for c in v3.cosignatures}
    assert picked == {("w0.example", t + 2), ("w1.example", t + 5)}
    # anyone re-derives it from the cosignatures the seed JSON names
    from reelrights.core.audit_seed import log_signature
    from reelrights.core.note import NoteVerifier
    with ledger.db.read() as conn:
        leaf = ledger.log.leaf_hash(conn, receipt.index)
    sig = log_signature(note, NoteVerifier(vkey), before.size)
    assert challenge_seed_v2(leaf, sig) == v2.seed
    assert challenge_seed(leaf, sig, list(reversed(v3.cosignatures))) == v3.seed
    assert [c["line"] for c in v3.seed_json()["cosignatures"]] == [c.line for c in
                                                                   v3.cosignatures]
    # checkpoints not past the challenge's index do not count
    assert seed_cosignatures(history, before.size, t) == []
