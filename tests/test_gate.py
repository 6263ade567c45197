"""The training gate on both backends: it yields exactly what ``check`` allows under the
licenses the run relies on, writes the manifest of exactly those items, logs run.started
before the first item, stops on a revocation, and refuses an ``own`` claim on another party's
registered asset."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from reelrights.core.commitment import encode_item
from reelrights.errors import BadInput, Conflict
from reelrights.evidence import runs
from reelrights.gate import TrainingGate
from reelrights.rights import licensing
from reelrights.rights.decisions import DecisionTable
from reelrights.rights.policy import check_manifest, resolve_context
from reelrights.store.tables import log_entries
from test_runs import make_story


@pytest.fixture
def story(home, ledger):
    return make_story(home, ledger)


def _item(sha: str, units: int = 30, **extra) -> dict:
    return {"sha256": sha, "kind": "video", "units": units, "unit": "seconds", **extra}


def _dataset(story) -> list[dict]:
    unknown = hashlib.sha256(b"never registered").hexdigest()
    own = hashlib.sha256(b"the developer's own footage").hexdigest()
    return [_item(story["assets"][0]), _item(unknown), _item(story["assets"][1], units=12),
            _item(own, basis={"type": "own"}),
            # an "own" claim on the studio's registered asset must not pass
            _item(story["assets"][0], basis={"type": "own"}),
            _item(own, basis={"type": "open-license", "spdx": "CC-BY-4.0"}, language="en")]


def test_gate_yields_what_check_allows_and_commits_exactly_that(home, ledger, story, tmp_path):
    manifest = tmp_path / "run.jsonl"
    gate = TrainingGate.open(home, ledger, developer=story["dev"], model_family="orbit",
                             manifest=manifest, territory="US",
                             licenses_relied_on=[story["lic"]])
    with ledger.db.read() as conn:
        size_before = len(conn.execute(select(log_entries.c.idx)).all())
    stream = gate.wrap(_dataset(story))
    first = next(stream)  # run.started is logged before the first item is handed out
    with ledger.db.read() as conn:
        types = list(conn.scalars(select(log_entries.c.type)
                                  .where(log_entries.c.idx >= size_before)))
    assert types == ["run.started"] and gate.run_id is not None
    got = [first, *stream]
    assert [g["sha256"] for g in got] == [story["assets"][0], story["assets"][1],
                                          _dataset(story)[3]["sha256"],
                                          _dataset(story)[5]["sha256"]]
    assert sum(gate.refusals.values()) == 2
    assert any("no license" in r for r in gate.refusals)
    assert any("registered to " + story["studio"] in r for r in gate.refusals)
    out = gate.commit(model="orbit-1")
    assert out["count"] == 4 and out["allowed"] == 4 and out["refused"] == 2
    assert out["judged"] != "at_commit"  # the start and the commit bound the interval
    raw = manifest.read_bytes().splitlines()
    lines = [json.loads(x) for x in raw]
    assert [encode_item(x) for x in lines] == raw  # every line is in canonical (JCS) form
    assert [x["basis"]["type"] for x in lines] == ["license", "license", "own", "open-license"]
    assert lines[0]["basis"] == {"type": "license", "license": story["lic"],
                                 "bundle": story["bundle"]}
    detail = runs.run_detail(ledger.db, out["id"])
    assert detail.count == 4 and detail.judged == "over_interval"
    assert [u.license for u in detail.usage] == [story["lic"]]


def test_decision_table_agrees_with_check_manifest_on_every_item(ledger, story):
    shas = [*story["assets"], hashlib.sha256(b"x").hexdigest()]
    for dev in ("dev", "dev2"):
        for territory in ("US", "FR"):
            with ledger.db.read() as conn:
                ctx = resolve_context(conn, licensee=story[dev], action="train",
                                      model_family="orbit", on=date(2030, 1, 1),
                                      territory=territory)
                table = DecisionTable(conn, ctx)
                expected = {sha: (v.allowed, v.license, v.reasons)
                            for sha, v in check_manifest(conn, ctx, shas)}
            got = {sha: (d.verdict.allowed, d.verdict.license, d.verdict.reasons)
                   for sha in shas for d in [table.decide(sha)]}
            assert got == expected
            assert any(a for a, _, _ in got.values()) == (territory == "US")


def test_a_revocation_during_the_run_stops_the_gate(home, ledger, story, tmp_path):
    gate = TrainingGate.open(home, ledger, developer=story["dev"], model_family="orbit",
                             manifest=tmp_path / "m.jsonl", territory="US",
                             licenses_relied_on=[story["lic"]], refresh_s=0.0)
    stream = gate.wrap([_item(story["assets"][0]), _item(story["assets"][1])])
    assert next(stream)["sha256"] == story["assets"][0]
    licensing.revoke_license(home, ledger, story["lic"], "breach")
    assert list(stream) == []
    assert any("revoked" in r for r in gate.refusals)


def test_items_under_a_license_the_run_does_not_rely_on_are_refused(home, ledger, story,
                                                                     tmp_path):
    gate = TrainingGate.open(home, ledger, developer=story["dev"], model_family="orbit",
                             manifest=tmp_path / "m.jsonl", territory="US",
                             licenses_relied_on=[story["lic2"]])
    assert list(gate.wrap([_item(story["assets"][0])])) == []
    assert list(gate.refusals) == [f"license {story['lic']} is not among those the run "
                                   "relies on"]


def test_parquet_manifest_and_bad_items(home, ledger, story, tmp_path):
    path = tmp_path / "m.parquet"
    gate = TrainingGate.open(home, ledger, developer=story["dev"], model_family="orbit",
                             manifest=path, territory="US")
    items = [_item(story["assets"][0]), {"sha256": story["assets"][1], "kind": "video",
                                         "units": -1, "unit": "seconds"}, "not a mapping"]
    assert len(list(gate.wrap(items))) == 1
    assert any("units" in r for r in gate.refusals)
    assert any("describe=" in r for r in gate.refusals)
    out = gate.commit(model="orbit-2")
    assert out["count"] == 1 and pq.read_table(path).num_rows == 1
    with pytest.raises(Conflict):
        gate.commit(model="orbit-2")


def test_an_existing_manifest_is_never_overwritten(home, ledger, story, tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text("keep me\n")
    with pytest.raises(Conflict, match="already exists"):
        TrainingGate.open(home, ledger, developer=story["dev"], model_family="orbit",
                          manifest=path)
    assert path.read_text() == "keep me\n"
    with pytest.raises(BadInput, match="no license"):
        TrainingGate.open(home, ledger, developer=story["studio"], model_family="orbit",
                          manifest=tmp_path / "n.jsonl")
