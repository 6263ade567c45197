"""The Croissant 1.1 export of a bundle, validated by mlcroissant (MLCommons' reference library).

Validation runs offline. The export's ``@context`` is inline (no remote JSON-LD context), so
mlcroissant's JSON-LD expansion (rdflib) has nothing to fetch; :func:`no_network` makes every
socket connection and DNS lookup fail while mlcroissant runs, so a fetch would fail the test
rather than pass silently. :func:`test_the_network_guard_catches_a_remote_context` shows the
guard catching rdflib's attempt when a document does name a remote context.

mlcroissant's checks are real: :func:`test_mlcroissant_flags_a_broken_export` removes required
pieces from a valid export and expects a ``ValidationError`` naming each one.
"""

from __future__ import annotations

import copy
import hashlib
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlcroissant as mlc
import pytest
import rdflib
from click.testing import CliRunner
from sqlalchemy import select

from reelrights.cli import cli
from reelrights.core.iri import bundle_iri, party_iri, work_iri
from reelrights.errors import BadInput, NotFound
from reelrights.media.synth import make_audio, make_image, make_script, make_video
from reelrights.registry.credits import credit_work
from reelrights.registry.parties import register_party
from reelrights.registry.works import register_work
from reelrights.rights import bundles
from reelrights.rights.croissant import CROISSANT_1_1, RAI_1_0, bundle_croissant, terms_iri
from reelrights.store.tables import licenses, log_entries

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_POLICY = ROOT / "src" / "reelrights" / "profile" / "examples" / "license-train-us.json"


# rdflib's JSON-LD parser, inside mlcroissant, uses its own deprecated ConjunctiveGraph.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")


class NetworkUsed(AssertionError):
    pass


@contextmanager
def no_network() -> Iterator[list[str]]:
    """Fail any socket connection or DNS lookup made inside the block; yield the attempts."""
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args[:2]))
        raise NetworkUsed(f"network access attempted: {args[:2]!r}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket.socket, "connect_ex", refuse)
        mp.setattr(socket, "create_connection", refuse)
        mp.setattr(socket, "getaddrinfo", refuse)
        yield attempts


def validate(doc: dict[str, Any]) -> mlc.Dataset:
    """mlcroissant's full static validation, offline; the document must have no issue at all."""
    with no_network() as attempts:
        ds = mlc.Dataset(jsonld=copy.deepcopy(doc))
    assert attempts == []
    issues = ds.metadata.ctx.issues
    assert not issues.errors and not issues.warnings, issues.report()
    return ds


def independent_root(hex_digests: list[str]) -> str:
    """RFC 9162 MTH over the sorted digests, each a leaf (hashlib only)."""
    def mth(d: list[bytes]) -> bytes:
        if len(d) == 1:
            return hashlib.sha256(b"\x00" + d[0]).digest()
        k = 1
        while k * 2 < len(d):
            k *= 2
        return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()
    return mth(sorted(bytes.fromhex(h) for h in set(hex_digests))).hex()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("croissant-media")
    return {
        "video": make_video(d / "reel.mp4", seconds=1.0, fps=12, size=(96, 64), seed=3, scenes=1),
        "audio": make_audio(d / "score.wav", seconds=1.0, sample_rate=22050, seed=3),
        "script": make_script(d / "draft.fountain", title="Tides", author="M. E.", scenes=3,
                              seed=3),
        "image": make_image(d / "still.png", size=(32, 24), seed=3),
    }


@pytest.fixture
def world(home, ledger, media) -> dict[str, Any]:
    w: dict[str, Any] = {}
    w["studio"] = register_party(home, ledger, "studio", "Northlight").details["id"]
    w["ada"] = register_party(home, ledger, "performer", "Ada Okafor").details["id"]
    w["mara"] = register_party(home, ledger, "writer", "Mara Ellison").details["id"]
    w["dev"] = register_party(home, ledger, "developer", "Orbit AI").details["id"]
    w["film"] = register_work(home, ledger, w["studio"], "film", "Harbour Lights",
                                       [media["video"], media["audio"]]).details["id"]
    w["play"] = register_work(home, ledger, w["studio"], "script", "Tides",
                                       [media["script"], media["image"]]).details["id"]
    credit_work(home, ledger, w["film"], w["ada"], "performer", "1")
    credit_work(home, ledger, w["play"], w["mara"], "writer", "1")
    image_sha = hashlib.sha256(media["image"].read_bytes()).hexdigest()
    w["v1"] = bundles.create_bundle(home, ledger, "Northlight", "Classics", "1",
                                    ["Harbour Lights", image_sha]).details["id"]
    w["v2"] = bundles.create_bundle(home, ledger, "Northlight", "Classics", "2",
                                    ["Harbour Lights", "Tides"], predecessor=w["v1"],
                                    description="Harbour films and their scripts").details["id"]
    return w


RAI_FIELDS = ["rai:dataCollection", "rai:dataCollectionType", "rai:dataUseCases",
              "rai:dataLimitations", "rai:dataBiases", "rai:personalSensitiveInformation",
              "rai:dataSocialImpact", "rai:dataReleaseMaintenancePlan"]


def test_export_validates_and_describes_the_bundle(home, ledger, media, world) -> None:
    doc = bundle_croissant(ledger.db, "Classics@1")
    ds = validate(doc)
    detail = bundles.bundle_detail(ledger.db, world["v1"]).to_json()
    # dataset level
    assert isinstance(doc["@context"], dict)  # inline: nothing to fetch
    assert doc["@type"] == "sc:Dataset" and doc["@id"] == bundle_iri(world["v1"])
    assert doc["conformsTo"] == [CROISSANT_1_1, RAI_1_0]
    assert (doc["name"], doc["version"], doc["identifier"]) == ("Classics", "1", world["v1"])
    assert doc["datePublished"] == detail["created_at"]
    assert doc["creator"]["@id"] == party_iri(world["studio"])
    assert doc["creator"]["name"] == "Northlight"
    for key in RAI_FIELDS:
        assert doc[key], key
    md = ds.metadata
    assert md.name == "Classics" and md.version == "1"
    assert md.conforms_to == [CROISSANT_1_1, RAI_1_0]
    assert md.data_collection and md.data_use_cases and md.data_limitations
    assert md.personal_sensitive_information and md.data_release_maintenance_plan
    assert "performer" in md.personal_sensitive_information[0]
    # one FileObject per asset, checked against the files themselves
    files = {hashlib.sha256(media[k].read_bytes()).hexdigest(): media[k]
             for k in ("video", "audio", "image")}
    assert {f["sha256"] for f in doc["distribution"]} == set(files)
    assert len(md.distribution) == detail["totals"]["assets"] == 3
    for f in doc["distribution"]:
        path = files[f["sha256"]]
        assert f["@type"] == "cr:FileObject"
        assert f["contentUrl"] == f"urn:sha256:{f['sha256']}"
        assert f["name"] == path.name
        assert f["contentSize"] == f"{path.stat().st_size} B"
    types = {f["name"]: f["encodingFormat"] for f in doc["distribution"]}
    assert types == {"reel.mp4": "video/mp4", "score.wav": "audio/wav", "still.png": "image/png"}
    # the Merkle root, recomputed from the export's own checksums
    assert doc["reelrights:merkleRoot"] == detail["root"] == independent_root(list(files))
    assert doc["reelrights:assetCount"] == 3
    assert doc["reelrights:videoMilliseconds"] == detail["totals"]["video_ms"]
    assert doc["reelrights:audioMilliseconds"] == detail["totals"]["audio_ms"] == 1000
    # the record set, read back through mlcroissant without any download
    with no_network() as attempts:
        records = list(ds.records("assets"))
    assert attempts == []
    got = [r["assets/sha256"] for r in records]
    assert sorted(x.decode() if isinstance(x, bytes) else x for x in got) == sorted(files)
    by_sha = {r["assets/sha256"]: r for r in doc["recordSet"][0]["data"]}
    image = by_sha[hashlib.sha256(media["image"].read_bytes()).hexdigest()]
    assert image["assets/work"] == work_iri(world["play"]) and image["assets/title"] == "Tides"
    assert image["assets/category"] == "image" and image["assets/duration_ms"] is None
    audio = by_sha[hashlib.sha256(media["audio"].read_bytes()).hexdigest()]
    assert (audio["assets/duration_ms"], audio["assets/media_type"]) == (1000, "audio/wav")
    assert audio["assets/work"] == work_iri(world["film"])
    assert list(by_sha) == sorted(by_sha)  # the order of the root's leaves
    # works and their credited contributors (the image brings its script's writer)
    assert {w["@id"] for w in doc["isBasedOn"]} == {work_iri(world["film"]),
                                                     work_iri(world["play"])}
    assert {c["@id"]: c["@type"] for c in doc["contributor"]} == {
        party_iri(world["ada"]): "sc:Person", party_iri(world["mara"]): "sc:Person"}
    # PROV-O: the owner, and the log entry that fixed this version
    assert doc["prov:wasAttributedTo"]["@id"] == party_iri(world["studio"])
    gen = doc["prov:wasGeneratedBy"]
    with ledger.db.read() as conn:
        entry = bytes(conn.execute(select(log_entries.c.entry)
                                   .where(log_entries.c.idx == detail["log_index"])).scalar_one())
    assert gen["reelrights:logIndex"] == detail["log_index"]
    assert gen["reelrights:leafHash"] == hashlib.sha256(b"\x00" + entry).hexdigest()
    assert gen["reelrights:logOrigin"] == home.origin
    assert gen["@id"] == f"urn:reelrights:log:{home.origin}:{detail['log_index']}"
    assert gen["prov:endedAtTime"]["@value"] == detail["created_at"]
    assert "prov:wasDerivedFrom" not in doc  # the first version derives from nothing
    # no license named: the placeholder for the owner's terms, documented as granting nothing
    assert doc["license"] == doc["usageInfo"]["@id"] == terms_iri(world["v1"])
    assert doc["usageInfo"]["@type"] == ["CreativeWork", "odrl:Policy"]
    assert md.license == [terms_iri(world["v1"])]


def test_a_version_derives_from_its_predecessor(ledger, world) -> None:
    doc = bundle_croissant(ledger.db, "Classics")  # the latest version
    validate(doc)
    assert doc["identifier"] == world["v2"] and doc["version"] == "2"
    assert doc["prov:wasDerivedFrom"] == {"@id": bundle_iri(world["v1"])}
    assert doc["description"] == "Harbour films and their scripts"
    assert len(doc["distribution"]) == 4
    # where the licensee will find the files: relative paths instead of urn:sha256:
    first = doc["distribution"][0]["sha256"]
    local = bundle_croissant(ledger.db, "Classics", content_urls={first: "media/reel.mp4"})
    validate(local)
    urls = {f["sha256"]: f["contentUrl"] for f in local["distribution"]}
    assert urls.pop(first) == "media/reel.mp4"
    assert all(u == f"urn:sha256:{h}" for h, u in urls.items())


def test_usage_info_points_to_the_odrl_policy(ledger, world) -> None:
    policy = json.loads(EXAMPLE_POLICY.read_text("utf-8"))
    doc = bundle_croissant(ledger.db, world["v2"], policy=policy)
    validate(doc)
    assert doc["license"] == doc["usageInfo"]["@id"] == policy["uid"]
    assert doc["usageInfo"]["@type"] == ["CreativeWork", "odrl:Agreement"]
    assert doc["usageInfo"]["odrl:profile"] == {"@id": "https://reelrights.dev/odrl/profile/v1"}
    # a license on the bundle: its policy's uid. (The row is written directly: this test is
    # about the export's read path, not about granting licenses.)
    uid = "urn:reelrights:license:orbit-2027"
    with ledger.db.write() as conn:
        conn.execute(licenses.insert().values(
            id="lic_aaaaaaaaaaaaaaaa", bundle_id=world["v2"], licensor_id=world["studio"],
            licensee_id=world["dev"], policy=json.dumps({**policy, "uid": uid}), policy_uid=uid,
            required_cosigners="[]", log_index=0, granted_at="2026-01-01T00:00:00Z"))
    doc = bundle_croissant(ledger.db, world["v2"], license_id="lic_aaaaaaaaaaaaaaaa")
    validate(doc)
    assert doc["license"] == doc["usageInfo"]["@id"] == uid
    assert doc["usageInfo"]["odrl:assignee"] == {"@id": party_iri(world["dev"])}
    with pytest.raises(BadInput, match="license lic_aaaaaaaaaaaaaaaa is on bundle"):
        bundle_croissant(ledger.db, world["v1"], license_id="lic_aaaaaaaaaaaaaaaa")
    with pytest.raises(NotFound, match="no license 'lic_bbbbbbbbbbbbbbbb'"):
        bundle_croissant(ledger.db, world["v1"], license_id="lic_bbbbbbbbbbbbbbbb")
    with pytest.raises(BadInput, match="not both"):
        bundle_croissant(ledger.db, world["v1"], policy=policy, license_id="lic_aaaaaaaaaaaaaaaa")
    with pytest.raises(BadInput, match="the policy has no uid"):
        bundle_croissant(ledger.db, world["v1"], policy={"@type": "Agreement"})


def _drop(path: list[Any]):
    def mutate(doc: dict[str, Any]) -> None:
        target = doc
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]
    return mutate


def _set(path: list[Any], value: Any):
    def mutate(doc: dict[str, Any]) -> None:
        target = doc
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    return mutate


BREAKAGES = [
    ("file without checksum", _drop(["distribution", 0, "sha256"]),
     r"At least one of these properties should be defined: \['md5', 'sha256'\]"),
    ("file without media type", _drop(["distribution", 0, "encodingFormat"]),
     r'"https://schema.org/encodingFormat" is mandatory'),
    ("file without location", _drop(["distribution", 1, "contentUrl"]),
     r'"https://schema.org/contentUrl" is mandatory'),
    ("field without data type", _drop(["recordSet", 0, "field", 0, "dataType"]),
     r"Field\(sha256\)\] The field does not specify a valid "
     r"http://mlcommons.org/croissant/dataType"),
    ("date not ISO 8601", _set(["datePublished"], "last Tuesday"), r"ISO 8601"),
    ("record missing a column", _drop(["recordSet", 0, "data", 0, "assets/title"]),
     r"Line #0 doesn't have the expected columns"),
    ("unknown Croissant version", _set(["conformsTo"], ["http://mlcommons.org/croissant/9.9"]),
     r"At least one of the provided conformsTo should be a valid CroissantVersion"),
    ("not a dataset", _set(["@type"], "sc:Thing"), r"doesn't extend https://schema.org/Dataset"),
]


@pytest.mark.parametrize(("label", "mutate", "message"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_mlcroissant_flags_a_broken_export(ledger, world, label, mutate, message) -> None:
    doc = bundle_croissant(ledger.db, world["v1"])
    validate(doc)  # valid as exported...
    broken = copy.deepcopy(doc)
    mutate(broken)
    with no_network() as attempts, pytest.raises(mlc.ValidationError, match=message):
        mlc.Dataset(jsonld=broken)  # ...and each breakage is caught
    assert attempts == []


def test_the_network_guard_catches_a_remote_context() -> None:
    """Without an inline context, JSON-LD processing would go to the network; the guard stops it."""
    remote = {"@context": "https://example.org/context.jsonld", "@type": "Dataset", "name": "x"}
    with no_network() as attempts, pytest.raises(Exception):  # noqa: B017 - rdflib wraps it
        rdflib.Graph().parse(data=json.dumps(remote), format="json-ld")
    assert attempts, "rdflib should have tried to fetch the remote context"


def test_cli_export_writes_a_valid_file(home, ledger, world, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REELRIGHTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("REELRIGHTS_HOME", raising=False)
    out = tmp_path / "classics.croissant.json"
    runner = CliRunner()
    result = runner.invoke(cli, ["--home", str(home.path), "bundle", "export", "Classics@1",
                                 "--format", "croissant", "-o", str(out)])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stdout == "" and f"wrote {out} (3 files, Croissant 1.1)" in result.stderr
    with no_network() as attempts:
        ds = mlc.Dataset(jsonld=str(out))  # mlcroissant reading the file, as its CLI does
    assert attempts == [] and not ds.metadata.ctx.issues.errors
    assert json.loads(out.read_text("utf-8")) == bundle_croissant(ledger.db, world["v1"])
    printed = runner.invoke(cli, ["--home", str(home.path), "bundle", "export", world["v2"]])
    assert printed.exit_code == 0
    assert json.loads(printed.stdout)["identifier"] == world["v2"]
    bad = runner.invoke(cli, ["--home", str(home.path), "bundle", "export", "Classics",
                              "--license", "lic_cccccccccccccccc"])
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr.splitlines() == [
        "error: no license 'lic_cccccccccccccccc'; `reelrights license list` shows them"]
