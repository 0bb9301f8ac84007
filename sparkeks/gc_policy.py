"""Garbage-collector settings for the program run (offline plan and `pulumi up`).

A program run allocates tens of thousands of objects that live until it ends (resources, their inputs,
output futures), and frees next to nothing in reference cycles while it builds that graph. CPython's
collector still pays for it:
- full collections walk every live object and come round again each time the long-lived set grows by a
  quarter: at 100 teams they took a third of the plan;
- young collections, though they only scan new objects, follow each one's references into the old graph,
  and those reads miss the CPU caches more as the graph grows. Per collection they cost 0.13 ms at 100 teams
  and 0.25 ms at 400, which alone made the time per added resource grow with teams.

So the collector is off for the run and back on (if the caller had it on) when the run ends. What that
costs is the reference cycles that die during the run: up to about 11% more peak memory (40 MiB at 200
teams in the benchmark). The command line keeps it off until its process ends
(sparkeks/process_exit.py): switched back on, it would first collect those cycles, for nothing.
bench/bench_plan.py shows time and memory with both settings.

`SPARK_EKS_GC=default` keeps CPython's own settings (the benchmark's "GC defaults" column).
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from typing import Iterator


def _enabled() -> bool:
    return os.environ.get("SPARK_EKS_GC", "tuned") != "default"


def tune_for_program() -> None:
    """Turn the collector off for the rest of this process (the program run of `pulumi up`)."""
    if _enabled():
        gc.disable()


@contextmanager
def program_gc() -> Iterator[None]:
    """Turn the collector off for the duration of the block, then restore the caller's settings."""
    was_enabled = gc.isenabled()
    thresholds = gc.get_threshold()
    tune_for_program()
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if was_enabled:
            gc.enable()
