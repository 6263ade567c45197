"""Training-run commitments on both backends: commit, show, proofs, privacy of the salts,
bad manifests, Parquet against JSONL, and the applier's license rules."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import rfc8785
from click.testing import CliRunner
from sqlalchemy import select, text

from fake_works import register_fake_work
from reelrights.cli import cli
from reelrights.core import commitment as c
from reelrights.core.ids import new_id
from reelrights.core.license_terms import training_agreement
from reelrights.core.manifest import PARQUET_COLUMNS
from reelrights.core.statements import sign_statement
from reelrights.errors import BadInput, Conflict, NotFound, PolicyDenied
from reelrights.evidence import manifest_scan, runs
from reelrights.registry.parties import register_party
from reelrights.rights import bundles, licensing
from reelrights.store.evidence_tables import run_usage, training_runs
from reelrights.store.tables import log_entries


@pytest.fixture
def story(home, ledger):
    return make_story(home, ledger)


def make_story(home, ledger) -> dict:
    """A studio, two developers and a guild; two films in two bundles; three licenses."""
    ids = {}
    for label, kind, name in [("studio", "studio", "Northlight"), ("dev", "developer", "Orbit AI"),
                              ("dev2", "developer", "Other AI"), ("guild", "guild", "SPG")]:
        ids[label] = register_party(home, ledger, kind, name).details["id"]
    ids["film"], ids["assets"] = register_fake_work(home, ledger, ids["studio"], "Harbour Lights")
    ids["film2"], _ = register_fake_work(home, ledger, ids["studio"], "Second Film")
    ids["bundle"] = bundles.create_bundle(home, ledger, ids["studio"], "Catalog", "1",
                                          [ids["film"]]).details["id"]
    ids["bundle2"] = bundles.create_bundle(home, ledger, ids["studio"], "Other", "1",
                                           [ids["film2"]]).details["id"]
    for key, bnd, dev in [("lic", "bundle", "dev"), ("lic_other", "bundle", "dev2"),
                          ("lic2", "bundle2", "dev")]:
        policy = training_agreement(uid=f"urn:reelrights:policy:{key}", licensor=ids["studio"],
                                    licensee=ids[dev], bundle=ids[bnd], model_family="orbit",
                                    territories=["US"], until="2099-12-31", fund_share="2.5")
        ids[key] = licensing.grant_license(home, ledger, ids[bnd], ids[dev], policy).details["id"]
    return ids


def _items(story, n_licensed: int = 5) -> list[dict]:
    lic = {"type": "license", "license": story["lic"], "bundle": story["bundle"]}
    out = [{"sha256": story["assets"][i % 2], "kind": "video", "units": 60 + i, "unit": "seconds",
            "basis": lic, "acquired": f"2025-0{1 + i % 9}", "content_type": "film"}
           for i in range(n_licensed)]
    out += [{"sha256": hashlib.sha256(b"own").hexdigest(), "kind": "text", "units": 5000,
             "unit": "tokens", "basis": {"type": "own"}, "language": "en"},
            {"sha256": hashlib.sha256(b"pd").hexdigest(), "kind": "image", "units": 1,
             "unit": "images", "basis": {"type": "public-domain"}},
            {"sha256": hashlib.sha256(b"cc").hexdigest(), "kind": "audio", "units": 30,
             "unit": "seconds", "basis": {"type": "open-license", "spdx": "CC-BY-4.0"},
             "dataset": "https://example.org/sounds \u00e9"}]
    return out


def _write_jsonl(path: Path, items: list[dict], pretty_every: int = 3) -> Path:
    with open(path, "wb") as f:
        for i, it in enumerate(items):  # mix canonical lines and ordinary JSON
            f.write((json.dumps(it).encode() if i % pretty_every == 0 else rfc8785.dumps(it))
                    + b"\n")
    return path


def _write_parquet(path: Path, items: list[dict], row_group_size: int = 3) -> Path:
    rows = []
    for it in items:
        r = {k: v for k, v in it.items() if k != "basis"}
        r["basis_type"] = it["basis"]["type"]
        for k in ("license", "bundle", "spdx"):
            r[k] = it["basis"].get(k)
        rows.append(r)
    cols = {k: pa.array([r.get(k) for r in rows],
                        pa.int64() if k == "units" else pa.string()) for k in PARQUET_COLUMNS}
    pq.write_table(pa.table(cols), path, row_group_size=row_group_size)
    return path


def _salts(opening: Path, n: int) -> bytes:
    data = opening.read_bytes()
    assert c.parse_opening_header(data)[1] == n
    return data[c.OPENING_HEADER_SIZE:]


def _mth(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def test_commit_show_and_independent_root(home, ledger, story, tmp_path):
    items = _items(story)
    manifest = _write_jsonl(tmp_path / "m.jsonl", items)
    out = runs.commit_run(home, ledger, manifest, story["dev"], "orbit", "orbit-2",
                          base_model="orbit-1")
    opening = Path(out["opening"])
    assert opening == tmp_path / "m.jsonl.opening" and out["count"] == len(items)
    salts = _salts(opening, len(items))
    # Independent recomputation: rfc8785 bytes, one SHA-256 per salted leaf, recursive MTH.
    leaves = [hashlib.sha256(b"\x00" + salts[16 * i:16 * i + 16] + rfc8785.dumps(it)).digest()
              for i, it in enumerate(items)]
    assert out["root"] == _mth(leaves).hex()
    assert c.parse_opening_header(opening.read_bytes())[0] == hashlib.sha256(
        manifest.read_bytes()).digest()
    d = runs.run_detail(ledger.db, out["id"]).to_json()
    assert d["root"] == out["root"] and d["base_model"] == "orbit-1"
    assert d["usage"] == [{"bundle": story["bundle"], "bundle_name": "Catalog",
                           "license": story["lic"], "items": 5, "seconds": 60 + 61 + 62 + 63 + 64,
                           "frames": 0, "tokens": 0, "images": 0, "in_force_at_commit": True}]
    assert d["bases"]["own"]["tokens"] == 5000
    assert d["bases"]["open-license"][0]["spdx"] == "CC-BY-4.0"
    assert d["latest_acquired"] == "2025-05" and d["languages"] == ["en"]
    assert d["public_datasets"]["large"][0]["dataset"] == "https://example.org/sounds \u00e9"
    assert [r.id for r in runs.list_runs(ledger.db, story["dev"])] == [out["id"]]
    # The logged statement is the developer's, and names no item.
    with ledger.db.read() as conn:
        entry = bytes(conn.execute(select(log_entries.c.entry)
                                   .where(log_entries.c.idx == out["log_index"])).scalar_one())
    assert b'"type":"run.committed"' in entry
    for it in items:
        assert it["sha256"].encode() not in entry
    # Every item opens against the logged root.
    proofs = c.prove_many(leaves, range(len(items)))
    for i, it in enumerate(items):
        c.verify_item(bytes.fromhex(out["root"]), len(items), i, salts[16 * i:16 * i + 16], it,
                      proofs[i])


def test_salts_stay_private(home, ledger, story, tmp_path, backend_url):
    items = _items(story)
    out = runs.commit_run(home, ledger, _write_jsonl(tmp_path / "m.jsonl", items),
                          story["dev"], "orbit", "orbit-2")
    opening = Path(out["opening"])
    assert stat.S_IMODE(opening.stat().st_mode) == 0o600
    salts = _salts(opening, len(items))
    forms = [f(salts[16 * i:16 * i + 16]) for i in range(len(items))
             for f in (lambda s: s, lambda s: s.hex().encode(), lambda s: base64.b64encode(s))]
    blobs = [p.read_bytes() for p in home.log_dir.rglob("*") if p.is_file()]
    if backend_url.startswith("sqlite"):
        ledger.close()
        db_file = Path(backend_url.removeprefix("sqlite:///"))
        blobs += [p.read_bytes() for p in db_file.parent.glob(db_file.name + "*")]
    else:
        with ledger.db.read() as conn:
            for table in ("log_entries", "log_tiles", "training_runs", "run_usage"):
                blobs += [repr(tuple(r)).encode() for r in conn.execute(text(f"SELECT * FROM {table}"))]
                blobs += [bytes(v) for r in conn.execute(text(f"SELECT * FROM {table}"))
                          for v in r if isinstance(v, (bytes, memoryview))]
    assert blobs
    for blob in blobs:
        for form in forms:
            assert form not in blob
    # Only the opening file holds them.
    assert all(f in opening.read_bytes() for f in forms[::3])


def test_cli_commit_list_show(home, ledger, story, tmp_path):
    manifest = _write_jsonl(tmp_path / "m.jsonl", _items(story))
    runner = CliRunner()
    r = runner.invoke(cli, ["--home", str(home.path), "run", "commit", str(manifest), "--developer",
                            story["dev"], "--model-family", "orbit", "--model", "orbit-2",
                            "--opening", str(tmp_path / "salts.bin"), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["opening"] == str(tmp_path / "salts.bin") and out["count"] == 8
    r = runner.invoke(cli, ["--home", str(home.path), "run", "show", out["id"], "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["root"] == out["root"]
    r = runner.invoke(cli, ["--home", str(home.path), "run", "list", "--json"])
    assert r.exit_code == 0 and [x["id"] for x in json.loads(r.output)] == [out["id"]]
    r = runner.invoke(cli, ["--home", str(home.path), "run", "show", out["id"]])
    assert r.exit_code == 0 and "orbit-2" in r.output and "Catalog" in r.output
    r = runner.invoke(cli, ["--home", str(home.path), "log", "verify"])
    assert r.exit_code == 0, r.output
    # Committing again to the same opening path is refused: its salts open the first run.
    r = runner.invoke(cli, ["--home", str(home.path), "run", "commit", str(manifest), "--developer",
                            story["dev"], "--model-family", "orbit", "--model", "orbit-3",
                            "--opening", str(tmp_path / "salts.bin")])
    assert r.exit_code == 2 and "already exists" in r.output


@pytest.mark.parametrize("line, field", [
    (b'{"sha256": "zz", "kind": "video", "units": 1, "unit": "seconds", "basis": {"type": "own"}}',
     "sha256"),
    (b'{"sha256": "' + b"a" * 64 + b'", "kind": "video", "units": 1, "unit": "seconds", '
     b'"basis": {"type": "own"}, "camera": "A"}', "camera"),
    (b'{"sha256": "' + b"a" * 64 + b'", "kind": "text", "units": 1, "unit": "seconds", '
     b'"basis": {"type": "own"}}', "unit"),
    # Canonical form (the fast path) with a month and an SPDX id it cannot judge alone:
    (b'{"acquired":"2025-13","basis":{"type":"own"},"kind":"text","sha256":"' + b"a" * 64
     + b'","unit":"tokens","units":1}', "acquired"),
    (b'{"basis":{"spdx":"NOT-A-LICENSE","type":"open-license"},"kind":"text","sha256":"'
     + b"a" * 64 + b'","unit":"tokens","units":1}', "basis.spdx"),
    (b'{"basis":{"type":"own"},"kind":"video","sha256":"' + b"a" * 64
     + b'","unit":"tokens","units":1}', "unit"),
    (b'{"sha256": ', None), (b"", None),
])
def test_bad_manifest_names_line_and_writes_nothing(home, ledger, story, tmp_path, line, field):
    items = _items(story)
    path = tmp_path / "bad.jsonl"
    good = [rfc8785.dumps(it) for it in items]
    path.write_bytes(b"\n".join(good[:4] + [line] + good[4:]) + b"\n")
    size = ledger.log.size if hasattr(ledger.log, "size") else None
    with ledger.db.read() as conn:
        before = conn.execute(select(log_entries.c.idx)).all()
    runner = CliRunner()
    r = runner.invoke(cli, ["--home", str(home.path), "run", "commit", str(path), "--developer",
                            story["dev"], "--model-family", "orbit", "--model", "m"])
    assert r.exit_code == 2, r.output
    assert f"{path} line 5:" in r.output
    if field:
        assert f"field '{field}'" in r.output
    assert list(tmp_path.glob("*.opening")) == [] and list(tmp_path.glob(".*tmp")) == []
    with ledger.db.read() as conn:
        assert conn.execute(select(log_entries.c.idx)).all() == before
        assert conn.execute(select(training_runs.c.id)).all() == []
    del size


def test_parquet_root_equals_jsonl_root(tmp_path, story):
    items = _items(story)
    salts = os.urandom(16 * len(items))
    j = manifest_scan.commit_manifest(_write_jsonl(tmp_path / "m.jsonl", items),
                                      tmp_path / "j.opening", salts=salts)
    p = manifest_scan.commit_manifest(_write_parquet(tmp_path / "m.parquet", items),
                                      tmp_path / "p.opening", salts=salts)
    assert j.root == p.root == c.commit_items(items, salts).root
    assert j.tally.public() == p.tally.public()
    assert _salts(tmp_path / "p.opening", len(items)) == salts
    # A bad row names its row number.
    bad = [dict(it) for it in items]
    bad[6]["units"] = -3
    with pytest.raises(BadInput, match=r"row 7: field 'units'"):
        manifest_scan.commit_manifest(_write_parquet(tmp_path / "bad.parquet", bad),
                                      tmp_path / "b.opening")
    assert not (tmp_path / "b.opening").exists()
    # Float units are refused even where every value is whole (a float is not an integer).
    table = pq.read_table(tmp_path / "m.parquet")
    table = table.set_column(table.schema.get_field_index("units"), "units",
                             pa.array([float(it["units"]) for it in items]))
    pq.write_table(table, tmp_path / "float.parquet")
    with pytest.raises(BadInput, match=r"row 1: field 'units'"):
        manifest_scan.commit_manifest(tmp_path / "float.parquet", tmp_path / "f.opening")
    # An all-null column reads as absent.
    table = pq.read_table(tmp_path / "m.parquet").drop_columns(["language"])
    table = table.append_column("language", pa.nulls(len(items)))
    pq.write_table(table, tmp_path / "nulls.parquet")
    no_lang = [{k: v for k, v in it.items() if k != "language"} for it in items]
    n = manifest_scan.commit_manifest(tmp_path / "nulls.parquet", tmp_path / "n.opening",
                                      salts=salts)
    assert n.root == c.commit_items(no_lang, salts).root


def test_process_pool_spans_give_the_same_root(tmp_path, monkeypatch):
    """Many small spans on two processes: the joined pieces equal the in-memory root."""
    items = [{"sha256": hashlib.sha256(str(i).encode()).hexdigest(), "kind": "image",
              "units": 1, "unit": "images", "basis": {"type": "own"}} for i in range(3001)]
    monkeypatch.setattr(manifest_scan, "_POOL_MIN", 0)
    monkeypatch.setattr(manifest_scan, "_CHUNK", 7000)
    salts = os.urandom(16 * len(items))
    d = manifest_scan.commit_manifest(_write_jsonl(tmp_path / "m.jsonl", items, 5),
                                      tmp_path / "m.opening", workers=2, salts=salts)
    assert d.count == 3001 and d.root == c.commit_items(items, salts).root
    items[2500]["units"] = "many"
    with pytest.raises(BadInput, match="line 2501: field 'units'"):
        manifest_scan.commit_manifest(_write_jsonl(tmp_path / "b.jsonl", items, 5),
                                      tmp_path / "b.opening", workers=2)


def test_usage_must_name_the_developers_own_licenses(home, ledger, story, tmp_path):
    def commit(basis, name, developer="dev"):  # type: ignore[no-untyped-def]
        items = [{"sha256": "ab" * 32, "kind": "video", "units": 1, "unit": "seconds",
                  "basis": basis}]
        return runs.commit_run(home, ledger, _write_jsonl(tmp_path / f"{name}.jsonl", items),
                               story[developer], "orbit", "m")

    with pytest.raises(Conflict, match=f"granted to {story['dev2']}"):
        commit({"type": "license", "license": story["lic_other"], "bundle": story["bundle"]}, "a")
    with pytest.raises(Conflict, match=f"licenses bundle {story['bundle2']}"):
        commit({"type": "license", "license": story["lic2"], "bundle": story["bundle"]}, "b")
    with pytest.raises(NotFound, match="is not registered"):
        commit({"type": "license", "license": "lic_" + "a" * 16, "bundle": story["bundle"]}, "c")
    with pytest.raises(PolicyDenied, match="not a developer"):
        commit({"type": "own"}, "d", developer="studio")
    assert not list(tmp_path.glob("*.opening"))
    # A revoked license is still a valid claim: recorded as not in force; the audit judges it.
    licensing.revoke_license(home, ledger, story["lic"], "breach")
    out = commit({"type": "license", "license": story["lic"], "bundle": story["bundle"]}, "e")
    assert out["licenses_not_in_force"] == [story["lic"]]
    with ledger.db.read() as conn:
        assert conn.execute(select(run_usage.c.in_force)).scalar_one() == "0"


def test_applier_refuses_a_forged_statement(home, ledger, story):
    """Signed by hand (not through commit_run): the registry re-checks licenses and counts."""
    body = {"id": new_id("run"), "developer": story["dev"], "model_family": "orbit", "model": "m",
            "root": "00" * 32, "count": 2,
            "usage": [{"bundle": story["bundle"], "license": story["lic"], "items": 1,
                       "seconds": 1, "frames": 0, "tokens": 0, "images": 0}],
            "bases": {"own": {"items": 0, "seconds": 0, "frames": 0, "tokens": 0, "images": 0},
                      "public-domain": {"items": 0, "seconds": 0, "frames": 0, "tokens": 0,
                                        "images": 0}, "open-license": []},
            "modalities": {"video": {"items": 1, "seconds": 1, "frames": 0, "tokens": 0,
                                     "images": 0}}}
    key = home.party_key(story["dev"])
    with pytest.raises(BadInput, match="count 1 items by basis"):
        ledger.submit([sign_statement(ledger.new_statement("run.committed", story["dev"], body), key)])
    body["count"] = 1
    body["usage"][0]["license"] = story["lic_other"]
    with pytest.raises(Conflict):
        ledger.submit([sign_statement(ledger.new_statement("run.committed", story["dev"], body), key)])
    body["usage"][0]["license"] = story["lic"]
    receipt = ledger.submit([sign_statement(ledger.new_statement("run.committed", story["dev"], body),
                                            key)])[0]
    assert receipt.details["id"] == body["id"]
    with pytest.raises(Conflict, match="already exists"):
        ledger.submit([sign_statement(ledger.new_statement("run.committed", story["dev"], body), key)])
