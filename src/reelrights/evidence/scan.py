"""Scan media for registered works, and say for each whether the licensee may use it.

For each item (a file): fingerprint it in an engine worker, search the home's indexes, turn
index hits into matches with time or line ranges (:mod:`reelrights.evidence.scan_match`), and ask
the policy engine about every matched asset for this licensee, model family, date and territory:

* ``licensed``: a license in force allows it (license id and its log index are reported);
* ``licensed-consent-missing``: a license of this licensee covers it but is not in force for
  want of a guild co-signature or a performer's consent (``missing`` names which);
* ``not-licensed``: a registered work, and no license of this licensee allows it;
* ``no-match``: nothing registered matched (the developer's own or other content).

An item's verdict is its worst match's. :class:`ScanReport` writes one JSON line per item and
then one summary line (items, hours, pages, share by verdict). ``exit_code`` is 3 when anything
matched is not licensed (a policy finding), else 2 when an item could not be read, else 0.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date as Date
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, select

from ..errors import BadInput
from ..home import Home
from ..media.engine import Engine, FileJob, LocalEngine, crashed_result, file_job
from ..rights.policy import check, resolve_context
from ..store.db import Database
from ..store.tables import bundle_assets, licenses, work_assets
from .fingerprints import MODES, Indexes, picture_aspects, print_classes
from .scan_audio import LandmarkRegistry, match_landmarks
from .scan_match import match_audio, match_text, match_video

__all__ = ["VERDICTS", "ScanItem", "ScanReport", "read_inputs", "scan_files"]

VERDICTS = ("licensed", "licensed-consent-missing", "not-licensed", "no-match")
_SEVERITY = {"no-match": 0, "licensed": 1, "licensed-consent-missing": 2, "not-licensed": 3}
MANIFEST_SUFFIXES = (".jsonl", ".ndjson")


@dataclass
class ScanItem:
    path: str
    sha256: str | None = None
    category: str | None = None
    media_type: str | None = None
    duration_ms: int | None = None
    pages: int | None = None
    matches: list[dict[str, Any]] = field(default_factory=list)
    verdict: str | None = None            # None when the item could not be read
    error: str | None = None
    cpu_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "sha256": self.sha256,
                               "category": self.category, "media_type": self.media_type}
        for k in ("duration_ms", "pages"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        if self.error is not None:
            return {**out, "verdict": None, "error": self.error}
        return {**out, "verdict": self.verdict, "matches": self.matches}


@dataclass
class ScanReport:
    licensee: str
    model_family: str | None
    on: str
    territory: str | None
    action: str
    items: list[ScanItem] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        read = [i for i in self.items if i.error is None]
        counts = Counter(i.verdict for i in read)
        hours: dict[str | None, float] = {}
        for i in read:
            if i.duration_ms and i.category in ("video", "audio"):
                hours[i.verdict] = hours.get(i.verdict, 0.0) + i.duration_ms / 3_600_000
        pages = sum(i.pages or 0 for i in read if i.category in ("text", "document"))
        n = len(read)
        return {"summary": True, "licensee": self.licensee, "model_family": self.model_family,
                "date": self.on, "territory": self.territory, "action": self.action,
                "items": len(self.items), "unreadable": len(self.items) - n,
                "hours": round(sum(hours.values()), 4), "pages": pages,
                "by_verdict": {v: {"items": counts.get(v, 0),
                                   "share": round(counts.get(v, 0) / n, 6) if n else 0.0,
                                   "hours": round(hours.get(v, 0.0), 4)} for v in VERDICTS},
                "cpu_s": round(sum(i.cpu_s for i in self.items), 3)}

    @property
    def exit_code(self) -> int:
        if any(i.verdict in ("not-licensed", "licensed-consent-missing") for i in self.items):
            return 3
        return 2 if any(i.error is not None for i in self.items) else 0

    def jsonl(self) -> Iterator[str]:
        """The report's lines (without line ends): one per item, then the summary."""
        for item in self.items:
            yield json.dumps(item.to_json(), ensure_ascii=False)
        yield json.dumps(self.summary(), ensure_ascii=False)

    def write_jsonl(self, out: IO[str]) -> None:
        for line in self.jsonl():
            out.write(line + "\n")


def read_inputs(target: Path) -> list[Path]:
    """A media file, a directory (every file in it, recursively, hidden ones skipped) or a
    JSONL manifest whose lines carry a ``path`` relative to the manifest."""
    target = Path(target)
    if target.is_dir():
        files = sorted(p for p in target.rglob("*") if p.is_file()
                       and not any(part.startswith(".") for part in p.relative_to(target).parts))
        if not files:
            raise BadInput(f"{target}: the directory holds no files; point scan at media")
        return files
    if not target.is_file():
        raise BadInput(f"{target}: no such file or directory; give a media file, a directory "
                       "or a JSONL manifest")
    if target.suffix.lower() not in MANIFEST_SUFFIXES:
        return [target]
    paths = []
    with target.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rel = json.loads(line)["path"]
                if not isinstance(rel, str) or not rel:
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                raise BadInput(f"{target}:{n}: each manifest line must be a JSON object with "
                               "a \"path\" string; fix that line") from None
            p = target.parent / rel
            if not p.is_file():
                raise BadInput(f"{target}:{n}: {rel} is not a file (paths are relative to the "
                               "manifest); fix the path")
            paths.append(p)
    if not paths:
        raise BadInput(f"{target}: the manifest lists no items; add lines with a \"path\"")
    return paths


def scan_files(home: Home, paths: Iterable[str | Path], licensee: str, model_family: str | None,
               date: Date | None = None, territory: str | None = None, *, action: str = "train",
               engine: Engine | None = None, keyframes_only: bool = False,
               db: Database | None = None,
               progress: Callable[[ScanItem], None] | None = None,
               mode: str = "fast") -> ScanReport:
    """Scan files for registered works and judge each match (see the module docstring).

    ``mode`` ``"thorough"`` also hashes each sampled frame's quadrants and any picture-in-picture
    inset found in it (docs/scan.md: what each mode finds, and its cost)."""
    if mode not in MODES:
        raise BadInput(f"mode {mode!r}: use one of {', '.join(MODES)}")
    own_db = db is None
    db = db or Database(home.database_url)
    try:
        with db.read() as conn:  # resolve the context first: a bad licensee costs no decoding
            ctx = resolve_context(conn, licensee=licensee, action=action,
                                  model_family=model_family, on=date, territory=territory)
            aspects = picture_aspects(conn)  # copies cropped to another aspect are cut back
        report = ScanReport(ctx.licensee, model_family, ctx.day.isoformat(), ctx.territory,
                            action)
        jobs = [FileJob(str(p), None, None, keyframes_only, mode=mode, aspects=aspects) for p in paths]
        order = {j.path: n for n, j in enumerate(jobs)}
        indexes = Indexes(home)
        classes = print_classes()
        landmarks = LandmarkRegistry(indexes.dir("landmarks"))
        verdicts: dict[str, dict[str, Any]] = {}
        for job, result in (engine or LocalEngine()).run(file_job, jobs, crashed_result):
            facts = result.facts or {}
            item = ScanItem(job.path, result.sha256, facts.get("category"),
                            facts.get("media_type"), facts.get("duration_ms"), facts.get("pages"),
                            error=result.error, cpu_s=result.cpu_s)
            if result.error is None:
                prints = {k: classes[k].from_bytes(b) for k, b in result.prints.items()}
                with db.read() as conn:
                    item.matches = _matches(conn, indexes, prints, landmarks)
                    for m in item.matches:
                        v = verdicts.get(m["sha256"])
                        if v is None:
                            v = verdicts[m["sha256"]] = _verdict(conn, ctx, m["sha256"])
                        m.update(v)
                item.verdict = max((m["verdict"] for m in item.matches), default="no-match",
                                   key=_SEVERITY.__getitem__)
            report.items.append(item)
            if progress is not None:
                progress(item)
        report.items.sort(key=lambda i: order[i.path])
        return report
    finally:
        if own_db:
            db.engine.dispose()


def _matches(conn: Connection, indexes: Indexes, prints: dict[str, Any],
             landmarks: LandmarkRegistry) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if "video" in prints and indexes.dir("pdq").exists():
        out += match_video(conn, indexes.get("pdq"), prints["video"])
    if "landmark" in prints:  # audio files and soundtracks: landmarks decide for assets that have them
        out += match_landmarks(landmarks.load(conn), prints["landmark"])
    if "audio" in prints and indexes.dir("audio").exists():
        covered = landmarks.covered if "landmark" in prints else set()
        out += [m for m in match_audio(conn, indexes.get("audio"), prints["audio"])
                if m["sha256"] not in covered]
    if "text" in prints and indexes.dir("scripts").exists():
        out += match_text(conn, indexes.get("scripts"), prints["text"])
    if out:
        works: dict[str, list[str]] = {}
        shas = sorted({m["sha256"] for m in out})
        for r in conn.execute(select(work_assets.c.sha256, work_assets.c.work_id)
                              .where(work_assets.c.sha256.in_(shas))
                              .order_by(work_assets.c.log_index)):
            works.setdefault(r.sha256, []).append(r.work_id)
        for m in out:
            m["works"] = works.get(m["sha256"], [])
    out.sort(key=lambda m: (-m["similarity"], m["signal"], m["sha256"]))
    return out


def _verdict(conn: Connection, ctx: Any, sha: str) -> dict[str, Any]:
    """The policy engine's answer for one matched asset, as a scan verdict."""
    v = check(conn, ctx, asset=sha)
    if v.allowed:
        log_index = conn.scalar(select(licenses.c.log_index).where(licenses.c.id == v.license))
        return {"verdict": "licensed", "license": v.license, "license_log_index": log_index,
                "reasons": v.reasons}
    held = conn.execute(select(licenses.c.id, licenses.c.log_index)
                        .join(bundle_assets, bundle_assets.c.bundle_id == licenses.c.bundle_id)
                        .where(bundle_assets.c.sha256 == sha,
                               licenses.c.licensee_id == ctx.licensee,
                               licenses.c.revoked_at.is_(None))
                        .order_by(licenses.c.log_index)).first()
    missing = []
    if any("missing co-signature" in r for r in v.reasons):
        missing.append("co-signature")
    if any("consent" in r.lower() for r in v.reasons):
        missing.append("consent")
    if held is not None and missing:
        return {"verdict": "licensed-consent-missing", "license": held.id,
                "license_log_index": held.log_index, "missing": missing, "reasons": v.reasons}
    return {"verdict": "not-licensed", "license": None, "reasons": v.reasons}
