"""What a flow run did, as the markdown artifact its run ends with: files, rows, rejects, late
events, time; what was missing and what failed. File names and counts only, never learner data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from idbx.ingest.outcomes import FAILED, INGESTED, UNCHANGED, UNHANDLED, RunSummary
from idbx.sync import outcomes as synced
from idbx.sync.outcomes import SyncReport

# Past this many files the table lists the failed ones and counts the others.
_TABLE_ROWS = 200


@dataclass
class FlowOutcome:
    title: str
    sync: SyncReport
    ingest: list[RunSummary] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # tasks that failed outright
    unhandled: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def files(self):
        return [outcome for summary in self.ingest for outcome in summary.files if outcome.status != UNHANDLED]

    @property
    def failures(self) -> list[str]:
        """One line per thing that went wrong: an object not fetched, a file not read, a task."""
        return ([f"{item.url}: {item.message}" if item.url not in item.message else item.message for item in self.sync.failed]
                + [outcome.error for outcome in self.files if outcome.status == FAILED] + self.errors)

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
        failures = self.failures
        more = f" (and {len(failures) - 1} more: see the artifact)" if len(failures) > 1 else ""
        return f"{failures[0]}{more}" if failures else ""

    def markdown(self) -> str:
        t = self.totals()
        sync = ", ".join(f"{self.sync.count(s)} {s}" for s in (synced.DOWNLOADED, synced.CURRENT, synced.IN_LAKE, synced.MISSING, synced.FAILED) if self.sync.count(s))
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
        if self.failures:
            lines += ["", "**Failed**"] + [f"- {line}" for line in self.failures]
        if self.unhandled:
            lines += ["", f"Not handled yet ({len(self.unhandled)}): " + ", ".join(self.unhandled[:10])
                      + (" …" if len(self.unhandled) > 10 else "")]
        if self.sync.notes:
            lines += [""] + [f"_{note}_" for note in self.sync.notes]
        return "\n".join(lines) + "\n"
