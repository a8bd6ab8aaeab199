"""The small-cell rule: every part shown is at least the threshold, and no hidden part can be
recovered by subtracting the shown ones from the total."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from idbx.dashboard.cells import Part, Range, merge_small_parts, merge_small_ranges, shown_count


def test_small_parts_merge_into_other():
    parts = merge_small_parts([("MX", 40), ("CO", 12), ("PE", 3), ("CL", 4), ("AR", 0)], min_cell=5)
    assert parts == [Part("MX", 40), Part("CO", 12), Part(None, 7, merged=2)]


def test_a_lone_small_part_takes_the_smallest_shown_one_with_it():
    # Shown: 40 and 12; a hidden 3 alone would be total - 52: so 12 joins it.
    assert merge_small_parts([("MX", 40), ("CO", 12), ("PE", 3)], min_cell=5) == [Part("MX", 40), Part(None, 15, merged=2)]


def test_a_total_under_the_threshold_shows_nothing():
    assert merge_small_parts([("MX", 2), ("CO", 2)], min_cell=5) == []
    assert merge_small_parts([], min_cell=5) == []
    assert merge_small_parts([("MX", 5)], min_cell=5) == [Part("MX", 5)]


def test_keep_limits_the_parts_shown_on_their_own():
    parts = merge_small_parts([(c, 10 + i) for i, c in enumerate("ABCDEFGH")], min_cell=5, keep=3)
    assert (
        [p.category for p in parts] == ["H", "G", "F", None]
        and parts[-1].learners == sum(range(10, 15))
        and parts[-1].merged == 5
    )


@pytest.mark.parametrize("seed", range(200))
def test_no_hidden_part_is_small_or_recoverable(seed):
    rng = random.Random(seed)
    counts = [(f"c{i}", rng.choice([0, 1, 2, 3, 4, 5, 6, 9, 30])) for i in range(rng.randint(0, 8))]
    min_cell = rng.choice([2, 5, 10])
    parts = merge_small_parts(counts, min_cell)
    total = sum(n for _, n in counts)
    assert all(part.learners >= min_cell for part in parts)
    if parts:
        assert sum(part.learners for part in parts) == total
        hidden = [n for c, n in counts if n > 0 and c not in {p.category for p in parts}]
        # Whatever is hidden is only known as one sum of at least min_cell learners.
        assert not hidden or (parts[-1].category is None and parts[-1].learners == sum(hidden) >= min_cell)
    else:
        assert total < min_cell


def test_ranges_merge_with_their_neighbours():
    ranges = merge_small_ranges([(0, 1, 50), (1, 2, 3), (2, 3, 0), (3, 5, 4), (5, 10, 9), (10, None, 2)], min_cell=5)
    assert ranges == [Range(0, 1, 50), Range(1, 5, 7), Range(5, None, 11)]
    assert merge_small_ranges([(0, 1, 2), (1, None, 2)], min_cell=5) == []


@pytest.mark.parametrize("seed", range(100))
def test_ranges_stay_contiguous_and_large_enough(seed):
    rng = random.Random(seed)
    edges = sorted(rng.sample(range(1, 50), rng.randint(1, 7)))
    lows, highs = [0, *edges], [*edges, None]
    counts = [(low, high, rng.choice([0, 1, 3, 8, 20])) for low, high in zip(lows, highs, strict=True)]
    ranges = merge_small_ranges(counts, 5)
    total = sum(n for *_, n in counts)
    if total < 5:
        assert ranges == []
        return
    assert ranges[0].low == 0 and ranges[-1].high is None
    assert all(a.high == b.low for a, b in pairwise(ranges))
    assert all(r.learners >= 5 for r in ranges) and sum(r.learners for r in ranges) == total


def test_series_values_under_the_threshold_are_not_shown():
    assert [shown_count(n, 5) for n in (None, 0, 1, 4, 5, 120)] == [None, 0, None, None, 5, 120]
