"""From index hits to matches: which registered asset, where, and how similar.

The rules follow Meta's PDQ/vPDQ and the research notes (``fingerprint.md``):

* **Video** (vPDQ, with orientations, fitted clocks and segments): see
  :mod:`reelrights.evidence.scan_video`.
* **Audio** (Chromaprint; audio files and soundtracks are matched by landmarks first, see
  :mod:`reelrights.evidence.scan_audio`): the index aligns the query against each reference and returns the
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

from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import Connection

from .fingerprints import load_prints
from .scan_video import PDQ_RADIUS, VPDQ_SHARE, match_video, time_runs

__all__ = ["PDQ_RADIUS", "TEXT_THRESHOLD", "VPDQ_SHARE", "match_audio", "match_text",
           "match_video", "runs", "time_runs"]

TEXT_THRESHOLD = 0.5
SCENE_MIN_JACCARD = 0.15   # a partly paraphrased scene: some shingles still shared...
SCENE_LINE_SHARE = 0.5     # ...and half its distinct lines verbatim in one reference scene
SCENE_MIN_LINES = 4
MAX_BER = 0.35


def runs(positions: np.ndarray) -> list[tuple[int, int]]:
    """Sorted integer positions as ``[(first, last)]`` runs of consecutive values."""
    if len(positions) == 0:
        return []
    breaks = np.flatnonzero(np.diff(positions) != 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(positions) - 1]])
    return [(int(positions[s]), int(positions[e])) for s, e in zip(starts, ends, strict=True)]


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


def match_text(conn: Connection | None, index: Any, query: Any, *,
               loader: Callable[[set[int]], dict[int, tuple[str, str, Any]]] | None = None
               ) -> list[dict[str, Any]]:
    keys = {k for k, _ in index.query(query.minhash, TEXT_THRESHOLD)}
    for chunk in query.chunks:
        keys |= {k for k, _ in index.query(chunk.minhash, TEXT_THRESHOLD)}
    seqs = {int(str(k).split(":")[0]) for k in keys}
    if loader is None:
        if conn is None:
            raise ValueError("match_text needs a connection or a loader")
        refs = load_prints(conn, seqs)
    else:
        refs = loader(seqs)
    q_hashes = np.asarray(query.line_hashes)
    q_lines = np.asarray(query.line_numbers)
    if len(q_hashes) == 0:
        return []
    out = []
    for _s, (sha, _, ref) in sorted(refs.items()):
        jaccard = float(np.mean(np.asarray(query.minhash) == np.asarray(ref.minhash)))
        # Which of the query's scenes are copied, and from which reference scene.
        in_copied = np.zeros(len(q_lines), bool)
        scenes = _copied_scenes(query, ref, q_hashes, q_lines)
        for sc in scenes:
            in_copied |= (q_lines >= sc["query_first_line"]) & (q_lines <= sc["query_last_line"])
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
                    "line_share": round(float(hit.mean()), 6), "ranges": ranges, "scenes": scenes})
    return out


def _copied_scenes(query: Any, ref: Any, q_hashes: np.ndarray, q_lines: np.ndarray) -> list[dict[str, Any]]:
    """The query's scenes copied from some scene of ``ref``, each with its best reference scene.

    A scene is copied when its MinHash Jaccard with a reference scene is >= TEXT_THRESHOLD, or
    when it is partly paraphrased: Jaccard >= SCENE_MIN_JACCARD and at least SCENE_LINE_SHARE of
    its distinct lines (at least SCENE_MIN_LINES of them) appear verbatim in that one scene.
    Reordered scenes are found wherever they are (each query scene is compared to every scene)."""
    if not ref.chunks or not query.chunks:
        return []
    r_sigs = np.stack([np.asarray(c.minhash) for c in ref.chunks])
    r_hashes, r_lines = np.asarray(ref.line_hashes), np.asarray(ref.line_numbers)
    r_sets = [set(r_hashes[(r_lines >= c.first_line) & (r_lines <= c.last_line)].tolist()) for c in ref.chunks]
    out = []
    for c in query.chunks:
        js = (r_sigs == np.asarray(c.minhash)).mean(axis=1)
        qs = set(q_hashes[(q_lines >= c.first_line) & (q_lines <= c.last_line)].tolist())
        best = int(np.argmax(js))
        ok = float(js[best]) >= TEXT_THRESHOLD
        share = 0.0
        if not ok and qs:
            shared = np.array([len(qs & rs) for rs in r_sets])
            cand = int(np.argmax(shared + js))  # most verbatim lines, Jaccard breaks ties
            share = float(shared[cand]) / len(qs)
            if (js[cand] >= SCENE_MIN_JACCARD and share >= SCENE_LINE_SHARE
                    and shared[cand] >= SCENE_MIN_LINES):
                ok, best = True, cand
        if ok:
            rc = ref.chunks[best]
            out.append({"query_first_line": int(c.first_line), "query_last_line": int(c.last_line),
                        "ref_first_line": int(rc.first_line), "ref_last_line": int(rc.last_line),
                        "jaccard": round(float(js[best]), 4),
                        "line_share": round(share if share else
                                            len(qs & r_sets[best]) / max(1, len(qs)), 4)})
    return out
