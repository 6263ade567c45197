"""Benchmark: does a scan find registered films after what training pipelines do to them?

    .venv/bin/python benchmarks/scan_robustness.py [--quick] [--samples 60] [--workers 2]

Works: generated films (media/synth.make_film) of 30-60 s at 640x360, 24 fps, with hard cuts,
pans over natural-looking texture, a moving square, camera zooms on every other shot and burned-in
captions. Each is registered the way the registry does it in thorough mode (8 fps + scene
changes, centre-crop variants, quadrants and off-centre windows); fast mode's index holds the same
prints without the windows (what ``reelrights fingerprint`` stores in fast mode). The index is
padded with registered hard negatives (more films from the same generator) and with at least
100,000 distractor frames (PDQ hashes of random windows of 1/f noise textures, the generator's
own picture statistics), so a false match has every chance.

Copies are made with the ffmpeg CLI (Debian's ffmpeg 5.1; AugLy was not used: its video
augmentations shell out to ffmpeg as well), each a 10 s excerpt starting at a random,
fractional offset of a random work, re-encoded with x264 and then transformed. At least
``--samples`` (default 60; ``--quick``: 6) copies per transformation and strength. Negative
queries are the same transformations applied to unregistered films of the same generator.

A copy is *found* when its scan (``fingerprint_video(dihedral=True, burst=3, regions=...)`` then
``scan_video.match_video``, the code a scan runs) matches the right work. Copies are scanned fast
against the fast index and thorough against the thorough one: every copy of a case thorough mode
is expected to find, and every negative query, in both modes; of a case fast mode is expected to
find, every copy fast and the first ``--thorough-samples`` (default 20) thorough too (so the
thorough rows of those cases hold 20 copies: what thorough mode adds to them, at a third of the
cost). Films and references are made on the workers too. Printed per
transformation and strength: recall with its 95 % Wilson interval, false positives (copies that
also matched another work, and negative queries that matched anything) with the 95 % upper
bound, the localisation error (largest gap between the reported and true range ends, copy and
work side, median and 95th percentile, in seconds) and the scan time per copy (fingerprint +
match, CPU).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reelrights.evidence.scan_video import match_video
from reelrights.media import synth
from reelrights.media.fingerprint import (
    COPY_BURST,
    MODES,
    REFERENCE_CROPS,
    REFERENCE_FPS,
    VideoPrint,
    fingerprint_video,
    region_mode,
)
from reelrights.media.fingerprint.aspect import registered_aspects
from reelrights.media.fingerprint.frames import hash_luma
from reelrights.media.fingerprint.regions import WINDOW_BASE, WINDOWS
from reelrights.media.index import PDQIndex

W, H, FPS, CLIP_S = 640, 360, 24, 10.0
FRAME_BITS = 24
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


@dataclass(frozen=True)
class Case:
    family: str
    strength: str
    vf: str = ""              # ffmpeg -vf filter chain
    speed: float = 1.0
    mode: str = "fast"        # which mode the issue expects to find it (fast / thorough)
    special: str = ""         # pip / compilation


def _box(area: float) -> str:
    f = math.sqrt(area)
    return (f"drawbox=x=iw*{1 - f:.3f}-8:y=8:w=iw*{f:.3f}:h=ih*{f:.3f}:color=white@0.9:t=fill,"
            f"drawtext=fontfile={FONT}:text='LOGO':x=w*{1 - f:.3f}:y=h*{f / 3:.3f}:fontsize=h*{f / 3:.3f}:"
            "fontcolor=black")


CASES = [
    Case("re-encode", "crf 35", "null"),
    Case("re-encode", "crf 45", "null"),
    Case("resize", "25 %", "scale=160:90"),
    Case("resize", "50 %", "scale=320:180"),
    Case("resize", "200 %", "scale=1280:720"),
    Case("resize", "400 %", "scale=2560:1440"),
    Case("flip", "horizontal", "hflip"),
    Case("flip", "vertical", "vflip"),
    Case("rotate", "90 cw", "transpose=1"),
    Case("rotate", "90 ccw", "transpose=2"),
    Case("rotate", "180", "hflip,vflip"),
    Case("letterbox", "2.35:1", "scale=640:272,pad=640:360:0:44"),
    Case("letterbox", "1.85:1", "scale=640:346,pad=640:360:0:7:color=0x202020"),
    Case("pillarbox", "4:3", "scale=480:360,pad=640:360:80:0"),
    Case("pillarbox", "1:1", "scale=360:360,pad=640:360:140:0:color=gray"),
    Case("offset", "any start", "null"),
    Case("speed", "x0.9", "setpts=PTS/0.9", 0.9),
    Case("speed", "x1.1", "setpts=PTS/1.1", 1.1),
    Case("crop centred", "5 %", "crop=iw*0.95:ih*0.95,scale=640:360"),
    Case("crop centred", "10 %", "crop=iw*0.90:ih*0.90,scale=640:360"),
    # per-dimension crops keep their own aspect (no resize back to 16:9): found by aspect cuts
    Case("crop centred", "10 % x only", "crop=576:360"),
    Case("crop centred", "10 % y only", "crop=640:324"),
    Case("crop centred", "5 % x, 10 % y", "crop=608:324"),
    Case("overlay", "5 % logo+text", _box(0.05)),
    Case("overlay", "10 % logo+text", _box(0.10)),
    Case("combined", "crop 5+resize 50+hflip+letterbox+x1.05",
         "crop=iw*0.95:ih*0.95,scale=320:136,hflip,pad=320:180:0:22,setpts=PTS/1.05", 1.05),
    Case("crop off-centre", "10 % (corner)", "crop=iw*0.9:ih*0.9:0:0,scale=640:360", mode="thorough"),
    Case("crop off-centre", "20 % (corner)", "crop=iw*0.8:ih*0.8:0:0,scale=640:360", mode="thorough"),
    Case("crop off-centre", "15 % (x 5 %, y 10 %)", "crop=iw*0.85:ih*0.85:iw*0.05:ih*0.1,scale=640:360",
         mode="thorough"),
    Case("crop off-centre", "17.5 % (x 7.5 %, y 2.5 %)", "crop=iw*0.825:ih*0.825:iw*0.075:ih*0.025,scale=640:360",
         mode="thorough"),
    Case("crop off-centre", "random 5-12 %, anywhere", special="crop:0.05:0.12", mode="thorough"),
    Case("crop off-centre", "random 12-20 %, anywhere", special="crop:0.12:0.20", mode="thorough"),
    Case("crop off-centre", "15 % x at 5 % from left, 5 % y at top", "crop=544:342:32:0", mode="thorough"),
    Case("crop off-centre", "15 % x + 5 % y, anywhere", special="acrop:0.15:0.15:0.05:0.05", mode="thorough"),
    Case("crop off-centre", "20 % x only, anywhere", special="acrop:0.20:0.20:0:0", mode="thorough"),
    Case("crop off-centre", "20 % y only, anywhere", special="acrop:0:0:0.20:0.20", mode="thorough"),
    Case("crop off-centre", "random 0-20 % per axis, anywhere", special="acrop:0:0.20:0:0.20", mode="thorough"),
    Case("overlay", "20 % logo+text", _box(0.20), mode="thorough"),
    Case("picture-in-picture", "inset 50 %", special="pip:0.5", mode="thorough"),
    Case("picture-in-picture", "inset 40 %", special="pip:0.4", mode="thorough"),
    Case("picture-in-picture", "inset 30 %", special="pip:0.3", mode="thorough"),
    Case("compilation", "5 s inside 25 s", special="comp:5", mode="thorough"),
    Case("compilation", "15 s inside 35 s", special="comp:15", mode="thorough"),
]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, c - h), min(1.0, c + h)


def ffmpeg(*args: str) -> None:
    """Run the ffmpeg CLI on one thread per stage (decoder, filters, encoder): the workers already
    keep every core busy, and ffmpeg's own threads then only add switching (about a fifth of its
    CPU for these 10 s copies)."""
    one = [w for a in args for w in (("-threads", "1", a) if a == "-i" else (a,))]
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-filter_threads", "1", "-filter_complex_threads", "1",
                    *one], check=True)


ENC = ["-r", str(FPS), "-c:v", "libx264", "-threads", "1", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-an"]


def make_copy(case: Case, src: Path, start: float, dst: Path, filler: Path, crf: str) -> tuple[float, float]:
    """Write the copy; return where the work's excerpt sits in it (start, end seconds)."""
    if case.special.startswith("pip"):
        f = float(case.special.split(":")[1])
        ffmpeg("-ss", f"{start:.3f}", "-t", f"{CLIP_S}", "-i", str(src), "-t", f"{CLIP_S}", "-i", str(filler),
               "-filter_complex", f"[0:v]scale=trunc(iw*{f}/2)*2:trunc(ih*{f}/2)*2[s];[1:v][s]overlay=W*0.45:H*0.1",
               *ENC, "-crf", crf, str(dst))
        return 0.0, CLIP_S
    if case.special.startswith("comp"):
        n = float(case.special.split(":")[1])
        ffmpeg("-t", "10", "-i", str(filler), "-ss", f"{start:.3f}", "-t", f"{n}", "-i", str(src),
               "-ss", "12", "-t", "10", "-i", str(filler), "-filter_complex",
               "[0:v][1:v][2:v]concat=n=3:v=1[v]", "-map", "[v]", *ENC, "-crf", crf, str(dst))
        return 10.0, 10.0 + n
    vf = case.vf
    if case.special.startswith("acrop"):  # cuts of each dimension on their own, anywhere; aspect kept
        xlo, xhi, ylo, yhi = (float(v) for v in case.special.split(":")[1:])
        r = random.Random(f"{src}:{start}")
        cx, cy = r.uniform(xlo, xhi), r.uniform(ylo, yhi)
        w, h = 2 * round(W * (1 - cx) / 2), 2 * round(H * (1 - cy) / 2)
        vf = f"crop={w}:{h}:{round(r.uniform(0, W - w))}:{round(r.uniform(0, H - h))}"
    if case.special.startswith("crop"):  # a random cut of lo..hi of each dimension, anywhere
        lo, hi = (float(v) for v in case.special.split(":")[1:])
        r = random.Random(f"{src}:{start}")
        c = r.uniform(lo, hi)
        vf = f"crop=iw*{1 - c:.4f}:ih*{1 - c:.4f}:iw*{r.uniform(0, c):.4f}:ih*{r.uniform(0, c):.4f},scale=640:360"
    ffmpeg("-ss", f"{start:.3f}", "-t", f"{CLIP_S * case.speed:.3f}", "-i", str(src), "-vf", vf or "null",
           *ENC, "-crf", crf, str(dst))
    return 0.0, CLIP_S


# --------------------------------------------------------------------------------------------
# The index: works, registered hard negatives, distractor frames
# --------------------------------------------------------------------------------------------

_STATE: dict[str, Any] = {}


def distractor_prints(n_frames: int, seed: int = 77) -> list[VideoPrint]:
    """Fake registered videos of 500 frames each: PDQ of random windows of 1/f noise textures."""
    rng = np.random.default_rng(seed)
    out = []
    per = 500
    for v in range(math.ceil(n_frames / per)):
        tex = synth._pink(rng, 768, 768, 1.4) * 45 + 128
        hashes, qual = [], []
        for _ in range(min(per, n_frames - v * per)):
            side = int(rng.integers(140, 700))
            y, x = (int(c) for c in rng.integers(0, 768 - side, 2))
            step = max(1, side // 128)
            h, q = hash_luma(np.ascontiguousarray(tex[y:y + side:step, x:x + side:step],
                                                  dtype=np.float32))
            hashes.append(h)
            qual.append(q)
        k = len(hashes)
        out.append(VideoPrint(np.stack(hashes), np.array(qual, np.uint8), np.arange(k, dtype=np.int64) * 250,
                              k * 250, "distractor", 640, 360))
    return out


def build_index(root: Path, refs: dict[str, VideoPrint]) -> dict[int, tuple[str, str, VideoPrint]]:
    index = PDQIndex.open(root)
    prints: dict[int, tuple[str, str, VideoPrint]] = {}
    for seq, (name, p) in enumerate(refs.items(), start=1):
        keep = np.flatnonzero(p.quality >= 50)
        index.add(np.ascontiguousarray(p.hashes[keep]), (np.int64(seq) << FRAME_BITS) | keep.astype(np.int64))
        prints[seq] = (name, "video", p)
    index.flush()
    return prints


def fast_reference(p: VideoPrint) -> VideoPrint:
    """A thorough reference print without what only thorough mode adds (the windows)."""
    keep = ~((p.crop >= WINDOW_BASE) & (p.crop < WINDOW_BASE + min(20, len(WINDOWS))))
    return VideoPrint(p.hashes[keep], p.quality[keep], p.time_ms[keep], p.duration_ms, p.mode, p.width, p.height,
                      p.crop[keep])


def _init(root: str, prints: dict[str, dict[int, tuple[str, str, VideoPrint]]],
          aspects: tuple[float, ...]) -> None:
    _STATE["index"] = {m: PDQIndex.open(Path(root) / f"pdq-{m}") for m in MODES}
    _STATE["prints"] = prints
    _STATE["aspects"] = aspects  # the registered works' aspects, as a scan reads them


def scan_one(job: tuple) -> dict[str, Any]:
    """Make one copy, scan it, judge the result (in a worker)."""
    case, work, src, start, filler, dst, truth_work, crf, modes = job
    q0, q1 = make_copy(case, Path(src), start, Path(dst), Path(filler), crf)
    out: dict[str, Any] = {"case": case}
    for mode in modes:
        c0 = time.process_time()
        vp = fingerprint_video(dst, dihedral=True, burst=COPY_BURST, regions=region_mode(mode, reference=False),
                               aspects=_STATE["aspects"])
        prints = _STATE["prints"][mode]
        matches = match_video(None, _STATE["index"][mode], vp,
                              loader=lambda seqs, prints=prints: {s: prints[s] for s in seqs if s in prints})
        cpu = time.process_time() - c0
        found = [m for m in matches if m["sha256"] == truth_work]
        wrong = [m for m in matches if m["sha256"] != truth_work]
        err = None
        if found and truth_work:
            rng = max(found[0]["ranges"], key=lambda r: r["query_end_ms"] - r["query_start_ms"])
            r0, r1 = start + 0.0, start + (q1 - q0) * case.speed
            err = max(abs(rng["query_start_ms"] / 1000 - q0), abs(rng["query_end_ms"] / 1000 - q1),
                      abs(rng["ref_start_ms"] / 1000 - r0), abs(rng["ref_end_ms"] / 1000 - r1))
        out[mode] = {"positive": bool(truth_work), "found": bool(found), "wrong": len(wrong),
                     "err": err, "cpu": cpu}
    os.unlink(dst)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="6 copies per case, 4 works, 20,000 distractors")
    ap.add_argument("--samples", type=int, default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--thorough-samples", type=int, default=20,
                    help="copies of each fast-mode case also scanned in thorough mode (thorough-mode cases: all)")
    ap.add_argument("--family", default=None, help="only cases of these families (comma-separated)")
    ap.add_argument("--strength", default=None,
                    help="only cases whose strength contains one of these (comma-separated), e.g. 'x only,per axis'")
    ap.add_argument("--no-aspect-cuts", action="store_true",
                    help="scan without the registered aspects (as before aspect cuts: the baseline)")
    args = ap.parse_args()
    if shutil.which("ffmpeg") is None:
        print("error: the ffmpeg CLI is needed for the transformations; apt-get install ffmpeg")
        return 2
    quick = args.quick
    samples = args.samples or (6 if quick else 60)
    n_works, n_hard, n_neg = (4, 2, 2) if quick else (12, 6, 6)
    n_distract = 20_000 if quick else 100_000
    # negative queries per case: every positive copy is a false-positive query too (a match to
    # another work), so a tenth more are enough to count matches of unregistered films
    negatives = max(2, samples // 10)
    families = set(args.family.split(",")) if args.family else None
    cases = [c for c in CASES if families is None or c.family in families]
    if args.strength:
        cases = [c for c in cases if any(s in c.strength for s in args.strength.split(","))]
    rng = random.Random(2027)
    with tempfile.TemporaryDirectory(prefix="scan_robustness_") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        specs = [(root / f"film{i}.mp4", rng.choice([30, 40, 50, 60]) if not quick else 30, 1000 + i)
                 for i in range(n_works + n_hard + n_neg)]
        with ProcessPoolExecutor(args.workers) as pool:  # set-up on every core too
            films = {f"film{i}": path for i, path in enumerate(pool.map(_make_film, specs))}
            names = list(films)
            works, hard, negs = names[:n_works], names[n_works:n_works + n_hard], names[n_works + n_hard:]
            gen_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            refs = dict(zip(works + hard, pool.map(_reference, [films[n] for n in works + hard]), strict=True))
            ref_s = time.perf_counter() - t0
        aspects = () if args.no_aspect_cuts else registered_aspects((p.width, p.height) for p in refs.values())
        dist = distractor_prints(n_distract)
        refs.update({f"distractor{i}": p for i, p in enumerate(dist)})
        prints = {"thorough": build_index(root / "pdq-thorough", refs),
                  "fast": build_index(root / "pdq-fast", {n: fast_reference(p) for n, p in refs.items()})}
        frames = sum(int((p.quality >= 50).sum()) for _, _, p in prints["thorough"].values())
        print(f"# scan robustness: {n_works} works + {n_hard} registered hard negatives "
              f"({sum(len(refs[n]) for n in works + hard)} reference hashes), {len(dist)} distractor videos "
              f"({n_distract} frames); thorough index {frames} hashes; {n_neg} unregistered negative films")
        print(f"# films generated in {gen_s:.0f} s, references fingerprinted in {ref_s:.0f} s "
              f"({args.workers} workers); "
              f"{samples} copies per case (+{negatives} negative queries)\n")
        durations = {n: _duration(f) for n, f in films.items()}  # each film opened once, not per copy
        jobs = []
        for case in cases:
            for k in range(samples + negatives):
                positive = k < samples
                name = rng.choice(works if positive else negs)
                dur = durations[name]
                span = CLIP_S * case.speed if not case.special.startswith("comp") else float(case.special[5:])
                start = round(rng.uniform(0, dur - span - 0.5), 3)
                filler = films[rng.choice(negs)]
                crf = case.strength.split()[1] if case.family == "re-encode" else "23"
                # a fast-mode case's copies are all scanned fast; the first --thorough-samples of them
                # (and every negative query) in thorough mode too: what thorough adds to them
                modes = MODES if case.mode == "thorough" or not positive or k < args.thorough_samples \
                    else ("fast",)
                jobs.append((case, name, str(films[name]), start, str(filler), str(root / f"copy{len(jobs)}.mp4"),
                             name if positive else "", crf, modes))
        t0 = time.perf_counter()
        header()
        per_case = samples + negatives
        results: list[dict[str, Any]] = []
        totals = [0, 0]
        with ProcessPoolExecutor(args.workers, initializer=_init, initargs=(str(root), prints, aspects)) as pool:
            # jobs are in case order: each case's rows print as soon as its copies are scanned, so a run
            # stopped part-way still leaves its figures
            for r in pool.map(scan_one, jobs, chunksize=4):
                results.append(r)
                if len(results) % per_case == 0:
                    fp, n = report_case(r["case"], results[-per_case:])
                    totals[0] += fp
                    totals[1] += n
        wall = time.perf_counter() - t0
    print(f"\nfalse positives over all {totals[1]} queries of both modes: {totals[0]} (95 % upper bound "
          f"{wilson(totals[0], totals[1])[1]:.4f})")
    print(f"\n{len(jobs)} copies made and scanned in {wall / 60:.1f} min wall ({args.workers} workers)")
    return 0


def _make_film(spec: tuple[Path, int, int]) -> Path:
    path, secs, seed = spec
    return synth.make_film(path, seconds=secs, fps=FPS, size=(W, H), scenes=secs // 5, seed=seed, zoom=0.3,
                           captions=True)


def _reference(path: Path) -> VideoPrint:
    """A work's thorough reference print, as the registry makes it (in a worker)."""
    return fingerprint_video(path, fps=REFERENCE_FPS, crop_variants=REFERENCE_CROPS,
                             regions=region_mode("thorough", reference=True))


def _duration(path: Path) -> float:
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return float(s.duration * s.time_base)


def header() -> None:
    print(f"{'expected':9} {'scan':9} {'transformation':20} {'strength':38} {'recall':>7} {'95 % CI':>13} "
          f"{'FP wrong':>9} {'FP neg':>7} {'FP 95% ub':>9} {'loc err s med/p95':>17} {'scan ms':>8}", flush=True)


def report_case(case: Case, results: list[dict[str, Any]]) -> tuple[int, int]:
    """Print one case's row per mode; return (false positives, queries) over both modes."""
    all_fp = all_n = 0
    for mode in MODES:
        rs = [r[mode] for r in results if mode in r]
        pos = [r for r in rs if r["positive"]]
        neg = [r for r in rs if not r["positive"]]
        k = sum(r["found"] for r in pos)
        lo, hi = wilson(k, len(pos))
        wrong = sum(r["wrong"] > 0 for r in pos)
        fneg = sum(r["wrong"] > 0 for r in neg)
        fp_ub = wilson(wrong + fneg, len(rs))[1]
        all_fp += wrong + fneg
        all_n += len(rs)
        errs = sorted(r["err"] for r in pos if r["err"] is not None)
        loc = (f"{statistics.median(errs):.2f}/{errs[min(len(errs) - 1, int(0.95 * len(errs)))]:.2f}"
               if errs else "-")
        ms = 1000 * statistics.mean(r["cpu"] for r in rs)
        print(f"{case.mode:9} {mode:9} {case.family:20} {case.strength:38} {k / len(pos):7.3f} "
              f"{f'[{lo:.2f}, {hi:.2f}]':>13} {f'{wrong}/{len(pos)}':>9} {f'{fneg}/{len(neg)}':>7} "
              f"{fp_ub:9.3f} {loc:>17} {ms:8.0f}", flush=True)
    return all_fp, all_n


if __name__ == "__main__":
    sys.exit(main())
