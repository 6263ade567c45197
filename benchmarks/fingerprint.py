"""Benchmark: fingerprinting throughput against the decoder's own, side by side (not a test).

Setup (not timed): a generated 1280x720 H.264 film (textured, hard cuts, ~4 Mbps, keyframe every
2 s), a generated melody as WAV and AAC, and generated Fountain scripts.

Timed, in one run, each pair interleaved (median of ``--repeat`` runs; wall and CPU time):
(a) PyAV decode-only of every frame vs ``fingerprint_video`` at 1 fps + scene changes, same decoder
    threads: frames/s, x real time, ratio (target >= 0.90); also with reference crop variants;
(b) key-frame-only decode (``skip_frame=NONKEY``) vs ``fingerprint_video(keyframes_only=True)``;
(c) ``fingerprint_audio``: x real time for WAV and AAC;
(d) ``fingerprint_text_string``: scripts/s and words/s (MinHash + scene chunks + line hashes);
(e) ``--soundtrack``: the same film with a mono AAC melody, fast-mode reference prints as the
    engine makes them (8 fps + crops + quadrants): (e1) as before, the soundtrack's Chromaprint
    after opening the file once more to look for sound; (e2) now, ``fingerprint_file(...,
    landmarks=True)``: Chromaprint and landmarks from one decode of the soundtrack, in the picture
    pass's own demux (one opening); each against
    video decode-only of that file (target >= 0.80); only (a5) and (e) are run, plus the
    landmark pass and the soundtrack decode alone; (e3): (e2) against decoding the video and the
    audio stream (what any print of a film with sound must at least do).

Usage: python benchmarks/fingerprint.py [--seconds 30] [--fps 30] [--threads 1] [--repeat 3] [--json FILE]
       [--video-only | --soundtrack]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av

from reelrights.media.fingerprint import (
    COPY_BURST,
    REFERENCE_CROPS,
    REFERENCE_FPS,
    fingerprint_audio,
    fingerprint_file,
    fingerprint_text_string,
    fingerprint_video,
)
from reelrights.media.fingerprint.landmarks import decode_mono, landmarks_of_samples
from reelrights.media.fingerprint.video import configure_decoder
from reelrights.media.synth import make_audio, make_film, make_script, transcode_audio


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, PyAV {av.__version__}"


def decode_only(path: Path, threads: int, keyframes: bool = False, sound: bool = False) -> int:
    """The baseline: decode every (or every key) frame and drop it, same thread settings
    (``sound``: the first audio stream's frames too, in the same pass)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        configure_decoder(stream, threads, keyframes)  # exactly the fingerprinter's settings
        streams = [stream, *container.streams.audio[:1]] if sound else [stream]
        return sum(1 for f in container.decode(*streams) if f.__class__ is not av.AudioFrame)


def timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def pair(name_a: str, fa: Callable[[], object], name_b: str, fb: Callable[[], object], repeat: int) -> dict:
    """Run a and b alternately ``repeat`` times; medians of wall and CPU seconds."""
    runs: dict[str, list[tuple[float, float]]] = {name_a: [], name_b: []}
    results: dict[str, object] = {}
    for _ in range(repeat):
        for name, fn in ((name_a, fa), (name_b, fb)):
            wall, cpu, out = timed(fn)
            runs[name].append((wall, cpu))
            results[name] = out
    return {name: {"wall_s": statistics.median(w for w, _ in r), "cpu_s": statistics.median(c for _, c in r),
                   "result": results[name]} for name, r in runs.items()}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--bitrate", type=int, default=4_000_000)
    ap.add_argument("--threads", type=int, default=1, help="decoder threads for both sides (0: FFmpeg auto)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scripts", type=int, default=200)
    ap.add_argument("--workdir", type=Path, default=None, help="reuse generated media from here")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--video-only", action="store_true", help="skip the audio and text parts")
    ap.add_argument("--soundtrack", action="store_true",
                    help="only (a5) and (e): reference prints of a film with a soundtrack, without and with landmarks")
    args = ap.parse_args()
    if args.soundtrack:
        soundtrack(args)
        return

    work = args.workdir or Path(tempfile.mkdtemp(prefix="rr-fp-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    film = work / f"film-{args.seconds:g}s-{args.fps}fps-{args.bitrate}.mp4"
    if not film.exists():
        t = time.perf_counter()
        make_film(film, seconds=args.seconds, fps=args.fps, size=(1280, 720), scenes=6, seed=1, grain=6,
                  bitrate=args.bitrate, gop=2 * args.fps)  # fmt: skip
        print(f"generated {film.name} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    mbps = film.stat().st_size * 8 / args.seconds / 1e6
    rt = args.seconds
    print(f"# fingerprint benchmark — {machine()}")
    print(f"film: 1280x720 H.264, {args.fps} fps, {args.seconds:g} s, {mbps:.2f} Mbps, keyframe every 2 s; "
          f"decoder threads={args.threads}; median of {args.repeat}; CPU = process CPU time\n")  # fmt: skip
    report: dict[str, object] = {"machine": machine(), "film_mbps": mbps, "seconds": args.seconds,
                                 "threads": args.threads}  # fmt: skip

    th = args.threads
    rows = []
    a = pair("decode", lambda: decode_only(film, th),
             "fingerprint", lambda: fingerprint_video(film, threads=th), args.repeat)  # fmt: skip
    frames = a["decode"]["result"]
    samples = len(a["fingerprint"]["result"])
    c = pair("decode", lambda: decode_only(film, th),
             "fingerprint+crops", lambda: fingerprint_video(film, threads=th, crop_variants=REFERENCE_CROPS,
                                                            fps=REFERENCE_FPS),
             args.repeat)  # fmt: skip
    d = pair("decode", lambda: decode_only(film, th),
             "copy+dihedral", lambda: fingerprint_video(film, threads=th, dihedral=True), args.repeat)  # fmt: skip
    e = pair("decode", lambda: decode_only(film, th),
             "legacy 640px+crops", lambda: fingerprint_video(film, threads=th, crop_variants=REFERENCE_CROPS,
                                                             canvas=0), args.repeat)  # fmt: skip
    f = pair("decode", lambda: decode_only(film, th),
             "reference+quadrants", lambda: fingerprint_video(film, threads=th, crop_variants=REFERENCE_CROPS,
                                                              fps=REFERENCE_FPS, regions="quadrants"),
             args.repeat)  # fmt: skip
    g = pair("decode", lambda: decode_only(film, th),
             "thorough reference", lambda: fingerprint_video(film, threads=th, crop_variants=REFERENCE_CROPS,
                                                             fps=REFERENCE_FPS, regions="reference"),
             args.repeat)  # fmt: skip
    k = pair("decode", lambda: decode_only(film, th),
             "thorough copy", lambda: fingerprint_video(film, threads=th, dihedral=True, burst=COPY_BURST,
                                                        regions="copy"), args.repeat)  # fmt: skip
    b = pair("keyframe decode", lambda: decode_only(film, th, keyframes=True),
             "keyframes fingerprint", lambda: fingerprint_video(film, threads=th, keyframes_only=True),
             args.repeat)  # fmt: skip
    keyframes = b["keyframe decode"]["result"]

    def row(label: str, base: dict, ours: dict, n_frames: int) -> None:
        bw, ow = base["wall_s"], ours["wall_s"]
        bc, oc = base["cpu_s"], ours["cpu_s"]
        rows.append((label, n_frames / bw, rt / bw, rt / ow, bw / ow, rt / bc, rt / oc, bc / oc))

    row("(a) all frames vs 1fps+scenes", a["decode"], a["fingerprint"], frames)
    row(f"(a2) reference: {REFERENCE_FPS:g}fps+scenes+crops", c["decode"], c["fingerprint+crops"], frames)
    row("(a3) copy: 1fps+scenes+dihedral", d["decode"], d["copy+dihedral"], frames)
    row("(a4) before: 640 px, 1fps+crops", e["decode"], e["legacy 640px+crops"], frames)
    row("(a5) reference + quadrants (fast option)", f["decode"], f["reference+quadrants"], frames)
    row("(a6) thorough reference: + regions", g["decode"], g["thorough reference"], frames)
    row("(a7) thorough copy: burst+dihedral+regions", k["decode"], k["thorough copy"], frames)
    row("(b) key frames vs keyframes_only", b["keyframe decode"], b["keyframes fingerprint"], keyframes)
    print(f"{'video':40} {'decode f/s':>10} {'decode xRT':>10} {'ours xRT':>9} {'ratio':>6} "
          f"{'CPU: dec xRT':>12} {'ours xRT':>9} {'ratio':>6}")  # fmt: skip
    for label, fps_, dx, ox, r, dcx, ocx, rc in rows:
        print(f"{label:40} {fps_:10.0f} {dx:10.1f} {ox:9.1f} {r:6.2f} {dcx:12.1f} {ocx:9.1f} {rc:6.2f}")
    print(f"  frames decoded {frames}, PDQ samples (1 fps + scene cuts) {samples}, key frames {keyframes}; "
          f"target ratio >= 0.80 (a2, fast-mode references), >= 0.25 (a6, a7: thorough mode)\n")  # fmt: skip
    report["video"] = [dict(zip(["case", "decode_fps", "decode_xrt", "ours_xrt", "ratio_wall", "decode_cpu_xrt",
                                 "ours_cpu_xrt", "ratio_cpu"], r)) for r in rows]  # fmt: skip

    if args.video_only:
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
        return
    song = work / "song-120s.wav"
    if not song.exists():
        make_audio(song, seconds=120, seed=2)
    aac = work / "song-120s.m4a"
    if not aac.exists():
        transcode_audio(song, aac)
    au = pair("wav", lambda: fingerprint_audio(song), "aac", lambda: fingerprint_audio(aac), args.repeat)
    print(f"{'audio (120 s melody)':40} {'wall xRT':>10} {'CPU xRT':>10} {'items':>9}")
    for name in ("wav", "aac"):
        r = au[name]
        print(f"{'(c) fingerprint_audio ' + name.upper():40} {120 / r['wall_s']:10.0f} {120 / r['cpu_s']:10.0f} "
              f"{len(r['result']):9d}")  # fmt: skip
    report["audio"] = {n: {"wall_xrt": 120 / au[n]["wall_s"], "cpu_xrt": 120 / au[n]["cpu_s"]} for n in au}

    texts = []
    for i in range(args.scripts):
        p = make_script(work / "scripts" / f"s{i}.fountain", title=f"Script {i}", author="Bench", scenes=12, seed=i)
        texts.append(p.read_text(encoding="utf-8"))
    words = sum(len(t.split()) for t in texts)
    tx = pair("text", lambda: [fingerprint_text_string(t) for t in texts],
              "text again", lambda: [fingerprint_text_string(t) for t in texts], max(1, args.repeat // 2))  # fmt: skip
    wall = min(tx["text"]["wall_s"], tx["text again"]["wall_s"])
    cpu = min(tx["text"]["cpu_s"], tx["text again"]["cpu_s"])
    print(f"\n{'text':40} {'docs/s':>10} {'words/s':>10} {'CPU docs/s':>10}")
    print(f"{'(d) fingerprint_text_string':40} {len(texts) / wall:10.0f} {words / wall:10.0f} {len(texts) / cpu:10.0f}")
    print(f"  {len(texts)} generated 12-scene scripts, {words / len(texts):.0f} words each on average")
    report["text"] = {"docs_per_s": len(texts) / wall, "words_per_s": words / wall, "cpu_docs_per_s": len(texts) / cpu}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def soundtrack(args: argparse.Namespace) -> None:
    """(a5) and (e): what a fast reference costs with its soundtrack's prints, against decode-only."""
    work = args.workdir or Path(tempfile.mkdtemp(prefix="rr-fp-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    film = work / f"film-{args.seconds:g}s-{args.fps}fps-{args.bitrate}-sound.mp4"
    if not film.exists():
        make_film(film, seconds=args.seconds, fps=args.fps, size=(1280, 720), scenes=6, seed=1, grain=6,
                  bitrate=args.bitrate, gop=2 * args.fps, with_audio=True)  # fmt: skip
    th, rt = args.threads, args.seconds
    print(f"# fingerprint benchmark (soundtrack) — {machine()}")
    print(f"film: 1280x720 H.264 + mono AAC 48 kHz, {args.fps} fps, {args.seconds:g} s; decoder threads={th}; "
          f"median of {args.repeat}; CPU = process CPU time; baseline: video decode-only of the same file\n")

    def video() -> object:
        return fingerprint_video(film, threads=th, crop_variants=REFERENCE_CROPS, fps=REFERENCE_FPS,
                                 regions="quadrants")

    def before() -> object:  # what fingerprint_file did before: open to check for sound, then Chromaprint
        v = video()
        with av.open(str(film)) as c:
            has = bool(c.streams.audio)
        return v, fingerprint_audio(film) if has else None

    cases = [("(a5) reference + quadrants (video only)", video),
             ("(e1) + soundtrack Chromaprint (before)", before),
             ("(e2) + Chromaprint and landmarks (now)",
              lambda: fingerprint_file(film, "video", crop_variants=REFERENCE_CROPS, fps=REFERENCE_FPS,
                                       regions="quadrants", landmarks=True))]
    print(f"{'fast reference print':40} {'decode xRT':>10} {'ours xRT':>9} {'ratio':>6} "
          f"{'CPU: dec xRT':>12} {'ours xRT':>9} {'ratio':>6}")
    out = []
    for label, fn in cases:
        r = pair("decode", lambda: decode_only(film, th), "ours", fn, args.repeat)
        d, o = r["decode"], r["ours"]
        out.append({"case": label, "ratio_wall": d["wall_s"] / o["wall_s"], "ratio_cpu": d["cpu_s"] / o["cpu_s"]})
        print(f"{label:40} {rt / d['wall_s']:10.1f} {rt / o['wall_s']:9.1f} {d['wall_s'] / o['wall_s']:6.2f} "
              f"{rt / d['cpu_s']:12.1f} {rt / o['cpu_s']:9.1f} {d['cpu_s'] / o['cpu_s']:6.2f}")
    pcm = decode_mono(film)  # the landmark pass alone, on the decoded soundtrack (not timed)
    lm = pair("landmarks", lambda: landmarks_of_samples(pcm), "chromaprint", lambda: fingerprint_audio(film),
              max(args.repeat, 5))
    dec = statistics.median(timed(lambda: decode_only(film, th))[1] for _ in range(args.repeat))
    for name, what in (("landmarks", "landmark print of the decoded soundtrack"),
                       ("chromaprint", "soundtrack decode + Chromaprint")):
        cpu = lm[name]["cpu_s"]
        print(f"  {what}: {1000 * cpu:.0f} ms CPU = {100 * cpu / dec:.1f} % of video decode-only CPU")
        out.append({"case": what, "cpu_s": cpu, "share_of_decode_cpu": cpu / dec})
    r = pair("decode", lambda: decode_only(film, th, sound=True), "ours", cases[2][1], args.repeat)
    d, o = r["decode"], r["ours"]
    print(f"{'(e3) = (e2) against decoding both streams':40} {rt / d['wall_s']:10.1f} {rt / o['wall_s']:9.1f} "
          f"{d['wall_s'] / o['wall_s']:6.2f} {rt / d['cpu_s']:12.1f} {rt / o['cpu_s']:9.1f} "
          f"{d['cpu_s'] / o['cpu_s']:6.2f}")
    out.append({"case": "(e3)", "ratio_wall": d["wall_s"] / o["wall_s"], "ratio_cpu": d["cpu_s"] / o["cpu_s"]})
    print("  target ratio >= 0.80 (fast-mode references)")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "soundtrack": out}, indent=2))


if __name__ == "__main__":
    main()
