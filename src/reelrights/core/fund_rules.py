"""The creative fund's rules, as a share tree per pool (pure: facts in, tree out).

A *pool* is one production's net revenue for one revenue period in one report, converted once
to the production's fund currency. Its tree (a :class:`~reelrights.core.royalty.Split`) is:

1. **licenses** (rule ``R-FUND``): each (bundle, license) used by the runs behind the
   production's outputs gets ``fund share x usage weight`` of the pool, where the fund share is
   the license's ``compensate`` duty (``rr:fundShare``) and the usage weight is its share of
   licensed units (default: items; ``fund.terms`` may name another unit) or, when every license
   in the pool asks for it and the production reported them, of attribution weights. The rest
   of the pool is retained by the producing studio (``R-RETAIN``): it is not fund money.
2. **rights holder / contributors** (``R-HOLDER``): the bundle owner keeps ``1 - c``, the
   contributors share ``c``; ``c`` is 50 % unless the licensor's ``fund.terms`` sets it.
3. **works** (``R-WORKS``): each work of the bundle weighs the same (per-work usage lives only
   in the developer's private manifest), and within a work each credited role the same.
4. **credits** (``R-CREDIT``): a role's money goes by credit share; an uncredited remainder
   returns to the rights holder (``R-UNCREDITED``), as does a work without credits.
5. **guild fund** (``R-GUILD``): when the contributor is a member of a guild whose agreement
   covers the role, the agreement's ``fund_share`` of the line goes to the guild (e.g. 25 %,
   the SAG-AFTRA streaming-bonus split of 75/25).

Every leaf is a :class:`Line` whose ``rule`` names the rules (and the log indexes of the facts)
that produced it, so each statement line says why it exists. Rounding happens once, over the
flattened tree (:func:`~reelrights.core.royalty.allocate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple

from .royalty import Split

__all__ = ["BundleFacts", "Credit", "DEFAULT_CONTRIBUTORS_SHARE", "GuildRule", "Line",
           "LicenseTerms", "PoolFacts", "Usage", "fraction_text", "pool_tree"]

DEFAULT_CONTRIBUTORS_SHARE = Fraction(1, 2)


class Line(NamedTuple):
    """One allocation line's key: ordered, so ties in rounding go to the smallest key."""

    payee: str
    role: str          # rights-holder | performer | writer | ... | guild-fund | retained
    bundle: str        # "" for the retained line
    work: str          # "" when the line is not about one work
    rule: str


@dataclass(frozen=True)
class Usage:
    """Licensed usage of one (bundle, license) by the runs behind a production's outputs."""

    bundle: str
    license: str
    units: Mapping[str, int]


@dataclass(frozen=True)
class LicenseTerms:
    license: str
    share: Fraction                    # fund share of revenue (2.5 % -> 1/40); 0 if no duty
    basis: str = "units"               # units | attribution
    unit: str = "items"
    contributors_share: Fraction = DEFAULT_CONTRIBUTORS_SHARE
    rule: str = "default"              # "default" or "fund.terms@<log index>"


@dataclass(frozen=True)
class Credit:
    work: str
    party: str
    role: str
    share: Fraction
    log_index: int


@dataclass(frozen=True)
class GuildRule:
    guild: str
    agreement: str
    share: Fraction                    # of the member's line (25 % -> 1/4)
    log_index: int


@dataclass(frozen=True)
class BundleFacts:
    bundle: str
    owner: str
    works: tuple[str, ...]
    credits: tuple[Credit, ...] = ()


@dataclass
class PoolFacts:
    producer: str
    usages: tuple[Usage, ...]
    terms: Mapping[str, LicenseTerms]
    bundles: Mapping[str, BundleFacts]
    #: (member party, role) -> the guild rule that applies.
    guilds: Mapping[tuple[str, str], GuildRule] = field(default_factory=dict)
    #: bundle -> attribution weight summed over the production's outputs.
    weights: Mapping[str, Fraction] = field(default_factory=dict)


def fraction_text(x: Fraction) -> str:
    """An exact fraction as text: ``1/40``, ``3``."""
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def _usage_weights(f: PoolFacts) -> tuple[str, dict[tuple[str, str], Fraction]]:
    """(basis label, (bundle, license) -> weight in [0, 1] summing to 1)."""
    pairs = sorted({(u.bundle, u.license) for u in f.usages})
    units: dict[tuple[str, str], dict[str, int]] = {}
    for u in f.usages:
        acc = units.setdefault((u.bundle, u.license), {})
        for k, v in u.units.items():
            acc[k] = acc.get(k, 0) + v
    terms = [f.terms[lic] for _, lic in pairs]
    if (terms and all(t.basis == "attribution" for t in terms)
            and all(f.weights.get(b, 0) > 0 for b, _ in pairs)):
        total_w = sum(f.weights[b] for b in {b for b, _ in pairs})
        out: dict[tuple[str, str], Fraction] = {}
        for b in sorted({b for b, _ in pairs}):
            lics = [p for p in pairs if p[0] == b]
            items = sum(units[p].get("items", 0) for p in lics)
            for p in lics:
                part = (Fraction(units[p].get("items", 0), items) if items
                        else Fraction(1, len(lics)))
                out[p] = f.weights[b] / total_w * part
        return "attribution", out
    chosen = {t.unit for t in terms}
    unit = chosen.pop() if len(chosen) == 1 else "items"
    total = sum(units[p].get(unit, 0) for p in pairs)
    if total == 0 and unit != "items":
        unit = "items"
        total = sum(units[p].get(unit, 0) for p in pairs)
    if total == 0:
        return f"units:{unit}", {}
    return f"units:{unit}", {p: Fraction(units[p].get(unit, 0), total) for p in pairs}


def _member_node(f: PoolFacts, c: Credit, bundle: str) -> Any:
    base = f"R-CREDIT@{c.log_index}"
    g = f.guilds.get((c.party, c.role))
    if g is None or g.share == 0:
        return Line(c.party, c.role, bundle, c.work, base)
    guild_rule = f"R-GUILD:{g.agreement}@{g.log_index}"
    member = Line(c.party, c.role, bundle, c.work, f"{base}+{guild_rule}")
    if g.share == 1:
        return Line(g.guild, "guild-fund", bundle, c.work, f"{guild_rule}:{c.party}")
    return Split(((1 - g.share, member),
                  (g.share, Line(g.guild, "guild-fund", bundle, c.work,
                                 f"{guild_rule}:{c.party}"))), label=f"guild {g.agreement}")


def _work_node(f: PoolFacts, b: BundleFacts, work: str) -> Any:
    holder = Line(b.owner, "rights-holder", b.bundle, work, "R-UNCREDITED")
    credits = [c for c in b.credits if c.work == work]
    roles = sorted({c.role for c in credits})
    if not roles:
        return holder
    parts = []
    for role in roles:
        members = sorted((c for c in credits if c.role == role), key=lambda c: c.party)
        taken = sum((c.share for c in members), Fraction(0))
        role_parts = [(c.share, _member_node(f, c, b.bundle)) for c in members]
        if taken < 1:
            role_parts.append((1 - taken, holder))
        parts.append((1, Split(tuple(role_parts), label=f"{work} {role}")))
    return Split(tuple(parts), label=f"work {work}")


def _bundle_node(f: PoolFacts, b: BundleFacts, t: LicenseTerms) -> Any:
    rule = f"R-HOLDER/{t.rule}"
    holder = Line(b.owner, "rights-holder", b.bundle, "", rule)
    c = t.contributors_share
    credited = {cr.work for cr in b.credits}
    if c == 0 or not credited:
        return holder
    works = Split(tuple((1, _work_node(f, b, w)) for w in sorted(b.works)),
                  label=f"works of {b.bundle}")
    if c == 1:
        return works
    return Split(((1 - c, holder), (c, works)), label=f"bundle {b.bundle}")


def pool_tree(f: PoolFacts) -> tuple[Any, dict[str, Any]]:
    """The pool's share tree and its basis (what the statement shows under the pool)."""
    basis, weights = _usage_weights(f)
    parts: list[tuple[Fraction, Any]] = []
    described = []
    fund = Fraction(0)
    for (bundle, lic), w in sorted(weights.items()):
        t = f.terms[lic]
        share = t.share * w
        described.append({"bundle": bundle, "license": lic, "usage_weight": fraction_text(w),
                          "fund_share": fraction_text(t.share), "pool_share": fraction_text(share),
                          "terms": t.rule})
        if share:
            fund += share
            parts.append((share, _bundle_node(f, f.bundles[bundle], t)))
    retained = Line(f.producer, "retained", "", "", "R-RETAIN")
    if fund < 1:
        parts.append((1 - fund, retained))
    tree = Split(tuple(parts), label="pool") if parts else retained
    return tree, {"basis": basis, "fund_share": fraction_text(fund), "licenses": described}
