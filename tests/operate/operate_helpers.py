"""Helpers shared by the operate tests."""

from __future__ import annotations

import hashlib
import os

from reelrights.core.ids import new_id
from reelrights.home import Home
from reelrights.ledger import Ledger
from reelrights.registry.parties import register_party
from reelrights.registry.submit import submit_as


def parties(home: Home, n: int, prefix: str = "Studio") -> None:
    """Register ``n`` studios through the home's ledger (opened and closed here)."""
    ledger = Ledger.open(home)
    try:
        for i in range(n):
            register_party(home, ledger, "studio", f"{prefix} {i}")
    finally:
        ledger.close()
        ledger.db.dispose()


def fake_work(home: Home, ledger: Ledger, owner: str, title: str) -> str:
    """A registered work of two one-minute reels with made-up digests (no media decoded)."""
    body = {"id": new_id("work"), "kind": "film", "title": title, "owner": owner,
            "assets": [{"sha256": hashlib.sha256(os.urandom(16)).hexdigest(), "size": 1000 + i,
                        "media_type": "video/mp4", "category": "video", "duration_ms": 60_000,
                        "name": f"reel{i}.mp4"} for i in range(2)]}
    submit_as(home, ledger, "work.registered", owner, body)
    return str(body["id"])
