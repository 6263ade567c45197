"""Long lists a page at a time (registry/listing.py), on both backends: every row once across
the pages, in log order, with the right total; a page out of bounds is refused in words."""

from __future__ import annotations

import pytest

from fake_works import register_fake_work
from reelrights.errors import BadInput
from reelrights.registry.credits import credit_work
from reelrights.registry.listing import (
    credits_page,
    parties_page,
    party_counts,
    party_record,
    works_page,
)
from reelrights.registry.parties import register_party


def _all(fn, *args, limit: int):  # noqa: ANN001, ANN202 - every page of a paged read
    pages, number = [], 1
    while True:
        page = fn(*args, page=number, limit=limit)
        pages.append(page)
        if number >= page.pages:
            return pages
        number += 1


def test_works_credits_and_parties_page_by_page(home, ledger) -> None:
    studio = register_party(home, ledger, "studio", "Paged Pictures").details["id"]
    other = register_party(home, ledger, "studio", "Other Pictures").details["id"]
    ada = register_party(home, ledger, "performer", "Ada Paged").details["id"]
    works = [register_fake_work(home, ledger, studio, f"Reel {i}", n_assets=1)[0]
             for i in range(7)]
    register_fake_work(home, ledger, other, "Not hers", n_assets=1)
    for w in works[:5]:
        credit_work(home, ledger, w, ada, "performer", "0.5")

    pages = _all(works_page, ledger.db, studio, limit=3)
    assert [p.total for p in pages] == [7, 7, 7] and [p.number for p in pages] == [1, 2, 3]
    assert [w.id for p in pages for w in p.items] == works  # each once, in log order
    assert (pages[2].first, pages[2].last, pages[2].pages) == (7, 7, 3)

    credited = _all(credits_page, ledger.db, ada, limit=2)
    assert [c.work for p in credited for c in p.items] == works[:5]
    assert {(c.title, c.role, c.share) for c in credited[0].items} == {
        ("Reel 0", "performer", "0.5"), ("Reel 1", "performer", "0.5")}
    assert credits_page(ledger.db, studio).total == 0  # the owner holds no credit

    studios = _all(parties_page, ledger.db, "studio", limit=1)
    assert [p.items[0].id for p in studios] == [studio, other]
    assert parties_page(ledger.db, limit=500).total == 3
    assert party_counts(ledger.db) == {"performer": 1, "studio": 2}
    assert party_record(ledger.db, "Ada Paged").id == ada
    past = works_page(ledger.db, studio, page=9, limit=3)
    assert past.items == () and past.first == 0 and past.pages == 3


@pytest.mark.parametrize(("page", "limit", "words"), [
    (0, 50, "numbered from 1"), (1, 0, "1 to 500 rows"), (1, 501, "1 to 500 rows")])
def test_a_page_out_of_bounds_is_refused(home, ledger, page: int, limit: int,
                                         words: str) -> None:
    with pytest.raises(BadInput, match=words):
        parties_page(ledger.db, page=page, limit=limit)
