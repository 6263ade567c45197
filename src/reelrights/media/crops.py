"""Centre-crop variants of a reference video's sampled frames, so cropped copies still match.

PDQ is not crop-invariant: measured on generated 480x272 films, a copy cropped by 2 % of each
dimension is 16-28 bits from the original frames, 4 % is 28-44 and 10 % is 74-104, far past
the match distance of 31. Hashing each sampled *reference* frame again after centre crops of
3, 6, 9 and 12 % brings a copy cropped anywhere from 0 to ~13 % within 20 bits of one variant
(measured: 2 % -> max 12, 4 % -> 20, 6 % -> 2, 10 % -> 20). Only references get variants, so
scans stay as cheap as before; the index holds five hashes per reference frame instead of one.

The variants are a :class:`~reelrights.media.fingerprint.VideoPrint` of their own (mode
``crops:<fractions>``): frame ``i * k + j`` is the ``j``-th crop of the ``i``-th sampled frame,
at that frame's time. They take a second decode of the file, sampling the same frames by their
timestamps (the same rule as the fingerprinter: ``(pts - start) * time_base``, in ms).
"""

from __future__ import annotations

import os

import av
import numpy as np

from ..errors import MediaError

__all__ = ["CROP_FRACTIONS", "crop_variants"]

CROP_FRACTIONS = (0.03, 0.06, 0.09, 0.12)


def crop_variants(path: str | os.PathLike[str], base, fractions=CROP_FRACTIONS,  # type: ignore[no-untyped-def]
                  max_side: int = 640):
    """The crop variants of ``base`` (the file's VideoPrint), or None for a still or no frames."""
    from .fingerprint import VideoPrint, pdq_hash_image

    if base.mode == "still" or len(base.time_ms) == 0:
        return None
    wanted = {int(t): i for i, t in enumerate(np.asarray(base.time_ms).tolist())}
    k = len(fractions)
    hashes = np.zeros((len(wanted) * k, 32), np.uint8)
    quality = np.zeros(len(wanted) * k, np.uint8)
    found = np.zeros(len(wanted), bool)
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1
            if base.mode == "keyframes":
                stream.codec_context.skip_frame = "NONKEY"
            tb, start = stream.time_base, stream.start_time
            for frame in container.decode(stream):
                if frame.pts is None or tb is None:
                    continue
                if start is None:
                    start = frame.pts
                i = wanted.get(round(max(0.0, float((frame.pts - start) * tb)) * 1000))
                if i is None or found[i]:
                    continue
                found[i] = True
                w, h = frame.width, frame.height
                if max_side and max(w, h) > max_side:
                    s = max_side / max(w, h)
                    w, h = max(1, round(w * s)), max(1, round(h * s))
                rgb = frame.reformat(width=w, height=h, format="rgb24",
                                     interpolation="AREA").to_ndarray()
                for j, c in enumerate(fractions):
                    dy, dx = round(h * c / 2), round(w * c / 2)
                    hashes[i * k + j], quality[i * k + j] = pdq_hash_image(
                        rgb[dy:h - dy, dx:w - dx])
                if found.all():
                    break
    except av.error.FFmpegError as exc:
        raise MediaError(f"{path}: cannot decode it again for crop variants ({exc.strerror}); "
                         "check the file is complete", path=str(path)) from None
    keep = np.repeat(found, k)  # frames not seen again (a timestamp quirk) get no variants
    return VideoPrint(hashes=hashes[keep], quality=quality[keep],
                      time_ms=np.repeat(np.asarray(base.time_ms, np.int64), k)[keep],
                      duration_ms=int(base.duration_ms),
                      mode="crops:" + ",".join(f"{c:g}" for c in fractions),
                      width=int(base.width), height=int(base.height))
