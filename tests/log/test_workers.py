"""The worker-process paths of the write and verify paths (reelrights.log.workers).

Large batches check their signatures in worker processes while the batch is applied, and a
tree-only verify of a large SQLite log hashes the leaves in worker processes. These tests force
both paths (thresholds lowered or batches above them) and check that the verdicts, the error
positions and the all-or-nothing guarantee are the same as on the in-thread paths.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete
from test_database_log import Party, db_snapshot
from test_tamper import BIG, Log, flipped, title_offset

from reelrights.catalogue import check_body
from reelrights.core.ids import new_id
from reelrights.errors import Conflict, SignatureError
from reelrights.log import verify as verify_module
from reelrights.log import workers
from reelrights.log.verify import verify_log
from reelrights.store.tables import log_entries


def _forge(entry: bytes) -> bytes:
    m = re.search(rb'"title":"Work (\d{6})"', entry)
    assert m is not None
    return entry.replace(m.group(0), m.group(0)[:-2] + b'Q"')


def test_signature_job_in_processes_finds_the_first_bad() -> None:
    """Straight from the job: several chunks, bad items in two of them, the first one wins."""
    from reelrights.keys import PartyKey

    key = PartyKey.generate()
    n = workers.PROCESS_MIN + 1500
    signed = [key.sign(b"m%d" % i) + b"m%d" % i for i in range(n)]
    keys = [key.public_key_bytes] * n
    assert workers.SignatureJob(signed, keys, list(range(n))).first_bad() is None
    bad = list(signed)
    for i in (1900, 1500):  # 1500 is in an earlier chunk than 1900
        bad[i] = bad[i][:64] + b"x" + bad[i][65:]
    job = workers.SignatureJob(bad, keys, [10 * i for i in range(n)])
    assert job._futures, "the job should have gone to worker processes"
    assert job.first_bad() == 15000
    # a key-id mismatch found before any Ed25519 counts when it comes first
    assert workers.SignatureJob(bad, keys, [10 * i for i in range(n)], known_bad=7).first_bad() == 7


def test_large_batch_bad_signature_refused(home, ledger) -> None:
    p = Party(home, ledger, "studio", "P")
    size = workers.PROCESS_MIN + 88
    batch = [p.work()[1] for _ in range(size)]
    batch[size - 3] = _forge(batch[size - 3])
    batch[size - 40] = _forge(batch[size - 40])
    before = db_snapshot(ledger)
    with pytest.raises(SignatureError) as err:
        ledger.submit(batch)
    assert str(err.value).startswith(f"statement {size - 39} of {size}: "), str(err.value)
    assert db_snapshot(ledger) == before
    batch[size - 3] = p.work()[1]
    batch[size - 40] = p.work()[1]
    receipts = ledger.submit(batch)
    assert [r.index for r in receipts] == list(range(before["head"][0], before["head"][0] + size))


def test_bad_signature_beats_an_earlier_registry_refusal(home, ledger) -> None:
    """Signatures are checked while the registry applies the batch; a registry refusal (here a
    duplicate work id at position 2) still loses to a bad signature anywhere in the batch."""
    p = Party(home, ledger, "studio", "P")
    wid, first = p.work()
    ledger.submit([first])
    size = workers.PROCESS_MIN + 10
    batch = [p.work()[1] for _ in range(size)]
    batch[1] = p.work(work_id=wid)[1]
    before = db_snapshot(ledger)
    with pytest.raises(Conflict, match=f"^statement 2 of {size}: "):
        ledger.submit(batch)
    batch[size - 1] = _forge(batch[size - 1])
    with pytest.raises(SignatureError, match=f"^statement {size} of {size}: "):
        ledger.submit(batch)
    assert db_snapshot(ledger) == before


def test_known_asset_in_a_large_batch_is_not_new(home, ledger) -> None:
    """The applier's no-lookup path gives way to the checked path when an asset is known."""
    p = Party(home, ledger, "studio", "P")
    wid, first = p.work()
    ledger.submit([first])
    sha = re.search(rb'"sha256":"([0-9a-f]{64})"', first).group(1).decode()
    size = workers.PROCESS_MIN + 10
    batch = [p.work()[1] for _ in range(size)]
    again = p.work(sha=sha, size=int(re.search(rb'"size":(\d+)', first).group(1)))
    batch[300] = again[1]
    receipts = ledger.submit(batch)
    assets = receipts[300].details["assets"]
    assert assets == [{"sha256": sha, "name": assets[0]["name"], "new": False, "first_work": wid}]
    assert all(r.details["assets"][0]["new"] for i, r in enumerate(receipts) if i != 300)


@pytest.fixture
def leaf_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_module, "_WORKER_MIN", 0)
    monkeypatch.setattr(workers, "leaf_hash_ranges",
                        lambda path, start, end, step=64: _ranges(path, start, end, step))


_real_ranges = workers.leaf_hash_ranges


def _ranges(path: str, start: int, end: int, step: int):  # small ranges: several workers' answers
    return _real_ranges(path, start, end, step)


def _worker_path_used(log: Log) -> bool:
    with log.ledger.db.read() as conn:
        return verify_module._sqlite_path(conn) is not None


def test_tree_only_verify_in_workers(home, ledger, leaf_workers) -> None:
    log = Log(home, ledger, BIG)
    with log.ledger.db.read() as conn:
        report = verify_log(conn, log.ledger.log, log.vkey, signatures=False, check_body=check_body)
    assert report.size == log.size == 520 and report.checkpoints == len(log.sizes) == 8
    if log.ledger.db.dialect == "sqlite":
        assert workers._pool is not None, "the leaves should have been hashed by the workers"


@pytest.mark.parametrize("index", [3, 130, 519])
def test_tree_only_verify_in_workers_names_the_altered_entry(home, ledger, leaf_workers,
                                                            index: int) -> None:
    log = Log(home, ledger, BIG)
    forged = flipped(log.entry(index), title_offset(log.entry(index)))
    log.set(log_entries, log_entries.c.idx == index, entry=forged)
    err = log.verify(signatures=False)
    assert err.index == index and "do not hash to the stored leaf hash" in str(err)


def test_tree_only_verify_in_workers_names_a_missing_entry(home, ledger, leaf_workers) -> None:
    log = Log(home, ledger, BIG)
    with log.ledger.db.write() as conn:
        conn.execute(delete(log_entries).where(log_entries.c.idx == 200))
    err = log.verify(signatures=False)
    assert err.index == 200 and "missing" in str(err)
    assert _worker_path_used(log) == (log.ledger.db.dialect == "sqlite")


def test_work_ids_stay_unique_on_the_fast_path(home, ledger) -> None:
    """Two statements with one work id in one large batch: refused, at the second."""
    p = Party(home, ledger, "studio", "P")
    wid = new_id("work")
    size = workers.PROCESS_MIN + 10
    batch = [p.work()[1] for _ in range(size)]
    batch[5] = p.work(work_id=wid)[1]
    batch[9] = p.work(work_id=wid)[1]
    with pytest.raises(Conflict, match=f"^statement 10 of {size}: .*already registered"):
        ledger.submit(batch)


def test_a_good_large_batch_never_takes_the_ordinary_path(home, ledger, monkeypatch) -> None:
    """Good batches above the threshold are checked in the workers only (no second pass),
    including parties registered in the batch that sign later statements of the same batch."""
    from test_database_log import new_party_statement

    from reelrights.write import roads

    p = Party(home, ledger, "studio", "P")
    monkeypatch.setattr(roads.Road, "decode",  # the ordinary road's first step (QuickRoad's own)
                        lambda self, entries, keys: pytest.fail("fell back to the ordinary road"))
    size = workers.PROCESS_MIN + 10
    before = db_snapshot(ledger)["head"][0]
    receipts = ledger.submit([p.work()[1] for _ in range(size)])
    assert [r.index for r in receipts] == list(range(before, before + size))
    newcomers = [new_party_statement(ledger.registry) for _ in range(size - 1)]
    pid, key, _ = newcomers[0]
    from reelrights.core.statements import sign_statement
    body = {"id": new_id("work"), "kind": "film", "title": "Newcomer's first", "owner": pid,
            "assets": [{"sha256": "ab" * 32, "size": 7, "media_type": "video/mp4",
                        "category": "video", "name": "n.mp4"}]}
    batch = [e for _, _, e in newcomers] + [
        sign_statement(ledger.new_statement("work.registered", pid, body), key)]
    receipts = ledger.submit(batch)
    assert receipts[-1].type == "work.registered" and receipts[-1].actor == pid
    with ledger.db.read() as conn:
        assert verify_log(conn, ledger.log, _vkey(home), check_body=check_body).size == before + 2 * size


def _vkey(home) -> str:
    from reelrights.core.note import NoteSigner

    return NoteSigner(home.origin, home.log_key().seed).vkey


_UNGUARDED = '''
import os
from reelrights.keys import PartyKey
from reelrights.log import workers
with open({runs!r}, "a") as f:
    f.write(f"{{os.getpid()}}\\n")
key = PartyKey.generate()
n = workers.PROCESS_MIN + 100
signed = [key.sign(b"m%d" % i) + b"m%d" % i for i in range(n)]
job = workers.SignatureJob(signed, [key.public_key_bytes] * n, list(range(n)))
print(len(job._futures), job.first_bad())
'''


def test_workers_never_run_the_callers_script_again(tmp_path) -> None:
    """A script without an ``if __name__ == "__main__"`` guard runs once: the spawned workers
    do not import it (they would otherwise repeat everything it does, writes included)."""
    import subprocess
    import sys

    runs = tmp_path / "runs.txt"
    script = tmp_path / "unguarded.py"
    script.write_text(_UNGUARDED.format(runs=str(runs)))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "None"]  # one task, done by a worker; all verify
    assert len(runs.read_text().split()) == 1
