"""Range fitting (``evidence.scan_video``): matched samples become time ranges. A few unmatched
samples inside a copy, or one sample matched at another moment of the work (a zoom, a repeated
shot), must not split its range: the longest range is what the report's 1 s bound is judged on
(``benchmarks/scan_robustness.py`` measures it on generated copies; docs/scan.md)."""

from __future__ import annotations

import numpy as np

from reelrights.evidence.scan_video import join_runs, time_runs


def ranges(q_ms: list[int], r_ms: list[int]) -> list[tuple[int, int, int, int]]:
    q, r = np.array(q_ms, np.int64), np.array(r_ms, np.int64)
    return [(int(q[g[0]]), int(q[g[-1]]), int(r[g[0]]), int(r[g[-1]])) for g in join_runs(q, r, time_runs(q, r))]


def test_unmatched_samples_inside_a_copy_do_not_split_its_range() -> None:
    # a 10 s copy of the work from 18.25 s, sampled at 1 fps; samples 4 and 5 matched nothing
    q = [0, 1000, 2000, 3000, 6000, 7000, 8000, 9000]
    assert ranges(q, [18250 + t for t in q]) == [(0, 9000, 18250, 27250)]


def test_a_sample_matched_at_another_moment_is_left_out_of_the_range() -> None:
    q = list(range(0, 10000, 1000))
    r = [5125 + t for t in q]
    r[5] = 14000  # in a zoom, a crop of one frame looks like a frame seconds later
    assert ranges(q, r) == [(0, 9000, 5125, 14125)]
    r[6] = 15000  # two strays in a row are still strays
    assert ranges(q, r) == [(0, 9000, 5125, 14125)]


def test_samples_matched_half_a_second_off_do_not_split_a_range() -> None:
    # a 20 % corner crop of a zoom from 0.246 s (benchmark copy): samples at 4-6 s matched up to
    # 0.7 s off split the run, and the first part's fitted rate (1.06) missed the second part
    q = [0, 1000, 2000, 3000, 4042, 4833, 5042, 6000, 7000, 8000, 9000, 9792]
    r = [250, 1250, 2250, 3250, 3875, 5500, 5750, 5625, 7375, 8250, 8625, 10000]
    assert ranges(q, r) == [(0, 9792, 250, 10000)]


def test_other_parts_of_the_work_and_long_gaps_stay_separate_ranges() -> None:
    # a compilation: 4 s of the work from 10 s, then 4 s of it from 30 s
    q = [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000]
    r = [10000, 11000, 12000, 13000, 30000, 31000, 32000, 33000]
    assert ranges(q, r) == [(0, 3000, 10000, 13000), (4000, 7000, 30000, 33000)]
    # the same clock, but 8 s of something else between: two ranges
    q = [0, 1000, 2000, 11000, 12000, 13000]
    assert ranges(q, [5000 + t for t in q]) == [(0, 2000, 5000, 7000), (11000, 13000, 16000, 18000)]
    # three samples matched elsewhere between two parts on one clock are a part of their own
    q = list(range(0, 10000, 1000))
    r = [5000 + t for t in q]
    r[4:7] = [20000, 21000, 22000]
    assert len(ranges(q, r)) == 3
