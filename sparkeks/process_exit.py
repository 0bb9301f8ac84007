"""Ending a command-line run without tearing the interpreter down.

A plan leaves hundreds of thousands of live objects and a few hundred imported modules (the AWS and
Kubernetes SDKs); a normal interpreter exit frees them one by one and runs a last full collection over
them, which took about a second even for a 10-team plan (bench/bench_plan.py). Nothing of that is
needed once the command is done: every file the command writes is closed when written, so the process
flushes its output streams and ends at once. Only the command-line entry points use this; `sparkeks.cli.main`
itself returns normally (the tests and other callers run it in-process).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import NoReturn


def run_command(command: Callable[[], int]) -> NoReturn:
    """Run one command as the rest of this process's life, with the collector off, then end at once.

    Off for the whole command, not only the program run: a plan leaves about 300 dead objects in reference
    cycles per resource, and switching the collector back on after the run made the next allocation
    collect them all (2.6 s at 200 teams) just before os._exit frees the process anyway. Every command is
    a bounded batch job (no servers, no loops over inputs of unbounded size), so none can pile up garbage
    without end; `SPARK_EKS_GC=default` keeps CPython's settings, as for the program run."""
    from sparkeks.gc_policy import tune_for_program

    tune_for_program()
    exit_now(command())


def exit_now(code: int) -> NoReturn:
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1  # output lost (closed pipe): never report success for it
    os._exit(code)
