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
from datetime import datetime

RUN = """
import resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of cmd."""
    out = subprocess.run([sys.executable, "-c", RUN, *cmd], env=env, check=True, stdout=subprocess.PIPE, text=True)
    seconds, peak_kb = out.stdout.split()
    return float(seconds), int(peak_kb) / 1024


def machine() -> str:
    return (
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{datetime.now():%Y-%m-%d %H:%M}"
    )
