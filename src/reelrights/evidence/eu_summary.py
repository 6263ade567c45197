"""The EU AI Act public summary of training content (Art. 53(1)(d)) for a committed run.

The structure follows the AI Office's template of 24 July 2025 (Annex to C(2025) 5235),
sections 1 to 3. Whatever the registry and the run's public commitment can answer is computed:
the provider's registered name, the model and base model, modalities, the size bin of each
modality, content types, languages, the latest acquisition month, the public datasets above 3 %
of a modality's public data, and whether (and for which modalities) commercially licensed data
was used. Every other field is marked ``[provider to complete]`` unless the provider supplies it
in a JSON file keyed by field id (``--provider-info``). Each field in the JSON output says
whether it was ``computed``.

Nothing here reads the manifest: the summary is built from public totals only and never names
an item or its hash.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pycountry

from ..core.manifest import KINDS
from ..core.run_totals import NOMINAL_FPS, modality_size
from ..errors import BadInput
from ..store.db import Database
from .runs import run_detail

__all__ = ["PROVIDER_FIELDS", "TO_COMPLETE", "build_summary", "render_markdown", "size_bin"]

TO_COMPLETE = "[provider to complete]"
TEMPLATE = ("Template for the Public Summary of Training Content for general-purpose AI models, "
            "AI Office, 24 July 2025 (Annex to C(2025) 5235)")
MODALITY_NAMES = {"text": "Text", "image": "Image", "audio": "Audio", "video": "Video"}
_EU_LANGUAGES = {"bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu",
                 "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv"}
_B = 10**9
_HOUR_FRAMES = 3600 * NOMINAL_FPS


def size_bin(kind: str, totals: dict[str, int]) -> str:
    """The template's size bin (field 1.3.b). Lower bin strict, middle bin inclusive, top strict.

    Text: <1B tokens | 1B-10T tokens | >10T tokens. Image: <1M | 1M-1B | >1B images.
    Audio and video: <10,000 h | 10,000 h-1M h | >1M h (frames at the nominal frame rate).
    """
    if kind == "text":
        t = totals["tokens"]
        return "Less than 1 billion tokens" if t < _B else (
            "1 billion to 10 trillion tokens" if t <= 10_000 * _B else "More than 10 trillion tokens")
    if kind == "image":
        n = totals["images"]
        return "Less than 1 million images" if n < 10**6 else (
            "1 million to 1 billion images" if n <= _B else "More than 1 billion images")
    # audio: seconds; video: frames at NOMINAL_FPS. Compare in those units, exactly.
    size = modality_size(kind, totals)
    per_hour = 3600 if kind == "audio" else _HOUR_FRAMES
    return "Less than 10,000 hours" if size < 10_000 * per_hour else (
        "10,000 hours to 1 million hours" if size <= 10**6 * per_hour else "More than 1 million hours")


def approx_size(kind: str, totals: dict[str, int]) -> str:
    if kind == "text":
        return f"{totals['tokens']:,} tokens"
    if kind == "image":
        return f"{totals['images']:,} images"
    per_hour = 3600 if kind == "audio" else _HOUR_FRAMES
    return f"{modality_size(kind, totals) / per_hour:,.1f} hours"


def _language(code: str) -> str:
    base = code.split("-")[0]
    lang = (pycountry.languages.get(alpha_2=base) if len(base) == 2
            else pycountry.languages.get(alpha_3=base))
    name = lang.name if lang is not None else code
    return f"{name} ({code}){', EU official language' if base in _EU_LANGUAGES else ''}"


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "0 %"


#: (section, subsection title, [(field id, label)]) in template order.
_LAYOUT: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("doc", "Summary", [("doc.version", "Version of the summary"),
                        ("doc.updated", "Date of last update (DD/MM/YYYY)")]),
    ("1.1", "Provider identification", [
        ("1.1.a.name", "Provider name"), ("1.1.a.contact", "Provider contact details"),
        ("1.1.b", "Authorised representative and contact (providers established outside the EU)")]),
    ("1.2", "Model identification", [
        ("1.2.a", "Versioned model name(s)"),
        ("1.2.b", "Model dependencies (base model, if fine-tuned)"),
        ("1.2.b.link", "Link to the base model's summary"),
        ("1.2.c", "Date(s) of placement on the Union market")]),
    ("1.3", "Modalities, overall training data size and other characteristics", [
        ("1.3.a", "Modalities"), ("1.3.b", "Training data size per modality"),
        ("1.3.c", "Types of content"), ("1.3.d", "Latest date of data acquisition (MM/YYYY)"),
        ("1.3.d.continuous", "Is the model continuously trained on new data?"),
        ("1.3.e", "Languages"), ("1.3.f", "National, regional or demographic specifics"),
        ("1.3.g", "Other relevant characteristics (tokenizer, A/V sampling, compression)")]),
    ("2.1", "Publicly available datasets", [
        ("2.1.a", "Publicly available datasets used"), ("2.1.b", "Modalities"),
        ("2.1.c", "Large datasets (more than 3 % of all public data used for a modality)"),
        ("2.1.d", "General description of the other public datasets")]),
    ("2.2", "Private non-publicly available datasets obtained from third parties", [
        ("2.2.1.a", "Datasets commercially licensed from rightsholders or their representatives"),
        ("2.2.1.b", "Modalities of the licensed data"),
        ("2.2.2", "Other private datasets obtained from third parties")]),
    ("2.3", "Data crawled and scraped from online sources", [
        ("2.3.a", "Crawlers used, purposes and behaviour (robots.txt, opt-outs)"),
        ("2.3.b", "Collection period, content types and modalities"),
        ("2.3.c", "Top domain names by size of content scraped")]),
    ("2.4", "User data", [("2.4.a", "Data from user interactions with the model"),
                          ("2.4.b", "Data from the provider's other services")]),
    ("2.5", "Synthetic data", [("2.5", "Synthetic data generated for training")]),
    ("2.6", "Other sources of data", [("2.6", "Other sources")]),
    ("3.1", "Respect of reservation of rights from text and data mining", [
        ("3.1.a", "Signatory of the GPAI Code of Practice"),
        ("3.1.b", "Measures to honour TDM opt-outs before and during collection")]),
    ("3.2", "Removal of illegal content", [("3.2", "Measures taken")]),
    ("3.3", "Other information", [("3.3", "Other information")]),
]
PROVIDER_FIELDS = [fid for _s, _t, fields in _LAYOUT for fid, _l in fields]


def _computed(run: dict[str, Any], provider_name: str) -> dict[str, Any]:
    """Every field the registry and the commitment answer."""
    c: dict[str, Any] = {"1.1.a.name": provider_name,
                         "1.2.a": f"{run['model']} (model family {run['model_family']})"}
    c["1.2.b"] = run.get("base_model") or "None: the commitment names no base model"
    mods = {k: run["modalities"][k] for k in KINDS if k in run["modalities"]}  # template order
    c["1.3.a"] = ", ".join(MODALITY_NAMES[k] for k in mods) or "None"
    c["1.3.b"] = [{"modality": MODALITY_NAMES[k], "bin": size_bin(k, t),
                   "approximate_size": approx_size(k, t)} for k, t in mods.items()]
    if run.get("content_types"):
        c["1.3.c"] = ", ".join(run["content_types"])
    if run.get("latest_acquired"):
        y, m = run["latest_acquired"].split("-")
        c["1.3.d"] = f"{m}/{y}"
    if run.get("languages"):
        c["1.3.e"] = "; ".join(_language(code) for code in run["languages"])
    if any(k == "video" and t["frames"] for k, t in mods.items()):
        c["1.3.g"] = (f"Video measured in frames is converted to hours at a nominal "
                      f"{NOMINAL_FPS} frames per second.")
    pub = run.get("public_datasets")
    c["2.1.a"] = "Yes" if pub else "No"
    if pub:
        c["2.1.b"] = ", ".join(MODALITY_NAMES[k] for k in KINDS if k in pub["modalities"])
        c["2.1.c"] = [{"dataset": d["dataset"], "modality": MODALITY_NAMES[d["kind"]],
                       "share": _share(modality_size(d["kind"], d),
                                       modality_size(d["kind"], pub["modalities"][d["kind"]]))}
                      for d in pub["large"]]
    licensed = run.get("basis_modalities", {}).get("license", [])
    c["2.2.1.a"] = "Yes" if run["usage"] else "No"
    if licensed:
        c["2.2.1.b"] = ", ".join(MODALITY_NAMES[k] for k in licensed)
    other = [(b, run["basis_modalities"].get(b, [])) for b in ("own", "public-domain")]
    lines = [f"{'Data owned by the provider' if b == 'own' else 'Public-domain works'}: "
             f"{run['bases'][b]['items']:,} items ({', '.join(MODALITY_NAMES[k] for k in ks)})"
             for b, ks in other if run["bases"][b]["items"]]
    if lines:
        c["2.6"] = "Yes. " + "; ".join(lines) + "."
    c["3.3"] = (f"The training data is committed in the reelrights transparency log: run "
                f"{run['id']}, {run['count']:,} items, Merkle root {run['root']}, log index "
                f"{run['log_index']}. Licensed items refer to licenses registered in that log.")
    return c


def build_summary(db: Database, run_ref: str, provider_info: dict[str, Any] | None = None,
                  today: datetime | None = None) -> dict[str, Any]:
    """The summary as JSON: sections of fields, each with ``value`` and ``computed``."""
    info = dict(provider_info or {})
    if not isinstance(provider_info, (dict, type(None))):
        raise BadInput("provider info must be a JSON object keyed by field id, e.g. "
                       '{"1.1.a.contact": "ai-act@orbit.example"}')
    unknown = sorted(set(info) - set(PROVIDER_FIELDS))
    if unknown:
        raise BadInput(f"provider info field {unknown[0]!r} is not a summary field; use one of "
                       f"{', '.join(PROVIDER_FIELDS)}")
    detail = run_detail(db, run_ref)
    run = detail.to_json()
    computed = _computed(run, detail.developer_name or detail.developer_id)
    computed["doc.updated"] = (today or datetime.now(UTC)).strftime("%d/%m/%Y")
    sections = []
    for sid, title, fields in _LAYOUT:
        out = []
        for fid, label in fields:
            if fid in info:  # the provider's own words win, and are marked as such
                out.append({"id": fid, "label": label, "value": info[fid], "computed": False})
            elif fid in computed:
                out.append({"id": fid, "label": label, "value": computed[fid], "computed": True})
            else:
                out.append({"id": fid, "label": label, "value": None, "computed": False})
        sections.append({"id": sid, "title": title, "fields": out})
    return {"template": TEMPLATE, "run": run["id"], "model": run["model"], "sections": sections}


def _value_md(v: Any) -> str:
    if v is None:
        return f"**{TO_COMPLETE}**"
    if isinstance(v, list):
        if not v:
            return "None"
        if isinstance(v[0], dict):
            head = list(v[0])
            rows = ["| " + " | ".join(h.replace("_", " ") for h in head) + " |",
                    "|" + "---|" * len(head)]
            rows += ["| " + " | ".join(str(r[h]) for h in head) + " |" for r in v]
            return "\n\n" + "\n".join(rows)
        return ", ".join(map(str, v))
    return str(v)


def render_markdown(doc: dict[str, Any]) -> str:
    """The summary in Markdown, section by section; computed fields are marked (computed)."""
    out = [f"# Public summary of training content: {doc['model']}", "",
           f"Structure: {doc['template']}. Fields marked *(computed)* are derived from the "
           f"reelrights registry and the public commitment of run {doc['run']}; fields marked "
           f"**{TO_COMPLETE}** can only be filled by the provider.", ""]
    heads = {"doc": "## Summary", "1.1": "## 1. General information", "2.1": "## 2. List of data "
             "sources", "3.1": "## 3. Data processing aspects"}
    for s in doc["sections"]:
        if s["id"] in heads:
            out += [heads[s["id"]], ""]
        out += [f"### {s['id']} {s['title']}" if s["id"] != "doc" else "", ""]
        for f in s["fields"]:
            mark = " *(computed)*" if f["computed"] else ""
            out.append(f"- **{f['id']} {f['label']}**{mark}: {_value_md(f['value'])}")
        out.append("")
    return "\n".join(line for i, line in enumerate(out)
                     if not (line == "" and i and out[i - 1] == "")) + "\n"
