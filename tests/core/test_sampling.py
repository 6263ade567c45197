"""Challenge index derivation (a fixed test vector, a reference re-implementation from the
documented algorithm) and the exact Clopper-Pearson bound against known values."""

from __future__ import annotations

import hashlib
import math
from collections import Counter

import pytest

from reelrights.core.sampling import (
    CHALLENGE_DOMAIN,
    challenge_indices,
    challenge_seed,
    clopper_pearson_upper,
    sample_indices,
)

RUN = "run_aaaaaaaaaaaaaaaa"
ROOT = bytes(range(32))
CP_ROOT = bytes(range(32, 64))

# The test vector (also in docs/audits.md).
VECTOR_SEED = "d42f86df63bb7a9b9e8d0d39e32f465b2e876f89064fd740f20152bd273cf1be"
VECTOR_DRAWS = [447, 969, 263, 175, 394]


def _reference(run, root, origin, size, cp_root, count, k):
    """The algorithm exactly as docs/audits.md words it, with a full array (slow, obvious)."""
    def field(v):
        data = v.to_bytes(8, "big") if isinstance(v, int) else (
            v.encode() if isinstance(v, str) else v)
        return len(data).to_bytes(4, "big") + data

    seed = hashlib.sha256(b"".join(map(field, [CHALLENGE_DOMAIN, run, root, origin, size,
                                                cp_root, k]))).digest()
    words = []
    counter = 0

    def word():
        nonlocal counter
        if not words:
            block = hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
            counter += 1
            words.extend(int.from_bytes(block[i:i + 8], "big") for i in range(0, 32, 8))
        return words.pop(0)

    def draw(m):
        while True:
            w = word()
            if w < 2**64 - 2**64 % m:
                return w % m

    if k >= count:
        return seed, list(range(count))
    a = list(range(count))
    for i in range(k):
        j = i + draw(count - i)
        a[i], a[j] = a[j], a[i]
    return seed, a[:k]


def test_vector() -> None:
    seed = challenge_seed(RUN, ROOT, "example.com/log", 42, CP_ROOT, 5)
    assert seed.hex() == VECTOR_SEED
    assert sample_indices(seed, 1000, 5) == VECTOR_DRAWS
    assert challenge_indices(RUN, ROOT, 1000, "example.com/log", 42, CP_ROOT, 5) == \
        sorted(VECTOR_DRAWS)


@pytest.mark.parametrize("count,k", [(1000, 5), (10, 9), (7, 7), (3, 10), (100_003, 300), (2, 1)])
def test_matches_the_documented_algorithm(count: int, k: int) -> None:
    seed, want = _reference(RUN, ROOT, "example.com/log", 42, CP_ROOT, count, k)
    assert challenge_seed(RUN, ROOT, "example.com/log", 42, CP_ROOT, k) == seed
    assert sample_indices(seed, count, k) == want


def test_indices_are_distinct_in_range_and_depend_on_every_field() -> None:
    base = challenge_indices(RUN, ROOT, 10_000, "o/log", 9, CP_ROOT, 200)
    assert len(base) == len(set(base)) == 200
    assert all(0 <= i < 10_000 for i in base)
    assert base == challenge_indices(RUN, ROOT, 10_000, "o/log", 9, CP_ROOT, 200)  # reproducible
    for changed in [("run_bbbbbbbbbbbbbbbb", ROOT, "o/log", 9, CP_ROOT),
                    (RUN, bytes(32), "o/log", 9, CP_ROOT), (RUN, ROOT, "o/log2", 9, CP_ROOT),
                    (RUN, ROOT, "o/log", 10, CP_ROOT), (RUN, ROOT, "o/log", 9, bytes(32))]:
        run, root, origin, size, cp = changed
        assert challenge_indices(run, root, 10_000, origin, size, cp, 200) != base


def test_full_audit_is_every_index() -> None:
    assert challenge_indices(RUN, ROOT, 4, "o", 1, CP_ROOT, 4) == [0, 1, 2, 3]
    assert challenge_indices(RUN, ROOT, 4, "o", 1, CP_ROOT, 4000) == [0, 1, 2, 3]


def test_draws_are_close_to_uniform() -> None:
    # 2,000 challenges of 1 index among 10: a chi-square far below the 0.001 critical value.
    hits = Counter(sample_indices(hashlib.sha256(str(t).encode()).digest(), 10, 1)[0]
                   for t in range(2000))
    chi2 = sum((hits[i] - 200) ** 2 / 200 for i in range(10))
    assert chi2 < 27.88  # chi-square(9) at p = 0.001


# Reference values: scipy.stats.beta.ppf(0.95, x + 1, n - x) (scipy 1.17.1), which agree with
# the published exact one-sided tables (e.g. 1 of 10: 0.3942; 2 of 20: 0.2826; 5 of 100: 0.1023).
KNOWN = [(1, 10, 0.39416330243650466), (2, 20, 0.28261852488586087),
         (5, 100, 0.1022533776432745), (10, 1000, 0.016903175120562504),
         (3, 50, 0.14783717636418123), (50, 60, 0.9066930672947636),
         (100, 3000, 0.039240431914381604), (1, 2, 0.9746794344808963),
         (999, 1000, 0.999948708021091), (5000, 1_000_000, 0.0051175840516408605)]


@pytest.mark.parametrize("x,n,want", KNOWN)
def test_clopper_pearson_known_values(x: int, n: int, want: float) -> None:
    assert clopper_pearson_upper(x, n) == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("n", [1, 2, 10, 59, 300, 3000, 1_000_000])
def test_zero_failures_is_one_minus_alpha_root_n(n: int) -> None:
    assert clopper_pearson_upper(0, n) == pytest.approx(1 - 0.05 ** (1 / n), rel=1e-12)


def test_three_thousand_clean_samples_bound_below_a_tenth_of_a_percent() -> None:
    assert clopper_pearson_upper(0, 3000) < 0.001 < clopper_pearson_upper(0, 2990)


def test_bound_definition_holds_exactly() -> None:
    # At the limit, P(X <= x) = alpha, summed exactly in log space.
    for x, n, _ in KNOWN[:6]:
        p = clopper_pearson_upper(x, n)
        cdf = sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(x + 1))
        assert cdf == pytest.approx(0.05, rel=1e-8)


def test_bound_edges_and_bad_input() -> None:
    assert clopper_pearson_upper(7, 7) == 1.0
    assert clopper_pearson_upper(0, 0) == 1.0
    assert clopper_pearson_upper(0, 10, 0.99) == pytest.approx(1 - 0.01 ** 0.1)
    with pytest.raises(ValueError):
        clopper_pearson_upper(3, 2)
    with pytest.raises(ValueError):
        clopper_pearson_upper(0, 5, 1.0)
