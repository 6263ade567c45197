"""The service levels, exported at ``/metrics`` (prometheus-client); docs/deploy.md lists the
alerts on them. Each concern updates its own metrics here; nothing else defines any.

Several uvicorn workers: set ``PROMETHEUS_MULTIPROC_DIR`` (an empty folder, see
:func:`prepare_multiprocess`) before the workers start, so that it is set when
``prometheus_client`` is first imported in each of them. Every worker then writes its samples
to files there and a scrape of any one of them (:func:`exposition`) adds up all of them.
Gauges are set on scrape by whichever worker answers, so they keep the most recent value.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram

__all__ = ["APPENDS", "CHECKPOINT_AGE", "DISK_USED", "MULTIPROC_ENV", "RECEIPT_TO_CHECKPOINT",
           "REFUSALS", "REQUESTS", "exposition", "observe_home", "prepare_multiprocess"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("reelrights_http_requests_total", "HTTP requests answered",
                   ["route", "status"])
APPENDS = Counter("reelrights_appends_total", "Statements appended to the log")
REFUSALS = Counter("reelrights_refusals_total", "Statements refused, by reason", ["reason"])
RECEIPT_TO_CHECKPOINT = Histogram(
    "reelrights_receipt_to_published_checkpoint_seconds",
    "From a statement's arrival to the published checkpoint that includes it",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10))
CHECKPOINT_AGE = Gauge("reelrights_checkpoint_age_seconds",
                       "Age of the latest published checkpoint", multiprocess_mode="mostrecent")
DISK_USED = Gauge("reelrights_disk_used_ratio", "Used fraction of the disk holding the home",
                  multiprocess_mode="mostrecent")


def prepare_multiprocess(folder: Path) -> None:
    """Empty ``folder`` (created 0700 if missing) and point ``PROMETHEUS_MULTIPROC_DIR`` at it.

    Call it in the parent process before it starts the workers (which inherit the variable), and
    before anything imports ``prometheus_client`` in a process that serves itself."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(mode=0o700, parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)


def exposition() -> tuple[bytes, str]:
    """(body, content type) of a scrape: this process's metrics, or every worker's when
    ``PROMETHEUS_MULTIPROC_DIR`` is set."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def observe_home(home: Path, published: Path) -> None:
    """Set the gauges read at scrape time: the age of the checkpoint file published in
    ``published`` (left as it was when there is none yet) and the used fraction of the disk
    holding ``home``."""
    with contextlib.suppress(FileNotFoundError):
        CHECKPOINT_AGE.set(max(0.0, time.time() - (published / "checkpoint").stat().st_mtime))
    disk = shutil.disk_usage(home)
    usable = disk.used + disk.free  # as df's Use%: the root-reserved blocks left out
    DISK_USED.set(disk.used / usable if usable else 0.0)
