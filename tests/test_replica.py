"""Projections are a cache of the log: `log verify` rebuilds every registry table from the
entries and names any stored row that differs; `rebuild` recreates a home from the log's tiles.

Every attack changes a table the commands answer from (`check`, `license show`, `consent show`,
the fund) behind the log's back; before the projection check `log verify` said ok to each.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, insert, select, update

from reelrights.cli import cli
from reelrights.core.ids import new_id
from reelrights.core.license_terms import training_agreement
from reelrights.home import Home
from reelrights.ledger import Ledger
from reelrights.registry.credits import credit_work
from reelrights.registry.parties import register_party
from reelrights.registry.submit import submit_as
from reelrights.replica import compare_projections, verify_projections
from reelrights.replica.tables import (
    LOCAL_TABLES,
    LOG_TABLES,
    PROJECTION_TABLES,
    unclassified_tables,
)
from reelrights.rights import consent, licensing
from reelrights.store.db import Database
from reelrights.store.tables import consents, credits, licenses, log_entries, metadata, parties


def fake_work(home, ledger, owner: str, title: str) -> str:  # noqa: ANN001
    """A registered work of two one-minute reels with made-up digests (no media decoded)."""
    body = {"id": new_id("work"), "kind": "film", "title": title, "owner": owner,
            "assets": [{"sha256": hashlib.sha256(os.urandom(16)).hexdigest(), "size": 1000 + i,
                        "media_type": "video/mp4", "category": "video", "duration_ms": 60_000,
                        "name": f"reel{i}.mp4"} for i in range(2)]}
    submit_as(home, ledger, "work.registered", owner, body)
    return body["id"]


def run(*args: str, env: dict[str, str] | None = None):  # noqa: ANN201
    return CliRunner().invoke(cli, list(args), env=env)


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
    return result.stdout


# -- the classification ----------------------------------------------------------------------

def test_every_table_is_classified_exactly_once() -> None:
    assert unclassified_tables() == [], "classify the new table in reelrights/replica/tables.py"
    names = [*PROJECTION_TABLES, *LOG_TABLES, *LOCAL_TABLES]
    assert len(names) == len(set(names))
    assert set(names) <= set(metadata.tables), set(names) - set(metadata.tables)


# -- a small rights story on both backends ---------------------------------------------------

@pytest.fixture
def story(home, ledger):
    ids = {}
    for label, kind, name in [("studio", "studio", "Northlight"), ("guild", "guild", "SPG"),
                              ("a", "performer", "Ada"), ("dev", "developer", "Orbit AI")]:
        ids[label] = register_party(home, ledger, kind, name).details["id"]
    ids["film"] = fake_work(home, ledger, ids["studio"], "Harbour Lights")
    credit_work(home, ledger, ids["film"], ids["a"], "performer", "1")
    from reelrights.rights import bundles

    ids["bundle"] = bundles.create_bundle(home, ledger, ids["studio"], "Catalog", "1",
                                          [ids["film"]]).details["id"]
    policy = training_agreement(
        uid="urn:reelrights:policy:replica-1", licensor=ids["studio"], licensee=ids["dev"],
        bundle=ids["bundle"], model_family="orbit", territories=["US"], until="2027-12-31",
        fund_share="2.5")
    ids["license"] = licensing.grant_license(home, ledger, ids["bundle"], ids["dev"],
                                             policy).details["id"]
    ids["revoked"] = licensing.grant_license(home, ledger, ids["bundle"], ids["dev"], {
        **policy, "uid": "urn:reelrights:policy:replica-2"}).details["id"]
    licensing.revoke_license(home, ledger, ids["revoked"], "terms breached")
    ids["consent"] = consent.grant_consent(
        home, ledger, performer=ids["a"], kinds=["voice"],
        description="Synthesized narration lines in the Orbit trailer for Harbour Lights",
        media=["audio"], territory=["US"],
        start=datetime.now(UTC).date(), end=date(2027, 12, 31), compensation_ref="SPG-1",
        represented_by="guild", model_family="orbit").details["id"]
    return ids


def tamper(ledger: Ledger, *statements) -> None:  # noqa: ANN002
    with ledger.db.write() as conn:
        for s in statements:
            conn.execute(s)


def verify_fails(home: Home, *names: str) -> str:
    """`log verify` exits 1 and its error output names every one of ``names``."""
    result = run("--home", str(home.path), "log", "verify")
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    for name in names:
        assert name in result.stderr, (name, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stderr


def test_untampered_home_verifies_with_its_projections(home, story) -> None:
    out = ok("--home", str(home.path), "log", "verify")
    assert out.startswith("ok: ") and "projections: " in out and " match the stored rows" in out


def test_license_territory_changed_in_its_row(home, ledger, story) -> None:
    with ledger.db.read() as conn:
        policy = conn.scalar(select(licenses.c.policy).where(licenses.c.id == story["license"]))
    assert 'urn:iso:3166:US"' in policy
    tamper(ledger, update(licenses).where(licenses.c.id == story["license"])
           .values(policy=policy.replace('urn:iso:3166:US"', 'urn:iso:3166:FR"')))
    err = verify_fails(home, "licenses", story["license"], "column policy")
    assert "1 difference " in err


def test_license_revocation_nulled(home, ledger, story) -> None:
    tamper(ledger, update(licenses).where(licenses.c.id == story["revoked"])
           .values(revoked_at=None))
    verify_fails(home, "licenses", story["revoked"], "column revoked_at")


def test_credit_row_deleted(home, ledger, story) -> None:
    tamper(ledger, delete(credits).where(credits.c.work_id == story["film"]))
    verify_fails(home, "credits", story["film"], "row missing")


def test_extra_consent_row(home, ledger, story) -> None:
    with ledger.db.read() as conn:
        row = conn.execute(select(consents).where(consents.c.id == story["consent"])).one()
    forged = {**row._mapping, "id": "con_forgedforgedforg"}
    tamper(ledger, insert(consents).values(**forged))
    verify_fails(home, "consents", "con_forgedforgedforg", "extra row")


def test_party_public_key_swapped(home, ledger, story) -> None:
    tamper(ledger, update(parties).where(parties.c.id == story["dev"])
           .values(public_key=secrets.token_bytes(32)))
    verify_fails(home, "parties", story["dev"], "column public_key")


@pytest.mark.parametrize("column,value", [("type", "license.granted"), ("actor", "pty_x"),
                                          ("time", "2020-01-01T00:00:00Z")])
def test_log_entry_columns_tampered(home, ledger, story, column, value) -> None:
    with ledger.db.read() as conn:
        idx = conn.scalar(select(log_entries.c.idx).where(log_entries.c.type == "consent.granted"))
    tamper(ledger, update(log_entries).where(log_entries.c.idx == idx).values(**{column: value}))
    verify_fails(home, f"log_entries ({idx}) column {column}")


def test_tree_only_skips_the_projections(home, ledger, story) -> None:
    tamper(ledger, delete(credits))
    out = ok("--home", str(home.path), "log", "verify", "--tree-only")
    assert out.startswith("ok: ") and "projections" not in out
    out = run("--home", str(home.path), "log", "verify", "--no-projections")
    assert out.exit_code == 0 and "projections" not in out.stdout


def test_differences_are_capped_and_counted(home, ledger, story) -> None:
    tamper(ledger, update(log_entries).values(actor="pty_x", time="2020-01-01T00:00:00Z"))
    err = verify_fails(home, "log_entries", "... and ")
    with ledger.db.read() as conn:
        n = 2 * (conn.scalar(select(log_entries.c.idx).order_by(log_entries.c.idx.desc()).limit(1)) + 1)
    assert f"{n} differences between the stored projections and the log" in err
    assert len(err.strip().splitlines()) == 20 + 1 + 1  # 20 shown, "... and N more", the error


def test_a_wrong_typed_cell_is_a_named_difference(home, ledger, story) -> None:
    # SQLite keeps what it is given; PostgreSQL casts text to its column's type or refuses.
    if ledger.db.dialect != "sqlite":
        pytest.skip("PostgreSQL enforces column types")
    tamper(ledger, update(licenses).where(licenses.c.id == story["license"])
           .values(log_index="seven"))
    verify_fails(home, "licenses", "column log_index", "'seven'")


# -- rebuild ---------------------------------------------------------------------------------

@pytest.fixture
def new_database(backend_url: str):
    """An empty database for the rebuilt home: None (SQLite in the new home) or a fresh
    PostgreSQL schema of its own."""
    if backend_url.startswith("sqlite"):
        yield None
        return
    import psycopg

    PG_URL = os.environ.get("REELRIGHTS_TEST_POSTGRES_URL",
                            "postgresql+psycopg://postgres@127.0.0.1:5432/test")

    schema = f"t_{secrets.token_hex(6)}"
    plain = PG_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def rebuild_args(tiles: Path, vkey: str, target: Path, database: str | None) -> list[str]:
    args = ["--home", str(target), "rebuild", "--tiles", str(tiles), "--key", vkey]
    return args + (["--database-url", database] if database else [])


def assert_same_projections(a: Database, b: Database) -> None:
    with a.read() as one, b.read() as other:
        assert compare_projections(one, other) == []


def test_rebuild_from_exported_tiles_is_a_read_only_replica(home, ledger, story, tmp_path,
                                                            new_database) -> None:
    tiles = tmp_path / "mirror"
    ok("--home", str(home.path), "log", "export", str(tiles))
    vkey = ok("--home", str(home.path), "log", "key").strip()
    target = tmp_path / "replica"
    out = json.loads(ok(*rebuild_args(tiles, vkey, target, new_database), "--json"))
    with ledger.db.read() as conn:
        size = int(conn.exec_driver_sql("SELECT size FROM log_head").scalar_one())
    assert out["entries"] == out["checkpoint_size"] == size and out["read_only"] is True
    assert out["tables"] >= 25
    replica = Home.open(target)
    assert not replica.log_key_path.exists()
    assert_same_projections(ledger.db, Database(replica.database_url))
    assert ok("--home", str(target), "log", "verify").startswith("ok: ")
    # the same static log: every published file is identical
    for f in tiles.rglob("*"):
        if f.is_file():
            assert (target / "log" / f.relative_to(tiles)).read_bytes() == f.read_bytes(), f
    # reads answer as on the original home; appends are refused, and nothing is written
    assert story["license"] in ok("--home", str(target), "license", "show", story["license"])
    before = sorted(p.name for p in (target / "keys").iterdir())
    result = run("--home", str(target), "party", "add", "--kind", "studio", "--name", "Rival")
    assert result.exit_code == 2 and "read-only replica" in result.stderr
    assert "no log signing key" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in (target / "keys").iterdir()) == before
    with Database(replica.database_url).read() as conn:
        assert int(conn.exec_driver_sql("SELECT size FROM log_head").scalar_one()) == size


def test_rebuild_with_the_log_key_appends_again(home, ledger, story, tmp_path,
                                                new_database) -> None:
    vkey = ok("--home", str(home.path), "log", "key").strip()
    target = tmp_path / "recovered"
    ok(*rebuild_args(home.log_dir, vkey, target, new_database), "--log-key",
       str(home.log_key_path))
    recovered = Home.open(target)
    assert stat.S_IMODE(recovered.log_key_path.stat().st_mode) == 0o600
    assert ok("--home", str(target), "log", "key").strip() == vkey
    out = json.loads(ok("--home", str(target), "party", "add", "--kind", "studio", "--name",
                        "Rival", "--json"))
    assert out["id"].startswith("pty_")
    assert ok("--home", str(target), "log", "verify").startswith("ok: ")


def test_rebuild_refuses_a_wrong_log_key(home, story, tmp_path, new_database) -> None:
    vkey = ok("--home", str(home.path), "log", "key").strip()
    other, _ = Home.init(tmp_path / "other")
    target = tmp_path / "recovered"
    result = run(*rebuild_args(home.log_dir, vkey, target, new_database), "--log-key",
                 str(other.log_key_path))
    assert result.exit_code == 2 and "is not this log's signing key" in result.stderr
    assert not target.exists()


def test_rebuild_never_overwrites_a_home(home, story, tmp_path) -> None:
    vkey = ok("--home", str(home.path), "log", "key").strip()
    before = (home.path / "home.json").read_bytes()
    result = run(*rebuild_args(home.log_dir, vkey, home.path, None))
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert (home.path / "home.json").read_bytes() == before


def test_rebuild_refuses_a_tampered_tile(home, story, tmp_path, new_database) -> None:
    tiles = tmp_path / "mirror"
    ok("--home", str(home.path), "log", "export", str(tiles))
    vkey = ok("--home", str(home.path), "log", "key").strip()
    bundle = next(p for p in (tiles / "tile" / "entries").rglob("*") if p.is_file())
    data = bytearray(bundle.read_bytes())
    data[40] ^= 0x01
    bundle.write_bytes(bytes(data))
    target = tmp_path / "replica"
    result = run(*rebuild_args(tiles, vkey, target, new_database))
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: entry ") and "Traceback" not in result.stderr
    assert not target.exists() and not list(tmp_path.glob(".replica.rebuild-*"))


def test_rebuild_refuses_a_checkpoint_not_signed_by_the_key(home, story, tmp_path) -> None:
    other, _ = Home.init(tmp_path / "other")
    wrong = ok("--home", str(other.path), "log", "key").strip()
    result = run(*rebuild_args(home.log_dir, wrong, tmp_path / "replica", None))
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "replica").exists()


# -- the demo story: replay reproduces every projection ----------------------------------------

@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mp = pytest.MonkeyPatch()
    mp.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    mp.delenv("REELRIGHTS_HOME", raising=False)
    directory = tmp_path_factory.mktemp("demo") / "story"
    try:
        result = CliRunner().invoke(cli, ["demo", str(directory)])
        assert result.exit_code == 0, (result.stdout[-2000:], result.stderr, result.exception)
        yield directory / "home"
    finally:
        mp.undo()


def test_replay_reproduces_every_projection_of_the_demo(demo_home: Path) -> None:
    home = Home.open(demo_home)
    report = verify_projections(Database(home.database_url))
    assert report.entries > 30
    assert [d.describe() for d in report.differences] == []


def test_rebuild_of_the_demo_matches_it(demo_home: Path, tmp_path: Path) -> None:
    vkey = ok("--home", str(demo_home), "log", "key").strip()
    target = tmp_path / "replica"
    ok(*rebuild_args(demo_home / "log", vkey, target, None))
    original = Database(Home.open(demo_home).database_url)
    rebuilt = Database(Home.open(target).database_url)
    assert_same_projections(original, rebuilt)
    with original.read() as a, rebuilt.read() as b:
        for table in ("log_entries", "log_tiles"):
            assert a.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1, 2").all() == \
                b.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1, 2").all()
    assert ok("--home", str(target), "log", "verify").startswith("ok: ")


def test_rebuild_from_a_mirror_over_http(home, story, tmp_path) -> None:
    import functools
    import http.server
    import threading

    tiles = tmp_path / "mirror"
    ok("--home", str(home.path), "log", "export", str(tiles))
    vkey = ok("--home", str(home.path), "log", "key").strip()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tiles))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        target = tmp_path / "replica"
        out = json.loads(ok("--home", str(target), "rebuild", "--tiles", url, "--key", vkey,
                            "--json"))
        assert out["entries"] == out["checkpoint_size"] > 0
        result = run("--home", str(tmp_path / "nothing"), "rebuild", "--tiles", url + "/nope",
                     "--key", vkey)
        assert result.exit_code == 2 and "no checkpoint in" in result.stderr
    finally:
        server.shutdown()
    # on PostgreSQL this also compares a PostgreSQL home with an SQLite replica, row by row
    assert_same_projections(Database(home.database_url), Database(Home.open(target).database_url))
