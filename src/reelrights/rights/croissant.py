"""A bundle as a Croissant 1.1 dataset description (JSON-LD), with the RAI vocabulary and PROV-O.

Croissant (http://mlcommons.org/croissant/1.1) is the MLCommons format ML tools use to find and
load datasets; its Responsible AI vocabulary (http://mlcommons.org/croissant/RAI/1.0) documents
how the data came about and how it may be used. :func:`bundle_croissant` describes one bundle
version:

* **Dataset.** ``@id`` is the bundle's IRI (``urn:reelrights:bundle:<id>``); ``name``,
  ``description``, ``version``, ``creator`` (the owner), ``datePublished`` (the statement's time),
  ``conformsTo`` both the Croissant 1.1 and the RAI 1.0 IRIs, ``isBasedOn`` the works, and
  ``contributor`` the parties credited on them.
* **distribution.** One ``cr:FileObject`` per asset: ``name`` (the file name in its work),
  ``contentUrl`` (``urn:sha256:<hex>``, since an asset *is* its hash, or a caller-supplied
  relative path), ``encodingFormat`` (the IANA media type), ``sha256`` and ``contentSize``.
  reelrights never holds the media: the licensee gets the files from the owner and checks each
  against its ``sha256``.
* **recordSet** ``assets``: one record per asset, inline (``data``), with the fields ``sha256``,
  ``name``, ``media_type``, ``category``, ``size``, ``duration_ms``, ``pages``, ``lines``,
  ``work`` (the work it comes from) and ``title``. Its key is ``sha256``. A loader needs no
  download to list the bundle.
* **Provenance (PROV-O).** ``prov:wasAttributedTo`` the owner, ``prov:wasGeneratedBy`` the log
  entry that fixed the version (an activity with the log's origin, the entry's index and leaf
  hash, and its time), ``prov:wasDerivedFrom`` the predecessor version, if any. The bundle's
  Merkle root, its totals and the log coordinates use reelrights' own terms, in the namespace
  ``https://reelrights.dev/ns#`` (prefix ``reelrights``); see :data:`TERMS`.
* **Usage.** ``license`` and ``usageInfo`` point to the bundle's ODRL policy. With a license
  (``license_id``) or a policy (``policy``), that is the policy's ``uid``; ``usageInfo`` is then
  a ``CreativeWork`` that is also an ``odrl:Agreement`` (or the policy's own type) whose
  ``@id`` is the policy's uid (ODRL's ``uid`` *is* ``@id``), with ``odrl:profile``. It does not
  repeat ``odrl:target``: that would point back at the dataset node, and mlcroissant cannot
  expand a cycle (it fails with a KeyError). Without either it is the placeholder
  ``urn:reelrights:terms:<bundle id>``, typed ``odrl:Policy``: "the owner's terms for this
  bundle". It grants nothing by itself: the policy engine is closed-world, and a use is allowed
  only under a license in force (see ``reelrights license list``). The policy itself is not
  embedded: its JSON-LD context is remote, and a Croissant document must stay readable offline.
  A named license must be in force at export time: one that is revoked, lacks a required
  guild's co-signature or is suspended by an ownership dispute is refused (``PolicyDenied``,
  exit 3, one line saying why), so no dataset card points at terms that permit nothing.
* **RAI.** ``rai:dataCollection``, ``rai:dataCollectionType``, ``rai:dataUseCases``,
  ``rai:dataLimitations``, ``rai:dataBiases``, ``rai:personalSensitiveInformation``,
  ``rai:dataSocialImpact`` and ``rai:dataReleaseMaintenancePlan``, written from the registry's
  facts (counts, durations, credited roles).

The ``@context`` is inline (Croissant's Appendix 1 context, with ``https://schema.org/`` as
mlcroissant and the published 1.1 examples write it, plus ``rai``, ``prov``, ``odrl``, ``xsd``
and ``reelrights``), so no JSON-LD processor has to fetch anything to read the document.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from ..core.iri import asset_iri, bundle_iri, party_iri, work_iri
from ..errors import BadInput, NotFound, PolicyDenied
from ..store.db import Database
from ..store.resolve import StoredRow
from ..store.tables import (
    assets,
    bundle_assets,
    bundle_works,
    licenses,
    log_checkpoints,
    parties,
    work_assets,
    works,
)
from .bundles import bundle_detail, format_hours

__all__ = ["CONTEXT", "CROISSANT_1_1", "RAI_1_0", "TERMS", "bundle_croissant", "terms_iri"]

CROISSANT_1_1 = "http://mlcommons.org/croissant/1.1"
RAI_1_0 = "http://mlcommons.org/croissant/RAI/1.0"
REELRIGHTS_NS = "https://reelrights.dev/ns#"
ODRL_PROFILE = "https://reelrights.dev/odrl/profile/v1"

#: reelrights' own terms used in the export (prefix ``reelrights``).
TERMS = {
    "merkleRoot": "RFC 9162 root over the sorted leaf hashes SHA-256(0x00 || digest) of the "
                  "bundle's asset SHA-256 digests (hex)",
    "logOrigin": "origin line of the transparency log (C2SP checkpoint) holding the statement",
    "logIndex": "index of the bundle.created entry in that log",
    "leafHash": "RFC 9162 leaf hash of that entry (hex)",
    "statementType": "the reelrights statement type of the entry",
    "assetCount": "distinct assets in the bundle",
    "videoMilliseconds": "summed duration of the video assets",
    "audioMilliseconds": "summed duration of the audio assets",
    "scriptPages": "summed pages of the text and document assets",
    "scriptLines": "summed lines of the text and document assets",
    "imageCount": "image assets",
    "otherCount": "assets of no other category",
}

CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "dct": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "odrl": "http://www.w3.org/ns/odrl/2/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "reelrights": REELRIGHTS_NS,
    "annotation": "cr:annotation",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "excludes": "cr:excludes",
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "readLines": "cr:readLines",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sdVersion": "cr:sdVersion",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
    "unArchive": "cr:unArchive",
    "value": "cr:value",
}

#: recordSet ``assets``: (field, schema.org data type, description)
_FIELDS = [
    ("sha256", "sc:Text", "SHA-256 of the file's bytes (lowercase hex): the asset's identity."),
    ("name", "sc:Text", "The file name under which the owner registered it."),
    ("media_type", "sc:Text", "IANA media type, from the file's magic bytes."),
    ("category", "sc:Text", "video, audio, text, document, image or other."),
    ("size", "sc:Integer", "Size in bytes."),
    ("duration_ms", "sc:Integer", "Duration in milliseconds (video and audio), else null."),
    ("pages", "sc:Integer", "Pages (text and documents), else null."),
    ("lines", "sc:Integer", "Lines (text and documents), else null."),
    ("work", "sc:URL", "IRI of the registered work the file comes from."),
    ("title", "sc:Text", "Title of that work."),
]


def _agent(kind: str | None) -> str:
    """schema.org type of a party: people are performers and writers, the rest organisations."""
    return "sc:Person" if kind in ("performer", "writer") else "sc:Organization"


def terms_iri(bundle_id: str) -> str:
    """The placeholder IRI for a bundle's terms when no license is named."""
    return f"urn:reelrights:terms:{bundle_id}"


def _origin(conn: Connection) -> str | None:
    """The log's origin: the first line of its latest checkpoint (C2SP tlog-checkpoint)."""
    note = conn.execute(select(log_checkpoints.c.note).order_by(log_checkpoints.c.size.desc())
                        .limit(1)).scalar()
    return bytes(note).split(b"\n", 1)[0].decode("utf-8") if note is not None else None


def _usage(conn: Connection, bundle_id: str, policy: Mapping[str, Any] | None,
           license_id: str | None) -> dict[str, Any]:
    if policy is not None and license_id is not None:
        raise BadInput("name a license or give a policy, not both")
    if license_id is not None:
        row = conn.execute(select(licenses.c.id, licenses.c.bundle_id, licenses.c.policy_uid,
                                  licenses.c.licensee_id).where(licenses.c.id == license_id)
                           ).first()
        if row is None:
            raise NotFound(f"no license {license_id!r}; `reelrights license list` shows them")
        if row.bundle_id != bundle_id:
            raise BadInput(f"license {license_id} is on bundle {row.bundle_id}, not {bundle_id}; "
                           "name a license on this bundle")
        _refuse_unless_in_force(conn, license_id)
        return {"@id": row.policy_uid, "@type": ["CreativeWork", "odrl:Agreement"],
                "name": f"ODRL Agreement of license {row.id} (licensee {row.licensee_id})",
                "identifier": row.id, "odrl:profile": {"@id": ODRL_PROFILE},
                "odrl:assignee": {"@id": party_iri(row.licensee_id)}}
    if policy is not None:
        uid = policy.get("uid") or policy.get("@id")
        if not isinstance(uid, str) or ":" not in uid:
            raise BadInput("the policy has no uid; give it an absolute IRI, e.g. "
                           '"uid": "urn:reelrights:license:…"')
        kind = policy.get("@type", "Policy")
        kind = kind if isinstance(kind, str) and kind.split(":")[-1] in (
            "Agreement", "Offer", "Set", "Policy") else "Policy"
        return {"@id": uid, "@type": ["CreativeWork", f"odrl:{kind.split(':')[-1]}"],
                "name": f"ODRL {kind.split(':')[-1]} {uid}",
                "odrl:profile": {"@id": ODRL_PROFILE}}
    uid = terms_iri(bundle_id)
    return {"@id": uid, "@type": ["CreativeWork", "odrl:Policy"],
            "name": "The owner's terms for this bundle",
            "description": "No license was named for this export. Nothing is permitted without "
                           "a reelrights license in force on this bundle (closed world); "
                           "`reelrights license list` shows the licenses and their ODRL "
                           "policies.",
            "odrl:profile": {"@id": ODRL_PROFILE}}


def _refuse_unless_in_force(conn: Connection, license_id: str) -> None:
    """An export names only a license in force now: not revoked, co-signed by every required
    guild, and over no disputed asset. Otherwise it is refused (exit 3), so no dataset card
    ever points at terms that permit nothing."""
    from .disputes import dispute_blocks
    from .licensing import license_status

    lic = conn.execute(select(licenses).where(licenses.c.id == license_id)).one()  # _usage found it
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    status = license_status(conn, lic, now)
    why = []
    if status["revoked"]:
        why.append(f"it was revoked at {status['revoked_at']} ({status['revoke_reason']})")
    if status["missing_cosigners"]:
        why.append(f"it lacks the co-signature of {', '.join(status['missing_cosigners'])}")
    shas = conn.scalars(select(bundle_assets.c.sha256)
                        .where(bundle_assets.c.bundle_id == lic.bundle_id))
    held = sorted({b.dispute for b in dispute_blocks(conn, shas, now)
                   if b.blocks(lic.licensor_id)})
    if held:
        why.append(f"it is suspended by dispute {', '.join(held)} over the bundle's assets")
    if why:
        raise PolicyDenied(f"license {license_id} is not in force: {'; '.join(why)}; export "
                           "without --license, or name a license in force "
                           "(`reelrights license list`)")


def _records(conn: Connection, bundle_id: str, listed: set[str]) -> list[StoredRow]:
    """One row per asset, with the work it comes from (a listed work first, oldest first)."""
    rows = conn.execute(
        select(assets.c.sha256, assets.c.size, assets.c.media_type, assets.c.category,
               assets.c.duration_ms, assets.c.pages, assets.c.lines, work_assets.c.name,
               works.c.id.label("work_id"), works.c.title)
        .join(bundle_assets, bundle_assets.c.sha256 == assets.c.sha256)
        .join(work_assets, work_assets.c.sha256 == assets.c.sha256)
        .join(bundle_works, (bundle_works.c.work_id == work_assets.c.work_id)
              & (bundle_works.c.bundle_id == bundle_id))
        .join(works, works.c.id == work_assets.c.work_id)
        .where(bundle_assets.c.bundle_id == bundle_id)
        .order_by(assets.c.sha256, works.c.log_index)).all()
    best: dict[str, StoredRow] = {}
    for r in rows:
        cur = best.get(r.sha256)
        if cur is None or (r.work_id in listed and cur.work_id not in listed):
            best[r.sha256] = r
    return [best[s] for s in sorted(best)]


def bundle_croissant(db: Database, ref: str, policy: Mapping[str, Any] | None = None,
                     license_id: str | None = None, *,
                     content_urls: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The bundle ``ref`` (id, ``name@version`` or name) as Croissant 1.1 JSON-LD.

    ``policy`` (an ODRL policy object) or ``license_id`` (a license on this bundle) decide what
    ``license`` and ``usageInfo`` point to; see the module docstring for the placeholder used
    without either. ``content_urls`` maps asset SHA-256s to the relative paths where the
    licensee will find the files; the others get ``urn:sha256:<hex>``.
    """
    d = bundle_detail(db, ref)
    bid = d.id
    with db.read() as conn:
        usage = _usage(conn, bid, policy, license_id)
        records = _records(conn, bid, {w.id for w in d.works if w.listed})
        origin = _origin(conn)
        owner_kind = conn.execute(select(parties.c.kind).where(parties.c.id == d.owner_id)
                                  ).scalar()
        contributor_kinds = dict(conn.execute(
            select(parties.c.id, parties.c.kind)
            .where(parties.c.id.in_([c.party for c in d.contributors]))).all()) \
            if d.contributors else {}
    t = d.totals
    urls = dict(content_urls or {})
    distribution = [{
        "@type": "cr:FileObject",
        "@id": f"asset-{r.sha256}",
        "name": r.name,
        "description": f"{r.category} file of {r.title!r} ({work_iri(r.work_id)})",
        "contentUrl": urls.get(r.sha256, asset_iri(r.sha256)),
        "encodingFormat": r.media_type,
        "sha256": r.sha256,
        "contentSize": f"{r.size} B",
    } for r in records]
    data = [{
        "assets/sha256": r.sha256, "assets/name": r.name, "assets/media_type": r.media_type,
        "assets/category": r.category, "assets/size": r.size,
        "assets/duration_ms": r.duration_ms, "assets/pages": r.pages, "assets/lines": r.lines,
        "assets/work": work_iri(r.work_id), "assets/title": r.title,
    } for r in records]
    roles = sorted({role for c in d.contributors for role in c.roles})
    owner_name = d.owner_name
    summary = (f"{t['assets']} assets from {len(d.works)} works: video "
               f"{format_hours(t['video_ms'])}, audio {format_hours(t['audio_ms'])}, "
               f"{t['script_pages']} script pages ({t['script_lines']} lines), {t['images']} "
               f"images, {t['other']} other files")
    generated: dict[str, Any] = {
        "@type": "prov:Activity",
        "prov:label": f"bundle.created statement signed by {d.owner_id} and appended to the "
                      f"transparency log {origin or '(unknown origin)'} at index {d.log_index}",
        "prov:endedAtTime": {"@value": d.created_at, "@type": "xsd:dateTime"},
        "prov:wasAssociatedWith": {"@id": party_iri(d.owner_id)},
        "reelrights:statementType": "bundle.created",
        "reelrights:logIndex": d.log_index,
        "reelrights:leafHash": d.leaf_hash,
    }
    if origin:
        generated["@id"] = f"urn:reelrights:log:{origin}:{d.log_index}"
        generated["reelrights:logOrigin"] = origin
    doc: dict[str, Any] = {
        "@context": dict(CONTEXT),
        "@type": "sc:Dataset",
        "@id": bundle_iri(bid),
        "name": d.name,
        "description": d.description or (
            f"{d.name}, version {d.version}: a licensed bundle of {owner_name}'s works "
            f"registered in reelrights. {summary}."),
        "conformsTo": [CROISSANT_1_1, RAI_1_0],
        "identifier": bid,
        "version": d.version,
        "url": bundle_iri(bid),
        "datePublished": d.created_at,
        "dateCreated": d.created_at,
        "isLiveDataset": False,
        "citeAs": (f"{owner_name}. {d.name}, version {d.version}. reelrights bundle {bid}, "
                   f"Merkle root {d.root}, log {origin} index {d.log_index}."),
        "keywords": ["film", "licensed", "reelrights", *sorted({r.category for r in records})],
        "creator": {"@type": _agent(owner_kind), "@id": party_iri(d.owner_id),
                    "name": owner_name},
        "publisher": {"@type": _agent(owner_kind), "@id": party_iri(d.owner_id),
                      "name": owner_name},
        "license": usage["@id"],
        "usageInfo": usage,
        "isBasedOn": [{"@type": "CreativeWork", "@id": work_iri(w.id), "name": w.title}
                      for w in d.works],
        "reelrights:merkleRoot": d.root,
        "reelrights:assetCount": t["assets"],
        "reelrights:videoMilliseconds": t["video_ms"],
        "reelrights:audioMilliseconds": t["audio_ms"],
        "reelrights:scriptPages": t["script_pages"],
        "reelrights:scriptLines": t["script_lines"],
        "reelrights:imageCount": t["images"],
        "reelrights:otherCount": t["other"],
        "prov:wasAttributedTo": {"@id": party_iri(d.owner_id), "@type": "prov:Agent",
                                 "prov:label": owner_name},
        "prov:wasGeneratedBy": generated,
        "rai:dataCollection": (
            f"Files registered by their rights holder, {owner_name} ({d.owner_id}), in the "
            "reelrights registry: each file was hashed (SHA-256) and probed for its media type, "
            "duration, pages and lines, and the owner signed the registration, the credits and "
            "this bundle. Nothing was scraped or collected from third parties."),
        "rai:dataCollectionType": ["Licensed catalogue of the rights holder's own works"],
        "rai:dataUseCases": [
            "Only the uses the ODRL policy in usageInfo permits (for example training or "
            "fine-tuning a named model family, in a territory, until a date); every other use "
            "is refused (closed world).",
            "Verifying that a file is in this version: its SHA-256 is a leaf of the Merkle "
            "root, provable with an RFC 9162 inclusion proof."],
        "rai:dataLimitations": [
            f"The bundle is one rights holder's catalogue: {summary}.",
            "Durations, pages and lines come from file headers and text lines; script pages "
            "are estimated at 55 lines a page where the file marks no page breaks."],
        "rai:dataBiases": [
            "The content reflects the works one studio chose to license; it is not a "
            "representative sample of film, speech or writing."],
        "rai:personalSensitiveInformation": [
            f"Contains creative work and performances of {len(d.contributors)} credited "
            f"contributors ({', '.join(roles) or 'none credited'}). Reproducing a performer's "
            "voice or likeness needs that performer's own recorded consent (consent.granted), "
            "whatever the license says."],
        "rai:dataSocialImpact": (
            "Licensed, credited training data: the credited contributors are known, guilds "
            "co-sign licenses on their members' work, and royalties can be traced to them."),
        "rai:dataReleaseMaintenancePlan": (
            "Each version is immutable and logged; a new version names its predecessor "
            "(prov:wasDerivedFrom). `reelrights bundle show` gives the latest version."),
        "distribution": distribution,
        "recordSet": [{
            "@type": "cr:RecordSet",
            "@id": "assets",
            "name": "assets",
            "description": "One record per asset of the bundle, sorted by SHA-256 (the order "
                           "of the Merkle root's leaves).",
            "key": {"@id": "assets/sha256"},
            "field": [{"@type": "cr:Field", "@id": f"assets/{f}", "name": f,
                       "description": desc, "dataType": dt} for f, dt, desc in _FIELDS],
            "data": data,
        }],
    }
    if d.contributors:
        doc["contributor"] = [{"@type": _agent(contributor_kinds.get(c.party)),
                               "@id": party_iri(c.party), "name": c.name or c.party,
                               "description": f"credited as {', '.join(c.roles)}"
                               if c.roles else "credited"}
                              for c in d.contributors]
    if d.predecessor_id:
        doc["prov:wasDerivedFrom"] = {"@id": bundle_iri(d.predecessor_id)}
    return doc
