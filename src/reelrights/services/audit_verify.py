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
   the registry's fingerprints (:func:`reelrights.services.scan.scan_files`): a registered film
   hidden under an "own" item is found.

The share of failing items is bounded by the exact one-sided Clopper-Pearson 95 % upper limit
(:mod:`reelrights.core.sampling`). The result is signed as a certificate
(:mod:`reelrights.services.certificates`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ..core.commitment import SALT_SIZE, canonical_item, leaf_hash, verify_item
from ..core.merkle import root_of
from ..errors import BadInput, ProofError, ReelrightsError
from ..home import Home
from ..store.tables import bundle_assets, licenses, work_assets, works
from .audit_challenge import RESPONSE_FORMAT, Challenge
from .licensing import license_status
from .policy import CheckContext, check

__all__ = ["FAILURES", "Finding", "VERDICTS", "check_response", "judge_item", "read_response"]

VERDICTS = ("licensed", "not-licensed", "consent-missing", "co-signature-missing",
            "proof-failed", "hash-mismatch")
#: Verdicts that count against the run in the bound (all but licensed).
FAILURES = frozenset(VERDICTS) - {"licensed"}


@dataclass
class Finding:
    index: int
    sha256: str
    basis: str
    verdict: str
    reasons: list[str] = field(default_factory=list)
    license: str | None = None
    media: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"index": self.index, "sha256": self.sha256, "basis": self.basis,
               "verdict": self.verdict, "license": self.license, "reasons": self.reasons}
        if self.media is not None:
            out["media"] = self.media
        return out


def read_response(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path} does not exist; pass the file `audit respond -o` wrote") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadInput(f"{path} is not JSON ({exc}); pass the file `audit respond -o` wrote") \
            from None
    if type(doc) is not dict or doc.get("format") != RESPONSE_FORMAT:
        raise BadInput(f"{path} is not an audit response ({RESPONSE_FORMAT})")
    if type(doc.get("challenge")) is not str or type(doc.get("items")) is not list:
        raise BadInput(f"{path} lacks challenge or items; it is damaged")
    return doc


def _opened(entry: Any, n: int) -> tuple[int, bytes, dict, list[bytes]]:
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
                   *, territory: str | None = None, scan: bool = True) -> list[Finding]:
    """Findings for every opened item (raises ProofError if any proof fails; see module doc).

    ``territory`` is where the run trained (ISO 3166 code): licenses limited to territories
    allow training only when it is given and covered.
    """
    if doc["challenge"] != ch.id:
        raise BadInput(f"the response answers challenge {doc['challenge']}, not {ch.id}")
    opened = [_opened(e, n) for n, e in enumerate(doc["items"])]
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
    ctx = AtCommitment(ch.run.developer_id, "train", ch.run.model_family,
                       date.fromisoformat(ch.run.committed_at[:10]),
                       territory.upper() if territory else None, at=ch.run.committed_at)
    findings = [judge_item(conn, ctx, index, item) for index, _, item, _ in opened]
    media = {n: e.get("media") for n, e in enumerate(doc["items"]) if e.get("media")}
    if media:
        _check_media(home, ctx, findings, media, scan)
    return findings


@dataclass(frozen=True)
class AtCommitment(CheckContext):
    """A policy context pinned to the instant the run was committed, not the end of its day:
    a license revoked (or co-signed) later that day does not change the verdict."""

    at: str = ""

    @property
    def end_of_day(self) -> str:
        return self.at


def judge_item(conn: Connection, ctx: CheckContext, index: int, item: dict) -> Finding:
    """The verdict on one committed item, as of the run's day (see module doc, step 3)."""
    sha, basis = item["sha256"], item["basis"]
    f = Finding(index, sha, basis["type"], "not-licensed")
    if basis["type"] == "license":
        _judge_license(conn, ctx, f, basis)
        return f
    owners = sorted({r.owner_id for r in conn.execute(
        select(works.c.owner_id).join(work_assets, work_assets.c.work_id == works.c.id)
        .where(work_assets.c.sha256 == sha))})
    claim = {"own": "the developer's own content", "public-domain": "public domain",
             "open-license": f"under the open license {basis.get('spdx')}"}[basis["type"]]
    if not owners:
        f.verdict = "licensed"
        f.reasons.append(f"claimed as {claim}; not registered to anyone, so the claim is noted "
                         "(the registry cannot confirm it)")
    elif owners == [ctx.licensee] and basis["type"] == "own":
        f.verdict = "licensed"
        f.reasons.append("the developer's own content, registered to the developer")
    else:
        verdict = check(conn, ctx, asset=sha)
        f.license = verdict.license
        if verdict.allowed:
            f.verdict = "licensed"
            f.reasons += [f"claimed as {claim} but registered to {', '.join(owners)}; a license "
                          "allows it all the same", *verdict.reasons]
        else:
            f.reasons += [f"claimed as {claim} but registered to {', '.join(owners)}, and no "
                          "license of the developer allows it", *verdict.reasons]
    return f


def _judge_license(conn: Connection, ctx: CheckContext, f: Finding, basis: dict) -> None:
    lic = conn.execute(select(licenses).where(licenses.c.id == basis["license"])).first()
    if lic is None:
        f.reasons.append(f"names license {basis['license']}, which is not registered")
        return
    f.license = lic.id
    if lic.licensee_id != ctx.licensee:
        f.reasons.append(f"license {lic.id} is held by {lic.licensee_id}, not the developer")
        return
    if lic.bundle_id != basis["bundle"]:
        f.reasons.append(f"license {lic.id} covers bundle {lic.bundle_id}, not {basis['bundle']}")
        return
    if conn.execute(select(bundle_assets.c.sha256).where(
            bundle_assets.c.bundle_id == lic.bundle_id,
            bundle_assets.c.sha256 == f.sha256)).first() is None:
        f.reasons.append(f"the item is not in bundle {lic.bundle_id}, so license {lic.id} does "
                         "not cover it")
        return
    status = license_status(conn, lic, ctx.end_of_day)
    if status["missing_cosigners"] and not status["revoked"]:
        f.verdict = "co-signature-missing"
        f.reasons.append(f"license {lic.id} was not in force at {ctx.end_of_day}: missing "
                         f"co-signature of {', '.join(status['missing_cosigners'])}")
        return
    verdict = check(conn, ctx, asset=f.sha256)
    f.reasons += verdict.reasons
    if verdict.allowed:
        f.verdict, f.license = "licensed", verdict.license
    elif any("consent" in r.lower() for r in verdict.reasons):
        f.verdict = "consent-missing"


def _check_media(home: Home, ctx: CheckContext, findings: list[Finding],
                 media: dict[int, str], scan: bool) -> None:
    """Step 4: the media's SHA-256 is the item's, and a scan finds no unlicensed work in it."""
    to_scan: dict[str, list[Finding]] = {}
    for n, path in media.items():
        f = findings[n]
        f.media = path
        h = hashlib.sha256()
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
        except OSError as exc:
            raise BadInput(f"media {path} of item {f.index} cannot be read ({exc.strerror}); "
                           "ask the developer for it again") from None
        if h.hexdigest() != f.sha256:
            f.verdict = "hash-mismatch"
            f.reasons.append(f"media {path} has SHA-256 {h.hexdigest()}, not the committed "
                             f"{f.sha256}")
        elif scan:
            to_scan.setdefault(path, []).append(f)
    if not to_scan:
        return
    from .scan import scan_files  # the fingerprint scan (heavy imports: only when media come)

    report = scan_files(home, list(to_scan), ctx.licensee, ctx.model_family, ctx.day,
                        ctx.territory)
    for item in report.items:
        for f in to_scan[item.path]:
            _judge_scan(f, item)


def _judge_scan(f: Finding, item: Any) -> None:
    """Fold one scanned file's verdict into the item's finding."""
    if item.error is not None:
        f.reasons.append(f"scan: {item.error}")
        return
    worst = [m for m in item.matches if m.get("verdict") == item.verdict]
    names = ", ".join(sorted({w for m in worst for w in m.get("works", [])})) or "a work"
    if item.verdict == "not-licensed":
        f.verdict = "not-licensed"
        f.reasons.append(f"scan: the media match registered {names}, which the developer "
                         "may not train on")
    elif item.verdict == "licensed-consent-missing" and f.verdict == "licensed":
        missing = {x for m in worst for x in m.get("missing", [])}
        f.verdict = "consent-missing" if "consent" in missing else "co-signature-missing"
        f.reasons.append(f"scan: the media match {names}, licensed but missing "
                         f"{' and '.join(sorted(missing))}")
    elif item.verdict == "licensed":
        f.reasons.append(f"scan: the media match {names}, licensed")
    else:
        f.reasons.append("scan: no registered work matched")


def tally(findings: list[Finding]) -> tuple[dict[str, int], int]:
    counts = Counter(f.verdict for f in findings)
    return {v: counts.get(v, 0) for v in VERDICTS}, sum(counts[v] for v in FAILURES)
