"""A home rebuilt from a log's tiles: a read-only replica, unless the operator gave it the log's
signing key (disaster recovery).

A replica holds the log's public note key in ``<home>/log.vkey`` instead of ``keys/log.pem``.
Every read works as in the log's own home; appending is refused in one line, before anything is
written, because a replica cannot sign checkpoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..core.note import NoteVerifier
from ..errors import BadInput
from ..home import Home
from ..ledger import Ledger, Receipt
from ..log.database_log import DatabaseLog
from ..store.db import Database

__all__ = ["VKEY_FILE", "ReplicaLedger", "is_replica", "log_verifier_key", "open_local_ledger",
           "public_log_vkey"]

#: The replica's copy of the log's note verifier key, beside home.json.
VKEY_FILE = "log.vkey"


def vkey_path(home: Home) -> Path:
    return home.vkey_path


def log_verifier_key(home: Home) -> str:
    """The note verifier key of the home's log (``<origin>+<key id>+<base64>``): from the log's
    signing key, or, in a read-only replica, from the public key it was rebuilt with."""
    return home.log_vkey()


def public_log_vkey(home: Home) -> str:
    """The log's public key as a verifier uses it: ``<home>/log.vkey``, the file a replica or a
    party's home pins. The log's own home writes it once from its signing key (public, 0644),
    so every verification afterwards reads only public material."""
    path = vkey_path(home)
    if path.exists():
        return path.read_text("utf-8").strip()
    vkey = home.log_vkey()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(vkey + "\n", "utf-8")
    tmp.chmod(0o644)
    tmp.replace(path)
    return vkey


def is_replica(home: Home) -> bool:
    return not home.log_key_path.exists() and vkey_path(home).exists()


class ReplicaLedger(Ledger):
    """The ledger of a read-only replica: reads as usual; every submission is refused before
    anything is checked or written."""

    def submit(self, entries: Sequence[bytes]) -> list[Receipt]:  # noqa: ARG002
        raise BadInput(f"{self.mirror_dir.parent if self.mirror_dir else 'this home'} is a "
                       f"read-only replica of {self.log.origin}: it has no log signing key, so "
                       "it cannot append; submit to the log's own registry, or rebuild with "
                       "--log-key PEM (the operator's recovery)")


def open_local_ledger(home: Home) -> Ledger:
    """The ledger of a home that follows no server: the log's own, or, for a read-only replica,
    one that refuses every submission (a party's home: :func:`.remote.open_ledger`)."""
    if not is_replica(home):
        return Ledger.open(home)
    vkey = log_verifier_key(home)
    return ReplicaLedger(Database(home.database_url), DatabaseLog(home.origin, None, vkey=vkey),
                         home.log_dir, operator_key=NoteVerifier(vkey).public_key)
