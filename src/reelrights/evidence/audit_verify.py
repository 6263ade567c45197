"""The auditor's side: check a developer's response and certify the run.

1. **The sample is the challenge's.** The indices are re-derived from the logged challenge; a
   response that opens other indices (or leaves one out) is refused.
2. **Every opened item was committed.** Each (index, salt, item) must hash to a leaf whose RFC
   9162 inclusion proof leads to the committed root (a full audit recomputes the root from all
   items). One failed proof fails the audit outright: no certificate, exit 1.
3. **Every sampled item is lawful to train on.** A licensed item is checked against the
   registry and the policy engine as of the day the run was committed: the license exists, is
   held by the developer, covers the item's bundle and the item, is co-signed by every required
   guild, is not revoked, and its ODRL terms (model family, territory, duties such as consent)
   allow training. Other bases are checked for plausibility: content claimed as the developer's
   own, public domain or openly licensed must not be registered to someone else (unless a
   license allows it anyway); unregistered content is accepted and the claim noted.
4. **Supplied media are what was committed**, byte for byte (SHA-256), and are scanned against
   the registry's fingerprints (:func:`reelrights.evidence.scan.scan_files`): a registered film
   hidden under an "own" item is found. Media are opened only inside the response's media
   folder and only as regular files (:mod:`.audit_media`). A file that cannot be read or
   scanned leaves its item **inconclusive**, which is not a pass.

Each finding carries typed reason codes (:class:`reelrights.evidence.audit_types.Reason`) with a
message each; the item's verdict is decided from the codes alone
(:func:`reelrights.evidence.audit_types.verdict_of`), never from the wording of a message.

The share of failing items is bounded by the exact one-sided Clopper-Pearson 95 % upper limit
(:mod:`reelrights.core.sampling`). The result is signed as a certificate
(:mod:`reelrights.evidence.certificates`).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ..core.commitment import SALT_SIZE, canonical_item, leaf_hash, verify_item
from ..core.merkle import root_of
from ..core.odrl import parse_policy
from ..errors import BadInput, ProofError, ReelrightsError
from ..home import Home
from ..rights.licensing import license_status
from ..rights.policy import CheckContext, check
from ..store.run_tables import run_out_of_force
from ..store.tables import bundle_assets, licenses, work_assets, works
from .audit_challenge import RESPONSE_FORMAT, Challenge
from .audit_media import MediaGap, SafeMedia, confine, hash_media
from .audit_types import FAILING, Reason, parse_time, verdict_of

__all__ = ["FAILURES", "Finding", "VERDICTS", "check_response", "judge_item", "read_response",
           "tally"]

#: The verdicts a certificate counts, in this order (every failing code, and inconclusive).
VERDICTS = (Reason.LICENSED.value, *(c.value for c in FAILING), Reason.INCONCLUSIVE.value)
#: Verdicts that count against the run in the bound (all but licensed).
FAILURES = frozenset(VERDICTS) - {Reason.LICENSED.value}


_FAILING = frozenset(FAILING)


@dataclass
class Finding:
    index: int
    sha256: str
    basis: str
    #: (code, message) pairs: the codes decide, the messages explain.
    reasons: list[tuple[Reason, str]] = field(default_factory=list)
    license: str | None = None
    media: str | None = None

    def add(self, code: Reason, message: str) -> None:
        self.reasons.append((Reason(code), message))

    @property
    def codes(self) -> frozenset[Reason]:
        return frozenset(code for code, _ in self.reasons)

    @property
    def verdict(self) -> str:
        return verdict_of(self.codes).value

    def to_json(self) -> dict[str, Any]:
        out = {"index": self.index, "sha256": self.sha256, "basis": self.basis,
               "verdict": self.verdict, "license": self.license,
               "reasons": [m for _, m in self.reasons],
               "codes": [c.value for c, _ in self.reasons]}
        if self.media is not None:
            out["media"] = self.media
        return out


def read_response(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path} does not exist; pass the file `audit respond -o` wrote") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadInput(f"{path} is not JSON ({type(exc).__name__}); pass the file `audit "
                       "respond -o` wrote") from None
    if type(doc) is dict and doc.get("format") == "reelrights/audit-response/v1":
        raise BadInput(f"{path} is an audit response of an older format (absolute media paths); "
                       "ask the developer to run `audit respond` again")
    if type(doc) is dict and doc.get("disclosure") == "reelrights/sealed-disclosure/v1":
        return doc  # a logged response (audit.opened), fetched: certify checks and opens it
    if type(doc) is not dict or doc.get("format") != RESPONSE_FORMAT:
        raise BadInput(f"{path} is not an audit response ({RESPONSE_FORMAT})")
    if type(doc.get("challenge")) is not str or type(doc.get("items")) is not list:
        raise BadInput(f"{path} lacks challenge or items; it is damaged")
    if "media_root" in doc and type(doc["media_root"]) is not str:
        raise BadInput(f"{path}: media_root must be a folder path; it is damaged")
    if type(doc["items"]) is list and any(type(e) is not dict for e in doc["items"]):
        raise BadInput(f"{path}: every item must be a JSON object; it is damaged")
    return doc


def _opened(entry: Any, n: int) -> tuple[int, bytes, dict[str, Any], list[bytes]]:
    """(index, salt, item, proof) of one response entry, or BadInput naming the broken field."""
    try:
        index, salt, item, proof = entry["index"], entry["salt"], entry["item"], entry["proof"]
        if type(index) is not int or type(item) is not dict or type(proof) is not list:
            raise TypeError
        return index, bytes.fromhex(salt), item, [bytes.fromhex(h) for h in proof]
    except (KeyError, TypeError, ValueError):
        raise BadInput(f"response item {n} needs index, salt (hex), item and proof (hex list)") \
            from None


def check_response(home: Home, conn: Connection, ch: Challenge, doc: dict[str, Any],
                   *, territory: str | None = None, scan: bool = True,
                   media_root: Path | None = None) -> list[Finding]:
    """Findings for every opened item (raises ProofError if any proof fails; see module doc).

    ``territory`` is where the run trained (ISO 3166 code): licenses limited to territories
    allow training only when it is given and covered. ``media_root`` is the auditor's copy of
    the developer's media folder (default: the response's ``media_root``).
    """
    if doc["challenge"] != ch.id:
        raise BadInput(f"the response answers challenge {doc['challenge']}, not {ch.id}")
    opened = [_opened(e, n) for n, e in enumerate(doc["items"])]
    media = _confined_media(doc, media_root)  # refuses a hostile path before any work
    want = ch.indices()
    got = [o[0] for o in opened]
    if sorted(got) != want:
        missing = sorted(set(want) - set(got))[:5]
        extra = sorted(set(got) - set(want))[:5]
        raise BadInput(f"the response opens other items than challenge {ch.id} asks for "
                       f"(missing {missing}, not asked {extra}); the developer must answer "
                       "the logged challenge")
    root = bytes.fromhex(ch.run.root)
    bad: list[str] = []
    if ch.full:
        try:
            hashes = [leaf_hash(salt, canonical_item(item)) for _, salt, item, _ in
                      sorted(opened, key=lambda o: o[0])]
        except ReelrightsError as exc:
            raise ProofError(f"the full manifest does not rebuild the committed root: {exc}") \
                from None
        if root_of(hashes) != root:
            bad.append("the items and salts do not rebuild the committed root")
    else:
        for index, salt, item, proof in opened:
            try:
                if len(salt) != SALT_SIZE:
                    raise ProofError(f"salt of item {index} is not {SALT_SIZE} bytes")
                verify_item(root, ch.run.count, index, salt, item, proof)
            except ProofError as exc:
                bad.append(f"item {index}: {exc.message}")
    if bad:
        raise ProofError(f"audit fails: {len(bad)} opened item(s) do not verify against run "
                         f"{ch.run.id}'s committed root ({bad[0]}); no certificate is issued")
    committed = parse_time(ch.run.committed_at, f"run {ch.run.id}'s commitment time")
    ctx = AtCommitment(ch.run.developer_id, "train", ch.run.model_family, committed.date(),
                       territory.upper() if territory else None, at=ch.run.committed_at)
    findings = [judge_item(conn, ctx, index, item) for index, _, item, _ in opened]
    _judge_over_run(conn, ch.run.id, findings, [item for _, _, item, _ in opened])
    if media:
        _check_media(home, ctx, findings, media, scan)
    return findings


def _judge_over_run(conn: Connection, run_id: str, findings: list[Finding],
                    items: list[dict[str, Any]]) -> None:
    """A license the run had out of force (recorded when it was committed: over the log-time
    interval from its ``run.started`` to its commit, or at the commit) fails every item the
    run committed under it, even where some license is in force at the commit alone."""
    out = dict(conn.execute(select(run_out_of_force.c.license_id, run_out_of_force.c.reason)
                            .where(run_out_of_force.c.run_id == run_id)).all())
    for f, item in zip(findings, items, strict=True):
        lic = item["basis"].get("license") if item["basis"]["type"] == "license" else None
        if lic in out and not f.codes & _FAILING:  # a finer failure already says why
            f.add(Reason.NOT_IN_FORCE, f"license {lic} was out of force for run {run_id}: "
                                       f"{out[lic]}")


def _confined_media(doc: dict[str, Any], media_root: Path | None) -> dict[int, SafeMedia |
                                                                              MediaGap]:
    """Each item's media, confined to the media folder (see :mod:`.audit_media`)."""
    named = {n: e["media"] for n, e in enumerate(doc["items"]) if "media" in e}
    if not named:
        return {}
    root = media_root if media_root is not None else doc.get("media_root")
    if root is None:
        raise BadInput("the response names media files but no media folder (media_root); ask "
                       "the developer to run `audit respond --media DIR` again")
    if not Path(root).is_dir():
        raise BadInput(f"media folder {root} does not exist here; pass your copy of it with "
                       "--media DIR")
    return {n: confine(Path(root), name, doc["items"][n].get("index")) for n, name in
            named.items()}


@dataclass(frozen=True)
class AtCommitment(CheckContext):
    """A policy context pinned to the instant the run was committed, not the end of its day:
    a license revoked (or co-signed) later that day does not change the verdict."""

    at: str = ""

    @property
    def end_of_day(self) -> str:
        return self.at


def judge_item(conn: Connection, ctx: CheckContext, index: int, item: dict[str, Any]) -> Finding:
    """The finding on one committed item, as of the run's commitment (module doc, step 3)."""
    sha, basis = item["sha256"], item["basis"]
    f = Finding(index, sha, basis["type"])
    if basis["type"] == "license":
        _judge_license(conn, ctx, f, basis)
        return f
    owners = sorted({r.owner_id for r in conn.execute(
        select(works.c.owner_id).join(work_assets, work_assets.c.work_id == works.c.id)
        .where(work_assets.c.sha256 == sha))})
    claim = {"own": "the developer's own content", "public-domain": "public domain",
             "open-license": f"under the open license {basis.get('spdx')}"}[basis["type"]]
    if not owners:
        f.add(Reason.LICENSED, f"claimed as {claim}; not registered to anyone, so the claim is "
                               "noted (the registry cannot confirm it)")
    elif owners == [ctx.licensee] and basis["type"] == "own":
        f.add(Reason.LICENSED, "the developer's own content, registered to the developer")
    else:
        verdict = check(conn, ctx, asset=sha)
        f.license = verdict.license
        if verdict.allowed:
            f.add(Reason.LICENSED, f"claimed as {claim} but registered to {', '.join(owners)}; "
                                   "a license allows it all the same")
            f.reasons += [(Reason.NOTED, r) for r in verdict.reasons]
        else:
            f.add(Reason.NOT_LICENSED, f"claimed as {claim} but registered to "
                                       f"{', '.join(owners)}, and no license of the developer "
                                       "allows it")
            f.reasons += [(Reason.NOTED, r) for r in verdict.reasons]
    return f


def _judge_license(conn: Connection, ctx: CheckContext, f: Finding, basis: dict[str, Any]) -> None:
    lic = conn.execute(select(licenses).where(licenses.c.id == basis["license"])).first()
    if lic is None:
        f.add(Reason.UNKNOWN_LICENSE, f"names license {basis['license']}, which is not "
                                      "registered")
        return
    f.license = lic.id
    if lic.licensee_id != ctx.licensee:
        f.add(Reason.WRONG_LICENSEE, f"license {lic.id} is held by {lic.licensee_id}, not the "
                                     "developer")
        return
    if lic.bundle_id != basis["bundle"]:
        f.add(Reason.NOT_COVERED, f"license {lic.id} covers bundle {lic.bundle_id}, not "
                                  f"{basis['bundle']}")
        return
    if conn.execute(select(bundle_assets.c.sha256).where(
            bundle_assets.c.bundle_id == lic.bundle_id,
            bundle_assets.c.sha256 == f.sha256)).first() is None:
        f.add(Reason.NOT_COVERED, f"the item is not in bundle {lic.bundle_id}, so license "
                                  f"{lic.id} does not cover it")
        return
    status = license_status(conn, lic, ctx.end_of_day)
    if lic.granted_at > ctx.end_of_day:
        f.add(Reason.NOT_IN_FORCE, f"license {lic.id} was granted at {lic.granted_at}, after "
                                   f"the run was committed ({ctx.end_of_day})")
        return
    if status["revoked"]:
        f.add(Reason.REVOKED, f"license {lic.id} was revoked at {status['revoked_at']}, before "
                              f"the run was committed: {status['revoke_reason']}")
        return
    if status["missing_cosigners"]:
        f.add(Reason.NO_COSIGNATURE, f"license {lic.id} was not in force at {ctx.end_of_day}: "
                                     "missing co-signature of "
                                     f"{', '.join(status['missing_cosigners'])}")
        return
    verdict = check(conn, ctx, asset=f.sha256)
    if verdict.allowed:
        f.license = verdict.license
        f.reasons += [(Reason.LICENSED, r) for r in verdict.reasons]
        return
    missing = _unmet_consents(conn, ctx, lic)
    if missing:
        f.add(Reason.NO_CONSENT, f"license {lic.id} requires the consent of "
                                 f"{', '.join(missing)}, which no live consent covers")
    else:
        f.add(Reason.NOT_LICENSED, f"license {lic.id}'s terms do not allow training for this "
                                   "run")
    f.reasons += [(Reason.NOTED, r) for r in verdict.reasons]


def _unmet_consents(conn: Connection, ctx: CheckContext, lic: Any) -> list[str]:
    """Performers whose consent the license's obtainConsent duties require and no consent
    covers for this run (looked up in the registry, as the policy engine does)."""
    from ..core.iri import id_from_iri
    from ..rights.consent import find_consent

    policy = parse_policy(json.loads(lic.policy))
    parties = sorted({d.consenting_party for rule in policy.permissions for d in rule.duties
                      if d.consenting_party} |
                     {d.consenting_party for d in policy.obligations if d.consenting_party})
    unmet = []
    for iri in parties:
        performer = id_from_iri(iri, "party")
        if performer is None or not any(
                find_consent(conn, performer_id=performer, kind=kind, on=ctx.day,
                             production=ctx.production, model_family=ctx.model_family,
                             licensee_id=ctx.licensee, territory=ctx.territory, medium=None).ok
                for kind in ("voice", "likeness")):
            unmet.append(performer or iri)
    return unmet


def _check_media(home: Home, ctx: CheckContext, findings: list[Finding],
                 media: dict[int, SafeMedia | MediaGap], scan: bool) -> None:
    """Step 4: the media's SHA-256 is the item's, and a scan finds no unlicensed work in it.
    A file that cannot be read or scanned makes its item inconclusive."""
    to_scan: dict[str, list[Finding]] = {}
    for n, m in media.items():
        f = findings[n]
        f.media = m.name
        if isinstance(m, MediaGap):
            f.add(Reason.INCONCLUSIVE, f"{m.message}: the item could not be checked")
            continue
        digest = hash_media(m)
        if isinstance(digest, MediaGap):
            f.add(Reason.INCONCLUSIVE, f"{digest.message}: the item could not be checked")
        elif digest != f.sha256:
            f.add(Reason.COMMITMENT_MISMATCH, f"media {m.name} has SHA-256 {digest}, not the "
                                              f"committed {f.sha256}")
        elif scan:
            to_scan.setdefault(str(m.path), []).append(f)
    if not to_scan:
        return
    from .scan import scan_files

    report = scan_files(home, list(to_scan), ctx.licensee, ctx.model_family, ctx.day,
                        ctx.territory)
    scanned = set()
    for item in report.items:
        scanned.add(item.path)
        for f in to_scan.get(item.path, []):
            _judge_scan(f, item)
    for path in set(to_scan) - scanned:
        for f in to_scan[path]:
            f.add(Reason.INCONCLUSIVE, "scan: the media was not scanned: the item could not be "
                                       "checked")


def _judge_scan(f: Finding, item: Any) -> None:
    """Fold one scanned file's verdict into the item's finding (codes from the scan's
    verdict and its structured ``missing`` list, not from any message)."""
    if item.error is not None or item.verdict is None:
        error = (item.error or "no verdict").replace(item.path, "the file")  # names no file
        f.add(Reason.INCONCLUSIVE, f"scan: the media could not be scanned ({error}): the item "
                                   "could not be checked")
        return
    worst = [m for m in item.matches if m.get("verdict") == item.verdict]
    names = ", ".join(sorted({w for m in worst for w in m.get("works", [])})) or "a work"
    if item.verdict == "not-licensed":
        f.add(Reason.NOT_LICENSED, f"scan: the media match registered {names}, which the "
                                   "developer may not train on")
    elif item.verdict == "licensed-consent-missing":
        missing = {x for m in worst for x in m.get("missing", [])}
        code = Reason.NO_CONSENT if "consent" in missing else Reason.NO_COSIGNATURE
        f.add(code, f"scan: the media match {names}, licensed but missing "
                    f"{' and '.join(sorted(missing)) or 'what the license requires'}")
    elif item.verdict == "licensed":
        f.add(Reason.NOTED, f"scan: the media match {names}, licensed")
    else:
        f.add(Reason.NOTED, "scan: no registered work matched")


def tally(findings: list[Finding]) -> tuple[dict[str, int], int]:
    counts = Counter(f.verdict for f in findings)
    return {v: counts.get(v, 0) for v in VERDICTS}, sum(counts[v] for v in FAILURES)
