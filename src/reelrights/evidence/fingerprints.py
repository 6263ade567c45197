"""Fingerprints of registered assets: compute them (in an engine), store them, index them.

Fingerprints are derived data, so they live in the ``fingerprints`` table, not in the log: one
row per asset and signal kind with the serialized print, its parameters, ``ok`` or ``failed``
(with a one-line reason) and when it was computed. Workers only read files and compute; this
process alone writes the rows and then adds the new prints to the matching indexes in
``<home>/index/{pdq,scripts,audio,landmarks}/`` (files in the home, whatever the database).

Kinds: ``video`` (PDQ per sampled frame), ``vcrop`` (the same frames after centre crops, see
:data:`reelrights.media.fingerprint.REFERENCE_CROPS`, taken from the same decode; references
only), ``audio`` (Chromaprint), ``landmark`` (audio files and films' soundtracks, from the same
decode as Chromaprint: the compact landmark hashes of
:class:`reelrights.media.fingerprint.landmarks.LandmarkHashes`, 8 bytes a peak pair, indexed
in ``index/landmarks``, memory-mapped by a scan: :mod:`reelrights.evidence.scan_audio`) and
``text``.

Index ids map back to rows through ``seq``, a fresh integer per computed print: a PDQ frame is
``seq << 24 | frame`` (frame = position in the print's arrays), an audio or landmark print is ``seq``, a
script is ``"<seq>"`` (whole text) and ``"<seq>:<chunk>"``. Recomputing a print gives it a new
``seq``, so entries of the old one are recognised as stale and ignored; ``rebuild_indexes``
(``reelrights fingerprint --rebuild-index``) writes the indexes afresh from the table, e.g. after
a crash between the database commit and the index update.

Where files are: the registry stores no paths in the log (they are private and local), but
``asset_locations`` remembers where ``work add`` or ``fingerprint PATH`` saw each asset's file,
so ``fingerprint --all`` can do every registered asset with a known file and no print yet. Each
file is re-hashed before use: a moved or edited file is reported, never fingerprinted under the
wrong asset.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, delete, select

from ..errors import BadInput, ReelrightsError
from ..home import Home
from ..media.engine import (
    Engine,
    FileJob,
    FileResult,
    LocalEngine,
    crashed_result,
    file_job,
    make_engine,
)
from ..store.db import Database
from ..store.fingerprint_tables import asset_locations, fingerprints
from ..store.tables import assets

__all__ = ["FRAME_BITS", "MIN_QUALITY", "Indexes", "Outcome", "Summary", "fingerprint_all",
           "fingerprint_new_work",
           "fingerprint_paths", "fingerprint_registered", "load_prints", "picture_aspects", "print_classes",
           "rebuild_indexes", "record_locations", "content_weights", "whole_asset_matches"]

FRAME_BITS = 24          # frames per print < 2**24 (194 days at 1 fps)
MIN_QUALITY = 50         # PDQ frames below this quality are neither indexed nor matched
MODES = ("fast", "thorough")  # media.fingerprint.MODES (no media import at module level)
PRIMARY_KIND = {"video": "video", "image": "video", "audio": "audio", "text": "text",
                "document": "text"}
Progress = Callable[["Outcome"], None]


def print_classes() -> dict[str, Any]:
    from ..media.fingerprint import AudioPrint, TextPrint, VideoPrint
    from ..media.fingerprint.iscc import IsccPrint

    return {"video": VideoPrint, "vcrop": VideoPrint, "audio": AudioPrint, "text": TextPrint,
            "landmark": _Landmarks, "iscc": IsccPrint}


class _Landmarks:
    """``landmark`` blobs: a copy's full print or a reference's compact hashes."""

    @staticmethod
    def from_bytes(blob: bytes) -> Any:
        from ..media.fingerprint.landmarks import landmarks_from_bytes

        return landmarks_from_bytes(blob)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Outcome:
    """What happened to one file: ok, skipped (already done), failed or unregistered."""

    path: str
    status: str
    sha256: str | None = None
    kinds: list[str] = field(default_factory=list)
    error: str | None = None
    cpu_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out = {"path": self.path, "status": self.status, "sha256": self.sha256,
               "kinds": self.kinds, "cpu_s": round(self.cpu_s, 3)}
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def not_fingerprinted(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in ("failed", "unregistered")]

    @property
    def exit_code(self) -> int:
        """0 when every file has its prints; 2 when any file was bad input (unreadable,
        corrupt, changed or unregistered)."""
        return 2 if self.not_fingerprinted else 0

    def to_json(self) -> dict[str, Any]:
        return {"files": len(self.outcomes), "fingerprinted": self.count("ok"),
                "skipped": self.count("skipped"), "failed": self.count("failed"),
                "unregistered": self.count("unregistered"),
                "cpu_s": round(sum(o.cpu_s for o in self.outcomes), 3),
                "not_fingerprinted": [o.to_json() for o in self.not_fingerprinted],
                "items": [o.to_json() for o in self.outcomes]}


# ---------------------------------------------------------------------------------------------
# Indexes
# ---------------------------------------------------------------------------------------------

class Indexes:
    """The matching indexes of a home, opened on first use (``<home>/index/<sub>``)."""

    #: Print kinds whose frames go to the PDQ index.
    FRAME_KINDS: tuple[str, ...] = ("video", "vcrop")

    def __init__(self, home: Home, sub: str | None = None) -> None:
        self.root = home.path / "index" / sub if sub else home.path / "index"
        self._open: dict[str, Any] = {}

    def frames(self, p: Any) -> np.ndarray:
        """The frames of a video print worth indexing: PDQ quality >= MIN_QUALITY."""
        return np.flatnonzero(np.asarray(p.quality) >= MIN_QUALITY)

    def dir(self, kind: str) -> Path:
        return self.root / kind

    def get(self, kind: str) -> Any:
        if kind not in self._open:
            from ..media import index as ix

            opener: dict[str, Callable[[Path], Any]] = {
                "pdq": ix.PDQIndex.open, "scripts": ix.ScriptIndex.open, "audio": ix.AudioIndex.open,
                "landmarks": ix.LandmarkSegmentIndex.open}
            self._open[kind] = opener[kind](self.dir(kind))
        return self._open[kind]

    def add(self, kind: str, seq: int, p: Any) -> None:
        if kind in self.FRAME_KINDS:
            keep = self.frames(p)
            if len(keep):
                ids = (np.int64(seq) << FRAME_BITS) | keep.astype(np.int64)
                self.get("pdq").add(np.ascontiguousarray(p.hashes[keep]), ids)
        elif kind == "audio":
            if len(p.items):
                self.get("audio").add(int(seq), p.items)
        elif kind == "landmark":
            self.get("landmarks").add(int(seq), p)
        elif kind == "text":
            idx = self.get("scripts")
            idx.add(str(seq), p.minhash)
            for i, chunk in enumerate(p.chunks):
                idx.add(f"{seq}:{i}", chunk.minhash)

    def flush(self) -> None:
        for idx in self._open.values():
            flush = getattr(idx, "flush", None)
            if flush is not None:
                flush()

    def clear(self) -> None:
        self._open.clear()
        if self.root.exists():
            shutil.rmtree(self.root)


# ---------------------------------------------------------------------------------------------
# Storing
# ---------------------------------------------------------------------------------------------

def record_locations(db: Database, seen: Iterable[tuple[str, str, int]]) -> None:
    """Remember that the file at ``path`` (absolute) holds asset ``sha256`` (of ``size``)."""
    rows = {(sha, str(Path(path).absolute())): size for sha, path, size in seen}
    if not rows:
        return
    with db.write() as conn:
        for (sha, path), size in rows.items():
            conn.execute(delete(asset_locations).where(asset_locations.c.sha256 == sha,
                                                       asset_locations.c.path == path))
            conn.execute(asset_locations.insert().values(sha256=sha, path=path, size=size,
                                                         seen_at=_now()))


def _params(kind: str, p: Any, keyframes_only: bool) -> dict[str, Any]:
    if kind in ("video", "vcrop"):
        return {"keyframes_only": keyframes_only, "mode": getattr(p, "mode", None),
                "width": int(p.width), "height": int(p.height)}
    if kind == "audio":
        return {"item_ms": float(p.item_ms)}
    if kind == "landmark":
        return {"form": "hashes", "duration_ms": int(p.duration_ms)}
    return {"num_perm": int(len(p.minhash)), "chunks": len(p.chunks)}


def _items(kind: str, p: Any) -> int:
    if kind == "landmark":
        return len(p)
    return int(len(p.hashes) if kind in ("video", "vcrop") else len(p.items) if kind == "audio"
               else len(p.line_hashes))


def store_result(db: Database, indexes: Indexes, sha: str, category: str, result: FileResult,
                 keyframes_only: bool) -> Outcome:
    """Write one file's prints (or its failure) in one transaction, then index the prints."""
    now = _now()
    if result.error is not None:
        with db.write() as conn:
            conn.execute(delete(fingerprints).where(fingerprints.c.sha256 == sha,
                                                    fingerprints.c.status == "failed"))
            kind = PRIMARY_KIND.get(category, "video")
            if conn.execute(select(fingerprints.c.seq).where(
                    fingerprints.c.sha256 == sha, fingerprints.c.kind == kind)).first() is None:
                conn.execute(fingerprints.insert().values(
                    sha256=sha, kind=kind, status="failed", reason=result.error[:1000],
                    params=json.dumps({"keyframes_only": keyframes_only}), items=0, data=None,
                    computed_at=now))
        return Outcome(result.path, "failed", sha, error=result.error, cpu_s=result.cpu_s)
    classes = print_classes()
    decoded = {k: classes[k].from_bytes(b) for k, b in result.prints.items()}
    seqs: dict[str, int] = {}
    with db.write() as conn:
        conn.execute(delete(fingerprints).where(fingerprints.c.sha256 == sha))
        for kind, p in decoded.items():
            seqs[kind] = conn.execute(fingerprints.insert().values(
                sha256=sha, kind=kind, status="ok", reason=None,
                params=json.dumps(_params(kind, p, keyframes_only)), items=_items(kind, p),
                data=result.prints[kind], computed_at=now)
                .returning(fingerprints.c.seq)).scalar_one()
    for kind, p in decoded.items():
        indexes.add(kind, seqs[kind], p)
    return Outcome(result.path, "ok", sha, sorted(decoded), cpu_s=result.cpu_s)


def load_prints(conn: Connection, seqs: Iterable[int]) -> dict[int, tuple[str, str, Any]]:
    """``seq -> (sha256, kind, print)`` for the current ok prints among ``seqs``."""
    classes = print_classes()
    out: dict[int, tuple[str, str, Any]] = {}
    wanted = sorted({int(s) for s in seqs})
    for i in range(0, len(wanted), 500):
        for r in conn.execute(select(fingerprints.c.seq, fingerprints.c.sha256,
                                     fingerprints.c.kind, fingerprints.c.data)
                              .where(fingerprints.c.seq.in_(wanted[i:i + 500]),
                                     fingerprints.c.status == "ok")):
            out[int(r.seq)] = (r.sha256, r.kind, classes[r.kind].from_bytes(bytes(r.data)))
    return out


def picture_aspects(conn: Connection) -> tuple[float, ...]:
    """The distinct aspects (width / height) of the registered films' pictures, from their video
    prints' parameters: a scan's copies are cut back to them (``media.fingerprint.aspect``)."""
    from ..media.fingerprint.aspect import registered_aspects

    sizes = []
    for (params,) in conn.execute(select(fingerprints.c.params).distinct().where(
            fingerprints.c.kind == "video", fingerprints.c.status == "ok")):
        p = json.loads(params or "{}")
        if p.get("mode") != "still" and p.get("width") and p.get("height"):
            sizes.append((int(p["width"]), int(p["height"])))
    return registered_aspects(sizes)


def rebuild_indexes(home: Home, db: Database) -> dict[str, int]:
    """Write the indexes afresh from every ok print in the database."""
    indexes = Indexes(home)
    indexes.clear()
    classes = print_classes()
    counts = {"video": 0, "vcrop": 0, "audio": 0, "landmark": 0, "text": 0}
    with db.read() as conn:
        rows = conn.execute(select(fingerprints.c.seq, fingerprints.c.kind, fingerprints.c.data)
                            .where(fingerprints.c.status == "ok")
                            .order_by(fingerprints.c.seq))
        for r in rows:
            indexes.add(r.kind, int(r.seq), classes[r.kind].from_bytes(bytes(r.data)))
            counts[r.kind] += 1
    indexes.flush()
    return counts


# ---------------------------------------------------------------------------------------------
# Computing: PATHS, --all, and the files of a newly registered work
# ---------------------------------------------------------------------------------------------

def _categories(db: Database, shas: Iterable[str]) -> dict[str, tuple[str, bool]]:
    """``sha -> (category, has an ok print)`` for the registered ones among ``shas``."""
    shas = sorted(set(shas))
    out: dict[str, tuple[str, bool]] = {}
    with db.read() as conn:
        for i in range(0, len(shas), 500):
            chunk = shas[i:i + 500]
            done = set(conn.scalars(select(fingerprints.c.sha256).where(
                fingerprints.c.sha256.in_(chunk), fingerprints.c.status == "ok")))
            for r in conn.execute(select(assets.c.sha256, assets.c.category)
                                  .where(assets.c.sha256.in_(chunk))):
                out[r.sha256] = (r.category, r.sha256 in done)
    return out


def fingerprint_registered(home: Home, db: Database, files: list[tuple[str, str]], *,
                           engine: Engine | None = None, keyframes_only: bool = False,
                           force: bool = False, progress: Progress | None = None,
                           mode: str = "fast") -> Summary:
    """Fingerprint files known to hold registered assets: ``[(sha256, path)]``.

    Each file is re-hashed by its worker; one that no longer has those bytes is reported.
    ``mode`` ``"thorough"`` adds the reference region hashes thorough scans need (off-centre
    windows, docs/scan.md); it costs about three times the CPU of ``"fast"``.
    """
    _check_mode(mode)
    summary = Summary()
    cats = _categories(db, (sha for sha, _ in files))
    jobs: dict[str, str] = {}
    queued: set[str] = set()
    for sha, path in files:
        if sha not in cats:
            summary.outcomes.append(_report(progress, Outcome(
                path, "unregistered", sha, error=f"{path}: not a registered asset; register it "
                                                 "with `reelrights work add` first")))
        elif cats[sha][1] and not force:
            summary.outcomes.append(_report(progress, Outcome(path, "skipped", sha)))
        elif sha in queued:  # the same bytes under another name: one print serves both
            summary.outcomes.append(_report(progress, Outcome(path, "skipped", sha)))
        else:
            queued.add(sha)
            jobs[path] = sha
    engine = engine or LocalEngine()
    indexes = Indexes(home)
    work = [FileJob(str(p), cats[s][0], s, keyframes_only, crops=True, mode=mode)
            for p, s in jobs.items()]
    try:
        for job, result in engine.run(file_job, work, crashed_result):
            sha = jobs[job.path]
            if result.sha256 is not None and result.sha256 != sha:
                outcome = Outcome(job.path, "failed", None, error=result.error, cpu_s=result.cpu_s)
            else:
                outcome = store_result(db, indexes, sha, job.category or "", result, keyframes_only)
            summary.outcomes.append(_report(progress, outcome))
    finally:
        indexes.flush()
    return summary


def fingerprint_new_work(home: Home, db: Database, receipt_assets: list[dict[str, Any]],
                         files: list[Path], *, skip: bool = False) -> list[dict[str, Any]]:
    """After ``work add``: record where each file is, then fingerprint the files (unless
    ``skip``), in this process for one file, else in a pool. The work stays registered whatever
    happens here; returns the failures, one dict each (path, sha256, status, error)."""
    shas = [(a["sha256"], str(Path(f).absolute())) for a, f in zip(receipt_assets, files)]
    record_locations(db, [(sha, path, Path(path).stat().st_size) for sha, path in shas])
    if skip:
        return []
    try:
        with make_engine("local" if len(files) == 1 else None, min(2, len(files))) as engine:
            summary = fingerprint_registered(home, db, shas, engine=engine)
    except Exception as exc:  # noqa: BLE001 - the work is registered; say so and how to finish
        why = exc.message if isinstance(exc, ReelrightsError) else f"{type(exc).__name__}: {exc}"
        return [{"path": p, "sha256": s, "status": "failed",
                 "error": f"{p}: fingerprinting stopped ({' '.join(why.splitlines())})"}
                for s, p in shas]
    return [o.to_json() for o in summary.not_fingerprinted]


def fingerprint_paths(home: Home, db: Database, paths: list[Path], *,
                      engine: Engine | None = None, keyframes_only: bool = False,
                      force: bool = False, progress: Progress | None = None,
                      mode: str = "fast") -> Summary:
    """Fingerprint files named by path: each is hashed and matched to its registered asset."""
    _check_mode(mode)
    engine = engine or LocalEngine()
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise BadInput(f"{missing[0]}: no such file; give paths of registered assets' files")
    hashed: list[FileResult] = [r for _, r in engine.run(
        file_job, [FileJob(str(Path(p).absolute()), hash_only=True) for p in paths],
        crashed_result)]
    summary = Summary()
    known = _categories(db, (r.sha256 for r in hashed if r.sha256))
    files, seen = [], []
    for r in hashed:
        if r.sha256 is None:
            summary.outcomes.append(_report(progress, Outcome(r.path, "failed", error=r.error)))
        elif r.sha256 not in known:
            summary.outcomes.append(_report(progress, Outcome(
                r.path, "unregistered", r.sha256,
                error=f"{r.path}: not a registered asset (SHA-256 {r.sha256}); register it "
                      "with `reelrights work add` first")))
        else:
            files.append((r.sha256, r.path))
            seen.append((r.sha256, r.path, r.size))
    record_locations(db, seen)
    rest = fingerprint_registered(home, db, files, engine=engine, keyframes_only=keyframes_only,
                                  force=force, progress=progress, mode=mode)
    summary.outcomes.extend(rest.outcomes)
    return summary


def fingerprint_all(home: Home, db: Database, *, engine: Engine | None = None,
                    keyframes_only: bool = False, progress: Progress | None = None,
                    mode: str = "fast") -> Summary:
    """Every registered asset with a recorded file location and no ok print yet."""
    _check_mode(mode)
    with db.read() as conn:
        done = set(conn.scalars(select(fingerprints.c.sha256)
                                .where(fingerprints.c.status == "ok")))
        locs = conn.execute(select(asset_locations.c.sha256, asset_locations.c.path)
                            .order_by(asset_locations.c.sha256, asset_locations.c.seen_at.desc()))
        chosen: dict[str, str] = {}
        for sha, path in locs:
            if sha not in done and sha not in chosen and Path(path).is_file():
                chosen[sha] = path
    return fingerprint_registered(home, db, [(s, p) for s, p in chosen.items()], engine=engine,
                                  keyframes_only=keyframes_only, progress=progress, mode=mode)


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise BadInput(f"mode {mode!r}: use one of {', '.join(MODES)}")


def _report(progress: Progress | None, outcome: Outcome) -> Outcome:
    if progress is not None:
        progress(outcome)
    return outcome


# ---------------------------------------------------------------------------------------------
# Whole-asset near-duplicates (ownership disputes, docs/rules.md "Ownership disputes")
# ---------------------------------------------------------------------------------------------

#: A static segment at the very start or end of a video at most this long is an ident or a
#: slate (a studio logo, a clapperboard card, a rating card): excluded from the duration.
IDENT_MAX_MS = 10_000
#: Frames within this PDQ distance of a segment's first frame belong to the same static shot.
STATIC_BITS = 16
_PDQ_RADIUS = 31


def content_weights(p: Any) -> np.ndarray:
    """Milliseconds of content each whole-frame sample of video print ``p`` stands for; 0 for the
    frames a near-duplicate is not measured on:

    * **black and flat frames**: PDQ quality below :data:`MIN_QUALITY` (quality measures the
      frame's gradients, so a black, uniform or nearly uniform frame scores low);
    * **idents and slates**: the static run of frames (each within :data:`STATIC_BITS` of the
      run's first frame, black frames inside it included) at the very start, and the one at
      the very end, when it lasts at most :data:`IDENT_MAX_MS` and is not the whole video.

    A sample stands for the time until the next sample (the last one until the end)."""
    t = np.asarray(p.time_ms, dtype=np.int64)
    n = len(t)
    if n == 0:
        return np.zeros(0, np.int64)
    step = int(np.median(np.diff(t))) if n > 1 else 1000
    end = max(int(p.duration_ms or 0), int(t[-1]) + step)
    weights = np.diff(np.append(t, end)).clip(min=0)
    keep = np.asarray(p.quality) >= MIN_QUALITY
    hashes = np.asarray(p.hashes, dtype=np.uint8)
    for order in (np.arange(n), np.arange(n)[::-1]):
        first = order[0]
        dist = np.bitwise_count(hashes[order] ^ hashes[first]).sum(axis=1)
        static = (dist <= STATIC_BITS) | ~keep[order]
        run = int(np.argmin(static)) if not static.all() else n
        if 0 < run < n and int(weights[order[:run]].sum()) <= IDENT_MAX_MS:
            keep[order[:run]] = False
    return np.where(keep, weights, 0)


def whole_asset_matches(home: Home, conn: Connection, sha256: str) -> list[dict[str, Any]]:
    """Registered video assets whose content matches asset ``sha256``'s, through the PDQ index.

    For each other asset with at least one matching frame: ``sha256``, ``share`` (the larger of
    the matched share of this asset's content duration and of the other's, idents, slates and
    black frames excluded: :func:`content_weights`), and ``matched_ms`` / ``duration_ms`` of
    that side. ``share`` >= 0.8 is a whole-asset near-duplicate; less is a segment match. Empty
    when the asset has no video print."""
    row = conn.execute(select(fingerprints.c.data).where(
        fingerprints.c.sha256 == sha256, fingerprints.c.kind == "video",
        fingerprints.c.status == "ok")).first()
    if row is None:
        return []
    video = print_classes()["video"]
    query = video.from_bytes(bytes(row.data)).primary()
    q_weights = content_weights(query)
    q_rows = np.flatnonzero(q_weights > 0)
    if len(q_rows) == 0:
        return []
    hits = Indexes(home).get("pdq").search(np.ascontiguousarray(query.hashes[q_rows]),
                                           radius=_PDQ_RADIUS)
    if len(hits.query) == 0:
        return []
    seq = np.asarray(hits.id) >> FRAME_BITS
    frame = np.asarray(hits.id) & ((1 << FRAME_BITS) - 1)
    refs = load_prints(conn, np.unique(seq).tolist())
    by_sha: dict[str, dict[str, set[int]]] = {}
    for s, f, qi in zip(seq.tolist(), frame.tolist(), np.asarray(hits.query).tolist(),
                        strict=True):
        ref = refs.get(s)
        if ref is None or ref[0] == sha256:
            continue
        got = by_sha.setdefault(ref[0], {"query": set(), "ref_ms": set()})
        got["query"].add(int(q_rows[qi]))
        got["ref_ms"].add(int(np.asarray(ref[2].time_ms)[f]))
    out = []
    q_total = int(q_weights.sum())
    for other, got in sorted(by_sha.items()):
        q_matched = int(q_weights[sorted(got["query"])].sum())
        best = (q_matched, q_total)
        ref_row = conn.execute(select(fingerprints.c.data).where(
            fingerprints.c.sha256 == other, fingerprints.c.kind == "video",
            fingerprints.c.status == "ok")).first()
        if ref_row is not None:
            ref = video.from_bytes(bytes(ref_row.data)).primary()
            r_weights = content_weights(ref)
            r_total = int(r_weights.sum())
            r_matched = int(r_weights[np.isin(np.asarray(ref.time_ms),
                                              sorted(got["ref_ms"]))].sum())
            if r_total and (not q_total or r_matched * q_total > q_matched * r_total):
                best = (r_matched, r_total)
        if best[1]:
            out.append({"sha256": other, "matched_ms": best[0], "duration_ms": best[1],
                        "share": round(best[0] / best[1], 6)})
    return out
