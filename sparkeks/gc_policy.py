"""Garbage-collector settings for the program run (offline plan and `pulumi up`).

A program run allocates tens of thousands of objects that live until it ends (resources, their inputs,
output futures). CPython's full collections walk every live object and come round again each time the
long-lived set grows by a quarter, so their total cost grows faster than the stack: at 100 teams they
took a third of the plan (bench/bench_plan.py shows both settings). Young collections stay on, so
short-lived reference cycles are still freed; only the full collections, which find next to nothing to
free while the program builds its resource graph, are held back until the run ends.

`SPARK_EKS_GC=default` keeps CPython's own settings (the benchmark's "before" column).
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from typing import Iterator

# gen0 and gen1 thresholds as CPython's defaults; the gen2 threshold past any count a run reaches.
PROGRAM_THRESHOLDS = (700, 10, 2**31 - 1)


def _enabled() -> bool:
    return os.environ.get("SPARK_EKS_GC", "tuned") != "default"


def tune_for_program() -> None:
    """Hold back full collections for the rest of this process (the program run of `pulumi up`)."""
    if _enabled():
        gc.set_threshold(*PROGRAM_THRESHOLDS)


@contextmanager
def program_gc() -> Iterator[None]:
    """Hold back full collections for the duration of the block, then restore the caller's settings."""
    before = gc.get_threshold()
    tune_for_program()
    try:
        yield
    finally:
        gc.set_threshold(*before)
