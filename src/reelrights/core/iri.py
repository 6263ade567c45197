"""IRIs that name registry objects inside ODRL policies and exports.

Parties, works and bundles are ``urn:reelrights:<kind>:<id>``. An asset is ``urn:sha256:<hex>``
because its identity *is* its content hash. A model family named without a scheme becomes
``urn:reelrights:model-family:<name>``.
"""

from __future__ import annotations

__all__ = ["asset_iri", "bundle_iri", "id_from_iri", "model_family_iri", "party_iri", "work_iri"]


def party_iri(party_id: str) -> str:
    return f"urn:reelrights:party:{party_id}"


def work_iri(work_id: str) -> str:
    return f"urn:reelrights:work:{work_id}"


def bundle_iri(bundle_id: str) -> str:
    return f"urn:reelrights:bundle:{bundle_id}"


def asset_iri(sha256: str) -> str:
    return f"urn:sha256:{sha256}"


def model_family_iri(name: str) -> str:
    """A model family as the policies name it; a bare name gets the reelrights namespace."""
    return name if ":" in name else f"urn:reelrights:model-family:{name}"


def id_from_iri(iri: str, kind: str) -> str | None:
    """The registry id inside ``urn:reelrights:<kind>:<id>``, or None if it is not one."""
    prefix = f"urn:reelrights:{kind}:"
    return iri[len(prefix):] if iri.startswith(prefix) else None
