"""A licensee's decisions, loaded once and answered from memory: the training gate's engine.

:func:`reelrights.rights.policy.check_manifest` answers a manifest inside one read transaction.
A training loader asks for days, one item at a time; it must neither hold a transaction open
that long nor pay a query per item. :class:`DecisionTable` reads, in one short transaction,

* which licensed bundle(s) hold each asset (membership by hash: one dict look-up per item),
* the verdict for every distinct set of bundles (one ODRL evaluation per set, as
  ``check_manifest`` does, through the same ``_decide``), and a verdict of its own for every
  asset under an ownership dispute or of a work a rights holder declared a preference about
  (:mod:`reelrights.preferences`),
* the owner of every registered asset, so an item the developer declares as its own (or public
  domain, or openly licensed) is refused when the registry says another party owns it,

and then answers :meth:`decide` without I/O. :meth:`reload` refreshes it (the gate does so on a
timer, so a revocation logged during a run stops the gate within that period). Every verdict is
the one ``check`` gives for the same item, context and registry state
(``tests/test_gate.py`` compares them on every item).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from ..store.dispute_tables import disputes
from ..store.tables import licenses, work_assets, works
from .disputes import Block, dispute_blocks
from .policy import CheckContext, Verdict, _bundle_set, _decide, _targets, licensed_membership

__all__ = ["Decision", "DecisionTable"]


@dataclass(frozen=True)
class Decision:
    """One item's answer: the verdict, and for an allowed item the (license, bundle) it is
    used under (what its manifest line's basis names)."""

    verdict: Verdict
    license: str | None
    bundle: str | None


class DecisionTable:
    """Every decision for one context (licensee, action, model family, territory, day)."""

    def __init__(self, conn: Connection, ctx: CheckContext) -> None:
        self.ctx = ctx
        self._load(conn)

    def reload(self, conn: Connection) -> None:
        """Read the registry again (licenses granted, revoked or co-signed since)."""
        self._load(conn)

    def _load(self, conn: Connection) -> None:
        ctx = self.ctx
        held = conn.execute(select(licenses.c.id, licenses.c.bundle_id)
                            .where(licenses.c.licensee_id == ctx.licensee)).all()
        bundle_of_license = {lic: bnd for lic, bnd in held}
        first, several = licensed_membership(conn, sorted(set(bundle_of_license.values())))
        cache: dict[str, Any] = {}
        decisions: dict[Any, Decision] = {}

        def decision(key: Any, item: str, blocks: tuple[Block, ...] = (),
                     works_: frozenset[str] = frozenset()) -> Decision:
            v = _decide(conn, ctx, _bundle_set(key), _targets(key), item, cache, blocks,
                        works_)
            return Decision(v, v.license, bundle_of_license.get(v.license) if v.license else None)

        for key in {*first.values(), *(frozenset(s) for s in several.values())}:
            bset = _bundle_set(key)
            decisions[key] = decision(key, ", ".join(sorted(bset)))
        decisions[None] = decision(None, "no licensed bundle")
        blocked: dict[str, list[Block]] = {}
        for b in dispute_blocks(conn, conn.scalars(select(disputes.c.asset).union(
                select(disputes.c.first_asset))), ctx.end_of_day):
            blocked.setdefault(b.sha256, []).append(b)
        from ..preferences.declared import preferred_assets

        preferred = preferred_assets(conn)
        self._blocked = {sha: decision(self._key(first, several, sha), f"asset {sha}",
                                       tuple(blocked.get(sha, ())),
                                       frozenset(preferred.get(sha, ())))
                         for sha in {*blocked, *preferred}}
        self._first = first
        self._several = {sha: frozenset(s) for sha, s in several.items()}
        self._decisions = decisions
        self._owner = dict(conn.execute(select(work_assets.c.sha256, works.c.owner_id)
                                        .join(works, works.c.id == work_assets.c.work_id)).all())

    @staticmethod
    def _key(first: dict[str, str], several: dict[str, set[str]], sha: str) -> Any:
        return frozenset(several[sha]) if sha in several else first.get(sha)

    def decide(self, sha256: str) -> Decision:
        """The decision for one asset hash (lowercase hex), from memory."""
        if self._blocked and sha256 in self._blocked:
            return self._blocked[sha256]
        key: Any = self._first.get(sha256)
        if key is not None and self._several and sha256 in self._several:
            key = self._several[sha256]
        return self._decisions[key]

    def owner(self, sha256: str) -> str | None:
        """The party that registered this asset, if any (a claim of ``own`` or of an open
        license must not cover another party's registered work)."""
        return self._owner.get(sha256)

