"""How the process that runs the program ends: `pulumi up` runs `__main__.py` in a process of its own
(the language host's exec shim), which exits normally, and CPython's exit runs a last full collection even
with the collector off. sparkeks/gc_policy.py freezes every object as that exit starts, so the collection
has nothing left to walk. Timings live in bench/bench_up.py; these tests watch the exit itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
from up_run import run_up  # noqa: E402

# Loaded by the interpreter before anything else (sitecustomize), so its atexit callback is the first
# registered and, callbacks running last-in first-out, the last to run: it sees what the interpreter's
# final collection is left to walk (gc.get_objects() lists the collector's generations, not the frozen).
_EXIT_PROBE = """
import atexit, gc, os

def _report():
    with open(os.environ["EXIT_PROBE_LOG"], "w") as log:
        log.write(f"{gc.get_freeze_count()} {len(gc.get_objects())}")

atexit.register(_report)
"""


def _probe_env(tmp_path: Path, gc_setting: str) -> tuple[dict[str, str], Path]:
    probe = tmp_path / "probe"
    probe.mkdir(parents=True)
    (probe / "sitecustomize.py").write_text(_EXIT_PROBE)
    log = tmp_path / "exit.log"
    env = {"PYTHONPATH": os.pathsep.join([str(probe), str(PROJECT_ROOT)]), "EXIT_PROBE_LOG": str(log), "SPARK_EKS_GC": gc_setting}
    return env, log


def _at_exit(log: Path) -> tuple[int, int]:
    """(objects frozen, objects left for the final collection) as the interpreter's exit began collecting."""
    frozen, tracked = log.read_text().split()
    return int(frozen), int(tracked)


def _exit_of(tmp_path: Path, code: str, gc_setting: str) -> tuple[int, int]:
    env, log = _probe_env(tmp_path, gc_setting)
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env={**os.environ, **env}, check=True)
    return _at_exit(log)


_A_PROGRAM = "from sparkeks.gc_policy import tune_for_program\ntune_for_program()\nkept = [[i] for i in range(50_000)]\n"


def test_a_process_that_ran_the_program_leaves_its_final_collection_nothing_to_walk(tmp_path):
    frozen, tracked = _exit_of(tmp_path / "tuned", _A_PROGRAM, "tuned")
    assert frozen > 50_000  # the program's objects (and everything imported), outside every collection
    assert tracked < 100  # what the probe and the exit itself allocated after the freeze


def test_with_cpython_defaults_the_final_collection_walks_everything(tmp_path):
    # The probe behind the test above can see the difference.
    frozen, tracked = _exit_of(tmp_path / "default", _A_PROGRAM, "default")
    assert frozen == 0
    assert tracked > 50_000


def test_inside_a_scoped_run_the_program_leaves_the_callers_process_alone(tmp_path):
    # The offline plan runs __main__.py (and its tune_for_program) inside program_gc, in the caller's
    # process (tests, run_plan): the caller's settings come back and its exit is its own.
    scoped = (
        "import gc\nfrom sparkeks.gc_policy import program_gc, tune_for_program\n"
        "with program_gc():\n    tune_for_program()\n    assert not gc.isenabled()\n"
        "assert gc.isenabled()\nkept = [[i] for i in range(50_000)]\n"
    )
    frozen, tracked = _exit_of(tmp_path, scoped, "tuned")
    assert frozen == 0
    assert tracked > 50_000


def test_pulumi_ups_program_process_ends_without_walking_the_run(dev, tmp_path):
    # The real __main__.py, started as the language host starts it, over gRPC (bench/up_run.py).
    env, log = _probe_env(tmp_path / "tuned", "tuned")
    run = run_up(PROJECT_ROOT, "dev", env=env)
    assert run.exit_code == 0, run.failure()
    frozen, tracked = _at_exit(log)
    # Hundreds of live objects per resource (inputs, outputs, futures), all frozen before the collection.
    assert frozen > 300 * len(dev.plan.resources)
    assert tracked < 1_000

    env, log = _probe_env(tmp_path / "default", "default")
    run = run_up(PROJECT_ROOT, "dev", env=env)
    assert run.exit_code == 0, run.failure()
    frozen, tracked = _at_exit(log)
    assert frozen == 0
    assert tracked > 300 * len(dev.plan.resources)
