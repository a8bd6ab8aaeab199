"""What a flow run did, as the markdown artifact its run ends with: for a sync, files, rows,
rejects, late events, time, what was missing and what failed; for build-and-publish, models,
exports, documents published and the dashboard. File names and counts only, never learner data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from idbx.ingest.outcomes import FAILED, INGESTED, UNCHANGED, UNHANDLED, RunSummary
from idbx.sync import outcomes as synced
from idbx.sync.outcomes import SyncReport

if TYPE_CHECKING:  # the summaries' modules import DuckDB, pymongo and altair: not needed to describe them
    from idbx.dashboard.site import SiteSummary
    from idbx.models.runner import BuildSummary
    from idbx.publish.publisher import PublishSummary

# Past this many files the table lists the failed ones and counts the others.
_TABLE_ROWS = 200
_REJECTS_VIEW = {"events": "event_rejects", "course data": "table_rejects"}


def failure_message(failures: list[str]) -> str:
    """The run's state message: its first failure, and how many more the artifact lists."""
    more = f" (and {len(failures) - 1} more: see the artifact)" if len(failures) > 1 else ""
    return f"{failures[0]}{more}" if failures else ""


@dataclass
class FlowOutcome:
    title: str
    sync: SyncReport
    ingest: list[RunSummary] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # tasks that failed outright
    unhandled: list[str] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what the run did next (build-and-publish started, or why not)

    @property
    def files(self):
        return [outcome for summary in self.ingest for outcome in summary.files if outcome.status != UNHANDLED]

    @property
    def failures(self) -> list[str]:
        """One line per thing that went wrong: an object not fetched, a file not read, a task."""
        return (
            [f"{item.url}: {item.message}" if item.url not in item.message else item.message for item in self.sync.failed]
            + [outcome.error for outcome in self.files if outcome.status == FAILED]
            + self.errors
        )

    def totals(self) -> dict[str, int]:
        files = self.files
        return {
            "ingested": sum(1 for f in files if f.status == INGESTED),
            "unchanged": sum(1 for f in files if f.status == UNCHANGED),
            "failed": sum(1 for f in files if f.status == FAILED),
            "rows": sum(f.rows for f in files if f.status == INGESTED),
            "rejects": sum(f.rejects for f in files if f.status == INGESTED),
            "late_events": sum(f.late_events for f in files if f.status == INGESTED),
        }

    def failure_message(self) -> str:
        return failure_message(self.failures)

    def log_lines(self) -> list[str]:
        t = self.totals()
        return [
            f"{self.title}: {t['ingested']} file(s) landed, {t['unchanged']} unchanged, {t['failed']} failed; "
            f"{t['rows']} rows, {t['rejects']} rejects, {t['late_events']} late events; "
            f"{len(self.sync.missing)} missing in S3; {self.seconds:.1f} s",
            *self.sync.notes,
            *self.notes,
        ]

    def markdown(self) -> str:
        t = self.totals()
        sync = ", ".join(
            f"{self.sync.count(s)} {s}"
            for s in (synced.DOWNLOADED, synced.CURRENT, synced.IN_LAKE, synced.MISSING, synced.FAILED)
            if self.sync.count(s)
        )
        lines = [
            f"## {self.title}",
            "",
            "| files landed | unchanged | failed | rows | rejects | late events | time |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            f"| {t['ingested']:,} | {t['unchanged']:,} | {t['failed'] + len(self.sync.failed):,} | {t['rows']:,} | "
            f"{t['rejects']:,} | {t['late_events']:,} | {self.seconds:.1f} s |",
            "",
            f"From S3: {sync or 'nothing to fetch'}.",
        ]
        files = self.files
        shown = files if len(files) <= _TABLE_ROWS else [f for f in files if f.status == FAILED]
        if shown:
            lines += ["", "| file | status | partition | rows | rejects | late events |", "|---|---|---|---:|---:|---:|"]
            lines += [
                f"| {PurePosixPath(f.name).name} | {f.status} | {f.partition} | {f.rows:,} | {f.rejects:,} | {f.late_events:,} |"
                for f in shown
            ]
            if len(shown) < len(files):
                lines.append(f"| … and {len(files) - len(shown):,} more files, none failed | | | | | |")
        missing = self.sync.missing
        if missing:
            lines += ["", f"**Not in the bucket (yet)**: {len(missing)}"] + [f"- {item.message}" for item in missing[:20]]
            if len(missing) > 20:
                lines.append(f"- … {missing[20].label} to {missing[-1].label}")
        rejected = [f for f in files if f.status == INGESTED and f.rejects]
        if rejected:
            lines += [
                "",
                "**Rejected rows** (the files landed; every rejected row is in "
                f"`{_REJECTS_VIEW.get(self.sync.what, 'table_rejects')}`)",
            ]
            lines += [f"- {PurePosixPath(f.name).name}: {f.rejected_rows()}" for f in rejected[:_TABLE_ROWS]]
        if self.failures:
            lines += ["", "**Failed**"] + [f"- {line}" for line in self.failures]
        if self.unhandled:
            lines += [
                "",
                f"Not handled yet ({len(self.unhandled)}): "
                + ", ".join(self.unhandled[:10])
                + (" …" if len(self.unhandled) > 10 else ""),
            ]
        if self.sync.notes or self.notes:
            lines += [""] + [f"_{note}_" for note in self.sync.notes + self.notes]
        return "\n".join(lines) + "\n"


@dataclass
class BuildAndPublishOutcome:
    """The steps of a build-and-publish run: the build, then (only after a build without failures)
    the CSV exports, the publish to MongoDB and the dashboard, each of which may fail on its own."""

    title: str
    build: BuildSummary | None = None
    exports: dict[Path, int] | None = None  # file -> rows
    published: PublishSummary | None = None
    dashboard: SiteSummary | None = None
    errors: list[str] = field(default_factory=list)  # one line per step that failed, naming the step
    seconds: float = 0.0

    @property
    def build_failures(self) -> list[str]:
        if self.build is None:
            return []
        return [f"build: {outcome.error}" for outcome in self.build.failed] + (
            [f"build: {self.build.catalog_error}"] if self.build.catalog_error else []
        )

    @property
    def built(self) -> bool:
        """The marts are whole: the later steps may read them."""
        return self.build is not None and not self.build_failures

    @property
    def failures(self) -> list[str]:
        return self.build_failures + self.errors

    def failure_message(self) -> str:
        return failure_message(self.failures)

    def _step_lines(self) -> list[tuple[str, str]]:
        skipped = "not run: the build failed"
        steps = []
        if self.build is not None:
            counts = {
                status: sum(1 for o in self.build.models if o.status == status)
                for status in ("built", "unchanged", "view", "failed", "skipped")
            }
            steps.append(
                ("build", ", ".join(f"{n} {status}" for status, n in counts.items() if n) + f" ({self.build.seconds:.1f} s)")
            )
        if self.exports is not None:
            folder = next(iter(self.exports)).parent if self.exports else None
            files = f"{len(self.exports)} file" + ("s" if len(self.exports) != 1 else "")
            steps.append(("CSV exports", f"{files}, {sum(self.exports.values()):,} rows in {folder}"))
        elif self.built:
            steps.append(("CSV exports", "failed"))
        else:
            steps.append(("CSV exports", skipped))
        if self.published is not None:
            p = self.published
            written = f"publish {p.publish}" if p.publish is not None else "nothing had changed"
            steps.append(
                (
                    "MongoDB",
                    f"{p.written:,} documents written ({written}) to database {p.database} at {p.hosts} ({p.seconds:.1f} s)",
                )
            )
        else:
            steps.append(("MongoDB", "failed: nothing published, the collections are as they were" if self.built else skipped))
        if self.dashboard is not None:
            d = self.dashboard
            steps.append(("dashboard", f"{d.index} ({d.pages} pages, {d.charts} charts, {d.seconds:.1f} s)"))
        else:
            steps.append(("dashboard", "failed: the previous site is still in place" if self.built else skipped))
        return steps

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", "| step | result |", "|---|---|"]
        lines += [f"| {step} | {result} |" for step, result in self._step_lines()]
        lines += ["", f"Time: {self.seconds:.1f} s."]
        if self.build is not None:
            lines += ["", "| model | status | rows | seconds |", "|---|---|---:|---:|"]
            lines += [
                f"| {o.name} | {o.status} | {'' if o.rows is None else f'{o.rows:,}'} | {o.seconds:.2f} |"
                for o in self.build.models
            ]
            if self.build.absent_sources:
                lines += ["", f"Not in the lake (read as empty): {', '.join(self.build.absent_sources)}"]
            lines += [f"- {line}" for line in self.build.flag_lines]
        if self.exports:
            lines += ["", "| export | rows |", "|---|---:|"] + [
                f"| {path.name} | {rows:,} |" for path, rows in self.exports.items()
            ]
        if self.published is not None:
            lines += ["", "| collection | written | unchanged | removed |", "|---|---:|---:|---:|"]
            lines += [
                f"| {name} | {o.written:,} | {o.unchanged:,} | {o.removed:,} |" for name, o in self.published.collections.items()
            ]
        if self.failures:
            lines += ["", "**Failed**"] + [f"- {line}" for line in self.failures]
        return "\n".join(lines) + "\n"

    def log_lines(self) -> list[str]:
        return [
            f"{self.title}: " + "; ".join(f"{step}: {result}" for step, result in self._step_lines()) + f"; {self.seconds:.1f} s"
        ]
