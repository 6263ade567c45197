"""A reelrights service's client, usable from Python and by the CLI (``--server URL``).

:class:`Client` speaks the service's HTTP interface (docs/service.md): it submits statements
signed on this machine, reads the static log, proofs and lookups, retries what is safe to retry
and turns problem details back into the library's errors. Private keys never pass through it:
what it sends is signed statements only.

A party's home that follows a server (``reelrights join``) keeps a read-only replica of the
log, synced from the server's tiles: :mod:`reelrights.replica.sync` and
:mod:`reelrights.replica.remote`.
"""

from __future__ import annotations

from .http import Client, LogInfo, Submitted, check_server_url
from .problems import ServiceError, error_from_problem

__all__ = ["Client", "LogInfo", "ServiceError", "Submitted", "check_server_url",
           "error_from_problem"]
