"""The service levels, exported at ``/metrics`` (prometheus-client); docs/deploy.md lists the
alerts on them. Each concern updates its own metrics here; nothing else defines any."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = ["APPENDS", "CHECKPOINT_AGE", "DISK_USED", "RECEIPT_TO_CHECKPOINT", "REFUSALS",
           "REQUESTS"]

REQUESTS = Counter("reelrights_http_requests_total", "HTTP requests answered",
                   ["route", "status"])
APPENDS = Counter("reelrights_appends_total", "Statements appended to the log")
REFUSALS = Counter("reelrights_refusals_total", "Statements refused, by reason", ["reason"])
RECEIPT_TO_CHECKPOINT = Histogram(
    "reelrights_receipt_to_published_checkpoint_seconds",
    "From a statement's arrival to the published checkpoint that includes it",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10))
CHECKPOINT_AGE = Gauge("reelrights_checkpoint_age_seconds",
                       "Age of the latest published checkpoint")
DISK_USED = Gauge("reelrights_disk_used_ratio", "Used fraction of the disk holding the home")
