"""Audit sampling: which manifest items an auditor may ask for, and what a clean sample proves.

**Challenge indices.** The developer commits to its manifest (a Merkle root over ``count``
salted leaves) before anyone knows which items will be checked. The indices come from a log
checkpoint issued *after* that commitment, so the developer could not have known them when it
chose what to put where. Anyone can re-derive them from the logged challenge:

``seed = SHA-256(encode(DOMAIN, run_id, commitment_root, origin, size, checkpoint_root, k))``

where ``encode`` writes each field as a 4-byte big-endian length followed by its bytes
(strings UTF-8, hashes raw 32 bytes, integers 8-byte big-endian), so no two field lists encode
alike. The random stream is SHA-256 in counter mode, ``block_j = SHA-256(seed || uint64be(j))``
for j = 0, 1, ..., each block giving four 64-bit big-endian words. A draw uniform in ``[0, m)``
takes the next word ``w`` and rejects it while ``w >= 2**64 - (2**64 mod m)`` (no modulo bias),
then returns ``w mod m``. The ``k`` indices are the first ``k`` positions of a Fisher-Yates
shuffle of ``0..count-1`` (step i swaps position i with ``i + draw(count - i)``), kept sparse so
a 10-million-item manifest costs ``O(k)``. ``k >= count`` is a full audit: every index.

**The bound.** ``x`` failures in a simple random sample of ``n`` without replacement bound the
share ``p`` of failing items in the whole manifest. We report the exact one-sided
Clopper-Pearson upper limit: the ``p`` with ``P(Binomial(n, p) <= x) = alpha``, i.e. the
``1 - alpha`` quantile of ``Beta(x + 1, n - x)``. For ``x = 0`` that is ``1 - alpha ** (1/n)``
(3,000 clean samples: under 0.1 %). The binomial bound is conservative for sampling without
replacement. Pure functions, no I/O, no SciPy.
"""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction

__all__ = ["CHALLENGE_DOMAIN", "challenge_indices", "challenge_seed", "clopper_pearson_upper",
           "sample_indices"]

CHALLENGE_DOMAIN = "reelrights/audit/challenge/v1"
_U64 = 1 << 64


def _field(value: str | bytes | int) -> bytes:
    if isinstance(value, bool):
        raise TypeError("booleans are not challenge fields")
    if isinstance(value, int):
        if not 0 <= value < _U64:
            raise ValueError(f"{value} does not fit an unsigned 64-bit field")
        data = value.to_bytes(8, "big")
    elif isinstance(value, str):
        data = value.encode("utf-8")
    else:
        data = bytes(value)
    return len(data).to_bytes(4, "big") + data


def challenge_seed(run_id: str, commitment_root: bytes, origin: str, size: int,
                   checkpoint_root: bytes, k: int) -> bytes:
    """The 32-byte seed of a challenge: nothing the developer could know when committing."""
    for name, h in (("commitment root", commitment_root), ("checkpoint root", checkpoint_root)):
        if len(h) != 32:
            raise ValueError(f"{name} must be 32 bytes, got {len(h)}")
    data = b"".join(_field(v) for v in (CHALLENGE_DOMAIN, run_id, commitment_root, origin, size,
                                        checkpoint_root, k))
    return hashlib.sha256(data).digest()


class _Stream:
    """SHA-256 counter mode: 64-bit words, and unbiased draws by rejection."""

    def __init__(self, seed: bytes) -> None:
        self.seed, self.counter = seed, 0
        self.words: list[int] = []

    def word(self) -> int:
        if not self.words:
            block = hashlib.sha256(self.seed + self.counter.to_bytes(8, "big")).digest()
            self.counter += 1
            self.words = [int.from_bytes(block[i:i + 8], "big") for i in (24, 16, 8, 0)]
        return self.words.pop()  # the block's words in order: bytes 0-7 first

    def below(self, m: int) -> int:
        limit = _U64 - _U64 % m
        while True:
            w = self.word()
            if w < limit:
                return w % m


def sample_indices(seed: bytes, count: int, k: int) -> list[int]:
    """``min(k, count)`` distinct indices in ``[0, count)``, in draw order (see module doc)."""
    if count < 0 or k < 0:
        raise ValueError("count and k must not be negative")
    if k >= count:
        return list(range(count))
    stream = _Stream(seed)
    moved: dict[int, int] = {}  # the sparse Fisher-Yates array: position -> value, if moved
    out = []
    for i in range(k):
        j = i + stream.below(count - i)
        vi, vj = moved.get(i, i), moved.get(j, j)
        moved[j] = vi
        out.append(vj)
    return out


def challenge_indices(run_id: str, commitment_root: bytes, count: int, origin: str, size: int,
                      checkpoint_root: bytes, k: int) -> list[int]:
    """The indices of a challenge, sorted ascending (every index when ``k >= count``)."""
    seed = challenge_seed(run_id, commitment_root, origin, size, checkpoint_root, k)
    return sorted(sample_indices(seed, count, k))


# ---------------------------------------------------------------------------------------------
# The exact one-sided Clopper-Pearson upper limit
# ---------------------------------------------------------------------------------------------

def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-16
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 100_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def _ibeta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    ln_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(ln_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(ln_front) * _betacf(b, a, 1.0 - x) / b


def _binom_cdf(x: int, n: int, p: float) -> float:
    """P(Binomial(n, p) <= x) = I_{1-p}(n - x, x + 1)."""
    if x >= n:
        return 1.0
    return _ibeta(n - x, x + 1, 1.0 - p)


def clopper_pearson_upper(failures: int, n: int, confidence: float | Fraction = 0.95) -> float:
    """The exact one-sided upper confidence limit on a failure share (see module doc).

    ``failures = n`` gives 1.0; ``n = 0`` (nothing sampled) gives 1.0 too: nothing is known.
    """
    if n < 0 or not 0 <= failures <= n:
        raise ValueError(f"need 0 <= failures <= n, got {failures} of {n}")
    alpha = 1.0 - float(confidence)
    if not 0.0 < alpha < 1.0:
        raise ValueError("confidence must be strictly between 0 and 1")
    if n == 0 or failures == n:
        return 1.0
    if failures == 0:
        return -math.expm1(math.log(alpha) / n)  # 1 - alpha**(1/n), exactly rounded
    lo, hi = failures / n, 1.0  # the limit is above the point estimate
    for _ in range(200):  # bisection: the CDF falls as p rises
        mid = (lo + hi) / 2.0
        if mid in (lo, hi):
            break
        if _binom_cdf(failures, n, mid) > alpha:
            lo = mid
        else:
            hi = mid
    return hi
