"""Landmark audio fingerprints (constellation hashing) that survive pitch and tempo changes and
loud music or speech mixed over the recording.

Why a second audio signal: Chromaprint (:mod:`.audio`) describes each eighth of a second by a
12-bin chroma picture, so it is exact for re-encodes and excerpts but a pitch change of 5 % (0.85
semitone) moves energy across chroma bins, and music or speech mixed in at equal loudness changes
most of its bits (measured: 4-6 of 10 copies found, see docs/scan.md). Spectral *peaks* of the
recording survive a mixture: the loudest points of a spectrogram of the sum are mostly the
loudest points of either part, so a share of the work's peaks is still there (Wang 2003, the
Shazam paper; Ellis' audfprint).

The print: the audio at 11,025 Hz (as Chromaprint), a 1,024-sample Hann STFT every 256 samples
(:data:`FRAME_S` = 23.2 ms), log magnitude; peaks are local maxima over +-:data:`PEAK_T` frames
and +-:data:`PEAK_F` bins between 150 Hz and 4.5 kHz, the :data:`PEAKS_PER_S` strongest per
second, with a sub-bin frequency (parabolic interpolation); the local maxima come from a
separable max filter (running maxima of shifted views, ~80x faster than a 2-D window, the same
peaks). :class:`LandmarkStream` picks peaks block by block (:data:`BLOCK_FRAMES`, about 60 s,
with context either side) as samples arrive, so a film's soundtrack is printed while
Chromaprint decodes it, in bounded memory. Each peak (anchor) is paired with up
to :data:`FANOUT` later peaks :data:`DT_MIN`-:data:`DT_MAX` frames on and within an octave.
A pair's hash is (anchor pitch, pitch interval, time gap), with pitch on a log scale in thirds of
a semitone: a pitch change shifts every pitch by the same amount and leaves intervals alone, and a
tempo change scales every gap by the same factor.

Matching (:class:`LandmarkIndex`): the query's pairs are hashed again for every combination of a
pitch factor and a tempo factor in :data:`SCALES` (0.94-1.06 in 1 % steps: a resample, an
``atempo`` or a pitch shift of up to +-6 %), looked up in the sorted reference hashes, and vote
for (recording, time offset). The best offset's votes (within :data:`OFFSET_SLACK` frames) are the score; a match
needs :data:`MIN_VOTES` votes, :data:`MIN_RATE` votes per second of the query's matched span and
a *contrast* of :data:`MIN_CONTRAST`: the best offset's votes over those of the recording's next
best offset (more than 5 frames away). Votes alone do not separate a copy from another melody
built from the same few notes (generated melodies on a pentatonic scale, all notes on a 0.25 s
grid, share note pairs at every grid offset: measured up to 211 votes for an unrelated melody);
a copy's true offset stands out from every other offset (measured over 54 copies of 9
transformations: contrast 3.8-10, unrelated and same-generator melodies at most 2.4; at 3.0 one
of 108 benchmark queries also matched a second melody, so 3.5; at 3.5, 2 of 333 did: see
docs/scan.md). Peak times
and frequencies are interpolated to a fraction of a frame and bin, so a pair's gap scaled by the
tempo factor still rounds to the reference's gap (this doubled the votes of a 5 % speed change).
The match reports the matched time ranges in the copy (first voting anchor to the last pair's far
end) and in the recording (the same range through the fitted offset and tempo).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

import av
import numpy as np

from reelrights.errors import BadInput, MediaError
from reelrights.media.fingerprint.base import BlobReader, check_file, media_errors, pack_header

__all__ = ["FRAME_S", "SCALES", "LandmarkHashes", "LandmarkIndex", "LandmarkMatch", "LandmarkPrint",
           "LandmarkStream", "SortedHashes", "decode_mono", "fingerprint_landmarks", "landmarks_from_bytes",
           "landmarks_of_samples", "search_tables", "sorted_table"]

RATE = 11025
N_FFT = 1024
HOP = 256
FRAME_S = HOP / RATE
F_LO, F_HI = 150.0, 4500.0
PEAK_T, PEAK_F = 4, 6
PEAKS_PER_S = 30
FANOUT = 6
DT_MIN, DT_MAX = 2, 48
PITCH_Q = 36                 # pitch steps per octave (thirds of a semitone)
MAX_INTERVAL = PITCH_Q       # an octave
SCALES = tuple(round(0.94 + 0.01 * k, 2) for k in range(13))
MIN_VOTES = 24
MIN_RATE = 3.0               # votes per second of matched span
OFFSET_SLACK = 2             # frames
MIN_CONTRAST = 3.5           # best offset's votes over the next best offset's (same recording)
BLOCK_FRAMES = 43 * 60       # peak-picking block of LandmarkStream: 60 buckets of a second (~60 s)
_KIND, _VERSION = b"L", 1
_HKIND = b"M"                # the compact reference form (LandmarkHashes)


@dataclass(frozen=True, eq=False)
class LandmarkPrint:
    """Peak pairs of one recording: anchor time (frames), anchor pitch (log-scale steps, real),
    pitch interval (real) and gap (frames) per pair; ``duration_ms`` of the decoded audio."""

    t1: np.ndarray      # float32 frames
    pitch: np.ndarray   # float32 steps above 100 Hz
    interval: np.ndarray  # float32 steps
    gap: np.ndarray     # float32 frames
    duration_ms: int

    def __len__(self) -> int:
        return int(self.t1.shape[0])

    def hashes(self, pitch_scale: float = 1.0, tempo_scale: float = 1.0) -> np.ndarray:
        """int64 hashes of the pairs, as they would be if the audio's pitch were multiplied by
        ``pitch_scale`` and its duration by ``tempo_scale``."""
        p = np.rint(self.pitch + PITCH_Q * np.log2(pitch_scale)).astype(np.int64)
        d = np.rint(self.interval).astype(np.int64) + MAX_INTERVAL
        g = np.rint(self.gap * tempo_scale).astype(np.int64)
        return (np.clip(p, 0, 511) << 14) | (np.clip(d, 0, 127) << 7) | np.clip(g, 0, 127)

    def to_bytes(self) -> bytes:
        arr = np.stack([self.t1, self.pitch, self.interval, self.gap]).astype("<f4")
        return pack_header(_KIND, _VERSION) + struct.pack("<Iq", len(self), self.duration_ms) + arr.tobytes()

    @classmethod
    def from_bytes(cls, blob: bytes) -> LandmarkPrint:
        r = BlobReader(blob, _KIND, (_VERSION,), "landmark")
        n, duration_ms = r.unpack("<Iq")
        arr = r.array("<f4", 4 * n, (4, n))
        r.done()
        return cls(arr[0].copy(), arr[1].copy(), arr[2].copy(), arr[3].copy(), duration_ms)

    def compact(self) -> LandmarkHashes:
        """The reference form: what an index needs (hash at factor 1 and anchor time) only."""
        return LandmarkHashes(self.hashes().astype(np.uint32), self.t1.astype(np.float32), self.duration_ms)


@dataclass(frozen=True, eq=False)
class LandmarkHashes:
    """A registered recording's landmarks as stored: per pair its hash (23 bits, at pitch and
    tempo factor 1) and anchor time in frames; 8 bytes a pair (about 1.4 kB per second of audio)
    against 16 for a full :class:`LandmarkPrint`. References are never rescaled (the query is),
    so this is all :class:`LandmarkIndex` needs of them."""

    hash: np.ndarray    # uint32
    t1: np.ndarray      # float32 frames
    duration_ms: int

    def __len__(self) -> int:
        return int(self.hash.shape[0])

    def hashes(self, pitch_scale: float = 1.0, tempo_scale: float = 1.0) -> np.ndarray:
        if pitch_scale != 1.0 or tempo_scale != 1.0:
            raise ValueError("stored landmark hashes cannot be rescaled; rescale the query")
        return self.hash.astype(np.int64)

    def to_bytes(self) -> bytes:
        return (pack_header(_HKIND, _VERSION) + struct.pack("<Iq", len(self), self.duration_ms)
                + self.hash.astype("<u4").tobytes() + self.t1.astype("<f4").tobytes())

    @classmethod
    def from_bytes(cls, blob: bytes) -> LandmarkHashes:
        r = BlobReader(blob, _HKIND, (_VERSION,), "landmark hashes")
        n, duration_ms = r.unpack("<Iq")
        h, t = r.array("<u4", n), r.array("<f4", n)
        r.done()
        return cls(h, t, duration_ms)


def landmarks_from_bytes(blob: bytes) -> LandmarkPrint | LandmarkHashes:
    """A serialized :class:`LandmarkPrint` (a scanned copy) or :class:`LandmarkHashes` (a
    registered recording), told apart by the blob's kind byte."""
    return LandmarkHashes.from_bytes(blob) if bytes(blob[4:5]) == _HKIND else LandmarkPrint.from_bytes(blob)


def decode_mono(path: str | os.PathLike[str]) -> np.ndarray:
    """The first audio stream of ``path`` as float32 mono samples at 11,025 Hz (int16 scale)."""
    p = check_file(path)
    chunks = []
    with media_errors(p, "audio"), av.open(str(p)) as container:
        if not container.streams.audio:
            raise MediaError(f"{p}: has no audio stream; pick a file with sound", path=str(p))
        rs = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        for frame in container.decode(container.streams.audio[0]):
            chunks += [c.to_ndarray().reshape(-1) for c in rs.resample(frame)]
        chunks += [c.to_ndarray().reshape(-1) for c in rs.resample(None)]
    if not chunks:
        raise MediaError(f"{p}: no decodable audio; the file is corrupt or truncated: re-export it", path=str(p))
    return np.concatenate(chunks).astype(np.float32)


def fingerprint_landmarks(path: str | os.PathLike[str]) -> LandmarkPrint:
    """The landmark print of ``path``'s first audio stream."""
    return landmarks_of_samples(decode_mono(path))


def _max_filter(a: np.ndarray, axis: int, half: int) -> np.ndarray:
    """Max over +-``half`` along ``axis`` of an array already padded by ``half`` that way
    (running maxima of shifted views: a separable max filter, ~80x faster than a 2-D window)."""
    n = a.shape[axis] - 2 * half
    out = np.take(a, range(0, n), axis=axis).copy()
    for k in range(1, 2 * half + 1):
        np.maximum(out, np.take(a, range(k, k + n), axis=axis), out=out)
    return out


def _peaks(pcm: np.ndarray, core: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(frame, fractional bin) of the spectrogram's peaks, time-sorted, among frames
    ``core[0]:core[1]`` of ``pcm`` (default all; frames around the core are context only)."""
    if len(pcm) < N_FFT:
        return np.zeros(0), np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(pcm, N_FFT)[::HOP]
    spec = np.log(np.abs(np.fft.rfft(frames * np.hanning(N_FFT).astype(np.float32), axis=1)) + 1.0)
    lo, hi = int(F_LO * N_FFT / RATE), int(F_HI * N_FFT / RATE)
    band = spec[:, lo - PEAK_F:hi + PEAK_F + 1]
    c0, c1 = core or (0, len(band))
    padded = np.pad(band, ((PEAK_T, PEAK_T), (0, 0)), constant_values=-np.inf)
    mx = _max_filter(_max_filter(padded, 0, PEAK_T), 1, PEAK_F)
    core_band = band[:, PEAK_F:-PEAK_F]
    floor = np.median(core_band[c0:c1]) + 1.0
    t, f = np.nonzero((core_band >= mx) & (core_band > floor))
    inside = (t >= c0) & (t < c1)
    t, f = t[inside], f[inside]
    if not len(t):
        return np.zeros(0), np.zeros(0)
    strength = core_band[t, f]
    keep = np.zeros(len(t), bool)
    per = max(1, round(1.0 / FRAME_S))
    for s in range(c0, int(t.max()) + 1, per):  # the strongest PEAKS_PER_S in each second
        sel = np.flatnonzero((t >= s) & (t < s + per))
        keep[sel[np.argsort(-strength[sel])[:PEAKS_PER_S]]] = True
    t, f = t[keep], f[keep]
    b = f + PEAK_F  # parabolic sub-bin frequency
    a, c, m = band[t, b - 1], band[t, b + 1], band[t, b]
    den = a - 2 * m + c
    frac = np.where(den < 0, 0.5 * (a - c) / np.where(den < 0, den, -1), 0.0)
    tp = np.clip(t, 1, len(band) - 2)  # parabolic sub-frame time
    a, c = band[tp - 1, b], band[tp + 1, b]
    den = a - 2 * m + c
    tfrac = np.where((den < 0) & (tp == t), 0.5 * (a - c) / np.where(den < 0, den, -1), 0.0)
    return (t + np.clip(tfrac, -0.5, 0.5)).astype(np.float64), (f + lo + np.clip(frac, -0.5, 0.5)).astype(np.float64)


class LandmarkStream:
    """A landmark print built from samples fed in pieces (a film's soundtrack as it decodes, see
    :func:`reelrights.media.fingerprint.audio.fingerprint_audio`'s ``tap``): peaks are picked
    in blocks of :data:`BLOCK_FRAMES` frames (a whole number of the per-second peak buckets)
    with :data:`PEAK_T` frames of context either side, so memory is one block's spectrogram
    plus the peaks, whatever the length. A recording of up to one block gives exactly
    :func:`landmarks_of_samples`'s print of the whole; past that, each block has its own
    loudness floor (the median of its spectrogram)."""

    def __init__(self) -> None:
        self._pieces: list[np.ndarray] = []
        self._have = 0         # samples in _pieces
        self._start = 0        # global sample index of the buffer's first sample
        self._block = 0        # global frame index of the next block's first core frame
        self._total = 0        # samples fed
        self._t: list[np.ndarray] = []
        self._f: list[np.ndarray] = []

    def feed(self, pcm: np.ndarray) -> None:
        """Add mono samples at 11,025 Hz (int16 scale)."""
        x = np.asarray(pcm, dtype=np.float32).reshape(-1)
        if not len(x):
            return
        self._pieces.append(x)
        self._have += len(x)
        self._total += len(x)
        # a block is ready when its last core frame's right-hand context has arrived
        while self._start + self._have >= (self._block + BLOCK_FRAMES + PEAK_T - 1) * HOP + N_FFT:
            self._run(self._block + BLOCK_FRAMES)

    def _run(self, end: int) -> None:
        buf = np.concatenate(self._pieces) if len(self._pieces) != 1 else self._pieces[0]
        first = max(0, self._block - PEAK_T)  # first frame of the block's context
        seg = buf[first * HOP - self._start:(end + PEAK_T - 1) * HOP + N_FFT - self._start]
        t, f = _peaks(seg, (self._block - first, end - first))
        self._t.append(t + first)
        self._f.append(f)
        self._block = end
        keep = max(0, end - PEAK_T) * HOP  # the next block's context starts here
        self._pieces, self._have, self._start = [buf[keep - self._start:]], len(buf) - (keep - self._start), keep

    def finish(self) -> LandmarkPrint:
        """The print of everything fed (the stream is spent)."""
        n_frames = 1 + (self._total - N_FFT) // HOP if self._total >= N_FFT else 0
        if self._block < n_frames:
            self._run(n_frames)
        t = np.concatenate(self._t) if self._t else np.zeros(0)
        f = np.concatenate(self._f) if self._f else np.zeros(0)
        self._pieces, self._t, self._f = [], [], []
        return _pairs(t, f, round(1000 * self._total / RATE))


def landmarks_of_samples(pcm: np.ndarray) -> LandmarkPrint:
    """The landmark print of float mono samples at 11,025 Hz."""
    stream = LandmarkStream()
    stream.feed(pcm)
    return stream.finish()


def _pairs(t: np.ndarray, fbin: np.ndarray, duration_ms: int) -> LandmarkPrint:
    """Each peak paired with up to FANOUT later peaks (see the module docstring)."""
    empty = np.zeros(0, np.float32)
    if len(t) < 2:
        return LandmarkPrint(empty, empty, empty, empty, duration_ms)
    pitch = PITCH_Q * np.log2(fbin * RATE / N_FFT / 100.0)
    n = len(t)
    a_idx, b_idx = [], []
    for k in range(1, 4 * FANOUT * 3):  # later peaks in time order; keep FANOUT per anchor
        i = np.arange(n - k)
        j = i + k
        ok = (t[j] - t[i] >= DT_MIN) & (t[j] - t[i] <= DT_MAX) & (np.abs(pitch[j] - pitch[i]) < MAX_INTERVAL)
        a_idx.append(i[ok])
        b_idx.append(j[ok])
    ai, bi = np.concatenate(a_idx), np.concatenate(b_idx)
    order = np.lexsort((t[bi], ai))
    ai, bi = ai[order], bi[order]
    first = np.searchsorted(ai, ai, side="left")
    rank = np.arange(len(ai)) - first
    keep = rank < FANOUT
    ai, bi = ai[keep], bi[keep]
    return LandmarkPrint(t[ai].astype(np.float32), pitch[ai].astype(np.float32),
                         (pitch[bi] - pitch[ai]).astype(np.float32), (t[bi] - t[ai]).astype(np.float32),
                         duration_ms)


@dataclass(frozen=True)
class LandmarkMatch:
    """``id``'s recording matched: the copy's ``query_start_s``-``query_end_s`` lies over the
    recording's ``ref_start_s``-``ref_end_s``; ``pitch`` and ``tempo`` are the factors found
    (the copy's pitch and duration relative to the recording), ``votes`` the agreeing pairs."""

    id: int
    votes: int
    query_start_s: float
    query_end_s: float
    ref_start_s: float
    ref_end_s: float
    pitch: float
    tempo: float
    share: float = 0.0
    contrast: float = 0.0


class SortedHashes:
    """One table of reference pairs sorted by hash: ``hash`` (uint32), ``time`` (anchor frames,
    float32) and ``rec`` per pair; ``rec`` is the recording's id, or, when ``ids`` is given, a
    position in ``ids`` (a segment of :class:`reelrights.media.index.LandmarkSegmentIndex`, whose
    arrays are memory-mapped). :func:`search_tables` votes over any number of them."""

    def __init__(self, hash: np.ndarray, time: np.ndarray, rec: np.ndarray,
                 ids: np.ndarray | None = None, offsets: np.ndarray | None = None) -> None:
        self.hash, self.time, self.rec, self.ids = hash, time, rec, ids
        #: optional: where each of the 2^23 hash values' run starts (2^23 + 1 entries), so a
        #: lookup is two reads instead of two binary searches (big segments have one)
        self.offsets = offsets

    def __len__(self) -> int:
        return int(self.hash.shape[0])

    def lookup(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(query pair, reference anchor time, recording id) of every pair whose hash is in
        ``h`` (uint32), or None when none is."""
        if self.offsets is not None:
            lo, hi = self.offsets[h].astype(np.int64), self.offsets[h + np.uint32(1)].astype(np.int64)
        else:
            lo = np.searchsorted(self.hash, h, "left")
            hi = np.searchsorted(self.hash, h, "right")
        cnt = hi - lo
        total = int(cnt.sum())
        if not total:
            return None
        qi = np.repeat(np.arange(len(h)), cnt)
        ri = np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(total)
        rid = self.rec[ri].astype(np.int64)
        if self.ids is not None:
            rid = self.ids[rid].astype(np.int64)
        return qi, self.time[ri], rid


def search_tables(tables: list[SortedHashes], query: LandmarkPrint, *,
                  pitch_scales: tuple[float, ...] = SCALES, tempo_scales: tuple[float, ...] = SCALES,
                  min_votes: int = MIN_VOTES, ignore: np.ndarray | None = None) -> list[LandmarkMatch]:
    """Registered recordings the query holds, best first (one match per recording), over the
    pairs of every table in ``tables`` (a recording's pairs all in one table); recordings whose
    id is in ``ignore`` (int64 array) get no votes. The hits of all tables vote together, so
    how the pairs are split into tables does not change the result."""
    tables = [t for t in tables if len(t)]
    if not len(query) or not tables:
        return []
    best: dict[int, tuple[int, LandmarkMatch]] = {}
    for ps in pitch_scales:
        for ts in tempo_scales:
            h = query.hashes(ps, ts).astype(np.uint32)
            found = [f for f in (t.lookup(h) for t in tables) if f is not None]
            if not found:
                continue
            if len(found) == 1:
                qi, ref_t, rid = found[0]
            else:
                qi, ref_t, rid = (np.concatenate([f[k] for f in found]) for k in range(3))
            if ignore is not None and len(ignore):
                keep = ~np.isin(rid, ignore)
                if not keep.any():
                    continue
                qi, ref_t, rid = qi[keep], ref_t[keep], rid[keep]
            _vote(query, ps, ts, qi, ref_t, rid, min_votes, best)
    return sorted((m for _, m in best.values()), key=lambda m: (-m.votes, m.id))


def _vote(query: LandmarkPrint, ps: float, ts: float, qi: np.ndarray, ref_t: np.ndarray,
          rid: np.ndarray, min_votes: int, best: dict[int, tuple[int, LandmarkMatch]]) -> None:
    """Add the best offsets of one pitch x tempo factor's hits to ``best`` (see the module)."""
    qt = query.t1[qi].astype(np.float64) * ts  # query time on the recording's clock
    off = np.rint(ref_t.astype(np.float64) - qt).astype(np.int64)
    key = rid * (1 << 24) + off + (1 << 23)
    uniq, n = np.unique(key, return_counts=True)
    # votes within OFFSET_SLACK frames of an offset (peak times jitter by a frame or so)
    csum = np.concatenate([[0], np.cumsum(n)])
    near = csum[np.searchsorted(uniq, uniq + OFFSET_SLACK, "right")] - \
        csum[np.searchsorted(uniq, uniq - OFFSET_SLACK, "left")]
    for k in np.argsort(-near)[:8]:
        votes = int(near[k])
        if votes < min_votes:
            break
        r = int(uniq[k] >> 24)
        if r in best and best[r][0] >= votes:
            continue
        sel = (rid == r) & (np.abs(key - uniq[k]) <= OFFSET_SLACK)
        q_s = query.t1[qi[sel]].astype(np.float64)
        r_s = ref_t[sel].astype(np.float64)
        q0 = float(np.percentile(q_s, 1))
        q1 = float(np.percentile(q_s + query.gap[qi[sel]], 99))  # to the pairs' far ends
        span_s = max((q1 - q0) * FRAME_S, 1.0)
        if votes / span_s < MIN_RATE:
            continue
        shift = float(np.median(r_s - q_s * ts))
        r0, r1 = q0 * ts + shift, q1 * ts + shift
        same = ((uniq >> 24) == r) & (np.abs(uniq - uniq[k]) > 2 * OFFSET_SLACK + 1)
        contrast = votes / max(1.0, float(near[same].max()) if same.any() else 1.0)
        if contrast < MIN_CONTRAST:
            continue
        best[r] = (votes, LandmarkMatch(r, votes, round(q0 * FRAME_S, 3), round(q1 * FRAME_S, 3),
                                        round(r0 * FRAME_S, 3), round(r1 * FRAME_S, 3),
                                        round(1.0 / ps, 3), round(1.0 / ts, 3),
                                        round(votes / len(query), 4), round(contrast, 3)))


class LandmarkIndex:
    """In-memory landmark search over registered recordings (one sorted hash table); a home's
    registered recordings are in the persistent :class:`reelrights.media.index.LandmarkSegmentIndex`,
    which searches the same way over memory-mapped segments."""

    def __init__(self) -> None:
        self._parts: list[tuple[int, LandmarkPrint | LandmarkHashes]] = []
        self._built: SortedHashes | None = None

    def __len__(self) -> int:
        return len(self._parts)

    def add(self, id: int, print_: LandmarkPrint | LandmarkHashes) -> None:
        if isinstance(id, bool) or not isinstance(id, (int, np.integer)):
            raise BadInput(f"landmark id must be an integer, got {id!r}")
        if any(pid == int(id) for pid, _ in self._parts):
            raise BadInput(f"landmark id {id} is already indexed; use a new id")
        self._parts.append((int(id), print_))
        self._built = None

    @property
    def ids(self) -> list[int]:
        return [i for i, _ in self._parts]

    def table(self) -> SortedHashes:
        """(hash uint32, id, anchor time float32) sorted by hash: 12 bytes a pair (a film's
        soundtrack holds about 170 pairs a second, 15 MB for two hours)."""
        if self._built is None:
            self._built = sorted_table(self._parts)
        return self._built

    def search(self, query: LandmarkPrint, *, pitch_scales: tuple[float, ...] = SCALES,
               tempo_scales: tuple[float, ...] = SCALES, min_votes: int = MIN_VOTES,
               ignore: np.ndarray | None = None) -> list[LandmarkMatch]:
        """Registered recordings the query holds, best first (one match per recording)."""
        return search_tables([self.table()], query, pitch_scales=pitch_scales,
                             tempo_scales=tempo_scales, min_votes=min_votes, ignore=ignore)


def sorted_table(parts: list[tuple[int, LandmarkPrint | LandmarkHashes]]) -> SortedHashes:
    """The pairs of ``(id, print)`` as one table sorted by hash (ids per pair)."""
    hs = [p.hashes().astype(np.uint32) for _, p in parts]  # hashes are 23 bits
    h = np.concatenate(hs) if hs else np.zeros(0, np.uint32)
    wide = any(i >= 2**31 or i < -2**31 for i, _ in parts)
    id_type = np.int64 if wide else np.int32
    ids = np.concatenate([np.full(len(x), i, id_type) for (i, _), x in zip(parts, hs)]) \
        if hs else np.zeros(0, id_type)
    t = np.concatenate([p.t1 for _, p in parts]) if hs else np.zeros(0, np.float32)
    order = np.argsort(h, kind="stable")
    return SortedHashes(h[order], t[order].astype(np.float32), ids[order])
