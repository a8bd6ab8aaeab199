"""What a build reports: each model's outcome and the build's summary (both engines')."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

BUILT = "built"
UNCHANGED = "unchanged"
VIEW = "view"
FAILED = "failed"
SKIPPED = "skipped"


@dataclass
class ModelOutcome:
    name: str
    layer: str
    materialized: str
    status: str = SKIPPED
    rows: int | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of the whole process meanwhile (DuckDB's threads included)
    check_cpu_seconds: float = 0.0  # of which the checks of its output (grain, not_null, accepted_values)
    notes: list[str] = field(default_factory=list)
    error: str = ""
    flagged: list[tuple] = field(default_factory=list)  # its `flags`: the values of the line's columns, then the count
    flag_lines: list[str] = field(default_factory=list)  # the same, told as the summary tells them


@dataclass
class BuildSummary:
    models: list[ModelOutcome] = field(default_factory=list)
    seconds: float = 0.0
    absent_sources: list[str] = field(default_factory=list)
    built_columns: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # outputs written: columns and types
    sources_modified: int = 0  # the latest modification (ns) of the lake files the build read
    catalog_error: str = ""
    rekeyed_learners: int | None = None  # learner ids of the previous person_course that a --rekey build replaced
    upgraded_event_files: int = 0  # event files landed before their body fields were kept, given them first
    removed_outputs: list[str] = field(default_factory=list)  # outputs of models the project no longer stores

    @property
    def failed(self) -> list[ModelOutcome]:
        return [outcome for outcome in self.models if outcome.status == FAILED]

    @property
    def flag_lines(self) -> list[str]:
        """The rows models flag (`flags` in their header), one line per count, as the CLI and the flow tell them."""
        return [line for outcome in self.models for line in outcome.flag_lines]

    @property
    def reconciliation(self) -> list[tuple[str, str, int]]:
        """The reconciliation mart's checks not ok: (check, status, rows), as its `flags` count them."""
        return next((outcome.flagged for outcome in self.models if outcome.name == "reconciliation"), [])

    def outcome(self, name: str) -> ModelOutcome:
        return next(outcome for outcome in self.models if outcome.name == name)


ModelCallback = Callable[[ModelOutcome], None]
