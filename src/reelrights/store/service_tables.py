"""The service's own table (created by migration 0011): the operator's allowlist of signing keys.

``service_allowed_keys``: the Ed25519 public keys (32 bytes) whose statements ``reelrights
serve`` accepts, until parties have identities of their own (docs/service.md, "Limits and
abuse"). A local table: the operator's decision, never logged, not derived from the log.
"""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary, String, Table, Text

from .metadata import metadata

__all__ = ["service_allowed_keys"]

service_allowed_keys = Table(
    "service_allowed_keys", metadata,
    Column("public_key", LargeBinary(32), primary_key=True),
    #: The key's id as statements name it (16 hex characters: reelrights.core.statements).
    Column("key_id", String(16), nullable=False, index=True),
    Column("added_at", String(32), nullable=False),
    Column("note", Text),
)
