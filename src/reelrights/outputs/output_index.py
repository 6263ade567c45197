"""Output fingerprints: the soft binding a manifest carries, and the index that finds an output
record again when its manifest has been stripped (re-encode, remux, a screenshot of a frame).

The outputs index lives in ``<home>/index/outputs/{pdq,audio,scripts}`` and is kept apart from the
registry's indexes: a generated output is not a registered work, and a scan of training data
must never report one. Its entries are keyed by ``output_prints.seq`` exactly as the registry
keys its own (:mod:`reelrights.evidence.fingerprints`), so an entry without a row is ignored and
:func:`rebuild_output_index` rewrites the index from the table (after a crash between the
database commit and the index update).

Soft-binding algorithms (reelrights ids, not on the C2PA list yet):

* ``dev.reelrights.pdq.1``: a 32-byte PDQ hash per sampled frame (quality >= 50), scoped by
  timespan for video; one block for a still image;
* ``dev.reelrights.chromaprint.1``: raw Chromaprint sub-fingerprints (uint32 little-endian),
  one block per 10 s of audio, scoped by timespan;
* ``dev.reelrights.minhash.1``: the 128 MinHash values (uint64 little-endian) of the whole text.

Beside them, a signed image also stores its ISCC Image-Code (kind ``iscc``; ``io.iscc.v0``, on
the C2PA soft-binding list, :mod:`reelrights.media.fingerprint.iscc`), looked up by
:func:`recover_iscc` only when a resolver asks for that algorithm. It is not in the manifest's
soft binding (one per manifest) nor in the record's digest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from ..evidence.fingerprints import FRAME_BITS, MIN_QUALITY, Indexes
from ..home import Home
from ..media.c2pa_assertions import SoftBinding, SoftBindingBlock
from ..store.db import Database
from ..store.provenance_tables import output_prints

__all__ = ["ALGS", "ISCC_RADIUS", "OutputIndex", "OutputPrints", "Recovery", "fingerprint_output",
           "recover", "recover_all", "recover_iscc",
           "rebuild_output_index", "store_prints"]

PDQ_RADIUS = 31          # the PDQ match threshold (Meta's published rule)
LOW_QUALITY_RADIUS = 16  # flat images (no frame of quality >= 50): only much closer hashes
#: ISCC Image-Code match threshold on its 64-bit body (benchmarks/iscc_threshold.py: re-encodes
#: and 50 % resizes of generated pictures within 4 bits, unrelated ones 12 bits apart or more)
ISCC_RADIUS = 8
RECOVER_SHARE = 0.5      # at least half of the query's frames / text must match one output
MAX_BER = 0.35
AUDIO_BLOCK_MS = 10_000
MAX_BLOCKS = 600         # a long video's soft binding is thinned evenly to this many frames
ALGS = {"video": "dev.reelrights.pdq.1", "audio": "dev.reelrights.chromaprint.1",
        "text": "dev.reelrights.minhash.1"}
PRIMARY = {"video": "video", "image": "video", "audio": "audio", "text": "text",
           "document": "text"}


@dataclass(frozen=True)
class OutputPrints:
    """An output file's category, its prints by kind, and the primary one (the soft binding)."""

    category: str
    sha256: str
    prints: dict[str, Any]
    #: a looked-up still's extra hashes (its crop grid, :data:`.stills.GRID_QUERY`): searched
    #: as the picture itself, never stored
    variants: Any = None

    @property
    def primary_kind(self) -> str:
        return PRIMARY[self.category]

    @property
    def alg(self) -> str:
        return ALGS[self.primary_kind]

    def digest(self) -> str:
        """SHA-256 of the primary print's serialized bytes: what the output record carries."""
        return hashlib.sha256(self.prints[self.primary_kind].to_bytes()).hexdigest()

    def soft_binding(self) -> SoftBinding:
        kind, p = self.primary_kind, self.prints[self.primary_kind]
        if kind == "video":
            keep = np.flatnonzero(np.asarray(p.quality) >= MIN_QUALITY)
            if len(keep) == 0:
                keep = np.arange(len(p.hashes))
            if len(keep) > MAX_BLOCKS:
                keep = keep[np.linspace(0, len(keep) - 1, MAX_BLOCKS).round().astype(int)]
            if self.category == "image":
                return SoftBinding(self.alg, (SoftBindingBlock(p.hashes[keep[0]].tobytes()),),
                                   "PDQ of the image")
            times = np.asarray(p.time_ms, dtype=np.int64)
            frames: list[SoftBindingBlock] = []
            for n, i in enumerate(keep):
                end = int(times[keep[n + 1]]) if n + 1 < len(keep) else max(int(p.duration_ms),
                                                                             int(times[i]))
                frames.append(SoftBindingBlock(p.hashes[i].tobytes(), int(times[i]), end))
            return SoftBinding(self.alg, tuple(frames), "PDQ per sampled frame")
        if kind == "audio":
            per = max(1, round(AUDIO_BLOCK_MS / float(p.item_ms)))
            items = np.ascontiguousarray(p.items, dtype="<u4")
            blocks = tuple(SoftBindingBlock(items[i:i + per].tobytes(), round(i * p.item_ms),
                                            round(min(i + per, len(items)) * p.item_ms))
                           for i in range(0, max(len(items), 1), per))
            return SoftBinding(self.alg, blocks, "Chromaprint per 10 s")
        return SoftBinding.whole(self.alg, np.ascontiguousarray(p.minhash, dtype="<u8").tobytes(),
                                 "MinHash of the whole text")


def fingerprint_output(path: str | os.PathLike[str], *, reference: bool = False) -> OutputPrints:
    """Probe and fingerprint an output file (MediaError/BadInput name the file when it fails).

    ``reference`` (signing): a video also gets centred crop variants and the off-centre windows
    (:data:`.regions.WINDOWS`), a still its reference crop grid, all stored as kind ``vcrop``
    beside the unchanged primary print, so crops of up to 10 % (video: 20 %), centred or not, are
    recovered; a still also gets its ISCC Image-Code (kind ``iscc``). Otherwise (a lookup) a still
    gets its query crop grid and a video its boxes (:data:`.regions.BOXES`) as ``variants``."""
    from ..media.fingerprint import REFERENCE_CROPS, fingerprint_file, split_crops
    from ..media.fingerprint.stills import GRID_QUERY, GRID_REFERENCE, grid_print, load_rgb
    from ..media.probe import probe_file

    facts = probe_file(path)
    if facts.category not in PRIMARY:
        from ..errors import BadInput
        raise BadInput(f"{path}: a {facts.media_type} file has no fingerprint; outputs are "
                       "video, audio, images, text or PDF")
    video = facts.category == "video"
    crops = REFERENCE_CROPS if reference and video else ()
    fp = fingerprint_file(path, facts.category, crop_variants=crops,
                          regions=("windows" if reference else "boxes") if video else "")
    prints = {k: getattr(fp, k) for k in ("video", "audio", "text") if getattr(fp, k) is not None}
    if PRIMARY[facts.category] not in prints:
        from ..errors import MediaError
        raise MediaError(f"{path}: nothing to fingerprint in it; re-export the output",
                         str(path))
    variants = None
    if crops:
        prints["video"], vcrop = split_crops(prints["video"])
        if vcrop is not None:
            prints["vcrop"] = vcrop
    elif video and "video" in prints:
        full = prints["video"]
        prints["video"] = full.primary()  # the soft binding and digest: whole frames only
        variants = _rows(full, np.asarray(full.crop) != 0)
    elif facts.category == "image":
        grid = grid_print(load_rgb(path), GRID_REFERENCE if reference else GRID_QUERY)
        if reference:
            from ..media.fingerprint.iscc import image_code

            prints["vcrop"] = grid
            prints["iscc"] = image_code(path)
        else:
            variants = grid
    return OutputPrints(facts.category, facts.sha256, prints, variants)


def _rows(p: Any, keep: np.ndarray) -> Any:
    return type(p)(p.hashes[keep], p.quality[keep], p.time_ms[keep], p.duration_ms, p.mode, p.width,
                   p.height, p.crop[keep])


class OutputIndex(Indexes):
    """The outputs' PDQ, audio and script indexes (``<home>/index/outputs``), opened on first
    use. A flat generated picture with no frame of PDQ quality is still indexed (see
    :func:`usable_frames`)."""

    FRAME_KINDS = ("video", "vcrop")

    def __init__(self, home: Home) -> None:
        super().__init__(home, "outputs")

    def exists(self, kind: str) -> bool:
        return self.dir(kind).exists()

    def frames(self, p: Any) -> np.ndarray:
        return usable_frames(p)[0]


def store_prints(db: Database, index: OutputIndex, output_id: str, op: OutputPrints) -> None:
    """Write the output's prints (one transaction), then add them to the outputs index."""
    seqs: dict[str, int] = {}
    with db.write() as conn:
        for kind, p in sorted(op.prints.items()):
            seqs[kind] = conn.execute(output_prints.insert().values(
                output_id=output_id, kind=kind, data=p.to_bytes())
                .returning(output_prints.c.seq)).scalar_one()
    for kind, p in op.prints.items():
        index.add(kind, int(seqs[kind]), p)
    index.flush()


def rebuild_output_index(home: Home, db: Database) -> int:
    """Rewrite the outputs index from ``output_prints``; returns the number of prints."""
    from ..evidence.fingerprints import print_classes

    index = OutputIndex(home)
    if index.root.exists():
        shutil.rmtree(index.root)
    classes = print_classes()
    n = 0
    with db.read() as conn:
        for r in conn.execute(select(output_prints).order_by(output_prints.c.seq)):
            index.add(r.kind, int(r.seq), classes[r.kind].from_bytes(bytes(r.data)))
            n += 1
    index.flush()
    return n


# -- recovery --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recovery:
    """The output record a stripped file was traced back to, and how close the match is.

    ``distance`` is the mean PDQ Hamming distance of the matched frames (video, image), the bit
    error rate (audio) or 1 - Jaccard (text); ``share`` the part of the file that matched."""

    output_id: str
    signal: str
    distance: float
    share: float

    def to_json(self) -> dict[str, Any]:
        return {"output": self.output_id, "signal": self.signal,
                "distance": round(self.distance, 4), "share": round(self.share, 4)}


def _outputs_of(conn: Connection, seqs: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for i in range(0, len(seqs), 500):
        for r in conn.execute(select(output_prints.c.seq, output_prints.c.output_id)
                              .where(output_prints.c.seq.in_(seqs[i:i + 500]))):
            out[int(r.seq)] = r.output_id
    return out


def recover(conn: Connection, index: OutputIndex, op: OutputPrints) -> Recovery | None:
    """The output whose stored prints best match ``op``, or None (video, then audio, then text)."""
    found = recover_all(conn, index, op)
    return found[0] if found else None


def recover_all(conn: Connection, index: OutputIndex, op: OutputPrints) -> list[Recovery]:
    """Every output whose stored prints match ``op`` (at least :data:`RECOVER_SHARE` of it),
    best first: larger share, then smaller distance, then output id. Outputs that match equally
    well are all named (a resolution service must not pick one of two look-alikes silently)."""
    found: list[Recovery] = []
    if "video" in op.prints and index.exists("pdq"):
        found += _recover_video(conn, index, op.prints["video"], op.variants)
    if "audio" in op.prints and index.exists("audio"):
        found += _recover_audio(conn, index, op.prints["audio"])
    if "text" in op.prints and index.exists("scripts"):
        found += _recover_text(conn, index, op.prints["text"])
    best: dict[str, Recovery] = {}
    for r in found:  # one entry per output: its best signal
        if r.output_id not in best or _rank(r) < _rank(best[r.output_id]):
            best[r.output_id] = r
    return sorted(best.values(), key=_rank)


def recover_iscc(conn: Connection, code: Any, radius: int = ISCC_RADIUS) -> list[Recovery]:
    """Every output whose stored ISCC Image-Code is within ``radius`` bits of ``code``'s 64-bit
    body (distance in bits, share 1), best first. A scan of the ``iscc`` rows."""
    found: dict[str, int] = {}
    for r in conn.execute(select(output_prints.c.output_id, output_prints.c.data)
                          .where(output_prints.c.kind == "iscc")):
        data = bytes(r.data)
        d = (int.from_bytes(data[2:], "big") ^ code.body).bit_count() if len(data) == 10 else 65
        if d <= radius and d < found.get(r.output_id, 65):
            found[r.output_id] = d
    return sorted((Recovery(o, "iscc", float(d), 1.0) for o, d in found.items()), key=_rank)


def _rank(r: Recovery) -> tuple[float, float, str]:
    return (-round(r.share, 9), round(r.distance, 9), r.output_id)


def usable_frames(p: Any) -> tuple[np.ndarray, int]:
    """The frames to index or search, and the radius: those of PDQ quality >= 50; if none is
    (a flat generated image), all of them, matched only within :data:`LOW_QUALITY_RADIUS`."""
    ok = np.flatnonzero(np.asarray(p.quality) >= MIN_QUALITY)
    if len(ok):
        return ok, PDQ_RADIUS
    return np.arange(len(p.hashes)), LOW_QUALITY_RADIUS


def query_frames(p: Any, variants: Any = None) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(hashes to search, the query frame each stands for, radius, frames judged): the usable
    frames, and their variants (a still's crop grid, a video's boxes), each standing for the
    usable frame at or before its time."""
    ok, radius = usable_frames(p)
    hashes, owner = np.asarray(p.hashes)[ok], np.arange(len(ok))
    if variants is not None and len(ok) and len(variants):
        keep = np.flatnonzero(np.asarray(variants.quality) >= (MIN_QUALITY if radius == PDQ_RADIUS else 0))
        times = np.asarray(p.time_ms)[ok]
        of = np.searchsorted(times, np.asarray(variants.time_ms)[keep], side="right") - 1
        hashes = np.concatenate([hashes, np.asarray(variants.hashes)[keep]])
        owner = np.concatenate([owner, np.maximum(of, 0).astype(np.int64)])
    return np.ascontiguousarray(hashes), owner, radius, len(ok)


def _recover_video(conn: Connection, index: OutputIndex, p: Any,
                   variants: Any = None) -> list[Recovery]:
    hashes, owner, radius, n_frames = query_frames(p, variants)
    if n_frames == 0:
        return []
    hits = index.get("pdq").search(hashes, radius=radius)
    if len(hits.query) == 0:
        return []
    seq = hits.id >> FRAME_BITS
    owners = _outputs_of(conn, np.unique(seq).tolist())
    out: list[Recovery] = []
    for out_id in sorted(set(owners.values())):
        sel = np.isin(seq, [s for s, o in owners.items() if o == out_id])
        q, d = owner[hits.query[sel]], hits.distance[sel]
        nearest: dict[int, int] = {}
        for qi, di in zip(q.tolist(), d.tolist(), strict=True):
            nearest[qi] = min(di, nearest.get(qi, 256))
        share = len(nearest) / n_frames
        if share >= RECOVER_SHARE:
            out.append(Recovery(out_id, "video", float(np.mean(list(nearest.values()))), share))
    return out


def _recover_audio(conn: Connection, index: OutputIndex, p: Any) -> list[Recovery]:
    if len(p.items) == 0:
        return []
    # Short outputs (a line of dialogue) have few items: ask for most of them, at most 40 (~5 s).
    min_items = min(40, max(8, int(0.8 * len(p.items))))
    hits = index.get("audio").search(p.items, max_ber=MAX_BER, min_items=min_items)
    owners = _outputs_of(conn, sorted({int(h.id) for h in hits}))
    out: list[Recovery] = []
    for out_id in sorted(set(owners.values())):
        hs = [h for h in hits if owners.get(int(h.id)) == out_id]
        covered = sum(int(h.length_items) for h in hs)
        ber = sum(float(h.ber) * int(h.length_items) for h in hs) / max(covered, 1)
        r = Recovery(out_id, "audio", ber, min(1.0, covered / len(p.items)))
        if r.share >= RECOVER_SHARE:
            out.append(r)
    return out


def _recover_text(conn: Connection, index: OutputIndex, p: Any) -> list[Recovery]:
    keys = {k for k, _ in index.get("scripts").query(p.minhash, RECOVER_SHARE)}
    seqs = sorted({int(str(k).split(":")[0]) for k in keys})
    owners = _outputs_of(conn, seqs)
    if not owners:
        return []
    from ..evidence.fingerprints import print_classes

    cls = print_classes()["text"]
    out: list[Recovery] = []
    for r in conn.execute(select(output_prints.c.seq, output_prints.c.data)
                          .where(output_prints.c.seq.in_(list(owners)))):
        ref = cls.from_bytes(bytes(r.data))
        j = float(np.mean(np.asarray(p.minhash) == np.asarray(ref.minhash)))
        if j >= RECOVER_SHARE:
            out.append(Recovery(owners[int(r.seq)], "text", 1.0 - j, j))
    return out


def index_dir(home: Home) -> Path:
    return home.path / "index" / "outputs"
