"""The program run of `pulumi up` over gRPC (bench/bench_up.py's path) runs the same program as the
offline plan: same resources, same inputs, exit 0. A correctness test; timings live in the benchmark."""

from __future__ import annotations

import json
import sys

import pytest

from sparkeks.plan.runner import PlanError, run_plan
from tests.conftest import PROJECT_ROOT, make_project, stack_config, with_overrides

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
from up_run import run_up  # noqa: E402


def _key(resource):
    return resource["type"], resource["name"]


def test_the_program_over_grpc_registers_exactly_the_offline_plans_resources(dev, tmp_path):
    record = tmp_path / "registered.json"
    run = run_up(PROJECT_ROOT, "dev", record=record)

    assert run.exit_code == 0, run.failure()
    assert run.engine["errors"] == []
    # One RegisterResource per resource of the plan, plus the stack itself; the three invokes are the
    # account's identity, partition and zones.
    assert run.register_calls == len(dev.plan.resources) + 1
    assert run.engine["registered"] == len(dev.plan.resources)
    served = {"GetDeploymentInfo", "Invoke", "Log", "RegisterResource", "RegisterResourceOutputs", "SignalAndWaitForShutdown"}
    assert set(run.engine["rpcs"]) == served
    assert run.engine["rpcs"]["Invoke"] == 3
    assert run.engine["rpcs"]["SignalAndWaitForShutdown"] == 1
    # The wire changes nothing: every registration (inputs, options, parents) is the offline plan's.
    assert sorted(json.loads(record.read_text()), key=_key) == sorted(dev.plan.resources, key=_key)
    # __main__.py's collector policy holds under the language host's start-up too (sparkeks/gc_policy.py).
    assert run.timings["gc_enabled_at_end"] is False
    assert run.timings["wall"] > 0 and run.timings["cpu"] > 0
    assert run.process_wall > run.timings["wall"]  # the whole process holds the program run


def test_a_program_that_stops_on_bad_config_exits_1_and_reports_the_problem_to_the_engine(tmp_path):
    config = with_overrides(stack_config("dev"), cluster={"kubernetesVersion": "1.2"})
    project = make_project(tmp_path / "project", {"dev": config})

    with pytest.raises(PlanError) as offline:
        run_plan("dev", project)

    run = run_up(project, "dev")

    assert run.exit_code == 1  # a RunError, as the language host's shim maps it
    assert run.register_calls == 1  # the stack only: config is checked before any resource
    # The engine is told exactly what the offline plan tells the user.
    assert offline.value.lines[0].startswith('stacks/Pulumi.dev.yaml: spark-on-eks:cluster.kubernetesVersion: "1.2": ')
    assert run.engine["errors"] == ["\n".join(offline.value.lines)]
    assert run.failure().startswith("exit status 1\n")
