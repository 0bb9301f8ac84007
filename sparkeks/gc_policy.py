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

`pulumi up` runs the program in a process of its own (the language host's exec shim), which ends with a
normal interpreter exit once the run is over, and CPython's exit runs one last full collection whatever
`gc.disable()` says: 1.5 s of walking the run's objects at 100 teams, for a process about to be freed
anyway, and the language host's Run call waits for the process to end before it returns to the engine.
Objects frozen by `gc.freeze()` are outside every collection, that one included, so the program freezes
everything as the process starts to exit. The exit still runs every atexit callback (logging's flush
among them) and flushes the standard streams, and the shim has already awaited every RPC and closed its
event loop; all the freeze drops is finding the run's dead reference cycles one last time.
bench/bench_up.py shows the whole process's time with both settings.

`SPARK_EKS_GC=default` keeps CPython's own settings (the benchmark's "GC defaults" column).
"""

from __future__ import annotations

import atexit
import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

# program_gc blocks running in this process: while one runs, its caller owns the collector's settings.
_scoped_runs = 0


def _enabled() -> bool:
    return os.environ.get("SPARK_EKS_GC", "tuned") != "default"


def tune_for_program() -> None:
    """For the program run of `pulumi up` (`__main__.py`) and the command line: turn the collector off for the
    rest of this process, and freeze every object as the interpreter starts to exit so that its last
    collection has nothing to walk. Inside `program_gc` (the offline plan run in the caller's process)
    the block's caller owns the settings, so this does nothing there."""
    if not _enabled() or _scoped_runs:
        return
    gc.disable()
    # atexit callbacks run before the interpreter's final collection. Unregistered first: a second call
    # must not add a second callback.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)


@contextmanager
def program_gc() -> Iterator[None]:
    """Turn the collector off for the duration of the block, then restore the caller's settings."""
    global _scoped_runs
    was_enabled = gc.isenabled()
    thresholds = gc.get_threshold()
    if _enabled():
        gc.disable()
    _scoped_runs += 1
    try:
        yield
    finally:
        _scoped_runs -= 1
        gc.set_threshold(*thresholds)
        if was_enabled:
            gc.enable()
