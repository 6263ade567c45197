"""Freezing writes: the first step when the log key may be compromised (docs/deploy.md).

``reelrights service freeze --reason TEXT`` writes the flag ``<home>/FROZEN``; from then on
:meth:`reelrights.ledger.Ledger.submit` refuses every batch (WritesFrozen, exit 1; the service
answers 503) before anything is checked or written, and the service's intake asks
:func:`writes_frozen` before it queues a statement. Reads, proofs and the static log go on.
``reelrights service unfreeze`` removes the flag. Every server process that shares the home sees
the flag at its next batch; a deployment whose hosts keep separate homes runs the command on
each host (docs/deploy.md).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..core.statements import utc_now
from ..errors import BadInput
from ..home import Home
from ..write.frozen import FROZEN_FILE, frozen_reason

__all__ = ["FROZEN_FILE", "freeze", "unfreeze", "writes_frozen"]


def _root(home: Home | str | os.PathLike[str]) -> Path:
    return home.path if isinstance(home, Home) else Path(home)


def writes_frozen(home: Home | str | os.PathLike[str]) -> str | None:
    """Why writes are frozen in ``home`` (the operator's reason), or None: one stat when not."""
    return frozen_reason(_root(home) / FROZEN_FILE)


def freeze(home: Home, reason: str) -> Path:
    """Freeze writes with ``reason`` (one line); idempotent (a second freeze keeps the first
    reason and time). Returns the flag's path."""
    reason = " ".join(reason.split())
    if not reason:
        raise BadInput("--reason is empty; say why writes are frozen (it is shown in every "
                       "refusal)")
    flag = home.path / FROZEN_FILE
    if flag.exists():
        return flag
    tmp = flag.with_name(f".{FROZEN_FILE}.{os.getpid()}.tmp")
    data = f"{reason}\n{json.dumps({'since': utc_now(), 'reason': reason})}\n"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, flag)
    _fsync_dir(flag.parent)
    return flag


def unfreeze(home: Home) -> bool:
    """Resume writes; False if they were not frozen."""
    flag = home.path / FROZEN_FILE
    try:
        flag.unlink()
    except FileNotFoundError:
        return False
    _fsync_dir(flag.parent)
    return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
