"""Registering a work whose assets are made-up SHA-256 digests: for tests about rights, runs,
audits, provenance and the fund, which need registered assets but no media to decode."""

from __future__ import annotations

import hashlib
import os

from reelrights.core.ids import new_id
from reelrights.core.statements import sign_statement


def register_fake_work(home, ledger, owner: str, title: str, n_assets: int = 2,  # noqa: ANN001
                       kind: str = "film") -> tuple[str, list[str]]:
    """Register a work of ``n_assets`` one-minute video reels signed by ``owner``; return its id
    and the reels' SHA-256 digests."""
    shas = [hashlib.sha256(os.urandom(16)).hexdigest() for _ in range(n_assets)]
    body = {"id": new_id("work"), "kind": kind, "title": title, "owner": owner,
            "assets": [{"sha256": s, "size": 1000 + i, "media_type": "video/mp4",
                        "category": "video", "duration_ms": 60_000, "name": f"reel{i}.mp4"}
                       for i, s in enumerate(shas)]}
    ledger.submit([sign_statement(ledger.new_statement("work.registered", owner, body),
                                  home.party_key(owner))])
    return body["id"], shas
