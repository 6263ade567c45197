"""The log's own rules, as `log verify` checks them in the stored entries.

The tree, the tiles and the checkpoints prove that the log was only ever appended to; they say
nothing about what was appended. Here the log is rewritten as its operator could do it, holding
the log's key: each changed leaf with its hash, every tile, every checkpoint (signed again) and
the head, all consistent, so a tree-only verification passes. The rules of the log must still
name the entry: the ``registry.established`` statement names this log's key and origin, log
times never decrease, a statement id is logged once, every statement is bound to this registry,
signed times fall in the window around their log time, and no v1 entry follows the
establishment.

Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from test_tamper import SMALL, Log, assert_cli_names, run_verify  # tests/log is on sys.path

from reelrights.admission import DEFAULT_CLOCK_SKEW_S, DEFAULT_SUBMISSION_WINDOW_S
from reelrights.catalogue import check_body
from reelrights.core.checkpoint import Checkpoint, sign_checkpoint
from reelrights.core.ids import new_id
from reelrights.core.merkle import MemoryTree, leaf_hash
from reelrights.core.note import NoteSigner
from reelrights.core.statements import (
    decode_entry,
    make_leaf,
    make_statement,
    open_leaf,
    parse_time,
    sign_statement,
)
from reelrights.core.tiles import TileBuilder
from reelrights.errors import InvalidStatement, LogIntegrityError
from reelrights.home import Home
from reelrights.ledger import Ledger
from reelrights.log.verify import verify_log
from reelrights.store.tables import log_checkpoints, log_entries, log_head, log_tiles


@pytest.fixture
def small(home: Home, ledger: Ledger) -> Log:
    """Index 0 the establishment, 1 and 2 the parties, then works: 11 is a batch of its own,
    between the batches 6-10 and 12-17."""
    log = Log(home, ledger, SMALL)
    assert log.sizes == [1, 2, 3, 6, 11, 12, 18]
    return log


def _log_time(dt: Any) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _work(log: Log, *, time: str, registry_id: str | None = None, id: str | None = None,
          v1: bool = False) -> bytes:
    """A work registered by party Alpha, validly signed with Alpha's key."""
    wid = new_id("work")
    body = {"id": wid, "kind": "film", "title": "Rewritten", "owner": log.pids[0],
            "assets": [{"sha256": hashlib.sha256(wid.encode()).hexdigest(), "size": 7,
                        "media_type": "video/mp4", "category": "video", "name": "r.mp4"}]}
    if v1:
        return sign_statement(make_statement("work.registered", log.pids[0], body, time),
                              log.keys[0])
    return sign_statement(make_statement("work.registered", log.pids[0], body, time,
                                         registry=registry_id or log.home.registry, id=id),
                          log.keys[0])


def rewrite(log: Log, index: int, leaf: bytes) -> None:
    """Put ``leaf`` at ``index`` as the holder of the log's key could: the entry and its leaf
    hash, every tile, every checkpoint's root and signature, and the head's root."""
    signer = NoteSigner(log.home.origin, log.home.log_key().seed)
    with log.ledger.db.write() as conn:
        conn.execute(update(log_entries).where(log_entries.c.idx == index)
                     .values(entry=leaf, leaf_hash=leaf_hash(leaf)))
        entries = [bytes(e) for e in conn.scalars(select(log_entries.c.entry)
                                                  .order_by(log_entries.c.idx))]
        tree = MemoryTree.from_entries(entries)
        for (level, idx), data in TileBuilder(0, {}).append(
                [leaf_hash(e) for e in entries]).items():
            assert conn.execute(update(log_tiles).where(log_tiles.c.level == level,
                                                        log_tiles.c.idx == idx)
                                .values(hashes=data, width=len(data) // 32)).rowcount == 1
        for size in log.sizes:
            note = sign_checkpoint(Checkpoint(log.home.origin, size, tree.root(size)), signer)
            assert conn.execute(update(log_checkpoints).where(log_checkpoints.c.size == size)
                                .values(root=tree.root(size), note=note)).rowcount == 1
        conn.execute(update(log_head).where(log_head.c.id == 1).values(root=tree.root()))


def _decreasing_time(log: Log) -> tuple[bytes, str]:
    """Entry 11, unchanged, under a log time one second before entry 10's."""
    envelope, _ = open_leaf(log.entry(11))
    _, before = open_leaf(log.entry(10))
    earlier = _log_time(parse_time(before) - timedelta(seconds=1))  # type: ignore[arg-type]
    return make_leaf(envelope, earlier), f"log time {earlier} is before the previous entry's"


def _replayed(log: Log) -> tuple[bytes, str]:
    """Entry 4's signed statement again, byte for byte, under entry 11's log time."""
    envelope, _ = open_leaf(log.entry(4))
    _, t = open_leaf(log.entry(11))
    sid = decode_entry(log.entry(4)).id
    return make_leaf(envelope, t), f"statement {sid} was logged before (a replay)"  # type: ignore[arg-type]


def _reused_id(log: Log) -> tuple[bytes, str]:
    """Another statement (a new work) carrying entry 4's statement id."""
    _, t = open_leaf(log.entry(11))
    sid = decode_entry(log.entry(4)).id
    return (make_leaf(_work(log, time=t, id=sid), t),  # type: ignore[arg-type]
            f"statement {sid} was logged before")


def _other_registry(log: Log) -> tuple[bytes, str]:
    _, t = open_leaf(log.entry(11))
    return (make_leaf(_work(log, time=t, registry_id="elsewhere.example/films"), t),  # type: ignore[arg-type]
            f"signed for registry 'elsewhere.example/films', not this log's "
            f"{log.home.registry!r}")


def _backdated(log: Log) -> tuple[bytes, str]:
    """Signed 73 hours before its log time: outside the 72-hour submission window."""
    _, t = open_leaf(log.entry(11))
    signed = _log_time(parse_time(t) - timedelta(hours=73))  # type: ignore[arg-type]
    return (make_leaf(_work(log, time=signed), t),  # type: ignore[arg-type]
            f"signed time {signed} is outside the allowed window around its log time {t}")


def _v1_after_establishment(log: Log) -> tuple[bytes, str]:
    _, t = open_leaf(log.entry(11))
    return _work(log, time=t, v1=True), "a v1 entry after the registry was established"  # type: ignore[arg-type]


RULES = {
    "decreasing_log_time": _decreasing_time,
    "replayed_statement": _replayed,
    "reused_statement_id": _reused_id,
    "other_registry": _other_registry,
    "backdated": _backdated,
    "v1_after_establishment": _v1_after_establishment,
}


@pytest.mark.parametrize("rule", list(RULES))
def test_rewritten_entry_breaks_a_rule_of_the_log(small: Log, rule: str) -> None:
    leaf, why = RULES[rule](small)
    rewrite(small, 11, leaf)
    with small.ledger.db.read() as conn:  # the rewrite is consistent: the tree cannot tell
        assert verify_log(conn, small.ledger.log, small.vkey, signatures=False, check_body=check_body).size == 18
    err = small.verify()
    assert err.index == 11
    assert str(err).startswith("entry 11: ") and why in str(err), str(err)
    line = assert_cli_names(run_verify(small.home), 11)
    assert why in line, line


def test_untouched_log_keeps_the_rules(small: Log) -> None:
    """The rules hold for what the ledger logged: the control for the test above."""
    leaves = [decode_entry(small.entry(i)) for i in range(small.size)]
    times = [s.log_time for s in leaves]
    assert None not in times and times == sorted(times)
    assert len({s.id for s in leaves}) == small.size
    assert {s.registry for s in leaves} == {small.home.registry}
    small.verify_ok()


# --------------------------------------------------------------------------------------------
# The registry.established statement names the log's own key and origin
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("claim", ["log_key", "origin"])
def test_established_for_another_key_or_origin(home: Home, claim: str) -> None:
    """An establishment signed with the log's key but naming another log key (or origin) is a
    log that says it belongs to someone else. The ledger refuses to log one; written into the
    rows by the holder of the log's key (consistently, as above), verification names entry 0."""
    other = {"log_key": NoteSigner(home.origin, os.urandom(32)).vkey,
             "origin": "elsewhere.example/log"}[claim]
    vkey = NoteSigner(home.origin, home.log_key().seed).vkey

    def establishment(time: str | None = None) -> bytes:
        body = {"origin": home.origin, "log_key": vkey, "clock_skew_s": DEFAULT_CLOCK_SKEW_S,
                "submission_window_s": DEFAULT_SUBMISSION_WINDOW_S, "v1_entries": 0}
        body[claim] = other
        return sign_statement(make_statement("registry.established", "operator", body, time,
                                             registry=home.registry), home.log_key())

    bare = Ledger.open(home, establish=False)
    try:
        with pytest.raises(InvalidStatement, match="must name this log's origin"):
            bare.submit([establishment()])
    finally:
        bare.db.dispose()
    ledger = Ledger.open(home)  # establishes, naming its own key and origin
    try:
        log = Log(home, ledger, [2])
        _, t = open_leaf(log.entry(0))
        rewrite(log, 0, make_leaf(establishment(t), t))  # type: ignore[arg-type]
        with ledger.db.read() as conn:
            assert verify_log(conn, ledger.log, vkey, signatures=False, check_body=check_body).size == 5
            with pytest.raises(LogIntegrityError) as err:
                verify_log(conn, ledger.log, vkey, check_body=check_body)
            # Verifying with the key the establishment names is no way out: the log's
            # checkpoints and the establishment itself are signed with the log's key.
            if claim == "log_key":
                with pytest.raises(LogIntegrityError):
                    verify_log(conn, ledger.log, other, check_body=check_body)
    finally:
        ledger.db.dispose()
    assert err.value.index == 0
    want = (f"entry 0: the registry.established statement names the {claim.replace('_', ' ')} "
            f"{other!r}")
    assert str(err.value).startswith(want), str(err.value)
    line = assert_cli_names(run_verify(home), 0)
    assert want in line, line
