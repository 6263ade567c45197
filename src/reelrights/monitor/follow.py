"""``reelrights monitor``: follow a log through its tiles, verify everything, report.

Each poll (:meth:`Monitor.poll`):

1. fetch the server's checkpoint and open it with the log key (and the witness policy);
2. compare it with every checkpoint this monitor ever kept (its folder's ``checkpoints/``):
   one of a size the monitor has verified must have the root of the monitor's own tree at that
   size; a larger one must extend the last verified checkpoint by a consistency proof the
   server gives. Anything else is a **split view**: both notes are written to
   ``split-views/`` as evidence, reported, and the monitor stops (exit 1) without advancing;
3. read the new entries from the entry bundles, hash them onto its own tree (the root must be
   the checkpoint's), and verify each one: a v2 leaf of the log's registry, log time never
   decreasing, the signature under its actor's key (:func:`reelrights.verify.keys.key_at`,
   from the log's own ``party.registered`` statements);
4. with ``--party``, report every statement that touches the party and that another party
   signed (:class:`~reelrights.monitor.touches.PartyWatch`).

The folder (``--state``) holds ``state.json`` (written whole, then renamed), ``leaves.bin``
(every leaf hash, to compute the tree at any size) and ``checkpoints/`` (every checkpoint
seen). Events are dicts: ``checkpoint``, ``touch``, ``split_view``, ``verification_failed``.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..core.merkle import CompactRange, leaf_hash
from ..core.statements import decode_entry
from ..core.tiles import TILE_WIDTH
from ..errors import BadInput, ReelrightsError, VerificationError
from ..log.tiled import read_bundle
from ..verify.consistency import check_consistent
from ..verify.entries import check_signature
from ..verify.keys import KeyBook
from ..verify.trust import LogTrust, TrustedCheckpoint
from .server import LogServer
from .touches import PartyWatch

__all__ = ["Monitor"]

Event = dict[str, Any]


def _cp_json(t: TrustedCheckpoint) -> dict[str, Any]:
    return {"size": t.checkpoint.size, "root": t.checkpoint.root.hex(),
            "note": t.note.decode("utf-8")}


class Monitor:
    """A monitor's folder and what it has verified so far."""

    def __init__(self, state_dir: Path, trust: LogTrust, party: str | None = None) -> None:
        self.dir = Path(state_dir)
        self.trust = trust
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "checkpoints").mkdir(exist_ok=True)
        self._leaves = self.dir / "leaves.bin"
        state = self._load()
        if state.get("log_key", trust.log.vkey) != trust.log.vkey:
            raise BadInput(f"{self.dir} follows the log key {state['log_key']}, not "
                           f"{trust.log.vkey}; use another --state folder")
        if party and state.get("watch") and state["watch"]["party"] != party:
            raise BadInput(f"{self.dir} watches {state['watch']['party']}, not {party}; use "
                           "another --state folder")
        self.size: int = state.get("size", 0)
        self.range = CompactRange.from_hashes(
            self.size, [bytes.fromhex(h) for h in state.get("range", [])])
        self.registry: str | None = state.get("registry")
        self.last_time: str | None = state.get("last_time")
        self.book = KeyBook(trust.log.public_key)
        for actor, keys in state.get("parties", {}).items():
            self.book.parties[actor] = [(i, base64.b64decode(k)) for i, k in keys]
        self.book.operator = [(i, base64.b64decode(k)) for i, k in state.get("operator", [])]
        self.watch = (PartyWatch.from_json(state["watch"]) if state.get("watch")
                      else PartyWatch(party) if party else None)
        self.verified_note: str | None = state.get("checkpoint")

    # -- the folder --------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        path = self.dir / "state.json"
        if not path.exists():
            return {}
        try:
            doc = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            raise BadInput(f"{path} is not a monitor's state; remove the folder to start "
                           "again") from None
        return doc if isinstance(doc, dict) else {}

    def _save(self) -> None:
        doc = {"log_key": self.trust.log.vkey, "size": self.size,
               "range": [h.hex() for h in self.range.hashes], "registry": self.registry,
               "last_time": self.last_time, "checkpoint": self.verified_note,
               "parties": {a: [[i, base64.b64encode(k).decode()] for i, k in v]
                           for a, v in self.book.parties.items()},
               "operator": [[i, base64.b64encode(k).decode()] for i, k in self.book.operator],
               "watch": self.watch.to_json() if self.watch else None}
        tmp = self.dir / "state.json.tmp"
        tmp.write_text(json.dumps(doc), "utf-8")
        os.replace(tmp, self.dir / "state.json")

    def _keep(self, t: TrustedCheckpoint) -> None:
        path = self.dir / "checkpoints" / f"{t.checkpoint.size}-{t.checkpoint.root.hex()[:16]}"
        if not path.exists():
            path.write_bytes(t.note)

    def seen(self) -> list[TrustedCheckpoint]:
        out = []
        for p in sorted((self.dir / "checkpoints").iterdir()):
            try:
                out.append(self.trust.open(p.read_bytes()))
            except ReelrightsError:
                continue  # kept under another witness policy: its log signature was checked
        return out

    def root_at(self, size: int) -> bytes:
        """The root of the monitor's own verified tree at ``size`` (<= its verified size)."""
        cr = CompactRange()
        with self._leaves.open("rb") as f:
            cr.extend(f.read(32 * size)[i:i + 32] for i in range(0, 32 * size, 32))
        return cr.root()

    # -- one poll ----------------------------------------------------------------------------

    def _split(self, server: str, a: TrustedCheckpoint, b: TrustedCheckpoint,
               detail: str) -> Event:
        ev = {"event": "split_view", "server": server, "a": _cp_json(a), "b": _cp_json(b),
              "detail": detail}
        folder = self.dir / "split-views"
        folder.mkdir(exist_ok=True)
        n = len(list(folder.iterdir()))
        (folder / f"{n:04d}.json").write_text(json.dumps(ev, indent=2), "utf-8")
        return ev

    def check_against_seen(self, server: LogServer, new: TrustedCheckpoint) -> Event | None:
        """A split-view event when ``new`` contradicts a checkpoint seen before, else None."""
        last = self.trust.open(self.verified_note.encode()) if self.verified_note else None
        for old in [*self.seen(), *([last] if last else [])]:
            small, big = sorted((old, new), key=lambda t: t.checkpoint.size)
            if small.checkpoint.size == big.checkpoint.size:
                if small.checkpoint.root != big.checkpoint.root:
                    return self._split(server.url, old, new, "two checkpoints of size "
                                       f"{small.checkpoint.size} with different roots")
                continue
            if 0 < small.checkpoint.size <= self.size and \
                    self.root_at(small.checkpoint.size) != small.checkpoint.root:
                return self._split(server.url, old, new, f"checkpoint size "
                                   f"{small.checkpoint.size} is not the verified tree")
        if last is not None and new.checkpoint.size > last.checkpoint.size:
            try:
                proof = server.consistency(last.checkpoint.size, new.checkpoint.size)
                check_consistent(last, new, proof)
            except ReelrightsError as exc:
                return self._split(server.url, last, new, exc.message)
        return None

    def poll(self, server: LogServer, extra: Sequence[bytes] = ()) -> list[Event]:
        """One round: see the module docstring. Never advances past a problem."""
        events: list[Event] = []
        try:
            new = self.trust.open(server.checkpoint())
            notes = [self.trust.open(n) for n in extra]
        except ReelrightsError as exc:
            return [{"event": "verification_failed", "server": server.url,
                     "detail": exc.message}]
        for t in [*notes, new]:
            split = self.check_against_seen(server, t)
            if split is not None:
                self._keep(t)
                return [split]
            self._keep(t)
        if new.checkpoint.size < self.size:
            return events
        try:
            events += self._read(server, new)
        except ReelrightsError as exc:
            events.append({"event": "verification_failed", "server": server.url,
                           "detail": exc.message})
            return events
        self.verified_note = new.note.decode("utf-8")
        self._save()
        events.append({"event": "checkpoint", "server": server.url, **_cp_json(new),
                       "witnesses": [n for n, _ in new.witnesses]})
        return events

    def _read(self, server: LogServer, cp: TrustedCheckpoint) -> list[Event]:
        end, start = cp.checkpoint.size, self.size
        events: list[Event] = []
        cr = self.range.copy()
        hashes: list[bytes] = []
        staged = _Staged(self)
        for k in range(start // TILE_WIDTH, (end + TILE_WIDTH - 1) // TILE_WIDTH):
            width = min(TILE_WIDTH, end - k * TILE_WIDTH)
            entries, why = read_bundle(server.tiles, k, width)
            if why is not None or len(entries) < width:
                raise VerificationError(f"entry bundle {k} is damaged ({why or 'short'})")
            for j, entry in enumerate(entries[:width]):
                index = k * TILE_WIDTH + j
                if index < start:
                    continue
                lh = leaf_hash(entry)
                cr.append(lh)
                hashes.append(lh)
                events += staged.check(index, entry)
        if cr.root() != cp.checkpoint.root:
            raise VerificationError(f"the entries {start} to {end - 1} the server's tiles hold "
                                    "do not give its checkpoint's root")
        staged.commit()
        with self._leaves.open("ab") as f:
            f.write(b"".join(hashes))
        self.range, self.size = cr, end
        return events


class _Staged:
    """Entry checks of one poll, applied to the monitor only when the whole batch verifies."""

    def __init__(self, m: Monitor) -> None:
        self.m = m
        self.book = KeyBook(m.book.log_key, {a: list(v) for a, v in m.book.parties.items()},
                            dict(m.book.kinds), list(m.book.operator))
        self.registry = m.registry
        self.last_time = m.last_time
        self.watch = PartyWatch.from_json(m.watch.to_json()) if m.watch else None

    def check(self, index: int, entry: bytes) -> list[Event]:
        try:
            s = decode_entry(entry)
        except ReelrightsError as exc:
            raise VerificationError(f"entry {index}: {exc.message}") from None
        if s.log_time is None:
            return []  # a v1 entry: before the registry existed, no signer key to check
        if self.registry is None:
            if s.type != "registry.established":
                raise VerificationError(f"entry {index}: a v2 entry before registry.established")
            if str(s.body.get("log_key", "")).strip() != self.m.trust.log.vkey:
                raise VerificationError(f"entry {index}: registry.established names another "
                                        "log key")
            self.registry = s.registry
        elif s.registry != self.registry:
            raise VerificationError(f"entry {index}: signed for registry {s.registry}, not "
                                    f"{self.registry}")
        if self.last_time is not None and s.log_time < self.last_time:
            raise VerificationError(f"entry {index}: log time {s.log_time} is before the "
                                    f"previous entry's {self.last_time}")
        self.last_time = s.log_time
        self.book.learn(index, s)
        try:
            check_signature(self.book, index, s)
        except ReelrightsError as exc:
            raise VerificationError(exc.message) from None
        why = self.watch.touches(s) if self.watch else []
        if not why:
            return []
        return [{"event": "touch", "party": self.watch.party if self.watch else None,
                 "index": index, "type": s.type, "actor": s.actor, "statement_id": s.id,
                 "log_time": s.log_time, "why": "; ".join(why)}]

    def commit(self) -> None:
        self.m.book, self.m.registry, self.m.last_time = self.book, self.registry, self.last_time
        self.m.watch = self.watch


def run_monitor(monitor: Monitor, server: LogServer, emit: Callable[[Event], None], *,
                once: bool, interval: float, extra: Sequence[bytes] = ()) -> int:
    """Poll (once, or every ``interval`` seconds) and emit events; the exit code: 1 after a
    split view or a failed verification, else 0."""
    import time

    while True:
        events = monitor.poll(server, extra)
        for ev in events:
            emit(ev)
        bad = any(ev["event"] in ("split_view", "verification_failed") for ev in events)
        if once or bad:
            return 1 if bad else 0
        time.sleep(interval)
