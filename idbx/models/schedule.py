"""The order a build's steps run in, for either engine: one at a time in plan order
(`build_in_order`, Spark's), or side by side on a few lanes (`build_side_by_side`, DuckDB's:
idbx/models/lanes.py), each step once the models it reads are built. Either way a model that
fails is its one line and the models reading it are skipped, not the others.

Side by side, a free lane takes the ready step with the longest chain of work still behind it
(its own seconds and those of the longest line of models reading it, as the last builds took
them): a long model last in plan order would otherwise run alone at the end while a lane idles
(the critical-path rule of list scheduling).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from idbx import stopping
from idbx.errors import ModelError
from idbx.models.lanes import Lanes
from idbx.models.outcome import FAILED, ModelCallback, ModelOutcome
from idbx.models.planner import BuildPlan, Step
from idbx.models.session import first_line

# How often the thread waiting on the lanes wakes (a stop request's signal is handled in between).
_POLL_SECONDS = 0.2
# A model no build has timed yet counts as this long: the chains are then counted in models.
_UNTIMED_SECONDS = 1.0


def build_in_order(
    plan: BuildPlan,
    build_step: Callable[[Step, ModelOutcome], None],
    failures: tuple[type[BaseException], ...],
    on_model: ModelCallback | None,
    on_failed: Callable[[str], object] = lambda name: None,
) -> list[ModelOutcome]:
    """Each step of the plan built in order by `build_step` (Spark's), timed; a failure
    (a ModelError, such as a failed check, or one of `failures`) is that model's one line, and the
    models reading it are skipped, not the others."""
    outcomes, broken = [], set()
    for step in plan.steps:
        model = step.model
        outcome = ModelOutcome(model.name, model.layer, model.materialized)
        upstream_broken = sorted(plan.upstream[model.name] & broken)
        if upstream_broken:
            outcome.notes.append(f"not built: {', '.join(upstream_broken)} failed")
            broken.add(model.name)
        else:
            run_step(build_step, step, outcome, failures)
            if outcome.status == FAILED:
                broken.add(model.name)
                on_failed(model.name)
        outcomes.append(outcome)
        if on_model:
            on_model(outcome)
    return outcomes


def run_step(
    build_step: Callable[[Step, ModelOutcome], None], step: Step, outcome: ModelOutcome, failures: tuple[type[BaseException], ...]
) -> None:
    """One step, timed; a ModelError (a failed check, say) or one of `failures` is its one line.
    Side by side, its CPU seconds are the process's while it ran, the other lanes' included."""
    started, cpu_started = time.monotonic(), time.process_time()
    try:
        build_step(step, outcome)
    except ModelError as exc:
        outcome.status, outcome.error = FAILED, str(exc)
    except failures as exc:
        outcome.status, outcome.error = FAILED, f"{step.model.label}: {first_line(exc)}"
    outcome.seconds = time.monotonic() - started
    outcome.cpu_seconds = time.process_time() - cpu_started


def build_side_by_side(
    plan: BuildPlan,
    build_step: Callable[[Step, ModelOutcome], None],
    failures: tuple[type[BaseException], ...],
    on_model: ModelCallback | None,
    lanes: Lanes,
    count: int,
    seconds: Mapping[str, float],
    on_failed: Callable[[str], object] = lambda name: None,
) -> list[ModelOutcome]:
    """As build_in_order, on `count` lanes (idbx/models/lanes.py): each step starts once the models
    it reads are built, the longest chain first (`seconds`: each model's last build time), and
    `on_model` is called on this thread as each ends. After a stop request (idbx.stopping) no step
    starts, and Interrupted is raised once the running ones have ended; any other exception that is
    not a model's failure ends the build the same way."""
    return _SideBySide(plan, build_step, failures, on_model, on_failed, seconds).run(lanes, count)


def chain_seconds(plan: BuildPlan, seconds: Mapping[str, float]) -> dict[str, float]:
    """Per step: its own seconds and the longest line of steps reading it, by their `seconds`."""
    chains: dict[str, float] = {}
    for step in reversed(plan.steps):  # readers come after what they read
        readers = (chains[other.name] for other in plan.steps if other.name in chains and step.name in plan.upstream[other.name])
        chains[step.name] = seconds.get(step.name, _UNTIMED_SECONDS) + max(readers, default=0.0)
    return chains


class _SideBySide:
    def __init__(
        self, plan: BuildPlan, build_step, failures, on_model: ModelCallback | None, on_failed, seconds: Mapping[str, float]
    ) -> None:
        self.plan, self.build_step, self.failures = plan, build_step, failures
        self.on_model, self.on_failed = on_model, on_failed
        self.outcomes = {s.name: ModelOutcome(s.model.name, s.model.layer, s.model.materialized) for s in plan.steps}
        self.pending, self.ended, self.broken = list(plan.steps), set(), set()
        self.running: dict[Future, Step] = {}
        self.chains = chain_seconds(plan, seconds)

    def run(self, lanes: Lanes, count: int) -> list[ModelOutcome]:
        with lanes, ThreadPoolExecutor(max_workers=count, thread_name_prefix="idbx-lane", initializer=lanes.open) as pool:
            try:
                while self.pending or self.running:
                    if stopping.requested():  # no step starts; the running ones end (their queries interrupted)
                        if not self.running:
                            stopping.check()
                    elif len(self.running) < count and self._start_next(pool):
                        continue
                    if not self.running:
                        raise RuntimeError(f"{self.pending[0].name}: no step can start (it waits on models that never end)")
                    finished, _ = wait(self.running, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
                    for future in finished:
                        step = self.running.pop(future)
                        future.result()
                        self._end(step)
            except BaseException:
                wait(self.running)  # a stop request interrupts their queries; what they wrote is aside or in place
                raise
        return [self.outcomes[step.name] for step in self.plan.steps]

    def _start_next(self, pool: ThreadPoolExecutor) -> bool:
        """Start (or skip, when what it reads failed) the ready step with the longest chain behind it
        (the first in plan order of equals)."""
        planned = set(self.outcomes)
        ready = [s for s in self.pending if self.plan.upstream[s.name] & planned <= self.ended]
        if not ready:
            return False
        ready = max(ready, key=lambda s: self.chains[s.name])
        self.pending.remove(ready)
        upstream_broken = sorted(self.plan.upstream[ready.name] & self.broken)
        if upstream_broken:
            self.outcomes[ready.name].notes.append(f"not built: {', '.join(upstream_broken)} failed")
            self.broken.add(ready.name)
            self._end(ready)
        else:
            self.running[pool.submit(run_step, self.build_step, ready, self.outcomes[ready.name], self.failures)] = ready
        return True

    def _end(self, step: Step) -> None:
        if self.outcomes[step.name].status == FAILED:
            self.broken.add(step.name)
            if not stopping.requested():  # a step a stop request interrupted wrote nothing: what it was built from holds
                self.on_failed(step.name)
        self.ended.add(step.name)
        if self.on_model:
            self.on_model(self.outcomes[step.name])
