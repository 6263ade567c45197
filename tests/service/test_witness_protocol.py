"""The witness (c2sp.org/tlog-witness): every refusal the spec names, over real HTTP on
127.0.0.1 (a `reelrights witness serve` process), the spec's race, and upstream vectors:
litewitness's sigsum requests (tests/assets/litewitness_vectors.json), Sunlight's cosignature
and Tessera's log (tests/assets/tlog_vectors.json)."""

from __future__ import annotations

import base64
import json
import stat
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from witness_kit import WitnessProc, start_witness, witness_init

from reelrights.core.checkpoint import Checkpoint, sign_checkpoint
from reelrights.core.cosignature import open_cosigned
from reelrights.core.merkle import EMPTY_ROOT, MemoryTree
from reelrights.core.note import CosignatureSigner, NoteSigner, NoteVerifier, format_vkey
from reelrights.witness.protocol import Refused, Witness
from reelrights.witness.store import WitnessStore

ASSETS = Path(__file__).parent.parent / "assets"
ORIGIN = "example.com/testlog"


class Log:
    """A small test log: entries, its tree, its key."""

    def __init__(self, origin: str = ORIGIN, seed: bytes = b"\x07" * 32) -> None:
        self.signer = NoteSigner(origin, seed)
        self.tree = MemoryTree()
        self.origin = origin

    def grow(self, n: int) -> None:
        for _ in range(n):
            self.tree.append(bytes([self.tree.size % 251]) * 32)

    def note(self, size: int | None = None, root: bytes | None = None) -> bytes:
        size = self.tree.size if size is None else size
        root = self.tree.root(size) if root is None else root
        return sign_checkpoint(Checkpoint(self.origin, size, root), self.signer)

    def body(self, old: int, size: int | None = None, *, proof: list[bytes] | None = None,
             note: bytes | None = None) -> bytes:
        size = self.tree.size if size is None else size
        if proof is None:
            proof = self.tree.consistency_proof(old, size) if 0 < old < size else []
        lines = "".join(base64.b64encode(h).decode() + "\n" for h in proof)
        return f"old {old}\n{lines}\n".encode() + (note or self.note(size))


def post(w: WitnessProc, body: bytes) -> httpx.Response:
    return httpx.post(w.url + "/add-checkpoint", content=body, timeout=30)


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def witness(tmp_path: Path, log: Log) -> Iterator[WitnessProc]:
    w = start_witness(tmp_path / "w", [log.signer.vkey])
    yield w
    w.stop()


def test_cosigns_a_consistent_history_and_refuses_the_rest(witness: WitnessProc,
                                                            log: Log) -> None:
    log.grow(5)
    r = post(witness, log.body(0))
    assert r.status_code == 200, r.text
    cosigned = open_cosigned(log.note() + r.content, log.signer.vkey, [witness.vkey])
    assert cosigned.checkpoint.size == 5 and len(cosigned.cosignatures) == 1
    assert cosigned.cosignatures[0].timestamp > 1_700_000_000
    log.grow(7)
    assert post(witness, log.body(5)).status_code == 200
    # the same size again (a refresh): empty proof, same root
    assert post(witness, log.body(12, 12)).status_code == 200
    # wrong old: 409 with the witness's size, as text/x.tlog.size
    r = post(witness, log.body(5))
    assert r.status_code == 409
    assert r.headers["content-type"] == "text/x.tlog.size"
    assert r.text == "12\n"
    # the monitoring read: the last cosigned checkpoint, log signature and cosignature
    import hashlib
    r = httpx.get(f"{witness.url}/{hashlib.sha256(ORIGIN.encode()).hexdigest()}/checkpoint")
    assert r.status_code == 200
    assert open_cosigned(r.content, log.signer.vkey, [witness.vkey]).checkpoint.size == 12
    assert httpx.get(f"{witness.url}/{'0' * 64}/checkpoint").status_code == 404


def test_refuses_an_inconsistent_checkpoint(witness: WitnessProc, log: Log) -> None:
    """A fork (same size, other root; a bigger tree not extending the cosigned one; a wrong
    proof) is 422, and the witness's record stays where it was."""
    log.grow(4)
    assert post(witness, log.body(0)).status_code == 200
    forked = Log()
    forked.grow(4)
    forked.tree.append(b"\xee" * 32)
    forked.tree = MemoryTree([b"\xff" * 32] + [bytes([i]) * 32 for i in range(1, 6)])
    # same size, other root
    r = post(witness, forked.body(4, 4, proof=[], note=log.note(4, forked.tree.root(4))))
    assert r.status_code == 422, r.text
    # a bigger tree whose proof is from a different size-4 tree
    r = post(witness, forked.body(4, 6, note=log.note(6, forked.tree.root(6))))
    assert r.status_code == 422
    # a tampered proof
    log.grow(3)
    proof = log.tree.consistency_proof(4, 7)
    proof[0] = bytes(32)
    assert post(witness, log.body(4, proof=proof)).status_code == 422
    # old 0 with a proof, and a size-0 checkpoint with a non-empty root
    fresh = Log("example.com/testlog")
    assert post(witness, fresh.body(0, 0, note=log.note(0, EMPTY_ROOT))).status_code == 409
    assert post(witness, log.body(4, proof=log.tree.consistency_proof(4, 7))).status_code == 200


def test_refuses_unknown_logs_and_bad_signatures(witness: WitnessProc, log: Log) -> None:
    log.grow(3)
    # an origin this witness does not know: 404
    other = Log("example.com/other")
    other.grow(3)
    assert post(witness, other.body(0)).status_code == 404
    # the known origin signed by another key (an impersonator): 403
    impostor = Log(ORIGIN, seed=b"\x09" * 32)
    impostor.grow(3)
    assert post(witness, impostor.body(0)).status_code == 403
    # the log's own line with a flipped signature bit: 403
    note = bytearray(log.note())
    note[-10] ^= 1 if chr(note[-10]) != "A" else 2
    assert post(witness, log.body(0, note=bytes(note))).status_code == 403
    # malformed requests: 400 (no old line, old > size, too many proof lines)
    assert post(witness, b"hello\n\n" + log.note()).status_code == 400
    assert post(witness, log.body(5, 3, proof=[])).status_code == 400
    assert post(witness, log.body(0, proof=[bytes(32)] * 64)).status_code == 400
    assert httpx.get(witness.url + "/add-checkpoint").status_code == 405
    # nothing was cosigned
    assert post(witness, log.body(0)).status_code == 200


def test_concurrent_requests_from_the_same_old_size_one_wins(witness: WitnessProc,
                                                             log: Log) -> None:
    """The spec's race over HTTP: 8 requests from size 2 to sizes 3..10 at once; exactly one is
    cosigned, the others get 409 with the winner's size, and the record is the winner's."""
    log.grow(10)
    assert post(witness, log.body(0, 2)).status_code == 200
    bodies = {n: log.body(2, n) for n in range(3, 11)}
    barrier = threading.Barrier(len(bodies))

    def send(n: int) -> tuple[int, httpx.Response]:
        barrier.wait()
        return n, post(witness, bodies[n])

    with ThreadPoolExecutor(len(bodies)) as pool:
        results = list(pool.map(send, bodies))
    won = [n for n, r in results if r.status_code == 200]
    assert len(won) == 1, [(n, r.status_code) for n, r in results]
    for n, r in results:
        if n != won[0]:
            assert r.status_code == 409 and r.text == f"{won[0]}\n"
    store = WitnessStore(witness.db)
    assert store.get(ORIGIN).size == won[0]
    assert store.get(ORIGIN).root == log.tree.root(won[0])


def _vectors() -> dict[str, Any]:
    return json.loads((ASSETS / "litewitness_vectors.json").read_text())


def test_litewitness_race_vector(tmp_path: Path) -> None:
    """litewitness's TestRace with its sigsum requests: the size-3 request is checked, then
    stalls; the size-5 request wins; the stalled one must get 409, never roll back to 3."""
    v = _vectors()
    vkey = format_vkey(v["origin"], b"\x01" + bytes.fromhex(v["log_public_key_hex"]))
    signer = CosignatureSigner("example.com", bytes.fromhex(v["witness_private_key_hex"])[:32])
    w = Witness(signer, {v["origin"]: [NoteVerifier(vkey)]}, WitnessStore(tmp_path / "w.db"))
    line = w.add_checkpoint(v["request_size1"].encode())
    note1 = v["request_size1"].encode().split(b"\n\n", 1)[1]
    assert open_cosigned(note1 + line, vkey, [signer.vkey]).checkpoint.size == 1
    checked, release = threading.Event(), threading.Event()

    def stall() -> None:
        checked.set()
        release.wait(10)

    w.stall = stall
    outcome: list[object] = []

    def first() -> None:
        try:
            outcome.append(w.add_checkpoint(v["request_size3"].encode()))
        except Refused as exc:
            outcome.append(exc)

    t = threading.Thread(target=first)
    t.start()
    assert checked.wait(10)
    w.stall = None
    w.add_checkpoint(v["request_size5"].encode())
    release.set()
    t.join(10)
    assert isinstance(outcome[0], Refused) and outcome[0].status == 409 and outcome[0].size == 5
    rec = w.store.get(v["origin"])
    assert rec.size == 5 and rec.root == bytes.fromhex(v["root_size5_hex"])


def test_sunlight_cosignature_known_answer(tlog_vectors: dict[str, Any], tmp_path: Path) -> None:
    """Our cosigner reproduces Sunlight's witness cosignature byte for byte (same seed, same
    timestamp), and open_cosigned accepts that line under the upstream vkey."""
    import hashlib

    m = tlog_vectors["sunlight_skylight"]["mirror_checkpoint"]
    seed = hashlib.sha256(m["seed_text"].encode()).digest()
    signer = CosignatureSigner("mirror.example.org", seed)
    assert signer.vkey == m["vkey"]
    text, _, sigs = m["signed_note"].rpartition("\n\n")
    assert signer.sign(text + "\n", m["cosignature_timestamp"]) == sigs


def test_cosigns_the_foreign_tessera_log(tlog_vectors: dict[str, Any], tmp_path: Path) -> None:
    """Tessera's 16 checkpoints, submitted in order with proofs from its entries, are all
    cosigned; a checkpoint out of order is refused."""
    t = tlog_vectors["tessera_log"]
    tree = MemoryTree.from_entries(e.encode() for e in t["entries_text"])
    signer = CosignatureSigner("witness.example/w1", b"\x05" * 32)
    w = Witness(signer, {t["origin"]: [NoteVerifier(t["vkey"])]}, WitnessStore(tmp_path / "w.db"),
                clock=lambda: 1_767_139_200)
    old = 0
    for c in t["checkpoints"]:
        size = c["size"]
        proof = tree.consistency_proof(old, size) if 0 < old < size else []
        body = f"old {old}\n".encode() + b"".join(base64.b64encode(h) + b"\n" for h in proof)
        line = w.add_checkpoint(body + b"\n" + c["signed_note"].encode())
        cosigned = open_cosigned(c["signed_note"].encode() + line, t["vkey"], [signer.vkey])
        assert cosigned.cosignatures[0].timestamp == 1_767_139_200
        old = size
    with pytest.raises(Refused) as err:
        w.add_checkpoint(b"old 15\n\n" + t["checkpoints"][3]["signed_note"].encode())
    assert err.value.status == 400
    # the same over HTTP, to a `reelrights witness serve` configured with Tessera's key
    served = start_witness(tmp_path / "served", [t["vkey"]])
    try:
        old = 0
        for c in t["checkpoints"][:13:3]:  # sizes 0, 3, 6, 9, 12
            size = c["size"]
            proof = tree.consistency_proof(old, size) if 0 < old < size else []
            body = f"old {old}\n".encode() + b"".join(base64.b64encode(h) + b"\n" for h in proof)
            r = post(served, body + b"\n" + c["signed_note"].encode())
            assert r.status_code == 200, r.text
            got = open_cosigned(c["signed_note"].encode() + r.content, t["vkey"], [served.vkey])
            assert got.checkpoint.size == size and len(got.cosignatures) == 1
            old = size
        # Tessera's checkpoint 15 with a proof from 12 that was tampered: refused
        bad = tree.consistency_proof(12, 15)
        bad[-1] = bytes(32)
        body = b"old 12\n" + b"".join(base64.b64encode(h) + b"\n" for h in bad)
        r = post(served, body + b"\n" + t["checkpoints"][15]["signed_note"].encode())
        assert r.status_code == 422
    finally:
        served.stop()


@pytest.mark.parametrize(("known", "old", "size", "root", "proof", "status"), [
    (0, 0, 0, "empty", 0, 200),     # the empty tree
    (0, 0, 0, "leaf", 0, 422),      # a size-0 tree must have the empty root
    (0, 0, 0, "zero", 0, 422),
    (0, 0, 0, "empty", 1, 422),     # no proof from size 0
    (0, 0, 1, "leaf", 0, 200),      # the first non-empty tree
    (0, 0, 1, "leaf", 1, 422),
    (1, 0, 1, "leaf", 1, 409),      # old does not match
    (1, 1, 0, "empty", 0, 400),     # old beyond the checkpoint
])
def test_size_zero_table(tmp_path: Path, known: int, old: int, size: int, root: str,
                         proof: int, status: int) -> None:
    """litewitness's TestZeroSize table (torchwood internal/witness/witness_test.go)."""
    from reelrights.core.merkle import leaf_hash
    log = Log()
    roots = {"empty": EMPTY_ROOT, "leaf": leaf_hash(b"leaf"), "zero": bytes(32)}
    signer = CosignatureSigner("example.com/witness", b"\x06" * 32)
    w = Witness(signer, {ORIGIN: [NoteVerifier(log.signer.vkey)]},
                WitnessStore(tmp_path / "w.db"))
    if known:
        assert w.add_checkpoint(log.body(0, 1, proof=[], note=log.note(1, roots["leaf"])))
    note = log.note(size, roots[root])
    body = log.body(old, size, proof=[roots["leaf"]] * proof, note=note)
    for _ in range(2):  # again: an already cosigned checkpoint (with the matching old size)
        try:
            line = w.add_checkpoint(body)
            got = 200
            assert open_cosigned(note + line, log.signer.vkey, [signer.vkey]).checkpoint.size == size
        except Refused as exc:
            got = exc.status
        assert got == status
        rec = w.store.get(ORIGIN)
        want = (size, roots[root]) if status == 200 else ((1, roots["leaf"]) if known else (0, None))
        assert (rec.size, rec.root) == want
        body = log.body(size, size, proof=[], note=note) if status == 200 else body


def test_witness_init_key_is_private_and_never_overwritten(tmp_path: Path) -> None:
    key, vkey = witness_init(tmp_path, "witness.guild.example/w1")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert NoteVerifier(vkey).alg == 0x04 and vkey.startswith("witness.guild.example/w1+")
    import subprocess
    import sys

    from service_kit import CLI
    again = subprocess.run([sys.executable, "-c", CLI, "witness", "init", "--key", str(key),
                            "--name", "x"], capture_output=True, text=True)
    assert again.returncode == 2 and "already exists" in again.stderr
    key.chmod(0o644)
    served = subprocess.run([sys.executable, "-c", CLI, "witness", "serve", "--config",
                             str(tmp_path / "nope"), "--db", str(tmp_path / "db"), "--key",
                             str(key)], capture_output=True, text=True)
    assert served.returncode == 2 and "readable by others" in served.stderr


def test_log_verify_accepts_a_foreign_log_cosigned_by_our_witness(
        tlog_vectors: dict[str, Any], tmp_path: Path) -> None:
    """`reelrights log verify --tiles DIR --key VKEY --checkpoint F --policy P` on Tessera's log,
    its last checkpoint cosigned by two of our witnesses: 2-of-2 passes, 3-of-3 fails (exit 1)."""
    import subprocess
    import sys

    from service_kit import CLI

    t = tlog_vectors["tessera_log"]
    for item in t["tiles"] + t["entry_bundles"]:
        path = tmp_path / "log" / item["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes.fromhex(item["hex"]))
    last = t["checkpoints"][-1]["signed_note"].encode()
    signers = [CosignatureSigner(f"w{i}.example", bytes([i + 1]) * 32) for i in range(3)]
    lines = b""
    for i, s in enumerate(signers[:2]):
        w = Witness(s, {t["origin"]: [NoteVerifier(t["vkey"])]},
                    WitnessStore(tmp_path / f"w{i}.db"))
        lines += w.add_checkpoint(b"old 0\n\n" + last)
    (tmp_path / "cosigned").write_bytes(last + lines)
    policy = [f"log {t['vkey']}"] + [f"witness W{i} {s.vkey}" for i, s in enumerate(signers)]
    (tmp_path / "two.policy").write_text("\n".join([*policy, "group G all W0 W1", "quorum G"]))
    (tmp_path / "three.policy").write_text("\n".join([*policy, "group G all W0 W1 W2",
                                                      "quorum G"]))

    def verify(policy_file: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", CLI, "--home", str(tmp_path / "nohome"),
                               "log", "verify", "--tiles", str(tmp_path / "log"), "--key",
                               t["vkey"], "--checkpoint", str(tmp_path / "cosigned"),
                               "--policy", str(tmp_path / policy_file)],
                              capture_output=True, text=True)

    ok = verify("two.policy")
    assert ok.returncode == 0, ok.stderr
    assert "size 15" in ok.stdout and "cosigned by 2 witness(es), quorum G met" in ok.stdout
    bad = verify("three.policy")
    assert bad.returncode == 1 and "needs 3 of W0, W1, W2" in bad.stderr
