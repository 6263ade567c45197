"""A new log that succeeds a log whose key is retired (the compromise procedure).

When the log key may be compromised, the operator (docs/deploy.md, "Compromise of the log key"):

1. freezes writes on the old log (``reelrights service freeze``), so nothing more is signed
   with the old key by the honest service; the old log's last published checkpoint is its last
   good tree head;
2. starts a new log (:func:`succeed`): a new home, a **new origin** and a **new log key**; its
   first entry, ``registry.established``, names the old log in ``predecessor``: the old origin,
   the old note verifier key and the old log's last published checkpoint (the signed note),
   which the body's schema checks under the old key;
3. publishes the new log's key out of band, as for any log, and says which checkpoint of the
   old log it stands on. Anything the old key signed beyond that checkpoint is not part of the
   history the operator vouches for.

:func:`verify_succession` is what a verifier runs: both logs verify from their tiles, the new
log's first entry cites the old log, and the old log verifies at exactly the cited checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalogue import check_body
from ..core.checkpoint import open_checkpoint
from ..core.note import NoteSigner, NoteVerifier
from ..core.statements import decode_entry
from ..errors import BadInput, Conflict, LogIntegrityError
from ..home import Home
from ..ledger import Ledger
from ..log.tiled import TileSource, verify_tiled_log
from ..replica.home import log_verifier_key
from .freeze import writes_frozen
from .never_fork import check_published

__all__ = ["Succession", "predecessor_of", "succeed", "verify_succession"]


def predecessor_of(old: Home) -> dict[str, str]:
    """The ``predecessor`` body of a new log succeeding ``old``: frozen first, its published
    folder brought to its database's head (never fork), its last checkpoint verified."""
    if writes_frozen(old) is None:
        raise Conflict(f"{old.path} still takes writes; freeze it first (reelrights --home "
                       f"{old.path} service freeze --reason TEXT), so that its last checkpoint "
                       "is final")
    check_published(old)
    vkey = log_verifier_key(old)
    note = (old.log_dir / "checkpoint").read_bytes() if (old.log_dir / "checkpoint").exists() \
        else b""
    if not note:
        raise BadInput(f"{old.path} has published no checkpoint; nothing to succeed")
    open_checkpoint(note, NoteVerifier(vkey), origin=old.origin)
    return {"origin": old.origin, "log_key": vkey, "checkpoint": note.decode("utf-8")}


def succeed(old: Home, new_path: Path, *, origin: str,
            registry: str | None = None) -> dict[str, Any]:
    """Create the new home at ``new_path`` (new origin, new log key) whose first entry cites
    ``old``'s last published checkpoint. Returns what a verifier needs to know."""
    predecessor = predecessor_of(old)
    if origin == old.origin:
        raise BadInput(f"--origin {origin} is the old log's; a successor log has a new origin "
                       "(its checkpoints must not be taken for the old log's)")
    if (Home.resolve(new_path) / "home.json").exists():
        raise Conflict(f"{Home.resolve(new_path)} is already a home; the successor starts in "
                       "a new --home")
    home, _ = Home.init(new_path, origin=origin, registry=registry)
    key = home.log_key()
    operator = home.operator_key()
    ledger = Ledger.open(home, establish=False)
    try:
        ledger.establish(home.registry, key, predecessor=predecessor,
                         operator_key=None if operator is None else operator.public_key_bytes)
    finally:
        ledger.close()
        ledger.db.dispose()
    cp = open_checkpoint(predecessor["checkpoint"].encode(), NoteVerifier(predecessor["log_key"]))
    return {"home": str(home.path), "origin": origin, "registry": home.registry,
            "log_key": NoteSigner(origin, key.seed).vkey,
            "predecessor": {"origin": old.origin, "log_key": predecessor["log_key"],
                            "size": cp.size, "root": cp.root.hex()}}


@dataclass
class Succession:
    new_origin: str
    new_size: int
    old_origin: str
    old_size: int

    def summary(self) -> str:
        return (f"{self.new_origin} (size {self.new_size}) succeeds {self.old_origin} at its "
                f"checkpoint of size {self.old_size}; both verify")


def verify_succession(new: TileSource, new_vkey: str, old: TileSource,
                      old_vkey: str) -> Succession:
    """Verify both logs from their tiles and the link between them (module doc)."""
    first: list[bytes] = []

    def keep_first(index: int, entry: bytes) -> None:
        if index == 0:
            first.append(entry)

    report = verify_tiled_log(new, new.read("checkpoint"), new_vkey, entry_check=keep_first)
    if not first:
        raise LogIntegrityError("the new log is empty: it cites no predecessor", 0)
    s = decode_entry(first[0])
    if s.type != "registry.established" or "predecessor" not in s.body:
        raise LogIntegrityError("entry 0 of the new log is not a registry.established "
                                "naming a predecessor", 0)
    check_body(s.type, s.version, s.body, s.actor)  # the cited note verifies under its key
    pred = s.body["predecessor"]
    if pred["log_key"] != NoteVerifier(old_vkey).vkey:
        raise LogIntegrityError(f"the new log cites the predecessor key {pred['log_key']}, "
                                f"not {old_vkey}", 0)
    note = pred["checkpoint"].encode("utf-8")
    cp = open_checkpoint(note, NoteVerifier(old_vkey), origin=pred["origin"])
    verify_tiled_log(old, note, old_vkey)  # the old log, exactly at the cited checkpoint
    return Succession(s.body["origin"], report.size, cp.origin, cp.size)
