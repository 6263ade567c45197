"""From index hits to matches: which registered asset, where, and how similar.

The rules follow Meta's PDQ/vPDQ and the research notes (``fingerprint.md``):

* **Video** (vPDQ): frames of quality >= 50 only; a query frame matches a reference frame within
  Hamming distance 31 (the reference frames include centre-crop variants, so crops up to ~12 %
  match); an asset matches when >= 80 % of *one side's* frames match (the query's, so a trimmed
  clip of a film is found, or the reference's, so a film containing a registered trailer is).
  Similarity is the share of the query's frames that match. Time ranges are runs of matched
  frames that play together in both (see :func:`time_runs`), with query and reference times.
* **Audio** (Chromaprint): the index aligns the query against each reference and returns the
  aligned stretch with its bit error rate; similarity is 1 - BER.
* **Text** (MinHash + line hashes): candidates come from MinHash LSH over the whole text and its
  scenes; a candidate matches when the whole-text Jaccard estimate, or the share of the query's
  lines in scenes whose Jaccard with some reference scene is >= :data:`TEXT_THRESHOLD`, reaches
  that threshold (so an excerpt of a few scenes is found too). Shared short lines alone (a
  character cue, ``CUT TO:``) never make a match. Line ranges are runs of at least two
  consecutive query lines found verbatim (normalized) in the reference, within copied scenes.

Each match is a dict ready for the JSONL report.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import Connection

from .fingerprints import FRAME_BITS, MIN_QUALITY, load_prints

__all__ = ["PDQ_RADIUS", "TEXT_THRESHOLD", "VPDQ_SHARE", "match_audio", "match_text",
           "match_video", "runs", "time_runs"]

PDQ_RADIUS = 31
VPDQ_SHARE = 0.8
TEXT_THRESHOLD = 0.5
MAX_BER = 0.35
RUN_GAP_MS = 2500      # matched frames further apart than this start a new range
RUN_SLACK_MS = 1000    # how far query and reference clocks may drift within a range
_FRAME_MASK = (1 << FRAME_BITS) - 1


def runs(positions: np.ndarray) -> list[tuple[int, int]]:
    """Sorted integer positions as ``[(first, last)]`` runs of consecutive values."""
    if len(positions) == 0:
        return []
    breaks = np.flatnonzero(np.diff(positions) != 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(positions) - 1]])
    return [(int(positions[s]), int(positions[e])) for s, e in zip(starts, ends, strict=True)]


def time_runs(q_ms: np.ndarray, r_ms: np.ndarray) -> list[tuple[int, int]]:
    """Runs ``[(first, last)]`` of matched frames (in query order) that play together: the next
    frame comes at most :data:`RUN_GAP_MS` later in the query, and the reference advanced by the
    same time within :data:`RUN_SLACK_MS`. An unmatched frame in between (a scene-change sample,
    a flat frame) does not split a run; a jump to another part of the reference does."""
    if len(q_ms) == 0:
        return []
    dq, dr = np.diff(q_ms), np.diff(r_ms)
    breaks = np.flatnonzero((dq > RUN_GAP_MS) | (np.abs(dr - dq) > RUN_SLACK_MS))
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(q_ms) - 1]])
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def match_video(conn: Connection, index: Any, query: Any) -> list[dict[str, Any]]:
    q_ok = np.flatnonzero(np.asarray(query.quality) >= MIN_QUALITY)
    if len(q_ok) == 0:
        return []
    hits = index.search(np.ascontiguousarray(query.hashes[q_ok]), radius=PDQ_RADIUS)
    if len(hits.query) == 0:
        return []
    seq = hits.id >> FRAME_BITS
    frame = hits.id & _FRAME_MASK
    refs = load_prints(conn, np.unique(seq).tolist())  # stale entries (recomputed prints) drop out
    by_sha: dict[str, list[int]] = {}
    for s in refs:
        by_sha.setdefault(refs[s][0], []).append(s)
    q_time = np.asarray(query.time_ms)
    out = []
    for sha, seqs in sorted(by_sha.items()):
        sel = np.isin(seq, seqs)
        # reference time of every hit (a frame of the video print or one of its crop variants)
        r_time = np.empty(int(sel.sum()), np.int64)
        s_sel, f_sel = seq[sel], frame[sel]
        for s in seqs:
            here = s_sel == s
            r_time[here] = np.asarray(refs[s][2].time_ms)[f_sel[here]]
        qpos, dist = hits.query[sel], hits.distance[sel]
        order = np.lexsort((dist, qpos))  # nearest reference frame per matched query frame
        qpos, dist, r_time = qpos[order], dist[order], r_time[order]
        first = np.concatenate([[True], qpos[1:] != qpos[:-1]])
        r_ok = len(np.unique(np.concatenate([
            np.asarray(refs[s][2].time_ms)[np.asarray(refs[s][2].quality) >= MIN_QUALITY]
            for s in seqs])))
        q_share = int(first.sum()) / len(q_ok)
        r_share = len(np.unique(r_time)) / r_ok if r_ok else 0.0
        if max(q_share, r_share) < VPDQ_SHARE:
            continue
        qpos, dist, r_time = qpos[first], dist[first], r_time[first]
        ranges = [{"query_start_ms": int(q_time[q_ok[qpos[a]]]),
                   "query_end_ms": int(q_time[q_ok[qpos[b]]]),
                   "ref_start_ms": int(r_time[a:b + 1].min()),
                   "ref_end_ms": int(r_time[a:b + 1].max()), "frames": b - a + 1}
                  for a, b in time_runs(q_time[q_ok[qpos]], r_time)]
        out.append({"signal": "video", "sha256": sha, "similarity": round(q_share, 6),
                    "ref_share": round(min(1.0, r_share), 6),
                    "mean_distance": round(float(dist.mean()), 2), "ranges": ranges})
    return out


def match_audio(conn: Connection, index: Any, query: Any) -> list[dict[str, Any]]:
    if len(query.items) == 0:
        return []
    hits = index.search(query.items, max_ber=MAX_BER)
    refs = load_prints(conn, {int(h.id) for h in hits})
    best: dict[int, list[Any]] = {}
    for h in hits:
        if int(h.id) in refs:
            best.setdefault(int(h.id), []).append(h)
    out = []
    step = float(query.item_ms)
    for s, hs in best.items():
        hs.sort(key=lambda h: h.query_start_items)
        sha = refs[s][0]
        covered = sum(int(h.length_items) for h in hs)
        ber = sum(float(h.ber) * int(h.length_items) for h in hs) / max(covered, 1)
        out.append({"signal": "audio", "sha256": sha, "similarity": round(1 - ber, 6),
                    "coverage": round(min(1.0, covered / len(query.items)), 6),
                    "ranges": [{"query_start_ms": round(h.query_start_items * step),
                                "query_end_ms": round((h.query_start_items + h.length_items) * step),
                                "ref_start_ms": round(h.ref_offset_items * step),
                                "ref_end_ms": round((h.ref_offset_items + h.length_items) * step),
                                "ber": round(float(h.ber), 6)} for h in hs]})
    return out


def match_text(conn: Connection, index: Any, query: Any) -> list[dict[str, Any]]:
    keys = {k for k, _ in index.query(query.minhash, TEXT_THRESHOLD)}
    for chunk in query.chunks:
        keys |= {k for k, _ in index.query(chunk.minhash, TEXT_THRESHOLD)}
    refs = load_prints(conn, {int(str(k).split(":")[0]) for k in keys})
    q_hashes = np.asarray(query.line_hashes)
    q_lines = np.asarray(query.line_numbers)
    if len(q_hashes) == 0:
        return []
    out = []
    for _s, (sha, _, ref) in sorted(refs.items()):
        jaccard = float(np.mean(np.asarray(query.minhash) == np.asarray(ref.minhash)))
        # Which of the query's scenes are copied: best Jaccard against any reference scene.
        in_copied = np.zeros(len(q_lines), bool)
        if ref.chunks:
            r_sigs = np.stack([np.asarray(c.minhash) for c in ref.chunks])
            for c in query.chunks:
                if float((r_sigs == np.asarray(c.minhash)).mean(axis=1).max()) >= TEXT_THRESHOLD:
                    in_copied |= (q_lines >= c.first_line) & (q_lines <= c.last_line)
        scene_share = float(in_copied.mean())
        similarity = max(jaccard, scene_share)
        if similarity < TEXT_THRESHOLD:
            continue
        if jaccard >= TEXT_THRESHOLD:
            in_copied[:] = True
        r_hashes, r_lines = np.asarray(ref.line_hashes), np.asarray(ref.line_numbers)
        hit = np.isin(q_hashes, r_hashes) & in_copied
        first_line: dict[int, int] = {}
        for h, n in zip(r_hashes.tolist(), r_lines.tolist(), strict=True):
            first_line.setdefault(h, n)
        ranges = []
        for a, b in runs(np.flatnonzero(hit)):
            if b == a and len(q_hashes) > 1:
                continue  # a lone common line ("CUT TO:", a character cue) proves nothing
            ref_lines = [first_line[h] for h in q_hashes[a:b + 1].tolist()]
            ranges.append({"query_first_line": int(q_lines[a]), "query_last_line": int(q_lines[b]),
                           "ref_first_line": int(min(ref_lines)),
                           "ref_last_line": int(max(ref_lines)), "lines": b - a + 1})
        out.append({"signal": "text", "sha256": sha, "similarity": round(similarity, 6),
                    "jaccard": round(jaccard, 6), "scene_share": round(scene_share, 6),
                    "line_share": round(float(hit.mean()), 6), "ranges": ranges})
    return out
