"""The guild's co-signature queue on both backends: it asks only the licenses that can need the
guild, and still finds each one that does: named at the grant, or needing it since because a
member was credited later on a work of the bundle (listed, or holding one of its assets)."""

from __future__ import annotations

from sqlalchemy import select

from fake_works import register_fake_work
from fund_story import build
from reelrights.core.license_terms import training_agreement
from reelrights.registry.credits import credit_work
from reelrights.rights import bundles, licensing
from reelrights.rights.guild_views import cosignature_queue
from reelrights.store.resolve import find_many
from reelrights.store.tables import work_assets


def _every_license_missing(ledger, guild: str) -> list[str]:  # noqa: ANN001 - the brute force
    with ledger.db.read() as conn:
        return [lic.id for lic in find_many(conn, licensing.LICENSE)
                if not lic.standing.revoked and guild in lic.standing.missing_cosigners]


def _grant(home, ledger, ids, key: str, owner: str, bundle: str) -> str:  # noqa: ANN001
    policy = training_agreement(uid=f"urn:reelrights:policy:{key}", licensor=ids[owner],
                                licensee=ids["dev"], bundle=bundle, model_family="orbit",
                                territories=["US"], until="2099-12-31", fund_share="1")
    return licensing.grant_license(home, ledger, bundle, ids["dev"], policy).details["id"]


def test_the_queue_is_every_license_missing_the_guild(home, ledger, tmp_path) -> None:
    ids = build(home, ledger, tmp_path)
    guild = ids["guild"]
    assert [q.license.id for q in cosignature_queue(ledger.db, guild)] == []  # lic co-signed
    # Named at the grant: a new license on the bundle of the member's film.
    named = _grant(home, ledger, ids, "again", "studio", ids["bundle"])
    # Needing it since: the member is credited on the script after lic2 was granted.
    credit_work(home, ledger, ids["script"], ids["performer"], "performer", "1/4")
    # Holding an asset: another studio's bundle of a copy of the member's film (same bytes).
    with ledger.db.read() as conn:
        sha = conn.scalar(select(work_assets.c.sha256).where(work_assets.c.work_id == ids["film"]))
    copy, _ = register_fake_work(home, ledger, ids["studio2"], "Harbour Lights (copy)", 1)
    with ledger.db.write() as conn:  # the copy's bytes are the film's (test set-up only)
        conn.execute(work_assets.update().where(work_assets.c.work_id == copy).values(sha256=sha))
    by_asset = bundles.create_bundle(home, ledger, ids["studio2"], "Copies", "1",
                                     [copy]).details["id"]
    held = _grant(home, ledger, ids, "copy", "studio2", by_asset)
    # Not the guild's: a bundle of an uncredited work.
    plain, _ = register_fake_work(home, ledger, ids["studio2"], "Nobody's", 1)
    other = bundles.create_bundle(home, ledger, ids["studio2"], "Plain", "1", [plain])
    _grant(home, ledger, ids, "plain", "studio2", other.details["id"])

    queue = [q.license.id for q in cosignature_queue(ledger.db, guild)]
    assert sorted(queue) == sorted([named, ids["lic2"], held])
    assert queue == _every_license_missing(ledger, guild)
