"""What keeps the offline plan fast at 100+ teams: libyaml for bulk YAML, the program-run collector
settings, and resources that grow linearly with teams. Timings live in bench/bench_plan.py, not here."""

from __future__ import annotations

import atexit
import gc
import os
import subprocess
import sys
from pathlib import Path

import yaml

from sparkeks import gc_policy, yamlio
from sparkeks.plan.runner import run_plan
from sparkeks.plan.writer import helm_release_of, is_manifest, manifest_of, write_plan
from tests.conftest import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
from scaled_stack import write_scaled_project  # noqa: E402


def test_pyyaml_has_libyaml_so_bulk_yaml_uses_the_c_emitter_and_parser():
    # PyYAML's wheels bundle libyaml; without it plans are written about five times slower.
    assert yamlio.has_libyaml()


def test_fast_yaml_writes_every_plan_file_byte_for_byte_as_the_python_emitter(prod):
    documents = [manifest_of(r) for r in prod.plan.resources if is_manifest(r)]
    documents += [helm_release_of(r) for r in prod.plan.resources if r["type"] == "kubernetes:helm.sh/v3:Release"]
    assert len(documents) > 40
    multiline = 0
    for document in documents:
        fast, pure = yamlio.to_yaml(document), yamlio.to_yaml(document, pure=True)
        assert fast == pure
        multiline += "|" in fast
    assert multiline > 5  # literal blocks (scripts, JSON policies, queue files) are covered too


def test_fast_yaml_keeps_unicode_long_lines_and_odd_scalars_identical():
    tricky = {
        "unicode": "팀 데이터 — ümlaut",
        "long": "x" * 300,
        "looks_like_bool": "yes",
        "looks_like_number": "0755",
        "empty": "",
        "multi": "line one\nline two\n",
        "trailing_space_multi": "a \nb",
        "nested": [{"a": None, "b": True, "c": 1.5}],
    }
    assert yamlio.to_yaml(tricky) == yamlio.to_yaml(tricky, pure=True)
    assert yamlio.load(yamlio.to_yaml(tricky)) == tricky


def test_fast_loader_reads_plans_and_chart_values_as_the_safe_loader_does(prod, tmp_path):
    write_plan(prod.plan, tmp_path)
    files = sorted((tmp_path / "manifests").glob("*.yaml")) + sorted((tmp_path / "helm").glob("*.yaml"))
    files += sorted((PROJECT_ROOT / "helm-values").glob("*.yaml"))
    for path in files:
        text = path.read_text()
        assert yamlio.load(text) == yaml.safe_load(text), path.name


def test_program_gc_turns_the_collector_off_for_the_run_and_restores_the_callers_settings(monkeypatch):
    monkeypatch.delenv("SPARK_EKS_GC", raising=False)
    before = gc.get_threshold()
    assert gc.isenabled()
    with gc_policy.program_gc():
        # Even young collections grow dearer per object as the live graph grows (they chase its
        # references), which made the time per resource grow with teams: none run during the program.
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_threshold() == before


def test_program_gc_nested_in_a_disabled_caller_leaves_the_collector_off(monkeypatch):
    monkeypatch.delenv("SPARK_EKS_GC", raising=False)
    gc.disable()
    try:
        with gc_policy.program_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_program_gc_restores_the_collector_when_the_run_fails(monkeypatch):
    monkeypatch.delenv("SPARK_EKS_GC", raising=False)
    try:
        with gc_policy.program_gc():
            raise RuntimeError("the program failed")
    except RuntimeError:
        pass
    assert gc.isenabled()


def test_program_gc_can_be_turned_off_for_comparison(monkeypatch):
    monkeypatch.setenv("SPARK_EKS_GC", "default")
    before = gc.get_threshold()
    with gc_policy.program_gc():
        assert gc.isenabled()
        assert gc.get_threshold() == before


def test_pulumi_up_runs_the_program_with_the_collector_off(monkeypatch):
    # __main__.py calls tune_for_program() once, for the whole program run of `pulumi up`.
    monkeypatch.delenv("SPARK_EKS_GC", raising=False)
    try:
        gc_policy.tune_for_program()
        assert not gc.isenabled()
    finally:
        atexit.unregister(gc.freeze)  # its exit-time freeze is for the program's process, not this one
        gc.enable()
    assert "tune_for_program()" in (PROJECT_ROOT / "__main__.py").read_text()


def test_a_plan_run_leaves_the_callers_collector_settings_as_they_were(monkeypatch):
    monkeypatch.delenv("SPARK_EKS_GC", raising=False)
    custom = (901, 11, 12)
    previous = gc.get_threshold()
    gc.set_threshold(*custom)
    try:
        run_plan("dev")
        assert gc.get_threshold() == custom
        assert gc.isenabled()
    finally:
        gc.set_threshold(*previous)


def test_collector_settings_do_not_change_a_single_byte_of_the_plan(tmp_path):
    trees = {}
    for setting in ("tuned", "default"):
        out = tmp_path / setting
        env = {**os.environ, "SPARK_EKS_GC": setting}
        subprocess.run([sys.executable, "-m", "sparkeks", "plan", "dev", "-q", "--out", str(out)], cwd=PROJECT_ROOT, env=env, check=True)
        trees[setting] = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert len(trees["tuned"]) > 40
    assert trees["tuned"] == trees["default"]


def _resources(project: Path, teams: int) -> int:
    return len(run_plan(write_scaled_project(project, teams), project).resources)


def test_each_team_adds_the_same_number_of_resources(tmp_path):
    # The benchmark's premise: plan work grows with resources, and resources linearly with teams.
    one, two, four = (_resources(tmp_path / "scaled", n) for n in (1, 2, 4))
    per_team = two - one
    assert per_team > 5
    assert four - two == 2 * per_team


def test_the_offline_run_skips_source_positions_and_registers_the_same_resources(monkeypatch):
    # Source positions are for the engine's diagnostics; no engine reads them offline, and capturing one
    # (a stack walk and a file URI per frame) cost about a tenth of the program run.
    import contextlib

    import pulumi.runtime.resource as sdk_resource

    from sparkeks.plan import runner

    original = sdk_resource._get_stack_trace
    seen: list[int] = []
    from sparkeks.plan.monitor import PlanMonitor

    real_register = PlanMonitor.RegisterResource

    def register(self, request):
        seen.append(len(request.stackTrace.frames))
        return real_register(self, request)

    monkeypatch.setattr(PlanMonitor, "RegisterResource", register)
    fast = run_plan("dev")
    assert sdk_resource._get_stack_trace is original  # restored after the run
    assert seen and set(seen) == {0}

    seen.clear()
    monkeypatch.setattr(runner, "without_source_positions", contextlib.nullcontext)
    full = run_plan("dev")
    assert seen and min(seen) > 0  # the SDK's own capture, for comparison
    assert fast.resources == full.resources
    assert fast.outputs == full.outputs


_COLLECTION_PROBE = """
import gc, os
from pathlib import Path

_log = os.open(os.environ["GC_PROBE_LOG"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
_written = Path(os.environ["GC_PROBE_PLAN"]) / "inventory.json"


def _record(phase, info):
    # os.write: the command ends with os._exit, which drops buffered Python output.
    if phase == "stop":
        os.write(_log, f"{info['generation']} {info['collected']} {_written.exists()}\\n".encode())


gc.callbacks.append(_record)
"""


def _collections_of_a_plan_command(tmp_path: Path, entry: list[str], gc_setting: str) -> list[tuple[int, int, bool]]:
    """(generation, objects collected, plan already written) for every collection the command's process ran."""
    probe = tmp_path / "probe"
    probe.mkdir(parents=True)
    (probe / "sitecustomize.py").write_text(_COLLECTION_PROBE)
    log, out = tmp_path / "collections.log", tmp_path / "plan"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(probe), str(PROJECT_ROOT)]),
        "GC_PROBE_LOG": str(log),
        "GC_PROBE_PLAN": str(out),
        "SPARK_EKS_GC": gc_setting,
    }
    subprocess.run([sys.executable, *entry, "plan", "dev", "-q", "--out", str(out)], cwd=PROJECT_ROOT, env=env, check=True)
    assert (out / "inventory.json").is_file()
    return [(int(g), int(n), w == "True") for g, n, w in (line.split() for line in log.read_text().splitlines())]


def test_a_plan_command_ends_without_collecting_the_garbage_of_its_run(tmp_path):
    # The run leaves about 300 dead objects in reference cycles per resource (1.26 million at 200 teams).
    # Re-enabling the collector once the plan was written made the next allocation collect them all, 2.6 s
    # at 200 teams, just before the process ends with os._exit and frees everything anyway.
    entries = {
        "python -m sparkeks": ["-m", "sparkeks"],
        "sparkeks (the installed command)": ["-c", "import sys; from sparkeks.launcher import main; sys.argv[0] = 'sparkeks'; main()"],
    }
    for name, entry in entries.items():
        after_writing = [c for c in _collections_of_a_plan_command(tmp_path / name, entry, "tuned") if c[2]]
        assert after_writing == [], name


def test_the_collection_probe_sees_the_collections_of_a_plan_with_cpython_defaults(tmp_path):
    # The probe behind the test above works: with CPython's defaults the same command collects hundreds of
    # times, and some collections find garbage.
    collections = _collections_of_a_plan_command(tmp_path, ["-m", "sparkeks"], "default")
    assert len(collections) > 100
    assert sum(collected for _, collected, _ in collections) > 0
