"""Video and still-image fingerprints: PDQ hashes of sampled frames (vPDQ style).

Why this shape: PDQ (Meta) is the public perceptual hash that moderation systems already exchange,
with a published match rule (Hamming distance <= 31, quality >= 50); vPDQ applies it to frames
sampled at 1 fps and compares videos as bags of frame hashes, which survives trimming and
excerpting where whole-video hashes (TMK) do not.

Cost model (720p H.264 at ~4 Mbps decodes at ~240 frames/s on one core): decoding every frame is
unavoidable for exact 1 fps sampling, so everything else must be cheap per frame. Per decoded
frame we only read a strided ~80 x 45 pixel subsample of the luma plane (no copy of the frame, no
colour conversion) for the scene-change test; only sampled frames are scaled (swscale, area
filter, aspect preserved, longest side ``max_side``) and hashed with ``pdqhash``. The scene-change
test is the mean absolute difference (MAD) of that luma thumbnail against the previous frame's:
a cut is a MAD above :data:`SCENE_CUT_MAD` (0-255 scale) and above :data:`SCENE_CUT_RATIO` times
the recent average MAD (an exponential average, so a fast pan over fine texture is not a cut), at
least :data:`SCENE_MIN_GAP_S` after the previous cut (so strobes do not flood the print). Cost: ~30 us a frame at 720p.

Hashing at a fixed ~640 px (not full resolution) is 6x cheaper and drifts a few bits from the
full-resolution hash; references and queries must use the same ``max_side`` (the default).
"""

from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass
from typing import Protocol

import av
import numpy as np
import pdqhash
from av.video.reformatter import VideoReformatter

from reelrights.errors import BadInput, MediaError
from reelrights.media.fingerprint import pdq_native
from reelrights.media.fingerprint.aspect import aspect_rows
from reelrights.media.fingerprint.base import (
    BlobReader,
    check_file,
    hamming_matrix,
    media_errors,
    pack_header,
)
from reelrights.media.fingerprint.frames import (
    CANVAS,
    DIHEDRAL_BASE,
    canvas_luma,
    dihedral_hashes,
    hash_luma,
    luma_of,
    scaled_rgb,
    strip_bars,
    variant_code,
)
from reelrights.media.fingerprint.regions import (
    InsetBuffer,
    box_rows,
    quadrant_rows,
    window_rows,
)

__all__ = [
    "PDQ_MATCH_DISTANCE",
    "PDQ_MIN_QUALITY",
    "REFERENCE_CROPS",
    "REFERENCE_FPS",
    "REGIONS",
    "COPY_BURST",
    "SCENE_CUT_MAD",
    "SCENE_CUT_RATIO",
    "SCENE_MIN_GAP_S",
    "SoundSink",
    "VideoPrint",
    "configure_decoder",
    "fingerprint_video",
    "frame_match_share",
    "pdq_hash_image",
    "region_mode",
    "split_crops",
]

PDQ_MATCH_DISTANCE = 31  # PDQ README: two hashes match within this Hamming distance
PDQ_MIN_QUALITY = 50  # PDQ README: hashes of quality below this are too flat to trust
SCENE_CUT_MAD = 30.0
SCENE_CUT_RATIO = 3.0
SCENE_MIN_GAP_S = 0.5
#: Crop variants (percent of width and height, centred) for reference prints. PDQ is not
#: crop-invariant: measured on generated 480x272 films, a copy cropped by 2 % of each dimension
#: is 16-28 bits from the original frames, 4 % is 28-44 and 10 % is 74-104, far past the match
#: distance. With variants at 3, 6, 9 and 12 %, a copy cropped anywhere from 0 to ~13 % is within
#: 20 bits of one of them (2 % -> max 12, 4 % -> 20, 6 % -> 2, 10 % -> 20).
REFERENCE_CROPS = (3, 6, 9, 12)
#: Sampling rate of reference prints. A copy's samples fall anywhere between the reference's
#: (an excerpt cut at 20.5 s, a 1.1x speed-up, another frame rate). On the generated films (pans
#: of up to 20 % of the frame per second) consecutive 24 fps frames are already 18 bits apart
#: (median; 30 at the 90th percentile) and frames 3 apart 52 (70): at 1 fps a copy's sample can
#: be 12 frames from the nearest reference sample, at 4 fps 3, at 8 fps 1 (measured with
#: ``benchmarks/scan_robustness.py``). 8 fps with the crop variants costs 0.81 of PyAV's
#: decode-only throughput on 720p (``benchmarks/fingerprint.py``, CPU time), within fast mode's 0.8.
REFERENCE_FPS = 8.0
#: Frames hashed per sample of a copy (the sample and the next two): with references at 8 fps, at
#: 24 fps one of three consecutive frames is a reference sample; from a copy sampled at 1 fps alone,
#: the nearest reference sample is up to a frame and a half away (18-34 bits on generated films).
COPY_BURST = 3
#: ``regions`` choices of :func:`fingerprint_video` (see :mod:`.regions`): ``"quadrants"`` (both
#: sides), ``"reference"`` (quadrants and off-centre windows: thorough references), ``"copy"``
#: (quadrants, boxes and detected insets: thorough scans), ``"windows"`` and ``"boxes"`` (only
#: those: signed outputs and the lookups that recover them, ``outputs.output_index``).
REGIONS = ("", "quadrants", "reference", "copy", "windows", "boxes")
#: Audio packets a film's picture pass holds before decoding them in one go (about 1.4 s of AAC).
SOUND_BATCH = 64
_THUMB_WIDTH = 80
_STILL_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "gif"}
_KIND, _VERSION = b"V", 1


@dataclass(frozen=True, eq=False)
class VideoPrint:
    """PDQ hashes of the sampled frames of one video (or the one frame of a still image).

    ``hashes[i]`` is frame i's 256-bit PDQ hash packed big-endian, so ``hashes[i].tobytes().hex()``
    is Meta's hex form; ``quality`` is PDQ's 0-100 quality; ``time_ms`` the frame's presentation
    time from the start of the stream. ``mode`` says how frames were chosen: ``"<fps>fps+scenes"``,
    ``"<fps>fps"``, ``"keyframes"`` or ``"still"`` (a suffix ``"+crops"`` if crop variants were added).
    ``crop[i]`` is 0 for a whole-frame hash, 1-49 the percentage of width and height cut away
    (centred) before hashing, ``DIHEDRAL_BASE + k`` (201-207) the k-th dihedral hash of the frame
    (:data:`.frames.DIHEDRAL`), ``DIHEDRAL_BASE + 8 * j + k`` the k-th of frame j of a burst
    (:func:`.frames.variant_code`): variants follow their frame's row."""

    hashes: np.ndarray
    quality: np.ndarray
    time_ms: np.ndarray
    duration_ms: int
    mode: str
    width: int
    height: int
    crop: np.ndarray = None  # type: ignore[assignment]  # None: no crops, filled in __post_init__

    def __post_init__(self) -> None:
        if self.crop is None:
            object.__setattr__(self, "crop", np.zeros(len(self.hashes), dtype=np.uint8))

    def primary(self) -> VideoPrint:
        """Only the whole-frame hashes (``crop == 0``): the rows a query is judged by."""
        keep = self.crop == 0
        if keep.all():
            return self
        mode = self.mode.replace("+crops", "").replace("+dihedral", "").split("+burst")[0].split("+regions")[0]
        return VideoPrint(self.hashes[keep], self.quality[keep], self.time_ms[keep], self.duration_ms,
                          mode, self.width, self.height, self.crop[keep])  # fmt: skip

    def __len__(self) -> int:
        return int(self.hashes.shape[0])

    def pdq_hex(self, i: int) -> str:
        return self.hashes[i].tobytes().hex()

    def to_bytes(self) -> bytes:
        mode = self.mode.encode("utf-8")
        n = len(self)
        return b"".join([
            pack_header(_KIND, _VERSION),
            struct.pack("<IqIIB", n, self.duration_ms, self.width, self.height, len(mode)), mode,
            np.ascontiguousarray(self.hashes, dtype=np.uint8).tobytes(),
            np.ascontiguousarray(self.quality, dtype=np.uint8).tobytes(),
            np.ascontiguousarray(self.time_ms, dtype="<i8").tobytes(),
            np.ascontiguousarray(self.crop, dtype=np.uint8).tobytes(),
        ])  # fmt: skip

    @classmethod
    def from_bytes(cls, blob: bytes) -> VideoPrint:
        r = BlobReader(blob, _KIND, (_VERSION,), "video")
        n, duration_ms, width, height, mode_len = r.unpack("<IqIIB")
        mode = r.raw(mode_len).decode("utf-8", errors="strict")
        hashes = r.array("u1", n * 32, (n, 32))
        quality = r.array("u1", n)
        time_ms = r.array("<i8", n)
        crop = r.array("u1", n)
        r.done()
        return cls(hashes, quality, time_ms, duration_ms, mode, width, height, crop)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VideoPrint):
            return NotImplemented
        return (
            (self.duration_ms, self.mode, self.width, self.height)
            == (other.duration_ms, other.mode, other.width, other.height)
            and np.array_equal(self.hashes, other.hashes)
            and np.array_equal(self.quality, other.quality)
            and np.array_equal(self.time_ms, other.time_ms)
            and np.array_equal(self.crop, other.crop)
        )

    __hash__ = None  # type: ignore[assignment]  # arrays inside: not hashable


def split_crops(vp: VideoPrint) -> tuple[VideoPrint, VideoPrint | None]:
    """(whole-frame print, crop-variant print or None) of a print made with ``crop_variants``.

    The variants keep their frame order (frame ``i * k + j`` is the ``j``-th crop of sampled
    frame ``i``, at its time) and their ``crop`` column; their mode is ``crops:<fractions>``.
    The registry stores them apart (kind ``vcrop``) so a reference's own frames stay one print."""
    primary = vp.primary()
    keep = (vp.crop != 0) & (vp.crop < DIHEDRAL_BASE)
    if not keep.any():
        return primary, None
    fractions = sorted({int(c) for c in vp.crop[keep].tolist() if c < 50})
    mode = "crops:" + ",".join(f"{c / 100:g}" for c in fractions)
    if "+regions:" in vp.mode:
        mode += "+regions:" + vp.mode.split("+regions:")[1]
    return primary, VideoPrint(vp.hashes[keep], vp.quality[keep], vp.time_ms[keep], vp.duration_ms, mode,
                               vp.width, vp.height, vp.crop[keep])  # fmt: skip


#: Fast mode's region hashes (``fingerprint_video(regions=...)``) on both sides: quadrants
#: (corner logos and captions up to ~20 % of the frame), or "" for none. See docs/scan.md.
FAST_REGIONS = "quadrants"


def region_mode(mode: str, *, reference: bool) -> str:
    """The ``regions`` argument of :func:`fingerprint_video` for a scan mode (``"fast"`` or
    ``"thorough"``) on the reference (registry) or the copy (scan) side."""
    if mode == "fast":
        return FAST_REGIONS
    if mode == "thorough":
        return "reference" if reference else "copy"
    raise BadInput(f"mode {mode!r}: use fast or thorough")


def pdq_hash_image(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """PDQ of one RGB (h, w, 3) uint8 picture: (32,) uint8 packed hash and quality 0-100."""
    if pdq_native.AVAILABLE:
        return pdq_native.hash_luma(pdq_native.luma_from_rgb(rgb))
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return np.packbits(bits.astype(np.uint8)), int(quality)


def fingerprint_video(
    path: str | os.PathLike[str],
    *,
    fps: float = 1.0,
    scene_changes: bool = True,
    keyframes_only: bool = False,
    max_side: int = 640,
    threads: int = 1,
    crop_variants: tuple[int, ...] = (),
    canvas: int = CANVAS,
    bars: bool = True,
    dihedral: bool = False,
    burst: int = 1,
    regions: str = "",
    aspects: tuple[float, ...] = (),
    sound: SoundSink | None = None,
) -> VideoPrint:
    """PDQ-hash the frames of ``path``'s first video stream, streaming (one frame in memory).

    Samples the first frame at or after every ``1/fps`` seconds, plus the first frame of each
    scene change if ``scene_changes``. ``keyframes_only`` decodes and hashes only key frames
    (``skip_frame="NONKEY"``): a triage pass many times faster, for catalog-scale ingest.
    ``canvas`` is the side of the square picture each sample is scaled to before hashing (see
    :mod:`.frames`); 0 hashes the frame at its own aspect, its longest side capped at ``max_side``
    (0: full size; the vPDQ-compatible way). ``bars`` cuts letterbox and pillarbox bars before
    hashing (canvas only). ``dihedral`` adds, after each frame's row, its seven turned and
    mirrored hashes (``crop`` codes ``DIHEDRAL_BASE + k``): for copies, so a flipped or rotated
    copy is found. ``burst`` > 1 also hashes the ``burst - 1`` frames after each sample (codes
    ``DIHEDRAL_BASE + 8 * j + k``, see :func:`.frames.variant_code`): for copies, so that one
    frame of each burst lines up with a reference sample (8 fps is every third frame at 24 fps).
    ``threads`` is the
    decoder's thread count (1: single-threaded, best in a process pool; 0: FFmpeg's choice with
    frame threading). ``crop_variants`` (e.g. :data:`REFERENCE_CROPS`) also hashes centred crops of
    every sampled frame, cutting that percentage of width and height: PDQ alone tolerates only
    ~2-3 % of cropping, so a reference print with crops at 3/6/9/12 % is found by copies cropped up
    to ~10 %. Use it on the reference (registry) side only; it costs one PDQ per variant per
    sample. ``regions`` (:data:`REGIONS`) adds region hashes (:mod:`.regions`): thorough mode.
    ``aspects`` (copies: the registered pictures' width / height) adds aspect cuts
    (:mod:`.aspect`): a copy cropped by different shares of width and height, cut back to a
    same-share crop (with boxes when ``regions`` is ``"copy"``).
    ``sound`` (e.g. :class:`.audio.Chromaprinter`): if the file has an audio stream, its first
    one is decoded in the same pass (one demux) and handed to ``sound`` (``start`` with the
    stream, then ``feed`` with each frame); the picture print is the same with or without it.
    Raises MediaError if the file cannot be decoded or is cut short."""
    if regions not in REGIONS:
        raise BadInput(f"regions={regions!r}: use one of {', '.join(repr(r) for r in REGIONS)}")
    if fps <= 0 or max_side < 0 or any(not 0 < c < 50 for c in crop_variants):
        raise BadInput(
            f"fps={fps}, max_side={max_side}, crop_variants={crop_variants}: fps must be positive, "
            "max_side >= 0 and each crop a percentage in 1..49"
        )
    p = check_file(path)
    with media_errors(p, "video"), av.open(str(p)) as container:
        if not container.streams.video:
            raise MediaError(f"{p}: has no video stream; fingerprint it as audio or pick the right file",
                             path=str(p))
        stream = container.streams.video[0]
        configure_decoder(stream, threads, keyframes_only)
        still = container.format.name in _STILL_FORMATS
        scenes = scene_changes and not keyframes_only and not still
        out = _Sampler(stream, fps, scenes, keyframes_only, max_side, tuple(crop_variants))
        out.canvas, out.bars, out.dihedral = canvas, bars and canvas > 0, dihedral
        out.regions = regions if canvas else ""
        out.aspects = tuple(aspects) if canvas else ()
        out.burst = 1 if keyframes_only or still else max(1, burst)
        if sound is not None and container.streams.audio:
            _decode_with_sound(container, stream, out, sound)
        else:
            for frame in container.decode(stream):
                out.offer(frame)
        if out.regions == "copy":
            out.add_rows(out.insets.flush(everything=True))
        declared = _declared_duration_s(container, stream)
    if not out.hashes:
        raise MediaError(f"{p}: no decodable video frames; the file is corrupt or truncated: re-export it", path=str(p))
    last_s = out.last_time_s
    if declared and not keyframes_only and not still and last_s < declared - max(1.0, 0.05 * declared):
        raise MediaError(
            f"{p}: video stops at {last_s:.1f} s of {declared:.1f} s; the file is truncated: copy it again", path=str(p)
        )
    mode = "still" if still else "keyframes" if keyframes_only else f"{fps:g}fps" + ("+scenes" if scene_changes else "")
    mode += ("+crops" if crop_variants else "") + ("+dihedral" if dihedral else "")
    mode += f"+burst{burst}" if burst > 1 and not keyframes_only and not still else ""
    mode += f"+regions:{regions}" if out.regions else ""
    duration_ms = round(1000 * declared) if declared else round(1000 * last_s)
    return VideoPrint(
        hashes=np.stack(out.hashes).astype(np.uint8),
        quality=np.array(out.quality, dtype=np.uint8),
        time_ms=np.array(out.times, dtype=np.int64),
        duration_ms=int(duration_ms),
        mode=mode,
        width=int(out.width),
        height=int(out.height),
        crop=np.array(out.crops, dtype=np.uint8),
    )


class _Sampler:
    """Chooses frames as they are decoded and hashes the chosen ones."""

    def __init__(
        self, stream: av.VideoStream, fps: float, scenes: bool, every: bool, max_side: int, crops: tuple[int, ...]
    ) -> None:
        self.fps, self.scenes, self.every, self.max_side, self.crop_variants = fps, scenes, every, max_side, crops
        self.tb = float(stream.time_base) if stream.time_base is not None else None
        self.geometry: tuple[int, int, int, int, int] | None = None  # w, h, line size, stride, byte step
        self.start = stream.start_time if stream.start_time is not None else None
        rate = stream.average_rate or stream.guessed_rate
        self.frame_s = 1.0 / float(rate) if rate else 0.0
        self.next_t = 0.0
        self.prev: np.ndarray | None = None
        self.mad_avg = 0.0
        self.last_cut_t = -math.inf
        self.count = 0
        self.last_time_s = 0.0
        self.width = self.height = 0
        self.canvas, self.bars, self.dihedral = CANVAS, True, False
        self.burst, self.burst_left = 1, 0
        self.regions = ""
        self.aspects: tuple[float, ...] = ()
        self.insets = InsetBuffer(hash_luma)  # a copy's recent samples, to hash insets found late
        self.scaler = VideoReformatter()  # one swscale context for every sample
        self.hashes: list[np.ndarray] = []
        self.quality: list[int] = []
        self.times: list[int] = []
        self.crops: list[int] = []

    def offer(self, frame: av.VideoFrame) -> None:
        if frame.pts is not None and self.tb is not None:
            if self.start is None:
                self.start = frame.pts
            t = max(0.0, (frame.pts - self.start) * self.tb)
        else:
            t = self.count * self.frame_s
        self.count += 1
        self.last_time_s = max(self.last_time_s, t)
        take = self.every or t >= self.next_t - 1e-6
        burst = self.burst_left > 0
        if self.scenes:
            thumb = self._thumb(frame)
            if self.prev is not None and thumb.shape == self.prev.shape:
                diff = np.abs(thumb - self.prev)
                mad = int(diff.sum(dtype=np.int64)) / diff.size  # the mean, exactly (an integer sum)
                if mad > max(SCENE_CUT_MAD, SCENE_CUT_RATIO * self.mad_avg) and t - self.last_cut_t >= SCENE_MIN_GAP_S:
                    self.last_cut_t = t
                    take = True
                self.mad_avg += 0.2 * (mad - self.mad_avg)
            self.prev = thumb
        if not take:
            if burst:  # the frames right after a sample: one of them lines up with the reference's
                self.burst_left -= 1
                self._hash(frame, t, self.burst - 1 - self.burst_left)
            return
        if t >= self.next_t - 1e-6:
            self.next_t = (math.floor(t * self.fps + 1e-6) + 1) / self.fps
        self.burst_left = self.burst - 1
        self._hash(frame, t)

    def _thumb(self, frame: av.VideoFrame) -> np.ndarray:
        """About 80 x 45 pixels of plane 0 (luma for YUV): every k-th pixel of every k-th row, as
        int16, without copying or converting the frame (~10 us). For >8-bit formats the high
        byte of each little-endian sample is used."""
        plane = frame.planes[0]
        g = self.geometry
        if g is None or g[0] != frame.width or g[1] != frame.height or g[2] != plane.line_size:
            w, h, ls = frame.width, frame.height, plane.line_size
            wide = ls >= 2 * w and frame.format.components[0].bits > 8
            g = self.geometry = (w, h, ls, max(1, w // _THUMB_WIDTH), 2 if wide else 1)
        w, h, ls, k, step = g
        rows = np.frombuffer(memoryview(plane), dtype=np.uint8, count=h * ls).reshape(h, ls)
        return rows[::k, step - 1 : step * w : step * k].astype(np.int16)

    def _hash(self, frame: av.VideoFrame, t: float, j: int = 0) -> None:
        self.width, self.height = frame.width, frame.height
        aspect_cut: list[tuple[int, np.ndarray, int]] = []
        if self.canvas:
            luma = canvas_luma(frame, self.canvas, self.scaler)
            if self.bars:
                luma, _ = strip_bars(luma)
            if self.aspects:  # the picture's aspect, bars cut: a crop's trace
                picture = frame.width * luma.shape[1] / max(1, frame.height * luma.shape[0])
                aspect_cut = aspect_rows(luma, picture, self.aspects, j, boxes=self.regions == "copy",
                                         hash_fn=hash_luma)
        else:
            w, h = frame.width, frame.height
            side = max(w, h)
            if self.max_side and side > self.max_side:
                scale = self.max_side / side
                w, h = max(1, round(w * scale)), max(1, round(h * scale))
                rgb = scaled_rgb(frame, w, h, self.scaler)
            else:
                rgb = frame.to_ndarray(format="rgb24")
            luma = luma_of(rgb)
        if self.dihedral:
            hashes, quality = dihedral_hashes(luma)
            rows = [(variant_code(j, k), hashes[k], quality) for k in range(len(hashes))]
        else:
            rows = [(variant_code(j, 0), *hash_luma(luma))]
        rows += aspect_cut
        h, w = luma.shape
        for c in self.crop_variants if j == 0 else ():
            dy, dx = round(h * c / 200), round(w * c / 200)
            rows.append((c, *hash_luma(luma[dy : h - dy, dx : w - dx])))
        if self.regions in ("quadrants", "reference", "copy"):  # every burst frame of a copy
            rows += quadrant_rows(luma, j, hash_luma)
        if self.regions in ("reference", "windows") and j == 0:  # references have no bursts
            rows += window_rows(luma, hash_luma)
        if self.regions in ("copy", "boxes"):  # boxes of every burst frame: crops between windows
            rows += box_rows(luma, j, hash_luma)
        ms = round(t * 1000)
        if self.regions == "copy":  # insets are hashed later, when their rectangles are known
            if j == 0:
                self.add_rows(self.insets.add_sample(luma, ms))
            else:
                self.insets.add_frame(luma, j)
        self.add_rows([(ms, code, packed, quality) for code, packed, quality in rows])

    def add_rows(self, rows: list[tuple[int, int, np.ndarray, int]]) -> None:
        """Rows (time ms, crop code, hash, quality). A copy's inset rows land after later samples'
        rows: the matcher gives each row to its sample by time."""
        for ms, code, packed, quality in rows:
            self.hashes.append(packed)
            self.quality.append(quality)
            self.times.append(ms)
            self.crops.append(code)


def _decode_with_sound(container: av.container.InputContainer, stream: av.VideoStream, out: _Sampler,
                       sound: SoundSink) -> None:
    """Decode the video and the first audio stream from one demux, the pictures to ``out``, the
    sound to ``sound``. Audio packets are held and decoded :data:`SOUND_BATCH` at a time: fed
    frame by frame between pictures, the soundtrack's decode, resampling and Chromaprint cost
    about three times their CPU alone (a decoded 720p picture evicts their tables from the
    caches), held they cost what they do alone."""
    audio = container.streams.audio[0]
    sound.start(audio)
    held: list[av.Packet] = []
    for packet in container.demux(stream, audio):
        if packet.stream is audio:  # (flush packets at the end all say stream_index 0)
            held.append(packet)
            if len(held) >= SOUND_BATCH:
                _decode_held(held, sound)
        else:
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    out.offer(frame)
    _decode_held(held, sound)  # the rest, and the decoder's flush (the last, empty packet)


def _decode_held(held: list[av.Packet], sound: SoundSink) -> None:
    for packet in held:
        for frame in packet.decode():
            if isinstance(frame, av.AudioFrame):
                sound.feed(frame)
    held.clear()


class SoundSink(Protocol):
    """What :func:`fingerprint_video` hands a film's soundtrack to (:class:`.audio.Chromaprinter`)."""

    def start(self, stream: av.AudioStream) -> None: ...

    def feed(self, frame: av.AudioFrame) -> None: ...

def configure_decoder(stream: av.VideoStream, threads: int = 1, keyframes_only: bool = False) -> None:
    """Set ``stream``'s decoder as the fingerprinter runs it: ``threads`` 1 is single-threaded (best
    in a process pool), otherwise FFmpeg's frame threading with that many threads (0: its choice);
    ``keyframes_only`` skips every non-key frame (``skip_frame="NONKEY"``)."""
    ctx = stream.codec_context
    if threads == 1:
        ctx.thread_count = 1
    else:
        ctx.thread_type = "AUTO"
        ctx.thread_count = max(0, threads)
    if keyframes_only:
        ctx.skip_frame = "NONKEY"


def _declared_duration_s(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return 0.0


def frame_match_share(
    query: VideoPrint,
    reference: VideoPrint,
    *,
    radius: int = PDQ_MATCH_DISTANCE,
    min_quality: int = PDQ_MIN_QUALITY,
) -> float:
    """The vPDQ comparison, brute force: the share of the query's distinct whole-frame hashes
    (quality >= ``min_quality``) within ``radius`` of some reference hash of that quality (crop
    variants included on the reference side). 1.0 means
    every usable query frame is in the reference; vPDQ calls >= 0.8 a match. 0.0 if the query has
    no usable frame. For small prints (tests, signal examples); the index does this at scale."""
    query = query.primary()
    q = np.unique(query.hashes[query.quality >= min_quality], axis=0)
    r = np.unique(reference.hashes[reference.quality >= min_quality], axis=0)
    if not len(q) or not len(r):
        return 0.0
    return float((hamming_matrix(q, r).min(axis=1) <= radius).mean())

