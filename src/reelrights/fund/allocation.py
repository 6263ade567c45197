"""Allocating a revenue report: its pools, the facts they split by, and the rounded lines.

Everything here reads the registry *as of* a log index: only facts recorded before the report
(credits, memberships, runs, outputs, fund terms) shape its allocation. So the allocation the
applier books when the report is accepted is exactly what anyone recomputes from the log later
(``reelrights fund verify``), whatever was recorded since. Reports are never rewritten: a
correction is a new report, and the statements show the difference as adjustment lines.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, select

from ..core.fund_rules import (
    DEFAULT_CONTRIBUTORS_SHARE,
    BundleFacts,
    Credit,
    GuildRule,
    LicenseTerms,
    Line,
    PoolFacts,
    Usage,
    pool_tree,
)
from ..core.money import convert, format_amount, parse_amount, parse_rate
from ..core.odrl import parse_policy
from ..core.royalty import allocate, flatten
from ..core.schema import parse_ratio
from ..errors import BadInput, NotFound, VerificationError
from ..store.evidence_tables import run_usage, training_runs
from ..store.fund_tables import fund_terms, production_outputs, productions
from ..store.tables import (
    bundle_works,
    bundles,
    credits,
    guild_agreements,
    guild_members,
    licenses,
)
from .suspense import pool_credits

__all__ = ["Pool", "pool_facts", "report_body", "report_pools"]

_UNITS = ("items", "seconds", "frames", "tokens", "images")


@dataclass
class Pool:
    """One production-period pool of one report, allocated."""

    report: str
    production: str
    period: str
    currency: str
    net: int
    sources: list[dict[str, Any]]
    basis: dict[str, Any]
    amounts: dict[Line, int] = field(default_factory=dict)
    shares: dict[Line, Fraction] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.production, self.period


@lru_cache(maxsize=512)
def _compensate_share(policy_text: str) -> Fraction:
    """The fund share a license's ``compensate`` duty sets: the training permission's, else the
    first one found; 0 when the license has none."""
    policy = parse_policy(json.loads(policy_text))
    found: list[Fraction] = []
    for rule in policy.permissions:
        for duty in rule.duties:
            if duty.name == "compensate" and duty.share is not None:
                if {"train", "fineTune"} & set(rule.action_names):
                    return duty.share
                found.append(duty.share)
    for duty in policy.obligations:
        if duty.name == "compensate" and duty.share is not None:
            found.append(duty.share)
    return found[0] if found else Fraction(0)


def _terms(conn: Connection, license_id: str, policy_text: str, as_of: int) -> LicenseTerms:
    if policy_text == "null":  # rights.licensing.SEALED_TERMS
        raise VerificationError(f"license {license_id} is sealed and this registry holds no "
                                "body for it (body unavailable or erased): its money cannot be "
                                "split here; supply the sealed body store (rebuild --bodies)")
    share = _compensate_share(policy_text)
    row = conn.execute(select(fund_terms).where(fund_terms.c.license_id == license_id,
                                                fund_terms.c.log_index < as_of)
                       .order_by(fund_terms.c.log_index.desc())).first()
    if row is None:
        return LicenseTerms(license_id, share)
    if row.basis == "null":  # fund.productions.SEALED_FUND_TERMS
        raise VerificationError(f"license {license_id}'s fund terms (fund.terms at log "
                                f"{row.log_index}) are sealed and this registry holds no body "
                                "for them: its money cannot be split here; supply the sealed "
                                "body store (rebuild --bodies)")
    contrib = (Fraction(row.contributors_share) / 100 if row.contributors_share is not None
               else DEFAULT_CONTRIBUTORS_SHARE)
    return LicenseTerms(license_id, share, row.basis or "units", row.unit or "items", contrib,
                        f"fund.terms@{row.log_index}")


def pool_facts(conn: Connection, production_id: str, as_of: int) -> PoolFacts:
    """The facts a pool of ``production_id`` splits by, as recorded before log index ``as_of``."""
    prod = conn.execute(select(productions).where(productions.c.id == production_id,
                                                  productions.c.log_index < as_of)).first()
    if prod is None:
        raise NotFound(f"production {production_id} is not registered; register it with "
                       "`reelrights production add` first")
    outs = conn.execute(select(production_outputs.c.run_id, production_outputs.c.weights)
                        .where(production_outputs.c.production_id == production_id,
                               production_outputs.c.log_index < as_of)
                        .order_by(production_outputs.c.output_id)).all()
    runs = sorted({o.run_id for o in outs})
    weights: dict[str, Fraction] = defaultdict(Fraction)
    for o in outs:
        for w in json.loads(o.weights):
            weights[w["bundle"]] += parse_ratio(w["weight"])
    usages = []
    if runs:
        rows = conn.execute(select(run_usage).join(training_runs,
                                                   training_runs.c.id == run_usage.c.run_id)
                            .where(run_usage.c.run_id.in_(runs),
                                   training_runs.c.log_index < as_of)
                            .order_by(run_usage.c.run_id, run_usage.c.bundle_id,
                                      run_usage.c.license_id)).all()
        usages = [Usage(r.bundle_id, r.license_id, {u: int(getattr(r, u)) for u in _UNITS})
                  for r in rows]
    lic_ids = sorted({u.license for u in usages})
    terms = {}
    for r in conn.execute(select(licenses.c.id, licenses.c.policy)
                          .where(licenses.c.id.in_(lic_ids))):
        terms[r.id] = _terms(conn, r.id, r.policy, as_of)
    bundle_facts: dict[str, BundleFacts] = {}
    guilds: dict[tuple[str, str], GuildRule] = {}
    for b in sorted({u.bundle for u in usages}):
        owner = conn.execute(select(bundles.c.owner_id).where(bundles.c.id == b)).scalar_one()
        works = tuple(sorted(conn.scalars(select(bundle_works.c.work_id)
                                          .where(bundle_works.c.bundle_id == b))))
        held, disputed = pool_credits(conn, works, as_of)  # unmatched or disputed credits
        creds = tuple(sorted(
            [Credit(c.work_id, c.party_id, c.role, parse_ratio(c.share), c.log_index)
             for c in conn.execute(select(credits).where(
                 credits.c.work_id.in_(works), credits.c.log_index < as_of))
             if (c.work_id, c.party_id, c.role) not in disputed] + held,
            key=lambda c: (c.work, c.role, c.party)))
        bundle_facts[b] = BundleFacts(b, owner, works, creds)
        for c in creds:
            if (c.party, c.role) not in guilds:
                g = _guild_rule(conn, c.party, c.role, as_of)
                if g is not None:
                    guilds[(c.party, c.role)] = g
    return PoolFacts(prod.studio_id, tuple(usages), terms, bundle_facts, guilds, dict(weights))


def _guild_rule(conn: Connection, party: str, role: str, as_of: int) -> GuildRule | None:
    """The first guild (by id) the party belongs to whose latest agreement covers the role."""
    guild_ids = sorted(conn.scalars(select(guild_members.c.guild_id).where(
        guild_members.c.member_id == party, guild_members.c.log_index < as_of)))
    for gid in guild_ids:
        for agr in conn.execute(select(guild_agreements).where(
                guild_agreements.c.guild_id == gid, guild_agreements.c.log_index < as_of)
                .order_by(guild_agreements.c.log_index.desc())):
            if role in json.loads(agr.covers):
                return GuildRule(gid, agr.id, Fraction(agr.fund_share) / 100, agr.log_index)
    return None


def report_body(conn: Connection, log_index: int) -> dict[str, Any]:
    """A report's signed body, read back from the log (the rows and rates live only there; a
    sealed report's, in the sealed body store beside it)."""
    from ..sealed.store import logged_body

    return logged_body(conn, log_index)


def report_pools(conn: Connection, body: dict[str, Any], as_of: int) -> list[Pool]:
    """Group the report's rows into pools, convert each source currency once, and allocate."""
    rates = {(r["from"], r["to"]): r for r in body["rates"]}
    grouped: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for i, row in enumerate(body["rows"]):
        cur = row["currency"]
        net = (parse_amount(row["gross"], cur, what=f"row {i + 1} gross")
               - parse_amount(row["deductions"], cur, what=f"row {i + 1} deductions"))
        grouped[(row["production"], row["period"])][cur] += net
    pools = []
    currency_of: dict[str, str] = {}
    for (prod, period) in sorted(grouped):
        if prod not in currency_of:
            cur = conn.scalar(select(productions.c.currency).where(
                productions.c.id == prod, productions.c.log_index < as_of))
            if cur is None:
                raise NotFound(f"production {prod} is not registered; register it with "
                               "`reelrights production add` first")
            currency_of[prod] = cur
        target = currency_of[prod]
        net, sources = 0, []
        for cur, amount in sorted(grouped[(prod, period)].items()):
            if cur == target:
                converted, src = amount, {"currency": cur, "net": format_amount(amount, cur)}
            else:
                rate = rates.get((cur, target))
                if rate is None:
                    raise BadInput(f"no exchange rate from {cur} to {target} (the fund currency "
                                   f"of {prod}); pass --rate {cur}:{target}=RATE")
                converted = convert(amount, cur, target, parse_rate(rate["rate"]))
                src = {"currency": cur, "net": format_amount(amount, cur), "rate": rate["rate"],
                       "rate_source": rate["source"], "rate_date": rate["date"],
                       "converted": format_amount(converted, target)}
            net += converted
            sources.append(src)
        facts = pool_facts(conn, prod, as_of)
        tree, basis = pool_tree(facts)
        shares = flatten(tree)
        amounts = allocate(net, shares)
        pools.append(Pool(body["id"], prod, period, target, net, sources, basis,
                          {k: v for k, v in amounts.items()}, shares))
    return pools
