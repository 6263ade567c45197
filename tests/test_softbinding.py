"""Soft-binding resolution (issue 14, point 5) on both backends: a developer publishes an
output's prints and manifest, signed; anyone then recovers a stripped copy by binding or by
content, and two outputs that match equally well are both named. Attacks: another party's
signature, prints that are not the logged fingerprint, a tampered payload, a publication
addressed to another output."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import delete

from reelrights.core.dsse import sign_envelope
from reelrights.errors import BadInput, NotFound, PolicyDenied, SignatureError
from reelrights.keys import PartyKey
from reelrights.outputs import provenance, resolution
from reelrights.outputs.output_index import fingerprint_output, index_dir
from reelrights.store.provenance_tables import output_manifests, output_prints
from test_provenance import _certified_story, _media, _reencode_png


def _signed_outputs(home, ledger, tmp_path: Path) -> dict:
    ids = _certified_story(home, ledger, tmp_path, certify=False)
    m = _media(tmp_path / "gen")
    out = {}
    # The same still signed twice (two prompts): two records that match a copy equally well.
    for name, prompt in (("still_a", "aa"), ("still_b", "bb")):
        out[name] = provenance.sign(home, ledger, m["image"], ids["run"], tmp_path / f"{name}.png",
                                    uncertified=True, prompt_sha256=prompt * 32)
    out["video"] = provenance.sign(home, ledger, m["video"], ids["run"], tmp_path / "v.mp4",
                                   uncertified=True)
    envelopes = {k: resolution.publication(home, ledger.db, v["output"]) for k, v in out.items()}
    # The service's side starts without any published prints or manifests.
    with ledger.db.write() as conn:
        conn.execute(delete(output_prints))
        conn.execute(delete(output_manifests))
    shutil.rmtree(index_dir(home), ignore_errors=True)
    return {"ids": ids, "media": m, "signed": out, "env": envelopes}


def test_publish_then_recover_by_content_and_binding(home, ledger, tmp_path) -> None:
    s = _signed_outputs(home, ledger, tmp_path)
    copy = _reencode_png(tmp_path / "still_a.png", tmp_path / "copy.png")  # manifest stripped
    assert resolution.by_content(home, ledger.db, copy) == []  # nothing published yet
    for name, env in s["env"].items():
        got = resolution.publish(home, ledger.db, env.to_json(), s["signed"][name]["output"])
        assert got["output"] == s["signed"][name]["output"]
    found = resolution.by_content(home, ledger.db, copy)
    ties = {s["signed"]["still_a"]["output"], s["signed"]["still_b"]["output"]}
    assert {m.output for m in found} == ties  # both named, neither picked silently
    assert found[0].similarity == found[1].similarity >= 90
    pdq = fingerprint_output(copy).soft_binding().blocks[0].value
    by_value = resolution.by_binding(home, ledger.db, "dev.reelrights.pdq.1",
                                     base64.b64encode(pdq).decode())
    assert {m.output for m in by_value} == ties
    data, label = resolution.manifest(ledger.db, s["signed"]["video"]["output"])
    assert label == s["signed"]["video"]["manifest_label"] and data[:4] != b""
    assert resolution.manifest(ledger.db, label)[1] == label
    with pytest.raises(NotFound):
        resolution.manifest(ledger.db, "urn:c2pa:00000000-0000-0000-0000-000000000000")
    # publishing again is idempotent (same rows, same answers)
    resolution.publish(home, ledger.db, s["env"]["video"].to_json())
    assert {m.output for m in resolution.by_content(home, ledger.db, copy)} == ties


def test_publication_attacks(home, ledger, tmp_path) -> None:
    s = _signed_outputs(home, ledger, tmp_path)
    env = s["env"]["still_a"]
    doc = json.loads(env.payload)
    # signed by another party (the studio), not the output's developer
    forged = sign_envelope(resolution.PAYLOAD_TYPE, env.payload,
                           home.party_key(s["ids"]["studio"]))
    with pytest.raises(PolicyDenied, match="cannot publish"):
        resolution.publish(home, ledger.db, forged.to_json())
    stranger = sign_envelope(resolution.PAYLOAD_TYPE, env.payload, PartyKey.generate())
    with pytest.raises(SignatureError):  # a key no party registered
        resolution.publish(home, ledger.db, stranger.to_json())
    # one byte of the payload changed after signing
    tampered = env.to_json()
    tampered["payload"] = base64.b64encode(env.payload.replace(b'"format"', b'"formaT"')).decode()
    with pytest.raises(SignatureError):
        resolution.publish(home, ledger.db, tampered)
    # the developer signs another output's prints under this output: not its logged fingerprint
    other = json.loads(s["env"]["video"].payload)
    swapped = {**doc, "prints": {"video": other["prints"]["video"]}}
    resigned = sign_envelope(resolution.PAYLOAD_TYPE, json.dumps(swapped).encode(),
                             home.party_key(s["ids"]["dev"]))
    with pytest.raises(PolicyDenied, match="does not hash to the fingerprint"):
        resolution.publish(home, ledger.db, resigned.to_json())
    # addressed to another output
    with pytest.raises(BadInput, match="is for"):
        resolution.publish(home, ledger.db, env.to_json(), s["signed"]["video"]["output"])
    with pytest.raises(BadInput):
        resolution.publish(home, ledger.db, b"not json")
    with pytest.raises(BadInput, match="not supported"):
        resolution.by_binding(home, ledger.db, "com.example.other", "AAAA")
    with pytest.raises(BadInput, match="32-byte"):
        resolution.by_binding(home, ledger.db, "dev.reelrights.pdq.1", "AAAA")
    with pytest.raises(BadInput, match="maxResults"):
        resolution.by_binding(home, ledger.db, "dev.reelrights.pdq.1", "AAAA", 0)
    # nothing was stored by any refused publication
    copy = _reencode_png(tmp_path / "still_a.png", tmp_path / "copy.png")
    assert resolution.by_content(home, ledger.db, copy) == []
