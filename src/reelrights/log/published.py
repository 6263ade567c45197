"""Never fork: the log never signs a tree smaller than, or different from, what it published.

Once a checkpoint is published (the home's ``log/checkpoint``, served to anyone and mirrored by
CDNs and witnesses), every later checkpoint must extend it. A database restored from an older
copy, or a failover to a replica that lags, has a head *behind* the published checkpoint:
appending there would sign a second tree at sizes the world has already seen with other
roots, which is a fork, provable by anyone holding both notes.

:class:`PublishedFloor` is the guard :class:`~reelrights.log.database_log.DatabaseLog` runs under
the head lock, before it signs: it reads the published checkpoint (a small file, read again only
when it changed) and refuses a head that is smaller, or of the same size with another root, or
larger but not an extension of it (the database's own checkpoint, or its tiles, at the published
size must give the published root). The signature of the published note is checked at start
(:func:`reelrights.operate.check_published`), not per batch: this process wrote the file.
"""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path

from sqlalchemy import Connection, select

from ..core.checkpoint import Checkpoint
from ..core.merkle import HashReader, range_hash
from ..errors import BadInput, ForkRefused
from ..store.tables import log_checkpoints

__all__ = ["PublishedFloor", "check_extends", "note_checkpoint", "read_published"]


def note_checkpoint(note: bytes) -> Checkpoint:
    """The checkpoint of a signed note, its signatures not checked (BadInput if malformed)."""
    try:
        text = note.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("the checkpoint note is not UTF-8") from None
    body, sep, _ = text.rpartition("\n\n")
    if not sep:
        raise BadInput("the checkpoint note has no signature lines")
    return Checkpoint.parse(body + "\n")


def read_published(folder: Path) -> Checkpoint | None:
    """The checkpoint published in ``folder`` (its signatures not checked), None if there is
    none yet; BadInput if the file is there but malformed."""
    try:
        note = (folder / "checkpoint").read_bytes()
    except FileNotFoundError:
        return None
    try:
        return note_checkpoint(note)
    except BadInput as exc:
        raise BadInput(f"{folder / 'checkpoint'}: {exc}; restore it from a copy of the "
                       "published log") from None


class PublishedFloor:
    """The published checkpoint of ``folder``, as a floor no appended tree may go under."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._stat: tuple[int, int, int] | None = None
        self._floor: Checkpoint | None = None
        #: (size, root) of trees known to extend the floor: checked, or signed here since.
        self._extends: deque[tuple[int, bytes]] = deque(maxlen=8)

    def current(self) -> Checkpoint | None:
        """The published checkpoint (read again only when the file changed)."""
        path = self.folder / "checkpoint"
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self._stat = self._floor = None
            return None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        if key != self._stat:
            self._floor = read_published(self.folder)
            self._stat = key
        return self._floor

    def check(self, conn: Connection, size: int, root: bytes,
              reader: HashReader | None = None) -> None:
        """Refuse (ForkRefused) to sign anything on a head of ``size`` and ``root`` that does
        not extend the published checkpoint. ``reader`` gives subtree hashes of the database's
        tree (a :class:`~reelrights.core.merkle.HashReader`) when no checkpoint was stored at
        the published size."""
        floor = self.current()
        if floor is None or floor.size == 0:
            return
        if (size, root) == (floor.size, floor.root) or (
                size > floor.size and (floor.size, floor.root) in self._extends):
            return
        check_extends(conn, size, root, floor, str(self.folder / "checkpoint"), reader)
        self._extends.append((floor.size, floor.root))

    def signed(self, size: int, root: bytes) -> None:
        """This process signed (size, root) on a head that extends the floor: so does it."""
        self._extends.append((size, root))


def check_extends(conn: Connection, size: int, root: bytes, published: Checkpoint, where: str,
                  reader: HashReader | None = None, *, fix: str | None = None) -> None:
    """ForkRefused unless the database's tree (head ``size`` and ``root``) extends the
    ``published`` checkpoint (read from ``where``, named in the message; ``fix`` says what to
    do, by default :data:`FIX`)."""
    fix = fix or FIX
    if size < published.size:
        raise ForkRefused(behind_message(size, published.size, where, fix))
    if size == published.size:
        if root != published.root:
            raise ForkRefused(forked_message(size, published.size, where, fix))
        return
    if published.size == 0:
        return
    stored = conn.execute(select(log_checkpoints.c.root)
                          .where(log_checkpoints.c.size == published.size)).first()
    if stored is not None:
        ours = bytes(stored.root)
    elif reader is not None:
        ours = range_hash(0, published.size, reader)
    else:
        ours = b""
    if ours != published.root:
        raise ForkRefused(forked_message(size, published.size, where, fix))


#: What to do about a database behind its published log.
FIX = ("fix: rebuild the database from the published tiles (reelrights --home NEW rebuild "
       "--tiles <published folder or URL> --key <log vkey> --log-key <log key PEM>), restore "
       "the local tables from the latest backup, and start the service on NEW "
       "(docs/deploy.md, 'Never fork')")


def behind_message(size: int, published: int, where: str, fix: str = FIX) -> str:
    return (f"the database's log head is at size {size} but {where} is a published checkpoint "
            f"at size {published}: the database is behind the log it published (restored from "
            f"an older copy, or a replica that lags), and signing now would fork the log; {fix}")


def forked_message(size: int, published: int, where: str, fix: str = FIX) -> str:
    return (f"the database's log head at size {size} is not an extension of the published "
            f"checkpoint at size {published} ({where}): its tree has another root there, and "
            f"signing now would fork the log; {fix}")
