"""Job specs that cannot run are refused, jobs larger than their team are warned about with figures, and
every message speaks the user's terms: the flag they passed, defaults named as defaults, sizes in MiB/GiB
(issue 18, items 3 and 6)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sparkeks.config.loader import ConfigError, load_stack_config
from sparkeks.jobs.render import JobError, render_spec_file
from tests.conftest import PROJECT_ROOT, make_project, stack_config

PASSWORD_KEY = "spark-on-eks:grafanaAdminPassword"


def _spec(tmp_path: Path, **changes) -> Path:
    data = yaml.safe_load((PROJECT_ROOT / "examples" / "spark-3.5-etl.yaml").read_text())
    data.update(changes)
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _problems(path: Path, project: Path = PROJECT_ROOT) -> list[str]:
    with pytest.raises(JobError) as err:
        render_spec_file(path, project_dir=project, account_id="111122223333")
    return err.value.problems


# --- sizes below what Spark can run with


@pytest.mark.parametrize(
    ("part", "memory", "expected"),
    [
        (
            "executor",
            "14",
            'executor.memory: "14": 14 MiB is below the 512 MiB an executor needs (Spark refuses less than 450 MiB); '
            "a number without a unit is MiB to Spark: did you mean 14g?",
        ),
        (
            "driver",
            "256m",
            'driver.memory: "256m": 256 MiB is below the 512 MiB a driver needs (Spark refuses less than 450 MiB)',
        ),
    ],
)
def test_memory_below_the_floor_is_refused(tmp_path, part, memory, expected):
    sizes = {"executor": {"instances": 4, "cores": 2, "memory": "4g"}, "driver": {"cores": 1, "memory": "2g"}}
    sizes[part]["memory"] = memory
    path = _spec(tmp_path, **sizes)
    assert _problems(path) == [f"{path}: {expected}"]


# --- a job bigger than its team: a warning with the figures, the job still renders


def test_a_job_larger_than_the_team_max_is_warned_about_with_figures(tmp_path):
    path = _spec(tmp_path, team="ml-platform", executor={"instances": 1000, "cores": 4, "memory": "14g"})
    result = subprocess.run(
        [sys.executable, "-m", "sparkeks", "job", str(path), "--account-id", "111122223333", "--out", str(tmp_path / "app.yaml")],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warnings == [
        f"{path}: executor.instances: 1000: warning: 1000 executors (4 CPUs, 17 GiB each) and the driver ask for 4001.8 CPUs "
        "and 16.6 TiB; team ml-platform's max (its ResourceQuota) is 2400 CPUs and 9.4 TiB, so at most 564 executors run at once"
    ]


def test_a_job_beyond_the_guaranteed_share_is_told_its_extra_executors_are_borrowed(tmp_path):
    """ml-platform in prod: guaranteed 1200 CPUs, max 2400. 400 executors of 4 CPUs fit the max but not
    the guarantee: the ones past the guarantee run on lent capacity that preemption takes back."""
    path = _spec(tmp_path, team="ml-platform", executor={"instances": 400, "cores": 4, "memory": "14g"})
    job = render_spec_file(path, project_dir=PROJECT_ROOT, account_id="111122223333")
    assert job.warnings == [
        f"{path}: executor.instances: 400: warning: 400 executors (4 CPUs, 17 GiB each) and the driver ask for 1601.8 CPUs "
        "and 6.7 TiB; team ml-platform's guaranteed share is 1200 CPUs and 4.7 TiB, so executors beyond 281 run on idle "
        "capacity lent by other teams and are preempted when those teams need it"
    ]


def test_without_yunikorn_only_the_hard_max_is_warned_about(tmp_path):
    config = stack_config("prod")
    config["spark-on-eks:spark"] = {**config.get("spark-on-eks:spark", {}), "batchScheduler": "none"}
    for team in config["spark-on-eks:teams"]:
        team.pop("guaranteed", None)
    project = make_project(tmp_path / "project", {"prod": config})
    path = _spec(tmp_path, team="ml-platform", executor={"instances": 400, "cores": 4, "memory": "14g"})
    assert render_spec_file(path, project_dir=project, account_id="111122223333").warnings == []


def test_a_job_within_the_guaranteed_share_has_no_warning(tmp_path):
    path = _spec(tmp_path)
    job = render_spec_file(path, project_dir=PROJECT_ROOT, account_id="111122223333")
    assert job.warnings == []


# --- defaults named as defaults


@pytest.fixture
def small_team_project(tmp_path):
    config = stack_config("prod")
    config["spark-on-eks:teams"] = [{"name": "analytics", "max": {"cpu": 16, "memory": "64Gi"}}]
    return make_project(tmp_path / "project", {"prod": config})


def test_a_limit_the_user_never_wrote_is_named_as_a_default(tmp_path, small_team_project):
    path = _spec(tmp_path, executor={"instances": 2, "cores": 24, "memory": "14g"})
    assert _problems(path, small_team_project) == [
        f"{path}: executor.cores: 24: more than team analytics allows per container "
        "(limits.maxCpu 16: not set in stacks/Pulumi.prod.yaml, so the team's max cpu)"
    ]


def test_a_limit_the_user_wrote_is_named_as_theirs(tmp_path):
    config = stack_config("prod")
    config["spark-on-eks:teams"] = [{"name": "analytics", "max": {"cpu": 64, "memory": "256Gi"}, "limits": {"maxCpu": 8}}]
    project = make_project(tmp_path / "project", {"prod": config})
    path = _spec(tmp_path, executor={"instances": 2, "cores": 16, "memory": "14g"})
    assert _problems(path, project) == [f"{path}: executor.cores: 16: more than team analytics allows per container (limits.maxCpu 8)"]


def test_a_default_driver_that_does_not_fit_says_it_is_the_default(tmp_path):
    config = stack_config("prod")
    config["spark-on-eks:karpenter"]["pools"]["driver"] = {
        **config["spark-on-eks:karpenter"]["pools"]["driver"],
        "instanceFamilies": ["c7i"],
        "instanceCpus": [2],
    }
    project = make_project(tmp_path / "project", {"prod": config})
    data = yaml.safe_load((PROJECT_ROOT / "examples" / "spark-3.5-etl.yaml").read_text())
    data.pop("driver")
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(data))
    [line] = _problems(path, project)
    assert line.startswith(f"{path}: driver: 1 cores, 4 GiB + 1 GiB overhead (the default driver): the driver is bigger than any node")


# --- sizes for people: MiB and GiB, not 240406m


def test_sizes_in_messages_read_as_gib(tmp_path):
    from sparkeks.plan.runner import load_stack
    from sparkeks.spark import sizing

    pool = load_stack("prod").karpenter.pools.executor
    _, room = sizing.largest_executor([sizing.Node.of(t) for t in pool.instance_types()])
    assert 200 * 1024 < room < 256 * 1024  # a 32-vCPU memory-optimised node, less what the node keeps
    path = _spec(tmp_path, executor={"instances": 10, "cores": 48, "memory": "300g"})
    [line] = _problems(path)
    assert line == (
        f"{path}: executor: 48 cores, 300 GiB + 60 GiB overhead: one executor is bigger than any node of pool spark-executor "
        f"holds (at most 32 cores, {room / 1024:.1f} GiB per pod)"
    )
    assert "m per pod" not in line


# --- config namespaces and aws: keys


def _load(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_stack_config("s", {"aws:region": "us-east-1", PASSWORD_KEY: "x", **raw}, {PASSWORD_KEY})
    return err.value.problems


def test_a_typo_in_the_namespace_is_refused_with_a_did_you_mean():
    assert _load({"spark-on-ek:environment": "prod"}) == [
        "stacks/Pulumi.s.yaml: spark-on-ek:environment: \"prod\": unknown namespace 'spark-on-ek'; "
        "did you mean 'spark-on-eks:environment'? namespaces read: spark-on-eks, aws, pulumi"
    ]


def test_an_unknown_aws_key_is_refused_with_a_did_you_mean():
    assert _load({"aws:regoin": "us-east-2"}) == [
        "stacks/Pulumi.s.yaml: aws:regoin: \"us-east-2\": unknown key; did you mean 'aws:region'? "
        "aws keys read: aws:region, aws:allowedAccountIds"
    ]
    assert _load({"aws:profile": "prod-admin"}) == [
        "stacks/Pulumi.s.yaml: aws:profile: \"prod-admin\": the program's AWS provider does not read it; "
        "set AWS_PROFILE in the environment instead"
    ]


# --- dr init blames the flag the user passed


def test_dr_init_blames_zones_when_spark_zones_was_not_given(tmp_path):
    project = make_project(tmp_path / "project", {"prod": stack_config("prod")})
    result = subprocess.run(
        [sys.executable, "-m", "sparkeks", "dr", "init", "prod", "--zones", "us-east-1a,us-east-1d", "--project-dir", str(project)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "--zones: us-east-1a: stack prod runs its Spark capacity there (us-east-1a, us-east-1b, us-east-1c); "
        "without --spark-zones all of --zones get the DR stack's Spark capacity: pick other zones, "
        "or keep us-east-1a for the network only with --spark-zones"
    ]
