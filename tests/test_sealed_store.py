"""The sealed body store on both backends: erasure (crypto-shredding), a rebuild from tiles
that says "body unavailable" until a body store is supplied, `log verify` opening the stored
bodies against their roots, and the restore drill with sealed bodies."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import update
from sqlalchemy.engine import make_url

from fund_story import build, csv_report
from reelrights.cli import cli
from reelrights.errors import Conflict, PolicyDenied
from reelrights.fund import revenue_import
from reelrights.home import Home
from reelrights.log.tiled import DirTileSource
from reelrights.replica import rebuild
from reelrights.replica.verify import verify_projections
from reelrights.rights import licensing
from reelrights.sealed.copies import body_source_at
from reelrights.sealed.erasure import erase_body
from reelrights.sealed.store import AVAILABLE, ERASED, UNAVAILABLE, body_state_at
from reelrights.store.db import Database
from reelrights.store.sealed_tables import sealed_bodies


def _state(db: Database, ref: str) -> tuple[str | None, object]:
    lic = licensing.license_detail(db, ref)
    with db.read() as conn:
        return body_state_at(conn, lic.log_index), lic.policy


def _sid(ledger, ref: str) -> str:
    from reelrights.sealed.disclose import find_sealed

    with ledger.db.read() as conn:
        return find_sealed(conn, ref)[1].id


def test_erasure_then_rebuild_with_and_without_the_body_store(home, ledger, tmp_path):
    from reelrights.core.license_terms import training_agreement

    ids = build(home, ledger, tmp_path, sealed=True)
    policy = training_agreement(uid="urn:reelrights:policy:lic3", licensor=ids["studio2"],
                                licensee=ids["dev"], bundle=ids["bundle2"],
                                model_family="orbit", territories=["FR"], until="2099-12-31",
                                fund_share="7")
    ids["lic3"] = licensing.grant_license(home, ledger, ids["bundle2"], ids["dev"], policy,
                                          sealed=True).details["id"]
    lic3 = _sid(ledger, ids["lic3"])
    with pytest.raises(PolicyDenied, match="not named"):  # the writer is not a party to it
        erase_body(home, ledger, lic3, ids["writer"], "not mine")
    with pytest.raises(Conflict, match="training run"):  # a run was judged by lic2's terms
        erase_body(home, ledger, _sid(ledger, ids["lic2"]), ids["dev"], "too late")
    erase_body(home, ledger, lic3, ids["dev"], "the licensee asks")  # the licensee is named
    assert _state(ledger.db, ids["lic3"]) == (ERASED, None)
    assert licensing.license_detail(ledger.db, ids["lic3"]).to_json()["sealed"] == ERASED
    assert not (home.path / "sealed" / f"{lic3}.json").exists()  # the home's copy is gone too
    with pytest.raises(Conflict, match="already erased"):
        erase_body(home, ledger, lic3, ids["dev"], "again")
    p = ids["production"]
    q1 = csv_report(tmp_path / "q1.csv", [(p, "2027-Q1", "US", "USD", "100.00", "0")])
    revenue_import.import_report(home, ledger, q1, ids["studio"], sealed=True)
    # log verify: every projection replays with the stored bodies (each against its root)
    assert verify_projections(ledger.db).differences == []

    vkey, note = home.log_vkey(), (home.log_dir / "checkpoint").read_bytes()
    bare = rebuild(DirTileSource(home.log_dir), note, vkey, tmp_path / "bare")
    bare_db = Database(Home.open(bare.home).database_url)
    try:
        assert _state(bare_db, ids["lic"]) == (UNAVAILABLE, None)
        assert _state(bare_db, ids["lic3"]) == (ERASED, None)
        history = licensing.license_detail(bare_db, ids["lic"]).to_json()["history"]
        assert "license.cosigned" in {h["type"] for h in history}  # public facts stand
    finally:
        bare_db.dispose()
    full = rebuild(DirTileSource(home.log_dir), note, vkey, tmp_path / "full",
                   bodies=body_source_at(home.database_url))
    full_db = Database(Home.open(full.home).database_url)
    try:
        state, policy = _state(full_db, ids["lic"])
        assert state == AVAILABLE and policy == licensing.license_detail(ledger.db,
                                                                         ids["lic"]).policy
        assert _state(full_db, ids["lic3"]) == (ERASED, None)  # an erasure stays erased
        assert verify_projections(full_db).differences == []
    finally:
        full_db.dispose()


def test_the_books_are_not_erasable_and_log_verify_names_a_body_that_lost_its_root(
        home, ledger, tmp_path):
    ids = build(home, ledger, tmp_path, sealed=True)
    p = ids["production"]
    q1 = csv_report(tmp_path / "q1.csv", [(p, "2027-Q1", "US", "USD", "100.00", "0")])
    out = revenue_import.import_report(home, ledger, q1, ids["studio"], sealed=True)
    with pytest.raises(PolicyDenied, match="fund's books"):
        erase_body(home, ledger, _sid(ledger, out["id"]), ids["studio"], "hide it")
    with pytest.raises(Conflict, match="splits money by them"):
        erase_body(home, ledger, _sid(ledger, ids["lic"]), ids["dev"], "too late")
    # An operator who edits a kept body is caught: it no longer opens against the root.
    sid = _sid(ledger, out["id"])
    with ledger.db.write() as conn:
        text = conn.scalar(sealed_bodies.select().with_only_columns(sealed_bodies.c.leaves)
                           .where(sealed_bodies.c.statement_id == sid))
        conn.execute(update(sealed_bodies).where(sealed_bodies.c.statement_id == sid)
                     .values(leaves=text.replace('"100.00"', '"1.00"')))
    result = CliRunner().invoke(cli, ["--home", str(home.path), "log", "verify"])
    assert result.exit_code == 1
    assert "does not match the signed root" in result.output


def _drop_schema(url: str) -> None:
    schema = str(make_url(url).query["options"]).split("=", 1)[1]
    plain = url.split("?")[0].replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_restore_drill_keeps_the_sealed_bodies(home, ledger, tmp_path: Path):
    from reelrights.operate.backup import backup, restore

    ids = build(home, ledger, tmp_path, sealed=True)
    want = licensing.license_detail(ledger.db, ids["lic"]).policy
    ledger.close()
    ledger.db.dispose()
    backup(home, tmp_path / "bk")
    args = {}
    if home.database_url.startswith("postgresql"):
        _drop_schema(home.database_url)  # the disaster
        args = {"database_url": home.database_url}
    restore(tmp_path / "bk", tmp_path / "restored", log_key=home.log_key_path, **args)
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "restored"), "log", "verify"])
    assert result.exit_code == 0, result.output
    db = Database(Home.open(tmp_path / "restored").database_url)
    try:
        assert _state(db, ids["lic"]) == (AVAILABLE, want)
    finally:
        db.dispose()


def test_a_sealed_consent_keeps_personal_details_off_the_log_and_erases_them(home, ledger):
    from datetime import UTC, date, datetime

    from sqlalchemy import select

    from reelrights.registry.parties import register_party
    from reelrights.rights import consent as cs
    from reelrights.store.tables import consents, log_entries

    performer = register_party(home, ledger, "performer", "Ada Okafor").details["id"]
    detail = ("Synthesized replacement dialogue for the character Mara Ellison in the feature "
              "film Harbour Lights, ADR of scenes 12 to 14 only")
    r = cs.grant_consent(home, ledger, performer=performer, kinds=["voice"],
                         description=detail, media=["audio"], territory=["US"],
                         start=datetime.now(UTC).date(), end=date(2035, 12, 31),
                         compensation_ref="SAG-2026-0042 private rate", represented_by="guild",
                         production="Harbour Lights", sealed=True)
    with ledger.db.read() as conn:
        leaf = bytes(conn.execute(select(log_entries.c.entry)
                                  .where(log_entries.c.idx == r.index)).scalar_one())
        assert b"Mara Ellison" not in leaf and b"private rate" not in leaf
        assert b'"production":"Harbour Lights"' in leaf  # the scope stays public
        row = conn.execute(select(consents)).one()
    assert row.description == detail  # the registry judged and keeps the full body
    erase_body(home, ledger, r.statement_id, performer, "GDPR art. 17")
    with ledger.db.read() as conn:
        row = conn.execute(select(consents)).one()
        assert (row.description, row.compensation_ref) == ("", "")
    assert verify_projections(ledger.db).differences == []
