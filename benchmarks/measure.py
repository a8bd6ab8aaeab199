"""Wall time and peak memory of one command, for the benchmarks in this folder.

Each command runs under a small, fresh runner process that reads getrusage(RUSAGE_CHILDREN)
itself. Measured from the benchmark's own process instead, every peak would read at least that
process's own high-water mark (a child's ru_maxrss starts at its parent's after fork/exec, and
RUSAGE_CHILDREN keeps the maximum over all children so far).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime

# The command inherits the runner's output; the measurement goes to the file named first.
RUN = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[2:]).returncode
with open(sys.argv[1], "w") as out:
    out.write(f"{time.perf_counter() - start} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss} {code}")
"""


@dataclass
class Measured:
    returncode: int
    seconds: float
    peak_mb: float
    stdout: str
    stderr: str


def measured(cmd: list[str], env: dict | None = None) -> Measured:
    """Run cmd under the runner: its exit code, output, wall seconds and peak RSS (MB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".measure") as result:
        done = subprocess.run([sys.executable, "-P", "-c", RUN, result.name, *cmd], env=env, capture_output=True, text=True)
        seconds, peak_kb, code = result.read().split()
    return Measured(int(code), float(seconds), int(peak_kb) / 1024, done.stdout, done.stderr)


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of cmd, which must succeed."""
    run = measured(cmd, env)
    if run.returncode:
        raise RuntimeError(f"{cmd[0]} exited with {run.returncode}: {run.stderr[-2000:]}")
    return run.seconds, run.peak_mb


def machine() -> str:
    return (
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{datetime.now():%Y-%m-%d %H:%M}"
    )
