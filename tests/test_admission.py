"""Attacks on the v2 trust rules (issue 9, points 1 and 2), on SQLite and PostgreSQL.

The log decides when a fact takes effect (its own time, in the leaf), a statement is logged once,
a replacement names the fact it replaces (compare-and-swap), a statement is bound to one
registry, and only the operator establishes a registry, once. Each attack below is refused with
a typed error whose one-line message names the fix, and leaves everything as it was: the log
head, every table's row count and the compare-and-swap state.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from fake_works import register_fake_work
from reelrights.catalogue import check_body
from reelrights.core.canonical import canonical_bytes
from reelrights.core.ids import new_id
from reelrights.core.license_terms import training_agreement
from reelrights.core.note import NoteSigner
from reelrights.core.statements import decode_entry, make_statement, sign_statement
from reelrights.errors import (
    BadInput,
    Conflict,
    InvalidStatement,
    NotFound,
    ReelrightsError,
    SignatureError,
)
from reelrights.ledger import Ledger
from reelrights.log.verify import verify_log
from reelrights.registry.parties import register_party
from reelrights.rights import bundles, licensing
from reelrights.store.fund_tables import fund_terms
from reelrights.store.tables import (
    current_facts,
    licenses,
    log_entries,
    log_head,
    metadata,
    parties,
    works,
)

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _party(home, ledger, kind: str = "studio", name: str | None = None) -> str:
    return register_party(home, ledger, kind,
                                   name or f"{kind} {new_id('party')[-6:]}").details["id"]


def _at(delta: timedelta) -> str:
    """Now plus ``delta``, as a statement writes its time (whole seconds, UTC)."""
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def _work_body(owner: str) -> dict[str, Any]:
    sha = base64.b16encode(new_id("work").encode().ljust(32, b"x")).decode().lower()
    return {"id": new_id("work"), "kind": "film", "title": f"Film {new_id('work')[-6:]}",
            "owner": owner, "assets": [{"sha256": sha, "size": 1000, "media_type": "video/mp4",
                                        "category": "video", "duration_ms": 60_000,
                                        "name": "reel.mp4"}]}


def _signed(home, ledger, type_: str, actor: str, body: dict[str, Any], time: str | None = None,
            **kw: Any) -> bytes:
    return sign_statement(ledger.new_statement(type_, actor, body, time, **kw),
                          home.party_key(actor))


def snapshot(ledger) -> dict[str, Any]:
    """Everything a refused submission must leave untouched: the log head (size, root, log
    time, registry, checkpoints), every table's row count and the compare-and-swap state."""
    with ledger.db.read() as conn:
        state: dict[str, Any] = {"head": tuple(conn.execute(select(log_head)).one())}
        for t in metadata.sorted_tables:
            state[t.name] = conn.execute(select(func.count()).select_from(t)).scalar_one()
        state["current"] = sorted(tuple(r) for r in conn.execute(select(current_facts)))
    return state


def refused(ledger, entries: list[bytes], error: type[ReelrightsError], *fragments: str,
            pointer: str | None = None) -> ReelrightsError:
    """Submit ``entries``; they must be refused with ``error`` (exactly that class), a one-line
    message holding every fragment, and nothing written."""
    before = snapshot(ledger)
    with pytest.raises(ReelrightsError) as info:
        ledger.submit(entries)
    exc = info.value
    assert type(exc) is error, f"{type(exc).__name__}: {exc}"
    assert "\n" not in exc.message and exc.message == str(exc)
    for fragment in fragments:
        assert fragment in exc.message, exc.message
    if pointer is not None:
        assert getattr(exc, "pointer", None) == pointer, exc.message
        assert exc.message.startswith(pointer + ": ")
    assert snapshot(ledger) == before
    return exc


def _leaf(ledger, index: int) -> bytes:
    with ledger.db.read() as conn:
        return ledger.log.entry(conn, index)


def _log_time(ledger, index: int) -> str:
    t = decode_entry(_leaf(ledger, index)).log_time
    assert t is not None
    return t


def _licensed(home, ledger) -> dict[str, str]:
    """A studio's work, bundled and licensed to a developer."""
    ids = {"studio": _party(home, ledger, "studio"), "dev": _party(home, ledger, "developer")}
    ids["work"], _ = register_fake_work(home, ledger, ids["studio"], f"Film {new_id('work')}")
    ids["bundle"] = bundles.create_bundle(home, ledger, ids["studio"], "Catalog", "1",
                                          [ids["work"]]).details["id"]
    policy = training_agreement(uid=f"urn:reelrights:policy:{new_id('license')}",
                                licensor=ids["studio"], licensee=ids["dev"],
                                bundle=ids["bundle"], model_family="orbit", territories=["US"],
                                until="2099-12-31", fund_share="10")
    r = licensing.grant_license(home, ledger, ids["bundle"], ids["dev"], policy)
    ids["license"], ids["license_index"] = r.details["id"], r.index
    return ids


# ---------------------------------------------------------------------------------------------
# 1-3. The log's time decides; the signed time is bounded and must be a real UTC instant
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("type_", ["work.registered", "license.revoked"])
def test_backdated_past_the_submission_window_is_refused(home, ledger, type_) -> None:
    ids = _licensed(home, ledger)
    body = (_work_body(ids["studio"]) if type_ == "work.registered"
            else {"license": ids["license"], "reason": "backdated"})
    entry = _signed(home, ledger, type_, ids["studio"], body, _at(-timedelta(days=4)))
    refused(ledger, [entry], InvalidStatement, "outside the 72 h submission window",
            "sign the statement again now", pointer="/statement/time")
    # In a batch, the message names the statement's position.
    good = _signed(home, ledger, "work.registered", ids["studio"], _work_body(ids["studio"]))
    refused(ledger, [good, entry], InvalidStatement, "statement 2 of 2:",
            "outside the 72 h submission window")


def test_signed_71_hours_ago_is_accepted_and_takes_effect_at_the_log_time(home, ledger) -> None:
    ids = _licensed(home, ledger)
    signed = _at(-timedelta(hours=71))
    work = _work_body(ids["studio"])
    r = ledger.submit([_signed(home, ledger, "work.registered", ids["studio"], work, signed)])[0]
    rev = ledger.submit([_signed(home, ledger, "license.revoked", ids["studio"],
                                 {"license": ids["license"], "reason": "late notice"},
                                 signed)])[0]
    for receipt in (r, rev):
        leaf = decode_entry(_leaf(ledger, receipt.index))
        assert leaf.time == signed and leaf.log_time == receipt.log_time
        assert leaf.log_time > signed  # ~71 h later: the log's clock, not the signer's
    with ledger.db.read() as conn:
        assert conn.scalar(select(works.c.registered_at).where(works.c.id == work["id"])) \
            == r.log_time
        lic = conn.execute(select(licenses).where(licenses.c.id == ids["license"])).one()
        assert (lic.revoked_at, lic.revoked_index) == (rev.log_time, rev.index)
        assert conn.scalar(select(log_entries.c.time).where(log_entries.c.idx == r.index)) \
            == r.log_time


def test_dated_in_the_future_is_refused_within_the_clock_skew_accepted(home, ledger) -> None:
    studio = _party(home, ledger)
    late = _signed(home, ledger, "work.registered", studio, _work_body(studio),
                   _at(timedelta(minutes=6)))
    refused(ledger, [late], InvalidStatement, "after the log's time",
            "at most 300 s of clock skew", "fix the signer's clock and sign again",
            pointer="/statement/time")
    far = _signed(home, ledger, "work.registered", studio, _work_body(studio),
                  _at(timedelta(days=365)))
    refused(ledger, [far], InvalidStatement, "after the log's time", pointer="/statement/time")
    soon = _at(timedelta(minutes=4))
    work = _work_body(studio)
    r = ledger.submit([_signed(home, ledger, "work.registered", studio, work, soon)])[0]
    assert r.log_time < soon  # effective now, not at the claimed future time
    with ledger.db.read() as conn:
        assert conn.scalar(select(works.c.registered_at).where(works.c.id == work["id"])) \
            == r.log_time


class _RawKey:
    """Signs whatever statement it is given (sign_statement itself refuses bad times)."""

    def __init__(self, key: Any) -> None:
        self.key = key
        self.public_key_bytes = key.public_key_bytes

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)


def _sign_raw(statement: dict[str, Any], key: Any) -> bytes:
    """The canonical envelope of ``statement`` signed (v2 if it names a registry, else v1)
    without any shape check: what a hostile client can always produce."""
    from reelrights.core.statements import SIGNING_CONTEXT, SIGNING_CONTEXT_V2, key_id_for

    context = (SIGNING_CONTEXT_V2 + statement["registry"].encode() + b"\n"
               if "registry" in statement else SIGNING_CONTEXT)
    message = context + canonical_bytes(statement)
    return canonical_bytes({"signature": {"alg": "Ed25519",
                                          "keyid": key_id_for(key.public_key_bytes),
                                          "sig": base64.b64encode(key.sign(message)).decode()},
                            "statement": statement})


@pytest.mark.parametrize("bad", [
    "2026-99-99T99:99:99Z", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z",
    "2026-01-31T24:00:00Z", "2026-01-31T12:00:60Z",
    "2026-01-31T12:00:00+00:00", "2026-01-31T12:00:00+01:00", "2026-01-31T12:00:00-05:00",
    "2026-01-31T12:00:00", "2026-01-31T12:00:00z", "2026-01-31 12:00:00Z", "2026-01-31",
    "2026-01-31T12:00:00.1234567Z", "2026-01-31T12:00:00Z\n", "\uff12026-01-31T12:00:00Z",
    "", 1769860800, None,
])
def test_times_that_are_not_real_utc_instants_are_refused(home, ledger, bad) -> None:
    studio = _party(home, ledger)
    statement = ledger.new_statement("work.registered", studio, _work_body(studio))
    with pytest.raises(InvalidStatement) as info:  # the signing side refuses it too
        sign_statement({**statement, "time": bad}, home.party_key(studio))
    assert info.value.pointer == "/statement/time"
    entry = _sign_raw({**statement, "time": bad}, home.party_key(studio))
    exc = refused(ledger, [entry], InvalidStatement, "RFC 3339 UTC time like "
                  "2026-01-31T12:00:00Z", pointer="/statement/time")
    assert "\n" not in exc.message


# ---------------------------------------------------------------------------------------------
# 4. A statement is logged once
# ---------------------------------------------------------------------------------------------

def test_byte_identical_replay_is_refused(home, ledger) -> None:
    studio = _party(home, ledger)
    entry = _signed(home, ledger, "work.registered", studio, _work_body(studio))
    r = ledger.submit([entry])[0]
    exc = refused(ledger, [entry], Conflict, f"already in the log at index {r.index}",
                  "sign a new statement, with a new id")
    assert r.statement_id in exc.message
    # Replayed inside a batch of good statements: refused, and it names its position.
    other = _signed(home, ledger, "work.registered", studio, _work_body(studio))
    refused(ledger, [other, entry], Conflict, "statement 2 of 2:",
            f"already in the log at index {r.index}")
    # A party's registration replayed (its key is in the body) is a replay too.
    with ledger.db.read() as conn:
        idx = conn.scalar(select(parties.c.log_index).where(parties.c.id == studio))
    reg = decode_entry(_leaf(ledger, idx)).entry
    refused(ledger, [reg], Conflict, f"already in the log at index {idx}")


def test_same_statement_twice_in_one_batch_is_refused(home, ledger) -> None:
    studio = _party(home, ledger)
    entry = _signed(home, ledger, "work.registered", studio, _work_body(studio))
    refused(ledger, [entry, entry], Conflict, "appears twice in the batch",
            "statement 2 of 2:", "each statement is logged once")
    # Same id, different content (not byte-identical): still one id, refused.
    st = ledger.new_statement("work.registered", studio, _work_body(studio))
    a = sign_statement(st, home.party_key(studio))
    b = sign_statement({**st, "body": _work_body(studio)}, home.party_key(studio))
    refused(ledger, [a, b], Conflict, "appears twice in the batch")
    ledger.submit([a])
    refused(ledger, [b], Conflict, f"statement {st['id']} is already in the log")


# ---------------------------------------------------------------------------------------------
# 5. Compare-and-swap: fund terms and license revocations
# ---------------------------------------------------------------------------------------------

def _terms(ledger, license_id: str) -> list[str | None]:
    with ledger.db.read() as conn:
        return list(conn.scalars(select(fund_terms.c.contributors_share)
                                 .where(fund_terms.c.license_id == license_id)
                                 .order_by(fund_terms.c.log_index)))


def test_fund_terms_replay_and_stale_replacement_are_refused(home, ledger) -> None:
    ids = _licensed(home, ledger)
    lic, studio = ids["license"], ids["studio"]
    body = {"license": lic, "licensor": studio}
    a = _signed(home, ledger, "fund.terms", studio, {**body, "contributors_share": "60"})
    ra = ledger.submit([a])[0]
    b_stmt = ledger.new_statement("fund.terms", studio, {**body, "contributors_share": "70"})
    assert b_stmt["supersedes"] == {"id": ra.statement_id}
    rb = ledger.submit([sign_statement(b_stmt, home.party_key(studio))])[0]
    assert _terms(ledger, lic) == ["60", "70"]
    # A's exact bytes again: a replay.
    refused(ledger, [a], Conflict, f"already in the log at index {ra.index}")
    # A new statement that names A (stale): it would undo B.
    stale = _signed(home, ledger, "fund.terms", studio, {**body, "contributors_share": "60"},
                    supersedes={"id": ra.statement_id})
    refused(ledger, [stale], Conflict, f"supersedes {ra.statement_id}",
            "no longer the current fact", f"now {rb.statement_id}",
            "read the current state and sign again")
    # Naming nothing while B is current.
    blind = sign_statement(make_statement("fund.terms", studio,
                                          {**body, "contributors_share": "50"},
                                          registry=home.registry), home.party_key(studio))
    refused(ledger, [blind], Conflict, "must name it in supersedes",
            f"{rb.statement_id}")
    # Naming an unknown statement or the grant's log index.
    for ref in ({"id": new_id("statement")}, {"index": ids["license_index"]}, {"index": 0}):
        wrong = _signed(home, ledger, "fund.terms", studio,
                        {**body, "contributors_share": "55"}, supersedes=ref)
        refused(ledger, [wrong], Conflict, "no longer the current fact")
    # Two replacements of B in one batch: the second is stale by the time it is applied.
    c1 = _signed(home, ledger, "fund.terms", studio, {**body, "contributors_share": "80"})
    c2 = _signed(home, ledger, "fund.terms", studio, {**body, "contributors_share": "90"})
    refused(ledger, [c1, c2], Conflict, "statement 2 of 2:", "no longer the current fact")
    assert _terms(ledger, lic) == ["60", "70"]
    with ledger.db.read() as conn:
        assert conn.execute(select(current_facts.c.statement_id, current_facts.c.log_index)
                            .where(current_facts.c.subject == f"fund.terms:{lic}")).one() \
            == (rb.statement_id, rb.index)
    # The current terms can still be replaced by naming them.
    ledger.submit([c1])
    assert _terms(ledger, lic) == ["60", "70", "80"]


def test_license_revocation_is_compare_and_swap(home, ledger) -> None:
    ids = _licensed(home, ledger)
    lic, studio = ids["license"], ids["studio"]
    body = {"license": lic, "reason": "breach"}
    # A revocation that names no fact, an unknown one, or a stale index is refused.
    blind = sign_statement(make_statement("license.revoked", studio, body,
                                          registry=home.registry), home.party_key(studio))
    refused(ledger, [blind], Conflict, "must name it in supersedes")
    for ref in ({"id": new_id("statement")}, {"index": ids["license_index"] - 1}):
        wrong = _signed(home, ledger, "license.revoked", studio, body, supersedes=ref)
        refused(ledger, [wrong], Conflict, "no longer the current fact",
                "read the current state and sign again")
    # Unknown license: there is nothing to end (the applier says so before compare-and-swap).
    ghost = new_id("license")
    refused(ledger, [_signed(home, ledger, "license.revoked", studio,
                             {"license": ghost, "reason": "x"})],
            NotFound, f"license {ghost} is not registered")
    # The good one names the grant.
    first = ledger.new_statement("license.revoked", studio, body)
    with ledger.db.read() as conn:
        grant_id = conn.scalar(select(log_entries.c.statement_id)
                               .where(log_entries.c.idx == ids["license_index"]))
    assert first["supersedes"] == {"id": grant_id}
    r = ledger.submit([sign_statement(first, home.party_key(studio))])[0]
    # A second revocation: by the domain rule (already revoked), by replay, or stale.
    again = _signed(home, ledger, "license.revoked", studio, {**body, "reason": "again"})
    refused(ledger, [again], Conflict, f"license {lic} was already revoked")
    refused(ledger, [sign_statement(first, home.party_key(studio))], Conflict,
            f"already in the log at index {r.index}")
    stale = _signed(home, ledger, "license.revoked", studio, {**body, "reason": "stale"},
                    supersedes={"id": grant_id})
    refused(ledger, [stale], Conflict, "already revoked")
    # Two revocations in one batch.
    ids2 = _licensed(home, ledger)
    b2 = {"license": ids2["license"], "reason": "x"}
    r1 = _signed(home, ledger, "license.revoked", ids2["studio"], b2)
    r2 = _signed(home, ledger, "license.revoked", ids2["studio"], {**b2, "reason": "y"})
    refused(ledger, [r1, r2], Conflict, "statement 2 of 2:", "already revoked")
    with ledger.db.read() as conn:
        row = conn.execute(select(licenses).where(licenses.c.id == lic)).one()
    assert (row.revoked_index, row.revoke_reason) == (r.index, "breach")


def test_supersedes_on_a_type_that_replaces_nothing_is_refused(home, ledger) -> None:
    studio = _party(home, ledger)
    r = ledger.submit([_signed(home, ledger, "work.registered", studio, _work_body(studio))])[0]
    entry = _signed(home, ledger, "work.registered", studio, _work_body(studio),
                    supersedes={"id": r.statement_id})
    refused(ledger, [entry], InvalidStatement, "replaces nothing; remove supersedes",
            pointer="/statement/supersedes")


def test_a_key_seq_never_declared_is_refused(home, ledger) -> None:
    studio = _party(home, ledger)
    st = ledger.new_statement("work.registered", studio, _work_body(studio))
    st["key"]["seq"] = 1
    refused(ledger, [_sign_raw(st, home.party_key(studio))], SignatureError,
            "names key seq 1", "has not declared")


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("supersedes", None, "of the fact this statement replaces"),
    ("sealed", {"root": "0" * 64, "paths": ["/body/title"]}, '"alg": "reelrights/sealed/v1"'),
    ("sealed", {"alg": "reelrights/sealed/v1", "root": "0" * 64}, "has no private fields"),
])
def test_false_key_null_supersedes_and_sealed_fields_are_refused(home, ledger, field, value,
                                                                 fragment) -> None:
    studio = _party(home, ledger)
    st = ledger.new_statement("work.registered", studio, _work_body(studio))
    st[field] = {**st["key"], **value} if field == "key" else value
    refused(ledger, [_sign_raw(st, home.party_key(studio))], InvalidStatement, fragment,
            pointer=f"/statement/{field}")


# ---------------------------------------------------------------------------------------------
# 6-7. Bound to one registry; v2 statements only; statements, not leaves
# ---------------------------------------------------------------------------------------------

def test_statement_for_another_registry_is_refused(home, ledger) -> None:
    studio = _party(home, ledger)
    entry = sign_statement(make_statement("work.registered", studio, _work_body(studio),
                                          registry="other.example/xyz"), home.party_key(studio))
    refused(ledger, [entry], InvalidStatement, "'other.example/xyz'", home.registry,
            "valid only in the registry it names", pointer="/statement/registry")


def test_v1_statement_after_establishment_is_refused(home, ledger) -> None:
    studio = _party(home, ledger)
    entry = sign_statement(make_statement("work.registered", studio, _work_body(studio)),
                           home.party_key(studio))
    refused(ledger, [entry], InvalidStatement, "v1 statements are no longer accepted",
            "sign it again as v2", pointer="/statement")


def test_a_leaf_is_not_a_statement(home, ledger) -> None:
    studio = _party(home, ledger)
    r = ledger.submit([_signed(home, ledger, "work.registered", studio, _work_body(studio))])[0]
    leaf = _leaf(ledger, r.index)
    assert leaf.startswith(b'{"entry":')
    refused(ledger, [leaf], InvalidStatement, "this is a log leaf, not a signed statement",
            'submit the signed statement (the value of "entry")')
    # A leaf of a statement never logged (wrapped by the attacker with a time of their choice).
    fresh = _signed(home, ledger, "work.registered", studio, _work_body(studio))
    forged = b'{"entry":' + fresh + b',"log":{"time":"2020-01-01T00:00:00.000000Z"}}'
    refused(ledger, [forged], InvalidStatement, "this is a log leaf")
    # Anything else wrapped around the envelope is not a statement either.
    for junk in (b'{"entry":' + fresh + b"}", b'{"entry":' + fresh + b',"log":{}}'):
        refused(ledger, [junk], InvalidStatement)
    ledger.submit([fresh])  # the envelope itself is fine


# ---------------------------------------------------------------------------------------------
# 8. Log times never decrease, and rows carry them
# ---------------------------------------------------------------------------------------------

def test_log_time_never_decreases_and_rows_carry_it(home, ledger) -> None:
    for _ in range(3):
        _party(home, ledger)
    studio = _party(home, ledger)
    batch = [_signed(home, ledger, "work.registered", studio, _work_body(studio),
                     _at(-timedelta(hours=h))) for h in (1, 70, 0)]
    receipts = ledger.submit(batch)
    assert len({r.log_time for r in receipts}) == 1  # one batch, one log time
    _party(home, ledger)
    with ledger.db.read() as conn:
        size = ledger.log.head_state(conn).size
        rows = conn.execute(select(log_entries.c.idx, log_entries.c.time)
                            .order_by(log_entries.c.idx)).all()
        registered = dict(conn.execute(select(parties.c.log_index, parties.c.registered_at)).all())
        work_times = dict(conn.execute(select(works.c.log_index, works.c.registered_at)).all())
        head_time = ledger.log.head_state(conn).time
    times = [_log_time(ledger, i) for i in range(size)]
    assert times == sorted(times) and len(times) == size >= 9
    assert all(len(t) == 27 for t in times)  # one width: they sort as text
    assert [t for _, t in rows] == times  # the index's time column is the leaf's
    assert head_time == times[-1]
    assert registered and all(registered[i] == times[i] for i in registered)
    assert len(work_times) == 3 and all(work_times[i] == times[i] for i in work_times)


def test_a_clock_that_goes_back_does_not_move_the_log_time_back(home, ledger) -> None:
    studio = _party(home, ledger)
    ahead = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with ledger.db.write() as conn:  # the last batch was logged by a clock 1 h ahead
        conn.execute(log_head.update().where(log_head.c.id == 1).values(time=ahead))
    work = _work_body(studio)
    r = ledger.submit([_signed(home, ledger, "work.registered", studio, work)])[0]
    assert r.log_time == ahead == _log_time(ledger, r.index)
    with ledger.db.read() as conn:
        assert conn.scalar(select(works.c.registered_at).where(works.c.id == work["id"])) == ahead
        assert ledger.log.head_state(conn).time == ahead
    # The window is measured from the log time: 5 min of skew past it, not past the wall clock.
    early = _signed(home, ledger, "work.registered", studio, _work_body(studio),
                    _at(timedelta(minutes=64)))
    ledger.submit([early])
    late = _signed(home, ledger, "work.registered", studio, _work_body(studio),
                   _at(timedelta(minutes=66)))
    refused(ledger, [late], InvalidStatement, "after the log's time", pointer="/statement/time")


def test_a_large_batch_is_held_to_the_same_rules(home, ledger) -> None:
    """Batches of PROCESS_MIN statements or more take the workers' road first: an attack hidden
    in one is refused the same way, naming its position."""
    from reelrights.log.workers import PROCESS_MIN

    studio = _party(home, ledger)
    logged = _signed(home, ledger, "work.registered", studio, _work_body(studio))
    r = ledger.submit([logged])[0]
    good = [_signed(home, ledger, "work.registered", studio, _work_body(studio))
            for _ in range(PROCESS_MIN)]
    n = PROCESS_MIN + 1
    backdated = _signed(home, ledger, "work.registered", studio, _work_body(studio),
                        _at(-timedelta(days=4)))
    refused(ledger, good + [backdated], InvalidStatement, f"statement {n} of {n}:",
            "outside the 72 h submission window")
    refused(ledger, good[:-1] + [logged, good[-1]], Conflict, f"statement {n - 1} of {n}:",
            f"already in the log at index {r.index}")
    refused(ledger, good + [good[3]], Conflict, f"statement {n} of {n}:",
            "appears twice in the batch")
    receipts = ledger.submit(good)
    assert len({x.log_time for x in receipts}) == 1
    assert _log_time(ledger, receipts[-1].index) == receipts[0].log_time


def test_consent_revocation_takes_effect_at_the_log_time(home, ledger) -> None:
    from datetime import date

    from reelrights.rights import consent as cs
    from reelrights.store.tables import consents

    jane = _party(home, ledger, "performer", "Jane Roe")
    g = cs.grant_consent(home, ledger, performer=jane, kinds=["voice"], description=(
        "Synthesized replacement dialogue for the character Mara Ellison in the feature film "
        "Harbour Lights, ADR of scenes 12 to 14 only"), media=["audio"], territory=["US"],
        start=datetime.now(UTC).date() + timedelta(days=1), end=date(2035, 12, 31),
        compensation_ref="SAG-2026-0042",
        represented_by="guild", production="Harbour Lights")
    signed = _at(-timedelta(hours=71))  # within the window, but before the grant was logged
    body = {"consent": g.details["id"], "reason": "withdrawn"}
    r = ledger.submit([_signed(home, ledger, "consent.revoked", jane, body, signed)])[0]
    with ledger.db.read() as conn:
        row = conn.execute(select(consents).where(consents.c.id == g.details["id"])).one()
    # It takes effect when logged, after the grant: never at the signed time, before it.
    assert (row.revoked_at, row.revoked_index) == (r.log_time, r.index)
    assert row.granted_at < row.revoked_at and signed < row.granted_at


# ---------------------------------------------------------------------------------------------
# 9. Migrating a v1 log
# ---------------------------------------------------------------------------------------------

def _v1(ledger: Ledger) -> Ledger:
    """Make ``ledger``'s services sign legacy v1 statements (as clients did before v2)."""
    ledger.new_statement = (  # type: ignore[method-assign]
        lambda type_, actor, body, time=None, **kw: make_statement(type_, actor, body, time))
    return ledger


def test_v1_log_migrates_to_v2(home) -> None:
    old = _v1(Ledger.open(home, establish=False))
    try:
        with pytest.raises(ReelrightsError, match="no registry.established statement yet"):
            assert old.registry
        ids = _licensed(home, old)
        spare = _licensed(home, old)  # revoked under v1
        licensing.revoke_license(home, old, spare["license"], "v1 revocation")
        v2_early = sign_statement(make_statement("work.registered", ids["studio"],
                                                 _work_body(ids["studio"]),
                                                 registry=home.registry),
                                  home.party_key(ids["studio"]))
        refused(old, [v2_early], InvalidStatement, "takes only v1 statements",
                "open it with Ledger.open(home) to establish it")
        with old.db.read() as conn:
            v1_size = old.log.head_state(conn).size
            v1_leaves = [old.log.entry(conn, i) for i in range(v1_size)]
        # Establishing it wrongly: as a v1 statement (it would not switch the log, and its
        # backfill would block the real one), with a wrong v1 count, with company, by a party.
        body = {**_established_body(home, old), "v1_entries": v1_size}
        refused(old, [_sign_raw(make_statement("registry.established", "operator", body),
                                home.log_key())], InvalidStatement,
                "registry.established is a v2 statement", pointer="/statement")
        est = make_statement("registry.established", "operator", body, registry=home.registry)
        refused(old, [sign_statement({**est, "body": {**body, "v1_entries": v1_size - 1}},
                                     home.log_key())], InvalidStatement,
                f"v1_entries must be the log's size ({v1_size})",
                pointer="/statement/body/v1_entries")
        v1_work = sign_statement(make_statement("work.registered", ids["studio"],
                                                _work_body(ids["studio"])),
                                 home.party_key(ids["studio"]))
        refused(old, [v1_work, sign_statement(est, home.log_key())], InvalidStatement,
                "registry.established is submitted alone")
        for wrong in ({"origin": "elsewhere.example/log"},
                      {"log_key": "elsewhere.example/log+0123abcd+" + "A" * 44}):
            # Naming another log's origin or key would leave a log that never verifies again.
            refused(old, [sign_statement({**est, "body": {**body, **wrong}}, home.log_key())],
                    InvalidStatement, "must name this log's origin", pointer="/statement/body")
        refused(old, [sign_statement({**est, "actor": ids["studio"],
                                      "key": {"party": ids["studio"], "seq": 0}},
                                     home.party_key(ids["studio"]))], InvalidStatement,
                "signed by the operator with the log's key", pointer="/statement/actor")
    finally:
        old.db.dispose()
    assert all(not leaf.startswith(b'{"entry":') for leaf in v1_leaves)
    assert all(decode_entry(leaf).format == 1 for leaf in v1_leaves)

    ledger = Ledger.open(home)  # establishes
    try:
        with ledger.db.read() as conn:
            head = ledger.log.head_state(conn)
            est = conn.execute(select(log_entries.c.idx, log_entries.c.type, log_entries.c.actor)
                               .where(log_entries.c.type == "registry.established")).all()
            assert verify_log(conn, ledger.log, NoteSigner(home.origin, home.log_key().seed).vkey,
                              check_body=check_body).size == v1_size + 1
            # The backfill: each v1 license is its subject's current fact, by log index.
            facts = dict(conn.execute(select(current_facts.c.subject, current_facts.c.log_index)
                                      .where(current_facts.c.statement_id.is_(None))).all())
            revoked_index = conn.scalar(select(licenses.c.revoked_index)
                                        .where(licenses.c.id == spare["license"]))
        assert est == [(v1_size, "registry.established", "operator")]
        assert (head.size, head.v2_from, head.registry) == (v1_size + 1, v1_size, home.registry)
        s = decode_entry(_leaf(ledger, v1_size))
        assert s.body["v1_entries"] == v1_size and s.format == 2 and s.log_time
        assert [_leaf(ledger, i) for i in range(v1_size)] == v1_leaves  # untouched
        assert facts[f"license:{ids['license']}"] == ids["license_index"]
        assert facts[f"license:{spare['license']}"] == revoked_index
        # Opening again does not establish twice.
        Ledger.open(home).db.dispose()
        with ledger.db.read() as conn:
            assert ledger.log.head_state(conn).size == v1_size + 1

        # A v1 statement after establishment is refused.
        v1 = sign_statement(make_statement("work.registered", ids["studio"],
                                           _work_body(ids["studio"])),
                            home.party_key(ids["studio"]))
        refused(ledger, [v1], InvalidStatement, "v1 statements are no longer accepted",
                f"since log index {v1_size}")
        # A replayed v1 entry (an old leaf) is refused too.
        refused(ledger, [v1_leaves[-1]], InvalidStatement, "v1 statements are no longer accepted")

        # Revoking the v1 license: it names the grant by log index.
        stmt = ledger.new_statement("license.revoked", ids["studio"],
                                    {"license": ids["license"], "reason": "after migration"})
        assert stmt["supersedes"] == {"index": ids["license_index"]}
        stale = _signed(home, ledger, "license.revoked", ids["studio"],
                        {"license": ids["license"], "reason": "stale"},
                        supersedes={"index": ids["license_index"] - 1})
        refused(ledger, [stale], Conflict, "no longer the current fact")
        r = ledger.submit([sign_statement(stmt, home.party_key(ids["studio"]))])[0]
        with ledger.db.read() as conn:
            lic = conn.execute(select(licenses).where(licenses.c.id == ids["license"])).one()
            assert (lic.revoked_at, lic.revoked_index) == (r.log_time, r.index)
            assert verify_log(conn, ledger.log, NoteSigner(home.origin, home.log_key().seed).vkey,
                              check_body=check_body).size == r.index + 1
        # The v1-revoked license cannot be revoked again under v2.
        refused(ledger, [_signed(home, ledger, "license.revoked", spare["studio"],
                                 {"license": spare["license"], "reason": "again"})],
                Conflict, "already revoked")
    finally:
        ledger.db.dispose()


# ---------------------------------------------------------------------------------------------
# 10. Only the operator establishes a registry, and only once
# ---------------------------------------------------------------------------------------------

def _established_body(home, ledger) -> dict[str, Any]:
    return {"origin": home.origin, "log_key": NoteSigner(home.origin, home.log_key().seed).vkey,
            "clock_skew_s": 3600, "submission_window_s": 30 * 24 * 3600, "v1_entries": 0}


def test_a_party_cannot_establish_the_registry(home, ledger) -> None:
    studio = _party(home, ledger)
    key = home.party_key(studio)
    body = _established_body(home, ledger)
    as_party = sign_statement(make_statement("registry.established", studio, body,
                                             registry=home.registry), key)
    refused(ledger, [as_party], InvalidStatement, "signed by the operator with the log's key",
            pointer="/statement/actor")
    # Claiming to be the operator, signed with the party's key.
    as_operator = sign_statement(make_statement("registry.established", "operator", body,
                                                registry=home.registry), key)
    refused(ledger, [as_operator], SignatureError, "not that party's registered key")
    # The operator does not sign party statements either.
    op = sign_statement(make_statement("work.registered", "operator", _work_body(studio),
                                       registry=home.registry), home.log_key())
    refused(ledger, [op], InvalidStatement, "the operator does not sign work.registered",
            pointer="/statement/actor")


def test_a_second_establishment_is_refused(home, ledger) -> None:
    with ledger.db.read() as conn:
        head = ledger.log.head_state(conn)
        first = decode_entry(ledger.log.entry(conn, 0))
    assert (head.v2_from, head.registry, first.type) == (0, home.registry, "registry.established")
    refused(ledger, [first.entry], Conflict, "established at log index 0",
            "it is established once")
    # A new one, properly signed by the operator (looser rules, or another registry id).
    again = sign_statement(make_statement("registry.established", "operator",
                                          _established_body(home, ledger),
                                          registry=home.registry), home.log_key())
    refused(ledger, [again], Conflict, "established at log index 0", "it is established once")
    studio = _party(home, ledger)
    work = _signed(home, ledger, "work.registered", studio, _work_body(studio))
    refused(ledger, [work, again], Conflict, "statement 2 of 2:", "established at log index 0")
    other = sign_statement(make_statement("registry.established", "operator",
                                          _established_body(home, ledger),
                                          registry="other.example/xyz"), home.log_key())
    refused(ledger, [other], InvalidStatement, "valid only in the registry it names",
            pointer="/statement/registry")
    before = snapshot(ledger)
    with pytest.raises(BadInput, match="serves registry") as info:
        ledger.establish("other.example/xyz", home.log_key())
    assert "set the home's registry back" in info.value.message
    ledger.establish(home.registry, home.log_key())  # idempotent
    assert snapshot(ledger) == before
