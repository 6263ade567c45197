"""Fingerprints in the registry: `work add` computes them, `reelrights fingerprint` does paths,
--all and --rebuild-index; bad files are reported per file and the batch goes on; the process
pool isolates a crashing worker. Storage tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from fp_story import media, register_fake_asset  # noqa: F401 (media is a fixture)
from reelrights.cli import cli
from reelrights.evidence import fingerprints as fp
from reelrights.media.engine import INLINE_BYTES, FileJob, LocalEngine, PoolEngine, file_job
from reelrights.media.index import PDQIndex
from reelrights.registry.parties import register_party
from reelrights.registry.works import register_work
from reelrights.store.fingerprint_tables import asset_locations, fingerprints


def run(home, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--home", str(home.path), *args])


def rows(ledger) -> dict[tuple[str, str], object]:  # type: ignore[no-untyped-def]
    with ledger.db.read() as conn:
        return {(r.sha256, r.kind): r for r in conn.execute(select(fingerprints))}


@pytest.fixture
def studio(home, ledger) -> str:
    return register_party(home, ledger, "studio", "Northlight").details["id"]


def test_work_add_fingerprints_every_file_and_records_where_it_is(home, ledger, studio, media):
    r = run(home, "work", "add", "--owner", studio, "--kind", "film", "--title", "Harbour Lights",
            str(media["film_a"]), str(media["song"]), str(media["script_b"]), "--json")
    assert r.exit_code == 0, r.output
    receipt = json.loads(r.stdout)
    assert receipt["fingerprint_failures"] == []
    film, song, script = (a["sha256"] for a in receipt["assets"])
    got = rows(ledger)
    assert {k for k in got} == {(film, "video"), (film, "vcrop"), (song, "audio"),
                                (song, "landmark"), (script, "text")}
    assert all(r.status == "ok" and r.reason is None and r.data for r in got.values())
    video = got[(film, "video")]
    assert json.loads(video.params)["mode"] == "8fps+scenes"  # references: 8 fps
    assert video.items == len(fp.print_classes()["video"].from_bytes(bytes(video.data)).hashes)
    assert got[(film, "vcrop")].items == 8 * video.items  # 4 centred crops, 4 quadrants (fast mode)
    with ledger.db.read() as conn:
        locs = {(r.sha256, r.path) for r in conn.execute(select(asset_locations))}
    assert locs == {(film, str(media["film_a"].absolute())), (song, str(media["song"].absolute())),
                    (script, str(media["script_b"].absolute()))}
    for kind in ("pdq", "audio", "scripts"):
        assert (home.path / "index" / kind / "MANIFEST.json").is_file()
    # The index finds the film's own frames, and its ids decode to the stored print.
    vp = fp.print_classes()["video"].from_bytes(bytes(video.data))
    hits = PDQIndex.open(home.path / "index" / "pdq").search(vp.hashes, radius=0)
    own = hits.id[(hits.id >> fp.FRAME_BITS) == video.seq] & ((1 << fp.FRAME_BITS) - 1)
    assert sorted(set(own.tolist())) == list(range(len(vp.hashes)))


def test_no_fingerprint_then_all_then_nothing_left(home, ledger, studio, media):
    r = run(home, "work", "add", "--owner", studio, "--kind", "film", "--title", "Night Ferry",
            "--no-fingerprint", str(media["film_b"]), str(media["script_b"]))
    assert r.exit_code == 0, r.output
    assert rows(ledger) == {}
    r = run(home, "fingerprint", "--all", "--engine", "local", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert (summary["files"], summary["fingerprinted"], summary["not_fingerprinted"]) == (2, 2, [])
    assert {k for _, k in rows(ledger)} == {"video", "vcrop", "text"}
    again = json.loads(run(home, "fingerprint", "--all", "--json").stdout)
    assert again["files"] == 0
    # Named paths already done are skipped unless --force, which gives them new index ids.
    before = rows(ledger)
    r = run(home, "fingerprint", str(media["script_b"]), "--engine", "local", "--json")
    assert json.loads(r.stdout)["skipped"] == 1 and rows(ledger) == before
    r = run(home, "fingerprint", str(media["script_b"]), "--engine", "local", "--force", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["fingerprinted"] == 1
    after = rows(ledger)
    sha = next(s for s, k in after if k == "text")
    assert after[(sha, "text")].seq != before[(sha, "text")].seq
    assert bytes(after[(sha, "text")].data) == bytes(before[(sha, "text")].data)


def test_bad_files_are_reported_one_line_each_and_the_rest_continue(home, ledger, studio, media,
                                                                    tmp_path):
    good = register_work(home, ledger, studio, "film", "Harbour Lights",
                                  [media["film_a"]]).details["assets"][0]["sha256"]
    corrupt = tmp_path / "broken.mp4"  # an MP4 header, then garbage: fine when registered
    corrupt.write_bytes(media["film_a"].read_bytes()[:48] + bytes(range(256)) * 40)
    bad_sha = register_fake_asset(home, ledger, studio, corrupt)
    stranger = media["own_audio"]
    r = run(home, "fingerprint", str(media["film_a"]), str(corrupt), str(stranger),
            "--engine", "local")
    assert r.exit_code == 2
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2
    assert any(str(corrupt) in e for e in errors) and any("not a registered asset" in e
                                                          and str(stranger) in e for e in errors)
    assert "3 files: 1 fingerprinted, 0 already done, 2 not fingerprinted" in r.stdout
    got = rows(ledger)
    assert got[(good, "video")].status == "ok"
    failed = got[(bad_sha, "video")]
    assert failed.status == "failed" and str(corrupt) in failed.reason and failed.data is None
    assert "\n" not in failed.reason
    # JSON lists the same files as not fingerprinted.
    r = run(home, "fingerprint", str(corrupt), str(stranger), "--engine", "local", "--json")
    listed = json.loads(r.stdout)["not_fingerprinted"]
    assert r.exit_code == 2 and {o["status"] for o in listed} == {"failed", "unregistered"}


def test_a_changed_file_is_not_fingerprinted_under_its_old_asset(home, ledger, studio, media,
                                                                 tmp_path):
    copy = tmp_path / "script.fountain"
    shutil.copy(media["script_b"], copy)
    r = run(home, "work", "add", "--owner", studio, "--kind", "script", "--title", "Night Ferry",
            "--no-fingerprint", str(copy))
    assert r.exit_code == 0, r.output
    copy.write_text(copy.read_text() + "\nFADE OUT.\n")
    r = run(home, "fingerprint", "--all", "--engine", "local", "--json")
    assert r.exit_code == 2
    [bad] = json.loads(r.stdout)["not_fingerprinted"]
    assert "changed since it was recorded" in bad["error"]
    assert rows(ledger) == {}  # the asset itself is fine: nothing is recorded against it


def test_rebuild_index_restores_what_a_lost_index_held(home, ledger, studio, media):
    r = run(home, "work", "add", "--owner", studio, "--kind", "film", "--title", "Harbour Lights",
            str(media["film_a"]), str(media["song"]), str(media["script_b"]))
    assert r.exit_code == 0, r.output
    n_video = sum(1 for (s, k) in rows(ledger) if k in ("video", "vcrop"))
    shutil.rmtree(home.path / "index")
    r = run(home, "fingerprint", "--rebuild-index", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["rebuilt"] == {"video": 1, "vcrop": 1, "audio": 1, "landmark": 1,
                                                 "text": 1}
    stored = fp.print_classes()["video"]
    total = 0
    with ledger.db.read() as conn:
        for row in conn.execute(select(fingerprints).where(fingerprints.c.kind.in_(
                ["video", "vcrop"]))):
            p = stored.from_bytes(bytes(row.data))
            total += int((p.quality >= fp.MIN_QUALITY).sum())
    assert n_video == 2 and len(PDQIndex.open(home.path / "index" / "pdq")) == total
    bad = run(home, "fingerprint", "--rebuild-index", str(media["song"]))
    assert bad.exit_code == 2 and bad.output.startswith("error: ")


def test_bad_arguments_exit_2_with_one_line(home, ledger, media):
    for args in (["fingerprint"], ["fingerprint", "--all", str(media["song"])],
                 ["fingerprint", "/nonexistent/film.mp4"],
                 ["fingerprint", "--all", "--workers", "0"]):
        r = run(home, *args)
        assert r.exit_code == 2, (args, r.output)
        assert r.output.startswith("error: ") and r.output.count("\n") == 1


# ---------------------------------------------------------------------------------------------
# The process pool: same results as in-process, and a crashing worker fails only its own file
# ---------------------------------------------------------------------------------------------

def crash_on_13(x: int) -> int:
    if x == 13:
        import os

        os._exit(9)  # what a decoder segfault looks like to the pool
    return 2 * x


def test_pool_engine_matches_local_and_isolates_a_crashing_worker(media):
    jobs = [FileJob(str(media[k]), None, None, False) for k in ("film_a", "song", "script_b")]
    local = {j.path: r for j, r in LocalEngine().run(file_job, jobs)}
    with PoolEngine(2, inline=False) as pool:
        pooled = {j.path: r for j, r in pool.run(file_job, jobs)}
        assert set(pooled) == set(local)
        for path, r in local.items():
            assert pooled[path].prints == r.prints and r.prints and r.error is None
            assert pooled[path].sha256 == r.sha256
        got = dict(pool.run(crash_on_13, [1, 2, 13, 4, 5], lambda a, why: f"crashed: {why}"))
    assert got == {1: 2, 2: 4, 4: 8, 5: 10,
                   13: "crashed: the worker process crashed on this file"}


def job_pid(job: FileJob) -> int:
    return os.getpid()


def test_pool_engine_runs_small_work_in_process_and_big_work_in_workers(media, tmp_path):
    """A one-file scan starts no worker processes (they cost seconds to start); a batch over
    INLINE_BYTES does, and so does any batch when inline is off."""
    one = [FileJob(str(media["film_a"]))]
    two = [FileJob(str(media[k])) for k in ("film_a", "film_b")]
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        f.truncate(INLINE_BYTES + 1)
    with PoolEngine(2) as pool:
        assert [pid for _, pid in pool.run(job_pid, one)] == [os.getpid()]
        assert {pid for _, pid in pool.run(job_pid, two)} == {os.getpid()}
        pids = {pid for _, pid in pool.run(job_pid, [*two, FileJob(str(big))])}
        assert os.getpid() not in pids
        # hashing reads fast: the same bytes only to hash stay in this process
        assert {pid for _, pid in pool.run(job_pid, [*two, FileJob(str(big), hash_only=True)])} \
            == {os.getpid()}
    with PoolEngine(2, inline=False) as pool:
        assert os.getpid() not in {pid for _, pid in pool.run(job_pid, one)}


def test_index_ids_round_trip_through_frame_bits() -> None:
    seq, frames = 123456, np.array([0, 1, (1 << fp.FRAME_BITS) - 1], np.int64)
    ids = (np.int64(seq) << fp.FRAME_BITS) | frames
    assert ((ids >> fp.FRAME_BITS) == seq).all() and ((ids & ((1 << fp.FRAME_BITS) - 1))
                                                      == frames).all()
