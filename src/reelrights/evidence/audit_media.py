"""Media files in an audit response: found by the developer, opened safely by the auditor.

A response names each sampled item's media file relative to its media folder
(``media_root``, or the auditor's own copy of it: ``audit verify --media DIR``). The auditor
opens only regular files inside that folder: an absolute path, a ``..`` step, a symlink that
leads out of the folder, or anything but a regular file (``/dev/zero``, a FIFO, a socket, a
folder) is refused with :class:`~reelrights.errors.BadInput` naming the path, before anything is
read, scanned or logged. A file that is inside the folder but missing or unreadable is not an
attack but a gap: the item is inconclusive (:class:`MediaGap`).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from ..errors import BadInput

__all__ = ["MediaGap", "SafeMedia", "confine", "hash_media", "media_by_hash"]

_CHUNK = 1 << 20


def _sha256_fd(fd: int) -> str:
    h = hashlib.sha256()
    while chunk := os.read(fd, _CHUNK):
        h.update(chunk)
    return h.hexdigest()


def media_by_hash(media_dir: Path, wanted: set[str]) -> dict[str, str]:
    """The developer's side: regular files under ``media_dir`` (symlinks are not followed)
    whose SHA-256 is wanted, by digest, as POSIX paths relative to the folder."""
    root = Path(media_dir)
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            try:
                digest = _sha256_fd(fd)
            finally:
                os.close(fd)
            if digest in wanted:
                found.setdefault(digest, path.relative_to(root).as_posix())
    return found


@dataclass(frozen=True)
class SafeMedia:
    """A media file confined to the folder: its name in the response and its real path."""

    name: str
    path: Path


@dataclass(frozen=True)
class MediaGap:
    """A media file the auditor could not read (missing or unreadable): the item is
    inconclusive, with this message."""

    name: str
    message: str


def confine(root: Path, name: Any, index: Any) -> SafeMedia | MediaGap:
    """Check one response media name (see the module doc); BadInput for an attack."""
    what = f"media {name!r} of item {index}"
    if type(name) is not str or not name or "\x00" in name:
        raise BadInput(f"{what} is not a file name; the response is damaged, ask the developer "
                       "to run `audit respond` again")
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).drive or name.startswith("\\"):
        raise BadInput(f"{what} is an absolute path; media must be named relative to the "
                       "response's media folder, ask the developer to run `audit respond` again")
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        raise BadInput(f"{what} steps out of the media folder with '..'; refused")
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(real_root / name))
    if real != real_root and real_root not in real.parents:
        raise BadInput(f"{what} is a link to {real}, outside the media folder {real_root}; "
                       "refused")
    try:
        st = os.stat(real)
    except OSError as exc:
        return MediaGap(name, f"media cannot be read ({exc.strerror})")
    if not stat.S_ISREG(st.st_mode):
        raise BadInput(f"{what} is not a regular file ({_kind(st.st_mode)}); refused")
    return SafeMedia(name, real)


def _kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def hash_media(media: SafeMedia) -> str | MediaGap:
    """SHA-256 (hex) of a confined file, opened without following a last-moment symlink and
    without blocking; checked again to be a regular file once open. A gap if unreadable."""
    try:
        fd = os.open(media.path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as exc:
        return MediaGap(media.name, f"media cannot be read ({exc.strerror})")
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise BadInput(f"media {media.name!r} was replaced by something that is not a "
                           "regular file; refused")
        return _sha256_fd(fd)
    except OSError as exc:
        return MediaGap(media.name, f"media cannot be read ({exc.strerror})")
    finally:
        os.close(fd)
