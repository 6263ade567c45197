"""At start: the database's log head against every published copy of the log (never fork).

A server must not start on a database that is behind the log it already published: the first
batch would sign a tree the world has already seen with another root. :func:`check_published`
reads the checkpoint of each published copy (the home's ``log/`` folder, and any other folder
or URL in ``REELRIGHTS_PUBLISHED``: the web server's document root, the CDN's origin), checks
its signature with the log's key, and compares it with the database's head. Behind, or beside
(same size and another root, or a larger tree that does not extend it): refused, in one line
naming both sizes and the fix. Ahead (the folder missed the last batches: a crash between the
commit and the publish) is normal; the home's folder is brought up to date from the database.

The same rule guards every batch after the start (:class:`reelrights.log.published.PublishedFloor`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.checkpoint import Checkpoint, open_checkpoint
from ..core.note import NoteVerifier
from ..errors import BadInput, ForkRefused, NotFound, ReelrightsError
from ..home import Home
from ..log.database_log import DatabaseLog
from ..log.mirror import export_log
from ..log.published import check_extends
from ..replica.home import log_verifier_key
from ..replica.http_tiles import HttpTileSource
from ..store.db import Database

__all__ = ["PUBLISHED_ENV", "PublishedReport", "check_published", "published_sources"]

#: Other published copies of the log, comma-separated folders or http(s) URLs (each serving
#: ``checkpoint`` at its root).
PUBLISHED_ENV = "REELRIGHTS_PUBLISHED"


@dataclass
class PublishedReport:
    """What :func:`check_published` found: the database's head and each copy's size."""

    size: int
    root: str
    #: source -> the size of the checkpoint it publishes (0: none yet).
    published: dict[str, int] = field(default_factory=dict)
    #: Entries the home's folder was behind the database by, now written.
    caught_up: int = 0

    def summary(self) -> str:
        copies = ", ".join(f"{src} at {n}" for src, n in self.published.items())
        more = f"; the home's folder caught up {self.caught_up} entries" if self.caught_up else ""
        return f"log head at size {self.size}, not behind any published copy ({copies}){more}"

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "root": self.root, "published": self.published,
                "caught_up": self.caught_up}


def published_sources(home: Home, extra: tuple[str, ...] | list[str] = ()) -> list[str]:
    """The home's ``log/`` folder, then ``extra``, then ``REELRIGHTS_PUBLISHED``'s copies."""
    env = [s.strip() for s in os.environ.get(PUBLISHED_ENV, "").split(",") if s.strip()]
    out = [str(home.log_dir)]
    for s in [*extra, *env]:
        if s not in out:
            out.append(s)
    return out


def _read_note(source: str) -> bytes | None:
    if source.startswith(("http://", "https://")):
        try:
            return HttpTileSource(source, timeout=10.0).read("checkpoint")
        except NotFound:
            return None
        except BadInput as exc:
            raise BadInput(f"refusing to start: cannot read the published checkpoint ({exc}); "
                           f"fix the address or take it out of {PUBLISHED_ENV}") from None
    path = Path(source) / "checkpoint"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BadInput(f"refusing to start: cannot read {path} ({exc.strerror}); fix its "
                       f"permissions or take it out of {PUBLISHED_ENV}") from None


def _published(source: str, verifier: NoteVerifier, origin: str) -> Checkpoint | None:
    note = _read_note(source)
    if note is None:
        return None
    try:
        return open_checkpoint(note, verifier, origin=origin)
    except ReelrightsError as exc:
        raise type(exc)(f"refusing to start: the published checkpoint at {source} does not "
                        f"verify with this log's key ({exc}); find out who wrote it before "
                        "anything else (docs/deploy.md, 'Compromise')") from None


def check_published(home: Home | str | os.PathLike[str], *,
                    published: tuple[str, ...] | list[str] = (),
                    catch_up: bool = True) -> PublishedReport:
    """Refuse (ForkRefused, one line naming both sizes and the fix) when the database's log
    head is behind, or beside, any published checkpoint; else return what was compared.

    ``published`` adds copies to the home's folder and ``REELRIGHTS_PUBLISHED``'s. With
    ``catch_up`` the home's folder, if behind the database, is brought up to its head.
    """
    if not isinstance(home, Home):
        home = Home.open(home)
    vkey = log_verifier_key(home)
    verifier = NoteVerifier(vkey)
    sources = published_sources(home, published)
    found = {src: _published(src, verifier, home.origin) for src in sources}
    db = Database(home.database_url)
    try:
        log = DatabaseLog(home.origin, None)
        with db.read() as conn:
            head = log.head_state(conn)
            for src, cp in found.items():
                if cp is None:
                    continue
                fix = (f"fix: rebuild the database from the published tiles "
                       f"(reelrights --home NEW rebuild --tiles {src} --key {vkey} --log-key "
                       f"{home.log_key_path}), restore the local tables from the latest backup "
                       "and start on NEW (docs/deploy.md, 'Never fork')")
                try:
                    check_extends(conn, head.size, head.root, cp, src,
                                  log.hash_reader(conn, head.size), fix=fix)
                except ForkRefused as exc:
                    raise ForkRefused(f"refusing to start: {exc}") from None
            report = PublishedReport(head.size, head.root.hex(),
                                     {s: (cp.size if cp else 0) for s, cp in found.items()})
            mine = found[str(home.log_dir)]
            have = mine.size if mine is not None else 0
            if catch_up and head.size > have:
                export_log(home.log_dir, log, conn, since=have)
                report.caught_up = head.size - have
    finally:
        db.dispose()
    return report
