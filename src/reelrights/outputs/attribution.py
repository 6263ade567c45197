"""Attribution: which licensed works an output draws on, with weights, near-copies and consent.

``reelrights attribute OUTPUT`` fingerprints the output and searches the *registry* indexes
(never the outputs index):

* **video and images**: every output frame (PDQ quality >= 50) is searched within the PDQ match
  threshold (Hamming 31); each matched frame is assigned to its nearest registered asset. An
  asset's share is the part of the output's frames assigned to it. Every such frame is also a
  **near-copy** (memorization: the output reproduces a registered frame) and is listed with the
  output and reference times and the distance;
* **audio**: Chromaprint alignment; the share is the part of the output's audio covered;
* **scripts**: MinHash scenes and exact normalized lines (:func:`.scan_match.match_text`); the
  share is the part of the output's lines found verbatim in copied scenes, and each run of two
  or more identical lines is listed as a near-copy.

An asset's score is the mean of its shares over the output's signals; scores go to the asset's
works (split evenly if several hold it) and to the bundles holding it (the bundles the output's
run used under license first, else every bundle holding it; split evenly), and both are
normalized to sum to 1. ``share`` keeps the unnormalized part of the output each work accounts
for.

**Consent.** For each matched work, every credited performer needs a consent covering this use:
likeness where video matched, voice where audio matched, for the output's developer
(licensee), production, the run's model family and the day of the check
(:func:`reelrights.rights.consent.find_consent`). A performer without one is flagged.

The output record (developer, production, run) is found through the file's C2PA manifest or,
if it was stripped, through the outputs fingerprint index; without one the consent check has
no licensee or production to match and only a consent open to any use covers it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sqlalchemy import Connection, select

from ..errors import BadInput
from ..evidence.fingerprints import FRAME_BITS, MIN_QUALITY, Indexes, load_prints
from ..evidence.scan_match import PDQ_RADIUS, match_audio, match_text
from ..home import Home
from ..ledger import Ledger
from ..media.c2pa_assertions import TRAINING_RUN_LABEL
from ..store.evidence_tables import run_usage, training_runs
from ..store.resolve import resolve
from ..store.tables import bundle_assets, bundles, credits, work_assets, works
from .output_index import OutputIndex, OutputPrints, fingerprint_output, query_frames, recover
from .records import OUTPUT, Output

__all__ = ["attribute"]

#: The consent each matched signal needs: a face in the video, a voice in the audio.
_CONSENT_SIGNALS: tuple[tuple[Literal["voice", "likeness"], str], ...] = (
    ("likeness", "video"), ("voice", "audio"))

MAX_LISTED = 100
_MASK = (1 << FRAME_BITS) - 1


def attribute(home: Home, ledger: Ledger, path: Path, *, territory: str | None = None,
              on: date | None = None) -> dict[str, Any]:
    """The attribution report (see the module docstring); ``exit_code`` is 3 when a near-copy
    or a performer without covering consent is found, else 0."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: no such file; pass the output to attribute")
    op = fingerprint_output(path)
    on = on or datetime.now(UTC).date()
    indexes = Indexes(home)
    with ledger.db.read() as conn:
        record, found_by = _record(home, conn, path, op)
        shares: dict[str, dict[str, float]] = defaultdict(dict)  # sha -> signal -> share
        near: list[dict[str, Any]] = []
        signals = sorted(op.prints)
        if "video" in op.prints and indexes.dir("pdq").exists():
            _video(conn, indexes.get("pdq"), op.prints["video"], shares, near, op.variants)
        if "audio" in op.prints and indexes.dir("audio").exists():
            for m in match_audio(conn, indexes.get("audio"), op.prints["audio"]):
                shares[m["sha256"]]["audio"] = max(shares[m["sha256"]].get("audio", 0.0),
                                                   m["coverage"])
        if "text" in op.prints and indexes.dir("scripts").exists():
            for m in match_text(conn, indexes.get("scripts"), op.prints["text"]):
                shares[m["sha256"]]["text"] = m["line_share"]
                near += [{"signal": "text", "sha256": m["sha256"], **r} for r in m["ranges"]]
        report = _weigh(conn, shares, signals, record)
        report["consent_flags"] = _consent(conn, report["works"], record, territory, on)
    for n in near:
        n["works"] = [w["work"] for w in report["works"] if n["sha256"] in w["assets"]]
    report.update({
        "file": str(path), "sha256": op.sha256, "category": op.category,
        "output": None if record is None else {
            "id": record.id, "developer": record.developer_id, "run": record.run_id,
            "production": record.production_id, "log_index": record.log_index},
        "found_by": found_by, "near_copies": near[:MAX_LISTED],
        "near_copy_count": len(near), "date": on.isoformat(), "territory": territory})
    report["exit_code"] = 3 if near or report["consent_flags"] else 0
    return report


def _record(home: Home, conn: Connection, path: Path,
            op: OutputPrints) -> tuple[Output | None, str | None]:
    """The output's record, through its manifest, else its fingerprint (or None)."""
    from ..media.c2pa_engine import verify_file
    from .provenance_verify import anchors_of, row_from_claim

    try:
        c2pa = verify_file(path, anchors=anchors_of(home))
    except BadInput:
        c2pa = None
    claim = (c2pa.assertions.get(TRAINING_RUN_LABEL) if c2pa is not None
             and c2pa.state in ("Trusted", "Valid") else None)  # never an Invalid manifest's word
    row = row_from_claim(conn, claim) if isinstance(claim, dict) else None
    if row is not None:
        return row, "manifest"
    rec = recover(conn, OutputIndex(home), op)
    if rec is not None:
        return resolve(conn, OUTPUT, rec.output_id), "fingerprint"
    return None, None


def _video(conn: Connection, index: Any, p: Any, shares: dict, near: list, variants: Any = None) -> None:
    ok = np.flatnonzero(np.asarray(p.quality) >= MIN_QUALITY)
    if len(ok) == 0:
        return
    # a still also searches its crop grid (stills.GRID_QUERY), each box standing for the picture
    hashes, owner, _, _ = query_frames(p, variants)
    hits = index.search(hashes, radius=PDQ_RADIUS)
    if len(hits.query) == 0:
        return
    refs = load_prints(conn, np.unique(hits.id >> FRAME_BITS).tolist())
    best: dict[int, tuple[int, str, int]] = {}  # query row -> (distance, sha, ref ms)
    for q, i, d in zip(owner[hits.query].tolist(), hits.id.tolist(), hits.distance.tolist(),
                       strict=True):
        ref = refs.get(i >> FRAME_BITS)
        if ref is None:
            continue  # a stale index entry (the print was recomputed)
        cand = (int(d), ref[0], int(np.asarray(ref[2].time_ms)[i & _MASK]))
        if q not in best or cand < best[q]:
            best[q] = cand
    counts: dict[str, int] = defaultdict(int)
    times = np.asarray(p.time_ms)
    for q, (d, sha, ref_ms) in sorted(best.items()):
        counts[sha] += 1
        near.append({"signal": "video", "sha256": sha, "output_ms": int(times[ok[q]]),
                     "ref_ms": ref_ms, "distance": d})
    for sha, n in counts.items():
        shares[sha]["video"] = n / len(ok)


def _weigh(conn: Connection, shares: dict[str, dict[str, float]], signals: list[str],
           record: Output | None) -> dict[str, Any]:
    score = {sha: sum(s.values()) / max(len(signals), 1) for sha, s in shares.items()}
    used: set[str] = set()
    if record is not None:
        used = set(conn.scalars(select(run_usage.c.bundle_id)
                                .where(run_usage.c.run_id == record.run_id)))
    work_score: dict[str, float] = defaultdict(float)
    work_assets_of: dict[str, list[str]] = defaultdict(list)
    work_signals: dict[str, dict[str, float]] = defaultdict(dict)
    bundle_score: dict[str, float] = defaultdict(float)
    for sha in sorted(score):
        holders = list(conn.scalars(select(work_assets.c.work_id)
                                    .where(work_assets.c.sha256 == sha)
                                    .order_by(work_assets.c.work_id)))
        for w in holders:
            work_score[w] += score[sha] / len(holders)
            work_assets_of[w].append(sha)
            for sig, v in shares[sha].items():
                work_signals[w][sig] = max(work_signals[w].get(sig, 0.0), v)
        held_by = list(conn.scalars(select(bundle_assets.c.bundle_id)
                                    .where(bundle_assets.c.sha256 == sha)
                                    .order_by(bundle_assets.c.bundle_id)))
        chosen = [b for b in held_by if b in used] or held_by
        for b in chosen:
            bundle_score[b] += score[sha] / len(chosen)
    wt = sum(work_score.values())
    bt = sum(bundle_score.values())
    info = {r.id: r for r in conn.execute(select(works.c.id, works.c.title, works.c.owner_id)
                                          .where(works.c.id.in_(list(work_score))))}
    names = {r.id: r for r in conn.execute(select(bundles.c.id, bundles.c.name, bundles.c.version)
                                           .where(bundles.c.id.in_(list(bundle_score))))}
    work_list = sorted(({"work": w, "title": info[w].title, "owner": info[w].owner_id,
                         "weight": round(s / wt, 6) if wt else 0.0, "share": round(s, 6),
                         "signals": {k: round(v, 6) for k, v in sorted(work_signals[w].items())},
                         "assets": work_assets_of[w]} for w, s in work_score.items()),
                       key=lambda x: (-x["weight"], x["work"]))
    bundle_list = sorted(({"bundle": b, "name": names[b].name, "version": names[b].version,
                           "weight": round(s / bt, 6) if bt else 0.0,
                           "used_by_run": b in used} for b, s in bundle_score.items()),
                         key=lambda x: (-x["weight"], x["bundle"]))
    return {"signals": signals, "works": work_list, "bundles": bundle_list,
            "matched_share": round(min(1.0, wt), 6)}


def _consent(conn: Connection, matched: list[dict[str, Any]], record: Output | None,
             territory: str | None, on: date) -> list[dict[str, Any]]:
    from ..rights.consent import find_consent

    model_family = None
    if record is not None:
        model_family = conn.scalar(select(training_runs.c.model_family)
                                   .where(training_runs.c.id == record.run_id))
    flags = []
    for w in matched:
        needs = [k for k, sig in _CONSENT_SIGNALS if sig in w["signals"]]
        if not needs:
            continue
        performers = list(conn.scalars(select(credits.c.party_id).where(
            credits.c.work_id == w["work"], credits.c.role == "performer")
            .order_by(credits.c.party_id)))
        for performer in performers:
            for kind in needs:
                c = find_consent(conn, performer_id=performer, kind=kind, on=on,
                                 production=record.production_id if record else None,
                                 model_family=model_family,
                                 licensee_id=record.developer_id if record else None,
                                 territory=territory,
                                 medium="video" if kind == "likeness" else "audio")
                if not c.ok:
                    flags.append({"performer": performer, "work": w["work"], "kind": kind,
                                  "reasons": list(c.reasons)})
    return flags
