"""Fingerprinting and scanning on a local Ray instance give what the in-process engine gives.

Ray is an optional extra: without it this module is skipped. The instance is started here with
``ray.init(num_cpus=2, include_dashboard=False)``; the engine uses an instance that is already
running (as it would a cluster at RAY_ADDRESS) and leaves it running.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from fp_story import media, rights_story  # noqa: F401 (media is a fixture)
from reelrights.evidence import fingerprints as fp
from reelrights.evidence.scan import scan_files
from reelrights.home import Home
from reelrights.ledger import Ledger
from reelrights.media.engine import LocalEngine, RayEngine, make_engine
from reelrights.store.fingerprint_tables import fingerprints

ray = pytest.importorskip("ray")

REFS = ("film_a", "film_b", "song", "script_b", "script_c")
SCANNED = ("a_cropped", "a_trimmed", "b_everything", "song_mp3", "script_c_copy", "own_film")


@pytest.fixture(scope="module")
def ray_instance():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _world(root, media, engine):  # type: ignore[no-untyped-def]
    home, _ = Home.init(root)
    ledger = Ledger.open(home)
    ids = rights_story(home, ledger, media)
    summary = fp.fingerprint_paths(home, ledger.db, [media[k] for k in REFS], engine=engine)
    with ledger.db.read() as conn:
        prints = {(r.sha256, r.kind): bytes(r.data) for r in conn.execute(select(fingerprints))}
    return home, ledger, ids, summary, prints


def _scan(home, ledger, ids, media, engine):  # type: ignore[no-untyped-def]
    report = scan_files(home, [media[k] for k in SCANNED], ids["dev"], "orbit", date(2027, 6, 1),
                        "US", engine=engine, db=ledger.db)
    out = []
    for item in report.items:
        j = item.to_json()
        for m in j.get("matches", []):  # work and license ids differ between the two homes
            for k in ("license", "reasons", "license_log_index", "works"):
                m.pop(k, None)
        out.append(j)
    return out, report.exit_code


def test_ray_engine_fingerprints_and_scans_like_the_local_engine(ray_instance, media, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "auto")  # RAY_ADDRESS alone selects Ray
    engine = make_engine(None, 2)
    assert isinstance(engine, RayEngine) and ray.is_initialized()
    home_r, ledger_r, ids_r, sum_r, prints_r = _world(tmp_path / "ray", media, engine)
    home_l, ledger_l, ids_l, sum_l, prints_l = _world(tmp_path / "local", media, LocalEngine())
    assert sum_r.count("ok") == sum_l.count("ok") == len(REFS)
    assert prints_r == prints_l and len(prints_r) == 8  # 2 films x (video, vcrop), song x (audio,
    # landmark), 2 scripts
    scan_r, exit_r = _scan(home_r, ledger_r, ids_r, media, engine)
    scan_l, exit_l = _scan(home_l, ledger_l, ids_l, media, LocalEngine())
    assert scan_r == scan_l and exit_r == exit_l == 3
    assert [i["verdict"] for i in scan_r] == ["licensed", "licensed", "not-licensed", "licensed",
                                              "licensed-consent-missing", "no-match"]
    engine.close()
    assert ray.is_initialized()  # not ours to stop
    for lg in (ledger_r, ledger_l):
        lg.db.dispose()


def test_a_bad_file_on_ray_is_one_failed_item(ray_instance, media, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(media["film_a"].read_bytes()[:1500])
    with RayEngine(2) as engine:
        home, _ = Home.init(tmp_path / "home")
        ledger = Ledger.open(home)
        ids = rights_story(home, ledger, media)
        report = scan_files(home, [broken, media["a_resized"]], ids["dev"], "orbit",
                            date(2027, 6, 1), "US", engine=engine, db=ledger.db)
    assert [i.verdict for i in report.items] == [None, "no-match"]  # nothing fingerprinted here
    assert "broken.mp4" in report.items[0].error and report.exit_code == 2
    ledger.db.dispose()
