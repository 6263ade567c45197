"""The static folder is made durable in order: every tile and bundle (file, then folder) before
the checkpoint that covers it is renamed into place, and the checkpoint never goes back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reelrights.core.statements import make_statement, sign_statement
from reelrights.home import Home
from reelrights.keys import PartyKey
from reelrights.ledger import Ledger
from reelrights.log import mirror


def _party(registry: str, n: int) -> bytes:
    import base64

    key = PartyKey.generate()
    from reelrights.core.ids import new_id

    pid = new_id("party")
    body = {"id": pid, "kind": "studio", "name": f"Studio {n}",
            "public_key": base64.b64encode(key.public_key_bytes).decode()}
    return sign_statement(make_statement("party.registered", pid, body, registry=registry), key)


def test_tiles_are_durable_before_the_checkpoint_moves(home: Home,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = Ledger.open(home)
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace
    paths: dict[int, str] = {}
    real_open = os.open

    def rec_open(path, flags, *a, **k):  # type: ignore[no-untyped-def]
        fd = real_open(path, flags, *a, **k)
        paths[fd] = str(path)
        return fd

    def rec_fsync(fd: int) -> None:
        real_fsync(fd)
        events.append(("fsync", paths.get(fd, "?")))

    def rec_replace(src, dst) -> None:  # type: ignore[no-untyped-def]
        real_replace(src, dst)
        events.append(("replace", str(dst)))

    monkeypatch.setattr(mirror.os, "open", rec_open)
    monkeypatch.setattr(mirror.os, "fsync", rec_fsync)
    monkeypatch.setattr(mirror.os, "replace", rec_replace)
    ledger.submit([_party(ledger.registry, i) for i in range(300)])  # a full tile and a partial
    root = str(home.log_dir)
    cp = [i for i, e in enumerate(events) if e == ("replace", f"{root}/checkpoint")]
    assert len(cp) == 1
    before = events[:cp[0]]
    tiles = [dst for kind, dst in before if kind == "replace"]
    assert any("/tile/entries/" in t for t in tiles) and any("/tile/0/" in t for t in tiles)
    for t in tiles:
        i = before.index(("replace", t))
        # the temporary file was fsynced before its rename, its folder after it
        assert any(k == "fsync" and p.startswith(str(Path(t).parent) + "/.")
                   for k, p in before[:i]), t
        assert ("fsync", str(Path(t).parent)) in before[i:], t
    assert any(k == "fsync" and "/.checkpoint." in p for k, p in before)
    assert ("fsync", root) in events[cp[0]:]
    ledger.close()


def test_the_checkpoint_never_goes_back(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """A publisher that comes late (another thread's or process's older batch) leaves the
    larger checkpoint in place."""
    from reelrights.write import publish

    ledger = Ledger.open(home)
    held: list[object] = []
    monkeypatch.setattr(publish, "publish_batch", lambda root, result, log, read: held.append(
        (root, result, log, read)))
    ledger.submit([_party(ledger.registry, i) for i in range(3)])
    monkeypatch.undo()
    ledger.submit([_party(ledger.registry, 10 + i) for i in range(3)])
    big = (home.log_dir / "checkpoint").read_bytes()
    assert mirror.published_size(home.log_dir) == 7
    (root, result, log, read), = held  # type: ignore[misc]
    mirror.publish_batch(root, result, log, read)  # the older batch, published late
    with ledger.db.read() as conn:
        mirror.export_log(home.log_dir, ledger.log, conn, since=0)
    assert (home.log_dir / "checkpoint").read_bytes() == big
    assert mirror.catch_up(home.log_dir, ledger.log, ledger.db.read, 4) == 7
    ledger.close()
