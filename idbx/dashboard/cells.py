"""The small-cell rule: what the dashboard may show of a count of learners.

A breakdown (a count split by something about the learners: country, gender, education, mode, a
range of days active) is published so that every part shown is either at least `min_cell`
learners or nothing at all. Parts under the threshold are merged into one "other" part; when that
leaves "other" itself under the threshold (one small part, say), the smallest shown part joins it,
and so on, so that no hidden part can be recovered by subtracting the shown ones from a total.
Ordered ranges (a histogram) merge with their neighbours instead, so that the ranges stay
contiguous. A breakdown whose whole total is under the threshold is not shown.

A single count in a time series (learners active on a day, enrolled in a mode on a day) is shown
when it is at least `min_cell`, and as "< min_cell" (no number) when it is 1 to min_cell - 1.

Headline counts of a whole course (its enrolled, active and certified learners, the funnel) are
shown as they are: they are the programme's reported figures and single out nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    """One shown part of a breakdown: `category` is None for the merged "other" part."""

    category: str | None
    learners: int
    merged: int = 0  # how many hidden categories the part holds


@dataclass(frozen=True)
class Range:
    """One shown range of a histogram: [low, high), high None for "and more"."""

    low: float
    high: float | None
    learners: int


def merge_small_parts(counts: Sequence[tuple[str, int]], min_cell: int, keep: int | None = None) -> list[Part]:
    """The breakdown to show: the largest parts of at least `min_cell` (at most `keep` of them),
    then one "other" part holding the rest when there is any; [] when the total is under min_cell.
    Parts are in decreasing order of learners, "other" last."""
    ordered = sorted(((category, learners) for category, learners in counts if learners > 0), key=lambda c: (-c[1], c[0]))
    shown = [c for c in ordered if c[1] >= min_cell][:keep]
    hidden = ordered[len(shown) :]
    while hidden and sum(learners for _, learners in hidden) < min_cell and shown:
        hidden.insert(0, shown.pop())
    other = sum(learners for _, learners in hidden)
    if hidden and other < min_cell:
        return []
    parts = [Part(category, learners) for category, learners in shown]
    if hidden:
        parts.append(Part(None, other, merged=len(hidden)))
    return parts


def merge_small_ranges(counts: Sequence[tuple[float, float | None, int]], min_cell: int) -> list[Range]:
    """Contiguous ranges `(low, high, learners)`, in order, merged left to right until each holds
    at least `min_cell` learners; a remainder under it joins the last range. [] when the total is
    under min_cell."""
    merged: list[Range] = []
    pending: Range | None = None
    for low, high, learners in counts:
        pending = Range(low, high, learners) if pending is None else Range(pending.low, high, pending.learners + learners)
        if pending.learners >= min_cell:
            merged.append(pending)
            pending = None
    if pending is not None:
        if not merged:
            return []
        last = merged.pop()
        merged.append(Range(last.low, pending.high, last.learners + pending.learners))
    return merged


def shown_count(learners: int | None, min_cell: int) -> int | None:
    """A single count of a series as shown: None when it is small enough to single someone out."""
    if learners is None or 0 < learners < min_cell:
        return None
    return learners
