"""Benchmark: `idbx dashboard` on the 50-course benchmark lake (50 course runs, 200,000 learners,
600,000 enrollments: benchmarks/build_models.py).

The dashboard reads only the marts, so build that lake first (`build_models.py` leaves it built in
benchmarks/work/models/lake; `--events` there changes only the event marts' totals, not their
number of rows), or pass `--lake` any built lake. Each run is its own process (wall time and peak
RSS, measure.py):
  first     the site written where there is none: includes bundling Vega's JavaScript (vl-convert)
  rebuild   the site written again over the first, as after every build (the bundle is reused)
Then one rebuild in this process, timed by stage. Prints the figures; append to RESULTS.md by hand.

    .venv/bin/python benchmarks/dashboard.py [--lake DIR] [--work DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from measure import machine, timed

from idbx.dashboard import build_site
from idbx.lake.store import Lake


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, default=Path("benchmarks/work/models/lake"))
    parser.add_argument("--work", type=Path, default=Path("benchmarks/work/dashboard"))
    args = parser.parse_args()
    lake, work = args.lake.resolve(), args.work.resolve()
    if not (lake / "marts" / "course_report").is_dir():
        sys.exit(f"{lake} has no marts: run benchmarks/build_models.py first, or pass --lake a built lake")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    out = work / "dashboard"
    command = [str(Path(sys.executable).with_name("idbx")), "dashboard", "--lake", str(lake), "--out", str(out)]
    print(machine())
    for label in ("first", "rebuild"):
        seconds, peak = timed(command)
        print(f"{label}: {seconds:.2f} s whole process, peak RSS {peak:,.0f} MB")
    stages: list[tuple[str, float]] = []
    started = time.perf_counter()
    summary = build_site(Lake(lake), out, on_step=lambda name: stages.append((name, time.perf_counter())))
    ends = [at for _, at in stages[1:]] + [started + summary.seconds]
    print(
        f"in-process rebuild: {summary.seconds:.2f} s: "
        + ", ".join(f"{name} {end - at:.2f} s" for (name, at), end in zip(stages, ends, strict=True))
    )
    print(
        f"site: {summary.courses} course runs, {summary.pages} pages, {summary.charts} charts, "
        f"{summary.files} files, {summary.bytes / 1e6:.1f} MB; small-cell rule: {summary.merged_categories} categories merged, "
        f"{summary.suppressed_values} values shown as '< {summary.min_cell}'"
    )


if __name__ == "__main__":
    main()
