"""Stacks that deploy but never run (issue 21): the largest executor or driver a team may ask, and `job`
accepts, must fit a node that the pool's limits let Karpenter launch."""

from __future__ import annotations

import json

import pytest

from sparkeks.config.loader import ConfigError, load_stack_config
from sparkeks.jobs.render import render_job
from sparkeks.jobs.spec import JobSpec
from sparkeks.spark.sizing import Node

PASSWORD_KEY = "spark-on-eks:grafanaAdminPassword"
ANALYTICS = {"name": "analytics", "limits": {"maxCpu": 32, "maxMemory": "256Gi"}}


def _raw(pools: dict, teams: list, **more) -> dict[str, str]:
    return {
        PASSWORD_KEY: "x",
        "aws:region": "us-east-1",
        "aws:allowedAccountIds": '["111122223333"]',
        "spark-on-eks:karpenter": json.dumps({"pools": pools}),
        "spark-on-eks:teams": json.dumps(teams),
        **{k: json.dumps(v) for k, v in more.items()},
    }


def _problems(raw: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_stack_config("s", raw, {PASSWORD_KEY})
    return err.value.problems


def test_an_executor_pool_capped_below_the_nodes_its_largest_executors_need_is_refused():
    room = Node.of("r6a.8xlarge")
    assert _problems(_raw({"executor": {"limits": {"cpu": 16, "memory": "128Gi"}}}, [ANALYTICS])) == [
        'stacks/Pulumi.s.yaml: spark-on-eks:karpenter.pools.executor.limits: {"cpu": 16, "memory": "128Gi"}: '
        f"an executor of 32 cores and {room.pod_memory_mib / 1024:.1f} GiB (with overhead), the largest team analytics may ask and "
        "`sparkeks job` accepts, fits only nodes these limits never launch (the smallest is r6a.8xlarge: 32 vCPUs, 256 GiB); "
        "raise the limits to hold one r6a.8xlarge, or lower the team's limits.maxCpu / limits.maxMemory"
    ]


def test_the_same_pool_is_fine_for_a_team_whose_limits_fit_the_nodes_it_may_launch():
    team = {**ANALYTICS, "limits": {"maxCpu": 8, "maxMemory": "64Gi"}}
    config = load_stack_config("s", _raw({"executor": {"limits": {"cpu": 16, "memory": "128Gi"}}}, [team]), {PASSWORD_KEY})
    assert config.karpenter.pools.executor.limits.cpu == 16


def test_a_driver_pool_too_small_for_the_largest_driver_names_every_team_it_strands():
    teams = [{**ANALYTICS, "name": name} for name in ("analytics", "ml-platform")]
    problems = _problems(_raw({"driver": {"limits": {"cpu": 8, "memory": "64Gi"}}}, teams))
    assert len(problems) == 1
    assert problems[0].startswith(
        'stacks/Pulumi.s.yaml: spark-on-eks:karpenter.pools.driver.limits: {"cpu": 8, "memory": "64Gi"}: a driver of 16 cores and '
    )
    assert "the largest teams analytics, ml-platform may ask" in problems[0]
    assert "(the smallest is m6a.4xlarge: 16 vCPUs, 64 GiB)" in problems[0]


def _job(config, cores: int, memory: str):
    spec = JobSpec.model_validate(
        {
            "name": "largest",
            "stack": "s",
            "team": "analytics",
            "mainApplicationFile": "s3a://b/app.jar",
            "mainClass": "App",
            "image": "repo@sha256:" + "0" * 64,
            "fit": "off",
            "executor": {"instances": 1, "cores": cores, "memory": memory},
        }
    )
    return render_job(spec, label="job.yaml", config=config, account_id="111122223333")


def test_default_container_limits_are_what_the_largest_node_the_team_can_launch_holds():
    """Defaults used to follow the team's max (its pools' whole capacity): `job` took a 32-core executor the
    16 vCPU / 128 GiB executor pool never launches a node for. Now the team's containers default to the
    largest node its pools can launch, r6a.4xlarge (16 vCPUs, 118112Mi for a pod), and the check holds it."""
    from components.spark.teams import limit_range
    from sparkeks.jobs.render import JobError
    from sparkeks.teams.queues import queue_tree

    team = {"name": "analytics", "pools": ["driver", "executor"]}
    config = load_stack_config("s", _raw({"executor": {"limits": {"cpu": 16, "memory": "128Gi"}}}, [team]), {PASSWORD_KEY})
    room = Node.of("r6a.4xlarge")
    assert (room.vcpus, room.pod_memory_mib) == (16, 118112)
    [container] = limit_range(config.teams[0], queue_tree(config).team("analytics"))["spec"]["limits"]
    assert container["max"] == {"cpu": "16", "memory": "118112Mi"}
    with pytest.raises(JobError) as err:
        _job(config, 32, "64g")
    assert err.value.problems == [
        "job.yaml: executor.cores: 32: more than team analytics allows per container (limits.maxCpu 16: not set in "
        "stacks/Pulumi.s.yaml, so the vCPUs of r6a.4xlarge, the largest node its pools can launch)"
    ]
    with pytest.raises(JobError) as err:
        _job(config, 16, "112g")
    assert err.value.problems == [
        "job.yaml: executor.memory: \"112g\": with overhead 134.5 GiB, more than team analytics allows per container "
        "(limits.maxMemory 118112Mi: not set in stacks/Pulumi.s.yaml, so what r6a.4xlarge, the largest node its pools can "
        "launch, leaves for one pod)"
    ]
    assert _job(config, 16, "90g").placement.shape.pod_memory_mib <= room.pod_memory_mib


def test_a_team_with_default_limits_is_held_to_every_pool_it_uses():
    """The LimitRange is the namespace's, for drivers and executors alike: a team whose executors may be
    r6a.8xlarge-sized may ask a 16-core driver, which a driver pool capped at 8 vCPUs never launches."""
    problems = _problems(_raw({"driver": {"limits": {"cpu": 8, "memory": "64Gi"}}}, [{"name": "analytics"}]))
    assert len(problems) == 1
    assert problems[0].startswith(
        'stacks/Pulumi.s.yaml: spark-on-eks:karpenter.pools.driver.limits: {"cpu": 8, "memory": "64Gi"}: a driver of 16 cores and 56.1 GiB '
        "(with overhead), the largest team analytics may ask and `sparkeks job` accepts, fits only nodes these limits never launch"
    )


def test_a_pool_no_team_uses_is_not_held_to_any_team():
    team = {**ANALYTICS, "pools": ["driver", "executor"]}
    config = load_stack_config("s", _raw({"executorNvme": {"limits": {"cpu": 8, "memory": "64Gi"}}}, [team]), {PASSWORD_KEY})
    assert config.karpenter.pools.executor_nvme.limits.cpu == 8


def test_a_dr_stack_is_checked_at_its_scaled_limits():
    problems = _problems(
        _raw(
            {"executor": {"limits": {"cpu": 200, "memory": "800Gi"}}},
            [ANALYTICS],
            **{"spark-on-eks:dr": {"primaryStack": "organization/spark-on-eks/prod", "capacityScale": 0.1}},
        )
    )
    assert [p.split(": ", 3)[1] for p in problems] == ["spark-on-eks:karpenter.pools.executor.limits"]
    assert "fits only nodes these limits x dr.capacityScale 0.1 never launch" in problems[0]


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_shipped_stacks_limit_ranges_carry_the_largest_nodes_room(stack, request):
    """A team that writes no container limits gets the room of r6a.8xlarge-sized nodes (32 vCPUs, 239354Mi
    for a pod), no longer 256Gi that no node holds; prod's analytics keeps the 32 / 256Gi it writes. Every
    LimitRange validates strictly against the pinned API schema."""
    from sparkeks.plan.runner import load_stack, run_plan
    from sparkeks.plan.strict import strict_check
    from sparkeks.plan.writer import is_manifest, manifest_of
    from sparkeks.versions import DEFAULT_KUBERNETES_VERSION
    from tests.conftest import PROJECT_ROOT

    assert (Node.of("r6a.8xlarge").vcpus, Node.of("r6a.8xlarge").pod_memory_mib) == (32, 239354)
    plan = run_plan(stack, PROJECT_ROOT)
    ranges = {m["metadata"]["namespace"]: m for r in plan.resources if is_manifest(r) for m in [manifest_of(r)] if m["kind"] == "LimitRange"}
    written = {t.name for t in load_stack(stack).teams if "max_memory" in t.limits.model_fields_set}
    assert {ns: r["spec"]["limits"][0]["max"] for ns, r in ranges.items()} == {
        ns: ({"cpu": "32", "memory": "256Gi"} if ns in written else {"cpu": "32", "memory": "239354Mi"}) for ns in ranges
    }
    assert written == ({"analytics"} if stack == "prod" else set())
    strict = strict_check(DEFAULT_KUBERNETES_VERSION)
    assert [p for r in ranges.values() for p in strict.problems(r)] == []


def test_every_shape_job_accepts_on_a_feasible_stack_fits_a_launchable_node():
    """What the check promises, through `job` itself: on a stack that validates, the largest executor the
    team may ask renders, and some node of the pool within its limits holds it."""
    from sparkeks.config.base import memory_mib
    from sparkeks.config.feasibility import launchable

    team = {**ANALYTICS, "limits": {"maxCpu": 16, "maxMemory": "100Gi"}}
    config = load_stack_config("s", _raw({"executor": {"limits": {"cpu": 16, "memory": "128Gi"}}}, [team]), {PASSWORD_KEY})
    job = _job(config, 16, "80g")
    pod_mib = job.placement.shape.pod_memory_mib
    pool = config.karpenter.pools.executor
    holders = [
        n
        for n in (Node.of(t) for t in pool.instance_types())
        if n.vcpus >= 16 and n.pod_memory_mib >= pod_mib and launchable(n, pool.limits.cpu, memory_mib(pool.limits.memory))
    ]
    assert [n.instance_type for n in holders] == ["r7i.4xlarge", "r6i.4xlarge", "r7a.4xlarge", "r6a.4xlarge"]


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_shipped_stacks_strand_no_shape(stack):
    from sparkeks.config.feasibility import stranded_shapes
    from sparkeks.config.teams import POOL_KEYS
    from sparkeks.plan.runner import load_stack

    config = load_stack(stack)
    assert [stranded_shapes(config, key) for key in POOL_KEYS] == [None, None, None]
