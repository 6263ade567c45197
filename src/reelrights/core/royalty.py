"""Royalty arithmetic: exact shares, largest-remainder rounding, payout thresholds.

A pool (one production's net revenue for one period, in one currency, in integer minor units)
is split among *lines*: (payee, work, bundle, basis) keys whose exact shares are fractions. The
shares come from a tree of splits (bundles by licensed usage, then rights holder, contributors
by credit share, a guild fund's share); :func:`flatten` multiplies it out into one exact share per
line, so money is rounded once, not at every level.

Rounding is the largest-remainder method: every line gets the floor of its exact amount, and the
units left over go one each to the lines with the largest fractional remainders, ties broken by
the line key itself (never by input order). So every pool sums exactly to its total, a rerun on
the same inputs gives the same cents, and shuffling the input changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol, TypeAlias, TypeVar

from ..errors import BadInput

__all__ = ["Split", "allocate", "apply_threshold", "flatten", "pool_lines"]



class LineKey(Hashable, Protocol):
    """What money is allocated to: hashable, and ordered, so ties break the same way every run."""

    def __lt__(self, other: Any, /) -> bool: ...


K = TypeVar("K", bound=LineKey)


@dataclass(frozen=True)
class Split:
    """A node of a share tree: each part is (weight, child); weights are normalized here.

    A child is another :class:`Split` or a line key. Weights are non-negative exact numbers
    (ints or Fractions, e.g. licensed seconds, credit shares, a 75/25 fund rule).
    """

    parts: tuple[tuple[Fraction | int, Any], ...]
    label: str = ""

    def __post_init__(self) -> None:
        if not self.parts:
            raise BadInput(f"split {self.label or '(unnamed)'} has no parts; give it at least one")
        for weight, _ in self.parts:
            if isinstance(weight, float) or weight < 0:
                raise BadInput(f"split {self.label or '(unnamed)'} has weight {weight!r}; "
                               "weights are exact non-negative numbers (int or Fraction)")
        if sum(w for w, _ in self.parts) == 0:
            raise BadInput(f"split {self.label or '(unnamed)'} has only zero weights; "
                           "nothing can be shared")


ShareTree: TypeAlias = Split | Hashable


def flatten(tree: ShareTree) -> dict[Any, Fraction]:
    """Exact share per line key; shares sum to exactly 1 (a key reached twice adds up)."""
    shares: dict[Any, Fraction] = {}
    stack: list[tuple[ShareTree, Fraction]] = [(tree, Fraction(1))]
    while stack:
        node, share = stack.pop()
        if not isinstance(node, Split):
            shares[node] = shares.get(node, Fraction(0)) + share
            continue
        total = sum(Fraction(w) for w, _ in node.parts)
        for weight, child in node.parts:
            if weight:
                stack.append((child, share * Fraction(weight) / total))
    return shares


def allocate(total: int, shares: Mapping[K, Fraction | int]) -> dict[K, int]:
    """Split ``total`` minor units by ``shares`` (normalized) so the parts sum exactly to it.

    Largest remainder, ties broken by ascending key. A negative total (a refund, a correction)
    is split as the exact mirror of the positive one. Keys must be mutually orderable (strings or
    tuples of strings: stable payee ids).
    """
    if type(total) is not int:
        raise BadInput(f"pool total {total!r} must be integer minor units")
    if not shares:
        raise BadInput("a pool needs at least one payee line to split among")
    if total < 0:
        return {k: -v for k, v in allocate(-total, shares).items()}
    keys = list(shares)
    fractions = [Fraction(shares[k]) for k in keys]
    if any(f < 0 for f in fractions):
        raise BadInput("shares must be non-negative")
    denominator = math.lcm(*(f.denominator for f in fractions))
    weights = [f.numerator * (denominator // f.denominator) for f in fractions]
    whole = sum(weights)
    if whole == 0:
        raise BadInput("shares are all zero; nothing can be allocated")
    amounts: dict[K, int] = {}
    remainders: list[tuple[int, K]] = []
    given = 0
    for key, weight in zip(keys, weights):
        amount, rest = divmod(total * weight, whole)
        amounts[key] = amount
        given += amount
        if rest:
            remainders.append((rest, key))
    left = total - given
    if left:
        # The `left` largest remainders; equal remainders go to the smaller key.
        remainders.sort(key=lambda r: r[1])
        remainders.sort(key=lambda r: r[0], reverse=True)
        for _, key in remainders[:left]:
            amounts[key] += 1
    return amounts


def apply_threshold(balances: Mapping[K, int], threshold: int,
                    carried: Mapping[K, int] | None = None) -> tuple[dict[K, int], dict[K, int]]:
    """(payouts, carried forward): a payee is paid when earnings plus what it carried in reach
    ``threshold`` minor units; otherwise the whole balance carries to the next period."""
    if threshold < 0:
        raise BadInput(f"payout threshold {threshold} must be zero or more")
    carried = carried or {}
    payouts: dict[K, int] = {}
    forward: dict[K, int] = {}
    for key in sorted(set(balances) | set(carried)):
        balance = balances.get(key, 0) + carried.get(key, 0)
        if balance >= threshold and balance > 0:
            payouts[key] = balance
        elif balance:
            forward[key] = balance
    return payouts, forward


def pool_lines(pools: Iterable[tuple[Any, int, Mapping[K, Fraction | int]]]
               ) -> Iterable[tuple[Any, K, int]]:
    """Allocate many pools: yields (pool key, line key, amount) in a stable order."""
    for pool, total, shares in pools:
        amounts = allocate(total, shares)
        for key in sorted(amounts):
            yield pool, key, amounts[key]
