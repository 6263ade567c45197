"""Tables for fingerprints: per-asset video, audio and text fingerprints, and where files live.

Created by migration 0004. Fingerprints are *derived* data: anyone holding the file can compute
them again, so they are stored here and never logged.

* ``fingerprints``: one row per asset (SHA-256) and signal kind (``video``, ``audio``, ``text``)
  with the serialized print (``reelrights.media.fingerprint``), its parameters as JSON (mode, fps,
  keyframes only), ``status`` ``ok`` or ``failed`` (with a one-line ``reason``) and when it was
  computed. ``seq`` is a fresh integer each time a print is (re)computed: the matching indexes in
  ``<home>/index/`` key their entries by it (a PDQ frame id is ``seq << 24 | frame``), so an
  entry whose ``seq`` no longer has a row is stale and ignored, and indexes never need deletes.
* ``asset_locations``: the local paths where a registered asset's file was seen (at ``work add``
  or ``reelrights fingerprint PATH``), so ``fingerprint --all`` can find the files again. A path is
  checked against the SHA-256 before use: files move and change.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .metadata import metadata

__all__ = ["asset_locations", "fingerprints"]

fingerprints = Table(
    "fingerprints", metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("sha256", String(64), ForeignKey("assets.sha256"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("status", String(8), nullable=False),
    Column("reason", Text),
    Column("params", Text, nullable=False, default="{}"),
    Column("items", BigInteger, nullable=False, default=0),
    Column("data", LargeBinary),
    Column("computed_at", String(32), nullable=False),
    UniqueConstraint("sha256", "kind", name="uq_fingerprints_sha256_kind"),
    sqlite_autoincrement=True,  # never reuse a deleted seq: stale index entries must stay stale
)

asset_locations = Table(
    "asset_locations", metadata,
    Column("sha256", String(64), ForeignKey("assets.sha256"), primary_key=True),
    Column("path", Text, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("seen_at", String(32), nullable=False),
    Index("ix_asset_locations_sha256", "sha256"),
)
