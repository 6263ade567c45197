"""The EU AI Act training-content summary: size bins at their boundaries, the 3 % rule, the
licensed-data section, provider fields, and no item hash in the output (both backends)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from reelrights.cli import cli
from reelrights.core.run_totals import NOMINAL_FPS
from reelrights.errors import BadInput
from reelrights.evidence import eu_summary, runs
from reelrights.evidence.eu_summary import TO_COMPLETE, size_bin
from test_runs import _write_jsonl, story  # noqa: F401  (the shared story fixture)


def _t(**kw: int) -> dict[str, int]:
    return {"items": 1, "seconds": 0, "frames": 0, "tokens": 0, "images": 0, **kw}


B, T, H = 10**9, 10**12, 3600


@pytest.mark.parametrize("kind, totals, want", [
    ("text", _t(tokens=B - 1), "Less than 1 billion tokens"),
    ("text", _t(tokens=B), "1 billion to 10 trillion tokens"),
    ("text", _t(tokens=10 * T), "1 billion to 10 trillion tokens"),
    ("text", _t(tokens=10 * T + 1), "More than 10 trillion tokens"),
    ("image", _t(images=10**6 - 1), "Less than 1 million images"),
    ("image", _t(images=10**6), "1 million to 1 billion images"),
    ("image", _t(images=B), "1 million to 1 billion images"),
    ("image", _t(images=B + 1), "More than 1 billion images"),
    ("audio", _t(seconds=10_000 * H - 1), "Less than 10,000 hours"),
    ("audio", _t(seconds=10_000 * H), "10,000 hours to 1 million hours"),
    ("audio", _t(seconds=10**6 * H), "10,000 hours to 1 million hours"),
    ("audio", _t(seconds=10**6 * H + 1), "More than 1 million hours"),
    ("video", _t(seconds=10_000 * H - 1, frames=NOMINAL_FPS - 1), "Less than 10,000 hours"),
    ("video", _t(seconds=10_000 * H - 1, frames=NOMINAL_FPS), "10,000 hours to 1 million hours"),
    ("video", _t(frames=10**6 * H * NOMINAL_FPS), "10,000 hours to 1 million hours"),
    ("video", _t(frames=10**6 * H * NOMINAL_FPS + 1), "More than 1 million hours"),
])
def test_size_bins_at_their_boundaries(kind, totals, want):
    assert size_bin(kind, totals) == want


def _items(story, dataset_tokens: dict[str, int]) -> list[dict]:  # noqa: F811
    lic = {"type": "license", "license": story["lic"], "bundle": story["bundle"]}
    out = [{"sha256": story["assets"][0], "kind": "video", "units": 7200, "unit": "seconds",
            "basis": lic, "acquired": "2025-11", "content_type": "film"},
           {"sha256": story["assets"][1], "kind": "audio", "units": 600, "unit": "seconds",
            "basis": lic, "acquired": "2024-02", "content_type": "score"},
           {"sha256": "cd" * 32, "kind": "text", "units": 900, "unit": "tokens",
            "basis": {"type": "own"}, "language": "fr", "content_type": "script"}]
    for i, (ds, n) in enumerate(sorted(dataset_tokens.items())):
        out.append({"sha256": f"{i:064x}", "kind": "text", "units": n, "unit": "tokens",
                    "basis": {"type": "open-license", "spdx": "CC-BY-SA-4.0"}, "dataset": ds,
                    "language": "en"})
    return out


def _field(doc: dict, fid: str) -> dict:
    return next(f for s in doc["sections"] for f in s["fields"] if f["id"] == fid)


def test_summary_computed_fields(home, ledger, story, tmp_path):  # noqa: F811
    # Public text: 3 % exactly (not large), 4 % (large), 93 % (large).
    items = _items(story, {"hf:exact-three": 3000, "hf:four": 4000, "hf:bulk": 93000})
    out = runs.commit_run(home, ledger, _write_jsonl(tmp_path / "m.jsonl", items),
                          story["dev"], "orbit", "orbit-2", base_model="orbit-1")
    doc = eu_summary.build_summary(ledger.db, out["id"], today=datetime(2026, 3, 4, tzinfo=UTC))
    assert _field(doc, "1.1.a.name") == {"id": "1.1.a.name", "label": "Provider name",
                                         "value": "Orbit AI", "computed": True}
    assert _field(doc, "1.2.b")["value"] == "orbit-1"
    assert _field(doc, "1.3.a")["value"] == "Video, Audio, Text"
    assert [b["bin"] for b in _field(doc, "1.3.b")["value"]] == [
        "Less than 10,000 hours", "Less than 10,000 hours", "Less than 1 billion tokens"]
    assert _field(doc, "1.3.b")["value"][0]["approximate_size"] == "2.0 hours"
    assert _field(doc, "1.3.c")["value"] == "film, score, script"
    assert _field(doc, "1.3.d")["value"] == "11/2025"
    assert "French (fr), EU official language" in _field(doc, "1.3.e")["value"]
    # The 3 % rule: strictly more than 3 % of the public text.
    assert _field(doc, "2.1.a")["value"] == "Yes"
    assert _field(doc, "2.1.c")["value"] == [
        {"dataset": "hf:bulk", "modality": "Text", "share": "93.0 %"},
        {"dataset": "hf:four", "modality": "Text", "share": "4.0 %"}]
    # Licensed data: yes, and the modalities of the license-basis items only.
    assert _field(doc, "2.2.1.a")["value"] == "Yes"
    assert _field(doc, "2.2.1.b")["value"] == "Video, Audio"
    assert _field(doc, "2.6")["value"].startswith("Yes. Data owned by the provider: 1 items")
    assert _field(doc, "doc.updated")["value"] == "04/03/2026"
    # Fields only the provider can fill are marked, never invented.
    for fid in ("1.1.a.contact", "1.2.c", "2.3.a", "2.4.a", "2.5", "3.1.a", "3.2"):
        assert _field(doc, fid) == {**_field(doc, fid), "value": None, "computed": False}
    md = eu_summary.render_markdown(doc)
    assert md.count(TO_COMPLETE) >= 10 and "### 2.2 " in md and "hf:four" in md
    assert "hf:exact-three" not in md
    text = md + json.dumps(doc)
    for it in items:  # no item hash, ever
        assert it["sha256"] not in text


def test_no_licensed_data_and_provider_info(home, ledger, story, tmp_path):  # noqa: F811
    items = [{"sha256": "ab" * 32, "kind": "image", "units": 1, "unit": "images",
              "basis": {"type": "public-domain"}}]
    out = runs.commit_run(home, ledger, _write_jsonl(tmp_path / "m.jsonl", items),
                          story["dev"], "orbit", "orbit-img")
    info = {"1.1.a.contact": "ai-act@orbit.example", "3.1.a": "Yes", "1.3.a": "Image (stills)"}
    (tmp_path / "info.json").write_text(json.dumps(info))
    r = CliRunner().invoke(cli, ["--home", str(home.path), "run", "summary", out["id"], "--format",
                                 "json", "--provider-info", str(tmp_path / "info.json")])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert _field(doc, "2.2.1.a")["value"] == "No" and _field(doc, "2.1.a")["value"] == "No"
    assert "2.2.1.b" not in [f["id"] for f in doc["sections"][6]["fields"] if f["value"]]
    assert _field(doc, "1.1.a.contact") == {"id": "1.1.a.contact", "label": "Provider contact "
                                            "details", "value": "ai-act@orbit.example",
                                            "computed": False}
    assert _field(doc, "1.3.a")["value"] == "Image (stills)"  # the provider's words win
    r = CliRunner().invoke(cli, ["--home", str(home.path), "run", "summary", out["id"]])
    assert r.exit_code == 0 and r.output.startswith("# Public summary of training content")
    (tmp_path / "bad.json").write_text(json.dumps({"9.9": "x"}))
    r = CliRunner().invoke(cli, ["--home", str(home.path), "run", "summary", out["id"],
                                 "--provider-info", str(tmp_path / "bad.json")])
    assert r.exit_code == 2 and "'9.9' is not a summary field" in r.output
    with pytest.raises(BadInput, match="not a run id"):
        eu_summary.build_summary(ledger.db, "nope")
