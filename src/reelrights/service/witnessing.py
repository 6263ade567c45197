"""The log server's witnessing: it sends the log's checkpoints to its witnesses
(c2sp.org/tlog-witness) and keeps the cosignatures they return (:mod:`reelrights.log.cosigned`),
which ``GET /checkpoint`` then carries. Nothing waits for it: receipts are answered by the write
path alone, and a witness that is down only delays its cosignature.

One task for the log, one loop per witness inside it. Each loop looks at the log's latest
checkpoint every ``interval_s`` (so at most one request per second per witness) and sends it
when it is new, or when ``refresh_s`` passed since the witness last cosigned (a same-size refresh:
the witness's timestamps then bound the log's times). The loop remembers the size the witness
has; a 409 tells it the witness's size, and it sends again at once with a consistency proof from
that size. One server process of a home runs the task (a lock file elects it); the others serve
what it stored.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING

import httpx

from ..core.checkpoint import Checkpoint
from ..core.cosignature import open_cosigned
from ..core.note import NoteVerifier
from ..errors import BadInput, ReelrightsError
from ..log.cosigned import COSIGNED_FILE, CosignedStore
from ..log.mirror import add_cosignatures

if TYPE_CHECKING:
    from ..log.serving import LogServer

__all__ = ["WitnessTarget", "Witnessing", "lock_path", "parse_witness_option",
           "start_witnessing"]

_log = logging.getLogger("reelrights.witnessing")
#: Longest wait after a witness failed (doubling from 1 s).
MAX_BACKOFF_S = 60.0


@dataclass
class WitnessTarget:
    """One witness: its submission prefix URL and its cosignature vkey."""

    url: str
    vkey: str
    #: The size this witness last cosigned for our log, as far as we know (0: unknown).
    size: int = 0
    sent_size: int = -1
    sent_at: float = 0.0
    retry_at: float = 0.0
    failures: int = 0
    cosigned: int = field(default=0)

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.vkey)


def parse_witness_option(value: str) -> tuple[str, str]:
    """``URL=VKEY`` (a vkey's base64 may hold '=', so the split is the first one that leaves a
    valid vkey) -> (url, vkey); BadInput naming the option and the fix."""
    for i, ch in enumerate(value):
        if ch != "=":
            continue
        url, vkey = value[:i].rstrip("/"), value[i + 1:]
        if not url.startswith(("http://", "https://")):
            break
        try:
            v = NoteVerifier(vkey)
        except BadInput:
            continue
        if v.alg != 0x04:
            raise BadInput(f"--witness {value[:60]}: the key must be a cosignature (type 0x04) "
                           "vkey, as `reelrights witness init` prints")
        return url, v.vkey
    raise BadInput(f"--witness {value[:60]!r}: write URL=VKEY, e.g. "
                   "http://127.0.0.1:8081=witness.example/w1+1234abcd+BA...")


class Witnessing:
    """The witnessing task of one log (module doc)."""

    def __init__(self, *, log_key: str, checkpoint: Callable[[], Awaitable[bytes | None]],
                 proof: Callable[[int, int], Awaitable[list[bytes]]], store: CosignedStore,
                 witnesses: list[tuple[str, str]], lock_path: Path | None = None,
                 interval_s: float = 1.0, refresh_s: float = 60.0,
                 on_cosigned: Callable[[bytes], object] | None = None) -> None:
        self.log_key = log_key
        self._checkpoint = checkpoint
        self._proof = proof
        self.store = store
        self.targets = [WitnessTarget(url, vkey) for url, vkey in witnesses]
        self.interval_s = interval_s
        self.refresh_s = refresh_s
        self._lock_path = lock_path
        self._lock_file: IO[bytes] | None = None
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        #: Called (in a worker thread) with the checkpoint and every cosignature it has, after
        #: each new cosignature: the static folder's checkpoint carries them too.
        self._on_cosigned = on_cosigned

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()
        if self._lock_file is not None:
            self._lock_file.close()

    def _elected(self) -> bool:
        """Whether this process holds the home's witnessing lock (takes it if free)."""
        if self._lock_path is None or self._lock_file is not None:
            return True
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self._lock_path, "ab")  # noqa: SIM115 (held for the process's life)
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return False
        self._lock_file = f
        return True

    async def _run(self) -> None:
        while not self._elected():
            await asyncio.sleep(self.refresh_s)
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(10.0), http2=False)
        await asyncio.gather(*(self._follow(t) for t in self.targets))

    async def _follow(self, target: WitnessTarget) -> None:
        while True:
            try:
                await self._round(target)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (a witness's fault never stops the server)
                self._failed(target, f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(self.interval_s)

    def _failed(self, target: WitnessTarget, why: str) -> None:
        target.failures += 1
        wait = min(MAX_BACKOFF_S, 2.0 ** min(target.failures - 1, 6))
        target.retry_at = time.monotonic() + wait
        _log.warning("witness %s: %s (next try in %.0f s)", target.url, why, wait)

    async def _round(self, target: WitnessTarget) -> None:
        now = time.monotonic()
        if now < target.retry_at:
            return
        note = await self._checkpoint()
        if note is None:
            return
        cp = Checkpoint.parse(note[: note.rfind(b"\n\n") + 1])
        if cp.size == 0 or (cp.size == target.sent_size and now - target.sent_at < self.refresh_s):
            return
        for _ in range(2):  # a 409 teaches the witness's size: one more try at once
            status, body = await self._send(target, cp, note)
            if status == 409:
                theirs = _size(body)
                if theirs is None or theirs > cp.size:
                    self._failed(target, f"409 with size {body[:40]!r}, beyond our "
                                 f"{cp.size}: the witness saw a larger tree of this log")
                    return
                target.size = theirs
                continue
            if status != 200:
                self._failed(target, f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}")
                return
            if self._accept(target, cp, note, body) and self._on_cosigned is not None:
                import anyio.to_thread

                try:
                    await anyio.to_thread.run_sync(self._on_cosigned,
                                                   self.store.published(note, cp.size))
                except OSError as exc:  # the static copy only; HTTP serves the cosignatures
                    _log.warning("could not put cosignatures on the static checkpoint: %s", exc)
            return

    async def _send(self, target: WitnessTarget, cp: Checkpoint, note: bytes
                    ) -> tuple[int, bytes]:
        old = target.size if target.size <= cp.size else 0
        proof = await self._proof(old, cp.size) if 0 < old < cp.size else []
        body = (f"old {old}\n".encode() + b"".join(base64.b64encode(h) + b"\n" for h in proof)
                + b"\n" + note)
        assert self._client is not None
        r = await self._client.post(target.url + "/add-checkpoint", content=body)
        return r.status_code, r.content

    def _accept(self, target: WitnessTarget, cp: Checkpoint, note: bytes, body: bytes) -> bool:
        try:
            cosigned = open_cosigned(note + body, self.log_key, [target.vkey])
        except (ReelrightsError, UnicodeError) as exc:
            self._failed(target, f"its answer is not a valid cosignature: {exc}")
            return False
        mine = [c for c in cosigned.cosignatures if c.witness == target.verifier.vkey]
        if not mine:
            self._failed(target, "its answer holds no cosignature by its key")
            return False
        c = mine[0]
        self.store.add(cp.size, note, c.witness, c.timestamp, c.line)
        target.size, target.sent_size, target.sent_at = cp.size, cp.size, time.monotonic()
        target.failures, target.retry_at = 0, 0.0
        target.cosigned += 1
        return True


def _size(body: bytes) -> int | None:
    text = body.decode("ascii", "replace").strip()
    return int(text) if text.isdigit() and len(text) < 20 else None


def lock_path(home_path: Path) -> Path:
    """The lock that elects the one process of a home that runs the witnessing task."""
    return home_path / "run" / "witnessing.lock"


def start_witnessing(home_path: Path, log_key: str, server: LogServer,
                     witnesses: list[tuple[str, str]], *, interval_s: float = 1.0,
                     refresh_s: float = 60.0) -> Witnessing:
    """Start the witnessing task of the log ``server`` serves (call on the event loop)."""
    import anyio.to_thread

    from ..errors import NotFound

    def latest() -> bytes | None:
        try:
            return server.checkpoint()
        except NotFound:
            return None

    async def checkpoint() -> bytes | None:
        return await anyio.to_thread.run_sync(latest)

    async def proof(old: int, new: int) -> list[bytes]:
        found = await anyio.to_thread.run_sync(server.consistency, old, new)
        return [bytes.fromhex(h) for h in found["proof"]]

    task = Witnessing(log_key=log_key, checkpoint=checkpoint, proof=proof,
                      store=CosignedStore(home_path / COSIGNED_FILE), witnesses=witnesses,
                      lock_path=lock_path(home_path), interval_s=interval_s,
                      refresh_s=refresh_s, on_cosigned=partial(add_cosignatures,
                                                               home_path / "log"))
    task.start()
    return task
