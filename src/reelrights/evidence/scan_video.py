"""Video matches: from PDQ index hits to a registered asset, its time ranges and its geometry.

The rules (docs/scan.md, "Match rules"):

* Query frames of PDQ quality >= 50 are searched within Hamming distance 31 of the reference
  frames, which include the reference's centre-crop variants. A copy's print also holds the
  seven dihedral hashes of every frame; per reference, the one orientation that matches most
  frames is kept (a flipped copy is flipped throughout), and reported as ``geometry``.
* Region hashes (``media.fingerprint.regions``, by their ``crop`` codes): a copy's quadrant is
  compared only with the reference's same quadrant, and counts only when at least
  :data:`MIN_QUADRANTS` quadrants of one copy sample match the same moment of one print; a copy's
  inset only with the reference's whole frames and centre crops. Each row belongs to the last
  sample at or before its time (a copy's insets are hashed, and stored, a little later).
* Each matched query frame takes its nearest reference frame. Runs of matched frames that play
  together in both (:func:`time_runs`) become ranges, runs on the same clock up to 5 s apart one
  range, without a stray run of 1-2 frames between them (:func:`join_runs`); each range's clock is fitted (offset and
  rate, so a copy sped up or slowed down by up to ~15 % keeps one range), and its ends are the
  first matched frame and the end of the time the last one stands for (until the next sample).
* An asset matches when >= 80 % of the query's usable frames match (``similarity``), or its
  ranges cover >= 80 % of the reference's duration (``ref_share``): vPDQ's rule on either side;
  or when one range holds at least :data:`SEGMENT_MIN_FRAMES` frames over at least
  :data:`SEGMENT_MIN_MS` (``rule: "segment"``), so a few seconds of a work inside a compilation
  are reported whatever surrounds them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import Connection

from .fingerprints import FRAME_BITS, MIN_QUALITY, load_prints

__all__ = ["PDQ_RADIUS", "SEGMENT_MIN_FRAMES", "SEGMENT_MIN_MS", "VPDQ_SHARE", "match_video",
           "time_runs"]

PDQ_RADIUS = 31
VPDQ_SHARE = 0.8
RUN_GAP_MS = 2500      # matched frames further apart than this start a new range
RUN_SLACK_MS = 1000    # how far query and reference clocks may drift within a range
JOIN_GAP_MS = 5000     # runs on the same clock (within JOIN_SLACK_MS) this close are one range
JOIN_SLACK_MS = 500
STRAY_MAX_FRAMES = 2   # a run this short between two runs on one clock is a stray: left out
SEGMENT_MIN_MS = 4000  # a range this long ...
SEGMENT_MIN_FRAMES = 4  # ... with this many matched frames is a match on its own
RATE_LIMITS = (0.8, 1.25)  # playback rates a range's fitted clock may take
DIHEDRAL_BASE = 200    # media.fingerprint.frames.DIHEDRAL_BASE (no media import here)
#: What the copy did to the picture, for the orientation whose hashes matched (the k-th dihedral
#: hash of a copy undoes the copy's transformation: the copy turned clockwise is matched by its
#: hash turned counter-clockwise).
GEOMETRY = ("none", "rotated 90 clockwise", "rotated 180", "rotated 90 counter-clockwise",
            "flipped vertically", "flipped horizontally", "transposed", "anti-transposed")
_FRAME_MASK = (1 << FRAME_BITS) - 1
#: Region codes (media.fingerprint.regions): quadrants, copies' insets, references' windows (a
#: copy's boxes, 181.., are frames too).
QUAD_BASE, INSET_BASE, WINDOW_BASE = 50, 64, 80
MIN_QUADRANTS = 2       # quadrants of one copy sample that must match the same moment
QUAD_SLACK_MS = 250     # ... within this much of the reference's time


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


def join_runs(q_ms: np.ndarray, r_ms: np.ndarray, runs: list[tuple[int, int]]) -> list[np.ndarray]:
    """The runs of :func:`time_runs` as ranges (index arrays, in query order): a run whose clock
    continues the previous range's (its frames within :data:`JOIN_SLACK_MS` of that range's
    fitted clock, or of its offset at rate 1, median) at most :data:`JOIN_GAP_MS` later joins it
    (a few unmatched samples do not split a range), and a run of at most
    :data:`STRAY_MAX_FRAMES` frames between two such runs is left out (samples matched at another
    moment: a zoom, a repeated shot)."""
    groups = [np.arange(a, b + 1) for a, b in runs]
    out: list[np.ndarray] = []
    i = 0
    while i < len(groups):
        g = groups[i]
        if out and _same_clock(q_ms, r_ms, out[-1], g):
            out[-1] = np.concatenate([out[-1], g])
        elif (out and len(g) <= STRAY_MAX_FRAMES and i + 1 < len(groups)
              and _same_clock(q_ms, r_ms, out[-1], groups[i + 1])):
            pass  # the next run joins the range, this one is dropped
        else:
            out.append(g)
        i += 1
    return out


def _same_clock(q_ms: np.ndarray, r_ms: np.ndarray, before: np.ndarray, after: np.ndarray) -> bool:
    if q_ms[after[0]] - q_ms[before[-1]] > JOIN_GAP_MS:
        return False
    offset, rate = fit_clock(q_ms[before], r_ms[before])
    if abs(float(np.median(r_ms[after] - (offset + rate * q_ms[after])))) <= JOIN_SLACK_MS:
        return True
    # or at rate 1: a few samples matched half a second off (a zoom) can skew the fitted rate
    plain = np.median(r_ms[after] - q_ms[after]) - np.median(r_ms[before] - q_ms[before])
    return abs(float(plain)) <= JOIN_SLACK_MS


def fit_clock(q: np.ndarray, r: np.ndarray) -> tuple[float, float]:
    """(offset, rate) with r ~ offset + rate * q over a run of matched frames: the rate by least
    squares when the run spans >= 3 s (else 1), held to :data:`RATE_LIMITS` and snapped to 1
    within 3 %; the offset is the median residual (robust to a frame matched a sample off)."""
    rate = 1.0
    if len(q) >= 3 and q[-1] - q[0] >= 3000:
        rate = float(np.polyfit(q.astype(np.float64), r.astype(np.float64), 1)[0])
        rate = min(max(rate, RATE_LIMITS[0]), RATE_LIMITS[1])
        if abs(rate - 1.0) < 0.03:
            rate = 1.0
    return float(np.median(r - rate * q)), rate


Loader = Callable[[list[int]], dict[int, tuple[str, str, Any]]]


def match_video(conn: Connection | None, index: Any, query: Any, *,
                loader: Loader | None = None) -> list[dict[str, Any]]:
    """The video matches of ``query`` (a copy's VideoPrint) against the PDQ ``index``; prints
    behind index ids come from the database (``load_prints``) or from ``loader`` (benchmarks)."""
    if loader is None:
        assert conn is not None, "match_video needs a connection or a loader"
        loader = lambda seqs: load_prints(conn, seqs)  # noqa: E731
    quality = np.asarray(query.quality)
    code = np.asarray(query.crop)
    q_time = np.asarray(query.time_ms, dtype=np.int64)
    is_frame = code == 0
    frame_time = q_time[is_frame]                        # every sampled frame's time
    # every row's sampled frame: the last one at or before it (a copy's insets come late)
    sample = np.maximum(np.searchsorted(frame_time, q_time, side="right") - 1, 0)
    variant = np.where(code >= DIHEDRAL_BASE, (code.astype(np.int64) - DIHEDRAL_BASE) % 8, 0)
    ok = np.flatnonzero(quality >= MIN_QUALITY)
    usable = len(np.unique(sample[ok]))
    if usable == 0:
        return []
    hits = index.search(np.ascontiguousarray(query.hashes[ok]), radius=PDQ_RADIUS)
    if len(hits.query) == 0:
        return []
    seq = hits.id >> FRAME_BITS
    frame = hits.id & _FRAME_MASK
    refs = loader(np.unique(seq).tolist())  # stale entries (recomputed prints) drop out
    r_time_all = np.full(len(seq), -1, np.int64)
    r_code = np.zeros(len(seq), np.int64)
    for s in refs:
        here = seq == s
        r_time_all[here] = np.asarray(refs[s][2].time_ms)[frame[here]]
        r_code[here] = np.asarray(refs[s][2].crop)[frame[here]]
    q_row = ok[hits.query]
    keep = np.isin(seq, list(refs)) & _pairs_agree(code[q_row].astype(np.int64), r_code)
    keep &= _quadrants_agree(keep, code[q_row].astype(np.int64), sample[q_row], seq, r_time_all)
    seq, frame, q_row, r_time_all = seq[keep], frame[keep], q_row[keep], r_time_all[keep]
    distance = np.asarray(hits.distance)[keep]
    by_sha: dict[str, list[int]] = {}
    for s in refs:
        by_sha.setdefault(refs[s][0], []).append(s)
    q_sample, q_variant = sample[q_row], variant[q_row]
    end_ms = max(int(query.duration_ms or 0), int(frame_time[-1]) + 1)
    next_time = np.append(frame_time[1:], end_ms)        # until the next sample
    out = []
    for sha, seqs in sorted(by_sha.items()):
        sel = np.isin(seq, seqs)
        if not sel.any():
            continue
        # the one orientation that matches most frames of this reference
        counts = [len(np.unique(q_sample[sel & (q_variant == v)])) for v in range(8)]
        best = int(np.argmax(counts))
        sel &= q_variant == best
        r_time = r_time_all[sel]
        qs, dist, rows = q_sample[sel], distance[sel], q_row[sel]
        pick = _pick_frames(qs, dist, r_time - q_time[rows])  # one reference frame per matched sample
        qs, dist, r_time, rows = qs[pick], dist[pick], r_time[pick], rows[pick]
        ref_ms = max(int(refs[seqs[0]][2].duration_ms or 0), int(r_time.max()) + 1)
        t = q_time[rows]  # the matched frame's own time (a burst frame's is a frame or two later)
        ranges, segment = [], False
        for g in join_runs(t, r_time, time_runs(t, r_time)):
            a, b = int(g[0]), int(g[-1])
            offset, rate = fit_clock(t[g], r_time[g])
            q0, q1 = int(t[a]), int(next_time[qs[b]])
            r0 = int(round(min(max(offset + rate * q0, 0), ref_ms)))
            r1 = int(round(min(max(offset + rate * q1, 0), ref_ms)))
            ranges.append({"query_start_ms": q0, "query_end_ms": q1, "ref_start_ms": r0,
                           "ref_end_ms": r1, "frames": len(g), "rate": round(rate, 3)})
            segment |= len(g) >= SEGMENT_MIN_FRAMES and q1 - q0 >= SEGMENT_MIN_MS
        q_share = len(qs) / usable
        r_share = _covered([(r["ref_start_ms"], r["ref_end_ms"]) for r in ranges]) / ref_ms
        if max(q_share, r_share) >= VPDQ_SHARE:
            rule = "share"
        elif segment:
            rule = "segment"
        else:
            continue
        out.append({"signal": "video", "sha256": sha, "similarity": round(q_share, 6),
                    "ref_share": round(min(1.0, r_share), 6), "rule": rule,
                    "geometry": GEOMETRY[best], "mean_distance": round(float(dist.mean()), 2),
                    "ranges": ranges})
    return out


def _pick_frames(qs: np.ndarray, dist: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Per matched sample (in sample order), the index of the hit that stands for it: the nearest
    reference frame (any burst frame, any region), unless its time offset disagrees by more than
    :data:`RUN_SLACK_MS` with the median of up to three chosen samples on either side and another
    hit of the sample agrees: then the nearest of those. In a zoom, a crop of one frame looks like
    a frame a second later; this keeps the sample in the run its neighbours play in."""
    order = np.lexsort((dist, qs))
    bounds = np.flatnonzero(np.concatenate([[True], qs[order][1:] != qs[order][:-1], [True]]))
    groups = [order[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    best = np.array([g[0] for g in groups], dtype=np.int64)
    chosen = offset[best]
    for i, g in enumerate(groups):
        if len(g) == 1:
            continue
        around = np.concatenate([chosen[max(0, i - 3):i], chosen[i + 1:i + 4]])
        if len(around) < 2:
            continue
        mid = float(np.median(around))
        if abs(chosen[i] - mid) <= RUN_SLACK_MS:
            continue
        agree = g[np.abs(offset[g] - mid) <= RUN_SLACK_MS]
        if len(agree):
            best[i] = agree[0]
    return best


def _pairs_agree(q_code: np.ndarray, r_code: np.ndarray) -> np.ndarray:
    """Which (copy hash, reference hash) pairs may match: frames (whole, dihedral, centred crops,
    windows, a copy's boxes) with frames, a copy's quadrant with the reference's same quadrant, a copy's inset
    with the reference's whole frame or a centred crop of it."""
    q_kind, r_kind = _region_kind(q_code), _region_kind(r_code)
    frames = (q_kind == 0) & (r_kind == 0)
    quads = (q_kind == 1) & (r_kind == 1) & ((q_code - QUAD_BASE) % 4 == (r_code - QUAD_BASE) % 4)
    insets = (q_kind == 2) & (r_code < 50)
    return frames | quads | insets


def _quadrants_agree(keep: np.ndarray, q_code: np.ndarray, q_sample: np.ndarray, seq: np.ndarray,
                     r_time: np.ndarray) -> np.ndarray:
    """False for quadrant hits that :data:`MIN_QUADRANTS` different quadrants of the same copy
    sample do not back up at the same moment (within :data:`QUAD_SLACK_MS`) of the same print."""
    out = np.ones(len(keep), bool)
    quad = np.flatnonzero(keep & (_region_kind(q_code) == 1))
    if not len(quad):
        return out
    groups: dict[tuple[int, int], list[int]] = {}
    for i in quad.tolist():
        groups.setdefault((int(q_sample[i]), int(seq[i])), []).append(i)
    for members in groups.values():
        t = r_time[members]
        q = (q_code[members] - QUAD_BASE) % 4
        for n, i in enumerate(members):
            near = np.abs(t - t[n]) <= QUAD_SLACK_MS
            out[i] = len(np.unique(q[near])) >= MIN_QUADRANTS
    return out


def _region_kind(code: np.ndarray) -> np.ndarray:
    """0: a frame (whole, dihedral, centred crop, window, box), 1: a quadrant, 2: an inset."""
    quad = (code >= QUAD_BASE) & (code < INSET_BASE)
    inset = (code >= INSET_BASE) & (code < WINDOW_BASE)
    return np.where(quad, 1, np.where(inset, 2, 0))


def _covered(spans: list[tuple[Any, Any]]) -> int:
    """Milliseconds covered by the union of ``spans``."""
    total, end = 0, None
    for a, b in sorted(spans):
        if end is None or a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total
