"""Executor shapes that fill their nodes: the reference shapes reach 90% of CPU and memory on the node
type picked, explicit memory is kept, and the job points Karpenter at nodes of the matching ratio."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from sparkeks.config.karpenter import ExecutorPoolConfig, NvmeExecutorPoolConfig
from sparkeks.conformance import CrdRegistry
from sparkeks.jobs.render import render_spec_file
from sparkeks.spark import fit
from sparkeks.spark.sizing import ExecutorShape, SizingError
from tests.conftest import PROJECT_ROOT, schemas_dir

POOL = ExecutorPoolConfig().instance_types()

# (cores, heap asked for, overhead factor) -> (category picked, filled heap, overhead, CPU request, node vCPUs it fills)
REFERENCE_SHAPES = {
    "4c/14g": ((4, 14336, 0.2), ("m", 11776, 2560, 3800, (8, 16, 32))),
    "1c/4g": ((1, 4096, 0.2), ("r", 5888, 1280, 950, (8, 16, 32))),
    "2c/8g PySpark": ((2, 8192, 0.4), ("r", 10240, 4096, 1900, (8, 16, 32))),
    "8c/56g": ((8, 57344, 0.2), ("r", 48896, 9984, 7650, (8, 16, 32))),
    "5c/36g": ((5, 36864, 0.2), ("r", 32512, 6656, 5000, (16, 32))),
}


@pytest.mark.parametrize("name", REFERENCE_SHAPES)
def test_reference_shapes_fill_90_percent_of_the_node_picked(name):
    (cores, heap, factor), (category, filled_heap, overhead, request, vcpus) = REFERENCE_SHAPES[name]
    placement = fit.place_executors(cores=cores, memory_mib=None, overhead_factor=factor, instance_types=POOL, fit_auto=True)
    # The category comes from what the job asked for: the leanest whose filled shape keeps >= 80% of it.
    advice = fit.advise(cores, POOL, overhead_factor=factor, memory_mib=heap)
    assert advice.picked.category == category
    filled = advice.picked
    assert (filled.shape.memory_mib, filled.shape.overhead_mib, filled.request_milli, filled.vcpus) == (filled_heap, overhead, request, vcpus)
    for row in filled.rows:
        if row.vcpus in vcpus:
            assert row.cpu_share >= 0.9 and row.memory_share >= 0.9, row
            assert row.executors * cores <= row.vcpus
    # Without a memory the m category is the default; each category's own shape fills it.
    assert placement.advice is not None
    for cat in placement.advice.categories:
        assert cat.fills, cat.category


def test_the_picked_node_type_is_the_best_filled_one():
    placement = fit.place_executors(cores=4, memory_mib=None, overhead_factor=0.2, instance_types=POOL, fit_auto=True)
    picked = next(r for r in placement.rows if r.instance_type == placement.picked_type)
    assert (placement.picked_type, picked.executors) == ("m7i.2xlarge", 2)
    assert fit.landing_instance_type(placement) == "m7i.2xlarge"
    assert min(picked.cpu_share, picked.memory_share) >= max(min(r.cpu_share, r.memory_share) for r in placement.rows if r.instance_type in placement.allowed)
    assert placement.allowed == tuple(t for t in POOL if t.startswith("m"))


def test_five_cores_do_not_fill_an_8_vcpu_node_so_fit_asks_for_16_and_32():
    placement = fit.place_executors(cores=5, memory_mib=None, overhead_factor=0.2, instance_types=POOL, fit_auto=True)
    assert placement.requirements == (
        {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["m"]},
        {"key": "karpenter.k8s.aws/instance-cpu", "operator": "In", "values": ["16", "32"]},
    )


def test_an_explicit_memory_is_kept_and_reported_against_the_nodes_it_packs_best_on():
    placement = fit.place_executors(cores=4, memory_mib=14336, overhead_factor=0.2, instance_types=POOL, fit_auto=True)
    assert placement.shape == ExecutorShape(4, 14336, 3072)
    rows = {r.instance_type: (r.executors, fit.percent(r.cpu_share), fit.percent(r.memory_share)) for r in placement.rows}
    assert rows["m7i.4xlarge"] == (3, "76%", "90%")
    assert rows["m7i.8xlarge"] == (6, "75%", "88%")
    assert placement.requirements == ({"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["m"]},)


def test_nvme_pool_offers_storage_optimised_nodes_as_their_own_category():
    advice = fit.advise(8, NvmeExecutorPoolConfig().instance_types(), overhead_factor=0.2, memory_mib=57344)
    assert {c.category for c in advice.categories} == {"c", "i", "m", "r"}
    assert advice.picked.category in ("i", "r")


def test_more_cores_than_any_node_is_refused():
    with pytest.raises(SizingError, match="^no instance type of the pool has 64 vCPUs for one executor$"):
        fit.advise(64, POOL, overhead_factor=0.2)


def _spec(tmp_path, **changes):
    spec = {
        "name": "fit-check",
        "stack": "prod",
        "team": "analytics",
        "sparkVersion": "3.5",
        "mainApplicationFile": "s3a://b/app.jar",
        "mainClass": "com.example.Main",
        "executor": {"instances": 10, "cores": 4},
        **changes,
    }
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_a_spec_without_memory_gets_the_filling_shape_and_node_requirements(tmp_path):
    job = render_spec_file(_spec(tmp_path), project_dir=PROJECT_ROOT)
    executor = job.application["spec"]["executor"]
    assert (executor["memory"], executor["memoryOverhead"], executor["coreRequest"]) == ("11776m", "2560m", "3800m")
    assert executor["affinity"] == {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["m"]}]}]
            }
        }
    }
    assert CrdRegistry.load(schemas_dir()).validate(job.application) == []


def test_fit_off_leaves_placement_to_the_pool(tmp_path):
    job = render_spec_file(_spec(tmp_path, fit="off", executor={"instances": 10, "cores": 4, "memory": "14g"}), project_dir=PROJECT_ROOT)
    executor = job.application["spec"]["executor"]
    assert "affinity" not in executor
    assert (executor["memory"], executor["coreRequest"]) == ("14g", "3800m")
    assert job.executors_per_node["r7i.4xlarge"] == 4


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "sparkeks", *args], capture_output=True, text=True, cwd=PROJECT_ROOT)


def test_fit_off_without_memory_is_one_line_exit_2(tmp_path):
    path = _spec(tmp_path, fit="off")
    result = _cli("job", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"{path}: executor.memory: (missing): is required with fit: off (fit: auto chooses it when left out)"]


def test_size_prints_shapes_that_fill_a_node():
    result = _cli("size", "--cores", "4")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "4 cores per executor, pool executor (built-in defaults), JVM overhead factor 0.2"
    assert "m (general-purpose)    11776m + 2560m                   3800m  8,16,32       96%-99%      97%-99%  <- picked" in lines
    assert "m7i.2xlarge                 2       99%          98%  <- picked" in lines
    assert lines[-2:] == ["  fit: auto", "  executor: {cores: 4, memory: 11776m}"]


def test_job_prints_the_packing_table(tmp_path):
    out = tmp_path / "app.yaml"
    result = _cli("job", str(PROJECT_ROOT / "examples" / "spark-3.5-etl.yaml"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "executor: 4 cores (4000m requested), 14g + 3g overhead; node requirements: karpenter.k8s.aws/instance-category in [m]"
    assert "m7i.4xlarge                 3       76%          90%  <- picked" in lines
    assert any(line.startswith("executor.memory is set, so it is kept; left out, fit: auto would give 11776m + 2560m") for line in lines)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--cores", "0"], "--cores: 0: must be 1 or more"),
        (["--cores", "4", "--memory", "lots"], "--memory: 'lots': 'lots' is not a Spark memory size; use a whole number with k, m, g or t, like 14g or 512m"),
        (["--cores", "96"], "--cores: 96: no instance type of the pool has 96 vCPUs for one executor (pool executor, built-in defaults)"),
        (["--cores", "4", "--stack", "nosuch"], None),
    ],
)
def test_size_refuses_bad_input_with_one_line(args, line):
    result = _cli("size", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    if line:
        assert result.stderr.splitlines() == [line]
