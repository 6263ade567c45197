"""A party's home on its own machine, following a reelrights service.

``reelrights join --server URL [--log-key VKEY]`` (or the first command run with ``--server``)
makes the home::

    <home>/home.json     origin, registry and "server": URL
    <home>/log.vkey      the log's public note key, pinned at join (trust on first use, or the
                         key given with --log-key, checked against what the server says)
    <home>/keys/         this party's own keys only (0700, each 0600)
    <home>/reelrights.db a read-only replica of the registry, synced from the server's tiles
    <home>/log/          the tiles and checkpoint synced so far

Reads answer from the replica, synced (:func:`.sync.sync`) when the ledger is opened.
Statements are built and signed here, and :class:`RemoteLedger` submits them with the
:class:`~reelrights.client.Client`, then syncs up to the checkpoint the service answered with,
so the next read sees the new facts. Nothing but signed statements is ever sent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.checkpoint import open_checkpoint
from ..core.note import NoteVerifier
from ..errors import BadInput, ReelrightsError, SignatureError, VerificationError
from ..home import Home
from ..ledger import Ledger, Receipt
from ..log.database_log import DatabaseLog
from ..store.db import Database
from .home import ReplicaLedger, open_local_ledger
from .sync import SyncReport, sync

if TYPE_CHECKING:
    from ..client import Client
    from ..client.http import Submitted

__all__ = ["RemoteLedger", "join", "open_ledger", "open_remote_home", "open_remote_ledger"]


class RemoteLedger(ReplicaLedger):
    """The ledger of a party's home: reads from the replica; :meth:`submit` posts the signed
    statements to the service and syncs the replica up to the checkpoint that covers them."""

    def __init__(self, home: Home, client: Client, db: Database, log: DatabaseLog,
                 operator_key: bytes) -> None:
        super().__init__(db, log, home.log_dir, operator_key=operator_key)
        self.home = home
        self.client = client

    def sync(self, checkpoint: bytes | None = None) -> SyncReport:
        """Bring the replica up to ``checkpoint`` (default: the service's latest)."""
        return sync(self.home, self.client, checkpoint=checkpoint, db=self.db)

    def submit(self, entries: Sequence[bytes]) -> list[Receipt]:
        """Post the signed statements; once the service answered with their receipts, sync up
        to its checkpoint. The statements are logged whatever the sync does: if it cannot run
        now (the server went away), the receipts are still returned and the next command
        syncs; a split view is raised."""
        if not entries:
            raise BadInput("nothing to submit; pass at least one signed statement")
        return self._settle(entries, self.client.append(entries))

    def request_admission(self, entry: bytes) -> list[Receipt]:
        """Post a signed ``admission.requested`` to the service's admission endpoint
        (docs/identity.md): its receipt and the operator's ``party.admitted`` that answers it,
        synced like :meth:`submit`'s."""
        return self._settle([entry], self.client.request_admission(entry))

    def _settle(self, entries: Sequence[bytes], done: Submitted) -> list[Receipt]:
        """The answer to a submission of ``entries`` (its receipts may go on past them: the
        operator's statements that answered them), synced up to its checkpoint."""
        covered = _covered_size(done.checkpoint, self.home)
        last = max(r.index for r in done.receipts)
        if covered <= last:
            raise VerificationError(
                f"{self.home.server} answered a receipt at log index {last} with a checkpoint "
                f"of size {covered}, which does not include it: the service withholds the "
                "checkpoint of its answer; the statement is not known to be logged (run `sync` "
                "later; if it still is not logged, tell the log's operator and auditors)")
        try:
            self.sync(done.checkpoint)
        except VerificationError:
            raise
        except ReelrightsError:
            return list(done.receipts)  # not fatal: the receipts stand; every command syncs first
        self._check_receipts(entries, done.receipts[:len(entries)])
        return list(done.receipts)

    def _check_receipts(self, entries: Sequence[bytes], receipts: Sequence[Receipt]) -> None:
        """Each receipt names the index, in the verified replica, of exactly its entry."""
        from sqlalchemy import select

        from ..core.statements import open_leaf
        from ..store.tables import log_entries

        with self.db.read() as conn:
            for entry, receipt in zip(entries, receipts, strict=True):
                row = conn.execute(select(log_entries.c.entry, log_entries.c.leaf_hash).where(
                    log_entries.c.idx == receipt.index)).first()
                if row is None or open_leaf(bytes(row.entry))[0] != bytes(entry) \
                        or bytes(row.leaf_hash).hex() != receipt.leaf_hash:
                    raise VerificationError(
                        f"{self.home.server} answered a receipt for log index {receipt.index} "
                        f"(leaf hash {receipt.leaf_hash[:16]}…), but the verified log holds "
                        "another entry there: the receipt is false; keep this home as "
                        "evidence and tell the log's operator and auditors")

    def close(self) -> None:
        super().close()
        self.client.close()


def _covered_size(note: bytes, home: Home) -> int:
    """The size of the signed checkpoint ``note`` (verified with the home's pinned key)."""
    return open_checkpoint(note, NoteVerifier(home.log_vkey()), origin=home.origin).size


def _client(server: str) -> Client:
    from ..client import Client

    return Client(server)


def open_ledger(home: Home) -> Ledger:
    """The home's ledger: a party's home's :class:`RemoteLedger` (synced now), a read-only
    replica's, or the log's own."""
    if home.server is not None:
        return open_remote_ledger(home)
    return open_local_ledger(home)


def open_remote_ledger(home: Home, *, client: Client | None = None,
                       fresh: bool = True) -> RemoteLedger:
    """The ledger of a party's home (``home.server`` set), synced first unless ``fresh`` is
    False."""
    if home.server is None:
        raise BadInput(f"{home.path} follows no server; run `reelrights join --server URL`")
    vkey = home.log_vkey()
    ledger = RemoteLedger(home, client or _client(home.server), Database(home.database_url),
                          DatabaseLog(home.origin, None, vkey=vkey),
                          NoteVerifier(vkey).public_key)
    if fresh:
        try:
            ledger.sync()
        except BaseException:
            ledger.close()
            raise
    return ledger


def open_remote_home(path: str | os.PathLike[str] | None, server: str) -> Home:
    """The party's home at ``path`` following ``server``: opened when it exists (and follows
    that server), else made by :func:`join` (the log's key pinned at this first contact)."""
    from ..client import check_server_url

    server = check_server_url(server)
    root = Home.resolve(path)
    if not (root / "home.json").exists():
        return join(root, server)[0]
    home = Home.open(root)
    _check_follows(home, server)
    return home


def _check_follows(home: Home, server: str) -> None:
    if home.server is None:
        raise BadInput(f"{home.path} is the home of a log of its own, not a party's home that "
                       f"follows a server; drop --server to use it, or pass a new --home to join "
                       f"{server}")
    if home.server != server:
        raise BadInput(f"{home.path} follows {home.server}, not {server}; a home follows one "
                       "server: drop --server, or pass a new --home to join another")


def join(path: str | os.PathLike[str] | None, server: str, *, log_key: str | None = None,
         database_url: str | None = None,
         client: Client | None = None) -> tuple[Home, bool, SyncReport]:
    """Make (or reopen) the party's home at ``path`` following ``server`` and sync it.

    The log's key is pinned now: ``log_key`` (a note verifier key) when given, and the server
    must sign with it; else the key the server names (trust on first use). Returns (home,
    created, the first sync's report). An existing home must follow the same server (and, with
    ``log_key``, have pinned that key).
    """
    from ..client import check_server_url

    server = check_server_url(server)
    pinned = _normalise_vkey(log_key) if log_key is not None else None
    root = Home.resolve(path)
    if (root / "home.json").exists():
        home = Home.open(root)
        _check_follows(home, server)
        if pinned is not None and _normalise_vkey(home.log_vkey()) != pinned:
            raise VerificationError(f"{home.path} pinned the log key {home.log_vkey()}, not "
                                    f"--log-key {log_key}; a home never changes its log key")
        ledger = open_remote_ledger(home, client=client, fresh=False)
        try:
            return home, False, ledger.sync()
        finally:
            if client is None:
                ledger.close()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise BadInput(f"{root} exists and is not a reelrights home; join into a new or empty "
                       "--home")
    own = client is None
    client = client or _client(server)
    try:
        origin, registry, vkey = _first_contact(client, server, pinned, log_key)
        created = not root.exists()
        try:
            home = _make_home(root, server, origin, registry, vkey, database_url)
            ledger = open_remote_ledger(home, client=client, fresh=False)
            try:
                report = ledger.sync()
                if home.registry_setting is None and report.size:
                    with contextlib.suppress(BadInput):  # a v1 log: no registry yet
                        home.registry_setting = ledger.registry
                        home.save()
            finally:
                ledger.db.dispose()
        except BaseException:
            if created:
                shutil.rmtree(root, ignore_errors=True)
            else:
                for child in root.iterdir():
                    (shutil.rmtree if child.is_dir() else os.unlink)(child)
            raise
        return home, True, report
    finally:
        if own:
            client.close()


def _first_contact(client: Client, server: str, pinned: str | None,
                   given: str | None) -> tuple[str, str | None, str]:
    """(origin, registry, the key to pin) from the service's ``/v1/log``, checked against
    the key given to pin. A plain static mirror of the tiles (no ``/v1/log``) is followed too
    when the key is given: the origin comes from its checkpoint."""
    from ..errors import NotFound

    try:
        info = client.log_info()
    except NotFound:
        if pinned is None:
            raise BadInput(f"{server} does not describe its log (no /v1/log): pass the log's "
                           "key with --log-key to follow its static tiles") from None
        note = client.checkpoint()
        try:
            cp = open_checkpoint(note, NoteVerifier(pinned))
        except SignatureError as exc:
            raise VerificationError(f"{server}'s checkpoint does not verify under --log-key "
                                    f"{given} ({exc.message}); nothing was written") from None
        return cp.origin, None, pinned
    served = _normalise_vkey(info.log_key)
    if pinned is not None and served != pinned:
        raise VerificationError(f"{server} signs with the log key {info.log_key}, not the "
                                f"--log-key {given} you expect; nothing was written: check the "
                                "server's address and the key you were given")
    vkey = pinned or served
    try:
        open_checkpoint(info.checkpoint, NoteVerifier(vkey), origin=info.origin)
    except SignatureError as exc:
        raise VerificationError(f"{server}'s checkpoint does not verify under its log key "
                                f"({exc.message}); nothing was written") from None
    return info.origin, info.registry, vkey


def _normalise_vkey(vkey: str) -> str:
    try:
        return NoteVerifier(vkey.strip()).vkey
    except (BadInput, ValueError) as exc:
        raise BadInput(f"log key {vkey!r} is not a note verifier key "
                       f"(<origin>+<key id>+<base64>, as `reelrights log key` prints it): "
                       f"{exc}") from None


def _make_home(root: Path, server: str, origin: str, registry: str | None, vkey: str,
               database_url: str | None) -> Home:
    root.mkdir(parents=True, exist_ok=True)
    (root / "keys").mkdir(mode=0o700, exist_ok=True)
    os.chmod(root / "keys", 0o700)
    (root / "log").mkdir(exist_ok=True)
    home = Home(root, origin, database_url, registry_setting=registry, server=server)
    home.vkey_path.write_text(vkey + "\n", "utf-8")
    with contextlib.suppress(OSError):
        os.chmod(home.vkey_path, 0o644)
    home.save()
    return home
