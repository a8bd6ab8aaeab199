"""Put on the PYTHONPATH of a Prefect worker by tests/system/test_deployment.py: a flow-run process
it starts stops itself (SIGSTOP) as it enters the sync's chaining step
(`idbx.orchestration.runs.start_build_and_publish`) while the file named by
IDBX_TEST_STOP_BEFORE_CHAINING exists, after writing its pid beside it. The test then kills it by
pid at that exact point: its day landed and recorded, build-and-publish not started."""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import signal
import sys
from pathlib import Path

_FLAG = os.environ.get("IDBX_TEST_STOP_BEFORE_CHAINING")
_MODULE = "idbx.orchestration.runs"


class _StopBeforeChaining(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != _MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module

        def exec_module(module) -> None:
            load(module)
            chain = module.start_build_and_publish

            def start_build_and_publish(*args, **kwargs):
                if Path(_FLAG).exists():
                    Path(f"{_FLAG}.pid").write_text(str(os.getpid()))
                    os.kill(os.getpid(), signal.SIGSTOP)
                return chain(*args, **kwargs)

            module.start_build_and_publish = start_build_and_publish

        spec.loader.exec_module = exec_module
        return spec


if _FLAG:
    sys.meta_path.insert(0, _StopBeforeChaining())
