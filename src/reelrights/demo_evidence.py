"""The demo's evidence chapter: fingerprints, a run with an unlicensed film slipped in, the
sampled audit and scan that catch it, a corrected run that is certified, and its EU summary.

It continues :func:`reelrights.demo.run_demo` on the same home: the studio's works are
registered and fingerprinted, the bundle is licensed to Orbit AI and co-signed by the guild.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from .core.commitment import canonical_item
from .evidence import audit_challenge, certificates, eu_summary, fingerprints, runs
from .evidence.scan import scan_files
from .home import Home
from .ledger import Ledger
from .media.synth import make_film, transcode_video
from .registry.parties import register_party
from .registry.works import register_work, work_detail
from .rights import bundles

Echo = Callable[[str], None]

#: The unlicensed film is cut into this many clips; with the three licensed items the first
#: run has 3 + CLIPS items, and a sample of SAMPLES of them must hold at least SAMPLES - 3 clips.
CLIPS = 4
SAMPLES = 5
#: The corrected run: the licensed items and this many clips of Orbit AI's own footage.
OWN_CLIPS = 6


def evidence_story(home: Home, ledger: Ledger, ids: dict[str, str], media: Path,
                   files: dict[str, Path], echo: Echo, step: Callable[[str], None]) -> None:
    """Run the chapter; add the runs, challenges and certificates it makes to ``ids``."""
    step("The studio fingerprints its catalogue (PDQ frames, Chromaprint, script MinHash)")
    ferry = make_film(media / "night-ferry.mp4", seconds=8.0, fps=24, size=(320, 240), scenes=4,
                      seed=23)
    r = register_work(home, ledger, ids["studio"], "film", "Night Ferry", [ferry], 2025)
    ids["ferry"] = r.details["id"]
    echo(f"Night Ferry (not in any bundle)    {ids['ferry']}   log index {r.index}")
    for label, path in [*files.items(), ("ferry", ferry)]:  # what `work add` does for each file
        assets = [a.to_json() for a in work_detail(ledger.db, ids[label]).assets]
        failed = fingerprints.fingerprint_new_work(home, ledger.db, assets, [path])
        echo(f"  {path.name:<28} {'failed: ' + failed[0]['error'] if failed else 'fingerprinted'}")

    dev_dir = home.path.parent / "orbit-ai"  # the developer's own machine: manifest and salts
    train = dev_dir / "training-set"
    train.mkdir(parents=True)
    step("Orbit AI trains on the licensed bundle, and slips in clips of Night Ferry as its own")
    clips = [transcode_video(ferry, train / f"clip-{n}.mp4", bitrate=250_000, start=2.0 * n,
                             duration=2.0) for n in range(CLIPS)]
    licensed = _licensed_items(ledger, ids)
    items = licensed + [_own_item(c, "video", 2) for c in clips]
    manifest = _write_manifest(dev_dir / "run-1.jsonl", items)
    echo(f"manifest {manifest.name}: {len(licensed)} licensed items, {CLIPS} re-encoded clips "
         "of Night Ferry claimed as \"own\"")
    run1 = runs.commit_run(home, ledger, manifest, ids["developer"], "orbit-video", "orbit-v1")
    ids["run1"] = run1["id"]
    echo(f"reelrights run commit {manifest.name}\n   run {run1['id']}: root {run1['root'][:16]}…, "
         f"{run1['count']} items, log index {run1['log_index']}")
    echo(f"   salts in {Path(run1['opening']).name} (mode 0600): only Orbit AI holds them; the "
         "log holds the root, the count and the per-bundle usage")

    step("An independent auditor challenges the run; the log's next checkpoint picks the sample")
    ids["auditor"] = register_party(home, ledger, "auditor",
                                             "Fair Audit LLP").details["id"]
    echo(f"{'Fair Audit LLP':<26} auditor    {ids['auditor']}")
    cert1 = _audit(home, ledger, ids, run1["id"], manifest, train, dev_dir / "response-1.json",
                   echo)
    ids["certificate1"] = cert1["certificate"]

    step("The auditor's scan of the training media names the film behind the clips")
    report = scan_files(home, clips, ids["developer"], "orbit-video")
    for item in report.items:
        m = item.matches[0] if item.matches else {}
        r = (m.get("ranges") or [{}])[0]
        at = (f"at {r['ref_start_ms'] / 1000:.0f}-{r['ref_end_ms'] / 1000:.0f} s of the film"
              if "ref_start_ms" in r else "")
        names = ", ".join(_title(ledger, w) for w in m.get("works", []))
        echo(f"  {Path(item.path).name}: {item.verdict:<13} {names} {at}, "
             f"similarity {m.get('similarity', 0):.2f}")
    summary = report.summary()
    echo(f"  summary: {summary['items']} items, {summary['hours'] * 3600:.0f} s; not licensed "
         f"{summary['by_verdict']['not-licensed']['share']:.0%}")

    step("Orbit AI corrects the run: the licensed bundle and its own footage only")
    own = [make_film(train / f"orbit-own-{n}.mp4", seconds=2.0, fps=24, size=(320, 240),
                     scenes=1, seed=300 + n) for n in range(OWN_CLIPS)]
    items2 = licensed + [_own_item(p, "video", 2) for p in own]
    manifest2 = _write_manifest(dev_dir / "run-2.jsonl", items2)
    run2 = runs.commit_run(home, ledger, manifest2, ids["developer"], "orbit-video", "orbit-v2",
                           base_model="orbit-v1")
    ids["run"] = run2["id"]
    echo(f"run {run2['id']}: {run2['count']} items, root {run2['root'][:16]}…, "
         f"log index {run2['log_index']}")
    cert2 = _audit(home, ledger, ids, run2["id"], manifest2, train, dev_dir / "response-2.json",
                   echo)
    ids["certificate"] = cert2["certificate"]
    cert_file = home.path.parent / "certificate.intoto.json"
    certificates.write_certificate(cert_file, cert2["envelope"])
    check = certificates.verify_certificate(home, ledger, str(cert_file))
    echo(f"reelrights audit verify-cert {cert_file.name}   (anyone, from the file)")
    echo(f"   {'valid' if check['valid'] else 'NOT VALID'}")
    for c in check["checks"]:
        echo(f"     - {c}")

    step("The EU AI Act summary of training content for orbit-v2 (template of July 2025)")
    doc = eu_summary.build_summary(ledger.db, run2["id"])
    md = eu_summary.render_markdown(doc)
    out = home.path.parent / "orbit-v2-training-summary.md"
    out.write_text(md, "utf-8")
    computed = sum(1 for s in doc["sections"] for f in s["fields"] if f["computed"])
    blank = sum(1 for s in doc["sections"] for f in s["fields"] if f["value"] is None)
    echo(f"reelrights run summary {run2['id']} > {out.name}: {computed} fields computed from "
         f"the registry and the commitment, {blank} marked for the provider to complete")
    for s in doc["sections"]:
        for f in s["fields"]:
            if f["id"] in ("1.3.a", "1.3.b", "2.2.1.a", "3.3"):
                echo(f"   {f['id']} {f['label']}: {_short(f['value'])}")


def _audit(home: Home, ledger: Ledger, ids: dict[str, str], run_id: str, manifest: Path,
           media_dir: Path, response: Path, echo: Echo) -> dict:
    ch = audit_challenge.challenge_run(home, ledger, run_id, SAMPLES, ids["auditor"])
    cp = ch["checkpoint"]
    echo(f"reelrights audit challenge {run_id} --samples {SAMPLES}\n   challenge "
         f"{ch['challenge']} ({ch['method']}), from checkpoint {cp['size']} "
         f"{cp['root'][:16]}…: items {ch['indices']}")
    doc = audit_challenge.respond(ledger, ch["challenge"], manifest, media_dir=media_dir)
    audit_challenge.write_private(response, doc)
    with_media = sum(1 for i in doc["items"] if "media" in i)
    echo(f"reelrights audit respond (Orbit AI): {len(doc['items'])} items with salts and "
         f"inclusion proofs, {with_media} with their media; the rest stay private")
    out = certificates.certify(home, ledger, response, ids["auditor"], territory="US")
    counts = ", ".join(f"{k} {v}" for k, v in out["counts"].items() if v)
    echo(f"reelrights audit verify {response.name}\n   {out['result'].upper()}: {counts}; "
         f"unlicensed share <= {float(out['bound']['upper']):.1%} (Clopper-Pearson, 95 %)")
    echo(f"   certificate {out['certificate']} signed by the auditor (in-toto in DSSE), "
         f"log index {out['log_index']}")
    if out["result"] != "pass":
        for f in out["findings"]:
            if f["verdict"] != "licensed":
                why = f["reasons"][-1]
                for w in {w for w in why.split() if w.startswith("wrk_")}:
                    why = why.replace(w, f"{w.rstrip(',')} ({_title(ledger, w.rstrip(','))})")
                echo(f"     item {f['index']}: {f['verdict']}: {why}")
    return out


def _licensed_items(ledger: Ledger, ids: dict[str, str]) -> list[dict]:
    """One manifest item per asset of the licensed bundle, as the developer lists them."""
    b = bundles.bundle_detail(ledger.db, ids["bundle"])
    basis = {"type": "license", "license": ids["license"], "bundle": ids["bundle"]}
    out = []
    for w in b.works:
        for file in work_detail(ledger.db, w.id).assets:
            a = file.to_json()
            kind = a["category"]
            units, unit, ctype = {"video": (a.get("duration_ms", 0) // 1000, "seconds", "film"),
                                  "audio": (a.get("duration_ms", 0) // 1000, "seconds", "score"),
                                  "text": (a.get("lines", 0) * 12, "tokens", "script")}[kind]
            out.append({"sha256": a["sha256"], "kind": kind, "units": units, "unit": unit,
                        "basis": basis, "content_type": ctype, "acquired": "2027-02",
                        "language": "en"})
    return out


def _own_item(path: Path, kind: str, seconds: int) -> dict:
    import hashlib

    return {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "kind": kind,
            "units": seconds, "unit": "seconds", "basis": {"type": "own"},
            "content_type": "short", "acquired": "2027-02"}


def _write_manifest(path: Path, items: list[dict]) -> Path:
    path.write_bytes(b"".join(canonical_item(it) + b"\n" for it in items))
    return path


def _title(ledger: Ledger, work_id: str) -> str:
    return work_detail(ledger.db, work_id).title


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 100 else text[:99] + "…"
