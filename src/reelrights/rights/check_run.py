"""``check`` as one call: resolve the context, then answer for an asset, a work or a bundle
(:func:`check_one`) or for a manifest of SHA-256 hashes (:func:`check_many`), inside one read
transaction. The CLI's ``check`` and the web's check form (docs/web.md) both call these, so
they answer the same."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..errors import BadInput
from ..store.db import Database
from .policy import CheckContext, Verdict, check, check_manifest, resolve_context

__all__ = ["MAX_WEB_MANIFEST", "ManifestGroup", "ManifestResult", "check_many", "check_one",
           "manifest_hashes"]

#: The most hashes one manifest check returns grouped in memory (the CLI streams larger ones
#: with ``check --manifest --report``).
MAX_WEB_MANIFEST = 10_000


def manifest_hashes(lines: Iterable[str]) -> Iterator[str]:
    """The SHA-256 hashes of a manifest: one per line, or JSONL with a ``sha256`` field."""
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                yield str(json.loads(line)["sha256"]).lower()
            except (ValueError, KeyError, TypeError):
                raise BadInput(f"manifest line {n} is JSON without a sha256 field; give one "
                               "hash per line or JSONL with sha256") from None
        else:
            yield line.lower()


def check_one(db: Database, *, licensee: str, action: str, asset: str | None = None,
              work: str | None = None, bundle: str | None = None,
              **context: Any) -> tuple[CheckContext, Verdict]:
    """Allow or deny one asset, work or bundle (exactly one) for ``licensee``'s ``action``;
    ``context``: model_family, on, territory, performer, production, purpose."""
    with db.read() as conn:
        ctx = resolve_context(conn, licensee=licensee, action=action, **context)
        return ctx, check(conn, ctx, asset=asset, work=work, bundle=bundle)


@dataclass
class ManifestGroup:
    """The items that got the same verdict (items in the same licensed bundles share one)."""

    verdict: Verdict
    hashes: list[str] = field(default_factory=list)


@dataclass
class ManifestResult:
    context: CheckContext
    items: int
    allowed: int
    denied: int
    groups: list[ManifestGroup]


def check_many(db: Database, *, licensee: str, action: str, hashes: Iterable[str],
               on: date | None = None, **context: Any) -> ManifestResult:
    """A manifest's verdicts, grouped (denied groups first), with the counts."""
    groups: dict[tuple[bool, tuple[str, ...], str | None], ManifestGroup] = {}
    counts = [0, 0]
    with db.read() as conn:
        ctx = resolve_context(conn, licensee=licensee, action=action, on=on, **context)
        for n, (sha, v) in enumerate(check_manifest(conn, ctx, hashes)):
            if n >= MAX_WEB_MANIFEST:
                raise BadInput(f"the manifest has more than {MAX_WEB_MANIFEST:,} items; check "
                               "it with `reelrights check --manifest FILE --report OUT`")
            counts[v.allowed] += 1
            g = groups.setdefault((v.allowed, tuple(v.reasons), v.license), ManifestGroup(v))
            g.hashes.append(sha)
    if not counts[0] + counts[1]:
        raise BadInput("the manifest holds no hash; give one SHA-256 per line")
    ordered = sorted(groups.values(), key=lambda g: (g.verdict.allowed, -len(g.hashes)))
    return ManifestResult(ctx, counts[0] + counts[1], counts[1], counts[0], ordered)
