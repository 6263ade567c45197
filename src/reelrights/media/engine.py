"""Execution engines: where whole-file jobs (hashing, fingerprinting) run.

A job is a picklable top-level function applied to one picklable argument; it must catch its own
errors and return them as data (see :mod:`reelrights.media.jobs`), so one bad file never stops a
batch. The caller (the parent process) gets ``(argument, result)`` pairs as they complete and
alone writes to the database and the indexes, so workers need no database access.

* :class:`LocalEngine`: in this process, one job at a time (tests, single files, debugging).
* :class:`PoolEngine` (the default): a :class:`~concurrent.futures.ProcessPoolExecutor` with
  ``workers`` processes, started only when the work pays for them (more than one file and more
  than :data:`INLINE_BYTES` to read; a one-file scan runs in this process, as starting a fork
  server and its workers costs seconds on a loaded machine), forked from a ``forkserver`` that
  has imported the media modules once (so no thread, database or FAISS state of the parent is
  forked, and later pools start warm). A worker that dies (a decoder crash on a hostile file)
  fails only the jobs it ran: the others are retried one at a time in a fresh pool, and the one
  that kills its worker again is reported as failed. (Work run in-process has no such
  isolation: a decoder crash there ends the command.)
* :class:`RayEngine`: Ray tasks, on the cluster at ``RAY_ADDRESS`` (or ``address``), else on a
  local Ray instance with ``workers`` CPUs. Ray is an optional extra, imported only here.

:func:`make_engine` picks one: ``--engine`` when given, else ``ray`` when ``RAY_ADDRESS`` is set,
else ``pool``.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from ..errors import BadInput

__all__ = ["ENGINES", "INLINE_BYTES", "Engine", "FileJob", "FileResult", "LocalEngine", "PoolEngine", "RayEngine",
           "crashed_result", "file_job", "make_engine"]

ENGINES = ("local", "pool", "ray")
#: A pool is started only for work above this many bytes of files (hash-only jobs weigh 1/16:
#: hashing reads ~1 GB/s, decoding and fingerprinting far less). Below it, and for a single
#: file, the jobs run in this process: starting the fork server and importing the media
#: modules in it costs 1-2 s on an idle 2-core machine and up to ~10 s on a loaded one.
INLINE_BYTES = 32 << 20
# Imported once by the fork server, so every worker (and every later pool) starts warm.
_PRELOAD = ["reelrights.media.engine", "reelrights.media.fingerprint"]
A = TypeVar("A")
R = TypeVar("R")
Crashed = Callable[[Any, str], Any]


class Engine:
    """Runs ``fn`` over arguments and yields ``(argument, result)`` as each job completes."""

    name = "engine"
    workers = 1

    def run(self, fn: Callable[[A], R], args: Iterable[A],
            crashed: Crashed | None = None) -> Iterator[tuple[A, R]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release workers (a no-op for engines that hold none)."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalEngine(Engine):
    name = "local"

    def run(self, fn: Callable[[A], R], args: Iterable[A],
            crashed: Crashed | None = None) -> Iterator[tuple[A, R]]:
        for a in args:
            yield a, fn(a)


class PoolEngine(Engine):
    name = "pool"

    def __init__(self, workers: int = 2, *, inline: bool = True) -> None:
        self.workers = max(1, workers)
        self.inline = inline  # False: always start worker processes (crash isolation, tests)

    def _small(self, pending: list[Any]) -> bool:
        """True when ``pending`` is too little work to pay for starting worker processes: one
        file, or files of at most :data:`INLINE_BYTES` together. Jobs without a ``path`` (any
        other function's arguments) always go to the pool."""
        if not self.inline:
            return False
        total = 0
        for a in pending:
            path = getattr(a, "path", None)
            if not isinstance(path, str):
                return False
            try:
                size = os.path.getsize(path)
            except OSError:
                size = 0  # the job reports the missing file itself
            total += size // 16 if getattr(a, "hash_only", False) else size
        return len(pending) == 1 or total <= INLINE_BYTES

    def _pool(self, workers: int) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ProcessPoolExecutor(workers, mp_context=ctx)

    def run(self, fn: Callable[[A], R], args: Iterable[A],
            crashed: Crashed | None = None) -> Iterator[tuple[A, R]]:
        pending = list(args)
        if not pending:
            return
        if self._small(pending):
            for a in pending:
                yield a, fn(a)
            return
        suspects: list[Any] = []
        pool = self._pool(min(self.workers, len(pending)))
        try:
            # Keep at most 2 jobs per worker in flight: results stream back while the rest wait.
            it = iter(pending)
            running: dict[Any, Any] = {}

            def top_up() -> None:
                while len(running) < 2 * self.workers:
                    try:
                        a = next(it)
                    except StopIteration:
                        return
                    running[pool.submit(fn, a)] = a

            top_up()
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    a = running.pop(fut)
                    try:
                        yield a, fut.result()
                    except BrokenProcessPool:
                        suspects.append(a)
                if suspects:  # the pool is dead: everything not yet finished is a suspect
                    suspects.extend(running.values())
                    suspects.extend(it)
                    running.clear()
                    break
                top_up()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        for a in suspects:  # one at a time, so a crash is pinned on the job that caused it
            solo = self._pool(1)
            try:
                yield a, solo.submit(fn, a).result()
            except BrokenProcessPool:
                if crashed is None:
                    raise
                yield a, crashed(a, "the worker process crashed on this file")
            finally:
                solo.shutdown(wait=True, cancel_futures=True)


class RayEngine(Engine):
    name = "ray"

    def __init__(self, workers: int = 2, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise BadInput("--engine ray needs Ray; install the extra with "
                           "`pip install 'reelrights[ray]'` or use --engine pool") from None
        self.ray = ray
        self.workers = max(1, workers)
        self._started = False
        address = address or os.environ.get("RAY_ADDRESS")
        if not ray.is_initialized():
            if address:
                ray.init(address=address, log_to_driver=False)  # a cluster's own settings
            else:
                ray.init(num_cpus=self.workers, include_dashboard=False, log_to_driver=False)
                self._started = True  # ours: shut it down on close

    def run(self, fn: Callable[[A], R], args: Iterable[A],
            crashed: Crashed | None = None) -> Iterator[tuple[A, R]]:
        ray = self.ray
        remote = ray.remote(num_cpus=1, max_retries=0)(fn)
        it = iter(args)
        running: dict[Any, Any] = {}
        limit = 2 * self.workers
        while True:
            while len(running) < limit:
                try:
                    a = next(it)
                except StopIteration:
                    break
                running[remote.remote(a)] = a
            if not running:
                return
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                a = running.pop(ref)
                try:
                    yield a, ray.get(ref)
                except ray.exceptions.RayError as exc:  # a dead worker, not an error in fn
                    if crashed is None:
                        raise
                    yield a, crashed(a, f"the Ray task failed ({type(exc).__name__})")

    def close(self) -> None:
        if self._started and self.ray.is_initialized():
            self.ray.shutdown()
            self._started = False


def make_engine(name: str | None = None, workers: int | None = None,
                address: str | None = None) -> Engine:
    """The engine ``name`` (local, pool or ray); by default ray if RAY_ADDRESS is set, else pool."""
    name = name or ("ray" if (address or os.environ.get("RAY_ADDRESS")) else "pool")
    n = workers if workers is not None else min(2, os.cpu_count() or 1)
    if n < 1:
        raise BadInput(f"--workers {n}: give at least 1")
    if name == "local":
        return LocalEngine()
    if name == "pool":
        return PoolEngine(n)
    if name == "ray":
        return RayEngine(n, address)
    raise BadInput(f"--engine {name!r} is not one of {', '.join(ENGINES)}")


# ---------------------------------------------------------------------------------------------
# The jobs: one whole file each, errors returned as data
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileJob:
    """Hash (and check), probe if the category is unknown, then fingerprint one file."""

    path: str
    category: str | None = None        # None: probe the file to learn it
    expect_sha256: str | None = None   # the file must still have these bytes
    keyframes_only: bool = False
    hash_only: bool = False
    crops: bool = False                # also hash centre crops of video frames (references)
    mode: str = "fast"                 # "thorough": region hashes too (docs/scan.md, modes)
    aspects: tuple[float, ...] = ()    # copies: the registered pictures' aspects (aspect cuts)


@dataclass
class FileResult:
    path: str
    sha256: str | None = None
    size: int = 0
    facts: dict[str, Any] | None = None          # probe facts, when the job probed
    prints: dict[str, bytes] = field(default_factory=dict)  # kind -> serialized print
    #: kinds: video, vcrop (centre-crop variants of the video frames), audio, landmark (audio
    #: files and soundtracks: a LandmarkPrint for a copy, the compact LandmarkHashes for a
    #: reference), text
    error: str | None = None                     # one line: why this file has no prints
    cpu_s: float = 0.0                           # the worker's CPU time on this file


def file_job(job: FileJob) -> FileResult:
    """Run in a worker: never raises for a bad file (the error is the result)."""
    from ..errors import ReelrightsError
    from .probe import probe_file, sha256_file

    t0 = time.process_time()
    out = FileResult(job.path)
    category: str | None
    try:
        if job.category is None and not job.hash_only:
            facts = probe_file(job.path)
            out.facts = facts.to_json()
            out.sha256, out.size, category = facts.sha256, facts.size, facts.category
        else:
            out.sha256, out.size = sha256_file(job.path)
            category = job.category
        if job.expect_sha256 and out.sha256 != job.expect_sha256:
            raise BadInput(f"{job.path}: the file changed since it was recorded (SHA-256 "
                           f"{out.sha256[:12]}..., expected {job.expect_sha256[:12]}...); pass "
                           "the file of the registered asset")
        if not job.hash_only and category is not None:
            from .fingerprint import (
                COPY_BURST,
                REFERENCE_CROPS,
                REFERENCE_FPS,
                fingerprint_file,
                region_mode,
                split_crops,
            )

            crops = job.crops and category == "video"  # references: crop variants, one decode
            # references: 8 fps and crop variants; copies: 1 fps, bursts of 3, dihedral hashes;
            # both: region hashes for the mode (fast: quadrants; thorough: and windows or insets)
            regions = region_mode(job.mode, reference=job.crops)
            fp = fingerprint_file(job.path, category, keyframes_only=job.keyframes_only,
                                  crop_variants=REFERENCE_CROPS if crops else (),
                                  fps=REFERENCE_FPS if job.crops else 1.0,
                                  dihedral=not job.crops, burst=1 if job.crops else COPY_BURST,
                                  regions=regions if category == "video" else "",
                                  aspects=() if job.crops else job.aspects,
                                  landmarks=True)  # audio files and soundtracks: one decode
            variants = None
            if fp.video is not None and crops:
                video, variants = split_crops(fp.video)
                fp = replace(fp, video=video)
            for kind in ("video", "audio", "text"):
                p = getattr(fp, kind, None)
                if p is not None:
                    out.prints[kind] = p.to_bytes()
            if fp.landmark is not None:  # found after pitch/tempo changes and 0 dB mixes
                out.prints["landmark"] = (fp.landmark.compact() if job.crops else fp.landmark).to_bytes()
            if job.crops and category == "image":  # a registered still: its crop grid
                from .fingerprint.stills import GRID_REFERENCE, grid_print, load_rgb

                variants = grid_print(load_rgb(job.path), GRID_REFERENCE)
            if variants is not None and len(variants.hashes):
                out.prints["vcrop"] = variants.to_bytes()
            if not out.prints:
                out.error = f"{job.path}: no video, audio or text to fingerprint in it"
    except ReelrightsError as exc:
        out.error = " ".join(exc.message.splitlines())
    except Exception as exc:  # noqa: BLE001 - a decoder's surprise is still one bad file
        out.error = f"{job.path}: cannot be fingerprinted ({type(exc).__name__}: {exc})"
    out.cpu_s = time.process_time() - t0
    return out


def crashed_result(job: FileJob, why: str) -> FileResult:
    return FileResult(job.path, error=f"{job.path}: {why}; check the file is not corrupt")
